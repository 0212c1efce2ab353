"""Scans and photos of directives (issue 14): rendered scans of the two sample directives (A4 at 200 dpi, turned
a degree or two, speckled), sent by the board on Zalo OA as a file and on Telegram as a photo, and given to
`chibo directive parse`; the key fields (number, date, issuer, deadline) must come back, the board must see a
progress message while the scan is read and a preview that says it came from a scan. Without Tesseract, the bot
and the CLI say that scans cannot be read on this server.

The tests that run Tesseract skip, saying why, on a machine without it (`make install` and `.ci/run` install it
where they can)."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cli import app
from bot.core.clock import Clock
from bot.fakes.scans import render_pages, sample_text, to_image, to_pdf
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.runtime import Runtime
from bot.services import ocr
from bot.services.document_text import Refusal as Reason
from bot.services.reading import Budget, Refusal, read_document
from messages import reading as reading_msg
from messages import scans as scans_msg
from messages.directives import FIELD_LABELS
from storage.db import transaction
from storage.models import Directive
from tests.conftest import free_port
from tests.support import BOARD_PHONE, add_staff, load_roster, register
from tests.zalo_fixtures import WAIT, oa_runtime

ISSUER = "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
OCR_WAIT = 240.0  # seconds: a few pages of OCR on a shared two-core machine; waits end as soon as they can
NO_TESSERACT = "/nonexistent/tesseract"
SCAN_WORDS = "Đọc từ bản scan"


def _tesseract_missing() -> str | None:
    try:
        ocr.check_available("tesseract")
    except ocr.OcrUnavailable as exc:
        return str(exc)
    return None


needs_tesseract = pytest.mark.skipif(
    _tesseract_missing() is not None,
    reason=f"Tesseract with Vietnamese data is not installed (apt-get install tesseract-ocr tesseract-ocr-vie): "
    f"{_tesseract_missing()}",
)


@functools.cache
def scan_pdf(sample: str) -> bytes:
    return to_pdf(render_pages(sample_text(sample)))


@functools.cache
def photo_of_first_page(sample: str) -> bytes:
    return to_image(render_pages(sample_text(sample))[0], "JPEG")


@pytest.fixture
async def host() -> AsyncIterator[Callable[[str, bytes], str]]:
    """Serve bytes at a local URL, as Zalo's CDN serves what a user sent."""
    files: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=files[request.match_info["name"]])

    application = web.Application()
    application.router.add_get("/{name}", serve)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    def put(name: str, data: bytes) -> str:
        files[name] = data
        return f"http://127.0.0.1:{port}/{name}"

    yield put
    await runner.cleanup()


async def board_on_oa(runtime: Runtime, fake: FakeZaloOA):  # type: ignore[no-untyped-def]
    from tests.support import invite_code

    await load_roster(runtime)
    await add_staff(runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    code = await invite_code(runtime, BOARD_PHONE, "board")
    board = fake.user("oa-board", "Tuyên")
    await board.follow()
    await board.wait_for(1, timeout=WAIT)
    await board.send_text(code)
    await board.wait_until(lambda ms: ms[-1].kind == "request_info", WAIT)
    await board.submit_info(BOARD_PHONE)
    await board.wait_until(lambda ms: any("Đã kết nối thành công" in m.text for m in ms), WAIT)
    await runtime.dispatcher.idle()
    await runtime.sender.idle()
    return board


async def the_draft(runtime: Runtime) -> Directive:
    async with transaction(runtime.sessions) as session:
        draft = await session.scalar(select(Directive).order_by(Directive.id.desc()))
    assert draft is not None
    return draft


@needs_tesseract
async def test_board_sends_a_scanned_pdf_on_zalo_oa(
    tmp_path: Path,
    db_url: str,
    engine: AsyncEngine,
    fake_oa: FakeZaloOA,
    clock: Clock,
    host: Callable[[str, bytes], str],
) -> None:
    async with oa_runtime(tmp_path, db_url, engine, fake_oa, clock) as runtime:
        board = await board_on_oa(runtime, fake_oa)
        data = scan_pdf("directive-747-CV-DUK.txt")
        await board.send_file(host("cv747.pdf", data), "CV 747 scan.pdf", len(data), "pdf")
        # While Tesseract reads, one message says so (Zalo cannot edit it, so no flood of updates).
        await board.wait_until(lambda ms: any("Đang nhận dạng chữ" in m.text for m in ms), WAIT)
        progress = next(m.text for m in board.messages if "Đang nhận dạng chữ" in m.text)
        assert "3 trang" in progress, progress
        await board.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms), OCR_WAIT)
        preview = next(m.text for m in board.messages if SCAN_WORDS in m.text)
        assert "747-CV/ĐUK" in preview and "3 trang" in preview, preview
        assert "đối chiếu" in preview  # what to check against the paper
        assert sum("Đang nhận dạng chữ" in m.text for m in board.messages) == 1
        draft = await the_draft(runtime)
        assert (draft.number, draft.issued_on, draft.issuer) == ("747-CV/ĐUK", date(2024, 4, 3), ISSUER)
        assert draft.deadline == date(2024, 10, 30)
        assert draft.meta["scan"]["pages"] == 3


@needs_tesseract
async def test_board_sends_a_phone_photo_on_telegram(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    await add_staff(bot, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    board = fake_tg.user(700, "Tuyên")
    await register(bot, board, BOARD_PHONE, role="board")
    await board.send_photo(photo_of_first_page("directive-745-CV-DUK.txt"))
    await board.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms), OCR_WAIT)
    assert any("Đang nhận dạng chữ" in m.text for m in board.messages)
    preview = next(m.text for m in board.messages if SCAN_WORDS in m.text)
    assert "745-CV/ĐUK" in preview and "1 trang" in preview, preview
    draft = await the_draft(bot)
    assert (draft.number, draft.issued_on, draft.issuer) == ("745-CV/ĐUK", date(2024, 4, 3), ISSUER)
    # 745 states no deadline: the preview asks for it, and once the board gives it, no longer.
    assert "deadline" in draft.meta["scan"]["check"] and "Hạn báo cáo" in preview.split("\n\n")[0]
    await board.press("✏️ Hạn báo cáo")
    await board.wait_until(lambda ms: "Hạn báo cáo" in ms[-1].text)
    before = len(board.messages)
    await board.send_text("10/5/2024")
    await board.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms[before:]), WAIT)
    again = next(m.text for m in board.messages[before:] if SCAN_WORDS in m.text)
    assert "Hạn báo cáo" not in again.split("\n\n")[0], again
    assert "deadline" not in (await the_draft(bot)).meta["scan"]["check"]


@needs_tesseract
def test_cli_parses_a_scanned_pdf(tmp_path: Path) -> None:
    path = tmp_path / "cv745.pdf"
    path.write_bytes(scan_pdf("directive-745-CV-DUK.txt"))
    result = CliRunner().invoke(app, ["directive", "parse", str(path)])
    assert result.exit_code == 0, result.output
    assert SCAN_WORDS in result.output and "2 trang" in result.output
    assert "745-CV/ĐUK" in result.output and "03/04/2024" in result.output and ISSUER in result.output


def test_without_tesseract_the_cli_says_scans_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIBO_TESSERACT_CMD", NO_TESSERACT)
    path = tmp_path / "anh.png"
    path.write_bytes(to_image(render_pages("Số 745-CV/ĐUK")[0], "PNG"))
    result = CliRunner().invoke(app, ["directive", "parse", str(path)])
    assert result.exit_code == 1
    assert " ".join(result.output.split()) == reading_msg.file_refusal("no_ocr", "anh.png")


async def test_without_tesseract_the_board_is_told_what_to_send_instead(
    tmp_path: Path,
    db_url: str,
    engine: AsyncEngine,
    fake_oa: FakeZaloOA,
    clock: Clock,
    host: Callable[[str, bytes], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with oa_runtime(tmp_path, db_url, engine, fake_oa, clock, tesseract_cmd=NO_TESSERACT) as runtime:
        board = await board_on_oa(runtime, fake_oa)
        with caplog.at_level(logging.INFO, logger="bot.services.reading"):
            await board.send_image(host("anh.jpg", photo_of_first_page("directive-745-CV-DUK.txt")))
            await board.wait_until(lambda ms: any("chưa cài bộ nhận dạng chữ" in m.text for m in ms), WAIT)
        refusal = next(m.text for m in board.messages if "chưa cài bộ nhận dạng chữ" in m.text)
        assert "DOCX hoặc PDF có chữ" in refusal and "dán nội dung" in refusal
        [line] = [r for r in caplog.records if "no_ocr" in r.getMessage()]
        assert NO_TESSERACT in line.getMessage()
        async with transaction(runtime.sessions) as session:
            assert await session.scalar(select(Directive)) is None  # nothing written for a refused scan


def _blank_pages(count: int) -> list[Image.Image]:
    return [Image.new("L", (1654, 2339), 255) for _ in range(count)]


@needs_tesseract
async def test_a_photo_without_text_is_refused_with_what_to_do() -> None:
    result = await read_document(to_image(_blank_pages(1)[0], "WEBP"), "anh.webp")
    assert isinstance(result, Refusal) and result.reason is Reason.SCAN_UNREADABLE
    assert "chụp lại" in result.message


@needs_tesseract
async def test_a_scan_over_its_time_budget_is_refused() -> None:
    data = photo_of_first_page("directive-745-CV-DUK.txt")
    result = await read_document(data, "anh.jpg", budget=Budget(seconds=1.0, scan_page_seconds=1.0))
    assert isinstance(result, Refusal) and result.reason is Reason.TOO_HEAVY


@needs_tesseract
def test_only_the_first_pages_of_a_long_scan_are_read_and_the_preview_says_so() -> None:
    scan = ocr.read_scan(to_pdf(_blank_pages(ocr.MAX_PAGES + 2)), "tesseract")
    assert (scan.pages, scan.total_pages) == (ocr.MAX_PAGES, ocr.MAX_PAGES + 2)
    note = scans_msg.preview_note(
        {"pages": scan.pages, "total_pages": scan.total_pages, "check": ["number"]}, FIELD_LABELS
    )
    assert note is not None and f"{ocr.MAX_PAGES}/{ocr.MAX_PAGES + 2} trang đầu" in note
    assert FIELD_LABELS["number"] in note
