"""The child side of `bot.services.reading`: read one directive under a memory and CPU cap, answer in JSON.

Run as `python -m bot.services.read_worker MEMORY_MB CPU_SECONDS`. Stdin holds one JSON line (the request:
`name`, `mime`, `today`, `tesseract` (the OCR command), `pasted` for text to parse as is, and `photos`, the sizes
of the photos of one directive's pages that follow one after another) followed by the file's bytes. Stdout gets JSON lines: while a scan is read, `{"progress": [done, total]}` (pages; done = 0 when it
starts), then the answer, `{"text", "source_format", "meta"}` (and `"scan"` for a scan) or `{"refusal"}`. JSON
rather than pickle: a file that subverted a parser here still cannot make the bot run code when the bot reads the
answer.

A PDF without a text layer and an image (JPEG, PNG, WebP) are read with Tesseract (`bot.services.ocr`); each
page's `tesseract` process inherits this worker's limits.
"""

from __future__ import annotations

import json
import resource
import sys
import unicodedata
from datetime import date
from typing import Any

from bot.services import ocr
from bot.services.directive_parser import parse_directive
from bot.services.document_text import Refusal, SourceFormat, extract_text
from bot.services.scan_check import fields_to_check

_MB = 1024 * 1024
# A scan that yields fewer letters than this per page holds no directive Tesseract could read (a photo of
# something else, a blank page, a blurred picture).
_MIN_SCAN_LETTERS_PER_PAGE = 40


def main() -> None:
    memory_mb, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    # Hard limits too: nothing read from the file may raise them again.
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * _MB, memory_mb * _MB))
    # A backstop for the parent's wall-clock budget: the kernel ends a worker its parent no longer watches.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        request = json.loads(sys.stdin.buffer.readline())
        # Plain UTF-8: a Vietnamese letter takes 2-3 bytes instead of a 6-byte \u escape, quicker to decode.
        answer = json.dumps(_answer(request, sys.stdin.buffer.read()), ensure_ascii=False).encode()
    except MemoryError:  # the file needed more than the budget; what it held is freed by now
        answer = json.dumps({"refusal": Refusal.TOO_HEAVY.value}).encode()
    sys.stdout.buffer.write(answer + b"\n")


def _answer(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    today = date.fromisoformat(request["today"]) if request.get("today") else None
    if request.get("pasted"):
        return _parsed(data.decode("utf-8"), None, today)
    tesseract = request.get("tesseract") or "tesseract"
    if isinstance(request.get("photos"), list):
        return _scanned_photos(_split(data, request["photos"]), tesseract, today)
    if ocr.is_image(data):
        return _scanned(data, tesseract, today)
    extracted = extract_text(data, request["name"], request.get("mime"))
    if extracted.refusal is Refusal.NO_TEXT_LAYER:
        return _scanned(data, tesseract, today)
    if extracted.text is None:
        return {"refusal": str(extracted.refusal)}
    return _parsed(extracted.text, extracted.source_format, today)


def _split(data: bytes, sizes: list[Any]) -> list[bytes]:
    """The photos the request's sizes cut `data` into (each must be an image)."""
    photos, start = [], 0
    for size in sizes:
        photos.append(data[start : start + int(size)])
        start += int(size)
    return photos


def _scanned_photos(photos: list[bytes], tesseract: str, today: date | None) -> dict[str, Any]:
    if not photos or not all(ocr.is_image(photo) for photo in photos):
        return {"refusal": Refusal.CORRUPT_FILE.value}
    return _scanned(photos, tesseract, today)


def _scanned(data: bytes | list[bytes], tesseract: str, today: date | None) -> dict[str, Any]:
    try:
        if isinstance(data, list):
            scan = ocr.read_photos(data, tesseract, _report_progress)
        else:
            scan = ocr.read_scan(data, tesseract, _report_progress)
    except ocr.OcrUnavailable:
        return {"refusal": Refusal.NO_OCR.value}
    except ocr.ScanUnreadable:
        return {"refusal": Refusal.CORRUPT_FILE.value}
    except ocr.PageFailed:
        return {"refusal": Refusal.TOO_HEAVY.value}
    text = unicodedata.normalize("NFC", scan.text).strip()
    if sum(1 for char in text if char.isalpha()) < _MIN_SCAN_LETTERS_PER_PAGE * max(scan.pages, 1):
        return {"refusal": Refusal.SCAN_UNREADABLE.value}
    meta = parse_directive(text, today=today)
    check = fields_to_check(meta, scan.doubtful)
    return {
        "text": text,
        "source_format": SourceFormat.SCAN,
        "meta": meta.to_json(),
        "scan": {"pages": scan.pages, "total_pages": scan.total_pages, "check": check},
    }


def _report_progress(done: int, total: int) -> None:
    sys.stdout.buffer.write(json.dumps({"progress": [done, total]}).encode() + b"\n")
    sys.stdout.buffer.flush()


def _parsed(text: str, source_format: SourceFormat | None, today: date | None) -> dict[str, Any]:
    meta = parse_directive(text, today=today)
    return {"text": text, "source_format": source_format, "meta": meta.to_json()}


if __name__ == "__main__":
    main()
