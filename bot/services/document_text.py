"""Read the text of an uploaded directive file (DOCX, text-based PDF, .txt/.md) as NFC plain text.

Bad or unreadable bytes never raise: the result then carries a refusal reason code instead of text, and
the bot turns the code into a message for the user (`messages/`). Only MemoryError escapes: it means the file
outgrew the reading worker's memory budget, not that it is damaged, and the worker reports it as such. A DOCX whose zip declares more unpacked data
than a directive can hold (a zip bomb) is refused from its directory alone, before any member is unpacked.
Reading is CPU- and memory-bound on hostile files: the bot runs it in a bounded worker (`bot.services.reading`).
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
    SCAN = "scan"  # a scanned PDF or an image, read with Tesseract (`bot.services.ocr`), never by this module


class Refusal(StrEnum):
    """Why no text could be read from a file."""

    UNSUPPORTED_TYPE = "unsupported_type"  # not DOCX, PDF, .txt or .md (e.g. old .doc, images, spreadsheets)
    NO_TEXT_LAYER = "no_text_layer"  # a scanned or empty PDF: pages are images, nothing to read
    ENCRYPTED = "encrypted"  # a PDF that needs a password to open
    CORRUPT_FILE = "corrupt_file"  # the bytes do not make a readable file of the type it claims
    EMPTY_DOCUMENT = "empty_document"  # a readable DOCX or text file with no text in it
    TOO_LARGE = "too_large"  # a DOCX that would unpack into far more than any directive (a zip bomb)
    # Set by the worker that reads files off the event loop (`bot.services.reading`), never by this module:
    TOO_HEAVY = "too_heavy"  # reading ran over its time or memory budget
    READ_FAILED = "read_failed"  # the reading worker died (crashed or was killed) before answering
    NO_OCR = "no_ocr"  # a scan or image, and this server has no Tesseract with Vietnamese data to read it
    SCAN_UNREADABLE = "scan_unreadable"  # a scan or image in which Tesseract found (almost) no text


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
# A scanned PDF often still carries a few letters per page (a scanner app's watermark, a page number);
# fewer letters than this per page on average means there is no real text layer.
_MIN_PDF_LETTERS_PER_PAGE = 40
_TEXT_ENCODINGS = ("utf-8-sig", "cp1258")
_TEXT_MIME_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
# A real directive's DOCX, images included, unpacks to a few MB. The limits leave a wide margin and stay far
# below what the reading worker's memory budget can hold once python-docx has parsed the XML.
MAX_DOCX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_DOCX_MEMBERS = 2000
# Office XML compresses about 10:1; a bomb's member 1000:1 or more. Small members (styles of an almost empty
# document) may compress better without costing anything, so the ratio is checked above this size only.
MAX_DOCX_RATIO = 100
_RATIO_CHECKED_FROM_BYTES = 1024 * 1024


def extract_text(data: bytes, filename: str, mime: str | None = None) -> ExtractedText:
    """Read the text of `data`; the format comes from the content, else from the name's extension or MIME type."""
    if b"%PDF-" in data[:1024]:
        return _pdf_text(data)
    members = _docx_members(data) if data.startswith(b"PK\x03\x04") else None
    if members is not None:
        return _docx_text(data, members)
    if _named_as_text(filename, mime):
        return _plain_text(data)
    claimed = PurePath(filename).suffix.lower()
    refusal = Refusal.CORRUPT_FILE if claimed in {".docx", ".pdf"} else Refusal.UNSUPPORTED_TYPE
    return ExtractedText(refusal=refusal)


def _docx_members(data: bytes) -> list[zipfile.ZipInfo] | None:
    """The zip's directory if it holds a DOCX's main part; reading it unpacks nothing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except MemoryError:  # over the reading worker's budget, not damage: the worker says so
        raise
    except (
        Exception
    ) as exc:  # any damage to the archive just means "not a DOCX"; the caller decides what to say
        log.info("not a zip archive: %r", exc)
        return None
    return members if any(member.filename == "word/document.xml" for member in members) else None


def _named_as_text(filename: str, mime: str | None) -> bool:
    # DOCX and PDF are recognised by content only: a name alone does not make bytes readable as either.
    return PurePath(filename).suffix.lower() in TEXT_EXTENSIONS or (mime or "").lower() in _TEXT_MIME_TYPES


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


def _docx_text(data: bytes, members: list[zipfile.ZipInfo]) -> ExtractedText:
    if _unpacks_too_large(members):
        return ExtractedText(refusal=Refusal.TOO_LARGE, source_format=SourceFormat.DOCX)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document.iter_inner_content()))
    except MemoryError:
        raise
    except Exception:  # python-docx and lxml raise many types on damaged packages; none may escape
        log.info("unreadable DOCX", exc_info=True)
        return ExtractedText(refusal=Refusal.CORRUPT_FILE, source_format=SourceFormat.DOCX)
    # Paragraphs become blocks separated by a blank line; line breaks inside a paragraph stay single.
    return _finish("\n\n".join(block for block in blocks if block.strip()), SourceFormat.DOCX)


def _unpacks_too_large(members: list[zipfile.ZipInfo]) -> bool:
    """What the zip's directory declares, checked before python-docx unpacks every member into memory.

    A member that declares less than it holds passes this check, and zipfile may unpack up to about 1000
    times its compressed size before cutting it at the declared size: that is for the reading worker's memory
    budget to stop."""
    if len(members) > MAX_DOCX_MEMBERS or sum(m.file_size for m in members) > MAX_DOCX_UNPACKED_BYTES:
        return True
    return any(
        m.file_size >= _RATIO_CHECKED_FROM_BYTES and m.file_size > MAX_DOCX_RATIO * max(m.compress_size, 1)
        for m in members
    )


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
    except MemoryError:
        raise
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
    except MemoryError:
        raise
    except Exception as exc:  # e.g. an AES-encrypted file without a crypto backend: treat as locked
        log.info("PDF could not be decrypted: %r", exc)
        return False


def _page_text(page: PageObject) -> str:
    # One damaged page should not cost the text of the others.
    try:
        return page.extract_text() or ""
    except MemoryError:
        raise
    except Exception:
        log.info("unreadable PDF page", exc_info=True)
        return ""
