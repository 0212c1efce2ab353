"""The Word report against the Party's rules: every generated variant measured (fonts, sizes, bold and italic,
margins, the header blocks, star, number, place-date, title, closing blocks, appendix), recipients and signature
that fit a report, only meaningful quotes, and the PDF LibreOffice makes: the closing blocks on one page with the
end of the body, whatever the length of the report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from docx.enum.text import WD_COLOR_INDEX

from bot.services.docx_report import build_docx
from bot.services.report_data import Quote, Signature, UnitRow, UnitStatus, is_quotable
from tests.support import SOFFICE
from tests.test_documents import _report, _unit
from tests.word_layout import (
    check_last_page,
    check_layout,
    check_pages,
    closing_table,
    skeleton,
    to_pdfs,
)

SIGNED = Signature(authority="K/T BÍ THƯ", title="Phó Bí thư", name="Lý Công Hà")


def _variants() -> dict[str, bytes]:
    many = tuple(_unit(f"Chi bộ {i}", UnitStatus.DELIVERED) for i in range(1, 301))
    return {
        "draft": build_docx(_report()),
        "numbered and signed": build_docx(
            _report(number="03-BC/ĐUK", signature=SIGNED, report_to="Ban Thường vụ Tỉnh ủy")
        ),
        "nothing reported": build_docx(
            _report((), highlights=(), difficulties=(), recommendations=(), signature=Signature())
        ),
        "three hundred units": build_docx(_report(many)),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_every_variant_meets_the_layout(name: str) -> None:
    check_layout(_variants()[name])


def test_the_number_from_the_register_heads_the_report_and_the_appendix() -> None:
    document = check_layout(build_docx(_report(number="03-BC/ĐUK")))
    assert document.tables[0].rows[0].cells[0].paragraphs[3].text == "Số 03-BC/ĐUK"
    assert "(Kèm theo Báo cáo số 03-BC/ĐUK)" in [p.text for p in document.paragraphs]


def test_recipients_fit_a_report() -> None:
    document = check_layout(build_docx(_report(report_to="Ban Thường vụ Tỉnh ủy", recipients=())))
    left = closing_table(document).rows[0].cells[0]
    assert [p.text for p in left.paragraphs] == [
        "Nơi nhận:",
        "- Ban Thường vụ Tỉnh ủy (để báo cáo),",
        "- Lưu VPĐUK.",
    ]


def test_the_signature_has_authority_position_and_name() -> None:
    document = check_layout(build_docx(_report(signature=SIGNED)))
    right = closing_table(document).rows[0].cells[1]
    lines = [p.text for p in right.paragraphs if p.text]
    assert lines == ["K/T BÍ THƯ", "PHÓ BÍ THƯ", "Lý Công Hà"]


def test_what_settings_leave_empty_is_a_highlighted_placeholder() -> None:
    document = check_layout(build_docx(_report(signature=Signature())))
    closing = closing_table(document).rows[0]
    placeholders = {
        run.text
        for cell in closing.cells
        for p in cell.paragraphs
        for run in p.runs
        if run.font.highlight_color == WD_COLOR_INDEX.YELLOW
    }
    assert placeholders == {"[Cấp ủy cấp trên]", "[CHỨC VỤ NGƯỜI KÝ]", "[Họ và tên người ký]"}
    assert next(p.text for p in closing.cells[1].paragraphs if p.text) == "T/M BAN THƯỜNG VỤ"


@pytest.mark.parametrize(
    ("text", "quotable"),
    [
        ("Tot", False),
        ("ok", False),
        ("Tốt", False),
        ("Tốt lắm", False),  # two words say nothing
        ("Không có.", False),
        ("Thieu tai lieu in cho dang vien", False),  # typed without diacritics
        ("Thiếu tài liệu in cho đảng viên", True),
        ("Đề nghị cấp thêm tài liệu", True),
        ("Tổ chức tọa đàm trực tuyến", True),
    ],
)
def test_only_meaningful_text_is_quotable(text: str, quotable: bool) -> None:
    assert is_quotable(text) is quotable


def test_quotes_in_the_report_are_meaningful_and_name_their_unit() -> None:
    highlights = (
        Quote("Chi bộ Trường A", "Cách làm hay", "Tot"),
        Quote("Chi bộ Trường B", "Cách làm hay", "ok"),
        Quote("Chi bộ Trường C", "Cách làm hay", "Tổ chức tọa đàm trực tuyến với học sinh"),
        Quote("", "Cách làm hay", "Mời báo cáo viên về nói chuyện chuyên đề"),
    )
    texts = [p.text for p in check_layout(build_docx(_report(highlights=highlights))).paragraphs]
    quoted = [t for t in texts if t.startswith("- ") and "“" in t]
    assert "- Chi bộ Trường C: “Tổ chức tọa đàm trực tuyến với học sinh”" in quoted
    assert not any("Tot" in t or "“ok”" in t or "Mời báo cáo viên" in t for t in quoted)
    only_words = replace(_report(), highlights=highlights[:2])
    assert "Một số cách làm hay, điểm nổi bật:" not in [
        p.text for p in check_layout(build_docx(only_words)).paragraphs
    ]


# --- LibreOffice ----------------------------------------------------------------------------------------------


def _lengthened(count: int) -> bytes:
    """The report with `count` distinct difficulties, each two lines: the closing lands anywhere on the page."""
    difficulties = tuple(
        Quote(
            f"Chi bộ Trường {index}",
            "Khó khăn",
            f"Địa bàn rộng, đảng viên ở xa trụ sở, việc tổ chức sinh hoạt lần thứ {index} gặp trở ngại",
        )
        for index in range(1, count + 1)
    )
    return build_docx(_report(difficulties=difficulties, signature=SIGNED, number="03-BC/ĐUK"))


CLOSING = ("Nơi nhận:", "- Lưu VPĐUK.", "K/T BÍ THƯ", "PHÓ BÍ THƯ", "Lý Công Hà")
BODY_TAIL = "Đề nghị cấp thêm tài liệu sinh hoạt"  # the last quote of section IV, just before the closing


@pytest.mark.skipif(
    not SOFFICE, reason="LibreOffice (soffice) is not installed; the PDF layout is not checked"
)
def test_closing_blocks_never_split_from_each_other_or_from_the_body(tmp_path: Path) -> None:
    contents = [_lengthened(count) for count in range(0, 16)]
    for content in contents:
        check_layout(content)
    for count, pages in enumerate(to_pdfs(contents, tmp_path)):
        assert len(pages) >= 2, count
        first = skeleton(pages[0])
        assert skeleton("ĐẢNG CỘNG SẢN VIỆT NAM") in first and skeleton("Số 03-BC/ĐUK") in first
        check_pages(pages, CLOSING, BODY_TAIL)


@pytest.mark.skipif(
    not SOFFICE, reason="LibreOffice (soffice) is not installed; the PDF layout is not checked"
)
def test_the_last_page_is_never_a_lone_line_of_the_appendix(tmp_path: Path) -> None:
    def units(count: int) -> tuple[UnitRow, ...]:
        return tuple(
            _unit(f"Chi bộ {i}", UnitStatus.REPORTED if i % 4 else UnitStatus.DELIVERED)
            for i in range(1, count + 1)
        )

    contents = [build_docx(_report(units(count))) for count in range(12, 44, 2)]
    for count, pages in zip(range(12, 44, 2), to_pdfs(contents, tmp_path), strict=True):
        check_last_page(pages)
        appendix = [page for page in pages if skeleton("Đơn vị") in skeleton(page) and "STT" in page]
        assert len(appendix) >= 1, count
