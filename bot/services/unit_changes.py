"""Changes of the units tree with history (the 2025 reform merged, renamed and moved thousands of units):
`merge` retires units into a successor (existing, or created beside them) and moves everything under them to it,
`rename` and `move` change one unit. Nothing is deleted: directives, targets, reports and handoffs keep the unit
they were about, and a retired unit names its successor (`Unit.successor_id`), so a campaign opened before the
change still adds up under the successor (bot/services/levels.py groups by it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.audit import audit
from bot.services.roster import recompute_tree
from storage.models import Role, Unit

MAX_CHAIN = 32  # successors followed at most (a cycle is a data error, never a hang)


class TreeChangeError(ValueError):
    """A change refused; its text says why (codes unknown, units with different parents, a move into itself)."""


@dataclass(frozen=True)
class Merged:
    into: Unit
    retired: list[Unit]
    moved: int  # units moved under the successor


async def _by_code(session: AsyncSession, code: str) -> Unit:
    unit = await session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise TreeChangeError(code)
    return unit


async def current(session: AsyncSession, unit: Unit) -> Unit:
    """The unit that stands for `unit` today: itself, or its successor's successor and so on."""
    seen = {unit.id}
    while unit.successor_id is not None and len(seen) < MAX_CHAIN:
        successor = await session.get(Unit, unit.successor_id)
        if successor is None or successor.id in seen:
            break
        seen.add(successor.id)
        unit = successor
    return unit


async def merge(
    session: AsyncSession, clock: Clock, codes: list[str], into: str, *, name: str | None, actor: str
) -> Merged:
    """Retire the units `codes` into `into` (created beside them with `name` when it does not exist): their
    children, board staff and roles move to it."""
    sources = [await _by_code(session, code) for code in codes]
    target = await session.scalar(select(Unit).where(Unit.code == into))
    if target is None:
        parents = {u.parent_id for u in sources}
        if not name or len(parents) != 1:
            raise TreeChangeError(into)
        target = Unit(
            code=into, name=name, kind=sources[0].kind, parent_id=sources[0].parent_id, is_cell=False
        )
        session.add(target)
        await session.flush()
    if any(u.id == target.id for u in sources):
        raise TreeChangeError(into)
    ids = [u.id for u in sources]
    moved = await session.execute(update(Unit).where(Unit.parent_id.in_(ids)).values(parent_id=target.id))
    await _move_board_roles(session, ids, target.id)
    for unit in sources:
        unit.active, unit.successor_id = False, target.id
    await session.flush()
    await recompute_tree(session)
    for unit in [*sources, target]:
        unit.is_cell = False  # committees, not cells, whatever is left under them
    await audit(
        session,
        clock,
        "unit.merge",
        actor=actor,
        details={"from": codes, "into": into, "name": target.name},
    )
    return Merged(target, sources, moved.rowcount or 0)  # type: ignore[attr-defined]


async def _move_board_roles(session: AsyncSession, from_ids: list[int], to_id: int) -> None:
    """The board staff of merged units staff their successor (a person's role there already: one kept)."""
    roles = (
        await session.scalars(select(Role).where(Role.unit_id.in_(from_ids), Role.kind == "board"))
    ).all()
    have = set(
        (
            await session.scalars(select(Role.person_id).where(Role.unit_id == to_id, Role.kind == "board"))
        ).all()
    )
    for role in roles:
        if role.person_id in have:
            await session.execute(delete(Role).where(Role.id == role.id))
        else:
            role.unit_id = to_id
            have.add(role.person_id)


async def rename(session: AsyncSession, clock: Clock, code: str, name: str, *, actor: str) -> Unit:
    unit = await _by_code(session, code)
    old, unit.name = unit.name, name
    await audit(session, clock, "unit.rename", actor=actor, details={"code": code, "from": old, "to": name})
    return unit


async def move(session: AsyncSession, clock: Clock, code: str, parent: str, *, actor: str) -> Unit:
    unit, new_parent = await _by_code(session, code), await _by_code(session, parent)
    if new_parent.path.startswith(unit.path):
        raise TreeChangeError(parent)
    old_parent, unit.parent_id = unit.parent_id, new_parent.id
    await session.flush()
    await recompute_tree(session)
    await audit(
        session,
        clock,
        "unit.move",
        actor=actor,
        details={"code": code, "from": old_parent, "to": new_parent.id},
    )
    return unit
