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

from sqlalchemy import Float, Select, and_, case, cast, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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
from bot.textnorm import fold
from messages import board as msg
from messages.directives import KIND_DEFAULT, KINDS
from messages.documents import EMPTY_ANSWERS, format_number, format_percent
from storage.models import Directive, DirectiveTarget, Person, Reminder, Report, Role, Unit

SENT_STATES = ("sending", "sent")
OPEN_DAYS_AFTER_DEADLINE = 30  # a directive stays on the board's list this long after its deadline
QUOTE_SCAN = 400  # free-text answers read per query; empty ones ("không có") are dropped afterwards
QUOTE_LIMIT = 40
ESCALATE_RULE = "escalate"


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


async def counts_by_directive(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int]
) -> dict[int, Counts]:
    """Progress of each directive within the scope, from one GROUP BY over the targets."""
    if not directive_ids:
        return {}
    inner = (
        _targets(scope, DirectiveTarget.directive_id, _status_of_target().label("status"))
        .where(DirectiveTarget.directive_id.in_(directive_ids))
        .subquery()
    )
    rows = await session.execute(
        select(inner.c.directive_id, inner.c.status, func.count()).group_by(
            inner.c.directive_id, inner.c.status
        )
    )
    grouped: dict[int, dict[str, int]] = defaultdict(dict)
    for directive_id, status, count in rows.all():
        grouped[directive_id][status] = count
    return {directive_id: counts_from(grouped.get(directive_id, {})) for directive_id in directive_ids}


@dataclass(frozen=True, slots=True)
class Subtree:
    unit_id: int
    name: str
    counts: Counts


async def counts_by_subtree(session: AsyncSession, scope: Scope, directive_id: int) -> list[Subtree]:
    """Progress per part of the scope: the children of a single root (a cell directly under it is its own
    part), or each root when the scope has several. Largest parts first."""
    if scope.empty:
        return []
    bucket, names = await _bucketing(session, scope)
    inner = (
        select(bucket.label("bucket"), _status_of_target().label("status"))
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id == directive_id)
    )
    where = scope.unit_filter()
    if where is not None:
        inner = inner.where(where)
    sub = inner.subquery()
    rows = await session.execute(
        select(sub.c.bucket, sub.c.status, func.count()).group_by(sub.c.bucket, sub.c.status)
    )
    grouped: dict[str, dict[str, int]] = defaultdict(dict)
    for key, status, count in rows.all():
        grouped[str(key)][status] = count
    parts = [
        Subtree(int(key), names.get(key, key), counts_from(by_status))
        for key, by_status in grouped.items()
        if key.isdigit()
    ]
    return sorted(parts, key=lambda part: (-part.counts.targeted, part.name))


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


async def all_missing_units(session: AsyncSession, scope: Scope, directive_id: int) -> list[MissingUnit]:
    """Every unit in scope that has not reported, in tree order, with its secretary."""
    return await _missing(session, _missing_where(scope, directive_id))


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
        select(Unit.id, Unit.name, Unit.path, Unit.parent_id, _status_of_target().label("status"), secretary)
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(*where)
        .order_by(Unit.path)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = (
        await session.execute(
            select(listed, Person.full_name, Person.phone)
            .outerjoin(Person, Person.id == listed.c.secretary_id)
            .order_by(listed.c.path)
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
        .where(DirectiveTarget.directive_id == directive.id, DirectiveTarget.reported_at.is_(None))
        .order_by(Unit.path)
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
    query = (
        select(Report.directive_id, func.count())
        .where(
            Report.directive_id.in_(directive_ids),
            Report.version == 1,
            Report.submitted_at >= since,
        )
        .group_by(Report.directive_id)
    )
    where = scope.unit_filter()
    if where is not None:
        query = query.join(Unit, Unit.id == Report.unit_id).where(where)
    return {directive_id: count for directive_id, count in (await session.execute(query)).all()}


# --- Form figures ------------------------------------------------------------------------------------------


class _JsonValues:
    """Typed reads of a report's JSON values in SQL, the same on SQLite and PostgreSQL: a value of the wrong
    JSON type reads as NULL, so a malformed report never breaks a sum."""

    def __init__(self, dialect: str, column: Any) -> None:
        self.postgres = dialect == "postgresql"
        self.column = column

    def number(self, *path: str) -> ColumnElement[Any]:
        if self.postgres:
            node = func.jsonb_extract_path(self.column, *path)
            text = func.jsonb_extract_path_text(self.column, *path)
            return case((func.jsonb_typeof(node) == "number", cast(text, Float)), else_=None)
        json_path = _sqlite_path(path)
        return case(
            (
                func.json_type(self.column, json_path).in_(("integer", "real")),
                func.json_extract(self.column, json_path),
            ),
            else_=None,
        )

    def text(self, *path: str) -> ColumnElement[Any]:
        if self.postgres:
            node = func.jsonb_extract_path(self.column, *path)
            text = func.jsonb_extract_path_text(self.column, *path)
            return case((func.jsonb_typeof(node) == "string", text), else_=None)
        json_path = _sqlite_path(path)
        return case(
            (func.json_type(self.column, json_path) == "text", func.json_extract(self.column, json_path)),
            else_=None,
        )


def _sqlite_path(path: Sequence[str]) -> str:
    return "$" + "".join(f'."{key}"' for key in path)


def _latest_reports(session: AsyncSession, scope: Scope, directive_ids: Sequence[int]) -> Any:
    """The latest reports of the directives in scope, with their values parsed once (JSONB on PostgreSQL)."""
    values: Any = Report.values
    if _dialect(session) == "postgresql":
        values = cast(Report.values, JSONB)
    query = select(
        Report.directive_id,
        Report.unit_id,
        Report.submitted_at,
        values.label("v"),
    ).where(Report.directive_id.in_(directive_ids), Report.is_latest.is_(True))
    where = scope.unit_filter()
    if where is not None:
        query = query.join(Unit, Unit.id == Report.unit_id).where(where)
    return query.subquery()


async def form_aggregates(
    session: AsyncSession, scope: Scope, directive_ids: Sequence[int], form: FormSpec | None
) -> dict[int, Aggregates]:
    """The form's figures for each directive (all asking the same form): report count, sums of number fields,
    summed ratios and option counts of choice fields, over the latest reports in scope."""
    if not directive_ids:
        return {}
    fields = form.fields if form is not None else ()
    reports = _latest_reports(session, scope, directive_ids)
    json = _JsonValues(_dialect(session), reports.c.v)
    numbers = [f for f in fields if f.type == FieldType.NUMBER]
    ratios = [f for f in fields if f.type == FieldType.RATIO]
    columns: list[ColumnElement[Any]] = [func.count()]
    columns += [func.sum(json.number(f.key)) for f in numbers]
    for f in ratios:
        columns += [func.sum(json.number(f.key, "attended")), func.sum(json.number(f.key, "total"))]
    rows = await session.execute(select(reports.c.directive_id, *columns).group_by(reports.c.directive_id))
    sessions_held: dict[int, int] = {}
    sums: dict[int, dict[str, int | float]] = defaultdict(dict)
    ratio_sums: dict[int, dict[str, Ratio]] = defaultdict(dict)
    for directive_id, count, *values in rows.all():
        sessions_held[directive_id] = count
        for f, value in zip(numbers, values[: len(numbers)], strict=True):
            sums[directive_id][f.key] = _plain(value)
        pairs = values[len(numbers) :]
        for index, f in enumerate(ratios):
            ratio_sums[directive_id][f.key] = Ratio(_plain(pairs[2 * index]), _plain(pairs[2 * index + 1]))
    choices = await _choice_counts(session, reports, json, fields)
    return {
        directive_id: Aggregates(
            sessions_held=sessions_held.get(directive_id, 0),
            sums={f.key: sums[directive_id].get(f.key, 0) for f in numbers},
            ratios={f.key: ratio_sums[directive_id].get(f.key, Ratio(0, 0)) for f in ratios},
            choices={
                f.key: {**dict.fromkeys(f.choices, 0), **choices.get((directive_id, f.key), {})}
                for f in fields
                if f.type == FieldType.CHOICE
            },
        )
        for directive_id in directive_ids
    }


async def _choice_counts(
    session: AsyncSession, reports: Any, json: _JsonValues, fields: Sequence[FieldSpec]
) -> dict[tuple[int, str], dict[str, int]]:
    found: dict[tuple[int, str], dict[str, int]] = {}
    for f in fields:
        if f.type != FieldType.CHOICE:
            continue
        option = json.text(f.key).label("option")
        inner = select(reports.c.directive_id, option).subquery()
        rows = await session.execute(
            select(inner.c.directive_id, inner.c.option, func.count())
            .where(inner.c.option.is_not(None))
            .group_by(inner.c.directive_id, inner.c.option)
        )
        for directive_id, value, count in rows.all():
            found.setdefault((directive_id, f.key), {})[value] = count
    return found


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
    `limit` per section."""
    roles = text_field_roles(form)
    if not directive_ids or not roles or form is None:
        return []
    reports = _latest_reports(session, scope, directive_ids)
    json = _JsonValues(_dialect(session), reports.c.v)
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
            query = query.where(reports.c.submitted_at >= since)
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
            secretary,
        )
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
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
            .order_by(sub.c.path)
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
