"""The open directives of cells that merge or split (bot/services/unit_changes.py): what a retired cell was asked
and had not answered yet is asked of the cell that stands for it now, and what it had answered keeps counting.

A merge of cells: the successor is one target of each open directive any of them was a target of (their target
rows fold into its one row, so the directive's progress counts the merged cell once). It counts as reported when
every cell folded into it had reported (their reports stay theirs, under their own names: the history, the
figures, the Excel rows), else it is asked of the successor's secretary: the card when she joins, or at the change
if she has (`deliver`, from roster_changes.settle), and the reminders by the deadline. A successor that was a
target itself and reported is asked again when a cell merged into it had not.

A split of a cell: a directive it had reported on keeps its one target and report (the report was the whole
cell's); one it had not is asked of each new cell instead (each is a target of it now)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import directives
from storage.models import Directive, DirectiveTarget, Unit

# A folded target nobody has been reached for yet: `directives.catch_up` delivers it when the secretary joins.
UNREACHED = "unregistered"


@dataclass(frozen=True)
class _Open:
    directive_id: int
    targets: list[DirectiveTarget]  # the retiring cells' target rows of that directive


async def _open_targets(session: AsyncSession, unit_ids: Sequence[int]) -> list[_Open]:
    """The open directives these cells are targets of, with their target rows."""
    rows = (
        await session.scalars(
            select(DirectiveTarget)
            .join(Directive, Directive.id == DirectiveTarget.directive_id)
            .where(DirectiveTarget.unit_id.in_(list(unit_ids)), Directive.status.in_(directives.OUT))
            .order_by(DirectiveTarget.directive_id, DirectiveTarget.unit_id)
        )
    ).all()
    by_directive: dict[int, list[DirectiveTarget]] = {}
    for target in rows:
        by_directive.setdefault(target.directive_id, []).append(target)
    return [_Open(directive_id, targets) for directive_id, targets in by_directive.items()]


async def carry_merged(session: AsyncSession, sources: Sequence[Unit], successor: Unit) -> int:
    """Fold the merged cells' targets of open directives into the successor's one (the module's docstring says
    how it counts); how many directives are asked of it now."""
    carried = 0
    for found in await _open_targets(session, [u.id for u in sources]):
        own = await session.get(DirectiveTarget, (found.directive_id, successor.id))
        await _drop(session, found)
        answered = all(t.reported_at is not None for t in found.targets)
        if own is not None:
            if not answered and own.reported_at is not None:
                own.reported_at, own.late = None, False  # a merged cell's part is still owed
            continue
        session.add(_successor_target(found, successor.id, answered))
        carried += not answered  # what is asked of its secretary; an answered one just counts as reported
    await session.flush()
    return carried


async def carry_split(session: AsyncSession, unit: Unit, successors: Sequence[Unit]) -> int:
    """Ask each new cell what the split one had not reported (see the module's docstring); how many directives."""
    carried = 0
    for found in await _open_targets(session, [unit.id]):
        if found.targets[0].reported_at is not None:
            continue  # reported for the whole cell: that target and report stand
        await _drop(session, found)
        have = set(
            (
                await session.scalars(
                    select(DirectiveTarget.unit_id).where(DirectiveTarget.directive_id == found.directive_id)
                )
            ).all()
        )
        session.add_all(
            DirectiveTarget(directive_id=found.directive_id, unit_id=u.id, delivery=UNREACHED)
            for u in successors
            if u.id not in have
        )
        carried += 1
    await session.flush()
    return carried


async def _drop(session: AsyncSession, found: _Open) -> None:
    """The retiring cells' rows of the directive go (their reports stay, keyed by their own unit)."""
    await session.execute(
        delete(DirectiveTarget).where(
            DirectiveTarget.directive_id == found.directive_id,
            DirectiveTarget.unit_id.in_([t.unit_id for t in found.targets]),
        )
    )
    for target in found.targets:
        session.expunge(target)


def _successor_target(found: _Open, unit_id: int, answered: bool) -> DirectiveTarget:
    """The merged cell's row: done when every folded cell had reported (its latest report's time, late if any
    was), else not reached yet."""
    if not answered:
        return DirectiveTarget(directive_id=found.directive_id, unit_id=unit_id, delivery=UNREACHED)
    targets = found.targets
    return DirectiveTarget(
        directive_id=found.directive_id,
        unit_id=unit_id,
        delivery="sent",
        delivered_at=min((t.delivered_at for t in targets if t.delivered_at), default=None),
        acknowledged_at=min((t.acknowledged_at for t in targets if t.acknowledged_at), default=None),
        reported_at=max(t.reported_at for t in targets if t.reported_at),
        late=any(t.late for t in targets),
    )


async def deliver(session: AsyncSession, clock: Clock, cell_ids: Sequence[int]) -> dict[int, int]:
    """After a change: the cards of the directives carried to these cells go now to their secretaries who have
    joined (the others get them when they join); how many per cell reached."""
    sent: dict[int, int] = {}
    for recipient in await directives.recipients(session, list(dict.fromkeys(cell_ids))):
        if recipient.channel and recipient.chat_id:
            count = await directives.catch_up(
                session, clock, [recipient.unit_id], recipient.channel, recipient.chat_id
            )
            if count:
                sent[recipient.unit_id] = count
    return sent
