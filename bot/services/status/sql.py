"""SQL pieces the status queries share: the tree order units are listed in, a target's status, a unit's
secretary, reads of a report's JSON values that work on PostgreSQL and SQLite alike, and the latest reports in
scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.services.report_data import UnitStatus
from bot.services.status.scope import Scope, in_scope
from storage.models import DirectiveTarget, Report, Role, Unit

# Units are listed grouped under their parent, alphabetically within it ("/1/10/" sorts before "/1/2/", so the
# materialised path alone would not read in order).
Parent = aliased(Unit)
TREE_ORDER = (Parent.path, Unit.name, Unit.id)


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def status_of_target() -> ColumnElement[str]:
    """A target's status, best first: the same order as `UnitStatus`."""
    t = DirectiveTarget
    return case(
        (and_(t.reported_at.is_not(None), t.late.is_(True)), UnitStatus.REPORTED_LATE.value),
        (t.reported_at.is_not(None), UnitStatus.REPORTED.value),
        (t.acknowledged_at.is_not(None), UnitStatus.ACKNOWLEDGED.value),
        (t.delivery == "sent", UnitStatus.DELIVERED.value),
        (t.delivery.in_(("blocked", "failed")), UnitStatus.BLOCKED.value),
        (t.delivery == "unregistered", UnitStatus.UNREGISTERED.value),
        else_=UnitStatus.PENDING.value,
    )


def secretary_id_of_unit() -> Any:
    """The unit's first secretary (a cell may list a deputy too), as a correlated subquery."""
    return (
        select(Role.person_id)
        .where(Role.unit_id == Unit.id, Role.kind == "secretary")
        .order_by(Role.person_id)
        .limit(1)
        .scalar_subquery()
    )


class JsonValues:
    """Reads of a report's JSON values in SQL that never break a query on a malformed report. PostgreSQL casts
    only values of the right JSON type (anything else reads as NULL); SQLite's json_extract never fails and its
    SUM reads a non-number as 0, so there the type check is left out of the sums, which keeps them to one parse
    per value."""

    def __init__(self, dialect: str, column: Any) -> None:
        self.postgres = dialect == "postgresql"
        self.column = column

    def number(self, *path: str) -> ColumnElement[Any]:
        if self.postgres:
            node = func.jsonb_extract_path(self.column, *path)
            text = func.jsonb_extract_path_text(self.column, *path)
            return case((func.jsonb_typeof(node) == "number", cast(text, Float)), else_=None)
        return func.json_extract(self.column, _sqlite_path(path))

    def text(self, *path: str) -> ColumnElement[Any]:
        """A string value, or NULL for any other JSON type."""
        if self.postgres:
            node = func.jsonb_extract_path(self.column, *path)
            text = func.jsonb_extract_path_text(self.column, *path)
            return case((func.jsonb_typeof(node) == "string", text), else_=None)
        json_path = _sqlite_path(path)
        return case(
            (func.json_type(self.column, json_path) == "text", func.json_extract(self.column, json_path)),
            else_=None,
        )

    def option(self, *path: str) -> ColumnElement[Any]:
        """A value to group on; non-strings are dropped by the caller (cheaper than checking in SQLite)."""
        if self.postgres:
            return self.text(*path)
        return func.json_extract(self.column, _sqlite_path(path))


def _sqlite_path(path: Sequence[str]) -> str:
    return "$" + "".join(f'."{key}"' for key in path)


def counted(cycle: int | None = None, report: Any = Report) -> ColumnElement[bool]:
    """The report version that counts: the latest of the period now open, or with `cycle` (a recurring
    directive's closed period, bot.services.cycles) the newest one submitted in that period."""
    if cycle is None:
        return report.is_latest.is_(True)
    newer = aliased(Report)
    newest = (
        select(func.max(newer.id))
        .where(
            newer.directive_id == report.directive_id, newer.unit_id == report.unit_id, newer.cycle == cycle
        )
        .scalar_subquery()
    )
    return and_(report.cycle == cycle, report.id == newest)


def latest_reports(
    session: AsyncSession,
    scope: Scope,
    directive_ids: Sequence[int],
    *,
    since: datetime | None = None,
    cycle: int | None = None,
) -> Any:
    """The latest reports of the directives in scope (sent since `since`; of period `cycle`), as a CTE. On PostgreSQL the values
    are cast to JSONB once per row and the CTE is materialised, so the planner cannot inline the cast into every
    field read (which would parse each report's JSON once per field)."""
    postgres = dialect(session) == "postgresql"
    values: Any = cast(Report.values, JSONB) if postgres else Report.values
    query = select(
        Report.directive_id,
        Report.unit_id,
        Report.version,
        Report.submitted_at,
        values.label("v"),
    ).where(Report.directive_id.in_(directive_ids), counted(cycle))
    if since is not None:
        query = query.where(Report.submitted_at >= since)
    latest = in_scope(query, scope, join_on=Report.unit_id).cte("latest_reports")
    return latest.prefix_with("MATERIALIZED") if postgres else latest
