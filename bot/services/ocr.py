"""Read the text of a scanned directive (an image-only PDF, a photo or image file) with Tesseract's Vietnamese model.

Runs inside the reading worker (`bot.services.read_worker`), under its memory and CPU limits: each page is one
`tesseract` process (through pytesseract), which inherits those limits, so a page that will not finish is killed
by the kernel, not waited for. Pages are rasterised by pypdfium2 (no system package needed), turned grayscale,
despeckled and scaled to about 300 dpi, the resolution Tesseract's models are trained at; Tesseract's own layout analysis copes
with the small skew (a degree or two) of a scanner feed or a careful phone photo, so there is no deskew pass.

One Tesseract run per page gives both the text (rebuilt from its words, line by line) and each word's
confidence; the words it doubted are kept so the preview can say which fields the board should check.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pytesseract
from PIL import Image, ImageFilter, ImageOps

from bot.services.reading import MAX_SCAN_PAGES

LANGUAGE = "vie"
# What a scan holds past this many pages is left out (see reading.MAX_SCAN_PAGES).
MAX_PAGES = MAX_SCAN_PAGES
# The width of an A4 page at 300 dpi: what a page image is scaled to, whatever its source resolution.
_TARGET_WIDTH = 2480
# A hostile image or PDF page may claim any size; Pillow refuses to open more pixels than this.
MAX_PIXELS = 50_000_000
# Tesseract's confidence (0-100) under which a word is doubtful.
LOW_CONFIDENCE = 80
# Marks without letters read with less confidence than this are taken for specks and left out.
_SPECK_CONFIDENCE = 60
_MARKS = frozenset({"-", "–", "+", "*"})
_PDF_POINTS_PER_INCH = 72
_SCAN_DPI = 300
# Page segmentation: fully automatic layout (the header's two columns come out as separate blocks).
_CONFIG = "--psm 3"

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class OcrUnavailable(Exception):
    """Tesseract or its Vietnamese data is not installed on this server."""


class ScanUnreadable(Exception):
    """The bytes are no image or PDF that can be rasterised."""


class PageFailed(Exception):
    """Tesseract did not finish a page: killed over the worker's CPU or memory limit, mostly."""


@dataclass(frozen=True, slots=True)
class ScanText:
    """What Tesseract read: the text, how many pages it read of how many, and the words it doubted."""

    text: str
    pages: int
    total_pages: int
    doubtful: frozenset[str] = field(default_factory=frozenset)


def is_image(data: bytes) -> bool:
    """JPEG, PNG or WebP, by content."""
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def check_available(command: str) -> None:
    """Raise OcrUnavailable unless `command` runs and has the Vietnamese data."""
    pytesseract.pytesseract.tesseract_cmd = command
    try:
        languages = pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
        raise OcrUnavailable(f"{command} does not run: {exc!r}") from exc
    if LANGUAGE not in languages:
        raise OcrUnavailable(f"{command} has no {LANGUAGE} data (it has {', '.join(languages) or 'none'})")


def read_scan(
    data: bytes, command: str, on_page: Callable[[int, int], None] = lambda done, total: None
) -> ScanText:
    """OCR every page (up to MAX_PAGES) of a PDF or image; `on_page(done, total)` is called before the first page
    (done = 0) and after each one."""
    check_available(command)
    return _read_pages(*_pages(data), on_page)


def read_photos(
    photos: list[bytes], command: str, on_page: Callable[[int, int], None] = lambda done, total: None
) -> ScanText:
    """OCR the photos of one directive's pages, in order, as one scan (up to MAX_PAGES); `on_page` as for
    `read_scan`."""
    check_available(command)
    return _read_pages((_image(photo) for photo in photos[:MAX_PAGES]), len(photos), on_page)


def _read_pages(pages: Iterator[Image.Image], total: int, on_page: Callable[[int, int], None]) -> ScanText:
    # One thread per Tesseract: the worker is one read among others on a small server.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    read = min(total, MAX_PAGES)
    on_page(0, read)
    texts: list[str] = []
    doubtful: set[str] = set()
    for done, page in enumerate(pages, start=1):
        text, unsure = _read_page(_prepared(page))
        texts.append(text)
        doubtful |= unsure
        on_page(done, read)
    # A sentence runs on over a page break: pages join like lines.
    return ScanText("\n".join(texts), read, total, frozenset(doubtful))


def fold_word(word: str) -> str:
    """A word as compared with the words of a parsed field: NFC, lower case, without surrounding punctuation."""
    return unicodedata.normalize("NFC", word).strip(".,;:()[]\"'“”‘’").casefold()


# --- Pages ------------------------------------------------------------------------------------------------


def _pages(data: bytes) -> tuple[Iterator[Image.Image], int]:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return _pdf_pages(data)
    return iter([_image(data)]), 1


def _image(data: bytes) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ScanUnreadable(f"not a readable image: {exc!r}") from exc
    # A phone stores its photo as the sensor saw it and says in EXIF how to turn it upright.
    return ImageOps.exif_transpose(image)


def _pdf_pages(data: bytes) -> tuple[Iterator[Image.Image], int]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ScanUnreadable(f"not a readable PDF: {exc!r}") from exc
    total = len(document)

    def render() -> Iterator[Image.Image]:
        for index in range(min(total, MAX_PAGES)):
            page = document[index]
            width, height = page.get_size()
            scale = _SCAN_DPI / _PDF_POINTS_PER_INCH
            # A page claiming a huge size is rendered smaller rather than exhausting memory.
            scale = min(scale, (MAX_PIXELS / max(width * height, 1)) ** 0.5)
            yield page.render(scale=scale, grayscale=True).to_pil()

    return render(), total


def _prepared(image: Image.Image) -> Image.Image:
    """Grayscale, despeckled, at about 300 dpi for an A4 page (a 200 dpi scan is enlarged, a 12 MP photo
    reduced)."""
    # A 3x3 median removes a scanner's speckle and JPEG's ringing around letters, which Tesseract otherwise reads
    # as accents ("ĐÁNG" for "ĐẢNG"), and keeps strokes a pixel wide.
    gray = image.convert("L").filter(ImageFilter.MedianFilter(3))
    width, height = gray.size
    factor = min(max(_TARGET_WIDTH / max(min(width, height), 1), 0.5), 2.0)
    if abs(factor - 1) < 0.1:
        return gray
    return gray.resize((round(width * factor), round(height * factor)), Image.Resampling.LANCZOS)


def _read_page(image: Image.Image) -> tuple[str, set[str]]:
    """The page's text, a line per line Tesseract found, and its doubtful words."""
    try:
        data = pytesseract.image_to_data(
            image, lang=LANGUAGE, config=_CONFIG, output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractError as exc:
        raise PageFailed(str(exc)) from exc
    lines: dict[tuple[int, int, int], list[str]] = {}
    doubtful: set[str] = set()
    for i, word in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if not word.strip() or _speck(word, confidence, first=key not in lines):
            continue
        lines.setdefault(key, []).append(word)
        if 0 <= confidence < LOW_CONFIDENCE:
            doubtful.add(fold_word(word))
    return "\n".join(" ".join(words) for words in lines.values()), doubtful


def _speck(word: str, confidence: float, *, first: bool) -> bool:
    """Dust or a stamp's edge read as punctuation ('.', ':', '|'): doubtful, or opening a line (no line of a
    directive opens with a full stop); a bullet dash is kept."""
    if any(c.isalnum() for c in word) or word in _MARKS:
        return False
    return first or confidence < _SPECK_CONFIDENCE
