"""Word draft of the aggregated report (báo cáo tổng hợp) on one directive, in the Party's document format
(Hướng dẫn 36-HD/VPTW, summarised in docs/party-format.md): A4, Times New Roman, the two-column header, title,
four sections, the closing blocks (Nơi nhận, signature) kept together on one page, and an appendix with one row
per unit whose rows never split. Every element's look comes from the layout table below. The number is the one
the register proposed or recorded (bot/services/doc_register.py); the board edits and signs the draft."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from io import BytesIO

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from bot.core.textnorm import fold
from bot.services.report_data import (
    Attendance,
    FieldType,
    FieldValue,
    FormField,
    Quote,
    Ratio,
    ReportData,
    UnitRow,
    as_attendance,
    as_date,
    as_number,
    as_options,
    as_ratio,
    is_quotable,
)
from messages import documents as msg
from messages import rollup as rollup_msg
from messages.formats import attendance_figures, format_number, format_percent

# --- The layout: one table of every element's place and look, from Hướng dẫn 36-HD/VPTW (docs/party-format.md) --

FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(14)
BODY_INDENT = Cm(1)
PARAGRAPH_SPACING = Pt(6)
MIN_LINE_SPACING = Pt(15)
TABLE_TEXT_SIZE = Pt(12)

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)  # A4
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH = Mm(210 - 30 - 15)
HEADER_COLUMNS = (Mm(78), Mm(87))  # issuer block top left, Party heading and place-date top right
SIGNATURE_COLUMNS = (Mm(80), Mm(85))  # Nơi nhận bottom left, the signature bottom right
SIGNATURE_GAP_LINES = 4  # room for the hand signature and the seal

APPENDIX_INDEX_WIDTH = Mm(13)  # "STT" in bold 12 pt on one line
APPENDIX_STATUS_WIDTH = Mm(30)
APPENDIX_FIELD_WIDTH = Mm(24)
APPENDIX_MAX_FIELDS = 4
APPENDIX_FIELD_TYPES = (
    FieldType.NUMBER,
    FieldType.RATIO,
    FieldType.ATTENDANCE,
    FieldType.CHOICE,
    FieldType.DATE,
)

_AFTER_TABLE_BORDERS = (
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
    "w:tblCaption",
    "w:tblDescription",
)
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class _Style:
    """How one line of text looks; the defaults are the body paragraph of the Party format."""

    size: Length = BODY_SIZE
    bold: bool = False
    italic: bool = False
    underline: bool = False
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY
    indent: Length | None = BODY_INDENT
    space_before: Length = PARAGRAPH_SPACING
    page_break_before: bool = False
    keep_with_next: bool = False


BODY = _Style()  # body text: 14, upright, justified, first line indented 1 cm
HEADING = _Style(bold=True, keep_with_next=True)  # a heading never ends a page
EMPHASIS = _Style(italic=True)
CENTER = _Style(align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, space_before=Pt(0))
LEFT = _Style(align=WD_ALIGN_PARAGRAPH.LEFT, indent=None, space_before=Pt(0))
UPPER_BODY = CENTER  # the directly superior body, capitals, 14, upright
ISSUER = replace(CENTER, bold=True)  # the issuing body, capitals, 14, bold
STAR = CENTER  # the "*" under the issuer's name
NUMBER = CENTER  # "Số 03-BC/ĐUK", 14, upright
PARTY_HEADING = replace(CENTER, size=Pt(15), bold=True, underline=True)  # ĐẢNG CỘNG SẢN VIỆT NAM, 15, bold
PLACE_DATE = replace(CENTER, italic=True, space_before=PARAGRAPH_SPACING)  # 14, italic
TITLE = replace(CENTER, size=Pt(16), bold=True, space_before=Pt(18))  # document type, capitals, 16, bold
SUBJECT = replace(CENTER, bold=True)  # the subject line under the type, 14, bold
RECIPIENTS_HEADING = replace(LEFT, underline=True)  # "Nơi nhận:", 14, upright, underlined
RECIPIENT = replace(LEFT, size=Pt(12))  # each recipient, 12, upright
AUTHORITY = replace(CENTER, bold=True)  # "T/M BAN THƯỜNG VỤ", capitals, 14, bold
SIGNER_TITLE = replace(CENTER, bold=True)  # "PHÓ BÍ THƯ", capitals, 14, bold
SIGNER_NAME = replace(CENTER, bold=True)  # the signer's name, 14, bold
PAGE_NUMBER = CENTER  # top centre, from the second page
APPENDIX_HEADING = replace(CENTER, bold=True, page_break_before=True)
APPENDIX_SUBTITLE = replace(CENTER, bold=True)
APPENDIX_NOTE = replace(CENTER, italic=True)
CELL_TEXT = replace(LEFT, size=TABLE_TEXT_SIZE, space_before=Pt(2))
CELL_CENTER = replace(CELL_TEXT, align=WD_ALIGN_PARAGRAPH.CENTER)
CELL_HEADER = replace(CELL_CENTER, bold=True)
LIST_TITLE = replace(HEADING, space_before=Pt(12))
LIST_NOTE = replace(EMPHASIS, space_before=Pt(12))
LIST_ITEM = replace(BODY, space_before=Pt(2))
# The last lines of the body travel with the closing blocks, so a page never holds the closing alone.
CLOSING_LEAD_LINES = 2
TAIL_LINES = 3  # nor does a page hold fewer than this many lines or rows of the appendix


def build_docx(data: ReportData) -> bytes:
    """The report draft as .docx bytes."""
    document = Document()
    _set_up_page(document)
    _set_up_fonts(document)
    _set_properties(document, data)
    _add_header_block(document, data)
    _add_title(document, data)
    _add_deployment(document, data)
    _add_results(document, data)
    _add_quotes_section(document, msg.SECTION_DIFFICULTIES, data.difficulties, msg.NO_DIFFICULTIES)
    _add_quotes_section(document, msg.SECTION_RECOMMENDATIONS, data.recommendations, msg.NO_RECOMMENDATIONS)
    _add_closing(document, data)
    _add_appendix(document, data)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- Page, fonts, properties ------------------------------------------------------------------------------


def _set_up_page(document: DocxDocument) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    # Party format numbers pages from the second one, at the top centre.
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    _format_paragraph(paragraph, PAGE_NUMBER)
    _add_page_field(paragraph)


def _set_up_fonts(document: DocxDocument) -> None:
    """Times New Roman for every script, in the document defaults and the Normal style, so that Word never
    falls back to a theme font for Vietnamese letters (which it may treat as east-asian or complex script)."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        default_rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if default_rpr is not None:
            _set_rfonts(default_rpr)
            for size in (default_rpr.find(qn("w:sz")), default_rpr.find(qn("w:szCs"))):
                if size is not None:
                    size.set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))  # half-points
    normal = document.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = BODY_SIZE
    _set_rfonts(normal.element.get_or_add_rPr())
    _set_language(normal.element.get_or_add_rPr())
    paragraph_format = normal.paragraph_format
    paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph_format.first_line_indent = BODY_INDENT
    paragraph_format.space_before = PARAGRAPH_SPACING
    paragraph_format.space_after = Pt(0)
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
    paragraph_format.line_spacing = MIN_LINE_SPACING


def _set_rfonts(rpr: BaseOxmlElement) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for theme_attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme_attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attribute), FONT_NAME)


def _set_language(rpr: BaseOxmlElement) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), "vi-VN")


def _set_properties(document: DocxDocument, data: ReportData) -> None:
    properties = document.core_properties
    properties.title = msg.DOCX_TITLE_PROPERTY.format(number=data.directive.number)
    properties.author = data.directive.issuer
    properties.last_modified_by = data.directive.issuer
    properties.language = "vi-VN"
    properties.comments = ""


# --- Header block and title -------------------------------------------------------------------------------


def _add_header_block(document: DocxDocument, data: ReportData) -> None:
    """Top left: the superior body, the issuer, the star and the number; top right: the Party heading, then the
    place and date."""
    directive = data.directive
    left, right = _layout_table(document, HEADER_COLUMNS)
    _write(left.paragraphs[0], _clean(directive.parent_body).upper(), UPPER_BODY)
    _line(left, _clean(directive.issuer).upper(), ISSUER)
    _line(left, msg.ISSUER_STAR, STAR)
    _line(left, msg.REPORT_NUMBER.format(number=_number(data)), NUMBER)
    _write(right.paragraphs[0], msg.PARTY_TITLE, PARTY_HEADING)
    _line(right, msg.party_place_date(_clean(directive.place), data.generated_on), PLACE_DATE)


def _number(data: ReportData) -> str:
    """The report's number and symbol, "03-BC/ĐUK"; without one, a gap the clerk writes the number into."""
    return _clean(data.number) or msg.REPORT_NUMBER_GAP.format(issuer_code=_clean(data.directive.issuer_code))


def _add_title(document: DocxDocument, data: ReportData) -> None:
    _line(document, msg.REPORT_TITLE, TITLE)
    _line(document, msg.REPORT_SUBJECT.format(reference=_reference(data, with_subject=True)), SUBJECT)
    _line(document, msg.SUBJECT_RULE, CENTER)
    intro = msg.INTRO.format(
        reference=_reference(data, with_subject=False), date=msg.party_date(data.generated_on)
    )
    _line(document, intro, BODY)


def _reference(data: ReportData, *, with_subject: bool) -> str:
    """ "Công văn số 747-CV/ĐUK ngày 03/4/2024 của Ban Thường vụ Đảng ủy Khối về triển khai ..." """
    directive = data.directive
    text = msg.REFERENCE.format(doc_type=msg.doc_type_name(directive.doc_type), number=directive.number)
    if directive.issued_on is not None:
        text += msg.REFERENCE_DATE.format(date=msg.party_date(directive.issued_on))
    if directive.issued_by.strip():
        text += msg.REFERENCE_ISSUER.format(issued_by=directive.issued_by.strip())
    subject = _clean(directive.subject).rstrip(".")
    if with_subject and subject:
        text += msg.REFERENCE_SUBJECT.format(subject=_lower_first(subject))
    return text


def _lower_first(text: str) -> str:
    # "Triển khai ..." reads "về triển khai ..." mid-sentence; acronyms ("HĐND ...") keep their capitals.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


# --- Sections ---------------------------------------------------------------------------------------------


def _add_deployment(document: DocxDocument, data: ReportData) -> None:
    _line(document, msg.SECTION_DEPLOYMENT, HEADING)
    for sentence in _deployment_sentences(data):
        _line(document, sentence, BODY)


def _deployment_sentences(data: ReportData) -> Iterator[str]:
    counts, n = data.counts, format_number
    if data.source:  # a directive handed down: which figures these are (bot.services.rollup)
        yield rollup_msg.source_line(data.source)
    if counts.targeted <= 0:
        yield msg.DEPLOY_NO_TARGETS
        return
    yield msg.DEPLOY_SENT.format(
        targeted=n(counts.targeted),
        delivered=n(counts.delivered),
        delivered_rate=format_percent(counts.delivery_rate),
        acknowledged=n(counts.acknowledged),
    )
    if counts.not_reported <= 0 and counts.reported >= counts.targeted:
        yield msg.DEPLOY_ALL_REPORTED.format(
            targeted=n(counts.targeted), on_time=n(counts.reported_on_time), late=n(counts.reported_late)
        )
    else:
        yield msg.DEPLOY_REPORTED.format(
            reported=n(counts.reported),
            targeted=n(counts.targeted),
            rate=format_percent(counts.report_rate),
            on_time=n(counts.reported_on_time),
            late=n(counts.reported_late),
            not_reported=n(counts.not_reported),
        )
    unreached = []
    if counts.unregistered > 0:
        unreached.append(msg.DEPLOY_UNREGISTERED.format(count=n(counts.unregistered)))
    if counts.blocked > 0:
        unreached.append(msg.DEPLOY_BLOCKED.format(count=n(counts.blocked)))
    if unreached:
        yield msg.DEPLOY_UNREACHED.format(parts=msg.DEPLOY_UNREACHED_JOINER.join(unreached))
    if data.directive.deadline is not None:
        yield msg.DEPLOY_DEADLINE.format(date=msg.party_date(data.directive.deadline))


def _add_results(document: DocxDocument, data: ReportData) -> None:
    _line(document, msg.SECTION_RESULTS, HEADING)
    if data.counts.reported <= 0 and data.aggregates.sessions_held <= 0:
        _line(document, msg.RESULTS_NONE, BODY)
    else:
        _line(document, msg.RESULTS_INTRO.format(count=format_number(data.counts.reported)), BODY)
        for sentence in _result_sentences(data):
            _line(document, sentence, BODY)
    if any(_merge_quotes([quote]) for quote in data.highlights):
        _line(document, msg.RESULTS_HIGHLIGHTS, BODY)
        _add_quotes(document, data.highlights)


def _result_sentences(data: ReportData) -> Iterator[str]:
    aggregates = data.aggregates
    yield msg.RESULTS_SESSIONS.format(count=format_number(aggregates.sessions_held))
    for form_field in data.directive.form_fields:
        sentence = _field_sentence(form_field, data)
        if sentence:
            yield sentence


def _field_sentence(form_field: FormField, data: ReportData) -> str | None:
    aggregates, label = data.aggregates, _clean(form_field.label)
    unit = f" {form_field.unit.strip()}" if form_field.unit.strip() else ""
    if form_field.type == FieldType.NUMBER:
        total = as_number(aggregates.sums.get(form_field.key))
        if total is None:
            return None
        return msg.RESULTS_NUMBER.format(label=label, value=format_number(total), unit=unit)
    if form_field.type == FieldType.RATIO:
        return _ratio_sentence(label, unit, aggregates.ratios.get(form_field.key))
    if form_field.type == FieldType.CHOICE:
        return _choice_sentence(label, aggregates.choices.get(form_field.key, {}))
    if form_field.type == FieldType.ATTENDANCE:
        return _attendance_sentence(label, aggregates.attendance.get(form_field.key))
    return None


def _attendance_sentence(label: str, attendance: Attendance | None) -> str | None:
    """Present of the members expected (exempted members are neither expected nor absent), then the parts."""
    if attendance is None or attendance.members <= 0:
        return None
    return msg.RESULTS_ATTENDANCE.format(label=label, **attendance_figures(attendance))


def _choice_sentence(label: str, counts: Mapping[str, int]) -> str | None:
    parts = []
    for option, count in counts.items():
        number = as_number(count)
        if number is not None and number > 0 and _clean(option):
            parts.append(msg.RESULTS_CHOICE_PART.format(option=_clean(option), count=format_number(number)))
    return (
        msg.RESULTS_CHOICE.format(label=label, parts=msg.RESULTS_CHOICE_JOINER.join(parts)) if parts else None
    )


def _ratio_sentence(label: str, unit: str, value: Ratio | None) -> str | None:
    ratio = as_ratio(value)
    if ratio is None:
        return None
    attended, total = format_number(ratio.attended), format_number(ratio.total)
    if ratio.rate is None:
        return msg.RESULTS_RATIO_NO_RATE.format(label=label, unit=unit, attended=attended, total=total)
    rate = format_percent(ratio.rate)
    return msg.RESULTS_RATIO.format(label=label, unit=unit, attended=attended, total=total, rate=rate)


def _add_quotes_section(document: DocxDocument, heading: str, quotes: Sequence[Quote], empty: str) -> None:
    _line(document, heading, HEADING)
    if not _add_quotes(document, quotes):
        _line(document, empty, BODY)


@dataclass(frozen=True, slots=True)
class _GroupedQuote:
    units: tuple[str, ...]
    text: str


def _add_quotes(document: DocxDocument, quotes: Sequence[Quote]) -> bool:
    """Write the quotes, under their field label when they come from several fields; False if none is left."""
    by_label: dict[str, list[Quote]] = {}
    for quote in quotes:
        by_label.setdefault(_clean(quote.field_label), []).append(quote)
    groups = {label: merged for label, items in by_label.items() if (merged := _merge_quotes(items))}
    for label, merged in groups.items():
        if len(groups) > 1 and label:
            _line(document, msg.QUOTE_FIELD.format(label=label), EMPHASIS)
        for grouped in merged:
            _add_quote(document, grouped)
    return bool(groups)


def _merge_quotes(quotes: Iterable[Quote]) -> list[_GroupedQuote]:
    """Keep the answers worth quoting (`is_quotable`) that name their unit, and merge the same sentence written by
    several units into one line."""
    texts: dict[str, str] = {}
    units: dict[str, list[str]] = {}
    for quote in quotes:
        text = _clean(quote.text).rstrip(" .;")
        if not _clean(quote.unit_name) or not is_quotable(text):
            continue
        key = fold(text).strip(" .,;:!-")
        texts.setdefault(key, text)
        authors = units.setdefault(key, [])
        unit = _clean(quote.unit_name)
        if unit and unit not in authors:
            authors.append(unit)
    return [_GroupedQuote(tuple(units[key]), text) for key, text in texts.items()]


def _add_quote(document: DocxDocument, quote: _GroupedQuote) -> None:
    paragraph = document.add_paragraph()
    _format_paragraph(paragraph, BODY)
    _run(paragraph, msg.QUOTE_BULLET, BODY)
    if quote.units:
        _run(paragraph, msg.QUOTE_UNITS_JOINER.join(quote.units), HEADING)
        _run(paragraph, msg.QUOTE_SEPARATOR, BODY)
    _run(paragraph, msg.QUOTE_TEXT.format(text=quote.text), EMPHASIS)


# --- Closing: Nơi nhận and the signature ----------------------------------------------------------------


def _add_closing(document: DocxDocument, data: ReportData) -> None:
    """Nơi nhận bottom left and the signature bottom right, in one table row that never splits across pages; the
    body's last lines keep with it, so neither block ever stands alone on a page."""
    for paragraph in document.paragraphs[-CLOSING_LEAD_LINES:]:
        paragraph.paragraph_format.keep_with_next = True
    spacer = document.add_paragraph()
    _format_paragraph(spacer, replace(CENTER, keep_with_next=True))
    left, right = _layout_table(document, SIGNATURE_COLUMNS)
    _cant_split(_row_of(left))
    _add_recipients(left, data)
    _add_signature(right, data)


def _add_recipients(cell: _Cell, data: ReportData) -> None:
    """A report has no "Kính gửi", so no "Như trên": it goes to the upper body "để báo cáo", then to any others,
    and a copy stays in the archive."""
    _write(cell.paragraphs[0], msg.RECIPIENTS_TITLE, RECIPIENTS_HEADING)
    upper = _clean(data.report_to).rstrip(",.")
    _parts(cell.add_paragraph(), msg.RECIPIENT_REPORT_TO, RECIPIENT, body=(upper, msg.RECIPIENT_PLACEHOLDER))
    for recipient in data.recipients:
        if _clean(recipient):
            _line(cell, msg.RECIPIENT_LINE.format(name=_clean(recipient).rstrip(",.")), RECIPIENT)
    _line(cell, msg.RECIPIENT_ARCHIVE.format(archive=_clean(data.archive_label)), RECIPIENT)


def _add_signature(cell: _Cell, data: ReportData) -> None:
    """The authority line, the signer's position, room to sign, the signer's name; what settings leave empty is
    a highlighted placeholder."""
    signature = data.signature
    _write(cell.paragraphs[0], _clean(signature.authority).upper() or msg.DEFAULT_SIGNER_AUTHORITY, AUTHORITY)
    title = _clean(signature.title).upper()
    _parts(cell.add_paragraph(), "{title}", SIGNER_TITLE, title=(title, msg.SIGNER_TITLE_PLACEHOLDER))
    for _ in range(SIGNATURE_GAP_LINES):
        _line(cell, "", SIGNER_TITLE)
    name = _clean(signature.name)
    _parts(cell.add_paragraph(), "{name}", SIGNER_NAME, name=(name, msg.SIGNER_NAME_PLACEHOLDER))


# --- Appendix ---------------------------------------------------------------------------------------------


def _add_appendix(document: DocxDocument, data: ReportData) -> None:
    directive = data.directive
    _line(document, msg.APPENDIX_TITLE, APPENDIX_HEADING)
    _line(document, msg.APPENDIX_SUBTITLE, APPENDIX_SUBTITLE)
    _line(document, msg.APPENDIX_ATTACHED.format(number=_number(data)), APPENDIX_NOTE)
    fields = [f for f in directive.form_fields if f.type in APPENDIX_FIELD_TYPES][:APPENDIX_MAX_FIELDS]
    if data.rows:
        _add_units_table(document, data.rows, fields)
    else:
        _line(document, msg.APPENDIX_NO_UNITS, BODY)
    _add_not_reported(document, data.rows)


def _add_units_table(document: DocxDocument, rows: Sequence[UnitRow], fields: Sequence[FormField]) -> None:
    headers = [msg.APPENDIX_COL_INDEX, msg.APPENDIX_COL_UNIT, msg.APPENDIX_COL_STATUS]
    headers += [_clean(f.label) for f in fields]
    unit_width = (
        TEXT_WIDTH - APPENDIX_INDEX_WIDTH - APPENDIX_STATUS_WIDTH - APPENDIX_FIELD_WIDTH * len(fields)
    )
    widths = [APPENDIX_INDEX_WIDTH, Length(unit_width), APPENDIX_STATUS_WIDTH]
    widths += [APPENDIX_FIELD_WIDTH] * len(fields)
    table = document.add_table(rows=1, cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    template = table.add_row()
    _set_column_widths(table, widths)
    header_row = table.rows[0]
    _repeat_as_header(header_row)
    _cant_split(header_row._tr)
    _cant_split(template._tr)  # every unit's row is a copy of the template: none splits across pages
    for cell, header in zip(header_row.cells, headers, strict=True):
        _write(cell.paragraphs[0], header, CELL_HEADER)
    styles = [CELL_CENTER, CELL_TEXT, CELL_TEXT] + [CELL_CENTER] * len(fields)
    for cell, style in zip(template.cells, styles, strict=True):
        _format_paragraph(cell.paragraphs[0], style)
        _run(cell.paragraphs[0], " ", style)
    lines = (
        [format_number(index), _clean(row.path or row.name), _status(row)]
        + [_appendix_value(f, row.values.get(f.key)) for f in fields]
        for index, row in enumerate(rows, start=1)
    )
    last = _fill_from_template(template._tr, lines)
    _keep_with_next(last, TAIL_LINES)  # the table's last rows go with what follows it


def _appendix_value(form_field: FormField, value: FieldValue) -> str:
    """A report value in a few characters: 45/50, 02/5/2024, 1.234, the chosen option(s)."""
    if value is None:
        return ""
    if form_field.type == FieldType.RATIO and (ratio := as_ratio(value)) is not None:
        return f"{format_number(ratio.attended)}/{format_number(ratio.total)}"
    if form_field.type == FieldType.ATTENDANCE and (attendance := as_attendance(value)) is not None:
        return f"{format_number(attendance.present)}/{format_number(attendance.expected)}"
    if form_field.type == FieldType.DATE and (day := as_date(value)) is not None:
        return msg.party_date(day)
    if isinstance(value, tuple | list):
        return ", ".join(_clean(option) for option in as_options(value))
    number = as_number(value)
    return format_number(number) if number is not None else _clean(value)


def _add_not_reported(document: DocxDocument, rows: Sequence[UnitRow]) -> None:
    missing = [row for row in rows if not row.has_reported]
    if not rows:
        return
    if not missing:
        _line(document, msg.ALL_UNITS_REPORTED, LIST_NOTE)
        return
    _line(document, msg.NOT_REPORTED_TITLE.format(count=format_number(len(missing))), LIST_TITLE)
    template = _line(document, " ", LIST_ITEM)
    lines = (
        [msg.NOT_REPORTED_LINE.format(index=i, unit=_clean(row.path or row.name), status=_status(row))]
        for i, row in enumerate(missing, start=1)
    )
    last = _fill_from_template(template._p, lines)
    _keep_with_next(last.getprevious(), TAIL_LINES - 1)  # the list's last lines stay together


def _status(row: UnitRow) -> str:
    return _clean(msg.status_label(row.status))


# --- Low-level helpers ------------------------------------------------------------------------------------


def _fill_from_template(template: BaseOxmlElement, lines: Iterable[Sequence[str]]) -> BaseOxmlElement:
    """Replace a formatted template element (a table row, a paragraph) by one copy per line, the i-th text of
    the line going into the copy's i-th run; return the last copy. Copying is far cheaper than formatting
    thousands of cells anew."""
    anchor = template
    for texts in lines:
        clone = copy.deepcopy(template)
        for element, text in zip(clone.iter(qn("w:t")), texts, strict=False):
            element.text = _xml_safe(text)
        anchor.addnext(clone)
        anchor = clone
    last = anchor.getprevious() if anchor is template else anchor
    template.getparent().remove(template)
    return last


def _keep_with_next(element: BaseOxmlElement | None, count: int) -> None:
    """Keep `element` (a paragraph or a table row) and the `count` - 1 before it with what follows, so the last
    page never holds a lone line or row."""
    for _ in range(count):
        if element is None or element.tag not in (qn("w:p"), qn("w:tr")):
            return
        paragraphs = [element] if element.tag == qn("w:p") else list(element.iter(qn("w:p")))
        for p in paragraphs:
            p.get_or_add_pPr().keepNext_val = True
        element = element.getprevious()


def _layout_table(document: DocxDocument, widths: Sequence[Length]) -> tuple[_Cell, _Cell]:
    """A borderless two-column table, the Party format's way to place blocks side by side."""
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _remove_borders(table)
    _set_column_widths(table, widths)
    left, right = table.rows[0].cells
    return left, right


def _set_column_widths(table: Table, widths: Sequence[Length]) -> None:
    # With a fixed layout Word reads the grid, LibreOffice the cells: set both.
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _remove_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    # WordprocessingML is order-sensitive: tblBorders goes before shading, layout and look.
    table._tbl.tblPr.insert_element_before(borders, *_AFTER_TABLE_BORDERS)


def _row_of(cell: _Cell) -> BaseOxmlElement:
    row: BaseOxmlElement = cell._tc.getparent()
    return row


def _cant_split(tr: BaseOxmlElement) -> None:
    tr_pr = tr.get_or_add_trPr()
    cant_split = OxmlElement("w:cantSplit")
    cant_split.set(qn("w:val"), "true")
    tr_pr.insert(0, cant_split)  # CT_TrPr's children come in schema order; cantSplit precedes tblHeader


def _repeat_as_header(row: _Row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _add_page_field(paragraph: Paragraph) -> None:
    """A PAGE field; the digit inside is only a placeholder that Word and LibreOffice replace when laying out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _line(container: DocxDocument | _Cell, text: str, style: _Style) -> Paragraph:
    paragraph = container.add_paragraph()
    _write(paragraph, text, style)
    return paragraph


def _write(paragraph: Paragraph, text: str, style: _Style) -> None:
    _format_paragraph(paragraph, style)
    if text:
        _run(paragraph, _xml_safe(text), style)


def _format_paragraph(paragraph: Paragraph, style: _Style) -> None:
    paragraph_format = paragraph.paragraph_format
    paragraph_format.alignment = style.align
    paragraph_format.first_line_indent = style.indent if style.indent is not None else Pt(0)
    paragraph_format.space_before = style.space_before
    paragraph_format.space_after = Pt(0)
    if style.page_break_before:
        paragraph_format.page_break_before = True
    if style.keep_with_next:
        paragraph_format.keep_with_next = True


def _parts(paragraph: Paragraph, template: str, style: _Style, **slots: tuple[str, str]) -> None:
    """Write `template` with its {slots} filled: each slot is (value, placeholder), and a missing value shows its
    placeholder highlighted, so the board sees what is left to fill before signing."""
    _format_paragraph(paragraph, style)
    for literal, slot in _SLOTS.findall(template):
        if literal:
            _run(paragraph, literal, style)
        if slot:
            value, placeholder = slots[slot]
            run = _run(paragraph, _xml_safe(value or placeholder), style)
            if not value:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW


_SLOTS = re.compile(r"([^{]*)(?:\{(\w+)\})?")


def _run(paragraph: Paragraph, text: str, style: _Style) -> Run:
    run = paragraph.add_run(text)
    if "  " in text:
        # Runs of spaces are content here (the clerk's gap for the number); keep Word from collapsing them.
        for element in run._r.iter(qn("w:t")):
            element.set(qn("xml:space"), "preserve")
    font = run.font
    if style.size != BODY_SIZE:
        font.size = style.size
    font.bold = style.bold or None
    font.italic = style.italic or None
    font.underline = style.underline or None
    return run


def _clean(text: object) -> str:
    """User or database text made safe for a one-line slot: forbidden characters dropped, whitespace collapsed."""
    return " ".join(_xml_safe("" if text is None else str(text)).split())


def _xml_safe(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)
