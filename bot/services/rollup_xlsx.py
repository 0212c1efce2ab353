"""The Excel export of a directive aggregated from the intermediate reports (bot.services.rollup, `BELOW`): a
"Cấp dưới" sheet with one row per unit below (the figures its report upward carried; a unit that has not reported
up shows only its cells' live progress, in a column of its own that is not added up) and a "Tổng hợp" sheet whose
first figures line says where they come from. Every total is the sum of the rows above it, so the board can check
it by filtering. A few hundred rows at most: XlsxWriter's ordinary mode, every text written as text (never read as
a formula or a link)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from io import BytesIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.services.report_data import (
    Aggregates,
    BelowUnit,
    FieldType,
    FormField,
    ReportData,
)
from messages import documents as doc_msg
from messages import levels as level_msg
from messages import rollup as msg

Value = str | int | float | None
WIDTH = 18
FIRST_WIDTH = 34
HEADER_STYLE = {"bold": True, "text_wrap": True, "valign": "top"}
PAPER_A4 = 9
TEXT_AS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False}


def build_rollup_xlsx(data: ReportData) -> bytes:
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {**TEXT_AS_TEXT, "in_memory": True})
    header = workbook.add_format(HEADER_STYLE)
    fields = data.directive.form_fields
    rows = [_unit_values(unit, fields) for unit in data.below]
    _table(workbook.add_worksheet(msg.SHEET_BELOW), header, _headers(fields), rows)
    _table(
        workbook.add_worksheet(doc_msg.SHEET_SUMMARY),
        header,
        list(doc_msg.SUMMARY_HEADERS[:2]),
        _summary(data),
    )
    workbook.set_properties({"title": data.directive.number})
    workbook.close()
    return buffer.getvalue()


def _figure_columns(fields: Sequence[FormField]) -> Iterator[tuple[str, str, str, str]]:
    """(header, kind, key, part) of each figure column: number sums, attendance present and expected, ratio parts,
    one column per option of a choice."""
    for f in fields:
        if f.type == FieldType.NUMBER:
            yield f.label, "sum", f.key, ""
        elif f.type == FieldType.ATTENDANCE:
            yield msg.COL_PART.format(label=f.label, part=msg.PART_PRESENT), "attendance", f.key, "present"
            yield msg.COL_PART.format(label=f.label, part=msg.PART_EXPECTED), "attendance", f.key, "expected"
        elif f.type == FieldType.RATIO:
            yield msg.COL_PART.format(label=f.label, part=msg.PART_ATTENDED), "ratio", f.key, "attended"
            yield msg.COL_PART.format(label=f.label, part=msg.PART_TOTAL), "ratio", f.key, "total"
        elif f.type == FieldType.CHOICE:
            for option in f.options:
                yield msg.COL_CHOICE.format(label=f.label, option=option), "choice", f.key, option


def _headers(fields: Sequence[FormField]) -> list[str]:
    return [
        msg.COL_UNIT,
        msg.COL_ACTION,
        msg.COL_REPORTED_UP,
        msg.COL_ON_TIME,
        msg.COL_CELLS,
        msg.COL_CELLS_REPORTED,
        msg.COL_CELLS_ON_TIME,
        msg.COL_CELLS_LATE,
        msg.COL_SESSIONS,
        *(header for header, *_ in _figure_columns(fields)),
        msg.COL_LIVE,
    ]


def _figure(aggregates: Aggregates, kind: str, key: str, part: str) -> Value:
    if kind == "sum":
        return aggregates.sums.get(key)
    if kind == "attendance":
        attendance = aggregates.attendance.get(key)
        return None if attendance is None else getattr(attendance, part)
    if kind == "ratio":
        ratio = aggregates.ratios.get(key)
        return None if ratio is None else getattr(ratio, part)
    return aggregates.choices.get(key, {}).get(part, 0)


def _unit_values(unit: BelowUnit, fields: Sequence[FormField]) -> list[Value]:
    columns = list(_figure_columns(fields))
    if unit.counts is None or unit.aggregates is None:
        live = f"{unit.cells_reported}/{unit.cells}"
        return [
            unit.name,
            unit.action,
            msg.NOT_UP,
            None,
            None,
            None,
            None,
            None,
            None,
            *[None] * len(columns),
            live,
        ]
    c, a = unit.counts, unit.aggregates
    when = level_msg.UP_LATE if unit.late else level_msg.UP_ON_TIME
    at = unit.reported_at.strftime("%d/%m/%Y") if unit.reported_at else None
    figures = [_figure(a, kind, key, part) for _, kind, key, part in columns]
    return [
        unit.name,
        unit.action,
        at,
        when,
        c.targeted,
        c.reported,
        c.reported_on_time,
        c.reported_late,
        a.sessions_held,
        *figures,
        None,
    ]


def _summary(data: ReportData) -> Iterator[list[Value]]:
    """The totals of the "Cấp dưới" rows, first saying where they come from."""
    units, counts, a = data.below, data.counts, data.aggregates
    reported = [u for u in units if u.counts is not None]
    yield [msg.SOURCE_LABEL, data.source]
    yield [doc_msg.SUM_DIRECTIVE, data.directive.number]
    yield [doc_msg.SUM_SUBJECT, data.directive.subject]
    yield [doc_msg.SUM_GENERATED_ON, doc_msg.party_date(data.generated_on)]
    yield [msg.SUM_UNITS, len(units)]
    yield [msg.SUM_UNITS_REPORTED, len(reported)]
    yield [msg.SUM_UNITS_LATE, sum(u.late for u in reported)]
    yield [msg.SUM_CELLS, counts.targeted]
    yield [msg.SUM_CELLS_REPORTED, counts.reported]
    yield [msg.SUM_CELLS_ON_TIME, counts.reported_on_time]
    yield [msg.SUM_CELLS_LATE, counts.reported_late]
    yield [msg.COL_SESSIONS, a.sessions_held]
    for header, kind, key, part in _figure_columns(data.directive.form_fields):
        yield [header, _figure(a, kind, key, part)]


def _table(sheet: Worksheet, header: Format, headers: list[str], rows: Iterable[Sequence[Value]]) -> None:
    """The bold header, then the rows; A4 landscape, one page wide, the header frozen and on every page."""
    sheet.write_row(0, 0, headers, header)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, row)  # None leaves its cell empty
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, FIRST_WIDTH)
    sheet.set_column(1, len(headers) - 1, WIDTH)
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
