"""Changes of the units tree with history (the 2025 reform merged, split, renamed and moved thousands of units):
`merge` retires units into a successor (existing, or created beside them) and moves everything under them to it,
`split` retires one unit into several and places each unit under it with one of them, `rename` and `move` change
one unit. Nothing is deleted: directives, targets, reports and handoffs keep the unit they were about, a retired
unit names its main successor (`Unit.successor_id`: its board staff went there) and a split one every successor
(`UnitSplit`), so a campaign opened before the change still adds up under the units that stand for it today
(`successors`; bot/services/levels.py groups by them). The CLI (`chibo units ...`) and the roster import
(bot/services/roster_changes.py) both change the tree through this module. Cells merge into a reporting cell and a
cell splits into cells: what they were asked and had not answered is asked of the cells that stand for them now
(bot/services/cell_targets.py); committees merge into a committee, and a mix of both is refused.

Who leads what after a change (docs/design.md, Levels): the board staff of a retired unit staff its main successor
(a merge's successor, a split's first one), as the directives handed to it are that board's to act on and report
about now. A secretary is a post in one unit: the retired unit's secretary role ends with it (`Ended`), so they
neither receive nor act for it any more; the successor's secretary is the one the roster file names on its row
(the same person again if so), as for any unit."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import cell_targets
from bot.services.audit import audit
from messages import roster as msg
from storage.models import Invite, Person, Role, Unit, UnitSplit

MAX_CHAIN = 32  # successors followed at most (a cycle is a data error, never a hang)


class TreeChangeError(ValueError):
    """A change refused: `str()` is the code at fault; `reason`, when given, the administrator's text saying why
    (codes unknown, units with different parents, a move into itself, a child of a split unit left unplaced)."""

    def __init__(self, code: str, reason: str | None = None) -> None:
        super().__init__(code)
        self.reason = reason


@dataclass(frozen=True)
class Ended:
    """A secretary role that ended with its unit's retirement."""

    code: str  # the retired unit
    person_id: int
    name: str


@dataclass(frozen=True)
class Merged:
    into: Unit
    retired: list[Unit]
    moved: int  # units moved under the successor
    ended: list[Ended] = field(default_factory=list)
    carried: int = 0  # open directives the merged cells had: now asked of the successor cell (cell_targets)


@dataclass(frozen=True)
class Divided:
    unit: Unit  # retired
    into: list[Unit]  # the main successor first
    placed: dict[str, str]  # code of each unit that was under it: code of the successor it is under now
    ended: list[Ended] = field(default_factory=list)
    carried: int = 0  # open directives the split cell had not reported: now asked of each new cell


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


async def successors(session: AsyncSession, unit: Unit, _seen: frozenset[int] = frozenset()) -> list[Unit]:
    """The units that stand for `unit` today: itself; its successor (and so on) after a merge; every successor
    after a split (the main one first)."""
    if unit.successor_id is None or unit.id in _seen or len(_seen) >= MAX_CHAIN:
        return [unit]
    seen = _seen | {unit.id}
    split_into = list(
        (await session.scalars(select(UnitSplit.successor_id).where(UnitSplit.unit_id == unit.id))).all()
    )
    ids = [unit.successor_id, *sorted(i for i in split_into if i != unit.successor_id)]
    out: list[Unit] = []
    for successor_id in ids:
        successor = await session.get(Unit, successor_id)
        if successor is None:
            continue
        out.extend(u for u in await successors(session, successor, seen) if u not in out)
    return out or [unit]


async def predecessors(session: AsyncSession, unit_ids: list[int]) -> list[int]:
    """These units and every retired unit whose main successor they are, however many changes ago (what was
    handed to those is now theirs to act on and report about)."""
    rows = (
        await session.execute(select(Unit.id, Unit.successor_id).where(Unit.successor_id.is_not(None)))
    ).all()
    before: dict[int, list[int]] = {}
    for unit_id, successor_id in rows:
        if successor_id is not None:
            before.setdefault(successor_id, []).append(unit_id)
    out, todo = list(dict.fromkeys(unit_ids)), list(unit_ids)
    while todo:
        for earlier in before.get(todo.pop(), []):
            if earlier not in out:
                out.append(earlier)
                todo.append(earlier)
    return out


async def merge(
    session: AsyncSession, clock: Clock, codes: list[str], into: str, *, name: str | None, actor: str
) -> Merged:
    """Retire the units `codes` into `into` (created beside them with `name` when it does not exist): their
    children, board staff and roles move to it. Cells merge into a cell, which takes over their open directives
    (bot/services/cell_targets.py); committees into a committee; a mix is refused."""
    sources = [await _by_code(session, code) for code in codes]
    target = await session.scalar(select(Unit).where(Unit.code == into))
    cells = await _merging_cells(session, sources, target, into)
    if target is None:
        parents = {u.parent_id for u in sources}
        if not name or len(parents) != 1:
            raise TreeChangeError(into)
        target = Unit(
            code=into, name=name, kind=sources[0].kind, parent_id=sources[0].parent_id, is_cell=cells
        )
        session.add(target)
        await session.flush()
    if any(u.id == target.id for u in sources):
        raise TreeChangeError(into)
    ids = [u.id for u in sources]
    moved = await session.execute(update(Unit).where(Unit.parent_id.in_(ids)).values(parent_id=target.id))
    await _move_board_roles(session, ids, target.id)
    ended = await _end_secretaries(session, sources)
    for unit in sources:
        unit.active, unit.successor_id = False, target.id
    await session.flush()
    await recompute_tree(session)
    carried = 0
    if cells:
        carried = await cell_targets.carry_merged(session, sources, target)
    else:
        for unit in [*sources, target]:
            unit.is_cell = False  # committees, not cells, whatever is left under them
    await audit(
        session,
        clock,
        "unit.merge",
        actor=actor,
        details={
            "from": codes,
            "into": into,
            "name": target.name,
            "secretaries_ended": [e.person_id for e in ended],
            "directives_carried": carried,
        },
    )
    return Merged(target, sources, moved.rowcount or 0, ended, carried)  # type: ignore[attr-defined]


async def _merging_cells(session: AsyncSession, sources: list[Unit], target: Unit | None, into: str) -> bool:
    """Whether this merge is of cells (True) or of committees (False); a mix of both is refused. An existing
    successor with units under it is a committee; one without, a cell or a committee as the merged units are
    (the roster import creates a successor before it merges into it)."""
    kinds = {u.is_cell for u in sources}
    if target is not None:
        has_children = await session.scalar(
            select(Unit.id).where(Unit.parent_id == target.id, Unit.active.is_(True)).limit(1)
        )
        if has_children is not None:
            kinds.add(False)
        elif target.is_cell and target.successor_id is None:
            kinds.add(True)
    if len(kinds) > 1:
        cell_codes = ", ".join(u.code for u in sources if u.is_cell) or into
        raise TreeChangeError(into, msg.MERGE_MIXED.format(cells=cell_codes, into=into))
    return kinds == {True}


async def _move_board_roles(session: AsyncSession, from_ids: list[int], to_id: int) -> None:
    """The board staff of merged units staff their successor (a person's role there already: one kept), and
    their join codes not used yet name it."""
    roles = (
        await session.scalars(select(Role).where(Role.unit_id.in_(from_ids), Role.kind == "board"))
    ).all()
    have = set(
        (
            await session.scalars(select(Role.person_id).where(Role.unit_id == to_id, Role.kind == "board"))
        ).all()
    )
    # A join code sent to a board member before the change still works: it names the unit the role is on now.
    await session.execute(
        update(Invite)
        .where(Invite.unit_id.in_(from_ids), Invite.role_kind == "board", Invite.used_at.is_(None))
        .values(unit_id=to_id)
    )
    for role in roles:
        if role.person_id in have:
            await session.execute(delete(Role).where(Role.id == role.id))
        else:
            role.unit_id = to_id
            have.add(role.person_id)


async def _end_secretaries(session: AsyncSession, units: list[Unit]) -> list[Ended]:
    """The secretary roles of units retiring end with them (the module's docstring says why)."""
    codes = {u.id: u.code for u in units}
    rows = (
        await session.execute(
            select(Role.id, Role.unit_id, Person.id, Person.full_name)
            .join(Person, Person.id == Role.person_id)
            .where(Role.unit_id.in_(list(codes)), Role.kind == "secretary")
            .order_by(Role.unit_id, Person.full_name)
        )
    ).all()
    if rows:
        await session.execute(delete(Role).where(Role.id.in_([role_id for role_id, *_ in rows])))
    return [Ended(codes[unit_id or 0], person_id, name) for _, unit_id, person_id, name in rows]


async def split(
    session: AsyncSession,
    clock: Clock,
    code: str,
    into: list[tuple[str, str | None]],
    placed: dict[str, str],
    *,
    actor: str,
) -> Divided:
    """Retire the unit `code` into the successors `into` ((code, name): created beside it when new, the first
    the main one, which its board staff joins); `placed` puts each unit under it (code: successor code), and
    every one must be placed. Refused with the reason otherwise, before anything changes."""
    unit = await _by_code(session, code)
    children = {
        u.code: u
        for u in (
            await session.scalars(select(Unit).where(Unit.parent_id == unit.id, Unit.active.is_(True)))
        ).all()
    }
    targets = await _split_targets(session, unit, into)
    _check_placed(code, children, placed, [c for c, _ in into])
    now_units: list[Unit] = []
    for (new_code, name), existing in zip(into, targets, strict=True):
        if existing is None:
            assert name is not None
            existing = Unit(
                code=new_code,
                name=name,
                kind=unit.kind,
                parent_id=unit.parent_id,
                is_cell=not children,
                path="/",
            )
            session.add(existing)
        now_units.append(existing)
    await session.flush()
    by_code = {u.code: u for u in now_units}
    for child_code, successor_code in placed.items():
        children[child_code].parent_id = by_code[successor_code].id
    main = now_units[0]
    await _move_board_roles(session, [unit.id], main.id)
    ended = await _end_secretaries(session, [unit])
    unit.active, unit.successor_id = False, main.id
    at = clock.now()
    session.add_all(UnitSplit(unit_id=unit.id, successor_id=u.id, split_at=at) for u in now_units)
    await session.flush()
    await recompute_tree(session)
    carried = 0
    if not children:  # a cell split into cells: each is asked what it had not reported
        carried = await cell_targets.carry_split(session, unit, [u for u in now_units if u.is_cell])
    await audit(
        session,
        clock,
        "unit.split",
        actor=actor,
        details={
            "code": code,
            "into": [u.code for u in now_units],
            "placed": placed,
            "secretaries_ended": [e.person_id for e in ended],
            "directives_carried": carried,
        },
    )
    return Divided(unit, now_units, dict(placed), ended, carried)


async def _split_targets(
    session: AsyncSession, unit: Unit, into: list[tuple[str, str | None]]
) -> list[Unit | None]:
    """The existing successors among `into` (None where one is new), each checked."""
    codes = [c for c, _ in into]
    if not unit.active:
        raise TreeChangeError(unit.code, msg.SPLIT_RETIRED.format(code=unit.code))
    if len(set(codes)) < 2 or len(set(codes)) != len(codes):
        raise TreeChangeError(unit.code, msg.SPLIT_TOO_FEW.format(code=unit.code))
    out: list[Unit | None] = []
    for new_code, name in into:
        existing = await session.scalar(select(Unit).where(Unit.code == new_code))
        if existing is None and not name:
            raise TreeChangeError(new_code, msg.SPLIT_NEEDS_NAME.format(code=new_code))
        if existing is not None and (not existing.active or existing.path.startswith(unit.path)):
            raise TreeChangeError(new_code, msg.SPLIT_BAD_SUCCESSOR.format(code=new_code, unit=unit.code))
        out.append(existing)
    return out


def _check_placed(code: str, children: dict[str, Unit], placed: dict[str, str], into: list[str]) -> None:
    """Every unit under the split one goes to exactly one of its successors, each successor gets one at least."""
    for child, successor in placed.items():
        if child not in children:
            raise TreeChangeError(child, msg.SPLIT_NOT_CHILD.format(child=child, code=code))
        if successor not in into:
            raise TreeChangeError(successor, msg.SPLIT_NOT_SUCCESSOR.format(child=child, successor=successor))
    unplaced = sorted(c for c in children if c not in placed)
    if unplaced:
        raise TreeChangeError(code, msg.SPLIT_UNPLACED.format(code=code, codes=", ".join(unplaced)))
    empty = [s for s in into if children and s not in placed.values()]
    if empty:
        raise TreeChangeError(empty[0], msg.SPLIT_EMPTY.format(successor=empty[0], code=code))


async def rename(session: AsyncSession, clock: Clock, code: str, name: str, *, actor: str) -> Unit:
    unit = await _by_code(session, code)
    old, unit.name = unit.name, name
    await audit(session, clock, "unit.rename", actor=actor, details={"code": code, "from": old, "to": name})
    return unit


async def move(session: AsyncSession, clock: Clock, code: str, parent: str, *, actor: str) -> Unit:
    unit, new_parent = await _by_code(session, code), await _by_code(session, parent)
    if new_parent.path.startswith(unit.path):
        raise TreeChangeError(parent)
    await reparent(session, clock, unit, new_parent, actor=actor)
    await session.flush()
    await recompute_tree(session)
    return unit


async def reparent(
    session: AsyncSession, clock: Clock, unit: Unit, parent: Unit | None, *, actor: str
) -> None:
    """Put `unit` under `parent` (None: at the top) and audit it; the caller checked for loops and refreshes the
    tree's paths (once for a whole roster file, not once per unit)."""
    old_parent, unit.parent_id = unit.parent_id, parent.id if parent else None
    await audit(
        session,
        clock,
        "unit.move",
        actor=actor,
        details={"code": unit.code, "from": old_parent, "to": unit.parent_id},
    )


async def recompute_tree(session: AsyncSession) -> None:
    """Refresh every unit's materialised path, depth and whether it is a reporting cell (a leaf)."""
    units = (await session.scalars(select(Unit))).all()
    by_id = {u.id: u for u in units}
    has_children = {u.parent_id for u in units if u.parent_id is not None and u.active}

    def path_of(unit: Unit) -> list[int]:
        chain = [unit.id]
        parent = unit.parent_id
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = by_id[parent].parent_id
        return list(reversed(chain))

    for unit in units:
        chain = path_of(unit)
        path = "/" + "/".join(str(i) for i in chain) + "/"
        if unit.path != path:
            unit.path = path
        if unit.depth != len(chain) - 1:
            unit.depth = len(chain) - 1
        # A unit retired by a change (merged or split: it has a successor) is never a reporting leaf again.
        is_cell = unit.id not in has_children and unit.successor_id is None
        if unit.is_cell != is_cell:
            unit.is_cell = is_cell
