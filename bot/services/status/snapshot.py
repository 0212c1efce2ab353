"""The assembled status of one directive within a scope: the per-unit snapshot (`ReportData`) the Excel export
and the Word draft are built from, and the `StatusView` the board's /tinhhinh and the shell's `chibo status`
show (rendered by `messages.status`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.textnorm import fold
from bot.services import cycles
from bot.services.evidence import photos_of
from bot.services.forms import FieldType, FormSpec
from bot.services.forms_store import get_form
from bot.services.report_data import (
    DELIVERED_STATUSES,
    PROXY_CHANNEL,
    Aggregates,
    Counts,
    DirectiveSummary,
    FormField,
    ReportData,
    Signature,
    UnitRow,
    UnitStatus,
    add_aggregates,
    add_counts,
)
from bot.services.status.counts import Subtree, counts_by_directive, counts_by_subtree
from bot.services.status.family import family_of_period, reissues_reaching
from bot.services.status.figures import form_aggregates
from bot.services.status.missing import MissingPage, escalated_counts, missing_units
from bot.services.status.quotes import of_kind, quotes
from bot.services.status.scope import Scope, in_scope
from bot.services.status.sql import Parent, counted, secretary_id_of_unit, status_of_target
from messages import board as msg
from messages import cycles as cycle_msg
from storage.models import Directive, DirectiveTarget, Person, Report, Unit


async def unit_rows(
    session: AsyncSession,
    scope: Scope,
    directive_id: int,
    photo_keys: Sequence[str] = (),
    *,
    cycle: int | None = None,
    statuses: Collection[str] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[UnitRow]:
    """One row per target unit in scope, in tree order: its path below the scope, secretary, status, times,
    the latest report's values, how many versions were sent and the photos under `photo_keys`. With `cycle` (a
    closed period of a recurring directive) the report state is that period's, read from its reports. `statuses`
    keeps only the units in those states (of the open period); `limit` and `offset` give one page (the web
    dashboard's table).

    A unit that reported without pressing "acknowledge" shows its report time as its acknowledgement (and one
    with no delivery time its first later step as its delivery), so each row counted as acknowledged or delivered
    carries that time, as the totals built from the rows say."""
    sub = _targets(scope, directive_id, statuses).subquery()
    rows = (
        await session.execute(
            select(
                sub,
                Person.full_name,
                Person.phone,
                Report.version,
                Report.values.label("report_values"),
                Report.submitted_at,
                Report.late.label("report_late"),
                Report.review.label("report_review"),
                Report.channel.label("report_channel"),
            )
            .outerjoin(Person, Person.id == sub.c.secretary_id)
            .outerjoin(
                Report,
                and_(
                    Report.directive_id == directive_id,
                    Report.unit_id == sub.c.unit_id,
                    counted(cycle),
                ),
            )
            .order_by(sub.c.parent_path, sub.c.name, sub.c.unit_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    names = await _ancestor_names(session, scope)
    result = []
    for row in rows:
        status = UnitStatus(row.status) if cycle is None else _closed_status(row)
        reported_at = row.reported_at if cycle is None else row.submitted_at
        acknowledged_at = row.acknowledged_at or reported_at
        delivered_at = row.delivered_at or (acknowledged_at if status in DELIVERED_STATUSES else None)
        values = row.report_values or {}
        result.append(
            UnitRow(
                path=_path_text(row.path, names, scope, row.name),
                name=row.name,
                secretary=row.full_name or "",
                phone=row.phone or "",
                status=status,
                delivered_at=delivered_at,
                acknowledged_at=acknowledged_at,
                reported_at=reported_at,
                late=bool(row.late if cycle is None else row.report_late),
                versions=row.version or 0,
                values=values,
                unit_id=row.unit_id,
                photos=photos_of(values, photo_keys),
                review=(row.report_review or "received") if row.version else "",
                by_proxy=row.report_channel == PROXY_CHANNEL,
            )
        )
    if limit is None and not statuses:  # the whole list (Excel, Word): the merged cells' reports too
        result += await _carried_rows(session, scope, directive_id, photo_keys, names, cycle)
    return result


async def _carried_rows(
    session: AsyncSession,
    scope: Scope,
    directive_id: int,
    photo_keys: Sequence[str],
    names: Mapping[str, str],
    cycle: int | None,
) -> list[UnitRow]:
    """The reports of cells merged since into one that stands for them (bot/services/cell_targets.py: their
    target rows folded into its one), each under its own name: kept and listed, not counted as targets again."""
    successor = aliased(Unit)
    targeted = (
        select(DirectiveTarget.unit_id)
        .where(DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == Report.unit_id)
        .exists()
    )
    query = (
        select(
            Report, Unit.name, Unit.path, successor.name.label("successor"), Person.full_name, Person.phone
        )
        .join(Unit, Unit.id == Report.unit_id)
        .join(successor, successor.id == Unit.successor_id)
        .outerjoin(Person, Person.id == Report.person_id)
        .where(Report.directive_id == directive_id, counted(cycle), ~targeted)
        .order_by(Unit.path, Unit.name)
    )
    rows = (await session.execute(in_scope(query, scope))).all()
    out = []
    for report, name, path, successor_name, person, phone in rows:
        own = msg.CARRIED_ROW.format(name=name, successor=successor_name)
        out.append(
            UnitRow(
                path=_path_text(path, names, scope, own),
                name=own,
                secretary=person or "",
                phone=phone or "",
                status=UnitStatus.REPORTED_LATE if report.late else UnitStatus.REPORTED,
                delivered_at=report.submitted_at,
                acknowledged_at=report.submitted_at,
                reported_at=report.submitted_at,
                late=report.late,
                versions=report.version,
                values=report.values or {},
                unit_id=report.unit_id,
                photos=photos_of(report.values or {}, photo_keys),
                review=report.review or "received",
                by_proxy=report.channel == PROXY_CHANNEL,
                carried=True,
            )
        )
    return out


async def merged_reports(
    session: AsyncSession, scope: Scope, directive_id: int, statuses: Collection[str] = ()
) -> list[UnitRow]:
    """The reports of cells merged since into another, listed as the Excel lists them after the targets
    («… (nay là …)», not counted as targets: `Counts.from_rows`), those in `statuses` (all without): the web
    dashboard's paged table shows them after its target rows."""
    names = await _ancestor_names(session, scope)
    rows = await _carried_rows(session, scope, directive_id, (), names, None)
    return [row for row in rows if not statuses or row.status in statuses]


def _closed_status(row: Any) -> UnitStatus:
    """A unit's status in a closed period: by that period's report, else by its delivery (as `status_of_target`)."""
    if row.submitted_at is not None:
        return UnitStatus.REPORTED_LATE if row.report_late else UnitStatus.REPORTED
    if row.acknowledged_at is not None:
        return UnitStatus.ACKNOWLEDGED
    return {
        "sent": UnitStatus.DELIVERED,
        "blocked": UnitStatus.BLOCKED,
        "failed": UnitStatus.BLOCKED,
        "unregistered": UnitStatus.UNREGISTERED,
    }.get(row.delivery, UnitStatus.PENDING)


async def count_units(
    session: AsyncSession, scope: Scope, directive_id: int, statuses: Collection[str] = ()
) -> int:
    """How many rows `unit_rows` gives with these `statuses`, without reading them."""
    sub = _targets(scope, directive_id, statuses).subquery()
    return await session.scalar(select(func.count()).select_from(sub)) or 0


def _targets(scope: Scope, directive_id: int, statuses: Collection[str]) -> Select[Any]:
    """The directive's targets in scope with their unit, parent path, delivery, status and secretary."""
    status = status_of_target()
    targets = (
        select(
            DirectiveTarget.unit_id,
            DirectiveTarget.delivered_at,
            DirectiveTarget.acknowledged_at,
            DirectiveTarget.reported_at,
            DirectiveTarget.late,
            DirectiveTarget.delivery,
            status.label("status"),
            Unit.name,
            Unit.path,
            Parent.path.label("parent_path"),
            secretary_id_of_unit().label("secretary_id"),
        )
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .outerjoin(Parent, Parent.id == Unit.parent_id)
        .where(DirectiveTarget.directive_id == directive_id)
    )
    if statuses:
        targets = targets.where(status.in_(list(statuses)))
    return in_scope(
        cast("Select[Any]", targets), scope
    )  # eleven columns: wider than the typed Select overloads


async def _ancestor_names(session: AsyncSession, scope: Scope) -> dict[str, str]:
    """Names of the non-cell units in scope (the few thousand parents of a province's cells), by id text."""
    query = select(Unit.id, Unit.name).where(Unit.is_cell.is_(False))
    query = in_scope(query, scope)
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


def directive_summary(
    directive: Directive, form: FormSpec | None, period: cycles.Cycle | None = None
) -> DirectiveSummary:
    """The directive's header; a recurring directive's period labels the subject ("... (kỳ 11/2026)") and
    gives the deadline, so the Excel export and the Word draft both name the period they are about."""
    subject = directive.subject or ""
    if period is not None and period.label:
        subject = cycle_msg.LABELLED.format(subject=subject, label=period.label)
    return DirectiveSummary(
        number=directive.number or "",
        issuer_code=directive.issuer_code or "",
        doc_type=directive.doc_type or "",
        issued_on=directive.issued_on,
        subject=subject,
        parent_body=directive.parent_body or "",
        issuer=directive.issuer or "",
        place=directive.place or "",
        deadline=period.deadline if period is not None else directive.deadline,
        form_title=form.title if form is not None else "",
        form_fields=form_fields(form),
        asks_photos=form is not None and bool(form.photo_fields),
    )


def _signature(directive: Directive) -> Signature:
    """The authority line the directive was signed under ("T/M BAN THƯỜNG VỤ"); the report is signed the same way."""
    authority = " ".join(str((directive.meta or {}).get("signer_authority") or "").split())
    authority = re.sub(r"^(T/M|TM\.?)\s+", "T/M ", authority, flags=re.IGNORECASE)
    return (
        Signature(authority=authority.upper())
        if authority.upper().startswith(("T/M ", "K/T "))
        else Signature()
    )


async def report_data(
    session: AsyncSession,
    scope: Scope,
    directive: Directive,
    today: date,
    timezone: str,
    *,
    period: cycles.Cycle | None = None,
) -> ReportData:
    """Everything the Excel export and the Word draft show for one directive, within the scope: of the period
    now open, or of `period` (a recurring directive's closed one)."""
    form = await get_form(session, directive.form_key)
    closed = period.number if period is not None and not period.current else None
    if period is None:
        period = await cycles.cycle(session, directive)
    photo_keys = [spec.key for spec in form.photo_fields] if form is not None else []
    rows = await unit_rows(session, scope, directive.id, photo_keys, cycle=closed)
    # The counts come from the rows themselves: a separate query could see a report the rows did not.
    counts = Counts.from_rows(rows)
    aggregates = (await form_aggregates(session, scope, [directive.id], form, cycle=closed))[directive.id]
    said = await quotes(session, scope, [directive.id], form, cycle=closed)
    return ReportData(
        directive=directive_summary(directive, form, period),
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


@dataclass(frozen=True, slots=True)
class StatusView:
    """What the board sees of one directive: its progress, the parts of the scope, the form's figures, one page
    of the units still missing and how many were escalated. On a directive handed down (`reissues`: how many
    re-issues below it has) the progress, parts and figures count every cell under it, through those re-issues;
    the missing units and escalations stay the directive's own targets (the cells it reached itself or through a
    forward): the cells under a re-issue answer to that board and its deadline."""

    directive: Directive
    counts: Counts
    subtrees: list[Subtree]
    form: FormSpec | None
    aggregates: Aggregates
    missing: MissingPage
    escalated: int
    period: str = ""  # a recurring directive's open period ("kỳ 11/2026"); "" for a one-off one
    reissues: int = 0


async def status_view(
    session: AsyncSession, scope: Scope, directive: Directive, *, page: int = 1, per_page: int = 10
) -> StatusView:
    """The status of one directive within the scope, with page `page` of the missing units."""
    form = await get_form(session, directive.form_key)
    # The re-issues answering the open period (a recurring directive's of earlier periods are not counted).
    ids = await family_of_period(session, directive, directive.cycle)
    counts = await counts_by_directive(session, scope, ids)
    return StatusView(
        directive=directive,
        counts=add_counts(counts.values()),
        subtrees=await counts_by_subtree(session, scope, ids),
        form=form,
        aggregates=add_aggregates((await form_aggregates(session, scope, ids, form)).values()),
        missing=await missing_units(session, scope, directive.id, page=page, per_page=per_page),
        escalated=(await escalated_counts(session, scope, [directive])).get(directive.id, 0),
        period=period.label if (period := await cycles.cycle(session, directive)) is not None else "",
        reissues=reissues_reaching(counts, ids),
    )
