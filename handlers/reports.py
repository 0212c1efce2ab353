"""A cell secretary's report on a directive: guided one question at a time, or in one message, then a summary, a
receipt with a reference, and edits that become new versions.

The half-filled report lives in the conversation row (flow "report"), so a lost connection, a day of silence or a
bot restart loses nothing. Every choice is offered as a button and also accepted typed (its number or its words
without diacritics), because on Zalo buttons become numbered text.

Button data: `rep:<d>` opens (from the directive card), `rk:<d>:<u>` picks a directive, `rc:<d>:<key>:<i>` picks
a choice, `rs:<d>:<key>` skips, `rd:<d>:<key>` ends photos, `rb:<d>` goes back, `ro:<d>` sends, `re:<d>` lists
fields to edit, `rf:<d>:<key>` edits one field, `rx` cancels. Every button but `rx` names its directive, so a
button left on an old message can never act on another report.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.events import Button, IncomingFile
from bot.core.textnorm import fold
from bot.services.field_parsers import Ok, ParseResult, Refusal, Skipped, is_skip_word, parse_field
from bot.services.files import FileTooLarge
from bot.services.forms import BUILTIN_FORMS, FieldSpec, FieldType, FormSpec
from bot.services.forms_store import DEFAULT_FORM, get_form
from bot.services.quick_reply import QuickParse, parse_quick_reply
from bot.services.reports import OpenTarget, latest_report, open_target, open_targets, save_report
from handlers.context import Context
from handlers.secretary import secretary_units, target_of
from messages import forms as forms_msg
from messages import reports as msg
from messages.directives import NOT_A_TARGET, day, moment
from storage.models import Directive, Report

FLOW = "report"
ASK, SUMMARY, PICK, CHOOSE = "ask", "summary", "pick", "choose"
BUTTONS = frozenset({"rk", "rc", "rs", "rd", "rb", "ro", "re", "rf", "rx"})
MAX_PHOTOS = 10
CHOOSE_LIMIT = 8
SUBJECT_LIMIT = 60
_LEADING_SYMBOLS = re.compile(r"^[^\w]+")
_TRAILING_PUNCT = ".!?…"


@dataclass
class Draft:
    """A report being filled: the answers so far and the fields still to ask, in order."""

    directive_id: int
    unit_id: int
    values: dict[str, Any] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    pos: int = 0
    to_summary: bool = False  # one field picked from the summary: return there once it is answered

    @property
    def current(self) -> str | None:
        return self.queue[self.pos] if 0 <= self.pos < len(self.queue) else None

    def to_data(self) -> dict[str, Any]:
        return {
            "d": self.directive_id,
            "u": self.unit_id,
            "values": copy.deepcopy(self.values),
            "queue": list(self.queue),
            "pos": self.pos,
            "to_summary": self.to_summary,
        }

    @classmethod
    def from_data(cls, data: object) -> Draft | None:
        """The draft in a stored conversation, copied so edits never alias the loaded row; None if unreadable."""
        if not isinstance(data, dict):
            return None
        d, u = data.get("d"), data.get("u")
        values, queue, pos = data.get("values", {}), data.get("queue", []), data.get("pos", 0)
        if not (isinstance(d, int) and isinstance(u, int) and isinstance(values, dict)):
            return None
        if not (isinstance(queue, list) and all(isinstance(k, str) for k in queue) and isinstance(pos, int)):
            return None
        return cls(d, u, copy.deepcopy(values), list(queue), pos, bool(data.get("to_summary")))


@dataclass
class Item:
    """A draft with what it is about: the open directive of the cell, and its form."""

    draft: Draft
    open: OpenTarget
    form: FormSpec

    @property
    def spec(self) -> FieldSpec | None:
        key = self.draft.current
        return self.form.field(key) if key else None

    @property
    def number(self) -> str:
        return self.open.directive.number or msg.NO_NUMBER

    @property
    def tag(self) -> str:
        return str(self.draft.directive_id)


# -- entry points -----------------------------------------------------------------------------------------------


async def open_report(ctx: Context, directive_id: int) -> None:
    """The "📝 Báo cáo" button of a directive card (also "✏️ Sửa báo cáo" on a receipt)."""
    cands = await open_targets(ctx.session, secretary_units(ctx), directive_id=directive_id)
    if not cands:
        directive = await ctx.session.get(Directive, directive_id)
        if directive is None or await target_of(ctx, directive_id) is None:
            ctx.reply(NOT_A_TARGET)
        else:
            ctx.reply(msg.NOT_OPEN.format(number=directive.number or msg.NO_NUMBER))
        return
    if len(cands) > 1:
        await _choose(ctx, cands)
        return
    await _begin(ctx, cands[0])


async def on_free_message(ctx: Context) -> bool:
    """A secretary's message outside any flow: "báo cáo", a one-message report, or a photo. False if none."""
    event = ctx.event
    if event.file is not None:
        if not _is_image(event.file):
            return False
        await _photo_outside_flow(ctx)
        return True
    text = event.text or ""
    if not text.strip():
        return False
    if asks_to_report(text):
        await _open_any(ctx)
        return True
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        if ";" in text:
            ctx.reply(msg.NO_OPEN)
            return True
        return False
    return await _quick(ctx, cands, text, [])


async def on_message(ctx: Context) -> None:
    """Text or a photo from a secretary whose conversation is in the report flow."""
    conv = await ctx.conversation()
    if conv is not None and conv.step == CHOOSE:
        await _choose_typed(ctx, conv.data)
        return
    loaded = await _load(ctx)
    if loaded is None:
        return
    step, item = loaded
    event = ctx.event
    if event.file is not None:
        await _photo_in_flow(ctx, step, item)
        return
    text = event.text or ""
    word = _word(text)
    if word in msg.WORDS_CANCEL:
        await _cancel(ctx)
    elif word in msg.WORDS_BACK:
        await _back(ctx, step, item)
    elif not text.strip():
        await _reprompt(ctx, step, item, msg.UNSUPPORTED)
    elif await _whole_report(ctx, step, item, text):
        return
    elif step == ASK:
        await _answer(ctx, item, text)
    elif step == SUMMARY:
        await _summary_typed(ctx, item, text, word)
    else:
        await _pick_typed(ctx, item, text)


async def on_button(ctx: Context, action: str, arg: str) -> None:
    """A report button (see the module docstring for the data each carries)."""
    if action == "rx":
        await _cancel(ctx)
        return
    if action == "rk":
        await _on_choose(ctx, arg)
        return
    loaded = await _load(ctx)
    if loaded is None:
        return
    step, item = loaded
    await _act(ctx, step, item, f"{action}:{arg}")


# -- loading and saving state -----------------------------------------------------------------------------------


async def _load(ctx: Context) -> tuple[str, Item] | None:
    """The report in progress, checked against today's database; tells the secretary when it is gone."""
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW or conv.step not in (ASK, SUMMARY, PICK):
        ctx.reply(msg.SESSION_GONE)
        return None
    draft = Draft.from_data(conv.data)
    if draft is None or draft.unit_id not in secretary_units(ctx):
        await ctx.clear_state()
        ctx.reply(msg.SESSION_GONE)
        return None
    opened = await open_target(ctx.session, draft.directive_id, draft.unit_id)
    if opened is None:
        await ctx.clear_state()
        directive = await ctx.session.get(Directive, draft.directive_id)
        ctx.reply(msg.NOT_OPEN.format(number=(directive.number if directive else None) or msg.NO_NUMBER))
        return None
    form = await _form_of(ctx, opened.directive)
    # A custom form replaced mid-report may have lost fields: keep only the questions it still has.
    draft.queue = [key for key in draft.queue if form.field(key) is not None]
    draft.pos = min(max(draft.pos, 0), max(len(draft.queue) - 1, 0))
    step = conv.step if conv.step != ASK or draft.current else SUMMARY
    return step, Item(draft, opened, form)


async def _form_of(ctx: Context, directive: Directive) -> FormSpec:
    form = await get_form(ctx.session, directive.form_key)
    return form or BUILTIN_FORMS[DEFAULT_FORM]


def local_today(ctx: Context) -> date:
    return ctx.clock.now().astimezone(ctx.settings.tz).date()


def _word(text: str) -> str:
    return fold(text).rstrip(_TRAILING_PUNCT).strip()


def asks_to_report(text: str) -> bool:
    """ "báo cáo" and its like: open the form rather than read a report."""
    return _word(text) in msg.WORDS_REPORT


def _unit_suffix(item_or_open: Item | OpenTarget) -> str:
    opened = item_or_open.open if isinstance(item_or_open, Item) else item_or_open
    return msg.UNIT_SUFFIX.format(unit=opened.unit_name)


# -- asking -----------------------------------------------------------------------------------------------------


async def _ask(ctx: Context, item: Item, *lead: str) -> None:
    """Store the draft at its current question and ask it, after any `lead` lines (a refusal, a notice)."""
    await ctx.set_state(FLOW, ASK, item.draft.to_data())
    spec = item.spec
    assert spec is not None
    draft = item.draft
    lines = [*lead]
    optional = "" if spec.required else msg.OPTIONAL_MARK
    lines.append(
        msg.QUESTION.format(index=draft.pos + 1, count=len(draft.queue), label=spec.label, optional=optional)
    )
    if spec.hint:
        lines.append(msg.HINT_LINE.format(hint=spec.hint))
    value = draft.values.get(spec.key)
    if spec.type is FieldType.PHOTO:
        count = len(value or [])
        if count:
            lines.append(msg.PHOTO_RECEIVED.format(count=count))
        else:
            lines.append(msg.PHOTO_PROMPT if spec.required else msg.PHOTO_PROMPT_SKIP)
    else:
        if value is not None:
            lines.append(msg.CURRENT_VALUE.format(value=msg.render_value(spec.type.value, value)))
        if spec.type is FieldType.CHOICE:
            lines.append(msg.CHOICES_PROMPT)
        elif not spec.required and not spec.hint:
            lines.append(msg.SKIP_HINT)
    if spec.type is FieldType.NUMBER and _numbered(ctx):
        # Where buttons become a numbered list, "2" would pick a button instead of answering 2: words only.
        lines.append(msg.TYPED_NAV_HINT)
        ctx.reply("\n".join(lines))
        return
    ctx.reply("\n".join(lines), _ask_buttons(item, spec))


def _ask_buttons(item: Item, spec: FieldSpec) -> list[list[Button]]:
    tag = item.tag
    rows = [[Button(choice, f"rc:{tag}:{spec.key}:{i}")] for i, choice in enumerate(spec.choices)]
    nav = [Button(msg.BUTTON_BACK, f"rb:{tag}")]
    photos = item.draft.values.get(spec.key) or []
    if spec.type is FieldType.PHOTO and photos:
        nav.append(Button(msg.BUTTON_PHOTOS_DONE.format(count=len(photos)), f"rd:{tag}:{spec.key}"))
    elif not spec.required:
        nav.append(Button(msg.BUTTON_SKIP, f"rs:{tag}:{spec.key}"))
    nav.append(Button(msg.BUTTON_CANCEL, "rx"))
    rows.append(nav)
    return rows


async def _answer(ctx: Context, item: Item, text: str) -> None:
    """A typed answer to the current question."""
    spec = item.spec
    assert spec is not None
    if spec.type in (FieldType.CHOICE, FieldType.PHOTO):
        pressed = _typed_button(text, _ask_buttons(item, spec), by_number=_numbered(ctx))
        if pressed is not None:
            await _act(ctx, ASK, item, pressed)
            return
    if spec.type is FieldType.PHOTO and (_word(text) in msg.WORDS_DONE or is_skip_word(text)):
        await _photos_done(ctx, item)
        return
    await _accept(ctx, item, parse_field(spec, text, local_today(ctx)))


async def _accept(ctx: Context, item: Item, result: ParseResult) -> None:
    spec = item.spec
    assert spec is not None
    if isinstance(result, Refusal):
        await _ask(ctx, item, result.message)
        return
    if isinstance(result, Ok):
        item.draft.values[spec.key] = result.value
    elif isinstance(result, Skipped) and spec.type is not FieldType.PHOTO:
        item.draft.values.pop(spec.key, None)
    await _advance(ctx, item)


async def _photos_done(ctx: Context, item: Item) -> None:
    spec = item.spec
    assert spec is not None
    if spec.required and not item.draft.values.get(spec.key):
        await _ask(ctx, item, forms_msg.PHOTO_EXPECTED_REQUIRED.format(label=spec.label))
        return
    await _advance(ctx, item)


async def _advance(ctx: Context, item: Item) -> None:
    draft = item.draft
    if not draft.to_summary and draft.pos + 1 < len(draft.queue):
        draft.pos += 1
        await _ask(ctx, item)
        return
    await _to_summary(ctx, item)


def _missing_required(form: FormSpec, values: dict[str, Any]) -> list[FieldSpec]:
    return [spec for spec in form.fields if spec.required and values.get(spec.key) in (None, "", [])]


async def _to_summary(ctx: Context, item: Item, *lead: str) -> None:
    """The summary, unless a required answer is still missing: then ask for those first."""
    missing = _missing_required(item.form, item.draft.values)
    if missing:
        item.draft.queue, item.draft.pos, item.draft.to_summary = [s.key for s in missing], 0, False
        labels = ", ".join(s.label for s in missing)
        await _ask(ctx, item, *lead, msg.REQUIRED_LEFT.format(labels=labels))
        return
    await _summary(ctx, item, *lead)


async def _back(ctx: Context, step: str, item: Item) -> None:
    draft = item.draft
    if step == ASK:
        if draft.to_summary:
            draft.to_summary = False
            await _summary(ctx, item)
        elif draft.pos == 0:
            await _ask(ctx, item, msg.FIRST_QUESTION)
        else:
            draft.pos -= 1
            await _ask(ctx, item)
    elif step == SUMMARY:
        if draft.queue:
            draft.pos = len(draft.queue) - 1
            await _ask(ctx, item)
        else:
            await _pick(ctx, item)
    else:
        await _summary(ctx, item)


async def _reprompt(ctx: Context, step: str, item: Item, *lead: str) -> None:
    if step == ASK:
        await _ask(ctx, item, *lead)
    elif step == SUMMARY:
        await _summary(ctx, item, *lead)
    else:
        await _pick(ctx, item, *lead)


# -- buttons, pressed or typed ----------------------------------------------------------------------------------


def _numbered(ctx: Context) -> bool:
    """True on channels without buttons, where choices arrive as a numbered list answered by number."""
    return not ctx.has_buttons


def _typed_button(text: str, buttons: list[list[Button]], *, by_number: bool) -> str | None:
    """The button a typed answer stands for: its words, or (`by_number`) its place in the numbered list."""
    flat = [button for row in buttons for button in row]
    key = _word(text).rstrip(").")
    if key.isdigit():
        index = int(key) - 1
        return flat[index].data if by_number and 0 <= index < len(flat) else None
    for button in flat:
        if key and fold(_LEADING_SYMBOLS.sub("", button.label)) == key:
            return button.data
    return None


async def _act(ctx: Context, step: str, item: Item, data: str) -> None:
    """Carry out a report button for the draft loaded from the conversation."""
    action, _, arg = data.partition(":")
    if action == "rx":
        await _cancel(ctx)
        return
    tag, _, rest = arg.partition(":")
    if tag != item.tag:
        await _reprompt(ctx, step, item, msg.STALE_BUTTON)
        return
    if action == "rb":
        await _back(ctx, step, item)
    elif action in ("rc", "rs", "rd"):
        await _field_button(ctx, step, item, action, rest)
    elif action == "ro" and step == SUMMARY:
        await _submit(ctx, item)
    elif action == "re" and step == SUMMARY:
        await _pick(ctx, item)
    elif action == "rf" and step in (SUMMARY, PICK) and item.form.field(rest) is not None:
        item.draft.queue, item.draft.pos, item.draft.to_summary = [rest], 0, True
        await _ask(ctx, item)
    else:
        await _reprompt(ctx, step, item, msg.STALE_BUTTON)


async def _field_button(ctx: Context, step: str, item: Item, action: str, rest: str) -> None:
    key, _, index = rest.partition(":")
    spec = item.spec
    if step != ASK or spec is None or key != spec.key:
        await _reprompt(ctx, step, item, msg.STALE_BUTTON)
        return
    if action == "rc" and index.isdigit() and int(index) < len(spec.choices):
        await _accept(ctx, item, Ok(spec.choices[int(index)]))
    elif action == "rs":
        # The same rule as typing "bỏ qua": a required field refuses with its own message.
        await _accept(ctx, item, parse_field(spec, "bỏ qua", local_today(ctx)))
    elif action == "rd":
        await _photos_done(ctx, item)
    else:
        await _reprompt(ctx, step, item, msg.STALE_BUTTON)


# -- summary, editing, sending ----------------------------------------------------------------------------------


def _value_lines(form: FormSpec, values: dict[str, Any], *, only_given: bool = False) -> list[str]:
    items = [
        (index, spec.label, spec.type.value, values.get(spec.key))
        for index, spec in enumerate(form.fields, start=1)
        if not only_given or spec.key in values
    ]
    return msg.value_lines(items)


def _summary_buttons(item: Item) -> list[list[Button]]:
    tag = item.tag
    send = msg.BUTTON_RESEND if item.open.reported else msg.BUTTON_SEND
    return [
        [Button(send, f"ro:{tag}"), Button(msg.BUTTON_EDIT, f"re:{tag}")],
        [Button(msg.BUTTON_BACK, f"rb:{tag}"), Button(msg.BUTTON_CANCEL, "rx")],
    ]


async def _summary(ctx: Context, item: Item, *lead: str, short: bool = False) -> None:
    """Every answer, with "Gửi" and "Sửa"; `short` only repeats the buttons after a notice (e.g. a photo)."""
    await ctx.set_state(FLOW, SUMMARY, item.draft.to_data())
    lines = [*lead]
    if not short:
        lines.append(msg.SUMMARY_TITLE.format(number=item.number, unit=_unit_suffix(item)))
        lines.extend(_value_lines(item.form, item.draft.values))
        lines.append(msg.SUMMARY_HINT)
    ctx.reply("\n".join(lines), _summary_buttons(item))


async def _summary_typed(ctx: Context, item: Item, text: str, word: str) -> None:
    if word in msg.WORDS_SEND:
        await _submit(ctx, item)
    elif word in msg.WORDS_EDIT:
        await _pick(ctx, item)
    elif (pressed := _typed_button(text, _summary_buttons(item), by_number=_numbered(ctx))) is not None:
        await _act(ctx, SUMMARY, item, pressed)
    else:
        await _summary(ctx, item, msg.SUMMARY_NUDGE)


def _pick_buttons(item: Item) -> list[list[Button]]:
    tag = item.tag
    rows = [
        [Button(msg.BUTTON_FIELD.format(index=index, label=spec.label), f"rf:{tag}:{spec.key}")]
        for index, spec in enumerate(item.form.fields, start=1)
    ]
    rows.append([Button(msg.BUTTON_BACK, f"rb:{tag}"), Button(msg.BUTTON_CANCEL, "rx")])
    return rows


async def _pick(ctx: Context, item: Item, *lead: str) -> None:
    await ctx.set_state(FLOW, PICK, item.draft.to_data())
    ctx.reply("\n".join([*lead, msg.PICK]), _pick_buttons(item))


async def _pick_typed(ctx: Context, item: Item, text: str) -> None:
    word = _word(text).rstrip(").")
    fields = item.form.fields
    spec = next((s for s in fields if word in (fold(s.label), fold(s.short_label))), None)
    if spec is None and word.isdigit() and 1 <= int(word) <= len(fields):
        spec = fields[int(word) - 1]  # the fields are numbered in the list on every channel
    if spec is not None:
        await _act(ctx, PICK, item, f"rf:{item.tag}:{spec.key}")
    elif (pressed := _typed_button(text, _pick_buttons(item), by_number=_numbered(ctx))) is not None:
        await _act(ctx, PICK, item, pressed)
    else:
        await _pick(ctx, item)


async def _submit(ctx: Context, item: Item) -> None:
    """Save the draft as the cell's newest report version and send the receipt."""
    if _missing_required(item.form, item.draft.values):
        await _to_summary(ctx, item)
        return
    report = await save_report(
        ctx.session,
        ctx.clock,
        ctx.settings.tz,
        directive=item.open.directive,
        unit_id=item.draft.unit_id,
        values=item.draft.values,
        person_id=ctx.person.id if ctx.person else None,
        channel=str(ctx.event.channel),
    )
    await ctx.clear_state()
    send_receipt(ctx, item, report)


def send_receipt(ctx: Context, item: Item, report: Report) -> None:
    directive = item.open.directive
    lines = [
        msg.RECEIPT.format(
            number=item.number,
            unit=item.open.unit_name,
            time=moment(report.submitted_at, ctx.settings.tz),
            ref=report.ref,
        )
    ]
    if report.version > 1:
        lines.append(msg.RECEIPT_VERSION.format(version=report.version))
    if report.late:
        lines.append(msg.RECEIPT_LATE.format(deadline=day(directive.deadline)))
    lines.append(msg.RECEIPT_CONTENT)
    lines.extend(_value_lines(item.form, item.draft.values))
    lines.append(msg.RECEIPT_EDIT_HINT)
    ctx.reply("\n".join(lines), [[Button(msg.BUTTON_EDIT_REPORT, f"rep:{directive.id}")]])


async def _cancel(ctx: Context) -> None:
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW:
        ctx.reply(msg.SESSION_GONE)  # an old "Hủy" button must not end some other flow
        return
    draft = Draft.from_data(conv.data)
    await ctx.clear_state()
    lines = [msg.CANCELLED]
    if draft is not None:
        kept = await latest_report(ctx.session, draft.directive_id, draft.unit_id)
        if kept is not None:
            lines.append(msg.CANCELLED_KEPT.format(ref=kept.ref))
    ctx.reply("\n".join(lines))


# -- starting a report ------------------------------------------------------------------------------------------


async def _open_any(ctx: Context) -> None:
    """ "báo cáo" typed outside a flow: the one directive waiting for a report, or a choice."""
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        ctx.reply(msg.NO_OPEN)
        return
    preferred = [c for c in cands if not c.reported] or cands
    if len(preferred) > 1:
        await _choose(ctx, preferred)
        return
    await _begin(ctx, preferred[0])


async def _begin(ctx: Context, opened: OpenTarget, photos: list[str] | None = None) -> None:
    """Open the report of a cell on a directive: resume a draft, show the sent report for editing, or start."""
    photos = photos or []
    form = await _form_of(ctx, opened.directive)
    conv = await ctx.conversation()
    if conv is not None and conv.flow == FLOW and conv.step in (ASK, SUMMARY, PICK):
        draft = Draft.from_data(conv.data)
        if draft is not None and (draft.directive_id, draft.unit_id) == (
            opened.directive.id,
            opened.target.unit_id,
        ):
            item = Item(draft, opened, form)
            _add_photos(form, draft.values, photos)
            await _reprompt(ctx, conv.step, item, msg.RESUME.format(number=item.number))
            return
    latest = await latest_report(ctx.session, opened.directive.id, opened.target.unit_id)
    draft = Draft(opened.directive.id, opened.target.unit_id)
    item = Item(draft, opened, form)
    if latest is not None:
        draft.values = copy.deepcopy(latest.values)
        lead = [
            msg.EXISTING.format(
                number=item.number, time=moment(latest.submitted_at, ctx.settings.tz), ref=latest.ref
            )
        ]
        if _add_photos(form, draft.values, photos):
            lead.append(msg.PHOTO_ADDED_SUMMARY.format(count=_photo_count(form, draft.values)))
        await _summary(ctx, item, *lead)
        return
    _add_photos(form, draft.values, photos)
    draft.queue = [spec.key for spec in form.fields]
    start = msg.START.format(
        title=form.title, number=item.number, unit=_unit_suffix(opened), count=len(form.fields)
    )
    await _ask(ctx, item, start)


# -- choosing the directive -------------------------------------------------------------------------------------


async def _choose(
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
        CHOOSE,
        {
            "options": [[c.directive.id, c.target.unit_id] for c in shown],
            "text": text,
            "photos": list(photos or []),
        },
    )
    several_units = len({c.target.unit_id for c in shown}) > 1
    lines = [*(lead or []), msg.CHOOSE.format(count=len(cands))]
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
            subject = " ".join((c.directive.subject or "").split())
            if len(subject) > SUBJECT_LIMIT:
                subject = subject[: SUBJECT_LIMIT - 1].rstrip() + "…"
            lines.append(
                msg.CHOOSE_LINE.format(
                    index=index,
                    number=number,
                    date=day(c.directive.issued_on),
                    subject=subject,
                    status=status,
                )
            )
            label = msg.BUTTON_DIRECTIVE.format(index=index, number=number)
        buttons.append([Button(label, f"rk:{c.directive.id}:{c.target.unit_id}")])
    buttons.append([Button(msg.BUTTON_CANCEL, "rx")])
    if text and shown[0].directive.number:
        first_line = " ".join(text.split())[:40]
        lines.append(msg.CHOOSE_TIP.format(example=f"{shown[0].directive.number}: {first_line}"))
    ctx.reply("\n".join(lines), buttons)


def _pending_of(data: object) -> tuple[list[tuple[int, int]], str | None, list[str]]:
    """What a choose step stored: the options offered, and the report text and photos waiting for the answer."""
    if not isinstance(data, dict):
        return [], None, []
    options = [
        (int(pair[0]), int(pair[1]))
        for pair in data.get("options") or []
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int) for x in pair)
    ]
    text = data.get("text") if isinstance(data.get("text"), str) else None
    photos = [p for p in data.get("photos") or [] if isinstance(p, str)]
    return options, text, photos


async def _on_choose(ctx: Context, arg: str) -> None:
    d, _, u = arg.partition(":")
    if not (d.isdigit() and u.isdigit()) or int(u) not in secretary_units(ctx):
        ctx.reply(msg.SESSION_GONE)
        return
    conv = await ctx.conversation()
    pending_text: str | None = None
    photos: list[str] = []
    if conv is not None and conv.flow == FLOW and conv.step == CHOOSE:
        _, pending_text, photos = _pending_of(conv.data)
        await ctx.clear_state()
    opened = await open_target(ctx.session, int(d), int(u))
    if opened is None:
        directive = await ctx.session.get(Directive, int(d))
        ctx.reply(msg.NOT_OPEN.format(number=(directive.number if directive else None) or msg.NO_NUMBER))
        return
    if pending_text is not None:
        numbers = await _open_numbers(ctx)
        form = await _form_of(ctx, opened.directive)
        await _apply_quick(
            ctx, opened, form, parse_quick_reply(form, pending_text, local_today(ctx), numbers), photos
        )
        return
    await _begin(ctx, opened, photos)


async def _choose_typed(ctx: Context, data: object) -> None:
    """An answer typed (or a photo sent) while the bot asks which directive a report is for."""
    options, text, photos = _pending_of(data)
    cands = await open_targets(ctx.session, secretary_units(ctx))
    offered = [c for pair in options for c in cands if (c.directive.id, c.target.unit_id) == pair]
    file = ctx.event.file
    if file is not None:
        lead = []
        if not _is_image(file):
            lead.append(msg.NOT_A_PHOTO)
        elif (sha := await _store_photo(ctx)) is not None:
            photos = [*photos, sha]
        await _choose(ctx, offered, text=text, photos=photos, lead=lead)
        return
    word = _word(ctx.event.text or "").rstrip(").")
    if word in msg.WORDS_CANCEL:
        await _cancel(ctx)
        return
    chosen = _typed_choice(word, offered)
    if chosen is not None:
        await _on_choose(ctx, f"{chosen.directive.id}:{chosen.target.unit_id}")
        return
    if await on_free_message(ctx):
        return  # a new report or "báo cáo": it replaced the question
    await _choose(ctx, offered, text=text, photos=photos, lead=[msg.CHOOSE_AGAIN])


def _leading_number(number: str) -> str | None:
    match = re.match(r"[0-9]+", fold(number))
    return match[0] if match else None


def _typed_choice(word: str, offered: list[OpenTarget]) -> OpenTarget | None:
    """The directive a typed answer picks: its place in the list, or its number ("747", "747-CV/ĐUK")."""
    if not word:
        return None
    if word.isdigit() and 1 <= int(word) <= len(offered):
        return offered[int(word) - 1]
    compact = re.sub(r"\s+", "", word)
    matches = [
        c
        for c in offered
        if c.directive.number
        and compact in (re.sub(r"\s+", "", fold(c.directive.number)), _leading_number(c.directive.number))
    ]
    return matches[0] if len(matches) == 1 else None


async def _open_numbers(ctx: Context) -> list[str]:
    cands = await open_targets(ctx.session, secretary_units(ctx))
    return list(dict.fromkeys(c.directive.number for c in cands if c.directive.number))


# -- one-message reports ----------------------------------------------------------------------------------------


def _typed_answers(form: FormSpec, parsed: QuickParse) -> int:
    """Answers that only a report would contain: any words fit a text field, a date or a count does not."""
    return sum(1 for key in parsed.values if (spec := form.field(key)) and spec.type is not FieldType.TEXT)


def _looks_like_report(text: str, form: FormSpec, parsed: QuickParse) -> bool:
    """Whether a free message is an attempt at a one-message report rather than a question or a greeting."""
    if parsed.directive_number is not None:
        return True
    if parsed.refusal is not None:
        return ";" in text
    given = len(parsed.values) + len(parsed.invalid)
    return _typed_answers(form, parsed) >= 1 and (given >= 2 or parsed.complete)


@dataclass(frozen=True)
class QuickPick:
    """What a free message reads as: a one-message report on `targets[0]`, or on one of several to ask about."""

    targets: list[OpenTarget]
    forms: dict[str | None, FormSpec]
    parses: dict[str | None, QuickParse]

    @property
    def form(self) -> FormSpec:
        return self.forms[self.targets[0].directive.form_key]

    @property
    def parsed(self) -> QuickParse:
        return self.parses[self.targets[0].directive.form_key]


async def forms_of(ctx: Context, cands: list[OpenTarget]) -> dict[str | None, FormSpec]:
    forms: dict[str | None, FormSpec] = {}
    for c in cands:
        if c.directive.form_key not in forms:
            forms[c.directive.form_key] = await _form_of(ctx, c.directive)
    return forms


def read_quick(
    cands: list[OpenTarget], forms: dict[str | None, FormSpec], text: str, today: date
) -> QuickPick | None:
    """Which open directive(s) `text` reports on, or None when it does not look like a one-message report."""
    numbers = list(dict.fromkeys(c.directive.number for c in cands if c.directive.number))
    parses = {key: parse_quick_reply(form, text, today, numbers) for key, form in forms.items()}
    named = next((p.directive_number for p in parses.values() if p.directive_number), None)
    if named is not None:
        chosen = [c for c in cands if c.directive.number == named]
        return QuickPick(chosen, forms, parses) if chosen else None
    if not any(_looks_like_report(text, forms[key], parsed) for key, parsed in parses.items()):
        return None
    return QuickPick([c for c in cands if not c.reported] or cands, forms, parses)


def quick_values(
    form: FormSpec, parsed: QuickParse, latest: Report | None, photos: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """The answers a one-message report gives, and the keys of the fields still to ask, in form order."""
    values: dict[str, Any] = dict(parsed.values)
    if latest is not None:  # a text resend keeps the evidence photos sent before
        for spec in form.photo_fields:
            if latest.values.get(spec.key):
                values[spec.key] = list(latest.values[spec.key])
    _add_photos(form, values, photos)
    asked = {*parsed.missing, *(issue.key for issue in parsed.invalid)}
    missing_photos = {s.key for s in form.photo_fields if s.required and not values.get(s.key)}
    return values, [spec.key for spec in form.fields if spec.key in asked | missing_photos]


async def _quick(ctx: Context, cands: list[OpenTarget], text: str, photos: list[str]) -> bool:
    """Read `text` as a one-message report on one of `cands`; False when it does not look like one."""
    pick = read_quick(cands, await forms_of(ctx, cands), text, local_today(ctx))
    if pick is None:
        return False
    if len(pick.targets) > 1:
        await _choose(ctx, pick.targets, text=text, photos=photos)
    else:
        await _apply_quick(ctx, pick.targets[0], pick.form, pick.parsed, photos)
    return True


async def _apply_quick(
    ctx: Context, opened: OpenTarget, form: FormSpec, parsed: QuickParse, photos: list[str]
) -> None:
    """Save a complete one-message report at once; otherwise say what was understood and ask the rest."""
    if parsed.refusal is not None:
        ctx.reply(parsed.refusal)
        return
    latest = await latest_report(ctx.session, opened.directive.id, opened.target.unit_id)
    values, queue = quick_values(form, parsed, latest, photos)
    item = Item(Draft(opened.directive.id, opened.target.unit_id, values), opened, form)
    if not queue:
        await _submit(ctx, item)
        return
    lines = []
    if parsed.values:
        lines.append(msg.QUICK_UNDERSTOOD.format(number=item.number))
        lines.extend(_value_lines(form, parsed.values, only_given=True))
    else:
        lines.append(msg.QUICK_NOTHING.format(number=item.number))
    missing_photos = {s.key for s in form.photo_fields if s.required and not values.get(s.key)}
    missing_labels = [spec.label for spec in form.fields if spec.key in set(parsed.missing) | missing_photos]
    lines.append(forms_msg.quick_problems(missing_labels, [(i.label, i.message) for i in parsed.invalid]))
    lines.append(msg.QUICK_FOLLOW_UP.format(count=len(queue)))
    ctx.reply("\n".join(lines))
    item.draft.queue = queue
    await _ask(ctx, item)


async def _whole_report(ctx: Context, step: str, item: Item, text: str) -> bool:
    """A complete one-message report sent in the middle of a form replaces the form's answers and is sent."""
    if ";" not in text and "\n" not in text.strip():
        return False
    if step == ASK and item.spec is not None and item.spec.type is FieldType.TEXT:
        return False  # several lines are a fine answer to a text question
    number = item.open.directive.number
    parsed = parse_quick_reply(item.form, text, local_today(ctx), [number] if number else [])
    if not parsed.complete or len(parsed.values) < 2 or _typed_answers(item.form, parsed) < 1:
        return False
    values = dict(parsed.values)
    for spec in item.form.photo_fields:
        if item.draft.values.get(spec.key):
            values[spec.key] = item.draft.values[spec.key]
    item.draft.values = values
    if _missing_required(item.form, values):
        return False
    await _submit(ctx, item)
    return True


# -- photos -----------------------------------------------------------------------------------------------------


def _is_image(file: IncomingFile) -> bool:
    return file.kind == "photo" or (file.kind == "document" and (file.mime or "").startswith("image/"))


def _photo_count(form: FormSpec, values: dict[str, Any]) -> int:
    return sum(len(values.get(spec.key) or []) for spec in form.photo_fields)


def _add_photos(form: FormSpec, values: dict[str, Any], photos: list[str], key: str | None = None) -> bool:
    """Add `photos` to the photo field `key` (default: the form's first); False when there is no room or field."""
    spec = form.field(key) if key else next(iter(form.photo_fields), None)
    if spec is None or not photos:
        return False
    kept = list(values.get(spec.key) or [])
    added = False
    for sha in photos:
        if sha not in kept and len(kept) < MAX_PHOTOS:
            kept.append(sha)
            added = True
    values[spec.key] = kept
    return added


async def _store_photo(ctx: Context) -> str | None:
    """Download the photo of this event into the file store; None (and the reason told) on failure."""
    file = ctx.event.file
    assert file is not None
    limit = ctx.settings.max_file_mb
    if file.size and file.size > limit * 1024 * 1024:
        ctx.reply(msg.PHOTO_TOO_LARGE.format(size=round(file.size / 1048576, 1), limit=limit))
        return None
    channel = ctx.runtime.channels.get(ctx.event.channel)
    try:
        if channel is None:
            raise LookupError(ctx.event.channel)
        data = await channel.download(file)
    except Exception:
        ctx.reply(msg.PHOTO_DOWNLOAD_FAILED)
        return None
    try:
        stored = await ctx.runtime.files.save(
            ctx.session, ctx.clock, data, file.name or "anh-minh-chung.jpg", file.mime or "image/jpeg"
        )
    except FileTooLarge as exc:
        ctx.reply(msg.PHOTO_TOO_LARGE.format(size=round(exc.size / 1048576, 1), limit=limit))
        return None
    return stored.sha256


async def _photo_outside_flow(ctx: Context) -> None:
    """Evidence photos sent on their own (or with a one-message report as caption)."""
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        ctx.reply(msg.NO_OPEN)
        return
    sha = await _store_photo(ctx)
    if sha is None:
        return
    caption = ctx.event.text or ""
    if caption.strip() and await _quick(ctx, cands, caption, [sha]):
        return
    preferred = [c for c in cands if not c.reported] or cands
    if len(preferred) > 1:
        await _choose(ctx, preferred, photos=[sha])
        return
    await _begin(ctx, preferred[0], [sha])


async def _photo_in_flow(ctx: Context, step: str, item: Item) -> None:
    file = ctx.event.file
    assert file is not None
    if not _is_image(file):
        await _reprompt(ctx, step, item, msg.NOT_A_PHOTO if file.kind == "document" else msg.UNSUPPORTED)
        return
    current = item.spec
    spec = (
        current
        if step == ASK and current is not None and current.type is FieldType.PHOTO
        else next(iter(item.form.photo_fields), None)
    )
    if spec is None:
        await _reprompt(ctx, step, item, msg.PHOTO_NO_FIELD.format(number=item.number))
        return
    if len(item.draft.values.get(spec.key) or []) >= MAX_PHOTOS:
        await _reprompt(ctx, step, item, msg.PHOTO_TOO_MANY.format(max=MAX_PHOTOS))
        return
    sha = await _store_photo(ctx)
    if sha is None:
        return
    _add_photos(item.form, item.draft.values, [sha], spec.key)
    count = len(item.draft.values[spec.key])
    if step == ASK and current is spec:
        await _ask(ctx, item)
    elif step == SUMMARY:
        await _summary(ctx, item, msg.PHOTO_ADDED_SUMMARY.format(count=count), short=True)
    else:
        await _reprompt(ctx, step, item, msg.PHOTO_ADDED.format(count=count))
