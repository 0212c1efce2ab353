"""Reading hostile input: the directive parser on 10/20/40/80 KB single-line texts, and whole reads through the
bounded worker (its start-up cost, a zip bomb, how long the event loop stalls during a heavy read).

`python -m bench.reading` prints the figures (it asserts nothing); `--old PATH` also times another copy of the
parser, e.g. the one before the fix: `git show 39ccd19:bot/services/directive_parser.py > /tmp/old_parser.py`.
A kind whose parse takes over `--cutoff` seconds is not run at the larger sizes (the old parser needed minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import random
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import docx

from bot.services import directive_parser
from bot.services.reading import ReadResult, Refusal, read_document

SIZES_KB = (10, 20, 40, 80)
_PHRASE = (
    "Ban Thường vụ Đảng ủy Khối đề nghị các chi bộ tổ chức quán triệt triển khai thực hiện nghiêm túc "
    "và báo cáo kết quả về trước ngày tháng năm Số Kính gửi Nơi nhận"
)
_WORDS = _PHRASE.split()


def _repeated(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def _vietnamese_words(size: int) -> str:
    rng = random.Random(size)
    return " ".join(rng.choice(_WORDS) for _ in range(size // 4))[:size]


INPUTS: dict[str, Callable[[int], str]] = {
    "letters": _repeated("a"),
    "digits": _repeated("7"),
    "vietnamese words": _vietnamese_words,
    "label fragments": _repeated("Hà Nội, ngày tháng năm Số 747-CV/ĐUK từ 01/5 đến trước ngày "),
}


# --- Building hostile files ---------------------------------------------------------------------------------


def zip_bomb_docx(unpacked_mb: int = 256, *, declared_size: int | None = None) -> bytes:
    """A real DOCX whose word/document.xml unpacks to `unpacked_mb` MiB of empty paragraphs (~1 KB per MiB);
    its zip directory declares the true size unless `declared_size` lies about it.

    Deflate cannot shrink data more than about 1000:1, so the stream is built without compressing it all:
    one MiB of paragraphs is compressed once, ending on a full flush (byte-aligned, no back reference into
    what came before), and that block is repeated."""
    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts["word/document.xml"]
    body_at = xml.index(b"<w:body>") + len(b"<w:body>")
    prefix, suffix = xml[:body_at], xml[body_at:]
    chunk = b"<w:p/>" * (1024 * 1024 // 6)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(unpacked_mb):
        crc = zlib.crc32(chunk, crc)
    bomb = _Member(
        "word/document.xml",
        head + block * unpacked_mb + tail,
        zlib.crc32(suffix, crc),
        len(prefix) + len(chunk) * unpacked_mb + len(suffix) if declared_size is None else declared_size,
    )
    members = [_Member.deflated(name, data) for name, data in parts.items() if name != "word/document.xml"]
    return _zip([*members, bomb])


class _Member:
    """A zip member as stored: raw deflate stream, CRC of the unpacked data, unpacked size."""

    def __init__(self, name: str, stream: bytes, crc: int, size: int) -> None:
        self.name, self.stream, self.crc, self.size = name.encode(), stream, crc, size

    @classmethod
    def deflated(cls, name: str, data: bytes) -> _Member:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return cls(name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data))


def _zip(members: list[_Member]) -> bytes:
    # zipfile cannot store a stream compressed elsewhere, so the archive is written by hand (APPNOTE 4.3).
    out, directory = io.BytesIO(), io.BytesIO()
    for m in members:
        offset = out.tell()
        sizes = (m.crc, len(m.stream), m.size, len(m.name))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, *sizes, 0) + m.name + m.stream)
        directory.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset
            )
            + m.name
        )
    start = out.tell()
    out.write(directory.getvalue())
    count, length = len(members), len(directory.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, length, start, 0))
    return out.getvalue()


# --- Figures ------------------------------------------------------------------------------------------------


def _load_parser(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("old_directive_parser", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def parse_times(parser: ModuleType, cutoff: float) -> dict[str, Any]:
    """Seconds per parse (best of 3, or the single run when slow) for each input kind and size."""
    figures: dict[str, Any] = {}
    for kind, make in INPUTS.items():
        row: dict[str, Any] = {}
        for kb in SIZES_KB:
            if row and isinstance(last := list(row.values())[-1], float) and last > cutoff:
                row[f"{kb} KB"] = "skipped"
                continue
            text = make(kb * 1000)
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                parser.parse_directive(text)
                best = min(best, time.perf_counter() - started)
                if best > cutoff / 3:
                    break
            row[f"{kb} KB"] = best
        figures[kind] = row
    return figures


async def reads() -> dict[str, Any]:
    """Whole reads through the worker, and the longest gap of a 10 ms ticker on the loop meanwhile."""
    sample = ("Số 747-CV/ĐUK\nHà Nội, ngày 03 tháng 4 năm 2024\n" + "Nội dung văn bản. " * 200).encode()
    bomb = zip_bomb_docx()
    figures: dict[str, Any] = {}
    for label, data, name in (
        ("small text (worker start-up)", sample, "a.txt"),
        ("80 KB line of letters", b"a" * 80_000, "a.txt"),
        (f"zip bomb, {len(bomb) // 1024} KB -> 256 MiB", bomb, "bomb.docx"),
        ("4 MB of words", _vietnamese_words(4_000_000).encode(), "big.txt"),
    ):
        started = time.monotonic()
        result, longest_gap = await _ticking(read_document(data, name))
        outcome = "read" if isinstance(result, ReadResult) else result.reason.value
        figures[label] = {
            "seconds": time.monotonic() - started,
            "outcome": outcome,
            "longest loop stall (s)": longest_gap,
        }
    return figures


async def _ticking(read: Awaitable[ReadResult | Refusal]) -> tuple[ReadResult | Refusal, float]:
    """`read`'s outcome, and the longest the loop left a 10 ms ticker waiting meanwhile."""
    task = asyncio.ensure_future(read)
    longest, last = 0.0, time.monotonic()
    while not task.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return task.result(), longest


async def reading(old: Path | None = None, cutoff: float = 30.0) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if old is not None:
        figures["parse_directive before (s)"] = parse_times(_load_parser(old), cutoff)
    figures["parse_directive now (s)"] = parse_times(directive_parser, cutoff)
    figures["read_document through the worker"] = await reads()
    return figures


if __name__ == "__main__":
    from bench.__main__ import show

    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--old", type=Path, help="another copy of directive_parser.py to time too")
    cli.add_argument(
        "--cutoff", type=float, default=30.0, help="seconds after which larger sizes are skipped"
    )
    args = cli.parse_args()
    show("Reading hostile input", asyncio.run(reading(args.old, args.cutoff)))
