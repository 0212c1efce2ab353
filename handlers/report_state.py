"""The report being filled, as stored in the conversation row (flow "report"): its steps, the draft, and loading
it back checked against today's database. A lost connection, a day of silence or a restart loses nothing."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.textnorm import fold
from bot.services.forms import BUILTIN_FORMS, FieldSpec, FormSpec
from bot.services.forms_store import DEFAULT_FORM, get_form
from bot.services.reports import OpenTarget, open_target
from handlers.context import Context
from handlers.secretary import secretary_units
from messages import reports as msg
from storage.models import Directive

FLOW = "report"
_TRAILING_PUNCT = ".!?…"


class ReportStep(StrEnum):
    """Where a report conversation stands (the value is what the conversation row stores)."""

    ASK = "ask"  # one question of the form at a time
    SUMMARY = "summary"  # every answer, with "Gửi" and "Sửa"
    PICK = "pick"  # which answer to change
    CHOOSE = "choose"  # which open directive a report (or photo) is for


FORM_STEPS = (ReportStep.ASK, ReportStep.SUMMARY, ReportStep.PICK)  # the steps that hold a Draft
_STEPS = frozenset(ReportStep)


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
    def directive_id(self) -> int:
        return self.draft.directive_id


async def report_step(ctx: Context) -> ReportStep | None:
    """The step of the report conversation, None outside the report flow (or for a step no longer known)."""
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW or conv.step not in _STEPS:
        return None
    return ReportStep(conv.step)


async def load(ctx: Context) -> tuple[ReportStep, Item] | None:
    """The report in progress, checked against today's database; tells the secretary when it is gone."""
    conv = await ctx.conversation()
    step = await report_step(ctx)
    if conv is None or step not in FORM_STEPS:
        ctx.reply(msg.SESSION_GONE if ctx.has_buttons else msg.SESSION_GONE_TYPED)
        return None
    draft = Draft.from_data(conv.data)
    if draft is None or draft.unit_id not in secretary_units(ctx):
        await ctx.clear_state()
        ctx.reply(msg.SESSION_GONE if ctx.has_buttons else msg.SESSION_GONE_TYPED)
        return None
    opened = await open_target(ctx.session, draft.directive_id, draft.unit_id)
    if opened is None:
        await ctx.clear_state()
        directive = await ctx.session.get(Directive, draft.directive_id)
        ctx.reply(msg.NOT_OPEN.format(number=(directive.number if directive else None) or msg.NO_NUMBER))
        return None
    form = await form_of(ctx, opened.directive)
    # A custom form replaced mid-report may have lost fields: keep only the questions it still has.
    draft.queue = [key for key in draft.queue if form.field(key) is not None]
    draft.pos = min(max(draft.pos, 0), max(len(draft.queue) - 1, 0))
    if step is ReportStep.ASK and not draft.current:
        step = ReportStep.SUMMARY
    return step, Item(draft, opened, form)


async def form_of(ctx: Context, directive: Directive) -> FormSpec:
    form = await get_form(ctx.session, directive.form_key)
    return form or BUILTIN_FORMS[DEFAULT_FORM]


async def forms_of(ctx: Context, cands: list[OpenTarget]) -> dict[str | None, FormSpec]:
    forms: dict[str | None, FormSpec] = {}
    for c in cands:
        if c.directive.form_key not in forms:
            forms[c.directive.form_key] = await form_of(ctx, c.directive)
    return forms


def word(text: str) -> str:
    """A typed answer as compared with the words of messages/: folded, without trailing punctuation."""
    return fold(text).rstrip(_TRAILING_PUNCT).strip()


def asks_to_report(text: str) -> bool:
    """ "báo cáo" and its like: open the form rather than read a report."""
    return word(text) in msg.WORDS_REPORT


def unit_suffix(opened: OpenTarget) -> str:
    return msg.UNIT_SUFFIX.format(unit=opened.unit_name)
