"""A lower unit's board acting on an upper directive handed to it (bot/services/levels.py): re-issue it as its own
directive (the intake opens on a prefilled draft) or forward it unchanged to its cells (with the unit's own files
added first if it wants: handlers/level_files.py), then «báo cáo lên»: the Word draft aggregated from its cells'
reports (numbered from its own register) shown to it, and on its confirmation sent to the upper board and recorded
on the handoff (on time or late). Only a board member whose scope holds the unit may act; re-issue or forward once
per directive and unit."""

from __future__ import annotations

import logging
import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Button, OutFile, Reply
from bot.core.host import Host
from bot.services import cycles, directives, levels, rollup, status, unit_changes, upward
from bot.services.forms_store import get_form
from bot.services.outbox import REPLY, enqueue
from handlers import buttons as b
from handlers import directive_intake, level_files, report_number
from handlers.context import Context
from messages import board as board_msg
from messages import levels as msg
from storage.db import transaction
from storage.models import Directive, Handoff, Unit

log = logging.getLogger(__name__)


async def on_button(ctx: Context, pressed: b.LevelButton) -> None:
    scope = await directives.scope_units(ctx.session, ctx.roles)
    unit = await ctx.session.get(Unit, pressed.unit_id)
    # A card of a unit merged or split since is its main successor's board's to act on.
    standing = await unit_changes.current(ctx.session, unit) if unit is not None else None
    if unit is None or standing is None or not any(standing.path.startswith(s.path) for s in scope):
        ctx.reply(msg.NOT_YOURS)
        return
    # A card of a directive corrected since acts on the correction, and says so. The board member tapping
    # «Chuyển nguyên văn» or «Ban hành lại» on the old card means "carry out this upper directive", which today is
    # its correction: the old one is never open again and its handoff is the correction's now. Refusing would
    # send them looking for the new card (on the Zalo Bot Platform a typed choice answers the last message
    # anyway); acting silently would hide that the text changed, hence the line naming the correction.
    upper = await levels.in_force(ctx.session, pressed.directive_id)
    group = await levels.handoffs_of(ctx.session, upper.id, unit.id) if upper is not None else []
    if not group or upper is None:
        ctx.reply(msg.NOT_YOURS)
        return
    if upper.id != pressed.directive_id:
        ctx.reply(msg.ON_CORRECTION.format(number=upper.number or ""))
    handed = group[0]
    if isinstance(pressed, b.SendUp):
        await _send_up(ctx, group, upper, unit)
        return
    if handed.action != levels.PENDING and handed.acted_at is not None:
        await level_files.take(ctx, pressed.directive_id, unit.id)  # files gathered for it go nowhere now
        action = msg.ACTIONS[handed.action]
        at = msg.day(handed.acted_at.astimezone(ctx.settings.tz).date())
        ctx.reply(msg.ALREADY.format(number=upper.number or "", unit=unit.name, action=action, at=at))
        return
    if isinstance(pressed, b.ForwardWithFiles):
        await level_files.start(ctx, upper, unit)
    elif isinstance(pressed, b.ForwardUpper | b.FilesDone):
        # «Chuyển nguyên văn» forwards as is, dropping files gathered meanwhile; «Xong» forwards with them.
        files = await level_files.take(ctx, pressed.directive_id, unit.id)  # the card that opened the flow
        await _forward(ctx, handed, upper, unit, files if isinstance(pressed, b.FilesDone) else [])
    else:
        draft = await levels.reissue_draft(
            ctx.session, ctx.clock, handed, created_by=ctx.person.id if ctx.person else None, today=ctx.today
        )
        await ctx.set_state(directive_intake.FLOW, directive_intake.IntakeStep.REVIEW, {"id": draft.id})
        await directive_intake.show_preview(ctx, draft)


async def _forward(ctx: Context, handed: Handoff, upper: Directive, unit: Unit, files: list[OutFile]) -> None:
    form = await get_form(ctx.session, upper.form_key)
    actor = f"{ctx.event.channel.value}:{ctx.event.user_id}"
    person_id = ctx.person.id if ctx.person else None
    cells, units = await levels.forward(
        ctx.session, ctx.clock, handed, form, actor=actor, person_id=person_id, files=files
    )
    ctx.reply(msg.FORWARDED.format(number=upper.number or "", cells=cells, unit=unit.name))
    if files:
        ctx.reply(msg.FORWARDED_FILES.format(count=len(files), names=", ".join(f.name for f in files)))
    if units:
        ctx.reply(msg.HANDED_DOWN.format(units=len(units), names=", ".join(u.name for u in units)))
    ctx.after_commit.append(ctx.runtime.sender.wake)


# --- reporting upward -------------------------------------------------------------------------------------------


async def baocaolen(ctx: Context) -> None:
    """«báo cáo lên 747»: what the unit's report on the upper directive holds, its Word draft, and the button that
    sends it up."""
    units = [r.unit_id for r in ctx.roles if r.kind == "board" and r.unit_id is not None]
    handed = await upward.handed_to(ctx.session, units)
    if not handed:
        ctx.reply(msg.UP_NOTHING)
        return
    query = ctx.event.args.strip()
    # One report upward per upper directive, whatever number of the board's units (merged since) it reached.
    by_directive: dict[int, tuple[Directive, list[Handoff]]] = {}
    for h, d in handed:
        by_directive.setdefault(d.id, (d, []))[1].append(h)
    matches = [(hs, d) for d, hs in by_directive.values() if not query or query in (d.number or "")]
    if len(matches) != 1:
        numbers = [d.number or "" for d, _ in by_directive.values()]
        example = re.match(r"\d+", numbers[0])
        ctx.reply(
            msg.UP_WHICH.format(
                example=example.group() if example else numbers[0], numbers=", ".join(numbers)
            )
        )
        return
    group, upper = matches[0]
    handed_unit = await ctx.session.get(Unit, group[0].unit_id)
    unit = await unit_changes.current(ctx.session, handed_unit) if handed_unit else None
    group = await levels.handoffs_of(ctx.session, upper.id, unit.id) if unit else group
    sources = upward.sources_of(group)
    if not sources or unit is None:
        ctx.reply(msg.UP_NOT_ACTED.format(number=upper.number or ""))
        return
    cells, reported = await upward.progress(ctx.session, group)
    text = msg.UP_CONFIRM.format(
        unit=unit.name,
        number=upper.number or "",
        deadline=msg.day(upper.deadline),
        reported=reported,
        cells=cells,
    )
    ctx.reply(text, [[_send_button(upper.id, unit.id)]])
    job = await _up_job(ctx, upper, unit, sources)
    ctx.after_commit.append(lambda: ctx.runtime.spawn(job.preview(), name=f"report up on {upper.id}"))


def _send_button(upper_id: int, unit_id: int) -> Button:
    return Button(msg.BUTTON_SEND_UP, b.SendUp(upper_id, unit_id).encode())


async def _send_up(ctx: Context, group: list[Handoff], upper: Directive, unit: Unit) -> None:
    sources = upward.sources_of(group)
    if not sources:
        ctx.reply(msg.UP_NOT_ACTED.format(number=upper.number or ""))
        return
    job = await _up_job(ctx, upper, unit, sources)
    ctx.after_commit.append(lambda: ctx.runtime.spawn(job.send(), name=f"report up on {upper.id}"))


async def _up_job(ctx: Context, upper: Directive, unit: Unit, sources: list[int]) -> _UpJob:
    """The unit's report upward on `upper`, built after this event's transaction from every directive its cells
    reported on (`sources`), answered in this chat."""
    scope = await status.scope_of(ctx.session, ctx.roles)
    source = await ctx.session.get(Directive, sources[0])
    following = source is not None and cycles.margin_of(source) is not None
    return _UpJob(
        ctx.runtime,
        scope,
        upper.id,
        unit.id,
        sources,
        # Forwarded, its cells answer the upper directive's open period, and re-issued recurring, the re-issue's
        # open period (which answers the upper one's): a recurring directive's Word report is otherwise about the
        # last period closed.
        upper.cycle if sources[0] == upper.id else (source.cycle if following and source else None),
        ctx.today,
        str(ctx.event.channel),
        ctx.event.chat_id,
    )


class _UpJob:
    """Builds the unit's Word draft after the event's commit (it takes seconds for many cells) and sends it: to
    the member to read first, or to the upper board, recording the report."""

    def __init__(
        self,
        runtime: Host,
        scope: status.Scope,
        upper_id: int,
        unit_id: int,
        source_ids: list[int],
        cycle: int | None,
        today: date,
        channel: str,
        chat_id: str,
    ) -> None:
        self.runtime, self.scope, self.upper_id, self.unit_id = runtime, scope, upper_id, unit_id
        self.source_ids, self.cycle, self.today = source_ids, cycle, today
        self.channel, self.chat_id = channel, chat_id

    async def _draft(self) -> report_number.Draft | None:
        try:
            # Under the first directive's letterhead; a merged unit's other re-issues taken in, once each.
            first, *others = self.source_ids
            return await report_number.build_draft(
                self.runtime, self.scope, first, self.today, self.cycle, also=others
            )
        except Exception:
            log.exception(
                "building the report up on directive %s for unit %s failed", self.upper_id, self.unit_id
            )
            return None

    def _answer(self, session: AsyncSession, parts: list[Reply]) -> None:
        """A reply in the chat the board member asked from."""
        enqueue(session, self.runtime.clock, self.channel, self.chat_id, parts, kind=REPLY)

    async def preview(self) -> None:
        built = await self._draft()
        runtime = self.runtime
        async with transaction(runtime.sessions) as session:
            if built is None or built.file is None:
                self._answer(session, [Reply(text=board_msg.EXPORT_FAILED)])
            else:
                file = built.file
                stored = await runtime.files.save(session, runtime.clock, file.content, file.name, file.mime)
                # The send button again, last: where choices are typed (Zalo Bot Platform) they answer the last
                # message, and the draft's number offer came after the first one.
                again = Reply(text=msg.UP_READY, buttons=[[_send_button(self.upper_id, self.unit_id)]])
                parts = [Reply(text=file.caption, file=stored), *built.after, again]
                self._answer(session, parts)
        runtime.sender.wake()

    async def send(self) -> None:
        built = await self._draft()
        runtime = self.runtime
        async with transaction(runtime.sessions) as session:
            group = await levels.handoffs_of(session, self.upper_id, self.unit_id)
            upper = await session.get(Directive, self.upper_id)
            unit = await session.get(Unit, self.unit_id)
            if built is None or built.file is None or not group or upper is None or unit is None:
                self._answer(session, [Reply(text=board_msg.EXPORT_FAILED)])
            else:
                unit = await unit_changes.current(session, unit)  # merged since: reported as its successor
                source = await session.get(Directive, self.source_ids[0])
                form_key = source.form_key if source is not None else upper.form_key
                cycle = upward.answered_period(upper, source)
                figures = rollup.snapshot(built.data, form_key, cycle) if built.data is not None else None
                # One report for the units merged into this one: its figures are kept once (on the first
                # handoff), so adding up "from below" never counts them twice.
                for handoff in group:
                    upward.record_report(
                        handoff,
                        upper,
                        runtime.clock.now(),
                        self.today,
                        figures if handoff is group[0] else None,
                        cycle,
                    )
                when = msg.UP_LATE if group[0].report_late else msg.UP_ON_TIME
                cells, reported = await upward.progress(session, group)
                file = built.file
                stored = await runtime.files.save(session, runtime.clock, file.content, file.name, file.mime)
                text = msg.UP_RECEIVED.format(
                    unit=unit.name, number=upper.number or "", when=when, reported=reported, cells=cells
                )
                for channel, chat_id in await upward.upper_chats(session, upper):
                    enqueue(
                        session,
                        runtime.clock,
                        channel,
                        chat_id,
                        [Reply(text=text), Reply(text=file.caption, file=stored)],
                        kind=REPLY,
                    )
                done = msg.UP_SENT.format(number=upper.number or "", when=when)
                self._answer(session, [Reply(text=done)])
        runtime.sender.wake()
