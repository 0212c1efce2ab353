"""The units in scope that have not reported a directive, in tree order with their secretary: a page of them for
the board, all of them for reminders, and the escalations to a parent once a deadline has long passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Exists, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.status.scope import Scope, in_scope, targets_in_scope
from bot.services.status.sql import TREE_ORDER, Parent, secretary_id_of_unit, status_of_target
from storage.models import Directive, DirectiveTarget, Person, Reminder, Unit

ESCALATE_RULE = "escalate"


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


async def missing_units(
    session: AsyncSession, scope: Scope, directive_id: int, *, page: int = 1, per_page: int = 10
) -> MissingPage:
    """One page of the units in scope that have not reported, in tree order, with their secretary."""
    total = await session.scalar(_missing_targets(scope, directive_id, func.count())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    listed = _missing_targets(scope, directive_id, *_listed_columns())
    units = await _missing(session, listed, offset=(page - 1) * per_page, limit=per_page)
    return MissingPage(units, total, page, pages)


async def all_missing_units(
    session: AsyncSession, scope: Scope, directive_id: int, *, without_rule: str | None = None
) -> list[MissingUnit]:
    """Every unit in scope that has not reported, in tree order, with its secretary; with `without_rule`, only
    those that hold no reminder under that rule yet."""
    listed = _missing_targets(scope, directive_id, *_listed_columns())
    if without_rule is not None:
        listed = listed.where(~_holds_reminder(without_rule))
    return await _missing(session, listed)


def _missing_targets(scope: Scope, directive_id: int, *columns: Any) -> Select[Any]:
    """A query of `columns` over the targets in scope that have not reported the directive."""
    query = (
        select(*columns)
        .select_from(DirectiveTarget)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id == directive_id, DirectiveTarget.reported_at.is_(None))
    )
    return in_scope(query, scope)


def _holds_reminder(rule: str) -> Exists:
    """Whether the target's unit already holds a reminder of the directive under `rule`."""
    return (
        select(Reminder.id)
        .where(
            Reminder.directive_id == DirectiveTarget.directive_id,
            Reminder.unit_id == DirectiveTarget.unit_id,
            Reminder.rule == rule,
        )
        .exists()
    )


def _listed_columns() -> tuple[Any, ...]:
    """What `_missing` reads of each unit it lists."""
    return (
        Unit.id,
        Unit.name,
        Parent.path.label("parent_path"),
        Unit.parent_id,
        status_of_target().label("status"),
        secretary_id_of_unit().label("secretary_id"),
    )


async def _missing(
    session: AsyncSession, listed: Select[Any], *, offset: int = 0, limit: int | None = None
) -> list[MissingUnit]:
    """The units `listed` selects (see `_listed_columns`), in tree order, with their secretary's name and phone."""
    page = (
        listed.outerjoin(Parent, Parent.id == Unit.parent_id)
        .order_by(*TREE_ORDER)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = (
        await session.execute(
            select(page, Person.full_name, Person.phone)
            .outerjoin(Person, Person.id == page.c.secretary_id)
            .order_by(page.c.parent_path, page.c.name, page.c.id)
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


def escalation_rule(deadline: date) -> str:
    """The reminders-table key of an escalation for a deadline (a new deadline escalates afresh)."""
    return f"{ESCALATE_RULE}@{deadline.isoformat()}"


async def escalated_counts(
    session: AsyncSession, scope: Scope, directives: Sequence[Directive]
) -> dict[int, int]:
    """Units escalated to their parent for each directive's current deadline and still not reported."""
    wanted = [d for d in directives if d.deadline is not None]
    if not wanted:
        return {}
    rules = [escalation_rule(d.deadline) for d in wanted if d.deadline is not None]
    query = (
        targets_in_scope(scope, DirectiveTarget.directive_id, func.count())
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
    escalated = _holds_reminder(escalation_rule(directive.deadline))
    query = (
        _missing_targets(scope, directive.id, Unit.name, escalated)
        .outerjoin(Parent, Parent.id == Unit.parent_id)
        .order_by(*TREE_ORDER)
        .limit(limit)
    )
    return [OverdueUnit(name, bool(flag)) for name, flag in (await session.execute(query)).all()]
