"""The administrator's view of the units tree (`chibo units list`) and the removal of one unit (`chibo units
remove`).

Removing keeps history intact: a unit that ever received a directive or sent a report is only retired (inactive:
no longer offered or sent to, still shown in past figures), one that never took part is deleted with its roles and
invites, and a unit with units under it is refused until they are moved or removed, so no cell is orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.audit import audit
from bot.services.unit_changes import recompute_tree
from storage.models import Directive, DirectiveTarget, Invite, Person, Report, Role, Unit, UnitSplit


@dataclass(frozen=True)
class TreeLine:
    depth: int
    code: str
    name: str
    is_cell: bool
    active: bool
    secretary: str | None
    merged_into: str | None = None  # code of the successor of a unit merged away
    split_into: tuple[str, ...] = ()  # codes of the successors of a unit split


class Removal(StrEnum):
    DELETED = "deleted"  # never took part: gone with its secretary's role and invites
    RETIRED = "retired"  # has history: inactive, kept for past figures
    HAS_CHILDREN = "has_children"  # refused
    UNKNOWN = "unknown"  # no such code


@dataclass(frozen=True)
class Removed:
    outcome: Removal
    children: int = 0


async def tree(session: AsyncSession) -> list[TreeLine]:
    """Every unit in tree order (parents before children, siblings by code), with its secretary's name."""
    units = list(await session.scalars(select(Unit)))
    secretaries = dict(
        (
            await session.execute(
                select(Role.unit_id, Person.full_name)
                .join(Person, Person.id == Role.person_id)
                .where(Role.kind == "secretary")
            )
        ).all()
    )
    codes = {u.id: u.code for u in units}
    splits: dict[int, list[str]] = {}
    for unit_id, successor_id in (
        await session.execute(select(UnitSplit.unit_id, UnitSplit.successor_id))
    ).all():
        splits.setdefault(unit_id, []).append(codes[successor_id])
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    lines: list[TreeLine] = []
    stack = sorted(children.get(None, []), key=lambda u: u.code, reverse=True)
    depth_of = {u.id: 0 for u in stack}
    while stack:
        unit = stack.pop()
        depth = depth_of[unit.id]
        split_into = tuple(sorted(splits.get(unit.id, [])))
        merged_into = codes.get(unit.successor_id or 0) if not split_into else None
        lines.append(
            TreeLine(
                depth,
                unit.code,
                unit.name,
                unit.is_cell,
                unit.active,
                secretaries.get(unit.id),
                merged_into,
                split_into,
            )
        )
        below = sorted(children.get(unit.id, []), key=lambda u: u.code, reverse=True)
        depth_of.update({u.id: depth + 1 for u in below})
        stack.extend(below)
    return lines


async def remove(session: AsyncSession, clock: Clock, code: str, *, actor: str) -> Removed:
    """Remove the unit `code` as the module's docstring says."""
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        return Removed(Removal.UNKNOWN)
    children = await session.scalar(
        select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id, Unit.active.is_(True))
    )
    if children:
        return Removed(Removal.HAS_CHILDREN, int(children))
    if await _has_history(session, unit.id):
        unit.active = False
        outcome = Removal.RETIRED
    else:
        await session.execute(delete(Invite).where(Invite.unit_id == unit.id))
        await session.execute(delete(Role).where(Role.unit_id == unit.id, Role.kind == "secretary"))
        # Board staff scoped to it still point at it: retire it for them.
        board = await session.scalar(select(Role.id).where(Role.unit_id == unit.id).limit(1))
        # Retired units under it or succeeded by it, or a split it came from, still point at it.
        below = await session.scalar(
            select(Unit.id).where(or_(Unit.parent_id == unit.id, Unit.successor_id == unit.id)).limit(1)
        )
        split = await session.scalar(
            select(UnitSplit.unit_id).where(UnitSplit.successor_id == unit.id).limit(1)
        )
        if board is not None or below is not None or split is not None:
            unit.active = False
            outcome = Removal.RETIRED
        else:
            await session.delete(unit)
            outcome = Removal.DELETED
    await session.flush()
    await recompute_tree(session)
    await audit(session, clock, "unit.remove", actor=actor, details={"code": code, "outcome": outcome.value})
    return Removed(outcome)


async def _has_history(session: AsyncSession, unit_id: int) -> bool:
    for query in (
        select(DirectiveTarget.unit_id).where(DirectiveTarget.unit_id == unit_id),
        select(Report.id).where(Report.unit_id == unit_id),
        select(Directive.id).where(Directive.unit_id == unit_id),
    ):
        if await session.scalar(query.limit(1)) is not None:
            return True
    return False
