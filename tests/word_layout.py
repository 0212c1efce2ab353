"""The Party's layout rules for a report (Hướng dẫn 36-HD/VPTW, docs/party-format.md), measured on a generated .docx
with python-docx, and on its PDF from LibreOffice with pypdf. The expected values are the rules' own (ranges where
the rules give one), written here again rather than read from the builder, so a wrong constant there fails here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from tests.support import to_pdf

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
PAGE = (Mm(210), Mm(297))
MARGINS = {  # top, bottom 20-25 mm; left 30-35 mm; right 15-20 mm
    "top_margin": (Mm(20), Mm(25)),
    "bottom_margin": (Mm(20), Mm(25)),
    "left_margin": (Mm(30), Mm(35)),
    "right_margin": (Mm(15), Mm(20)),
}
NUMBER = re.compile(r"^Số (\d{2,4}|\s+)-BC/\S+$")  # no colon after "Số"; 01-09 take a leading zero
PLACE_DATE = re.compile(r"^\S.*, ngày \d{2} tháng (\d{2}|1[0-2]|[3-9]) năm \d{4}$")
CLOSING_LEAD = 2  # body paragraphs that must travel with the closing blocks


@dataclass(frozen=True)
class Look:
    """What a paragraph's runs look like: size range, bold, italic, underline (None: not checked)."""

    sizes: tuple[Length, Length]
    bold: bool | None = None
    italic: bool | None = None
    underline: bool | None = None
    upper: bool = False
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.CENTER


UPPER_BODY = Look((Pt(14), Pt(14)), bold=False, italic=False, upper=True)
ISSUER = Look((Pt(14), Pt(14)), bold=True, italic=False, upper=True)
STAR = Look((Pt(14), Pt(14)), bold=False)
NUMBER_LOOK = Look((Pt(14), Pt(14)), bold=False, italic=False)
PARTY = Look((Pt(15), Pt(15)), bold=True, italic=False, upper=True)
PLACE_DATE_LOOK = Look((Pt(14), Pt(14)), bold=False, italic=True)
TITLE = Look((Pt(15), Pt(16)), bold=True, italic=False, upper=True)
SUBJECT = Look((Pt(14), Pt(15)), bold=True, italic=False)
RECIPIENTS = Look((Pt(14), Pt(14)), bold=False, italic=False, underline=True, align=WD_ALIGN_PARAGRAPH.LEFT)
RECIPIENT = Look((Pt(12), Pt(12)), bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.LEFT)
AUTHORITY = Look((Pt(14), Pt(14)), bold=True, italic=False, upper=True)
SIGNER = Look((Pt(14), Pt(14)), bold=True, italic=False)
BODY = Look((Pt(14), Pt(15)), align=None)


def _size(run_size: Length | None) -> Length:
    return run_size if run_size is not None else BODY_SIZE  # every paragraph is in Normal, which is 14 pt


def assert_look(paragraph: Paragraph, look: Look, what: str) -> None:
    runs = [run for run in paragraph.runs if run.text.strip()]
    assert runs, f"{what}: empty"
    for run in runs:
        assert look.sizes[0] <= _size(run.font.size) <= look.sizes[1], (what, run.text, run.font.size)
        for name in ("bold", "italic", "underline"):
            wanted = getattr(look, name)
            if wanted is not None:
                assert bool(getattr(run, name)) == wanted, (what, name, run.text)
    if look.upper:
        assert paragraph.text == paragraph.text.upper(), (what, paragraph.text)
    if look.align is not None:
        assert paragraph.paragraph_format.alignment == look.align, (
            what,
            paragraph.paragraph_format.alignment,
        )


def check_layout(content: bytes) -> DocxDocument:
    """Every rule the Word report must meet, measured on the file; the opened document for further checks."""
    document = Document(BytesIO(content))
    _check_page(document)
    _check_fonts(document)
    _check_header(document.tables[0])
    _check_title(document)
    _check_closing(document)
    _check_appendix(document)
    return document


def _check_page(document: DocxDocument) -> None:
    section = document.sections[0]
    assert abs(section.page_width - PAGE[0]) < Mm(0.5) and abs(section.page_height - PAGE[1]) < Mm(0.5)
    for name, (low, high) in MARGINS.items():
        assert low - Mm(0.5) <= getattr(section, name) <= high + Mm(0.5), name
    # Page numbers: top centre, from the second page.
    assert section.different_first_page_header_footer
    header = section.header.paragraphs[0]
    assert header.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert any(f.get(qn("w:instr")) == "PAGE" for f in header._p.iter(qn("w:fldSimple")))


def _check_fonts(document: DocxDocument) -> None:
    normal = document.styles["Normal"]
    assert normal.font.name == FONT and normal.font.size == BODY_SIZE
    rfonts = normal.element.rPr.find(qn("w:rFonts"))
    assert all(rfonts.get(qn(script)) == FONT for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"))
    for run in document.element.body.iter(qn("w:r")):
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert fonts is None or set(fonts.attrib.values()) <= {FONT}


def _check_header(table: Table) -> None:
    """Top left: superior body, issuer, star, number; top right: the Party heading, then place and date."""
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and {edge.get(qn("w:val")) for edge in borders} == {"nil"}
    left, right = table.rows[0].cells
    upper, issuer, star, number = [p for p in left.paragraphs if p.text.strip()]
    assert_look(upper, UPPER_BODY, "superior body")
    assert_look(issuer, ISSUER, "issuer")
    assert star.text == "*"
    assert_look(star, STAR, "star")
    assert NUMBER.match(number.text), number.text
    assert_look(number, NUMBER_LOOK, "number")
    party, place_date = [p for p in right.paragraphs if p.text.strip()]
    assert party.text == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert_look(party, PARTY, "Party heading")
    assert party.runs[0].underline  # the rule under the heading
    assert PLACE_DATE.match(place_date.text), place_date.text
    assert_look(place_date, PLACE_DATE_LOOK, "place and date")


def _check_title(document: DocxDocument) -> None:
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    title, subject, rule = paragraphs[0], paragraphs[1], paragraphs[2]
    assert title.text == "BÁO CÁO"
    assert_look(title, TITLE, "document type")
    assert_look(subject, SUBJECT, "subject")
    assert rule.text.strip("- ") == ""
    body = paragraphs[3]
    assert_look(body, BODY, "body")
    assert body.paragraph_format.alignment in (None, WD_ALIGN_PARAGRAPH.JUSTIFY)


def closing_table(document: DocxDocument) -> Table:
    return next(t for t in document.tables if t.rows[0].cells[-1].text.startswith(("T/M ", "K/T ")))


def _check_closing(document: DocxDocument) -> None:
    table = closing_table(document)
    left, right = table.rows[0].cells
    lines = [p for p in left.paragraphs if p.text.strip()]
    assert lines[0].text == "Nơi nhận:"
    assert_look(lines[0], RECIPIENTS, "Nơi nhận")
    assert "(để báo cáo)" in lines[1].text  # a report goes up "for report"
    assert not any("Như trên" in p.text for p in lines)  # a report has no "Kính gửi" to refer to
    assert lines[-1].text.startswith("- Lưu ") and lines[-1].text.endswith(".")
    for line in lines[1:]:
        assert_look(line, RECIPIENT, "recipient")
    signed = [p for p in right.paragraphs if p.text.strip()]
    assert len(signed) == 3, [p.text for p in signed]  # authority, position, name
    assert_look(signed[0], AUTHORITY, "authority")
    assert_look(signed[1], AUTHORITY, "position")
    assert_look(signed[2], SIGNER, "name")
    assert "" in [p.text for p in right.paragraphs[2:-1]]  # room for the signature and seal
    # The closing row never splits, and the body's last lines travel with it.
    assert _cant_split(table._tbl.tr_lst[0])
    before = _paragraphs_before(document, table)[-(CLOSING_LEAD + 1) :]
    assert all(p.paragraph_format.keep_with_next for p in before), [p.text for p in before]


def _check_appendix(document: DocxDocument) -> None:
    table = document.tables[-1]
    if table._tbl is closing_table(document)._tbl:  # no units: no appendix table
        return
    rows = table._tbl.tr_lst
    assert rows[0].trPr.find(qn("w:tblHeader")) is not None  # the header row repeats on every page
    assert all(_cant_split(row) for row in rows)
    # The last rows travel with what follows the table: no page holds a lone row.
    tail = [Paragraph(p, None) for row in rows[-2:] for p in row.iter(qn("w:p"))]
    assert all(p.paragraph_format.keep_with_next for p in tail)


def _cant_split(row: object) -> bool:
    tr_pr = row.trPr  # type: ignore[attr-defined]
    found = tr_pr.find(qn("w:cantSplit")) if tr_pr is not None else None
    return found is not None and found.get(qn("w:val"), "true") in ("true", "1", "on")


def _paragraphs_before(document: DocxDocument, table: Table) -> list[Paragraph]:
    found = []
    for element in document.element.body.iterchildren():
        if element is table._tbl:
            return found
        if element.tag == qn("w:p"):
            found.append(Paragraph(element, document._body))
    raise AssertionError("the closing table is not in the body")


# --- The PDF LibreOffice makes ------------------------------------------------------------------------------


def to_pdfs(contents: Sequence[bytes], folder: Path) -> list[list[str]]:
    """Each .docx converted by LibreOffice (one run for all), as the text of its pages."""
    names = []
    for index, content in enumerate(contents):
        path = folder / f"report-{index:03d}.docx"
        path.write_bytes(content)
        names.append(path)
    return [[page.extract_text() for page in PdfReader(path).pages] for path in to_pdf(names, folder)]


def skeleton(text: str) -> str:
    """The ASCII characters of `text` without spaces: pypdf moves some Vietnamese letters of a line to its end, so
    texts are compared on what it leaves in place."""
    return "".join(ch for ch in text if ch.isascii() and not ch.isspace())


def check_last_page(pages: list[str], least: int = 3) -> None:
    """The last page holds at least `least` lines besides its page number."""
    lines = [line for line in pages[-1].splitlines() if line.strip() and not line.strip().isdigit()]
    assert len(lines) >= least, ("a nearly empty last page", pages[-1])


def check_pages(pages: list[str], closing: Sequence[str], body_tail: str) -> None:
    """The closing blocks (`closing`: its first and last lines, the signer) all on one page, and that page also
    holds the end of the body; no page holds only closing lines."""
    holding = [i for i, page in enumerate(pages) if any(skeleton(line) in skeleton(page) for line in closing)]
    assert len(holding) == 1, ("closing blocks split across pages", holding)
    page = skeleton(pages[holding[0]])
    assert all(skeleton(line) in page for line in closing), closing
    assert skeleton(body_tail) in page, ("the closing page holds no body text", body_tail)
    for text in pages:
        rest = skeleton(text)
        for line in closing:
            rest = rest.replace(skeleton(line), "")
        assert len(rest) > 12, ("a page with only the closing", text)
