"""The roster file's column «Thay đổi»: board staff state there, in words, how the tree changed since the last
import, on the row of the unit as it is now: «hợp nhất từ X-TP, X-NC» (or on an old unit's own row «sáp nhập vào
X-MOI»), «tách từ X-TP» (on each new unit's row; the first one takes the board staff), «đổi tên từ X-TP» (a unit
whose code changed). A plain rename or a move needs no words: the name or the parent column changed. Everything is
checked together before anything is written (a unit changed twice, still listed, or left as a parent is refused
with its row and reason), then applied through bot/services/unit_changes.py, the one owner of tree changes, which
the `chibo units` commands use too. After the changes, whichever way they were made, `settle` hands the directives
held for a retired unit to its successor's board if it has joined, and says whose secretary role ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.textnorm import fold
from bot.services import cell_targets, levels, unit_changes
from messages import roster as msg
from storage.models import Role, Unit

if TYPE_CHECKING:
    from bot.services.roster import RosterRow

MERGE, SPLIT, RECODE = "merge", "split", "recode"
# The folded words a change starts with: what it is, and whether the row is the old unit («vào») or the new one.
PHRASES: list[tuple[tuple[str, ...], str, bool]] = [
    (("sap", "nhap", "vao"), MERGE, True),
    (("hop", "nhat", "vao"), MERGE, True),
    (("sap", "nhap", "tu"), MERGE, False),
    (("hop", "nhat", "tu"), MERGE, False),
    (("tach", "tu"), SPLIT, False),
    (("doi", "ten", "tu"), RECODE, False),
    (("doi", "ma", "tu"), RECODE, False),
]

Problem = tuple[int, str, str]  # line, code, reason (bot/services/roster.py makes its Problem of it)


@dataclass(frozen=True)
class Change:
    kind: str
    source: str  # the unit that retires
    into: str  # the unit that stands for it (one of them, for a split)
    line: int


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    old_rows: set[int] = field(default_factory=set)  # lines of rows that only say their unit merged away

    def retiring(self) -> dict[str, Change]:
        return {c.source: c for c in self.changes}


def read(rows: list[RosterRow]) -> tuple[Plan, list[Problem]]:
    """The changes the file states, and the rows whose change cannot be read."""
    plan, problems = Plan(), []
    for row in rows:
        if not row.change:
            continue
        words = row.change.replace(",", " , ").replace(";", " , ").split()
        folded = [fold(w) for w in words]
        found = next(
            (p for p in PHRASES if tuple(folded[: len(p[0])]) == p[0] and len(words) > len(p[0])), None
        )
        if found is None:
            problems.append((row.line, row.code, msg.CHANGE_UNKNOWN.format(value=row.change)))
            continue
        phrase, kind, old_row = found
        codes = [w for w in words[len(phrase) :] if w != "," and fold(w) != "va"]
        if old_row:
            plan.old_rows.add(row.line)
            plan.changes += [Change(kind, row.code, code, row.line) for code in codes[:1]]
        else:
            plan.changes += [Change(kind, code, row.code, row.line) for code in codes]
    return plan, problems


def pending(plan: Plan, existing: dict[str, Unit]) -> Plan:
    """The changes not made yet: a file imported again (its source retired into the same successor) changes
    nothing the second time."""
    by_id = {u.id: u.code for u in existing.values()}
    intos: dict[str, set[str]] = {}
    for change in plan.changes:
        intos.setdefault(change.source, set()).add(change.into)

    def done(change: Change) -> bool:
        source = existing.get(change.source)
        return (
            source is not None
            and not source.active
            and by_id.get(source.successor_id or 0) in intos[change.source]
        )

    return Plan([c for c in plan.changes if not done(c)], plan.old_rows)


def check(plan: Plan, rows: list[RosterRow], existing: dict[str, Unit]) -> list[Problem]:
    """Contradictions between the changes, the rows and the tree as it is."""
    problems: list[Problem] = []
    first: dict[str, Change] = {}
    for change in plan.changes:
        what = msg.CHANGE_WHAT[change.kind]
        source = existing.get(change.source)
        if change.source == change.into:
            problems.append((change.line, change.source, msg.CHANGE_INTO_ITSELF.format(what=what)))
        elif source is None:
            problems.append(
                (
                    change.line,
                    change.source,
                    msg.CHANGE_NO_UNIT.format(
                        code=change.source, what=what, what_en=msg.CHANGE_WHAT_EN[change.kind]
                    ),
                )
            )
        elif not source.active:
            problems.append((change.line, change.source, msg.CHANGE_RETIRED.format(code=change.source)))
        earlier = first.setdefault(change.source, change)
        if earlier.kind != change.kind or (earlier.kind != SPLIT and earlier.into != change.into):
            problems.append(
                (
                    change.line,
                    change.source,
                    msg.CHANGE_TWO_WAYS.format(
                        code=change.source,
                        first=_said(earlier),
                        second=_said(change),
                    ),
                )
            )
    retiring = plan.retiring()
    in_file = {r.code for r in rows if r.line not in plan.old_rows}
    for change in plan.changes:
        if change.into in retiring:
            problems.append((change.line, change.source, msg.CHANGE_TARGET_CHANGED.format(into=change.into)))
        elif change.into not in in_file and change.into not in existing:
            problems.append(
                (change.line, change.source, msg.CHANGE_MERGE_INTO_MISSING.format(into=change.into))
            )
    for code, change in first.items():
        if change.kind == SPLIT and len({c.into for c in plan.changes if c.source == code}) < 2:
            problems.append((change.line, code, msg.CHANGE_SPLIT_ONE.format(code=code)))
    for row in rows:
        if row.line in plan.old_rows:
            continue
        if row.code in retiring:
            what = _said(retiring[row.code])
            problems.append(
                (row.line, row.code, msg.CHANGE_STILL_LISTED.format(code=row.code, what=what, line=row.line))
            )
        if row.parent in retiring:
            what = _said(retiring[row.parent])
            problems.append(
                (row.line, row.code, msg.CHANGE_UNDER_RETIRED.format(parent=row.parent, what=what))
            )
    return problems


def _said(change: Change) -> str:
    return msg.CHANGE_SAID[change.kind].format(into=change.into)


def targets(plan: Plan) -> set[str]:
    """Codes that take over from a retiring unit: not reporting cells until their change makes them one (a merge
    of cells, unit_changes.merge)."""
    return {c.into for c in plan.changes}


@dataclass
class Applied:
    """What `apply` did: a line per change, the secretary roles that ended and the cells that took over open
    directives (both for `settle`)."""

    lines: list[str] = field(default_factory=list)
    ended: list[unit_changes.Ended] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)


async def apply(session: AsyncSession, clock: Clock, plan: Plan, rows: list[RosterRow]) -> Applied:
    """Carry the changes out (the units they go into exist already: the import created the new ones), in file
    order (for `settle`, once the file's rows named the successors' secretaries). A change the tree refuses raises
    unit_changes.TreeChangeError."""
    parent_in_file = {r.code: r.parent for r in rows if r.line not in plan.old_rows}
    out = Applied()
    lines, ended = out.lines, out.ended
    done: set[str] = set()
    for change in plan.changes:
        if change.source in done:
            continue
        same = [c for c in plan.changes if c.source == change.source]
        if change.kind == SPLIT:
            into = list(dict.fromkeys(c.into for c in same))
            source = await session.scalar(select(Unit).where(Unit.code == change.source))
            assert source is not None  # checked before
            children = (
                await session.scalars(
                    select(Unit.code).where(Unit.parent_id == source.id, Unit.active.is_(True))
                )
            ).all()
            placed = {c: p for c in children if (p := parent_in_file.get(c)) is not None}
            divided = await unit_changes.split(
                session, clock, change.source, [(c, None) for c in into], placed, actor="roster"
            )
            ended += divided.ended
            out.cells += carried_to(divided)
            lines += carried_lines(divided)
            lines.append(msg.CHANGE_SPLIT.format(code=change.source, into=", ".join(into)))
            done.add(change.source)
            continue
        sources = [c.source for c in plan.changes if c.kind == change.kind and c.into == change.into]
        merged = await unit_changes.merge(session, clock, sources, change.into, name=None, actor="roster")
        done.update(sources)
        ended += merged.ended
        out.cells += carried_to(merged)
        lines += carried_lines(merged)
        if change.kind == RECODE:
            lines.append(
                msg.CHANGE_RECODED.format(code=change.source, into=change.into, name=merged.into.name)
            )
        else:
            lines.append(msg.CHANGE_MERGED.format(codes=", ".join(sources), into=change.into))
    return out


def carried_lines(change: unit_changes.Merged | unit_changes.Divided) -> list[str]:
    """What a merge or a split of cells carried over, a line per cell that takes part."""
    if isinstance(change, unit_changes.Merged):
        codes, into = [u.code for u in change.retired], [change.into]
    else:
        codes, into = [change.unit.code], [u for u in change.into if u.is_cell]
    return [
        msg.CELL_DIRECTIVES_CARRIED.format(into=u.code, count=change.carried, codes=", ".join(codes))
        for u in into
        if change.carried
    ]


def carried_to(change: unit_changes.Merged | unit_changes.Divided) -> list[int]:
    """The cells a merge or a split gave open directives to (`settle` delivers their cards)."""
    if not change.carried:
        return []
    units = [change.into] if isinstance(change, unit_changes.Merged) else change.into
    return [u.id for u in units if u.is_cell]


async def settle(
    session: AsyncSession, clock: Clock, ended: list[unit_changes.Ended], cells: list[int]
) -> list[str]:
    """After merges or splits (`chibo units merge|split`, or a roster file once its rows are applied): the
    directives held for a retired unit go to its successor's board now if it has joined (levels.hand_held_on),
    and the open directives carried to the successor `cells` to their secretaries who have joined
    (cell_targets.deliver); what was done, a line each, with each person whose secretary role ended and who leads
    no unit now (one the file named again, on a successor's row, is not)."""
    lines: list[str] = []
    for unit_id, count in (await levels.hand_held_on(session, clock)).items():
        unit = await session.get(Unit, unit_id)
        lines.append(msg.HELD_HANDED.format(count=count, code=unit.code if unit else ""))
    for unit_id, count in (await cell_targets.deliver(session, clock, cells)).items():
        unit = await session.get(Unit, unit_id)
        lines.append(msg.CELL_DIRECTIVES_SENT.format(count=count, code=unit.code if unit else ""))
    leading = set(
        (
            await session.scalars(
                select(Role.person_id).where(
                    Role.kind == "secretary", Role.person_id.in_([e.person_id for e in ended])
                )
            )
        ).all()
    )
    lines += [
        msg.SECRETARY_ENDED.format(name=e.name, code=e.code) for e in ended if e.person_id not in leading
    ]
    return lines
