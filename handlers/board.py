"""The board's commands: /tinhhinh (open directives, or one directive's status with its missing units paged),
/nhacnho (nudge the missing cells now, or switch automatic reminders off and on), /tonghop (the daily summary on
demand), /xuat (Excel) and /baocao (Word draft), and the buttons they show. A board member only ever sees the
units of their own scope."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from bot.core.events import Button, Reply
from bot.core.host import Host
from bot.core.textnorm import fold
from bot.services import audit, board_files, cycles, evidence, reminders, rollup, status, upward
from bot.services import summary as summary_service
from bot.services.outbox import REPLY, enqueue
from handlers import buttons as b
from handlers import report_number
from handlers import rollup as rollup_handlers
from handlers.context import Context
from messages import board as msg
from messages import common
from messages import cycles as cycle_msg
from messages.formats import day, directive_code
from storage.db import transaction
from storage.models import Directive, Unit

log = logging.getLogger(__name__)

PER_PAGE = 10
CANDIDATES_SHOWN = 8


async def _scope(ctx: Context) -> status.Scope | None:
    scope = await status.scope_of(ctx.session, ctx.roles)
    if scope.empty:
        ctx.reply(msg.NOT_IN_SCOPE)
        return None
    return scope


Action = Callable[[int], b.BoardButton]  # the button a directive in a list of candidates gets


async def _resolve(
    ctx: Context, scope: status.Scope, query: str, command: str, action: Action
) -> Directive | None:
    """The one directive `query` names, or a helpful answer: the candidates to choose from, or what exists."""
    today = ctx.today
    if not query.strip():
        recent = await status.open_directives(ctx.session, scope, today)
        ctx.reply(msg.NEED_NUMBER.format(command=command), _choices(recent, action))
        return None
    lookup = await status.find_directive(ctx.session, scope, query, today)
    if lookup.found is not None:
        return lookup.found
    if lookup.matches:
        ctx.reply(
            msg.AMBIGUOUS.format(count=len(lookup.matches), query=query.strip()),
            _choices(lookup.matches, action),
        )
        return None
    lines = [msg.NOT_FOUND.format(query=query.strip())]
    if lookup.recent:
        numbers = ", ".join(
            msg.RECENT.format(number=d.number or "", code=directive_code(d.id))
            for d in lookup.recent[:CANDIDATES_SHOWN]
        )
        example = re.match(r"\d+", lookup.recent[0].number or "")
        lines.append(
            msg.NOT_FOUND_HINT.format(
                numbers=numbers,
                command=command,
                example=example.group() if example else lookup.recent[0].number,
            )
        )
    else:
        lines.append(msg.NOT_FOUND_NONE)
    ctx.reply("\n".join(lines), _choices(lookup.recent, action))
    return None


def _choices(
    directives: list[Directive], action: Action, limit: int = CANDIDATES_SHOWN
) -> list[list[Button]]:
    """One button per directive, carrying its id for `action`; its internal code tells apart two with one number."""
    return [[Button(_label(d), action(d.id).encode())] for d in directives[:limit]]


def _label(d: Directive) -> str:
    return msg.CANDIDATE.format(number=d.number or "", date=day(d.issued_on), code=directive_code(d.id))


# --- /tinhhinh ----------------------------------------------------------------------------------------------


async def tinhhinh(ctx: Context) -> None:
    scope = await _scope(ctx)
    if scope is None:
        return
    if not ctx.event.args.strip():
        await _show_list(ctx, scope)
        return
    query, unit = await rollup_handlers.typed_unit(ctx, scope, ctx.event.args)
    directive = await _resolve(ctx, scope, query, "tinhhinh", b.ShowStatus)
    if directive is not None and unit is not None:
        await rollup_handlers.drill(ctx, scope, directive, unit)  # «tình hình 1818 X-TP»: one unit's cells
    elif directive is not None:
        await _show_status(ctx, scope, directive)


async def _show_list(ctx: Context, scope: status.Scope) -> None:
    listed = await status.open_directives(ctx.session, scope, ctx.today)
    # A re-issue below of a directive listed here is counted in that one's line, not listed again.
    families = await status.families_of_period(ctx.session, listed)  # a recurring one's: its open period's
    directives = [d for d in listed if d.id in families]
    shown = {d.id: families[d.id] for d in directives[:PER_PAGE]}
    counts = {root: p.counts for root, p in (await status.family_progress(ctx.session, scope, shown)).items()}
    ctx.reply(
        status.render_list(directives, counts, shown=PER_PAGE), _choices(directives, b.ShowStatus, PER_PAGE)
    )


async def _viewed(ctx: Context, action: str, scope: status.Scope, directive_id: int | None) -> None:
    """Record in the audit log that this board member saw or took away cells' reports."""
    await audit.audit_view(
        ctx.session,
        ctx.clock,
        action,
        directive_id=directive_id,
        units=None if scope.everything else [root.id for root in scope.roots],
        person_id=ctx.person.id if ctx.person else None,
        actor=f"{ctx.event.channel.value}:{ctx.event.user_id}",
    )


async def _show_status(ctx: Context, scope: status.Scope, directive: Directive) -> None:
    await _viewed(ctx, audit.VIEW_STATUS, scope, directive.id)
    view = await status.status_view(ctx.session, scope, directive, per_page=PER_PAGE)
    policy = reminders.policy_of(directive)
    text = status.render_status(view, scope, ctx.today, escalate_after=policy.escalate_after_days)
    rows = await rollup.units_below(ctx.session, scope, directive.id)  # a commune board never sees its peers
    if below := upward.render_below(rows, ctx.settings.tz):
        text = f"{text}\n\n{below}"  # the units whose boards it was handed to
    hint, extras = rollup_handlers.status_extras(scope, directive, rows)
    if hint:
        text = f"{text}\n{hint}"
    buttons = _paging(directive.id, view.missing)
    actions = [
        Button(msg.BUTTON_EXPORT, b.ExportExcel(directive.id).encode()),
        Button(msg.BUTTON_REPORT, b.DraftReport(directive.id).encode()),
    ]
    if view.missing.total:
        buttons.append([Button(msg.BUTTON_NUDGE, b.Nudge(directive.id).encode())])
    buttons.append(actions)
    ctx.reply(text, buttons + extras)


def _paging(directive_id: int, page: status.MissingPage) -> list[list[Button]]:
    row = []
    if page.page > 1:
        row.append(Button(msg.BUTTON_PREVIOUS, b.MissingPage(directive_id, page.page - 1).encode()))
    if page.page < page.pages:
        row.append(Button(msg.BUTTON_NEXT, b.MissingPage(directive_id, page.page + 1).encode()))
    return [row] if row else []


async def _show_page(ctx: Context, scope: status.Scope, directive: Directive, number: int) -> None:
    page = await status.missing_units(ctx.session, scope, directive.id, page=number, per_page=PER_PAGE)
    own = len(await status.family(ctx.session, directive.id)) > 1  # handed down: its own cells listed
    text = f"{directive.number or ''}\n{status.render_missing(page, PER_PAGE, own=own)}"
    ctx.reply(text, _paging(directive.id, page))


# --- /nhacnho -----------------------------------------------------------------------------------------------


async def nhacnho(ctx: Context) -> None:
    scope = await _scope(ctx)
    if scope is None:
        return
    words = ctx.event.args.split()
    switch = fold(words[-1]) if len(words) > 1 else ""
    if switch in common.WORDS_SWITCH_OFF + common.WORDS_SWITCH_ON:
        query = " ".join(words[:-1])
        directive = await _resolve(ctx, scope, query, "nhacnho", b.Nudge)
        if directive is not None:
            await _switch(ctx, scope, directive, query, on=switch in common.WORDS_SWITCH_ON)
        return
    directive = await _resolve(ctx, scope, ctx.event.args, "nhacnho", b.Nudge)
    if directive is not None:
        await _nudge(ctx, scope, directive)


async def _switch(ctx: Context, scope: status.Scope, directive: Directive, query: str, *, on: bool) -> None:
    await reminders.switch(ctx.session, directive, scope, on=on)
    template = msg.POLICY_ON if on else msg.POLICY_OFF
    ctx.reply(template.format(number=directive.number or "", query=query))


async def _nudge(ctx: Context, scope: status.Scope, directive: Directive) -> None:
    done = await reminders.nudge(ctx.session, ctx.clock, ctx.settings.tz, scope, directive)
    number = directive.number or ""
    if done.missing == 0:
        ctx.reply(msg.NUDGE_NOTHING.format(number=number))
        return
    lines = []
    if done.sent and done.held_until is not None:
        held = done.held_until.astimezone(ctx.settings.tz).strftime("%H:%M")
        lines.append(msg.NUDGE_DEFERRED.format(count=done.sent, number=number, time=held))
    elif done.sent:
        lines.append(msg.NUDGE_SENT.format(count=done.sent, number=number))
    if done.already:
        lines.append(msg.NUDGE_ALREADY.format(count=done.already))
    if done.unreachable:
        lines.append(msg.NUDGE_UNREACHABLE.format(count=len(done.unreachable)))
        for unit in done.unreachable[:PER_PAGE]:
            lines.append(
                msg.NUDGE_UNREACHABLE_LINE.format(
                    unit=unit.name,
                    secretary=unit.secretary or msg.MISSING_NO_SECRETARY,
                    phone=msg.MISSING_PHONE.format(phone=unit.phone) if unit.phone else "",
                )
            )
        if len(done.unreachable) > PER_PAGE:
            more = len(done.unreachable) - PER_PAGE
            lines.append(msg.NUDGE_UNREACHABLE_MORE.format(count=more, number=number))
    ctx.reply("\n".join(lines))
    if done.sent:
        ctx.after_commit.append(ctx.runtime.sender.wake)


# --- /tonghop -----------------------------------------------------------------------------------------------


async def tonghop(ctx: Context) -> None:
    scope = await _scope(ctx)
    if scope is None:
        return
    if (
        ctx.event.args.strip()
    ):  # «tổng hợp 1818 [theo cấp dưới]»: one directive's figures, saying their source
        query, source = rollup.split_source(ctx.event.args)
        directive = await _resolve(ctx, scope, query, "tonghop", _summary_button)
        if directive is not None:
            await _summary(ctx, scope, directive, source)
        return
    await _viewed(ctx, audit.VIEW_SUMMARY, scope, None)
    built = await summary_service.build_summary(ctx.session, scope, ctx.clock.now(), ctx.settings.tz)
    for part in await summary_service.replies(ctx.session, ctx.clock, ctx.runtime.files, built):
        ctx.send(part)


def _summary_button(directive_id: int) -> b.BoardButton:
    return b.FromSource(directive_id, "text", rollup_handlers.DEFAULT)


async def _summary(ctx: Context, scope: status.Scope, directive: Directive, source: str | None) -> None:
    await _viewed(ctx, audit.VIEW_SUMMARY, scope, directive.id)
    await rollup_handlers.summary(ctx, scope, directive, source)


# --- /xuat and /baocao --------------------------------------------------------------------------------------


async def xuat(ctx: Context) -> None:
    await _file_command(ctx, "xuat", b.ExportExcel, board_files.XLSX)


async def baocao(ctx: Context) -> None:
    await _file_command(ctx, "baocao", b.DraftReport, board_files.DOCX)


async def _file_command(ctx: Context, command: str, action: Action, kind: str) -> None:
    """«xuat|baocao [747] [kỳ 04/2024] [theo cấp dưới]»: the directive's Excel or Word, built after the commit."""
    scope = await _scope(ctx)
    if scope is None:
        return
    query, source = rollup.split_source(ctx.event.args)
    query, period = cycles.split_period(query)
    directive = await _resolve(ctx, scope, query, command, action)
    if directive is not None and (number := await _period(ctx, directive, period)) != 0:
        await _file(ctx, scope, directive, kind, number, source)


async def _period(ctx: Context, directive: Directive, typed: str | None) -> int | None:
    """The period a recurring directive's file is about: None for the default, its number for the one typed, or
    0 (answered) when the directive has no such period."""
    if typed is None:
        return None
    found = await cycles.find_by_label(ctx.session, directive, typed)
    if found is None:
        ctx.reply(cycle_msg.UNKNOWN_PERIOD.format(number=directive.number or "", period=typed))
        return 0
    return found.number


async def layso(ctx: Context) -> None:
    """Take the report's number from the register: the proposed one, or the one typed after the directive."""
    scope = await _scope(ctx)
    if scope is None:
        return
    query, number = report_number.split_args(ctx.event.args)
    directive = await _resolve(ctx, scope, query, "layso", b.TakeNumber)
    if directive is not None:
        await _take_number(ctx, scope, directive, number)


async def _take_number(
    ctx: Context, scope: status.Scope, directive: Directive, number: int | None = None
) -> None:
    ctx.reply(msg.NUMBER_STARTED.format(number=directive.number or ""))
    _after_commit(ctx, scope, directive, "number", number)


_FILES = {  # what a board file's request is audited as, and how the bot says it started
    board_files.XLSX: (audit.EXPORT_XLSX, msg.EXPORT_STARTED),
    board_files.DOCX: (audit.EXPORT_DOCX, msg.REPORT_STARTED),
}


async def _file(
    ctx: Context,
    scope: status.Scope,
    directive: Directive,
    kind: str,
    cycle: int | None = None,
    source: str | None = None,
) -> None:
    event, started = _FILES[kind]
    await _viewed(ctx, event, scope, directive.id)
    ctx.reply(started.format(number=directive.number or ""))
    _after_commit(ctx, scope, directive, kind, cycle=cycle, source=source)


def _after_commit(
    ctx: Context,
    scope: status.Scope,
    directive: Directive,
    kind: str,
    number: int | None = None,
    *,
    cycle: int | None = None,
    source: str | None = None,
) -> None:
    runtime, channel, chat_id = ctx.runtime, str(ctx.event.channel), ctx.event.chat_id
    actor = f"{channel}:{ctx.event.user_id}"
    job = _FileJob(
        runtime, scope, directive.id, ctx.today, kind, channel, chat_id, actor, number, cycle, source
    )

    ctx.after_commit.append(lambda: runtime.spawn(job.run(), name=f"{kind} of directive {job.directive_id}"))


@dataclass(frozen=True)
class _FileJob:
    runtime: Host
    scope: status.Scope
    directive_id: int
    today: date
    kind: str  # "xlsx" | "docx" | "number" (take the report's number, then the draft carrying it)
    channel: str
    chat_id: str
    actor: str = ""
    number: int | None = None  # the report number typed by the board
    cycle: int | None = None  # a recurring directive's period the board typed (None: the default one)
    source: str | None = (
        None  # a directive handed down: aggregated from the cells or from below (None: default)
    )

    async def run(self) -> None:
        runtime = self.runtime
        try:
            built = await self._build()
        except Exception:
            log.exception("building the %s of directive %s failed", self.kind, self.directive_id)
            built = report_number.Draft(None, [Reply(text=msg.EXPORT_FAILED)])
        async with transaction(runtime.sessions) as session:
            parts = []
            if built.file is not None:
                file = built.file
                stored = await runtime.files.save(session, runtime.clock, file.content, file.name, file.mime)
                parts.append(Reply(text=file.caption, file=stored))
            parts += built.after
            enqueue(session, runtime.clock, self.channel, self.chat_id, parts, kind=REPLY)
        runtime.sender.wake()

    async def _build(self) -> report_number.Draft:
        runtime, scope, today = self.runtime, self.scope, self.today
        if self.kind == "number":
            return await report_number.take_number(
                runtime, scope, self.directive_id, today, self.actor, self.number
            )
        if self.kind == board_files.DOCX:
            return await report_number.build_draft(
                runtime, scope, self.directive_id, today, self.cycle, self.source
            )
        return report_number.Draft(await self._export(), [])

    async def _export(self) -> board_files.BoardFile:
        runtime = self.runtime
        async with runtime.sessions() as session:
            directive = await session.get(Directive, self.directive_id)
            if directive is None:
                raise LookupError(self.directive_id)
            period = await cycles.cycle(session, directive, self.cycle) if self.cycle else None
            data = await rollup.report_data(
                session,
                self.scope,
                directive,
                self.today,
                runtime.settings.timezone,
                source=self.source,
                period=period,
            )
        link = evidence.link_maker(runtime.settings, runtime.clock.now(), directive.id)
        return await asyncio.to_thread(board_files.render, self.kind, data, directive, self.today, link)


# --- Buttons -------------------------------------------------------------------------------------------------


async def on_button(ctx: Context, pressed: b.BoardButton) -> None:
    """A board button: an action on one directive, checked against the member's scope today."""
    scope = await _scope(ctx)
    if scope is None:
        return
    directive = await status.directive_in_scope(ctx.session, scope, pressed.directive_id)
    if directive is None:
        ctx.reply(msg.GONE)
        return
    if isinstance(pressed, b.MissingPage):
        await _show_page(ctx, scope, directive, pressed.page)
    elif isinstance(pressed, b.FromSource):
        await _from_source(ctx, scope, directive, pressed)
    elif isinstance(pressed, b.DrillDown):
        unit = await ctx.session.get(Unit, pressed.unit_id)
        if unit is not None:
            await rollup_handlers.drill(ctx, scope, directive, unit)
    else:
        await ACTIONS[type(pressed)](ctx, scope, directive)


async def _from_source(
    ctx: Context, scope: status.Scope, directive: Directive, pressed: b.FromSource
) -> None:
    source = pressed.source if pressed.source in (rollup.CELLS, rollup.BELOW) else None
    if pressed.kind in _FILES:
        await _file(ctx, scope, directive, pressed.kind, source=source)
    else:
        await _summary(ctx, scope, directive, source)


BoardAction = Callable[[Context, status.Scope, Directive], Awaitable[None]]
# The board's buttons and what each does (paging also carries its page: see `on_button`).
ACTIONS: dict[type[b.BoardButton], BoardAction] = {
    b.ShowStatus: _show_status,
    b.Nudge: _nudge,
    b.ExportExcel: lambda ctx, scope, directive: _file(ctx, scope, directive, board_files.XLSX),
    b.DraftReport: lambda ctx, scope, directive: _file(ctx, scope, directive, board_files.DOCX),
    b.TakeNumber: _take_number,
}
