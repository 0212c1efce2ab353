"""Read the text of an uploaded directive file (DOCX, text-based PDF, .txt/.md) as NFC plain text.

Bad or unreadable bytes never raise: the result then carries a refusal reason code instead of text, and
the bot turns the code into a message for the user (`messages/`).
"""

from __future__ import annotations

import io
import logging
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PageObject, PasswordType, PdfReader

log = logging.getLogger(__name__)


class SourceFormat(StrEnum):
    DOCX = "docx"
    PDF = "pdf"
    TEXT = "text"


class Refusal(StrEnum):
    """Why no text could be read from a file."""

    UNSUPPORTED_TYPE = "unsupported_type"  # not DOCX, PDF, .txt or .md (e.g. old .doc, images, spreadsheets)
    NO_TEXT_LAYER = "no_text_layer"  # a scanned or empty PDF: pages are images, nothing to read
    ENCRYPTED = "encrypted"  # a PDF that needs a password to open
    CORRUPT_FILE = "corrupt_file"  # the bytes do not make a readable file of the type it claims
    EMPTY_DOCUMENT = "empty_document"  # a readable DOCX or text file with no text in it


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """The text of a file, or the reason it could not be read (exactly one of `text` and `refusal`)."""

    text: str | None = None
    refusal: Refusal | None = None
    source_format: SourceFormat | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
SUPPORTED_EXTENSIONS = frozenset({".docx", ".pdf"}) | TEXT_EXTENSIONS
# A scanned PDF often still carries a few letters per page (a scanner app's watermark, a page number);
# fewer letters than this per page on average means there is no real text layer.
_MIN_PDF_LETTERS_PER_PAGE = 40
_TEXT_ENCODINGS = ("utf-8-sig", "cp1258")


def extract_text(data: bytes, filename: str) -> ExtractedText:
    """Read the text of `data`; the format comes from the content, else from the name's extension."""
    source_format = _sniff(data) or _format_from_name(filename)
    if source_format is None:
        claimed = PurePath(filename).suffix.lower()
        refusal = Refusal.CORRUPT_FILE if claimed in {".docx", ".pdf"} else Refusal.UNSUPPORTED_TYPE
        return ExtractedText(refusal=refusal)
    reader = {SourceFormat.DOCX: _docx_text, SourceFormat.PDF: _pdf_text, SourceFormat.TEXT: _plain_text}
    return reader[source_format](data)


def _sniff(data: bytes) -> SourceFormat | None:
    if b"%PDF-" in data[:1024]:
        return SourceFormat.PDF
    if data.startswith(b"PK\x03\x04") and _is_docx_zip(data):
        return SourceFormat.DOCX
    return None


def _is_docx_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except Exception:  # any damage to the archive just means "not a DOCX"; the caller decides what to say
        return False


def _format_from_name(filename: str) -> SourceFormat | None:
    # DOCX and PDF are recognised by content only: a name alone does not make bytes readable as either.
    return SourceFormat.TEXT if PurePath(filename).suffix.lower() in TEXT_EXTENSIONS else None


def _finish(text: str, source_format: SourceFormat) -> ExtractedText:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ExtractedText(refusal=Refusal.EMPTY_DOCUMENT, source_format=source_format)
    return ExtractedText(text=text, source_format=source_format)


# --- Plain text -------------------------------------------------------------------------------------------


def _plain_text(data: bytes) -> ExtractedText:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decoded(data, "utf-16")
    if b"\x00" in data:
        return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.TEXT)
    for encoding in _TEXT_ENCODINGS:
        result = _decoded(data, encoding)
        if result.refusal is not Refusal.CORRUPT_FILE:
            return result
    return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.TEXT)


def _decoded(data: bytes, encoding: str) -> ExtractedText:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.TEXT)
    return _finish(text, SourceFormat.TEXT)


# --- DOCX -------------------------------------------------------------------------------------------------


def _docx_text(data: bytes) -> ExtractedText:
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document.iter_inner_content()))
    except Exception:  # python-docx and lxml raise many types on damaged packages; none may escape
        log.info("unreadable DOCX", exc_info=True)
        return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.DOCX)
    # Paragraphs become blocks separated by a blank line; line breaks inside a paragraph stay single.
    return _finish("\n\n".join(block for block in blocks if block.strip()), SourceFormat.DOCX)


def _blocks(items: Iterator[Paragraph | Table]) -> Iterator[str]:
    """Paragraph texts in document order, descending into tables row by row, cell by cell."""
    for item in items:
        if isinstance(item, Paragraph):
            yield item.text
        else:
            yield from _table_blocks(item)


def _table_blocks(table: Table) -> Iterator[str]:
    # A merged cell is returned once per grid column it spans; read each underlying cell once.
    seen: set[object] = set()
    for row in table.rows:
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            yield from _blocks(cell.iter_inner_content())


# --- PDF --------------------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> ExtractedText:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = list(reader.pages) if not reader.is_encrypted or _unlocked(reader) else None
    except Exception:  # pypdf raises many types on damaged files; none may escape
        log.info("unreadable PDF", exc_info=True)
        return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.PDF)
    if pages is None:
        return ExtractedText(refusal=Refusal.ENCRYPTED, source_format=SourceFormat.PDF)
    text = "\n".join(_page_text(page) for page in pages)
    letters = sum(1 for char in text if char.isalpha())
    if letters < _MIN_PDF_LETTERS_PER_PAGE * max(len(pages), 1):
        return ExtractedText(refusal=Refusal.NO_TEXT_LAYER, source_format=SourceFormat.PDF)
    return _finish(text, SourceFormat.PDF)


def _unlocked(reader: PdfReader) -> bool:
    """Open a PDF protected only by an owner password (empty user password), as viewers do."""
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # e.g. an AES-encrypted file without a crypto backend: treat as locked
        return False


def _page_text(page: PageObject) -> str:
    # One damaged page should not cost the text of the others.
    try:
        return page.extract_text() or ""
    except Exception:
        log.info("unreadable PDF page", exc_info=True)
        return ""
