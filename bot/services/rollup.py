"""Up: the upper board's figures on a directive it handed down to the boards of units below, added up either from
the intermediate reports or from the cells; every output names its source (docs/design.md, Levels).

- From below (`BELOW`): the figures each unit below sent up with its report (`snapshot`, kept on its handoff by
  `upward.record_report`), added up. A unit that has not reported up is listed apart with its cells' live
  progress, never added in; so are the cells the upper board reached directly.
- From the cells (`CELLS`): the latest reports of every cell under the directive, through re-issues (at any depth)
  and forwards, as one set of rows.

By default the figures come from the cells while a unit below has yet to report up, from below once every one
has. A recurring directive is aggregated per period the same way: a report upward names the period it answers
(`upward.answered_period`), so "reported up" means for that period, and its cells are that period's reports and the
re-issues that carried that period out (`status.family_of_period`). What each unit below did and how far its cells
got is `upward.below`; this module only adds up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.textnorm import fold
from bot.services import cycles, levels, status, upward
from bot.services.attendance import as_attendance
from bot.services.forms import FieldType, FormSpec
from bot.services.forms_store import get_form
from bot.services.report_data import (
    Aggregates,
    BelowUnit,
    Counts,
    FieldValue,
    FormField,
    Ratio,
    ReportData,
    UnitRow,
    UnitStatus,
    add_aggregates,
    add_counts,
    as_number,
)
from messages import rollup as msg
from storage.models import Directive, Handoff

log = logging.getLogger(__name__)

CELLS, BELOW = "cells", "below"
SNAPSHOT_VERSION = 1
_COUNTS = tuple(f.name for f in fields(Counts))


# --- the figures a report upward carries ---------------------------------------------------------------------------


def snapshot(data: ReportData, form_key: str | None, cycle: int = 1) -> dict[str, Any]:
    """The figures a unit's report upward was built from, as JSON for its handoff: the cells' counts and the
    form's aggregates, with the form, the day they were built and the upper directive's period they answer
    (`cycle`: 1 for a one-off directive)."""
    return figures(data.counts, data.aggregates, form_key, data.generated_on, cycle)


def figures(
    counts: Counts, a: Aggregates, form_key: str | None, built_on: date, cycle: int = 1
) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "form_key": form_key,
        "built_on": built_on.isoformat(),
        "cycle": cycle,
        "counts": {name: getattr(counts, name) for name in _COUNTS},
        "aggregates": {
            "sessions_held": a.sessions_held,
            "sums": dict(a.sums),
            "ratios": {key: [r.attended, r.total] for key, r in a.ratios.items()},
            "choices": {key: dict(counted) for key, counted in a.choices.items()},
            "attendance": {key: value.to_json() for key, value in a.attendance.items()},
        },
    }


def from_snapshot(value: object, cycle: int | None = None) -> tuple[Counts, Aggregates] | None:
    """The counts and aggregates a stored snapshot holds; None when there is none, it cannot be read, or it
    answers another period than `cycle` (None: any; a snapshot kept before periods were recorded answers 1)."""
    if value is None:
        return None
    try:
        assert isinstance(value, Mapping)
        if cycle is not None and int(value.get("cycle", 1)) != cycle:
            return None
        counts = Counts(**{name: int(value["counts"].get(name, 0)) for name in _COUNTS})
        a = value["aggregates"]
        aggregates = Aggregates(
            sessions_held=int(a.get("sessions_held", 0)),
            sums={k: n for k, v in a.get("sums", {}).items() if (n := as_number(v)) is not None},
            ratios={k: Ratio(*(as_number(p) or 0 for p in v[:2])) for k, v in a.get("ratios", {}).items()},
            choices={k: {o: int(c) for o, c in v.items()} for k, v in a.get("choices", {}).items()},
            attendance={
                k: parts
                for k, v in a.get("attendance", {}).items()
                if (parts := as_attendance(v)) is not None
            },
        )
    except (AssertionError, AttributeError, KeyError, TypeError, ValueError) as error:
        log.warning("a report upward's figures cannot be read (%s), left out", error)
        return None
    return counts, aggregates


# --- the directive's tree ------------------------------------------------------------------------------------------


async def units_below(
    session: AsyncSession, scope: status.Scope, directive_id: int, cycle: int | None = None
) -> list[upward.Below]:
    """The units below the scope the directive was handed to, reported up or not for period `cycle` (None: the
    one open now); a lower board looking at the upper directive it forwarded finds none: its own unit is not
    below it."""
    return inside(await upward.below(session, directive_id, cycle), scope)


def inside(rows: Sequence[upward.Below], scope: status.Scope) -> list[upward.Below]:
    """The rows of units strictly below the scope's roots."""
    if scope.everything:
        return list(rows)
    return [
        row
        for row in rows
        if any(row.unit.path.startswith(r.path) and row.unit.id != r.id for r in scope.roots)
    ]


@dataclass(frozen=True)
class Drill:
    """One unit below, looked into: its row (what its board did, its cells' progress, its report upward), the unit
    as a scope, and what its cells reported on (its re-issues, or the directive it forwarded or was held for;
    nothing while its board has not acted)."""

    row: upward.Below
    within: status.Scope
    sources: list[Directive]


async def drill(
    session: AsyncSession, scope: status.Scope, directive: Directive, unit_id: int
) -> Drill | None:
    """The unit below the scope the directive was handed to (or a unit merged into it since); None when it is no
    such unit. The chat's «tình hình 1818 X-TP» and the web's drill-down page both look through here."""
    rows = await units_below(session, scope, directive.id)
    row = next((r for r in rows if unit_id in {r.unit.id, *(u.id for u in r.merged)}), None)
    if row is None:
        return None
    within = status.Scope((status.ScopeRoot(row.unit.id, row.unit.path, row.unit.name),))
    if row.action == levels.PENDING:
        return Drill(row, within, [])
    return Drill(row, within, row.reissues if row.action == levels.REISSUED else [directive])


def default_source(units: Sequence[BelowUnit]) -> str:
    """From the cells while a unit below has yet to report up (for the period), from below once every one has."""
    return BELOW if units and all(unit.counts is not None for unit in units) else CELLS


async def source_by_default(session: AsyncSession, directive: Directive, rows: Sequence[upward.Below]) -> str:
    """The source a board gets when it does not choose, for the period open now (the web offers it first)."""
    return default_source(await _below_units(session, directive.id, rows, directive.cycle))


def split_source(args: str) -> tuple[str, str | None]:
    """«1818 theo cấp dưới» -> ("1818", BELOW); the words without a source -> (them, None)."""
    words = args.split()
    tail = " ".join(fold(word) for word in words[-3:]) if len(words) > 3 else ""
    if tail in msg.WORDS_BELOW:
        return " ".join(words[:-3]), BELOW
    if tail in msg.WORDS_CELLS:
        return " ".join(words[:-3]), CELLS
    return args.strip(), None


async def _below_units(
    session: AsyncSession, directive_id: int, rows: Sequence[upward.Below], cycle: int | None = None
) -> list[BelowUnit]:
    """Each unit below with the figures of its report upward (summed over the units merged into it); with
    `cycle`, only a report upward answering that period counts (a unit keeps its latest one: one that answered
    another period of a recurring directive leaves it not reported up for this one)."""
    query = select(Handoff.unit_id, Handoff.report_figures).where(Handoff.directive_id == directive_id)
    stored: dict[int, object] = {unit: figures for unit, figures in (await session.execute(query)).all()}
    out = []
    for row in rows:
        # Units merged since report once, as their successor: the figures sit on one of their handoffs.
        members = [m for m in (row.unit.id, *(u.id for u in row.merged)) if m in stored]
        figures = [r for m in members if (r := from_snapshot(stored[m], cycle)) is not None]
        reported = row.reported_up is not None and bool(figures)
        out.append(
            BelowUnit(
                name=row.unit.name,
                action=msg.action_of(row.action, [d.number or "" for d in row.reissues]),
                reported_at=row.reported_up if reported else None,
                late=row.late_up,
                counts=add_counts(c for c, _ in figures) if reported else None,
                aggregates=add_aggregates(a for _, a in figures) if reported else None,
                cells=row.cells,
                cells_reported=row.reported,
            )
        )
    return out


def _reported(units: Sequence[BelowUnit]) -> tuple[Counts, Aggregates]:
    """The figures of the units that reported up, added up (the others are only listed)."""
    counts = [u.counts for u in units if u.counts is not None]
    aggregates = [u.aggregates for u in units if u.aggregates is not None]
    return add_counts(counts), add_aggregates(aggregates)


def _below_note(units: Sequence[BelowUnit]) -> str:
    return msg.SOURCE_BELOW.format(reported=sum(u.counts is not None for u in units), units=len(units))


def _cells_note(counts: Counts) -> str:
    return msg.SOURCE_CELLS.format(reported=counts.reported, cells=counts.targeted)


# --- the summary in chat -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rollup:
    """The upper board's figures on one directive: where they come from (`source`, in words `note`), the cells'
    counts and the form's aggregates, each unit below, and the cells reached directly (from below: shown apart)."""

    directive: Directive
    form: FormSpec | None
    source: str
    note: str
    counts: Counts
    aggregates: Aggregates
    below: list[BelowUnit]
    direct: Counts


async def rollup(
    session: AsyncSession, scope: status.Scope, directive: Directive, source: str | None = None
) -> Rollup | None:
    """The figures of a directive handed down, from `source` (None: the default); None when it went to no board
    below the scope. A few aggregate queries whatever the number of units and cells."""
    rows = await units_below(session, scope, directive.id)
    if not rows:
        return None
    form = await get_form(session, directive.form_key)
    units = await _below_units(session, directive.id, rows, directive.cycle)  # the period open now
    source = source or default_source(units)
    if source == BELOW:
        counts, aggregates = _reported(units)
        direct = await status.counts_outside(session, scope, directive.id, [row.unit.path for row in rows])
        return Rollup(directive, form, BELOW, _below_note(units), counts, aggregates, units, direct)
    ids = await status.family_of_period(session, directive, directive.cycle)
    counts = add_counts((await status.counts_by_directive(session, scope, ids)).values())
    aggregates = add_aggregates((await status.form_aggregates(session, scope, ids, form)).values())
    return Rollup(directive, form, CELLS, _cells_note(counts), counts, aggregates, units, Counts())


# --- the Excel export and the Word report --------------------------------------------------------------------------


async def report_data(
    session: AsyncSession,
    scope: status.Scope,
    directive: Directive,
    today: date,
    timezone: str,
    *,
    source: str | None = None,
    period: cycles.Cycle | None = None,
    also: Sequence[int] = (),
) -> ReportData:
    """What the Excel export and the Word report show: for a directive handed down to units below the scope, its
    figures from `source` (None: the default) saying so, of `period` for a recurring directive (None: the one
    open now; a closed one aggregates the same way, from the reports upward that answered it or from that period's
    cells); for any other, the directive's own targets (`status.report_data`). `also`: the other directives the
    same report answers for (a lower board's report upward after a merge: each merged unit's re-issue), their
    cells, units below and quotes taken in once each under `directive`'s letterhead."""
    base = await status.report_data(session, scope, directive, today, timezone, period=period)
    number = period.number if period is not None else directive.cycle
    closed = number if period is not None and not period.current else None
    sources = list(dict.fromkeys((directive.id, *also)))
    rows_of = {
        d: await units_below(session, scope, d, number if d == directive.id else None) for d in sources
    }
    rows = [row for d in sources for row in rows_of[d]]
    if not rows and len(sources) == 1:
        return base
    units = [
        unit
        for d in sources
        for unit in await _below_units(session, d, rows_of[d], number if d == directive.id else None)
    ]
    source = source or default_source(units)
    if source == BELOW:
        counts, aggregates = _reported(units)
        fields_ = base.directive.form_fields
        return replace(
            base,
            counts=counts,
            aggregates=aggregates,
            rows=[_unit_row(unit, fields_) for unit in units],
            highlights=(),
            difficulties=(),
            recommendations=(),
            source=_below_note(units),
            below=units,
        )
    # Each directive once: a forward's family holds the re-issues below it, which may be sources too.
    # A re-issue following a recurring directive is read in its own period answering this one (None: open now).
    periods = await status.family_periods(session, directive, number)
    ids = list(periods)
    for other_source in sources[1:]:
        ids += [i for i in await status.family(session, other_source) if i not in ids]
    form = await get_form(session, directive.form_key)
    photos = [spec.key for spec in form.photo_fields] if form is not None else []
    cells = list(base.rows)  # the directive's own targets, of the period
    for other in ids[1:]:  # re-issues report once; their photo links name the directive the cell reported on
        rows_ = await status.unit_rows(session, scope, other, photos, cycle=periods.get(other))
        cells += [replace(row, directive_id=other) for row in rows_]
    cells.sort(key=lambda row: row.path)
    counts = Counts.from_rows(cells)
    said = await status.quotes(session, scope, ids[:1], form, cycle=closed)
    said += await status.quotes(session, scope, ids[1:], form) if ids[1:] else []
    return replace(
        base,
        rows=cells,
        counts=counts,
        aggregates=Aggregates.from_rows(base.directive.form_fields, cells),
        highlights=status.of_kind(said, "highlights"),
        difficulties=status.of_kind(said, "difficulties"),
        recommendations=status.of_kind(said, "recommendations"),
        source=_cells_note(counts) if rows else "",
    )


def _unit_row(unit: BelowUnit, form_fields: Sequence[FormField]) -> UnitRow:
    """A unit below as a row of the Word report's appendix: reported (on time, late) by its report upward, its
    figures in the form's columns."""
    if unit.counts is None or unit.aggregates is None:
        # Not reported up: its cells' live progress in words (a status the builders show as it is), never added in.
        live = msg.NOT_UP_LIVE.format(reported=unit.cells_reported, cells=unit.cells)
        return UnitRow(path=unit.name, name=unit.name, status=live)
    a = unit.aggregates
    values: dict[str, FieldValue] = {}
    for f in form_fields:
        if f.type == FieldType.NUMBER and f.key in a.sums:
            values[f.key] = a.sums[f.key]
        elif f.type == FieldType.RATIO and f.key in a.ratios:
            values[f.key] = {"attended": a.ratios[f.key].attended, "total": a.ratios[f.key].total}
        elif f.type == FieldType.ATTENDANCE and f.key in a.attendance:
            values[f.key] = a.attendance[f.key].to_json()
        elif f.type == FieldType.CHOICE and f.key in a.choices:
            values[f.key] = msg.choice_text(dict(a.choices[f.key]))
    return UnitRow(
        path=unit.name,
        name=unit.name,
        status=UnitStatus.REPORTED_LATE if unit.late else UnitStatus.REPORTED,
        reported_at=unit.reported_at,
        late=unit.late,
        values=values,
    )
