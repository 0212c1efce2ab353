"""Tests for reading directive files (DOCX, PDF, text) built here from the sample directives."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.sandbox.demo import SAMPLES_DIR as SAMPLES
from bot.services.directive_parser import DirectiveMeta, parse_directive
from bot.services.document_text import ExtractedText, Refusal, SourceFormat, extract_text

SAMPLE_747 = SAMPLES / "directive-747-CV-DUK.txt"
SAMPLE_745 = SAMPLES / "directive-745-CV-DUK.txt"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


# --- Building files from the Markdown-ish sample text -------------------------------------------------------


def _plain(markdown: str) -> str:
    """The sample's Markdown markers removed, as the words stand in the original document."""
    text = re.sub(r"^#+\s*", "", markdown)
    text = re.sub(r"(?<!\\)\*+", "", text)
    return text.replace("\\*", "*").rstrip()


class _SampleParts:
    """The sample cut where a Party document puts its two-column tables: header, body, signature."""

    def __init__(self, markdown: str) -> None:
        lines = markdown.split("\n")
        kinh_gui = next(i for i, line in enumerate(lines) if line.startswith("Kính gửi"))
        noi_nhan = next(i for i, line in enumerate(lines) if line.startswith("Nơi nhận"))
        header = [_plain(line) for line in lines[:kinh_gui] if line.strip()]
        self.header_right = [line for line in header if "CỘNG SẢN" in line or ", ngày" in line]
        self.header_left = [line for line in header if line not in self.header_right]
        body = "\n".join(lines[kinh_gui:noi_nhan]).strip()
        self.paragraphs = [paragraph.split("\n") for paragraph in re.split(r"\n\s*\n", body)]
        tail = [_plain(line) for line in lines[noi_nhan:] if line.strip()]
        self.recipients = [line for line in tail if line.startswith(("Nơi nhận", "-"))]
        self.signature = [line for line in tail if line not in self.recipients]


def _runs(paragraph: docx.text.paragraph.Paragraph, markdown_line: str) -> None:
    """Add `markdown_line` to the paragraph as runs, turning **bold** and *italic* into run formatting."""
    bold = italic = False
    line = re.sub(r"^#+\s*", "", markdown_line.rstrip())
    for token in re.split(r"(\\\*|\*\*|\*)", line):
        if token == "**":
            bold = not bold
        elif token == "*":
            italic = not italic
        elif token:
            run = paragraph.add_run(token.replace("\\*", "*"))
            run.bold, run.italic = bold, italic


def _fill_cell(cell: docx.table._Cell, lines: list[str]) -> None:
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def build_docx(markdown: str) -> bytes:
    parts = _SampleParts(markdown)
    document: DocxDocument = docx.Document()
    header = document.add_table(rows=1, cols=2)
    _fill_cell(header.cell(0, 0), parts.header_left)
    _fill_cell(header.cell(0, 1), parts.header_right)
    for paragraph_lines in parts.paragraphs:
        paragraph = document.add_paragraph()
        for i, line in enumerate(paragraph_lines):
            if i:
                paragraph.add_run().add_break()
            _runs(paragraph, line)
    signature = document.add_table(rows=1, cols=2)
    _fill_cell(signature.cell(0, 0), parts.recipients)
    _fill_cell(signature.cell(0, 1), parts.signature)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _new_pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    return pdf


def _two_columns(pdf: FPDF, left: list[str], right: list[str]) -> None:
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.multi_cell(width, 6, "\n".join(left), align="C", new_x="RIGHT", new_y="TOP")
    pdf.multi_cell(width, 6, "\n".join(right), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def build_pdf(markdown: str) -> bytes:
    parts = _SampleParts(markdown)
    pdf = _new_pdf()
    _two_columns(pdf, parts.header_left, parts.header_right)
    for paragraph_lines in parts.paragraphs:
        text = "\n".join(_plain(line) for line in paragraph_lines)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    _two_columns(pdf, parts.recipients, parts.signature)
    return bytes(pdf.output())


def _comparable(meta: DirectiveMeta) -> dict[str, object]:
    """Metadata with whitespace in long texts collapsed: line wrapping differs between formats."""
    data = meta.to_json()
    for name in ("body", "attached_guide"):
        if data[name] is not None:
            data[name] = " ".join(data[name].split())
    return data


# --- The sample directives through each format --------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_747() -> str:
    return SAMPLE_747.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "build, source_format", [(build_docx, SourceFormat.DOCX), (build_pdf, SourceFormat.PDF)]
)
def test_docx_and_pdf_of_sample_747_give_the_plain_text_metadata(sample_747, build, source_format) -> None:
    extracted = extract_text(build(sample_747), f"747.{source_format.value}")

    assert extracted.ok and extracted.refusal is None
    assert extracted.source_format is source_format
    from_file = parse_directive(extracted.text)
    assert _comparable(from_file) == _comparable(parse_directive(sample_747))
    # Guard against both sides being equally empty.
    assert from_file.number == "747-CV/ĐUK"
    assert len(from_file.materials) == 4
    assert from_file.signer_name == "Lý Công Hà"


@pytest.mark.parametrize("build", [build_docx, build_pdf])
def test_docx_and_pdf_of_sample_745_give_the_plain_text_metadata(build) -> None:
    markdown = SAMPLE_745.read_text(encoding="utf-8")
    extracted = extract_text(build(markdown), "745.docx" if build is build_docx else "745.pdf")

    assert _comparable(parse_directive(extracted.text)) == _comparable(parse_directive(markdown))


def test_docx_reads_paragraphs_and_tables_in_document_order() -> None:
    document = docx.Document()
    document.add_paragraph("Mở đầu")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Ô trái", "Ô phải"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "Ô gộp"
    nested = table.cell(0, 1).add_table(rows=1, cols=1)
    nested.cell(0, 0).text = "Bảng lồng"
    document.add_paragraph("Kết thúc")
    buffer = io.BytesIO()
    document.save(buffer)

    text = extract_text(buffer.getvalue(), "order.docx").text

    assert text is not None
    assert text.split("\n\n") == ["Mở đầu", "Ô trái", "Ô phải", "Bảng lồng", "Ô gộp", "Kết thúc"]


def test_docx_keeps_line_breaks_inside_a_paragraph() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Triển khai đợt sinh hoạt chính trị,")
    paragraph.add_run().add_break()
    paragraph.add_run("tư tưởng")
    buffer = io.BytesIO()
    document.save(buffer)

    assert extract_text(buffer.getvalue(), "x.docx").text == "Triển khai đợt sinh hoạt chính trị,\ntư tưởng"


# --- Plain text encodings -----------------------------------------------------------------------------------


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters precomposed, tone marks combining."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in decomposed if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


SAMPLE_LINE = "Lai Châu, ngày 03 tháng 4 năm 2024 – Kính gửi: Các chi, đảng bộ cơ sở"


@pytest.mark.parametrize(
    "data",
    [
        SAMPLE_LINE.encode("utf-8"),
        b"\xef\xbb\xbf" + SAMPLE_LINE.encode("utf-8"),
        SAMPLE_LINE.encode("utf-16"),
        _cp1258(SAMPLE_LINE),
    ],
    ids=["utf-8", "utf-8-sig", "utf-16", "cp1258"],
)
def test_text_files_decode_to_nfc(data: bytes) -> None:
    extracted = extract_text(data, "cong-van.txt")

    assert extracted.text == SAMPLE_LINE
    assert extracted.source_format is SourceFormat.TEXT


def test_markdown_file_and_windows_line_endings() -> None:
    extracted = extract_text("Dòng một\r\nDòng hai\r\n".encode(), "ghi-chu.MD")

    assert extracted.text == "Dòng một\nDòng hai"


def test_nfd_text_is_normalised_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Đảng ủy Khối các cơ quan")
    assert nfd != "Đảng ủy Khối các cơ quan"

    assert extract_text(nfd.encode("utf-8"), "a.txt").text == "Đảng ủy Khối các cơ quan"


# --- Refusals -----------------------------------------------------------------------------------------------


def _scanned_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    picture = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(picture, format="PNG")
    pdf.image(picture, x=10, y=10, w=100)
    return bytes(pdf.output())


def _encrypted_pdf() -> bytes:
    pdf = _new_pdf()
    pdf.multi_cell(0, 6, "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh " * 5)
    pdf.set_encryption(owner_password="chu-so-huu", user_password="mat-khau")
    return bytes(pdf.output())


def _truncated_docx(sample: str) -> bytes:
    return build_docx(sample)[:2000]


def _spreadsheet_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make, filename, refusal",
    [
        (
            lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
            "cong-van.doc",
            Refusal.UNSUPPORTED_TYPE,
        ),
        (lambda _: _spreadsheet_zip(), "danh-sach.xlsx", Refusal.UNSUPPORTED_TYPE),
        (lambda _: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "anh.png", Refusal.UNSUPPORTED_TYPE),
        (lambda _: _scanned_pdf(), "scan.pdf", Refusal.NO_TEXT_LAYER),
        (lambda _: _encrypted_pdf(), "khoa.pdf", Refusal.ENCRYPTED),
        (lambda _: b"%PDF-1.7\n garbage that is not a pdf", "hong.pdf", Refusal.CORRUPT_FILE),
        (lambda _: b"not a pdf at all", "hong.pdf", Refusal.CORRUPT_FILE),
        (_truncated_docx, "cat-ngang.docx", Refusal.CORRUPT_FILE),
        (lambda _: b"PK\x03\x04 not really a zip", "hong.docx", Refusal.CORRUPT_FILE),
        (lambda _: b"\x00\x01\x02binary", "nhi-phan.txt", Refusal.CORRUPT_FILE),
        (lambda _: b"  \n\t ", "rong.txt", Refusal.EMPTY_DOCUMENT),
    ],
    ids=[
        "old-doc",
        "xlsx",
        "image",
        "scanned-pdf",
        "encrypted-pdf",
        "broken-pdf",
        "pdf-name-other-bytes",
        "truncated-docx",
        "fake-zip",
        "binary-txt",
        "blank-txt",
    ],
)
def test_unreadable_files_are_refused_with_a_reason(sample_747, make, filename, refusal) -> None:
    extracted = extract_text(make(sample_747), filename)

    assert extracted == ExtractedText(refusal=refusal, source_format=extracted.source_format)
    assert not extracted.ok


def test_empty_docx_is_refused_as_empty() -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)

    assert extract_text(buffer.getvalue(), "rong.docx").refusal is Refusal.EMPTY_DOCUMENT


def test_content_decides_the_format_over_the_name(sample_747) -> None:
    extracted = extract_text(build_docx(sample_747), "tai-lieu")

    assert extracted.source_format is SourceFormat.DOCX
    assert extracted.text is not None and "747-CV/ĐUK" in extracted.text


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=2048), name=st.sampled_from(["a.pdf", "a.docx", "a.txt", "a.md", "a.doc", "a"])
)
def test_arbitrary_bytes_never_raise(data: bytes, name: str) -> None:
    extracted = extract_text(data, name)

    assert (extracted.text is None) != (extracted.refusal is None)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=255))
def test_damaged_pdf_never_raises(cut: int, flip: int) -> None:
    pdf = bytearray(_encrypted_pdf().replace(b"/Encrypt", b"/Xncrypt"))
    pdf[min(cut, len(pdf) - 1)] = flip

    extracted = extract_text(bytes(pdf), "hong.pdf")

    assert (extracted.text is None) != (extracted.refusal is None)
