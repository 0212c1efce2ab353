"""What comes back up from the units below a directive was handed to (bot/services/levels.py sends it down): per
unit, as the tree stands today, what its board did, when, how far its cells got and whether it reported upward
for the period open now (`below`, shown in the upper board's «🏛 Cấp dưới»); and the lower board's report upward (`handed_to` finds what it
can report on, `record_report` records it on the handoffs with the figures it was built from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.services import cycles, levels, unit_changes
from bot.services.levels import FORWARDED, HELD, PENDING, REISSUED
from messages import levels as msg
from storage.models import Directive, DirectiveTarget, Handoff, Unit


@dataclass(frozen=True)
class Below:
    """One unit below that received a directive through its board, and how far it got."""

    unit: Unit
    action: str
    acted_at: datetime | None
    reissues: list[Directive]
    cells: int
    reported: int
    reported_up: datetime | None = None
    late_up: bool = False
    merged: list[Unit] = field(default_factory=list)  # the units, merged since, it was handed to
    # the units it was handed to that were split since, each with all it was split into (this one among them)
    split_from: list[tuple[Unit, list[Unit]]] = field(default_factory=list)


async def below(session: AsyncSession, directive_id: int, cycle: int | None = None) -> list[Below]:
    """Per unit the directive was handed to, as the tree stands today (units merged since count toward their
    successor, one row for it; a unit split since toward each successor, by where its cells now are): what its
    board did, when, its cells' progress (on the re-issue's targets when re-issued, on the directive's own under
    the unit when forwarded) and its report upward for period `cycle` (None: the one open now; a report answering
    another period leaves it not reported up). A few queries whatever the number of units below (the province
    benchmark has a hundred)."""
    if cycle is None:
        directive = await session.get(Directive, directive_id)
        cycle = directive.cycle if directive is not None else 1
    rows = (
        await session.execute(
            select(Handoff, Unit)
            .join(Unit, Unit.id == Handoff.unit_id)
            .where(Handoff.directive_id == directive_id)
            .order_by(Unit.name)
        )
    ).all()
    groups: dict[int, tuple[Unit, list[tuple[Handoff, Unit]]]] = {}
    holders: dict[int, list[Unit]] = {}
    for handed, unit in rows:
        holders[unit.id] = await unit_changes.successors(session, unit)
        for now_unit in holders[unit.id]:
            groups.setdefault(now_unit.id, (now_unit, []))[1].append((handed, unit))
    by_reissue, by_holder = await _counts(session, [h for h, _ in rows], holders)
    reissue_ids = [h.reissue_id for h, _ in rows if h.reissue_id]
    reissues = (
        list((await session.scalars(select(Directive).where(Directive.id.in_(reissue_ids)))).all())
        if reissue_ids
        else []
    )
    out = []
    for now_unit, members in groups.values():
        handoffs = [h for h, _ in members]
        actions = {h.action for h in handoffs}
        action = next(a for a in (REISSUED, FORWARDED, PENDING, HELD) if a in actions)
        cells, reported = _tally(handoffs, now_unit, by_reissue, by_holder)
        acted = [h.acted_at for h in handoffs if h.acted_at]
        up = [h.reported_at if reported_for(h, cycle) else None for h in handoffs]
        out.append(
            Below(
                now_unit,
                action,
                max(acted) if acted else None,
                [d for d in reissues if d.id in {h.reissue_id for h in handoffs}],
                cells,
                reported,
                max(a for a in up if a) if all(up) else None,
                any(h.report_late for h in handoffs if reported_for(h, cycle)),
                [u for _, u in members if u.id != now_unit.id and len(holders[u.id]) == 1],
                [(u, holders[u.id]) for _, u in members if len(holders[u.id]) > 1],
            )
        )
    return out


def _tally(
    handoffs: list[Handoff],
    holder: Unit,
    by_reissue: dict[tuple[int, int], tuple[int, int]],
    by_holder: dict[int, tuple[int, int]],
) -> tuple[int, int]:
    """The cells reached and reported now under `holder`, of these handoffs (each re-issue counted on its own
    targets, the forwarded directive once)."""
    cells = sum(by_reissue.get((h.unit_id, holder.id), (0, 0))[0] for h in handoffs)
    reported = sum(by_reissue.get((h.unit_id, holder.id), (0, 0))[1] for h in handoffs)
    if any(h.action == FORWARDED for h in handoffs):
        cells += by_holder.get(holder.id, (0, 0))[0]
        reported += by_holder.get(holder.id, (0, 0))[1]
    return cells, reported


async def _counts(
    session: AsyncSession, handoffs: list[Handoff], holders: dict[int, list[Unit]]
) -> tuple[dict[tuple[int, int], tuple[int, int]], dict[int, tuple[int, int]]]:
    """The cells reached and reported: per (handed unit, holder) for re-issues (a re-issue's targets all lie
    under the unit that sent it, so they are counted by directive; by path only where the unit was split since),
    per holder (the units standing for it today) for forwarded ones (by its path)."""
    by_reissue: dict[tuple[int, int], tuple[int, int]] = {}
    reissued = {h.reissue_id: h.unit_id for h in handoffs if h.action == REISSUED and h.reissue_id}
    whole = [d for d, u in reissued.items() if len(holders[u]) == 1]
    if whole:
        rows = await session.execute(
            select(DirectiveTarget.directive_id, func.count(), func.count(DirectiveTarget.reported_at))
            .where(DirectiveTarget.directive_id.in_(whole))
            .group_by(DirectiveTarget.directive_id)
        )
        for source, cells, reported in rows.all():
            unit_id = reissued[source]
            by_reissue[(unit_id, holders[unit_id][0].id)] = (cells, reported)
    for source, unit_id in reissued.items():
        if len(holders[unit_id]) > 1:
            parts = await _under(session, source, [u.id for u in holders[unit_id]])
            by_reissue.update({(unit_id, holder): counts for holder, counts in parts.items()})
    by_holder: dict[int, tuple[int, int]] = {}
    forwarded = [h for h in handoffs if h.action == FORWARDED]
    for upper_id in {h.directive_id for h in forwarded}:
        units = sorted({u.id for h in forwarded if h.directive_id == upper_id for u in holders[h.unit_id]})
        by_holder.update(await _under(session, upper_id, units))
    return by_reissue, by_holder


async def _under(
    session: AsyncSession, directive_id: int, holder_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Per holder, the directive's targets now under it and how many reported."""
    holder, cell = aliased(Unit), aliased(Unit)
    rows = await session.execute(
        select(holder.id, func.count(), func.count(DirectiveTarget.reported_at))
        .select_from(DirectiveTarget)
        .join(cell, cell.id == DirectiveTarget.unit_id)
        .join(holder, cell.path.startswith(holder.path))
        .where(DirectiveTarget.directive_id == directive_id, holder.id.in_(holder_ids))
        .group_by(holder.id)
    )
    return {unit_id: (cells, reported) for unit_id, cells, reported in rows.all()}


def render_below(rows: list[Below], tz: tzinfo) -> str:
    """The «🏛 Cấp dưới» lines, dated in the users' time zone (an act before 07:00 in Vietnam is the day before
    in UTC)."""
    if not rows:
        return ""
    lines = [msg.BELOW_HEAD]
    for row in rows:
        when = msg.BELOW_WHEN.format(at=msg.day(row.acted_at.astimezone(tz).date())) if row.acted_at else ""
        reissue = "".join(
            msg.BELOW_REISSUE.format(number=d.number or "", deadline=msg.day(d.deadline))
            for d in row.reissues
        )
        name = row.unit.name
        if row.merged:
            name += msg.BELOW_MERGED.format(names=", ".join(u.name for u in row.merged))
        for old, into in row.split_from:
            name += msg.BELOW_SPLIT.format(name=old.name, names=", ".join(u.name for u in into))
        lines.append(
            msg.BELOW_LINE.format(
                unit=name,
                action=msg.ACTIONS[row.action],
                when=when,
                reissue=reissue,
                reported=row.reported,
                cells=row.cells,
                up=_up(row, tz),
            )
        )
    return "\n".join(lines)


def _up(row: Below, tz: tzinfo) -> str:
    if row.reported_up is None:
        return msg.BELOW_NOT_REPORTED
    when = msg.UP_LATE if row.late_up else msg.UP_ON_TIME
    return msg.BELOW_REPORTED.format(at=msg.day(row.reported_up.astimezone(tz).date()), when=when)


# -- the report upward -------------------------------------------------------------------------------------------


async def handed_to(session: AsyncSession, unit_ids: list[int]) -> list[tuple[Handoff, Directive]]:
    """The upper directives handed to these units, or to units merged into them since (or split with them as
    the main successor), newest first; a directive handed to several of those comes once per handoff."""
    if not unit_ids:
        return []
    rows = await session.execute(
        select(Handoff, Directive)
        .join(Directive, Directive.id == Handoff.directive_id)
        .where(Handoff.unit_id.in_(await unit_changes.predecessors(session, unit_ids)))
        .order_by(Handoff.received_at.desc())
    )
    return [(h, d) for h, d in rows.all()]


def source_of(handed: Handoff) -> int | None:
    """The directive the unit's cells reported on: its re-issue, the upper one when forwarded, None before either."""
    if handed.action == REISSUED:
        return handed.reissue_id
    return handed.directive_id if handed.action == FORWARDED else None


def sources_of(handoffs: list[Handoff]) -> list[int]:
    """Every directive the cells of these handoffs' unit reported on (units merged since: each one's re-issue, the
    upper directive once however many forwarded it), the unit's own handoff's first; empty before any acted."""
    return list(dict.fromkeys(s for h in handoffs if (s := source_of(h)) is not None))


async def progress(session: AsyncSession, handoffs: list[Handoff]) -> tuple[int, int]:
    """How many of the cells now under the unit standing for these handoffs (the first one's, today) the
    directive reached, and how many reported."""
    units = {
        u.id: u
        for u in (await session.scalars(select(Unit).where(Unit.id.in_([h.unit_id for h in handoffs])))).all()
    }
    if not units:
        return 0, 0
    holder = await unit_changes.current(session, units[handoffs[0].unit_id])
    holders = {uid: await unit_changes.successors(session, u) for uid, u in units.items()}
    by_reissue, by_holder = await _counts(session, handoffs, holders)
    return _tally(handoffs, holder, by_reissue, by_holder)


async def upper_chats(session: AsyncSession, upper: Directive) -> list[tuple[str, str]]:
    """Where the upper board reads: every joined board member of the unit that sent the upper directive."""
    return await levels.board_chats(session, upper.unit_id) if upper.unit_id else []


def answered_period(upper: Directive, source: Directive | None) -> int:
    """The upper directive's period a report upward answers: the one a re-issue carried out (recorded when it was
    drafted; a re-issue following a recurring upper directive opened one period with each of its, so its open
    one answers as many periods on), else, forwarded, the one open now (whose deadline says whether it is late).
    A unit keeps one report upward per directive, its latest: the upper board adds up from below only for the
    period it answered."""
    kept = (source.meta or {}).get("upper_cycle") if source is not None and source.id != upper.id else None
    if not isinstance(kept, int) or source is None:
        return upper.cycle
    return kept + source.cycle - 1 if cycles.margin_of(source) is not None else kept


def reported_for(handed: Handoff, cycle: int) -> bool:
    """Whether the unit reported up for period `cycle` of the upper directive (a one-off one's is 1)."""
    return handed.reported_at is not None and handed.report_cycle == cycle


def record_report(
    handed: Handoff,
    upper: Directive,
    at: datetime,
    today: date,
    figures: dict[str, Any] | None = None,
    cycle: int = 1,
) -> None:
    """The unit's report upward for period `cycle` is in: when, whether after the upper deadline, and the figures
    it was built from (`rollup.snapshot`: what the upper board adds up from the intermediate reports)."""
    handed.reported_at = at
    handed.report_cycle = cycle
    handed.report_late = upper.deadline is not None and today > upper.deadline
    handed.report_figures = figures
