"""The board's documents: the Excel export, the Word report draft in Party format and the progress chart,
each opened again with its own library and checked for content and layout."""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.utils.escape import unescape
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from bot.services import charts
from bot.services.charts import build_progress_chart, fold_rows
from bot.services.docx_report import build_docx
from bot.services.report_data import (
    Aggregates,
    Counts,
    DirectiveSummary,
    FieldType,
    FormField,
    Quote,
    Ratio,
    ReportData,
    Signature,
    UnitRow,
    UnitStatus,
)
from bot.services.xlsx_export import MAX_WIDTH, build_xlsx
from messages.documents import party_date, party_place_date
from messages.formats import format_number, format_percent
from tests.support import SOFFICE, shown_width, to_pdf

FIELDS = (
    FormField("ngay", "Ngày tổ chức", FieldType.DATE),
    FormField("hinh_thuc", "Hình thức", FieldType.CHOICE, options=("Chuyên đề", "Thường kỳ", "Hội nghị")),
    FormField("dang_vien", "Đảng viên tham gia", FieldType.RATIO, unit="đồng chí"),
    FormField("ngoai_dang", "Người ngoài Đảng", FieldType.NUMBER, unit="người"),
    FormField("kho_khan", "Khó khăn", FieldType.TEXT),
)
DIRECTIVE = DirectiveSummary(
    number="747-CV/ĐUK",
    issuer_code="ĐUK",
    doc_type="CV",
    issued_on=date(2024, 4, 3),
    subject="Triển khai đợt sinh hoạt chính trị, tư tưởng về nội dung tác phẩm của Tổng Bí thư Nguyễn Phú Trọng",
    parent_body="ĐẢNG BỘ TỈNH LAI CHÂU",
    issuer="ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
    place="Lai Châu",
    deadline=date(2024, 10, 30),
    issued_by="Ban Thường vụ Đảng ủy Khối",
    form_title="Báo cáo sinh hoạt chính trị",
    form_fields=FIELDS,
)
SENT = datetime(2024, 4, 4, 1, 30, tzinfo=UTC)  # 08:30 in Lai Châu


def _unit(
    name: str,
    status: UnitStatus,
    values: dict[str, object] | None = None,
    *,
    late: bool = False,
    parent: str = "Đảng ủy Sở Giáo dục",
) -> UnitRow:
    reached = status in (UnitStatus.REPORTED, UnitStatus.REPORTED_LATE, UnitStatus.ACKNOWLEDGED)
    reported = status in (UnitStatus.REPORTED, UnitStatus.REPORTED_LATE)
    return UnitRow(
        path=f"{parent} › {name}",
        name=name,
        secretary=f"Bí thư {name}",
        phone="0912345678",
        status=status,
        delivered_at=SENT if reached else None,
        acknowledged_at=SENT + timedelta(hours=2) if reached else None,
        reported_at=SENT + timedelta(days=3) if reported else None,
        late=late,
        versions=2 if reported else 0,
        values=values or {},
    )


# Five of six units reported (83,3%); 150 of 180 party members attended (83,3%); 1.234 people outside the Party.
ROWS = (
    _unit(
        "Chi bộ Trường A",
        UnitStatus.REPORTED,
        {
            "ngay": date(2024, 5, 2),
            "hinh_thuc": "Chuyên đề",
            "dang_vien": Ratio(45, 50),
            "ngoai_dang": 1000,
            "kho_khan": '=HYPERLINK("http://x")',
        },
    ),
    _unit(
        "Chi bộ Trường B",
        UnitStatus.REPORTED,
        {
            "ngay": date(2024, 5, 3),
            "hinh_thuc": "Chuyên đề",
            "dang_vien": Ratio(30, 40),
            "ngoai_dang": 234,
        },
    ),
    _unit(
        "Chi bộ Trường C",
        UnitStatus.REPORTED,
        {
            "ngay": date(2024, 5, 4),
            "hinh_thuc": "Thường kỳ",
            "dang_vien": Ratio(25, 30),
            "ngoai_dang": 0,
        },
    ),
    _unit(
        "Chi bộ Trường D",
        UnitStatus.REPORTED,
        {
            "hinh_thuc": ("Thường kỳ", "Hội nghị"),
            "dang_vien": Ratio(20, 30),
            "ngoai_dang": "không rõ",
            "kho_khan": "Mất\x00 điện\x07",
        },
    ),
    _unit("Chi bộ Trường E", UnitStatus.REPORTED_LATE, {"dang_vien": Ratio(30, 30)}, late=True),
    _unit("Chi bộ Trường F", UnitStatus.UNREGISTERED, parent="Đảng ủy Sở Y tế"),
)


def _report(rows: tuple[UnitRow, ...] = ROWS, **changes: object) -> ReportData:
    report = ReportData(
        directive=DIRECTIVE,
        counts=Counts.from_rows(rows),
        rows=rows,
        aggregates=Aggregates.from_rows(FIELDS, rows),
        generated_on=date(2026, 11, 22),
        highlights=(Quote("Chi bộ Trường C", "Điểm nổi bật", "Tổ chức tọa đàm trực tuyến với học sinh"),),
        difficulties=(
            Quote("Chi bộ Trường A", "Khó khăn", "Địa bàn rộng, đi lại khó khăn"),
            Quote("Chi bộ Trường B", "Khó khăn", "Không có."),
        ),
        recommendations=(
            Quote("Chi bộ Trường A", "Kiến nghị", "Đề nghị cấp thêm tài liệu sinh hoạt"),
            Quote("Chi bộ Trường D", "Kiến nghị", "đề nghị cấp thêm tài liệu sinh hoạt."),
        ),
        signature=Signature(title="Phó Bí thư", name="Lý Công Hà"),
        recipients=("Ban Tuyên giáo Tỉnh ủy",),
    )
    return replace(report, **changes)


# --- Vietnamese renderings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (999, "999"), (1234, "1.234"), (1234567, "1.234.567"), (-1234, "-1.234"), (1234.5, "1.234,5")],
)
def test_numbers_use_vietnamese_separators(value: float, text: str) -> None:
    assert format_number(value) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_grouped_numbers_read_back_to_the_same_value(value: int) -> None:
    text = format_number(value)
    groups = text.split(".")
    assert int("".join(groups)) == value
    assert all(len(group) == 3 for group in groups[1:])


@pytest.mark.parametrize(("rate", "text"), [(5 / 6, "83,3%"), (1.0, "100%"), (0.0, "0%"), (None, "—")])
def test_percents_have_a_decimal_comma(rate: float | None, text: str) -> None:
    assert format_percent(rate) == text


def test_dates_pad_days_and_the_first_two_months_as_party_texts_do() -> None:
    assert party_date(date(2024, 4, 3)) == "03/4/2024"
    assert party_date(date(2018, 1, 18)) == "18/01/2018"
    assert party_date(date(2024, 12, 25)) == "25/12/2024"
    assert party_place_date("Lai Châu", date(2026, 2, 5)) == "Lai Châu, ngày 05 tháng 02 năm 2026"


# --- Input helpers ----------------------------------------------------------------------------------------


def test_counts_and_aggregates_from_rows() -> None:
    counts = Counts.from_rows(ROWS)
    assert (counts.targeted, counts.reported, counts.reported_late, counts.not_reported) == (6, 5, 1, 1)
    assert (counts.delivered, counts.acknowledged, counts.unregistered, counts.blocked) == (5, 5, 1, 0)
    aggregates = Aggregates.from_rows(FIELDS, ROWS)
    assert aggregates.sessions_held == 5
    assert aggregates.sums["ngoai_dang"] == 1234  # "không rõ" is skipped, not fatal
    assert aggregates.ratios["dang_vien"] == Ratio(150, 180)
    assert aggregates.choices["hinh_thuc"] == {"Chuyên đề": 2, "Thường kỳ": 2, "Hội nghị": 1}


def test_values_as_stored_in_report_json_are_understood() -> None:
    stored = {
        "ngay": "2024-05-02",
        "hinh_thuc": ["Chuyên đề", "Hội nghị"],
        "dang_vien": {"attended": 9, "total": 12},
    }
    rows = (_unit("Chi bộ Trường G", UnitStatus.REPORTED, stored),)
    aggregates = Aggregates.from_rows(FIELDS, rows)
    assert aggregates.ratios["dang_vien"] == Ratio(9, 12)
    assert aggregates.choices["hinh_thuc"] == {"Chuyên đề": 1, "Thường kỳ": 0, "Hội nghị": 1}
    sheet = load_workbook(BytesIO(build_xlsx(_report(rows))))["Chi tiết"]
    held_on = sheet.cell(2, _header_index(sheet, "Ngày tổ chức"))
    assert held_on.is_date and held_on.value.date() == date(2024, 5, 2)
    attended = _header_index(sheet, "Đảng viên tham gia – tham gia")
    assert (sheet.cell(2, attended).value, sheet.cell(2, attended + 1).value) == (9, 12)
    assert sheet.cell(2, _header_index(sheet, "Hình thức")).value == "Chuyên đề; Hội nghị"
    appendix_row = _document(_report(rows)).tables[-1].rows[1]
    assert [cell.text for cell in appendix_row.cells[3:6]] == ["02/5/2024", "Chuyên đề, Hội nghị", "9/12"]


# --- Excel ------------------------------------------------------------------------------------------------


def _workbook(data: ReportData) -> Workbook:
    return load_workbook(BytesIO(build_xlsx(data)))


def _header_index(sheet: Worksheet, header: str) -> int:
    headers = [cell.value for cell in sheet[1]]
    return headers.index(header) + 1


def test_xlsx_detail_sheet_has_one_row_per_unit_and_vietnamese_headers() -> None:
    sheet = _workbook(_report())["Chi tiết"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [
        "Đơn vị", "Bí thư", "Số điện thoại", "Tình trạng",
        "Thời điểm nhận", "Thời điểm xác nhận", "Thời điểm báo cáo",
        "Ngày tổ chức", "Hình thức", "Đảng viên tham gia – tham gia", "Đảng viên tham gia – tổng số",
        "Người ngoài Đảng", "Khó khăn", "Duyệt báo cáo", "Ban nhập hộ", "Báo cáo muộn", "Số lần gửi báo cáo",
    ]  # fmt: skip
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.max_row == len(ROWS) + 1
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{len(ROWS) + 1}"
    assert sheet.cell(2, 1).value == "Đảng ủy Sở Giáo dục › Chi bộ Trường A"
    assert sheet.cell(2, 4).value == "Đã báo cáo"
    assert sheet.cell(7, 4).value == "Chưa đăng ký nhận tin"


def test_xlsx_cells_are_typed_and_formatted() -> None:
    sheet = _workbook(_report())["Chi tiết"]
    reported_at = sheet.cell(2, _header_index(sheet, "Thời điểm báo cáo"))
    assert isinstance(reported_at.value, datetime)
    assert reported_at.value == datetime(2024, 4, 7, 8, 30)  # UTC shown as Lai Châu wall time
    assert reported_at.number_format == "dd/mm/yyyy hh:mm"
    held_on = sheet.cell(2, _header_index(sheet, "Ngày tổ chức"))
    assert held_on.is_date and held_on.value.date() == date(2024, 5, 2)
    assert held_on.number_format == "dd/mm/yyyy"
    outside = sheet.cell(2, _header_index(sheet, "Người ngoài Đảng"))
    assert outside.value == 1000 and outside.number_format == "#,##0"
    attended = _header_index(sheet, "Đảng viên tham gia – tham gia")
    assert (sheet.cell(2, attended).value, sheet.cell(2, attended + 1).value) == (45, 50)
    assert sheet.cell(5, _header_index(sheet, "Hình thức")).value == "Thường kỳ; Hội nghị"
    late = _header_index(sheet, "Báo cáo muộn")
    assert sheet.cell(6, late).value == "Có" and sheet.cell(2, late).value is None
    assert sheet.cell(2, _header_index(sheet, "Số lần gửi báo cáo")).value == 2


def test_xlsx_keeps_hostile_text_as_plain_text() -> None:
    sheet = _workbook(_report())["Chi tiết"]
    difficulty = _header_index(sheet, "Khó khăn")
    formula_like = sheet.cell(2, difficulty)
    assert formula_like.data_type == "s" and formula_like.value.startswith("=HYPERLINK")
    assert sheet.cell(5, difficulty).value == "Mất điện"
    assert sheet.cell(5, _header_index(sheet, "Người ngoài Đảng")).value == "không rõ"


def test_xlsx_keeps_markup_characters_spaces_and_line_breaks_of_a_text() -> None:
    # Escaped characters come back as typed. A carriage return is stored as "_x000D_", as Excel itself writes it;
    # Excel and LibreOffice read it back as one, openpyxl leaves the escape to its caller.
    said = "  Điện <b>yếu</b> & mưa\r\nđường\x07 trơn  "
    rows = (*ROWS, _unit("Chi bộ <Trường> & Xóm", UnitStatus.REPORTED, {"kho_khan": said, "ngoai_dang": 2.5}))
    sheet = _workbook(_report(rows))["Chi tiết"]
    last = len(rows) + 1
    assert sheet.cell(last, 1).value == "Đảng ủy Sở Giáo dục › Chi bộ <Trường> & Xóm"
    said_cell = sheet.cell(last, _header_index(sheet, "Khó khăn"))
    assert unescape(said_cell.value) == "  Điện <b>yếu</b> & mưa\r\nđường trơn  "
    outside = sheet.cell(last, _header_index(sheet, "Người ngoài Đảng"))
    assert outside.value == 2.5 and outside.number_format == "#,##0.##"


def test_xlsx_column_widths_follow_content_and_are_capped() -> None:
    long_name = "Chi bộ " + "Trung tâm Chính trị " * 10
    rows = (*ROWS, _unit(long_name, UnitStatus.DELIVERED))
    sheet = _workbook(_report(rows))["Chi tiết"]
    assert shown_width(sheet.column_dimensions["A"].width) == MAX_WIDTH
    assert len("0912345678") < shown_width(sheet.column_dimensions["C"].width) < MAX_WIDTH


def _summary_rows(data: ReportData) -> dict[str, tuple[object, object, str]]:
    sheet = _workbook(data)["Tổng hợp"]
    assert [cell.value for cell in sheet[1]] == ["Chỉ tiêu", "Giá trị", "Tỷ lệ"]
    assert sheet.freeze_panes == "A2"
    return {
        row[0].value: (row[1].value, row[2].value, row[2].number_format) for row in sheet.iter_rows(min_row=2)
    }


def test_xlsx_summary_sheet_has_counts_aggregates_and_percent_rates() -> None:
    summary = _summary_rows(_report())
    assert summary["Văn bản"][0] == "Công văn số 747-CV/ĐUK ngày 03/4/2024"
    assert summary["Số đơn vị được giao"][0] == 6
    reported, rate, rate_format = summary["Đã báo cáo"]
    assert reported == 5 and rate == pytest.approx(5 / 6) and "%" in rate_format
    attended, ratio_rate, ratio_format = summary["Đảng viên tham gia: tham gia"]
    assert attended == 150 and ratio_rate == pytest.approx(150 / 180) and "%" in ratio_format
    assert summary["Đảng viên tham gia: tổng số"][0] == 180
    assert summary["Người ngoài Đảng"][0] == 1234
    assert summary["Hình thức: Hội nghị"][:2] == (1, pytest.approx(1 / 5))
    assert summary["Số buổi sinh hoạt đã tổ chức"][0] == 5


def test_xlsx_of_ten_thousand_units_has_every_row() -> None:
    # Its speed is measured by `python -m bench board` (Excel of 10,000 cells), not here.
    rows = tuple(ROWS[i % 5] for i in range(10_000))
    content = build_xlsx(_report(rows))
    sheet = load_workbook(BytesIO(content), read_only=True)["Chi tiết"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 10_001


# --- Word -------------------------------------------------------------------------------------------------


def _document(data: ReportData | None = None) -> DocxDocument:
    return Document(BytesIO(build_docx(data or _report())))


def _paragraph(document: DocxDocument, text: str) -> Paragraph:
    return next(p for p in document.paragraphs if p.text == text)


def _cell_paragraphs(cell: _Cell) -> list[str]:
    return [p.text for p in cell.paragraphs]


def test_docx_page_is_a4_with_party_margins() -> None:
    section = _document().sections[0]
    half_mm = Mm(0.5)
    expected = {
        "page_width": Mm(210), "page_height": Mm(297), "top_margin": Mm(20),
        "bottom_margin": Mm(20), "left_margin": Mm(30), "right_margin": Mm(15),
    }  # fmt: skip
    for name, length in expected.items():
        assert abs(getattr(section, name) - length) < half_mm, name


def test_docx_body_is_times_new_roman_14pt_for_every_script() -> None:
    document = _document()
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(14)
    rfonts = normal.element.rPr.find(qn("w:rFonts"))
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert rfonts.get(qn(script)) == "Times New Roman"
    assert normal.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert abs(normal.paragraph_format.first_line_indent - Cm(1)) < Mm(1)
    defaults = document.styles.element.find(qn("w:docDefaults")).find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "Times New Roman"
    fonts = {run.font.name for p in document.paragraphs for run in p.runs}
    assert fonts <= {None, "Times New Roman"}


def test_docx_header_table_follows_party_format() -> None:
    document = _document()
    left, right = document.tables[0].rows[0].cells
    left_lines = _cell_paragraphs(left)
    assert left_lines[:3] == ["ĐẢNG BỘ TỈNH LAI CHÂU", "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH", "*"]
    assert not left.paragraphs[0].runs[0].bold and left.paragraphs[1].runs[0].bold
    number = left_lines[3]
    assert number.startswith("Số ") and number.endswith("-BC/ĐUK")
    assert "    " in number  # without a number from the register: room for the clerk to write it
    title, place_date = right.paragraphs[0], right.paragraphs[1]
    assert title.text == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert title.runs[0].bold and title.runs[0].underline and title.runs[0].font.size == Pt(15)
    assert place_date.text == "Lai Châu, ngày 22 tháng 11 năm 2026"
    assert all(run.italic for run in place_date.runs)
    borders = document.tables[0]._tbl.tblPr.find(qn("w:tblBorders"))
    assert {edge.get(qn("w:val")) for edge in borders} == {"nil"}


def test_docx_title_subject_and_sections() -> None:
    document = _document()
    title = _paragraph(document, "BÁO CÁO")
    assert title.runs[0].bold and title.runs[0].font.size >= Pt(15)
    assert title.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    texts = [p.text for p in document.paragraphs]
    subject = texts[texts.index("BÁO CÁO") + 1]
    assert subject.startswith(
        "Kết quả triển khai thực hiện Công văn số 747-CV/ĐUK ngày 03/4/2024 của Ban Thường vụ Đảng ủy Khối "
        "về triển khai đợt sinh hoạt chính trị"
    )
    headings = ["I. TÌNH HÌNH TRIỂN KHAI", "II. KẾT QUẢ", "III. HẠN CHẾ, KHÓ KHĂN", "IV. KIẾN NGHỊ, ĐỀ XUẤT"]
    positions = [texts.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert all(_paragraph(document, heading).runs[0].bold for heading in headings)
    assert texts.index("PHỤ LỤC") > positions[-1]
    assert _paragraph(document, "PHỤ LỤC").paragraph_format.page_break_before


def test_docx_figures_are_written_the_vietnamese_way() -> None:
    text = "\n".join(p.text for p in _document().paragraphs)
    assert "Có 5/6 đơn vị đã báo cáo kết quả, đạt 83,3%" in text
    assert "4 đơn vị báo cáo đúng hạn, 1 đơn vị báo cáo muộn" in text
    assert "1 đơn vị chưa đăng ký nhận tin" in text
    assert "- Số buổi sinh hoạt đã tổ chức: 5 buổi." in text
    assert "- Đảng viên tham gia: 150/180 đồng chí, đạt 83,3%." in text
    assert "- Người ngoài Đảng: 1.234 người." in text
    assert "- Hình thức: Chuyên đề (2 đơn vị); Thường kỳ (2 đơn vị); Hội nghị (1 đơn vị)." in text
    assert "Hạn báo cáo: 30/10/2024." in text


def test_docx_quotes_are_attributed_merged_and_empty_answers_dropped() -> None:
    document = _document()
    texts = [p.text for p in document.paragraphs]
    section_three = texts[texts.index("III. HẠN CHẾ, KHÓ KHĂN") + 1 : texts.index("IV. KIẾN NGHỊ, ĐỀ XUẤT")]
    assert section_three == ["- Chi bộ Trường A: “Địa bàn rộng, đi lại khó khăn”"]
    merged = "- Chi bộ Trường A, Chi bộ Trường D: “Đề nghị cấp thêm tài liệu sinh hoạt”"
    quote = _paragraph(document, merged)
    assert [run.text for run in quote.runs if run.bold] == ["Chi bộ Trường A, Chi bộ Trường D"]
    assert "- Chi bộ Trường C: “Tổ chức tọa đàm trực tuyến với học sinh”" in texts


def test_docx_appendix_lists_every_unit_and_those_not_reported() -> None:
    document = _document()
    table = document.tables[-1]
    assert [cell.text for cell in table.rows[0].cells] == [
        "STT", "Đơn vị", "Tình trạng", "Ngày tổ chức", "Hình thức", "Đảng viên tham gia", "Người ngoài Đảng",
    ]  # fmt: skip
    assert len(table.rows) == len(ROWS) + 1
    assert [cell.text for cell in table.rows[1].cells] == [
        "1", "Đảng ủy Sở Giáo dục › Chi bộ Trường A", "Đã báo cáo", "02/5/2024", "Chuyên đề", "45/50", "1.000",
    ]  # fmt: skip
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    texts = [p.text for p in document.paragraphs]
    assert "Danh sách đơn vị chưa báo cáo (1 đơn vị)" in texts
    assert "1. Đảng ủy Sở Y tế › Chi bộ Trường F – Chưa đăng ký nhận tin" in texts


def test_docx_signature_block() -> None:
    document = _document()
    signature = next(t for t in document.tables if t.rows[0].cells[1].text.startswith("T/M"))
    left, right = signature.rows[0].cells
    assert _cell_paragraphs(left) == [
        "Nơi nhận:", "- [Cấp ủy cấp trên] (để báo cáo),", "- Ban Tuyên giáo Tỉnh ủy,", "- Lưu VPĐUK.",
    ]  # fmt: skip
    assert left.paragraphs[0].runs[0].underline and left.paragraphs[1].runs[0].font.size == Pt(12)
    lines = _cell_paragraphs(right)
    assert lines[0] == "T/M BAN THƯỜNG VỤ" and lines[1] == "PHÓ BÍ THƯ" and lines[-1] == "Lý Công Hà"
    assert right.paragraphs[0].runs[0].bold
    assert "" in lines[2:-1]  # room for the signature


def test_docx_appendix_of_many_units_keeps_order() -> None:
    rows = tuple(_unit(f"Chi bộ {i}", UnitStatus.DELIVERED) for i in range(1, 2001))
    table = _document(_report(rows)).tables[-1]
    assert len(table.rows) == 2001
    assert [cell.text for cell in table.rows[1500].cells[:3]] == [
        "1.500", "Đảng ủy Sở Giáo dục › Chi bộ 1500", "Đã gửi, chưa xác nhận",
    ]  # fmt: skip


def test_docx_without_units_or_reports_still_builds() -> None:
    empty = _report((), highlights=(), difficulties=(), recommendations=(), signature=Signature())
    texts = [p.text for p in _document(empty).paragraphs]
    assert "Chưa có đơn vị nào được giao thực hiện văn bản." in texts
    assert "Chưa có đơn vị nào gửi báo cáo kết quả." in texts
    assert "Các đơn vị chưa phản ánh hạn chế, khó khăn." in texts
    assert "Không có đơn vị nào." in texts


def test_documents_survive_control_characters_and_unknown_status() -> None:
    directive = replace(DIRECTIVE, subject="Tuyên\x0b truyền\ufffe")
    rows = (
        UnitRow(path="Chi bộ X\x01", name="Chi bộ X", status="failed", values={"ngoai_dang": float("nan")}),
    )
    data = _report(
        rows, directive=directive, difficulties=(Quote("Chi bộ X", "Khó khăn", "Mất\x00 điện cả tuần"),)
    )
    document = _document(data)
    texts = [p.text for p in document.paragraphs]
    assert "- Chi bộ X: “Mất điện cả tuần”" in texts
    assert any(text.endswith("về tuyên truyền") for text in texts)
    workbook = load_workbook(BytesIO(build_xlsx(data)))
    assert workbook["Chi tiết"].cell(2, 4).value == "failed"
    subject = next(row for row in workbook["Tổng hợp"].iter_rows(values_only=True) if row[0] == "Trích yếu")
    assert subject[1] == "Tuyên truyền"
    assert [cell.text for cell in document.tables[-1].rows[1].cells[:3]] == ["1", "Chi bộ X", "failed"]


# --- Chart ------------------------------------------------------------------------------------------------


def _png(content: bytes) -> Image.Image:
    image = Image.open(BytesIO(content))
    image.load()
    return image


def test_chart_is_a_png_drawn_with_vietnamese_glyphs() -> None:
    rows = [("Đảng ủy xã Mường Tè", 12, 3, 5), ("Đảng ủy Sở Y tế", 8, 0, 1)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        content = build_progress_chart(rows)
    assert not [w for w in caught if "missing from" in str(w.message)]
    image = _png(content)
    assert image.format == "PNG" and image.width > 0 and image.height > 0
    assert len(content) > 0


def test_chart_without_rows_says_there_is_no_data() -> None:
    image = _png(build_progress_chart([]))
    assert image.format == "PNG" and image.width > 0


def test_chart_of_many_rows_folds_the_rest_into_others() -> None:
    rows = [(f"Đảng ủy {i}", i % 7, i % 3, i % 5) for i in range(200)]
    folded = fold_rows(rows, charts.MAX_BARS)
    assert len(folded) == charts.MAX_BARS
    assert folded[-1][0].startswith("Khác (186")
    for part in (1, 2, 3):
        assert sum(row[part] for row in folded) == sum(row[part] for row in rows)
    many = _png(build_progress_chart(rows))
    few = _png(build_progress_chart(rows[: charts.MAX_BARS]))
    assert many.height == few.height  # bounded, still readable on a phone


def test_chart_tolerates_bad_counts() -> None:
    rows: list[Any] = [("A", -3, None, "x"), (None, 2.5, float("nan"), 1)]
    assert _png(build_progress_chart(rows)).format == "PNG"


# --- Optional: the files open in LibreOffice --------------------------------------------------------------


@pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) is not installed; PDF conversion not checked")
@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_libreoffice_converts_the_documents_to_pdf(kind: str, tmp_path: Path) -> None:
    content = build_docx(_report()) if kind == "docx" else build_xlsx(_report())
    source = tmp_path / f"bao-cao.{kind}"
    source.write_bytes(content)
    [pdf] = to_pdf([source], tmp_path, timeout=180)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
