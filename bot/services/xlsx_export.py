"""Excel export of one directive's reporting state: a "Chi tiết" sheet (one row per target unit) and a
"Tổng hợp" sheet (counts and aggregates), written by XlsxWriter row after row, each row's height computed as its
cells are written (a province's 10,000 rows: about 2.5 s with their query, `python -m bench board`).

The summary sheet is computed from the very rows the detail sheet shows (never from a separate query), so every
total can be checked by filtering the rows. Both sheets print on A4 landscape, one page wide, with the header row
repeated on every page. A row whose report carries evidence photos links to the bot's signed photo page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.services.report_data import (
    Aggregates,
    Attendance,
    Counts,
    FieldType,
    FieldValue,
    FormField,
    Ratio,
    ReportData,
    UnitRow,
    as_attendance,
    as_date,
    as_number,
    as_options,
    as_ratio,
)
from messages import documents as msg
from messages import rollup as rollup_msg
from messages.formats import format_number

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.##"
PERCENT_FORMAT = "0.0%"

MIN_WIDTH = 8
MAX_WIDTH = 26  # longer texts wrap, so one column never pushes the page to an unreadable scale
SUMMARY_MAX_WIDTH = 60  # three columns: its labels fit on one line
HEADER_WIDTH = 12  # headers wrap onto a few lines rather than widen narrow data
DATETIME_WIDTH = 17
DATE_WIDTH = 12
EXCEL_MAX_TEXT = 32_767
FALLBACK_TIMEZONE = "Asia/Ho_Chi_Minh"

HEADER_STYLE = {"bold": True, "text_wrap": True, "valign": "top"}
WRAP_STYLE = {"text_wrap": True, "valign": "top"}
PAPER_A4 = 9  # the OOXML paperSize code of A4
LINE_POINTS = 15  # one line of 11-point text
# Each row goes out to a temporary file once the next one starts (a province's export peaks at about 5 MB instead
# of 33 MB, in the same time). Not in_memory: XlsxWriter turns constant_memory off when both are asked.
WORKBOOK_OPTIONS = {"constant_memory": True}

Value = str | int | float | datetime | date | None
Plain = str | int | float | datetime | date
EvidenceLink = Callable[[UnitRow], str | None]  # the signed photo page of a row, None when it has no photo

# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/FFFF): dropped, not escaped.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Link:
    """A cell that opens a web page."""

    text: str
    url: str


@dataclass(frozen=True, slots=True)
class _Column:
    """One column of the detail sheet: its header, how a unit row fills it, and how its cells look."""

    header: str
    extract: Callable[[UnitRow], Value | Link]
    kind: str = "text"  # text | number | percent | datetime | date | link


def build_xlsx(data: ReportData, evidence_link: EvidenceLink | None = None) -> bytes:
    """The workbook as .xlsx bytes: "Chi tiết" then "Tổng hợp", headers bold, frozen, filterable and printable.
    With `evidence_link` and a form asking for photos, the detail sheet gets a column linking each row with
    photos to its photo page."""
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    styles = _Styles(workbook)
    _write_detail(workbook.add_worksheet(msg.SHEET_DETAIL), styles, data, evidence_link)
    _write_summary(workbook.add_worksheet(msg.SHEET_SUMMARY), styles, data)
    workbook.set_properties(
        {"title": _clean_text(_directive_reference(data)), "author": _clean_text(data.directive.issuer)}
    )
    workbook.close()
    return buffer.getvalue()


class _Styles:
    """The workbook's cell formats, each added once: the header's, wrapped text's and each number format's."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self.header = workbook.add_format(HEADER_STYLE)
        self.wrap = workbook.add_format(WRAP_STYLE)
        self._numbers: dict[str, Format | None] = {"": None}

    def number(self, number_format: str) -> Format | None:
        if number_format not in self._numbers:
            self._numbers[number_format] = self._workbook.add_format({"num_format": number_format})
        return self._numbers[number_format]


# --- "Chi tiết" -------------------------------------------------------------------------------------------


def _write_detail(
    sheet: Worksheet, styles: _Styles, data: ReportData, evidence_link: EvidenceLink | None
) -> None:
    """Lay out the sheet, then write its header and its rows in order."""
    tz = _zone(data.timezone)
    link = evidence_link if data.directive.asks_photos else None
    columns = _detail_columns(data.directive.form_fields, tz, link)
    table = [[column.extract(row) for column in columns] for row in data.rows]
    headers, kinds = [column.header for column in columns], [column.kind for column in columns]
    # Rows are written out as they come, so widths (and the wrapping they decide) come from a pass over the values.
    widths = _set_widths(sheet, headers, table, kinds)
    _print_setup(sheet)
    sheet.autofilter(0, 0, len(table), len(columns) - 1)
    _write_header(sheet, styles, headers, widths)
    _rows(sheet, styles, table, kinds, widths)


def _detail_columns(
    fields: Sequence[FormField], tz: ZoneInfo, evidence_link: EvidenceLink | None = None
) -> list[_Column]:
    columns = [
        _Column(msg.COL_UNIT, lambda row: row.path or row.name),
        _Column(msg.COL_SECRETARY, lambda row: row.secretary),
        _Column(msg.COL_PHONE, lambda row: row.phone),
        _Column(msg.COL_STATUS, lambda row: msg.status_label(row.status)),
        _Column(msg.COL_DELIVERED_AT, lambda row: _local(row.delivered_at, tz), "datetime"),
        _Column(msg.COL_ACKNOWLEDGED_AT, lambda row: _local(row.acknowledged_at, tz), "datetime"),
        _Column(msg.COL_REPORTED_AT, lambda row: _local(row.reported_at, tz), "datetime"),
    ]
    for form_field in fields:
        columns.extend(_field_columns(form_field, tz))
    columns.append(_Column(msg.COL_REVIEW, lambda row: msg.review_label(row.review) or None))
    columns.append(_Column(msg.COL_PROXY, lambda row: msg.PROXY_YES if row.by_proxy else None))
    columns.append(_Column(msg.COL_LATE, lambda row: msg.LATE_YES if row.late else None))
    columns.append(_Column(msg.COL_VERSIONS, lambda row: as_number(row.versions), "number"))
    if evidence_link is not None:
        columns.append(_Column(msg.COL_EVIDENCE, lambda row: _evidence(row, evidence_link), "link"))
    return columns


def _evidence(row: UnitRow, evidence_link: EvidenceLink) -> Link | None:
    if not row.photos:
        return None
    url = evidence_link(row)
    return Link(msg.EVIDENCE_LINK_TEXT.format(count=len(row.photos)), url) if url else None


def _field_columns(form_field: FormField, tz: ZoneInfo) -> list[_Column]:
    key = form_field.key
    if form_field.type == FieldType.RATIO:
        return [
            _Column(
                msg.COL_RATIO_ATTENDED.format(label=form_field.label),
                lambda row: _ratio_part(row.values.get(key), attended=True),
                "number",
            ),
            _Column(
                msg.COL_RATIO_TOTAL.format(label=form_field.label),
                lambda row: _ratio_part(row.values.get(key), attended=False),
                "number",
            ),
        ]
    if form_field.type == FieldType.ATTENDANCE:
        return _attendance_columns(form_field)
    if form_field.type == FieldType.NUMBER:
        return [_Column(form_field.label, lambda row: _number_or_text(row.values.get(key)), "number")]
    if form_field.type == FieldType.DATE:
        return [_Column(form_field.label, lambda row: _date_or_text(row.values.get(key), tz), "date")]
    return [_Column(form_field.label, lambda row: _text(row.values.get(key)))]


def _attendance_columns(form_field: FormField) -> list[_Column]:
    """One column per part, then present and its rate (exempted members left out of the denominator)."""
    key, label = form_field.key, form_field.label
    last: list[Any] = [None, None]  # the row last read and its attendance: the columns read each row in turn

    def of(row: UnitRow) -> Attendance | None:
        if last[0] is not row:
            last[0], last[1] = row, as_attendance(row.values.get(key))
        return cast("Attendance | None", last[1])

    def part(name: str) -> Callable[[UnitRow], Value]:
        return lambda row: None if (attendance := of(row)) is None else getattr(attendance, name)

    columns = [
        _Column(msg.COL_ATTENDANCE.format(label=label, part=part_name), part(name), "number")
        for name, part_name in msg.ATTENDANCE_COLUMNS.items()
    ]
    rate = _Column(msg.COL_ATTENDANCE_RATE.format(label=label), part("rate"), "percent")
    return [*columns, rate]


# --- "Tổng hợp" -------------------------------------------------------------------------------------------


def _write_summary(sheet: Worksheet, styles: _Styles, data: ReportData) -> None:
    lines = list(_summary_lines(data))
    kinds = ["text", "number", "percent"]
    widths = _set_widths(sheet, list(msg.SUMMARY_HEADERS), lines, kinds, SUMMARY_MAX_WIDTH)
    _print_setup(sheet)
    _write_header(sheet, styles, list(msg.SUMMARY_HEADERS), widths)
    _rows(sheet, styles, lines, kinds, widths)


def _summary_lines(data: ReportData) -> Iterator[list[Value]]:
    """Totals of the detail sheet's rows: the sheet and its summary always agree, whatever changed since."""
    directive = data.directive
    counts = Counts.from_rows(data.rows)
    aggregates = Aggregates.from_rows(directive.form_fields, data.rows)
    yield [msg.SUM_DIRECTIVE, _directive_reference(data), None]
    yield [msg.SUM_SUBJECT, directive.subject, None]
    if directive.deadline is not None:
        yield [msg.SUM_DEADLINE, msg.party_date(directive.deadline), None]
    yield [msg.SUM_GENERATED_ON, msg.party_date(data.generated_on), None]
    if data.source:  # a directive handed down: which figures these are (bot.services.rollup)
        yield [rollup_msg.SOURCE_LABEL, data.source, None]
    targeted = counts.targeted
    yield [msg.SUM_TARGETED, targeted, None]
    yield [msg.SUM_DELIVERED, counts.delivered, counts.delivery_rate]
    yield [msg.SUM_ACKNOWLEDGED, counts.acknowledged, counts.acknowledge_rate]
    yield [msg.SUM_REPORTED, counts.reported, counts.report_rate]
    yield [msg.SUM_ON_TIME, counts.reported_on_time, _rate(counts.reported_on_time, targeted)]
    yield [msg.SUM_LATE, counts.reported_late, _rate(counts.reported_late, targeted)]
    yield [_not_reported_label(data), counts.not_reported, _rate(counts.not_reported, targeted)]
    yield [msg.SUM_BLOCKED, counts.blocked, _rate(counts.blocked, targeted)]
    yield [msg.SUM_UNREGISTERED, counts.unregistered, _rate(counts.unregistered, targeted)]
    yield [msg.SUM_SESSIONS, aggregates.sessions_held, None]
    for form_field in directive.form_fields:
        yield from _field_summary_lines(form_field, aggregates)


def _not_reported_label(data: ReportData) -> str:
    """Missing reports are overdue only once the deadline has passed; before that they are simply not due."""
    deadline = data.directive.deadline
    if deadline is None:
        return msg.SUM_NOT_REPORTED
    overdue = deadline < data.generated_on
    return msg.SUM_NOT_REPORTED_OVERDUE if overdue else msg.SUM_NOT_REPORTED_NOT_DUE


def _field_summary_lines(form_field: FormField, aggregates: Aggregates) -> Iterator[list[Value]]:
    label = form_field.label
    if form_field.type == FieldType.NUMBER and form_field.key in aggregates.sums:
        yield [label, as_number(aggregates.sums[form_field.key]), None]
    elif form_field.type == FieldType.RATIO and form_field.key in aggregates.ratios:
        ratio = aggregates.ratios[form_field.key]
        yield [msg.SUM_RATIO_ATTENDED.format(label=label), as_number(ratio.attended), _ratio_rate(ratio)]
        yield [msg.SUM_RATIO_TOTAL.format(label=label), as_number(ratio.total), None]
    elif form_field.type == FieldType.ATTENDANCE and form_field.key in aggregates.attendance:
        yield from _attendance_summary_lines(label, aggregates.attendance[form_field.key])
    elif form_field.type == FieldType.CHOICE:
        reports = aggregates.sessions_held
        for option, count in aggregates.choices.get(form_field.key, {}).items():
            line = msg.SUM_CHOICE.format(label=label, option=option)
            yield [line, as_number(count), _rate(as_number(count) or 0, reports)]


def _attendance_summary_lines(label: str, attendance: Attendance) -> Iterator[list[Value]]:
    for name, part_name in msg.ATTENDANCE_COLUMNS.items():
        rate = attendance.rate if name == "present" else None
        yield [msg.SUM_ATTENDANCE.format(label=label, part=part_name), getattr(attendance, name), rate]
        if name == "exempt":
            yield [
                msg.SUM_ATTENDANCE.format(label=label, part=msg.ATTENDANCE_EXPECTED),
                attendance.expected,
                None,
            ]


# --- Cells and layout -------------------------------------------------------------------------------------


def _rows(
    sheet: Worksheet,
    styles: _Styles,
    table: Sequence[Sequence[Value | Link]],
    kinds: Sequence[str],
    widths: Sequence[float],
) -> None:
    """The rows below the header, each with the height of its tallest wrapped text: spreadsheet programs do not
    all grow a row by themselves (LibreOffice keeps the default height when it opens the file, and the lines
    overlap). Each value goes to the write method of its type: text is never read as a formula or a link."""
    per_lines = [_per_line(width) for width in widths]
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    for row, values in enumerate(table, start=1):
        lines = 1
        for column, (value, kind, per_line) in enumerate(zip(values, kinds, per_lines, strict=True)):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                clean = _clean_text(value)
                if len(clean) > per_line:  # wider than its column: printed on several lines, not cut off
                    lines = max(lines, -(-len(clean) // per_line))
                    write_string(row, column, clean, styles.wrap)
                else:
                    write_string(row, column, clean)
            elif isinstance(value, Link):
                sheet.write_url(row, column, value.url, string=_clean_text(value.text))  # the link style
            elif isinstance(value, date):  # datetimes too
                write_datetime(row, column, value, styles.number(_style(value, kind)))
            else:
                write_number(row, column, value, styles.number(_style(value, kind)))
        if lines > 1:  # before the next row: constant_memory writes a row out when the next one starts
            sheet.set_row(row, LINE_POINTS * lines)


def _style(value: Plain, kind: str) -> str:
    """The number format a value needs, "" when it reads well without one."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if kind == "percent":
        return PERCENT_FORMAT
    if isinstance(value, int) and abs(value) < 1000:
        return ""  # reads the same without the thousands format
    return INTEGER_FORMAT if float(value).is_integer() else DECIMAL_FORMAT


def _write_header(sheet: Worksheet, styles: _Styles, headers: Sequence[str], widths: Sequence[float]) -> None:
    """The bold header row, as tall as its most wrapped header, frozen above the rows and printed on every page."""
    for column, header in enumerate(headers):
        sheet.write_string(0, column, _clean_text(header), styles.header)
    lines = max(_lines(header, width) for header, width in zip(headers, widths, strict=True))
    if lines > 1:
        sheet.set_row(0, LINE_POINTS * lines)
    sheet.freeze_panes(1, 0)
    sheet.repeat_rows(0)


def _print_setup(sheet: Worksheet) -> None:
    """A4 landscape, scaled to one page wide (as many pages down as it takes), gridlines printed."""
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.fit_to_pages(1, 0)
    sheet.hide_gridlines(0)  # 0: shown on screen and printed
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def _set_widths(
    sheet: Worksheet,
    headers: Sequence[str],
    table: Sequence[Sequence[Value | Link]],
    kinds: Sequence[str],
    max_width: int = MAX_WIDTH,
) -> list[float]:
    """Set and return each column's width: its longest value, within MIN_WIDTH..max_width."""
    widths: list[float] = []
    columns = zip(*table, strict=True) if table else iter([()] * len(headers))
    for index, (header, kind, values) in enumerate(zip(headers, kinds, columns, strict=True)):
        # A column repeats few distinct values (states, times, counts): measure each once.
        longest = max(map(_display_width, set(values)), default=0)
        # Headers wrap, so a long header needs only a part of its length when the data is narrow.
        width = max(longest, _longest_word(header), min(len(header), HEADER_WIDTH), _fixed_width(kind)) + 2
        widths.append(min(max(width, MIN_WIDTH), max_width))
        sheet.set_column(index, index, widths[-1])
    return widths


def _lines(text: str, width: float) -> int:
    """About how many lines `text` takes in a column `width` characters wide (words are not split)."""
    return -(-len(text) // _per_line(width))


def _per_line(width: float) -> int:
    return max(int(width) - 2, 1)


def _display_width(value: Value | Link) -> int:
    if value is None:
        return 0
    if isinstance(value, Link):
        return len(value.text)
    if isinstance(value, datetime):
        return DATETIME_WIDTH
    if isinstance(value, date):
        return DATE_WIDTH
    if isinstance(value, str):
        return len(value)
    return len(format_number(value)) + 1


def _fixed_width(kind: str) -> int:
    return {"datetime": DATETIME_WIDTH, "date": DATE_WIDTH}.get(kind, 0)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


# --- Value conversions ------------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)[:EXCEL_MAX_TEXT]


def _text(value: FieldValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple | list):
        return "; ".join(as_options(value))
    if isinstance(value, date):
        return msg.party_date(value)
    if (ratio := as_ratio(value)) is not None:
        return f"{format_number(ratio.attended)}/{format_number(ratio.total)}"
    number = as_number(value)
    return format_number(number) if number is not None else str(value)


def _number_or_text(value: FieldValue) -> Value:
    number = as_number(value)
    return number if number is not None else _text(value)


def _date_or_text(value: FieldValue, tz: ZoneInfo) -> Value:
    if isinstance(value, datetime):
        return _local(value, tz)
    day = as_date(value)
    return day if day is not None else _text(value)


def _ratio_part(value: FieldValue, *, attended: bool) -> Value:
    ratio = as_ratio(value)
    if ratio is not None:
        return ratio.attended if attended else ratio.total
    # A malformed ratio still shows in the first column rather than vanishing.
    return _text(value) if attended else None


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    # Excel cells carry no time zone: show local wall time.
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(tz).replace(tzinfo=None)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_TIMEZONE)


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _ratio_rate(ratio: Ratio) -> float | None:
    clean = as_ratio(ratio)
    return clean.rate if clean is not None else None


def _directive_reference(data: ReportData) -> str:
    directive = data.directive
    doc_type = msg.doc_type_name(directive.doc_type)
    if directive.issued_on is None:
        return msg.SUM_DIRECTIVE_VALUE.format(doc_type=doc_type, number=directive.number)
    return msg.SUM_DIRECTIVE_DATED.format(
        doc_type=doc_type, number=directive.number, date=msg.party_date(directive.issued_on)
    )
