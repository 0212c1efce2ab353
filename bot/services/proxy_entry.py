"""Entry by proxy: a board member who reached a cell by phone enters its report on the web dashboard. Each answer
is read by the same field parsers as a secretary's typed answer, and the report is stored by the same report
service, so it counts like any other; it is marked by its channel ("web"), the board member as its author and
its time, and written to the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import audit, reports
from bot.services.field_parsers import Ok, Refusal, parse_field
from bot.services.forms import FieldSpec, FieldType, FormSpec
from bot.services.report_data import PROXY_CHANNEL
from bot.services.status import Scope, in_scope
from storage.models import Directive, DirectiveTarget, Person, Report


def proxy_fields(form: FormSpec) -> list[FieldSpec]:
    """The questions a board member answers for the cell: all but photos (a phone call carries none)."""
    return [spec for spec in form.fields if spec.type is not FieldType.PHOTO]


def read_answers(
    form: FormSpec, answers: Mapping[str, str], today: date
) -> tuple[dict[str, object], dict[str, str]]:
    """The values of the typed answers, and for each refused answer its field key and what to type instead."""
    values: dict[str, object] = {}
    refused: dict[str, str] = {}
    for spec in form.fields:
        if spec.type is FieldType.PHOTO:
            continue
        result = parse_field(spec, answers.get(spec.key, ""), today)
        if isinstance(result, Ok):
            values[spec.key] = result.value
        elif isinstance(result, Refusal):
            refused[spec.key] = result.message
    return values, refused


async def is_target_in_scope(session: AsyncSession, scope: Scope, directive_id: int, unit_id: int) -> bool:
    query = select(DirectiveTarget.unit_id).where(
        DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == unit_id
    )
    return await session.scalar(in_scope(query, scope, join_on=DirectiveTarget.unit_id)) is not None


async def enter(
    session: AsyncSession,
    clock: Clock,
    tz: tzinfo,
    directive: Directive,
    unit_id: int,
    values: dict[str, object],
    by: Person,
    actor: str,
) -> Report:
    """Store the cell's report entered by `by`, as the cell's newest version."""
    report = await reports.save_report(
        session,
        clock,
        tz,
        directive=directive,
        unit_id=unit_id,
        values=values,
        person_id=by.id,
        channel=PROXY_CHANNEL,
    )
    await audit.audit(
        session,
        clock,
        "report.entered_by_proxy",
        person_id=by.id,
        actor=actor,
        details={"directive": directive.id, "unit": unit_id, "version": report.version},
    )
    return report
