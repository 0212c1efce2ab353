"""Progress counts, aggregated in SQL: how many targets of each directive were delivered, acknowledged and
reported within the scope, the same per part of the scope (laggards first), and the first reports that arrived
since a moment (the daily summary's "new since yesterday").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.services.report_data import Counts, UnitStatus
from bot.services.status.scope import Scope, in_scope, targets_in_scope
from bot.services.status.sql import dialect
from storage.models import DirectiveTarget, Report, Unit


def counts_from(by_status: Mapping[str, int]) -> Counts:
    """Cumulative counts from the number of targets in each status."""
    n = defaultdict(int, by_status)
    reported = n[UnitStatus.REPORTED] + n[UnitStatus.REPORTED_LATE]
    acknowledged = reported + n[UnitStatus.ACKNOWLEDGED]
    targeted = sum(n.values())
    return Counts(
        targeted=targeted,
        delivered=acknowledged + n[UnitStatus.DELIVERED],
        acknowledged=acknowledged,
        reported_on_time=n[UnitStatus.REPORTED],
        reported_late=n[UnitStatus.REPORTED_LATE],
        not_reported=targeted - reported,
        blocked=n[UnitStatus.BLOCKED],
        unregistered=n[UnitStatus.UNREGISTERED],
    )


def _progress_columns(t: Any = DirectiveTarget) -> list[ColumnElement[Any]]:
    """Per-status counts as conditional sums, so a GROUP BY needs one key and one pass over the targets. `t` is
    the targets table or a subquery's columns carrying reported_at, late, acknowledged_at and delivery."""

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    unread = and_(t.reported_at.is_(None), t.acknowledged_at.is_(None))
    return [
        func.count(),
        func.count(t.reported_at),
        how_many(and_(t.reported_at.is_not(None), t.late.is_(True))),
        how_many(and_(t.reported_at.is_(None), t.acknowledged_at.is_not(None))),
        how_many(and_(unread, t.delivery == "sent")),
        how_many(and_(unread, t.delivery.in_(("blocked", "failed")))),
        how_many(and_(unread, t.delivery == "unregistered")),
    ]


def _counts_of(values: Sequence[Any]) -> Counts:
    total, reported, late, acknowledged, delivered, blocked, unregistered = (int(v or 0) for v in values)
    rest = total - reported - acknowledged - delivered - blocked - unregistered
    return counts_from(
        {
            UnitStatus.REPORTED: reported - late,
            UnitStatus.REPORTED_LATE: late,
            UnitStatus.ACKNOWLEDGED: acknowledged,
            UnitStatus.DELIVERED: delivered,
            UnitStatus.BLOCKED: blocked,
            UnitStatus.UNREGISTERED: unregistered,
            UnitStatus.PENDING: rest,
        }
    )


async def counts_by_directive(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int]
) -> dict[int, Counts]:
    """Progress of each directive within the scope, from one GROUP BY over the targets."""
    if not directive_ids:
        return {}
    query = (
        targets_in_scope(scope, DirectiveTarget.directive_id, *_progress_columns())
        .where(DirectiveTarget.directive_id.in_(directive_ids))
        .group_by(DirectiveTarget.directive_id)
    )
    found = {row[0]: _counts_of(row[1:]) for row in (await session.execute(query)).all()}
    return {directive_id: found.get(directive_id, Counts()) for directive_id in directive_ids}


async def counts_outside(
    session: AsyncSession, scope: Scope, directive_id: int, paths: Sequence[str]
) -> Counts:
    """Progress of the directive's targets in scope that lie under none of these subtrees (by path): the cells an
    upper board reached directly, beside those of the units below it handed the directive to."""
    query = (
        select(*_progress_columns())
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id == directive_id)
    )
    for path in paths:
        query = query.where(~Unit.path.startswith(path))
    row = (await session.execute(in_scope(query, scope))).one()
    return _counts_of(row)


@dataclass(frozen=True, slots=True)
class Subtree:
    unit_id: int
    name: str
    counts: Counts


async def counts_by_subtree(
    session: AsyncSession, scope: Scope, directive_ids: int | Sequence[int]
) -> list[Subtree]:
    """Progress per part of the scope of a directive (or of several together: a directive's family): the
    children of a single root (a cell directly under it is its own part), or each root when the scope has
    several. Lowest report rate first."""
    if scope.empty:
        return []
    bucket, names = await _bucketing(session, scope)
    t = DirectiveTarget
    ids = [directive_ids] if isinstance(directive_ids, int) else list(directive_ids)
    # Several directives: "+ 0" keeps SQLite from walking every unit and probing each directive for it (a
    # hundred re-issues times ten thousand cells); it reads the directives' targets, then their units.
    unit_of = t.unit_id + literal_column("0") if len(ids) > 1 else t.unit_id
    inner = (
        select(bucket.label("bucket"), t.reported_at, t.late, t.acknowledged_at, t.delivery)
        .select_from(t)
        .join(Unit, Unit.id == unit_of)
        .where(t.directive_id.in_(ids))
    )
    sub = in_scope(inner, scope).subquery()
    rows = await session.execute(select(sub.c.bucket, *_progress_columns(sub.c)).group_by(sub.c.bucket))
    parts = [
        Subtree(int(key), names.get(str(key), str(key)), _counts_of(values))
        for key, *values in rows.all()
        if str(key).isdigit()
    ]
    # The laggards first: that is who the board calls.
    return sorted(parts, key=lambda part: (part.counts.report_rate or 0.0, -part.counts.targeted, part.name))


async def _bucketing(session: AsyncSession, scope: Scope) -> tuple[ColumnElement[Any], dict[str, str]]:
    """A SQL expression naming the part of the scope a unit belongs to (a unit id as text), and the names."""
    if len(scope.roots) == 1:
        root = scope.roots[0]
        children = (await session.execute(select(Unit.id, Unit.name).where(Unit.parent_id == root.id))).all()
        rest = func.substr(Unit.path, len(root.path) + 1)
        if dialect(session) == "postgresql":
            segment: ColumnElement[Any] = func.split_part(rest, "/", 1)
        else:
            segment = func.substr(rest, 1, func.instr(rest, "/") - 1)
        return segment, {str(unit_id): name for unit_id, name in children}
    whens = [(Unit.path.startswith(root.path), literal(str(root.id))) for root in scope.roots]
    return case(*whens, else_=literal("")), {str(root.id): root.name for root in scope.roots}


async def new_reports_since(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Units whose first report arrived after `since`, per directive (an edited report is not new)."""
    if not directive_ids:
        return {}
    # Grouping by an expression rather than the column keeps SQLite from walking the (directive, unit, version)
    # index for its order; it then reads only the recent reports through the submitted_at index.
    directive = (Report.directive_id + literal_column("0")).label("directive")
    query = (
        select(directive, func.count())
        .where(Report.version == 1, Report.submitted_at >= since)
        .group_by(directive)
    )
    query = in_scope(query, scope, join_on=Report.unit_id)
    wanted = set(directive_ids)
    return {key: count for key, count in (await session.execute(query)).all() if key in wanted}
