"""Where the board's directives stand, aggregated in SQL so it scales to a province: progress counts per directive
and per subtree, the units still missing (paged, with their secretary), the report form's figures, quotes from
free-text answers, and the per-unit snapshot (`ReportData`) the Excel export and the Word draft are built from.

Every query is limited to a board member's `Scope`; a scope covering every top unit skips the filter entirely.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, false, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.core.textnorm import fold
from bot.services import directives as directive_service
from bot.services.forms import FieldSpec, FieldType, FormSpec
from bot.services.forms_store import get_form
from bot.services.report_data import (
    Aggregates,
    Counts,
    DirectiveSummary,
    FormField,
    Quote,
    Ratio,
    ReportData,
    Signature,
    UnitRow,
    UnitStatus,
)
from messages import board as msg
from messages.directives import KIND_DEFAULT, KINDS
from messages.documents import EMPTY_ANSWERS, format_number, format_percent
from storage.models import Directive, DirectiveTarget, Person, Reminder, Report, Role, Unit

SENT_STATES = ("sending", "sent")
OPEN_DAYS_AFTER_DEADLINE = 30  # a directive stays on the board's list this long after its deadline
QUOTE_SCAN = 400  # free-text answers read per query; empty ones ("không có") are dropped afterwards
QUOTE_LIMIT = 40
ESCALATE_RULE = "escalate"

# Units are listed grouped under their parent, alphabetically within it ("/1/10/" sorts before "/1/2/", so the
# materialised path alone would not read in order).
Parent = aliased(Unit)
TREE_ORDER = (Parent.path, Unit.name, Unit.id)


# --- Scope -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeRoot:
    id: int
    path: str
    name: str


@dataclass(frozen=True, slots=True)
class Scope:
    """The subtrees a board member oversees. `everything` means no unit filter is needed at all."""

    roots: tuple[ScopeRoot, ...]
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not self.roots

    @property
    def names(self) -> list[str]:
        return [root.name for root in self.roots]

    def unit_filter(self) -> ColumnElement[bool] | None:
        """A condition on `Unit.path`, or None when every unit is in scope."""
        if self.everything:
            return None
        if not self.roots:
            return false()
        return or_(*(Unit.path.startswith(root.path) for root in self.roots))


async def scope_of(session: AsyncSession, roles: Sequence[Role]) -> Scope:
    """The scope of a board member or administrator; empty for anyone else."""
    units = await directive_service.scope_units(session, list(roles))
    return await _scope(session, units)


async def whole_scope(session: AsyncSession) -> Scope:
    """Every unit: the administrator at the shell."""
    tops = (await session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))).all()
    return await _scope(session, list(tops))


async def _scope(session: AsyncSession, units: Sequence[Unit]) -> Scope:
    # A unit inside another chosen unit adds nothing.
    kept = [u for u in units if not any(o.id != u.id and u.path.startswith(o.path) for o in units)]
    roots = tuple(ScopeRoot(u.id, u.path, u.name) for u in kept)
    if not roots:
        return Scope(())
    tops = set((await session.scalars(select(Unit.id).where(Unit.parent_id.is_(None)))).all())
    return Scope(roots, everything=tops <= {root.id for root in roots})


# --- Finding directives ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lookup:
    """The directives a board member's text names: one (found), several (ambiguous) or none."""

    matches: list[Directive]
    recent: list[Directive]

    @property
    def found(self) -> Directive | None:
        return self.matches[0] if len(self.matches) == 1 else None


_DASHES = re.compile(r"[–—‐−]")
_SPACES = re.compile(r"\s+")
_LEADING_DIGITS = re.compile(r"\d+")


def normalize_number(text: str) -> str:
    """ "747 – CV/ĐUK" -> "747-cv/duk": how a typed number is compared with the stored one."""
    return _SPACES.sub("", _DASHES.sub("-", fold(text)))


def match_number(query: str, numbers: Mapping[int, str]) -> list[int]:
    """Ids whose number matches `query`: the exact number, else the same leading number ("747"), else any
    number containing the query. The first level with a match wins, so "747" is not ambiguous with "1747"."""
    wanted = normalize_number(query)
    if not wanted:
        return []
    normalized = {key: normalize_number(number) for key, number in numbers.items()}
    exact = [key for key, number in normalized.items() if number == wanted]
    if exact:
        return exact
    if wanted.isdigit():
        same = [key for key, number in normalized.items() if _leading(number) == wanted.lstrip("0")]
        if same:
            return same
    return [key for key, number in normalized.items() if wanted in number]


def _leading(number: str) -> str:
    found = _LEADING_DIGITS.match(number)
    return found.group().lstrip("0") if found else ""


async def find_directive(session: AsyncSession, scope: Scope, query: str, today: date) -> Lookup:
    """Resolve a typed number ("747", "747-CV", "cv/đuk") among the sent directives in scope."""
    rows = (
        await session.execute(
            select(Directive.id, Directive.number).where(
                Directive.status.in_(SENT_STATES), Directive.number.is_not(None)
            )
        )
    ).all()
    ids = match_number(query, {row.id: row.number for row in rows})
    in_scope = await _with_targets_in_scope(session, scope, ids)
    matches = await _directives(session, [i for i in ids if i in in_scope])
    recent = [] if len(matches) == 1 else await open_directives(session, scope, today)
    return Lookup(matches, recent)


async def directive_in_scope(session: AsyncSession, scope: Scope, directive_id: int) -> Directive | None:
    """The directive, if it was sent and reaches the scope (button presses carry bare ids)."""
    directive = await session.get(Directive, directive_id)
    if directive is None or directive.status not in SENT_STATES:
        return None
    return directive if await _with_targets_in_scope(session, scope, [directive_id]) else None


async def open_directives(session: AsyncSession, scope: Scope, today: date) -> list[Directive]:
    """Sent directives still being followed (no deadline, or at most a month past it), newest first."""
    since = today - timedelta(days=OPEN_DAYS_AFTER_DEADLINE)
    candidates = (
        await session.scalars(
            select(Directive)
            .where(
                Directive.status.in_(SENT_STATES),
                or_(Directive.deadline.is_(None), Directive.deadline >= since),
            )
            .order_by(Directive.sent_at.desc(), Directive.id.desc())
        )
    ).all()
    reach = await _with_targets_in_scope(session, scope, [d.id for d in candidates])
    return [d for d in candidates if d.id in reach]


async def _with_targets_in_scope(session: AsyncSession, scope: Scope, ids: Sequence[int]) -> set[int]:
    if not ids or scope.empty:
        return set()
    where = scope.unit_filter()
    if where is None:
        return set(ids)
    query = (
        select(DirectiveTarget.directive_id)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id.in_(ids), where)
        .distinct()
    )
    return set((await session.scalars(query)).all())


async def _directives(session: AsyncSession, ids: Sequence[int]) -> list[Directive]:
    if not ids:
        return []
    query = select(Directive).where(Directive.id.in_(ids)).order_by(Directive.sent_at.desc(), Directive.id)
    return list((await session.scalars(query)).all())


# --- Progress counts ---------------------------------------------------------------------------------------


def _status_of_target() -> ColumnElement[str]:
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


def _targets(scope: Scope, *columns: Any) -> Select[Any]:
    query = select(*columns).select_from(DirectiveTarget)
    where = scope.unit_filter()
    if where is not None:
        query = query.join(Unit, Unit.id == DirectiveTarget.unit_id).where(where)
    return query


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
        _targets(scope, DirectiveTarget.directive_id, *_progress_columns())
        .where(DirectiveTarget.directive_id.in_(directive_ids))
        .group_by(DirectiveTarget.directive_id)
    )
    found = {row[0]: _counts_of(row[1:]) for row in (await session.execute(query)).all()}
    return {directive_id: found.get(directive_id, Counts()) for directive_id in directive_ids}


@dataclass(frozen=True, slots=True)
class Subtree:
    unit_id: int
    name: str
    counts: Counts


async def counts_by_subtree(session: AsyncSession, scope: Scope, directive_id: int) -> list[Subtree]:
    """Progress per part of the scope: the children of a single root (a cell directly under it is its own
    part), or each root when the scope has several. Lowest report rate first."""
    if scope.empty:
        return []
    bucket, names = await _bucketing(session, scope)
    t = DirectiveTarget
    inner = (
        select(bucket.label("bucket"), t.reported_at, t.late, t.acknowledged_at, t.delivery)
        .select_from(t)
        .join(Unit, Unit.id == t.unit_id)
        .where(t.directive_id == directive_id)
    )
    where = scope.unit_filter()
    if where is not None:
        inner = inner.where(where)
    sub = inner.subquery()
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
        if _dialect(session) == "postgresql":
            segment: ColumnElement[Any] = func.split_part(rest, "/", 1)
        else:
            segment = func.substr(rest, 1, func.instr(rest, "/") - 1)
        return segment, {str(unit_id): name for unit_id, name in children}
    whens = [(Unit.path.startswith(root.path), literal(str(root.id))) for root in scope.roots]
    return case(*whens, else_=literal("")), {str(root.id): root.name for root in scope.roots}


# --- Missing units -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissingUnit:
    unit_id: int
    name: str
    parent_id: int | None
    parent: str
    secretary: str
    phone: str
    status: str


@dataclass(frozen=True, slots=True)
class MissingPage:
    units: list[MissingUnit]
    total: int
    page: int
    pages: int


def secretary_id_of_unit() -> Any:
    """The unit's first secretary (a cell may list a deputy too), as a correlated subquery."""
    return (
        select(Role.person_id)
        .where(Role.unit_id == Unit.id, Role.kind == "secretary")
        .order_by(Role.person_id)
        .limit(1)
        .scalar_subquery()
    )


async def missing_units(
    session: AsyncSession, scope: Scope, directive_id: int, *, page: int = 1, per_page: int = 10
) -> MissingPage:
    """One page of the units in scope that have not reported, in tree order, with their secretary."""
    where = _missing_where(scope, directive_id)
    total = (
        await session.scalar(
            select(func.count())
            .select_from(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(*where)
        )
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    units = await _missing(session, where, offset=(page - 1) * per_page, limit=per_page)
    return MissingPage(units, total, page, pages)


async def all_missing_units(
    session: AsyncSession, scope: Scope, directive_id: int, *, without_rule: str | None = None
) -> list[MissingUnit]:
    """Every unit in scope that has not reported, in tree order, with its secretary; with `without_rule`, only
    those that hold no reminder under that rule yet."""
    where = _missing_where(scope, directive_id)
    if without_rule is not None:
        held = (
            select(Reminder.id)
            .where(
                Reminder.directive_id == DirectiveTarget.directive_id,
                Reminder.unit_id == DirectiveTarget.unit_id,
                Reminder.rule == without_rule,
            )
            .exists()
        )
        where.append(~held)
    return await _missing(session, where)


def _missing_where(scope: Scope, directive_id: int) -> list[ColumnElement[bool]]:
    where = [DirectiveTarget.directive_id == directive_id, DirectiveTarget.reported_at.is_(None)]
    unit_filter = scope.unit_filter()
    if unit_filter is not None:
        where.append(unit_filter)
    return where


async def _missing(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[MissingUnit]:
    secretary = secretary_id_of_unit().label("secretary_id")
    listed = (
        select(
            Unit.id,
            Unit.name,
            Parent.path.label("parent_path"),
            Unit.parent_id,
            _status_of_target().label("status"),
            secretary,
        )
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .outerjoin(Parent, Parent.id == Unit.parent_id)
        .where(*where)
        .order_by(*TREE_ORDER)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = (
        await session.execute(
            select(listed, Person.full_name, Person.phone)
            .outerjoin(Person, Person.id == listed.c.secretary_id)
            .order_by(listed.c.parent_path, listed.c.name, listed.c.id)
        )
    ).all()
    parents = await _names(session, {row.parent_id for row in rows if row.parent_id is not None})
    return [
        MissingUnit(
            unit_id=row.id,
            name=row.name,
            parent_id=row.parent_id,
            parent=parents.get(row.parent_id, "") if row.parent_id is not None else "",
            secretary=row.full_name or "",
            phone=row.phone or "",
            status=row.status,
        )
        for row in rows
    ]


async def _names(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(wanted)))
    return {unit_id: name for unit_id, name in rows.all()}


async def escalated_counts(
    session: AsyncSession, scope: Scope, directives: Sequence[Directive]
) -> dict[int, int]:
    """Units escalated to their parent for each directive's current deadline and still not reported."""
    wanted = [d for d in directives if d.deadline is not None]
    if not wanted:
        return {}
    rules = [escalation_rule(d.deadline) for d in wanted if d.deadline is not None]
    query = (
        _targets(scope, DirectiveTarget.directive_id, func.count())
        .join(
            Reminder,
            and_(
                Reminder.directive_id == DirectiveTarget.directive_id,
                Reminder.unit_id == DirectiveTarget.unit_id,
            ),
        )
        .where(
            DirectiveTarget.directive_id.in_([d.id for d in wanted]),
            DirectiveTarget.reported_at.is_(None),
            Reminder.rule.in_(rules),
        )
        .group_by(DirectiveTarget.directive_id)
    )
    return {directive_id: count for directive_id, count in (await session.execute(query)).all()}


def escalation_rule(deadline: date) -> str:
    """The reminders-table key of an escalation for a deadline (a new deadline escalates afresh)."""
    return f"{ESCALATE_RULE}@{deadline.isoformat()}"


@dataclass(frozen=True, slots=True)
class OverdueUnit:
    name: str
    escalated: bool


async def overdue_units(
    session: AsyncSession, scope: Scope, directive: Directive, limit: int = 8
) -> list[OverdueUnit]:
    """The first units still missing a past-deadline directive, marking those escalated to their parent."""
    if directive.deadline is None:
        return []
    escalated = (
        select(Reminder.id)
        .where(
            Reminder.directive_id == DirectiveTarget.directive_id,
            Reminder.unit_id == DirectiveTarget.unit_id,
            Reminder.rule == escalation_rule(directive.deadline),
        )
        .exists()
    )
    query = (
        select(Unit.name, escalated)
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .outerjoin(Parent, Parent.id == Unit.parent_id)
        .where(DirectiveTarget.directive_id == directive.id, DirectiveTarget.reported_at.is_(None))
        .order_by(*TREE_ORDER)
        .limit(limit)
    )
    where = scope.unit_filter()
    if where is not None:
        query = query.where(where)
    return [OverdueUnit(name, bool(flag)) for name, flag in (await session.execute(query)).all()]


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
    where = scope.unit_filter()
    if where is not None:
        query = query.join(Unit, Unit.id == Report.unit_id).where(where)
    wanted = set(directive_ids)
    return {key: count for key, count in (await session.execute(query)).all() if key in wanted}


# --- Form figures ------------------------------------------------------------------------------------------


class _JsonValues:
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


def _latest_reports(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int], *, since: datetime | None = None
) -> Any:
    """The latest reports of the directives in scope (sent since `since`), as a CTE. On PostgreSQL the values
    are cast to JSONB once per row and the CTE is materialised, so the planner cannot inline the cast into every
    field read (which would parse each report's JSON once per field)."""
    postgres = _dialect(session) == "postgresql"
    values: Any = cast(Report.values, JSONB) if postgres else Report.values
    query = select(
        Report.directive_id,
        Report.unit_id,
        Report.version,
        Report.submitted_at,
        values.label("v"),
    ).where(Report.directive_id.in_(directive_ids), Report.is_latest.is_(True))
    if since is not None:
        query = query.where(Report.submitted_at >= since)
    where = scope.unit_filter()
    if where is not None:
        query = query.join(Unit, Unit.id == Report.unit_id).where(where)
    latest = query.cte("latest_reports")
    return latest.prefix_with("MATERIALIZED") if postgres else latest


async def form_aggregates(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int], form: FormSpec | None
) -> dict[int, Aggregates]:
    """The form's figures for each directive (all asking the same form): report count, sums of number fields,
    summed ratios and option counts of choice fields, over the latest reports in scope. One pass: the rows are
    grouped by directive and chosen options, and the few groups are folded here."""
    if not directive_ids:
        return {}
    fields = form.fields if form is not None else ()
    numbers = [f for f in fields if f.type == FieldType.NUMBER]
    ratios = [f for f in fields if f.type == FieldType.RATIO]
    choices = [f for f in fields if f.type == FieldType.CHOICE]
    reports = _latest_reports(session, scope, directive_ids)
    json = _JsonValues(_dialect(session), reports.c.v)
    values = [json.number(f.key).label(f"n{i}") for i, f in enumerate(numbers)]
    for i, f in enumerate(ratios):
        values += [json.number(f.key, "attended").label(f"a{i}"), json.number(f.key, "total").label(f"t{i}")]
    options = [json.option(f.key).label(f"o{i}") for i, f in enumerate(choices)]
    inner = select(reports.c.directive_id, *options, *values).subquery()
    keys = [inner.c.directive_id, *(inner.c[f"o{i}"] for i in range(len(choices)))]
    sums = [func.sum(inner.c[column.name]) for column in values]
    rows = await session.execute(select(*keys, func.count(), *sums).group_by(*keys))
    figures = {directive_id: _Figures(numbers, ratios, choices) for directive_id in directive_ids}
    for row in rows.all():
        figures[row[0]].add(row[1 : 1 + len(choices)], row[1 + len(choices)], row[2 + len(choices) :])
    return {directive_id: figure.aggregates() for directive_id, figure in figures.items()}


class _Figures:
    """Adds up the grouped rows of one directive."""

    def __init__(
        self, numbers: Sequence[FieldSpec], ratios: Sequence[FieldSpec], choices: Sequence[FieldSpec]
    ):
        self.numbers, self.ratios, self.choices = numbers, ratios, choices
        self.count = 0
        self.sums = [0.0] * (len(numbers) + 2 * len(ratios))
        self.options: list[dict[str, int]] = [dict.fromkeys(f.choices, 0) for f in choices]

    def add(self, options: Sequence[Any], count: int, sums: Sequence[Any]) -> None:
        self.count += count
        self.sums = [total + float(value or 0) for total, value in zip(self.sums, sums, strict=True)]
        for counted, option in zip(self.options, options, strict=True):
            if isinstance(option, str) and option.strip():
                counted[option] = counted.get(option, 0) + count

    def aggregates(self) -> Aggregates:
        plain = [_plain(value) for value in self.sums]
        n = len(self.numbers)
        return Aggregates(
            sessions_held=self.count,
            sums={f.key: plain[i] for i, f in enumerate(self.numbers)},
            ratios={f.key: Ratio(plain[n + 2 * i], plain[n + 2 * i + 1]) for i, f in enumerate(self.ratios)},
            choices={f.key: counted for f, counted in zip(self.choices, self.options, strict=True)},
        )


def _plain(value: Any) -> int | float:
    """A SQL sum as an int when it is whole (sums come back as floats or Decimals)."""
    if value is None:
        return 0
    number = float(value)
    return int(number) if number.is_integer() else number


# --- Quotes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said:
    """One quoted answer, the section it belongs to and the directive it answers."""

    directive_id: int
    kind: str  # "highlights" | "difficulties" | "recommendations"
    quote: Quote


def of_kind(said: Iterable[Said], kind: str) -> list[Quote]:
    return [item.quote for item in said if item.kind == kind]


def text_field_roles(form: FormSpec | None) -> dict[str, set[str]]:
    """Which report sections each free-text field feeds: highlights, difficulties, recommendations."""
    roles: dict[str, set[str]] = {}
    for f in form.fields if form is not None else ():
        if f.type != FieldType.TEXT:
            continue
        label = fold(f.label)
        kinds = set()
        if any(word in label for word in msg.HIGHLIGHT_WORDS):
            kinds.add("highlights")
        if any(word in label for word in msg.DIFFICULTY_WORDS):
            kinds.add("difficulties")
        if any(word in label for word in msg.RECOMMENDATION_WORDS):
            kinds.add("recommendations")
        if kinds:
            roles[f.key] = kinds
    return roles


_SENTENCES = re.compile(r"(?<=[.;!?\n])\s+")


def sort_answer(text: str, kinds: set[str]) -> dict[str, str]:
    """Split an answer between the sections its field feeds; in a "khó khăn, kiến nghị" field, sentences asking
    for something are recommendations and the rest difficulties."""
    clean = " ".join(text.split())
    if fold(clean).strip(" .,;:!-") in EMPTY_ANSWERS:
        return {}
    if kinds != {"difficulties", "recommendations"}:
        return {kind: clean for kind in kinds}
    parts: dict[str, list[str]] = {"difficulties": [], "recommendations": []}
    for sentence in _SENTENCES.split(text.strip()):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        asks = any(word in fold(sentence) for word in msg.RECOMMENDATION_SENTENCE_WORDS)
        parts["recommendations" if asks else "difficulties"].append(sentence)
    return {kind: " ".join(sentences) for kind, sentences in parts.items() if sentences}


async def quotes(
    session: AsyncSession,
    scope: Scope,
    directive_ids: Sequence[int],
    form: FormSpec | None,
    *,
    since: datetime | None = None,
    limit: int = QUOTE_LIMIT,
) -> list[Said]:
    """Free-text answers of the latest reports (newest first), sorted into the report's sections; at most
    `limit` per section. With `since`, only answers sent since then and not already in the previous version."""
    roles = text_field_roles(form)
    if not directive_ids or not roles or form is None:
        return []
    reports = _latest_reports(session, scope, directive_ids, since=since)
    dialect = _dialect(session)
    json = _JsonValues(dialect, reports.c.v)
    previous = aliased(Report)
    before = _JsonValues(
        dialect, cast(previous.values, JSONB) if dialect == "postgresql" else previous.values
    )
    labels = {f.key: f.label for f in form.fields}
    found: list[Said] = []
    taken: dict[str, int] = defaultdict(int)
    for key, kinds in roles.items():
        answer = json.text(key)
        query = (
            select(reports.c.directive_id, Unit.name, answer)
            .select_from(reports)
            .join(Unit, Unit.id == reports.c.unit_id)
            .where(answer.is_not(None), func.length(func.trim(answer)) > 1)
            .order_by(reports.c.submitted_at.desc())
            .limit(QUOTE_SCAN)
        )
        if since is not None:
            said_before = before.text(key)
            query = query.outerjoin(
                previous,
                and_(
                    previous.directive_id == reports.c.directive_id,
                    previous.unit_id == reports.c.unit_id,
                    previous.version == reports.c.version - 1,
                ),
            ).where(or_(said_before.is_(None), said_before != answer))
        for directive_id, unit_name, text in (await session.execute(query)).all():
            for kind, part in sort_answer(text, kinds).items():
                if taken[kind] < limit:
                    taken[kind] += 1
                    found.append(Said(directive_id, kind, Quote(unit_name, labels.get(key, key), part)))
    return found


# --- The per-unit snapshot --------------------------------------------------------------------------------


async def unit_rows(session: AsyncSession, scope: Scope, directive_id: int) -> list[UnitRow]:
    """One row per target unit in scope, in tree order: its path below the scope, secretary, status, times,
    the latest report's values and how many versions were sent."""
    secretary = secretary_id_of_unit().label("secretary_id")
    targets = (
        select(
            DirectiveTarget.unit_id,
            DirectiveTarget.delivered_at,
            DirectiveTarget.acknowledged_at,
            DirectiveTarget.reported_at,
            DirectiveTarget.late,
            _status_of_target().label("status"),
            Unit.name,
            Unit.path,
            Parent.path.label("parent_path"),
            secretary,
        )
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .outerjoin(Parent, Parent.id == Unit.parent_id)
        .where(DirectiveTarget.directive_id == directive_id)
    )
    where = scope.unit_filter()
    if where is not None:
        targets = targets.where(where)
    sub = targets.subquery()
    rows = (
        await session.execute(
            select(sub, Person.full_name, Person.phone, Report.version, Report.values.label("report_values"))
            .outerjoin(Person, Person.id == sub.c.secretary_id)
            .outerjoin(
                Report,
                and_(
                    Report.directive_id == directive_id,
                    Report.unit_id == sub.c.unit_id,
                    Report.is_latest.is_(True),
                ),
            )
            .order_by(sub.c.parent_path, sub.c.name, sub.c.unit_id)
        )
    ).all()
    names = await _ancestor_names(session, scope)
    return [
        UnitRow(
            path=_path_text(row.path, names, scope, row.name),
            name=row.name,
            secretary=row.full_name or "",
            phone=row.phone or "",
            status=UnitStatus(row.status),
            delivered_at=row.delivered_at,
            acknowledged_at=row.acknowledged_at,
            reported_at=row.reported_at,
            late=bool(row.late),
            versions=row.version or 0,
            values=row.report_values or {},
        )
        for row in rows
    ]


async def _ancestor_names(session: AsyncSession, scope: Scope) -> dict[str, str]:
    """Names of the non-cell units in scope (the few thousand parents of a province's cells), by id text."""
    query = select(Unit.id, Unit.name).where(Unit.is_cell.is_(False))
    where = scope.unit_filter()
    if where is not None:
        query = query.where(where)
    return {str(unit_id): name for unit_id, name in (await session.execute(query)).all()}


def _path_text(path: str, names: Mapping[str, str], scope: Scope, own: str) -> str:
    """ "Đảng bộ Sở Tài chính / Chi bộ Văn phòng": the unit's ancestors below the scope root, then itself."""
    below = path
    for root in scope.roots:
        if path.startswith(root.path):
            below = path[len(root.path) :]
            break
    ancestors = [names[part] for part in below.strip("/").split("/")[:-1] if part in names]
    return " / ".join([*ancestors, own])


def form_fields(form: FormSpec | None) -> tuple[FormField, ...]:
    """The form's questions as the document builders take them; photos are left out of documents."""
    if form is None:
        return ()
    return tuple(
        FormField(f.key, f.label, f.type, unit=msg.FIELD_UNITS.get(f.key, ""), options=f.choices)
        for f in form.fields
        if f.type != FieldType.PHOTO
    )


def directive_summary(directive: Directive, form: FormSpec | None) -> DirectiveSummary:
    meta = directive.meta or {}
    return DirectiveSummary(
        number=directive.number or "",
        issuer_code=directive.issuer_code or "",
        doc_type=directive.doc_type or "",
        issued_on=directive.issued_on,
        subject=directive.subject or meta.get("subject_hint") or "",
        parent_body=directive.parent_body or "",
        issuer=directive.issuer or "",
        place=directive.place or "",
        deadline=directive.deadline,
        form_title=form.title if form is not None else "",
        form_fields=form_fields(form),
    )


def _signature(directive: Directive) -> Signature:
    authority = str((directive.meta or {}).get("signer_authority") or "")
    body = re.sub(r"^\s*(T/M|TM\.?)\s+", "", authority, flags=re.IGNORECASE).strip()
    return Signature(body=body) if body else Signature()


async def report_data(
    session: AsyncSession, scope: Scope, directive: Directive, today: date, timezone: str
) -> ReportData:
    """Everything the Excel export and the Word draft show for one directive, within the scope."""
    form = await get_form(session, directive.form_key)
    counts = (await counts_by_directive(session, scope, [directive.id]))[directive.id]
    aggregates = (await form_aggregates(session, scope, [directive.id], form))[directive.id]
    rows = await unit_rows(session, scope, directive.id)
    said = await quotes(session, scope, [directive.id], form)
    return ReportData(
        directive=directive_summary(directive, form),
        counts=counts,
        rows=rows,
        aggregates=aggregates,
        generated_on=today,
        highlights=of_kind(said, "highlights"),
        difficulties=of_kind(said, "difficulties"),
        recommendations=of_kind(said, "recommendations"),
        signature=_signature(directive),
        timezone=timezone,
    )


_SLUG = re.compile(r"[^a-z0-9]+")


def file_slug(directive: Directive) -> str:
    """The directive's number for a file name: "747-CV/ĐUK" -> "747-cv-duk"."""
    return _SLUG.sub("-", fold(directive.number or str(directive.id))).strip("-")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --- The status view (the bot's /tinhhinh and the shell's `chibo status`) ----------------------------------


@dataclass(frozen=True, slots=True)
class StatusView:
    directive: Directive
    counts: Counts
    subtrees: list[Subtree]
    form: FormSpec | None
    aggregates: Aggregates
    missing: MissingPage
    escalated: int


async def status_view(
    session: AsyncSession, scope: Scope, directive: Directive, *, page: int = 1, per_page: int = 10
) -> StatusView:
    form = await get_form(session, directive.form_key)
    return StatusView(
        directive=directive,
        counts=(await counts_by_directive(session, scope, [directive.id]))[directive.id],
        subtrees=await counts_by_subtree(session, scope, directive.id),
        form=form,
        aggregates=(await form_aggregates(session, scope, [directive.id], form))[directive.id],
        missing=await missing_units(session, scope, directive.id, page=page, per_page=per_page),
        escalated=(await escalated_counts(session, scope, [directive])).get(directive.id, 0),
    )


def _kind(directive: Directive) -> str:
    return KINDS.get(directive.doc_type or "", KIND_DEFAULT)


def render_status(
    view: StatusView, scope: Scope, today: date, *, escalate_after: int | None, subtrees_shown: int = 20
) -> str:
    """The whole status message: figures, breakdown by subtree, then the current page of missing units."""
    directive, counts = view.directive, view.counts
    lines = [msg.STATUS_TITLE.format(kind=_kind(directive).upper(), number=directive.number or "")]
    subject = directive.subject or (directive.meta or {}).get("subject_hint")
    if subject:
        lines.append(msg.STATUS_SUBJECT.format(subject=subject))
    if directive.deadline is not None:
        left = msg.days_left(directive.deadline, today)
        lines.append(msg.STATUS_DEADLINE.format(date=msg.day(directive.deadline), left=left))
    else:
        lines.append(msg.STATUS_NO_DEADLINE)
    lines.append(msg.STATUS_SCOPE.format(names=msg.join_names(scope.names)))
    lines += [
        "",
        msg.STATUS_TARGETED.format(count=format_number(counts.targeted)),
        msg.STATUS_DELIVERED.format(
            delivered=format_number(counts.delivered), acknowledged=format_number(counts.acknowledged)
        ),
        msg.STATUS_REPORTED.format(
            progress=msg.share(counts.reported, counts.targeted),
            on_time=format_number(counts.reported_on_time),
            late=format_number(counts.reported_late),
        ),
        msg.STATUS_NOT_REPORTED.format(count=format_number(counts.not_reported)),
        msg.STATUS_UNREACHED.format(
            unregistered=format_number(counts.unregistered), blocked=format_number(counts.blocked)
        ),
    ]
    if view.escalated and escalate_after is not None:
        lines.append(msg.STATUS_ESCALATED.format(days=escalate_after, count=format_number(view.escalated)))
    figures = figure_lines(view.form, view.aggregates)
    if view.aggregates.sessions_held and figures:
        lines += ["", msg.STATUS_FIGURES, *figures]
    if len(view.subtrees) > 1:
        lines += ["", msg.STATUS_BY_SUBTREE]
        for part in view.subtrees[:subtrees_shown]:
            progress = msg.share(part.counts.reported, part.counts.targeted)
            lines.append(msg.SUBTREE_LINE.format(name=part.name, progress=progress))
        if len(view.subtrees) > subtrees_shown:
            lines.append(msg.SUBTREE_MORE.format(count=len(view.subtrees) - subtrees_shown))
    lines += ["", render_missing(view.missing)]
    return "\n".join(lines)


def render_missing(page: MissingPage, per_page: int = 10) -> str:
    if page.total == 0:
        return msg.MISSING_NONE
    lines = [msg.MISSING_TITLE.format(count=format_number(page.total), page=page.page, pages=page.pages)]
    start = (page.page - 1) * per_page
    for index, unit in enumerate(page.units, start=start + 1):
        lines.append(missing_line(index, unit))
    return "\n".join(lines)


def missing_line(index: int, unit: MissingUnit) -> str:
    return msg.MISSING_LINE.format(
        index=index,
        unit=unit.name,
        parent=msg.MISSING_PARENT.format(parent=unit.parent) if unit.parent else "",
        secretary=unit.secretary or msg.MISSING_NO_SECRETARY,
        phone=msg.MISSING_PHONE.format(phone=unit.phone) if unit.phone else "",
        state=msg.MISSING_STATES.get(unit.status, ""),
    )


def figure_lines(form: FormSpec | None, aggregates: Aggregates | None) -> list[str]:
    """The form's figures, one line each: reports (sessions) held, sums, ratios with their rate, option counts."""
    if aggregates is None:
        return []
    study = form is not None and any(f.key == "ngay_to_chuc" for f in form.fields)
    template = msg.FIGURE_SESSIONS_STUDY if study else msg.FIGURE_SESSIONS
    lines = [template.format(count=format_number(aggregates.sessions_held))]
    for f in form.fields if form is not None else ():
        noun = msg.FIELD_UNITS.get(f.key, "")
        unit = f" {noun}" if noun else ""
        if f.type == FieldType.NUMBER and f.key in aggregates.sums:
            lines.append(
                msg.FIGURE_NUMBER.format(
                    label=f.label, value=format_number(aggregates.sums[f.key]), unit=unit
                )
            )
        elif f.type == FieldType.RATIO and f.key in aggregates.ratios:
            ratio = aggregates.ratios[f.key]
            lines.append(
                msg.FIGURE_RATIO.format(
                    label=f.label,
                    attended=format_number(ratio.attended),
                    total=format_number(ratio.total),
                    unit=unit,
                    rate=format_percent(ratio.rate),
                )
            )
        elif f.type == FieldType.CHOICE and (parts := msg.choice_parts(aggregates.choices.get(f.key, {}))):
            lines.append(msg.FIGURE_CHOICE.format(label=f.label, parts=parts))
    return lines


def render_list(directives: Sequence[Directive], counts: Mapping[int, Counts], shown: int = 10) -> str:
    if not directives:
        return msg.LIST_EMPTY
    lines = [msg.LIST_TITLE.format(count=len(directives))]
    for index, directive in enumerate(directives[:shown], start=1):
        c = counts[directive.id]
        deadline = (
            msg.LIST_DEADLINE.format(date=msg.day(directive.deadline))
            if directive.deadline
            else msg.LIST_NO_DEADLINE
        )
        lines.append(
            msg.LIST_LINE.format(
                index=index,
                number=directive.number or "",
                date=msg.day(directive.issued_on),
                deadline=deadline,
                progress=msg.share(c.reported, c.targeted),
            )
        )
    if len(directives) > shown:
        lines.append(msg.LIST_MORE.format(count=len(directives) - shown))
    else:
        lines.append(msg.LIST_HINT)
    return "\n".join(lines)
