"""The board's directive intake on the Zalo Bot Platform alone (no buttons, no files): a pasted directive taken
through every step by typed numbers and words and sent to a cell on Zalo; a directive photographed page by page
(two photos, one draft with both pages read); a PDF, which Zalo does not pass on, answered with what works there.
And the same page-by-page reading from a Telegram album, whose photos arrive as separate updates.

The tests that run Tesseract skip, saying why, on a machine without it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.fakes.scans import render_pages, sample_text, to_image
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import directives
from bot.services.directive_parser import parse_directive
from bot.services.document_text import Refusal as Reason
from bot.services.forms_store import DEFAULT_FORM
from bot.services.reading import MAX_SCAN_PAGES, Refusal, read_photos
from handlers.directive_intake import FLOW, IntakeStep
from messages import directives as msg
from storage.db import transaction
from storage.models import Conversation, Directive, DirectiveStatus, DirectiveTarget, Unit
from tests.support import BOARD_PHONE, add_staff, load_roster, register, sample
from tests.test_scans import OCR_WAIT, SCAN_WORDS, host, needs_tesseract
from tests.test_zalo_flows import board_member, secretary
from tests.zalo_fixtures import BOT_PLATFORM, ZaloPerson, ZaloWorld, zalo

__all__ = ["host", "zalo"]  # the fixtures, imported for pytest

on_the_bot_platform = pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)


async def choose(person: ZaloPerson, label: str) -> str:
    """Type what the last numbered list says to type for `label`; all the bot answered, as one text."""
    before = len(person.messages)
    await person.tap(label)
    return "\n".join(m.text for m in person.messages[before:])


def page_photos(name: str) -> list[bytes]:
    return [to_image(page, "JPEG") for page in render_pages(sample_text(name))]


async def drafts(runtime: Runtime) -> list[Directive]:
    async with transaction(runtime.sessions) as session:
        return list((await session.scalars(select(Directive).order_by(Directive.id))).all())


@on_the_bot_platform
async def test_board_pastes_corrects_and_sends_a_directive_by_typing(zalo: ZaloWorld) -> None:
    lan = await secretary(zalo)  # Chi bộ Bệnh viện Đa khoa tỉnh, under Đảng bộ Sở Y tế
    tuyen = await board_member(zalo)

    before = len(tuyen.messages)
    preview = await tuyen.say(sample("directive-747-CV-DUK.txt"))
    assert "747-CV/ĐUK" in preview.text, tuyen.describe()
    assert not any("Telegram" in m.text for m in tuyen.messages[before:]), tuyen.describe()

    await tuyen.tap("Trích yếu")  # a field corrected: its number typed, then its value
    saved = await tuyen.say("Sinh hoạt chính trị, tư tưởng về hai tác phẩm của Tổng Bí thư")
    assert "Đã sửa Trích yếu" in saved.text, tuyen.describe()
    confirmed = await choose(tuyen, "Xác nhận hạn 30/10/2024")
    assert "Đã xác nhận hạn báo cáo 30/10/2024" in confirmed, tuyen.describe()
    forms = await choose(tuyen, "Tiếp tục")
    assert "Chọn mẫu báo cáo" in forms, tuyen.describe()
    audience = await choose(tuyen, "sinh hoạt chính trị, tư tưởng")
    assert "Chọn nơi nhận" in audience, tuyen.describe()
    picked = await choose(tuyen, "Đảng bộ Sở Y tế")
    assert "Sẽ gửi tới 2 chi bộ" in picked, tuyen.describe()
    for message in tuyen.messages:  # every numbered list fits one Zalo message
        assert len(message.text) <= 2000
    queued = await choose(tuyen, "Gửi ngay")
    assert "Đã xếp lịch gửi văn bản 747-CV/ĐUK tới 2 chi bộ" in queued, tuyen.describe()

    card = await lan.wait_for_text("747-CV/ĐUK")
    assert "Sinh hoạt chính trị, tư tưởng về hai tác phẩm" in card.text, lan.describe()
    [sent] = await drafts(zalo.runtime)
    assert sent.status in (DirectiveStatus.SENDING, DirectiveStatus.SENT)
    assert (sent.form_key, sent.subject) == (
        "sinh-hoat-chinh-tri",
        "Sinh hoạt chính trị, tư tưởng về hai tác phẩm của Tổng Bí thư",
    )
    async with transaction(zalo.runtime.sessions) as session:
        codes = (
            await session.scalars(
                select(Unit.code)
                .join(DirectiveTarget, DirectiveTarget.unit_id == Unit.id)
                .where(DirectiveTarget.directive_id == sent.id)
                .order_by(Unit.code)
            )
        ).all()
    assert list(codes) == ["DUK-SYT-BV", "DUK-SYT-VP"]


@on_the_bot_platform
async def test_an_option_typed_by_its_words_and_hủy_typed_cancels_the_draft(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    tuyen = await board_member(zalo)
    await tuyen.say(sample("directive-747-CV-DUK.txt"))
    await tuyen.tap("Xác nhận hạn")
    # The board types the word of an option rather than its number.
    await tuyen.say("Tiếp tục: chọn nơi nhận")
    assert "Chọn mẫu báo cáo" in tuyen.messages[-1].text, tuyen.describe()
    cancelled = await tuyen.say("hủy")
    assert msg.CANCELLED in cancelled.text, tuyen.describe()
    [draft] = await drafts(zalo.runtime)
    assert draft.status == DirectiveStatus.CANCELLED
    nothing = await tuyen.say("2")  # the list is gone with the draft: no step is taken from it
    assert [(d.id, d.status) for d in await drafts(zalo.runtime)] == [(draft.id, DirectiveStatus.CANCELLED)]
    assert "chưa hiểu" in nothing.text, tuyen.describe()


@on_the_bot_platform
async def test_a_pdf_sent_on_the_bot_platform_gets_what_works_there(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    tuyen = await board_member(zalo)
    await tuyen.settle()
    before = len(tuyen.messages)
    await tuyen.user.send_unsupported()  # type: ignore[union-attr]
    await tuyen.wait_until(lambda ms: len(ms) > before)
    answer = tuyen.messages[before].text
    assert "Dán nội dung" in answer and "Chụp ảnh từng trang" in answer, answer
    assert "Zalo OA" in answer and "chibo directive send" in answer, answer
    assert await drafts(zalo.runtime) == []


@needs_tesseract
@on_the_bot_platform
async def test_board_photographs_a_two_page_directive_on_zalo(
    zalo: ZaloWorld, host: Callable[[str, bytes], str]
) -> None:
    await load_roster(zalo.runtime)
    tuyen = await board_member(zalo)
    first, second = page_photos("directive-745-CV-DUK.txt")[:2]
    await tuyen.settle()
    await tuyen.user.send_image(host("trang-1.jpg", first))  # type: ignore[union-attr]
    await tuyen.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms), OCR_WAIT)
    before = len(tuyen.messages)
    await tuyen.user.send_image(host("trang-2.jpg", second))  # type: ignore[union-attr]
    await tuyen.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms[before:]), OCR_WAIT)
    assert any("Đã thêm trang 2" in m.text for m in tuyen.messages[before:]), tuyen.describe()
    preview = next(m.text for m in tuyen.messages[before:] if SCAN_WORDS in m.text)
    assert "2 trang" in preview and "745-CV/ĐUK" in preview, preview
    await two_pages_read(zalo.runtime, "745-CV/ĐUK")


async def two_pages_read(runtime: Runtime, number: str) -> None:
    [draft] = await drafts(runtime)
    assert draft.number == number and draft.meta["scan"]["pages"] == 2
    # The second page's words are in the text read (the closing tasks of 745 are on it).
    assert "phản bác" in draft.body_text, draft.body_text
    async with transaction(runtime.sessions) as session:
        files = await directives.files_of(session, draft.id)
    assert len(files) == 2 and all(f.as_photo for f in files)


@needs_tesseract
async def test_a_telegram_album_of_two_pages_is_one_draft(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    await add_staff(bot, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    board = fake_tg.user(700, "Tuyên")
    await register(bot, board, BOARD_PHONE, role="board")
    first, second = page_photos("directive-745-CV-DUK.txt")[:2]
    await board.send_photo(first, media_group_id="album-745")
    await board.send_photo(second, media_group_id="album-745")
    await board.wait_until(lambda ms: any("Đã thêm trang 2" in m.text for m in ms), 2 * OCR_WAIT)
    added = next(i for i, m in enumerate(board.messages) if "Đã thêm trang 2" in m.text)
    await board.wait_until(lambda ms: any(SCAN_WORDS in m.text for m in ms[added:]), OCR_WAIT)
    preview = next(m.text for m in board.messages[added:] if SCAN_WORDS in m.text)
    assert "2 trang" in preview, preview
    await two_pages_read(bot, "745-CV/ĐUK")


@on_the_bot_platform
async def test_no_page_past_the_cap_is_taken(zalo: ZaloWorld) -> None:
    """A draft of MAX_SCAN_PAGES photos takes no more: the board is told, nothing is downloaded or read."""
    await load_roster(zalo.runtime)
    tuyen = await board_member(zalo)
    runtime = zalo.runtime
    async with transaction(runtime.sessions) as session:
        draft = await directives.new_draft(
            session, runtime.clock, parse_directive(sample("directive-745-CV-DUK.txt")), form_key=DEFAULT_FORM
        )
        draft.meta = {**(draft.meta or {}), "scan": {"pages": MAX_SCAN_PAGES, "total_pages": MAX_SCAN_PAGES}}
        for page in range(MAX_SCAN_PAGES):
            photo = await runtime.files.save(
                session, runtime.clock, b"\xff\xd8\xff page %d" % page, "anh.jpg", "image/jpeg"
            )
            await directives.attach(session, draft.id, photo)
        session.add(
            Conversation(
                channel=zalo.channel,
                user_id=tuyen.id,
                flow=FLOW,
                step=IntakeStep.REVIEW,
                data={"id": draft.id},
                updated_at=runtime.clock.now(),
            )
        )
    await tuyen.settle()
    before = len(tuyen.messages)
    await tuyen.user.send_image("http://127.0.0.1:9/trang-7.jpg")  # type: ignore[union-attr]
    await tuyen.wait_until(lambda ms: len(ms) > before)
    assert f"đủ {MAX_SCAN_PAGES} trang" in tuyen.messages[before].text, tuyen.describe()
    async with transaction(runtime.sessions) as session:
        assert len(await directives.files_of(session, draft.id)) == MAX_SCAN_PAGES


async def test_photos_that_are_no_images_are_refused() -> None:
    result = await read_photos([b"\xff\xd8\xff a photo", b"%PDF-1.4 not a photo"], "anh.jpg")
    assert isinstance(result, Refusal) and result.reason is Reason.CORRUPT_FILE
