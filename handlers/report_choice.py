"""Which open directive a report is for, when the secretary's cell has several: the question (ReportStep.CHOOSE),
what waits meanwhile in the conversation (a one-message report, photos), and reading a typed answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.events import Button
from bot.core.textnorm import small_number
from bot.services.directive_numbers import match_number
from bot.services.reports import OpenTarget, open_targets
from handlers import buttons as b
from handlers.context import Context
from handlers.report_state import FLOW, ReportStep
from handlers.secretary import secretary_units
from messages import reports as msg
from messages.directives import day

CHOOSE_LIMIT = 8
SUBJECT_LIMIT = 60
TIP_LENGTH = 40


@dataclass(frozen=True)
class Pending:
    """What a choose step stored: the options offered, and the report text and photos waiting for the answer."""

    options: list[tuple[int, int]] = field(default_factory=list)
    text: str | None = None
    photos: list[str] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: object) -> Pending:
        if not isinstance(data, dict):
            return cls()
        options = [
            (int(pair[0]), int(pair[1]))
            for pair in data.get("options") or []
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int) for x in pair)
        ]
        text = data.get("text") if isinstance(data.get("text"), str) else None
        photos = [p for p in data.get("photos") or [] if isinstance(p, str)]
        return cls(options, text, photos)


async def choose(
    ctx: Context,
    cands: list[OpenTarget],
    *,
    text: str | None = None,
    photos: list[str] | None = None,
    lead: list[str] | None = None,
) -> None:
    """Ask which directive a report is for; a pending one-message report or photos wait in the conversation."""
    if not cands:
        await ctx.clear_state()
        ctx.reply(msg.NO_OPEN)
        return
    shown = cands[:CHOOSE_LIMIT]
    await ctx.set_state(
        FLOW,
        ReportStep.CHOOSE,
        {
            "options": [[c.directive.id, c.target.unit_id] for c in shown],
            "text": text,
            "photos": list(photos or []),
        },
    )
    several_units = len({c.target.unit_id for c in shown}) > 1
    choose = msg.CHOOSE if ctx.has_buttons else msg.CHOOSE_TYPED
    lines = [*(lead or []), choose.format(count=len(cands))]
    buttons = []
    for index, c in enumerate(shown, start=1):
        number = c.directive.number or msg.NO_NUMBER
        status = msg.CHOOSE_REPORTED if c.reported else ""
        if several_units:
            lines.append(
                msg.CHOOSE_LINE_UNIT.format(index=index, number=number, unit=c.unit_name, status=status)
            )
            label = msg.BUTTON_DIRECTIVE_UNIT.format(index=index, number=number, unit=c.unit_name)
        else:
            lines.append(
                msg.CHOOSE_LINE.format(
                    index=index,
                    number=number,
                    date=day(c.directive.issued_on),
                    subject=_short_subject(c.directive.subject),
                    status=status,
                )
            )
            label = msg.BUTTON_DIRECTIVE.format(index=index, number=number)
        buttons.append([Button(label, b.PickDirective(c.directive.id, c.target.unit_id).encode())])
    if ctx.has_buttons:
        buttons.append([Button(msg.BUTTON_CANCEL, b.CancelReport().encode())])
    else:  # numbers pick only the directives listed; cancelling is a word
        lines.append(msg.CANCEL_HINT_TYPED)
    if text and shown[0].directive.number:
        first_line = " ".join(text.split())[:TIP_LENGTH]
        lines.append(msg.CHOOSE_TIP.format(example=f"{shown[0].directive.number}: {first_line}"))
    ctx.reply("\n".join(lines), buttons, listed=True)


def _short_subject(subject: str | None) -> str:
    subject = " ".join((subject or "").split())
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1].rstrip() + "…"
    return subject


def typed_choice(word: str, offered: list[OpenTarget]) -> OpenTarget | None:
    """The directive a typed answer picks: its place in the list, or its number ("747", "747-CV/ĐUK")."""
    if not word:
        return None
    number = small_number(word)
    if number is not None and 1 <= number <= len(offered):
        return offered[number - 1]
    numbered = {index: c.directive.number for index, c in enumerate(offered) if c.directive.number}
    matches = match_number(word, numbered)
    return offered[matches[0]] if len(matches) == 1 else None


async def open_numbers(ctx: Context) -> list[str]:
    """The numbers of the directives open to the secretary's cells: what a one-message report may name."""
    cands = await open_targets(ctx.session, secretary_units(ctx))
    return list(dict.fromkeys(c.directive.number for c in cands if c.directive.number))
