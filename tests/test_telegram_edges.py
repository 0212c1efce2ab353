"""Telegram's edge cases survived by the bot, driven through the fake Telegram: a picture Telegram will not take as a
photo goes out as a document, audio and video files are uploaded once however many cells get them, and a long reply
interrupted by a 429 resumes at the piece that failed."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Button, ChannelName, OutFile, Reply
from bot.core.limits import LIMITS
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from messages.render import split_long
from storage.db import transaction
from storage.models import DirectiveTarget
from tests.conftest import make_settings
from tests.support import (
    DOCX_MIME,
    add_staff,
    board_and_secretaries,
    docx_bytes,
    load_roster,
    register,
    sample,
)

DIRECTIVE_747 = docx_bytes(sample("directive-747-CV-DUK.txt"))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG")
    return out.getvalue()


async def until(user: FakeUser, text: str, wait: float = 5.0) -> None:
    await user.wait_until(lambda ms: any(text in m.text for m in ms), timeout=wait)


async def broadcast_747_with(board: FakeUser, attachments: list[tuple[str, bytes, str]]) -> None:
    """The board sends directive 747 with extra files attached, to every cell, the way a board member does."""
    await board.send_document("747-CV-DUK.docx", DIRECTIVE_747, DOCX_MIME)
    await until(board, "Văn bản tôi đọc được")
    for name, content, mime in attachments:
        await board.send_document(name, content, mime)
        await until(board, f"Đã thêm tài liệu: {name}")
    await board.press("✅ Xác nhận hạn 30/10/2024")
    await until(board, "Đã xác nhận hạn")
    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "Chọn mẫu báo cáo")
    await board.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await until(board, "Chọn nơi nhận")
    await board.press("🌐 Tất cả chi bộ trong phạm vi")
    await until(board, "Sẽ gửi tới")
    await board.press("📤 Gửi ngay")
    await until(board, "Đã xếp lịch gửi")


async def deliveries(bot: Runtime) -> dict[str, int]:
    async with transaction(bot.sessions) as session:
        rows = await session.execute(
            select(DirectiveTarget.delivery, func.count()).group_by(DirectiveTarget.delivery)
        )
        return {delivery: count for delivery, count in rows.all()}


async def test_a_picture_telegram_refuses_as_a_photo_reaches_every_cell_as_a_document(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    await broadcast_747_with(board, [("so-do-to-chuc.png", png(2100, 100), "image/png")])  # 21:1
    await until(board, "Đã gửi xong văn bản 747-CV/ĐUK: 3/5", wait=10)
    for user in secretaries.values():
        files = [(m.kind, m.file_name) for m in user.messages if m.file is not None]
        assert files == [("document", "747-CV-DUK.docx"), ("document", "so-do-to-chuc.png")]
        card = user.messages[-2]  # the card is the first file's caption, with the buttons
        assert card.text.startswith("📄 VĂN BẢN MỚI")
        assert [b.label for b in card.buttons] == ["✅ Đã nhận", "📝 Báo cáo"]
    assert await deliveries(bot) == {"sent": 3, "unregistered": 2}
    photo_calls = [c for c in fake_tg.calls if c.method == "sendPhoto"]
    assert [c.description for c in photo_calls] == [
        "Bad Request: PHOTO_INVALID_DIMENSIONS"
    ]  # tried once only
    assert fake_tg.uploads == 2  # the directive and the picture, each uploaded once


async def test_audio_and_video_go_out_as_documents_uploaded_once(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    media = [
        ("phong-su.mp4", b"\0\0\0 ftypmp42 video", "video/mp4"),
        ("bai-hat.mp3", b"ID3 audio", "audio/mpeg"),
    ]
    await broadcast_747_with(board, media)
    await until(board, "Đã gửi xong văn bản 747-CV/ĐUK: 3/5", wait=10)
    for user in secretaries.values():
        files = [(m.kind, m.file_name) for m in user.messages if m.file is not None]
        assert files == [
            ("document", "747-CV-DUK.docx"),
            ("document", "phong-su.mp4"),
            ("document", "bai-hat.mp3"),
        ]
    assert fake_tg.uploads == 3  # one upload per file, not one per file and cell
    sends = [c for c in fake_tg.calls if c.method == "sendDocument"]  # the card on the first file
    assert len(sends) == 3 and all(c.params.get("disable_content_type_detection") is True for c in sends)
    groups = [c for c in fake_tg.calls if c.method == "sendMediaGroup"]  # the other two as one album
    items = [item for c in groups for item in c.params["media"]]
    assert len(groups) == 3 and len(items) == 6
    assert all(i["type"] == "document" and i["disable_content_type_detection"] is True for i in items)


async def test_a_long_reply_resumes_at_the_piece_a_429_stopped(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await board.send_document("747-CV-DUK.docx", DIRECTIVE_747, DOCX_MIME)
    await until(board, "Văn bản tôi đọc được")
    await board.press("✏️ Trích yếu")
    await until(board, "Gõ trích yếu")
    subject = " ".join(f"Nội dung sinh hoạt chính trị số {i}." for i in range(112)) + " HẾT."
    assert 4000 < len(subject) <= 4096  # one message from the board; the preview around it is longer
    before = len(fake_tg.sent)
    fake_tg.force_429(retry_after=1, after=2)  # "Đã sửa" and the preview's first piece pass; the second fails
    await board.send_text(subject)
    await board.wait_until(lambda ms: any("HẾT." in m.text for m in ms), timeout=10)
    pieces = [m.text for m in fake_tg.sent[before:]]
    assert len(pieces) == 3, pieces
    assert pieces[0] == "Đã sửa Trích yếu."
    assert pieces[1].startswith("📄 Văn bản tôi đọc được") and "HẾT." not in pieces[1]  # sent once
    assert "HẾT." in pieces[2] and board.last.buttons  # the buttons ride on the last piece
    (refused,) = [c for c in fake_tg.calls if c.status == 429]
    assert "HẾT." in refused.params["text"]  # the 429 hit the second piece, not the first
    assert all(len(text) <= 4096 for text in pieces)


# -- split_long: the pure function deciding the pieces ---------------------------------------------------------

TELEGRAM = LIMITS[ChannelName.TELEGRAM]
CHOICES = [[Button("✅ Đã nhận", "ack:1")]]


def test_split_long_cuts_a_long_text_into_parts_with_the_buttons_on_the_last() -> None:
    text = " ".join(f"Câu thứ {i} của bản tổng hợp." for i in range(400))
    pieces = split_long(
        [Reply(text="Mở đầu"), Reply(text=text, buttons=CHOICES, remove_keyboard=True)], TELEGRAM
    )
    assert pieces[0] == Reply(text="Mở đầu")
    assert len(pieces) == 1 + -(-len(text) // 4096) and all(len(p.text) <= 4096 for p in pieces)
    assert " ".join(p.text for p in pieces[1:]) == text
    assert [p.buttons for p in pieces[1:]] == [[]] * (len(pieces) - 2) + [CHOICES]
    assert [p.remove_keyboard for p in pieces[1:]] == [False] * (len(pieces) - 2) + [True]


def test_split_long_puts_a_caption_too_long_for_telegram_before_its_file() -> None:
    file = OutFile("ab" * 32, "747-CV.pdf", "application/pdf", 10)
    caption = "Chú thích " * 150  # 1500 characters: over Telegram's 1024 for a caption, one text message
    pieces = split_long([Reply(text=caption, file=file, buttons=CHOICES)], TELEGRAM)
    assert pieces == [Reply(text=caption.strip()), Reply(text="", file=file, buttons=CHOICES)]
    short = Reply(text="Công văn", file=file)
    assert split_long([short], TELEGRAM) == [short]


def test_split_long_leaves_what_fits_and_channels_it_knows_nothing_of() -> None:
    long = Reply(text="x " * 3000)
    assert split_long([long], None) == [long]
    zalo_file = Reply(text="y " * 1500, file=OutFile("cd" * 32, "a.pdf", "application/pdf", 1))
    assert split_long([zalo_file], LIMITS[ChannelName.ZALO]) == [zalo_file]  # the Zalo adapter lays it out
    assert len(split_long([long], LIMITS[ChannelName.ZALO])) == 3


# -- Telegram's real flood limits on: 30 msg/s overall, 1 msg/s per chat (bursts of 5) ----------------------------

CELLS = 40


@pytest.fixture
async def limited_tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()  # the fake's defaults are Telegram's limits
    assert (fake.limiter.global_rate, fake.limiter.per_chat_rate) == (30.0, 1.0)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def limited_bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, limited_tg: FakeTelegram, clock: Clock
) -> AsyncIterator[Runtime]:
    """The bot with the pacing it runs with in production (the suite's other tests switch it off)."""
    production = {
        name: Settings.model_fields[name].default
        for name in ("telegram_rate", "telegram_chat_interval", "progress_interval")
    }
    runtime = Runtime.build(
        make_settings(tmp_path, db_url, limited_tg, **production), clock=clock, engine=engine
    )
    await runtime.start(migrate_db=False)
    yield runtime
    await runtime.stop()


async def forty_cells(bot: Runtime, fake: FakeTelegram, tmp_path: Path) -> tuple[FakeUser, list[FakeUser]]:
    """A district committee with 40 cells, its board member and 40 secretaries, all joined through the bot."""
    roster = tmp_path / "roster.csv"
    lines = ["Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại", "H,Huyện ủy Thử,,Huyện ủy,,"]
    lines += [
        f"H-{i:02d},Chi bộ số {i:02d},H,Chi bộ,Bí thư {i:02d},09120010{i:02d}" for i in range(1, CELLS + 1)
    ]
    roster.write_text("\n".join(lines), encoding="utf-8")
    await load_roster(bot, roster)
    await add_staff(bot, "Cán bộ Tuyên giáo", "0988000009", "H")
    board = fake.user(720, "Cán bộ")
    await register(bot, board, "0988000009", role="board")
    secretaries = [fake.user(900 + i, f"Bí thư {i:02d}") for i in range(1, CELLS + 1)]
    await asyncio.gather(
        *(register(bot, user, f"09120010{i:02d}") for i, user in enumerate(secretaries, start=1))
    )
    return board, secretaries


async def test_a_broadcast_and_a_conversation_under_telegrams_limits(
    limited_bot: Runtime, limited_tg: FakeTelegram, tmp_path: Path
) -> None:
    board, secretaries = await forty_cells(limited_bot, limited_tg, tmp_path)
    started, calls_started = len(limited_tg.sent), len(limited_tg.calls)
    await broadcast_747_with(board, [])
    await board.send_command("/tinhhinh")  # the board keeps talking to the bot while the cells are served
    await until(board, "Văn bản đang theo dõi", wait=10)
    await until(board, f"Đã gửi xong văn bản 747-CV/ĐUK: {CELLS}/{CELLS}", wait=30)
    for user in secretaries[:5]:  # and cells answer while others may still be receiving
        await user.press("✅ Đã nhận")
    for user in secretaries[:5]:
        await until(user, "Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK", wait=10)

    # Zero lost: every cell got the card and the file, once.
    for user in secretaries:
        cards = [m for m in user.messages if m.text.startswith("📄 VĂN BẢN MỚI")]
        files = [m.file_name for m in user.messages if m.kind == "document"]
        assert len(cards) == 1 and files == ["747-CV-DUK.docx"], user.id
    assert await deliveries(limited_bot) == {"sent": CELLS}
    # Zero 429 left unhandled: whatever call Telegram refused was made again, later, to the same chat.
    calls = limited_tg.calls
    refused = [c for c in calls if c.status == 429]
    for c in refused:
        assert any(
            later.status == 200
            and (later.method, later.chat_id) == (c.method, c.chat_id)
            and later.time > c.time
            for later in calls
        ), c
    # The directive's deliveries to the cells were paced under the limits. (Replies are sent at once, as the forty
    # welcomes of the set-up were, and made good above when refused.)
    deliveries_refused = [
        c
        for c in calls[calls_started:]
        if c.status == 429 and c.chat_id != board.id and c.method in ("sendDocument", "sendMediaGroup")
    ]
    assert not deliveries_refused
    # One message per cell: the file with the card as its caption and the buttons. The broadcast's pace is
    # measured where Telegram receives them.
    sent = limited_tg.sent[started:]
    to_cells = [m for m in sent if m.chat_id != board.id and m.reply_to_message_id is None]
    directive_messages = [m for m in to_cells if m.text.startswith("📄 VĂN BẢN MỚI") or m.kind == "document"]
    assert len(directive_messages) == CELLS
    assert all(m.kind == "document" and m.buttons for m in directive_messages)
    times = sorted(m.sent_at for m in directive_messages)
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"broadcast: {len(times)} messages at {rate:.1f} msg/s; ")
    print(f"{len(refused)} 429s, all made good, none in a cell's chat during the broadcast")
    # Never over Telegram's limit is asserted above (the fake answered no cell's delivery with 429). The rate seen
    # at the fake can exceed the configured 25 msg/s for a moment when a stalled event loop wakes several paced
    # senders at once, so only a floor is held here: the broadcast was paced, not stuck.
    assert rate >= 8, rate
