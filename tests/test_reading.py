"""Reading directives off the event loop in a bounded worker: real files are read as before, hostile ones (zip
bombs, files over the time or memory budget, corrupt or encrypted ones) are refused with a Vietnamese message
saying what to do, a killed worker costs only its own read, and the loop keeps serving others meanwhile.

Durations are compared with each other (a refusal against an ordinary read, a stall against the read it
happened during), never with wall-clock thresholds."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import resource
import signal
import time
from collections.abc import Awaitable
from datetime import date
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from bench.reading import zip_bomb_docx
from bot.services.directive_parser import DirectiveMeta, parse_directive
from bot.services.document_text import MAX_DOCX_UNPACKED_BYTES, SourceFormat, extract_text
from bot.services.document_text import Refusal as Reason
from bot.services.reading import Budget, ReadResult, Refusal, read_document, read_pasted_text
from messages import reading as msg

TODAY = date(2024, 4, 3)
DIRECTIVE = """ĐẢNG BỘ TỈNH LAI CHÂU
ĐẢNG ỦY KHỐI CÁC CƠ QUAN
*
Số 747-CV/ĐUK
V/v tổ chức sinh hoạt chính trị về công tác đối ngoại
ĐẢNG CỘNG SẢN VIỆT NAM
Lai Châu, ngày 03 tháng 4 năm 2024

Kính gửi: Các chi bộ, đảng bộ cơ sở trực thuộc.

Thực hiện Công văn số 1787-CV/TU ngày 01/3/2024 của Ban Thường vụ Tỉnh ủy, Ban Thường vụ Đảng ủy Khối đề nghị
các chi bộ tổ chức sinh hoạt chính trị từ ngày 01/5/2024 đến ngày 31/5/2024.

Các chi bộ báo cáo kết quả về Ban Thường vụ Đảng ủy Khối trước ngày 15/6/2024./.

Nơi nhận:
- Như trên,
- Lưu VPĐUK.
T/M BAN THƯỜNG VỤ
PHÓ BÍ THƯ
Lý Công Hà
"""
# A text the parser needs several seconds for (about 2 µs a byte): long enough to be over a 1 s budget.
HEAVY_TEXT = (
    "Các chi bộ tổ chức quán triệt, báo cáo kết quả về Ban Tuyên giáo trước ngày 30/10 hằng năm. " * 40_000
).encode()
QUICK = Budget(seconds=1.0)


def _docx(text: str) -> bytes:
    document = docx.Document()
    for paragraph in text.split("\n\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="mat-khau", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _workers() -> list[int]:
    """Pids of this process's reading workers."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        # The parent pid is the second field after the parenthesised command name.
        if stat.rsplit(")", 1)[1].split()[1] == me and b"bot.services.read_worker" in cmdline:
            found.append(int(entry.name))
    return found


async def _timed(read: Awaitable[ReadResult | Refusal]) -> tuple[ReadResult | Refusal, float]:
    started = time.monotonic()
    result = await read
    return result, time.monotonic() - started


# --- Ordinary directives ------------------------------------------------------------------------------------


async def test_a_docx_directive_reads_as_it_does_in_process() -> None:
    data = _docx(DIRECTIVE)
    result = await read_document(data, "747.docx", "application/octet-stream", today=TODAY)
    assert isinstance(result, ReadResult)
    assert result.source_format is SourceFormat.DOCX
    extracted = extract_text(data, "747.docx")
    assert extracted.text is not None
    assert result.text == extracted.text
    assert result.meta == parse_directive(extracted.text, today=TODAY)
    assert (result.meta.number, result.meta.deadline) == ("747-CV/ĐUK", date(2024, 6, 15))


async def test_a_text_file_is_recognised_by_its_mime_type() -> None:
    result = await read_document(DIRECTIVE.encode(), "van-ban", "text/plain", today=TODAY)
    assert isinstance(result, ReadResult)
    assert result.source_format is SourceFormat.TEXT
    assert result.meta.issued_on == date(2024, 4, 3)


async def test_pasted_text_is_parsed_in_the_worker() -> None:
    result = await read_pasted_text(DIRECTIVE, today=TODAY)
    assert isinstance(result, ReadResult)
    assert result.source_format is None
    assert result.meta == parse_directive(DIRECTIVE, today=TODAY)


def test_metadata_crosses_the_process_boundary_unchanged() -> None:
    meta = parse_directive(DIRECTIVE, today=TODAY)
    assert meta.cited and meta.period_start and meta.deadline
    assert DirectiveMeta.from_json(meta.to_json()) == meta


# --- Hostile and unreadable files ---------------------------------------------------------------------------


async def test_a_zip_bomb_is_refused_from_its_directory_quickly_and_unopened() -> None:
    bomb = zip_bomb_docx(256)  # a few hundred KB that unpack to 256 MiB of paragraphs, GBs once parsed
    assert len(bomb) < 1024 * 1024
    _, ordinary = await _timed(read_document(_docx(DIRECTIVE), "747.docx", today=TODAY))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result, refusing = await _timed(read_document(bomb, "bom.docx", today=TODAY))
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert isinstance(result, Refusal)
    assert result.reason is Reason.TOO_LARGE
    assert result.message == msg.file_refusal("too_large", "bom.docx")
    assert "bom.docx" in result.message and "dán nội dung" in result.message
    assert refusing < 3 * ordinary  # nothing unpacked: no slower than reading a real directive
    assert grown_kb < 64 * 1024  # the bot's own process never held the unpacked data


async def test_a_smaller_bomb_is_refused_by_its_compression_ratio() -> None:
    # Under the total, over the ratio. Read through the worker: were the check gone, it would be the worker,
    # not the test process, that tried to hold the parsed paragraphs.
    assert MAX_DOCX_UNPACKED_BYTES > 16 * 1024 * 1024, "the smaller bomb must stay under the total"
    result = await read_document(zip_bomb_docx(16), "bom.docx")
    assert isinstance(result, Refusal)
    assert result.reason is Reason.TOO_LARGE


async def test_a_bomb_that_lies_about_its_size_is_stopped_by_the_memory_budget() -> None:
    # Declared 4 KB: the directory check passes it, zipfile unpacks the whole stream before cutting it.
    result = await read_document(
        zip_bomb_docx(1024, declared_size=4096), "bom.docx", budget=Budget(memory_mb=256)
    )
    assert isinstance(result, Refusal)
    assert result.reason is Reason.TOO_HEAVY


def test_the_bomb_is_a_real_docx() -> None:
    # Without its paragraphs it reads as an ordinary empty document: only its size gets it refused.
    assert extract_text(zip_bomb_docx(0), "a.docx").refusal is Reason.EMPTY_DOCUMENT


async def test_a_file_over_the_memory_budget_is_refused_by_the_worker() -> None:
    # 40 MB of text needs several copies of itself to decode and normalise: far over a 160 MB address space.
    result = await read_document(b"a" * 40_000_000, "dai.txt", budget=Budget(memory_mb=160))
    assert isinstance(result, Refusal)
    assert result.reason is Reason.TOO_HEAVY
    assert result.message == msg.file_refusal("too_heavy", "dai.txt")


@pytest.mark.parametrize(
    "data, name, reason",
    [
        (_encrypted_pdf(), "mat.pdf", Reason.ENCRYPTED),
        (b"PK\x03\x04" + b"\x00" * 200, "hong.docx", Reason.CORRUPT_FILE),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "anh.png", Reason.CORRUPT_FILE),  # a damaged image
        (b"GIF89a" + b"\x00" * 50, "anh.gif", Reason.UNSUPPORTED_TYPE),
    ],
)
async def test_unreadable_files_are_refused_with_what_to_do(data: bytes, name: str, reason: Reason) -> None:
    result = await read_document(data, name)
    assert isinstance(result, Refusal)
    assert result.reason is reason
    assert name in result.message and "dán nội dung văn bản vào đây" in result.message


# --- Budgets, crashes and the event loop --------------------------------------------------------------------


async def test_a_read_over_its_time_budget_is_cut_while_the_loop_keeps_ticking() -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    try:
        result, elapsed = await _timed(read_document(HEAVY_TEXT, "nang.txt", budget=QUICK))
    finally:
        ticking.cancel()
    assert isinstance(result, Refusal)
    # Cut at the budget: a parse let run to its end would have been a result.
    assert result.reason is Reason.TOO_HEAVY
    longest_stall = max(b - a for a, b in itertools.pairwise(ticks))
    assert longest_stall < elapsed / 2  # on the loop, the read would have stalled it for all of `elapsed`
    assert _workers() == []


async def test_others_are_served_while_a_heavy_read_runs() -> None:
    heavy = asyncio.create_task(read_document(HEAVY_TEXT, "nang.txt", budget=Budget(seconds=5)))
    light = await read_document(DIRECTIVE.encode(), "nhe.txt", today=TODAY)
    assert isinstance(light, ReadResult)
    assert not heavy.done()
    heavy.cancel()
    with pytest.raises(asyncio.CancelledError):
        await heavy
    assert _workers() == []  # a read given up on takes its worker with it


async def test_a_worker_killed_mid_read_is_replaced_by_the_next_read() -> None:
    reading = asyncio.create_task(read_document(HEAVY_TEXT, "nang.txt"))
    while not (workers := _workers()):
        await asyncio.sleep(0.01)
    os.kill(workers[0], signal.SIGKILL)
    result = await reading
    assert isinstance(result, Refusal)
    assert result.reason is Reason.READ_FAILED
    assert result.message == msg.file_refusal("read_failed", "nang.txt")
    after = await read_document(DIRECTIVE.encode(), "747.txt", today=TODAY)
    assert isinstance(after, ReadResult)
    assert after.meta.number == "747-CV/ĐUK"


async def test_pasted_text_over_budget_is_refused_with_its_own_message() -> None:
    result = await read_pasted_text(HEAVY_TEXT.decode(), budget=QUICK)
    assert isinstance(result, Refusal)
    assert result.reason is Reason.TOO_HEAVY
    assert result.message == msg.PASTED_TOO_HEAVY
