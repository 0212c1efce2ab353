"""Telegram's edge cases survived by the bot, driven through the fake Telegram: a picture Telegram will not take as a
photo goes out as a document, audio and video files are uploaded once however many cells get them, and a long reply
interrupted by a 429 resumes at the piece that failed."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.sandbox.demo import SAMPLES_DIR
from storage.db import transaction
from storage.models import DirectiveTarget
from tests.support import DOCX_MIME, board_and_secretaries, docx_bytes

DIRECTIVE_747 = docx_bytes((SAMPLES_DIR / "directive-747-CV-DUK.txt").read_text(encoding="utf-8"))


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
        assert [b.label for b in user.messages[-1].buttons] == ["✅ Đã nhận", "📝 Báo cáo"]
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
    sends = [c for c in fake_tg.calls if c.method == "sendDocument"]
    assert len(sends) == 9 and all(c.params.get("disable_content_type_detection") is True for c in sends)


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
