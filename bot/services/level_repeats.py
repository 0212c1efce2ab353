"""More cells for a directive already sent down the levels (a repeat's «add»), and a correction of it (a repeat's
«replace»): both go down like a send (bot/services/levels.py), joining what the boards below did with it
(docs/flows.md, Levels)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Reply
from bot.services import directives, level_reminders, levels, unit_changes
from bot.services.forms_store import get_form
from bot.services.outbox import REPLY, enqueue
from messages import levels as msg
from storage.models import Directive, DirectiveTarget, Handoff, HandoffFile, Unit


@dataclass(frozen=True)
class More:
    """Where more cells of a directive already sent down go: those the sender queues itself (`direct`), the units
    whose board it is handed to now, and those whose board had it already (the cells joined to what it did)."""

    direct: list[int]
    handed: list[Unit] = field(default_factory=list)
    joined: list[Unit] = field(default_factory=list)
    # The cells as the board is told they go, as a new send's (`levels.Route`): those joined to what a board below
    # did count with those handed now (both reach their cells through that board), those waiting where it is held
    # as held.
    route: levels.Route = field(default_factory=lambda: levels.Route(0))


async def send_more(
    session: AsyncSession,
    clock: Clock,
    directive: Directive,
    cell_ids: list[int],
    *,
    sender: Unit | None,
    tell: bool = True,
) -> More:
    """More cells for a directive already sent down from `sender` (a repeat's «add», a correction): split like a
    send. Under a unit whose board had it, they join what that board did: nothing yet while it is pending or held
    (its forward or re-issue will reach them), the directive queued to them when it forwarded it, its re-issue
    when it re-issued it (`tell`: that board is told); a unit below whose board never had it is handed it; under
    a unit whose board has not joined, they wait where it is held, else go directly. The cells the directive
    reached already are left out."""
    had = set(
        (
            await session.scalars(
                select(DirectiveTarget.unit_id).where(DirectiveTarget.directive_id == directive.id)
            )
        ).all()
    )
    parts = await levels.split(session, sender, [c for c in cell_ids if c not in had])
    direct = list(parts.direct)
    held: dict[int, list[int]] = {}
    for unit_id, cells in parts.unstaffed.items():
        if await levels.handoff(session, directive.id, [unit_id]) is None:
            direct += cells
        else:
            held[unit_id] = cells
    new: list[int] = []
    joined: list[Unit] = []
    for unit_id, cells in parts.handed.items():
        handed = await levels.handoff(
            session, directive.id, await unit_changes.predecessors(session, [unit_id])
        )
        unit = await session.get(Unit, unit_id)
        if handed is None or unit is None:
            new.append(unit_id)
            continue
        joined.append(unit)
        await _join(session, clock, handed, directive, unit, cells, tell=tell)
    route = levels.Route(
        len(direct),
        sum(len(cells) for cells in parts.handed.values()),
        len(parts.handed),
        sum(len(cells) for cells in held.values()),
        len(held),
        levels.Unstaffed.HOLD,
    )
    return More(direct, await levels.hand_down(session, clock, directive, new), joined, route)


async def _join(
    session: AsyncSession,
    clock: Clock,
    handed: Handoff,
    directive: Directive,
    unit: Unit,
    cells: list[int],
    *,
    tell: bool,
) -> None:
    """Cells under `unit`, whose board had `directive`, join what that board did with it (`send_more`)."""
    if handed.action == levels.FORWARDED:
        source: Directive | None = directive
    elif handed.action == levels.REISSUED and handed.reissue_id is not None:
        source = await session.get(Directive, handed.reissue_id)
    else:
        return  # pending or held: the board's forward or re-issue will reach them
    if source is None:
        return
    more = await send_more(session, clock, source, cells, sender=unit, tell=tell)
    if more.direct:
        form = await get_form(session, source.form_key)
        under = unit.path if source is directive else None  # a forward carries the unit's own files
        await directives.queue_cells(session, clock, source, more.direct, form, under)
        directives.resume_sending(source)
        await directives.settle(session, [source.id])
    if tell and more.direct:
        text = msg.MORE_CELLS.format(
            number=directive.number or "",
            cells=len(more.direct),
            unit=unit.name,
            what=msg.MORE_FORWARDED
            if source is directive
            else msg.MORE_REISSUED.format(number=source.number or ""),
        )
        for channel, chat_id in await levels.board_chats(session, unit.id):
            enqueue(session, clock, channel, chat_id, [Reply(text=text)], kind=REPLY)


async def pass_on(session: AsyncSession, old: Directive, correction: Directive) -> list[Handoff]:
    """A correction replacing `old`: the handoffs of `old` (and the files the boards below added to it, and the
    reminders sent about them) become the correction's, keeping what each board did and its report upward; the
    handoffs moved."""
    moved = list((await session.scalars(select(Handoff).where(Handoff.directive_id == old.id))).all())
    for handed in moved:
        handed.directive_id = correction.id
    for added in (await session.scalars(select(HandoffFile).where(HandoffFile.directive_id == old.id))).all():
        added.directive_id = correction.id
    await level_reminders.pass_on(session, old.id, correction.id)
    await session.flush()
    return moved


async def tell_corrected(
    session: AsyncSession, clock: Clock, correction: Directive, moved: list[Handoff]
) -> None:
    """The boards below that received the old directive get the correction's card, headed as such: to act on while pending;
    told their cells got it when they forwarded it; told to look at their own re-issue when they re-issued it.
    A board it is held for gets it when a member joins (`catch_up`, headed the same)."""
    for handed in moved:
        if handed.action == levels.HELD:
            continue
        unit = await session.get(Unit, handed.unit_id)
        if unit is None:
            continue
        standing = await unit_changes.current(session, unit)
        files = await directives.files_of(session, correction.id, standing.path)
        done = None
        if handed.action == levels.FORWARDED:
            done = msg.CORRECTED_FORWARDED
        elif handed.action == levels.REISSUED:
            reissue = await session.get(Directive, handed.reissue_id) if handed.reissue_id else None
            done = msg.CORRECTED_REISSUED.format(number=reissue.number if reissue else "")
        parts = levels.card(correction, standing, files, handed_to=unit.id, done=done)
        for channel, chat_id in await levels.board_chats(session, standing.id):
            enqueue(session, clock, channel, chat_id, parts, kind=REPLY)
