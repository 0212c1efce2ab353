"""Directive intake against hostile or awkward input, through the bot on the fake Telegram (SQLite and PostgreSQL):
a zip bomb is refused by the bounded reader while others are answered, a classified document is refused and
nothing of it kept, over-long fields and NUL characters are fitted so the directive is still sent, and forged
buttons, lone surrogates and a 100,000-character argument get one short answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bench.reading import zip_bomb_docx
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import directives
from bot.services.directive_parser import DirectiveMeta
from bot.services.forms_store import DEFAULT_FORM
from bot.services.secrecy import secrecy_grade
from handlers import registration
from storage.db import transaction
from storage.models import Directive, DirectiveFile, DirectiveStatus, DirectiveTarget, StoredFile
from tests.support import (
    DOCX_MIME,
    add_staff,
    board_and_secretaries,
    docx_bytes,
    invite_code,
    load_roster,
    sample,
)
from tests.test_directives import preview_of, until

SAMPLE = "directive-747-CV-DUK.txt"


async def _count(bot: Runtime, model: type) -> int:
    async with transaction(bot.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_zip_bomb_is_refused_and_the_bot_keeps_answering(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    other = secretaries["0912000003"]
    seen = len(other.messages)
    await board.send_document("bom.docx", zip_bomb_docx(256), DOCX_MIME)
    await other.send_command("/help")
    refusal = await until(board, "bom.docx", wait=30)
    assert "lớn bất thường" in refusal.text or "quá nặng" in refusal.text
    await other.wait_for(seen + 1)
    assert await _count(bot, Directive) == 0 and await _count(bot, StoredFile) == 0
    # The board member is answered again at once: a good directive after the bomb is read.
    await board.send_document("747.docx", docx_bytes(sample(SAMPLE)), DOCX_MIME)
    assert "747-CV/ĐUK" in await preview_of(board)


CLASSIFIED = sample(SAMPLE).replace("Số 747-CV/ĐUK", "Số 747-CV/ĐUK\t\tMẬT")


def test_the_secrecy_grade_is_read_from_the_header_only() -> None:
    assert secrecy_grade(CLASSIFIED) == "Mật"
    assert secrecy_grade("ĐẢNG ỦY XÃ\n\nĐộ mật: Tối mật\nSố 12-CV/ĐU") == "Tối mật"
    assert secrecy_grade("«TUYỆT MẬT»\nSố 1-CV/TU") == "Tuyệt mật"
    assert secrecy_grade(sample(SAMPLE)) is None
    body = "ĐẢNG ỦY XÃ\nSố 12-CV/ĐU\nVề bảo vệ bí mật nhà nước\nMẶT TRẬN TỔ QUỐC\nmật khẩu wifi"
    assert secrecy_grade(body) is None
    assert secrecy_grade("\n".join(["dòng"] * 30 + ["MẬT"])) is None  # far below the header: not a stamp


async def test_a_classified_directive_is_refused_by_chat(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await board.send_document("747-mat.docx", docx_bytes(CLASSIFIED), DOCX_MIME)
    refusal = await until(board, "độ mật «Mật»")
    assert "không được gửi qua Zalo, Telegram" in refusal.text
    await board.send_text(CLASSIFIED)  # pasted instead: refused the same way
    await board.wait_until(lambda ms: sum("độ mật" in m.text for m in ms) == 2)
    assert await _count(bot, Directive) == 0 and await _count(bot, StoredFile) == 0


async def test_over_long_fields_are_fitted_and_the_directive_is_sent(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    long_header = sample(SAMPLE).replace(
        "ĐẢNG BỘ TỈNH LAI CHÂU", "ĐẢNG BỘ TỈNH LAI CHÂU" + " VÀ CÁC HUYỆN" * 30
    )
    name = "cong-van-" + "rat-dai-" * 50 + ".docx"  # 400+ characters
    await board.send_document(name, docx_bytes(long_header), DOCX_MIME)
    await preview_of(board)
    await board.press("✏️ Số, ký hiệu")
    await until(board, "Gõ số, ký hiệu")
    await board.send_text("747-CV/ĐUK-" + "9" * 100)
    await until(board, "Đã sửa Số, ký hiệu")
    await board.press("✏️ Địa danh")
    await until(board, "Gõ")
    await board.send_text("Lai\x00 Châu " + "Phong Thổ " * 30)
    await until(board, "Đã sửa Địa danh")
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
    for user in secretaries.values():
        await user.wait_until(lambda ms: any(m.kind == "document" for m in ms))
    async with transaction(bot.sessions) as session:
        directive = (await session.scalars(select(Directive))).one()
        stored = (await session.scalars(select(StoredFile))).one()
    assert directive.status in (DirectiveStatus.SENDING, DirectiveStatus.SENT)
    assert directive.number is not None and len(directive.number) == 64 and directive.number.endswith("…")
    assert directive.place is not None and len(directive.place) <= 128 and "\x00" not in directive.place
    assert directive.parent_body is not None and len(directive.parent_body) == 255
    assert len(stored.name) <= 255 and stored.name.endswith("….docx")


async def test_a_parsed_draft_is_fitted_to_its_columns(bot: Runtime) -> None:
    """What a parser could read from a hostile document, NUL and lone surrogates included, is stored fitted."""
    meta = DirectiveMeta(
        number="1-CV/" + "X" * 200,
        place="Hà\x00 Nội" + " dài" * 100,
        issuer="Đảng ủy\ud800 " * 60,
        subject="Trích\x00 yếu",
        recipients="Các chi bộ\x00",
    )
    async with transaction(bot.sessions) as session:
        draft = await directives.new_draft(session, bot.clock, meta, form_key=DEFAULT_FORM)
        draft_id = draft.id
    async with transaction(bot.sessions) as session:
        stored = await session.get(Directive, draft_id)
        assert stored is not None
        assert len(stored.number or "") == 64 and 120 < len(stored.place or "") <= 128
        assert stored.place is not None and stored.place.startswith("Hà Nội")
        assert stored.issuer is not None and "\ud800" not in stored.issuer and len(stored.issuer) == 255
        assert stored.subject == "Trích yếu"
        assert stored.meta["recipients"] == "Các chi bộ"
        assert stored.meta["parsed"]["place"].startswith("Hà Nội")


async def test_forged_and_broken_input_gets_one_short_answer(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    user = secretaries["0912000003"]
    for who, hostile in (
        (user, lambda: user.press_data(f"ack:{2**63}")),
        (user, lambda: user.press_data("ack:" + "9" * 18)),
        (user, lambda: user.press_data(f"rk:{2**63}:{2**64}")),
        (user, lambda: user.send_text("Báo cáo \ud800 lỗi")),
        (user, lambda: user.send_command("/start", "A" * 100_000)),
        (user, lambda: user.send_command("/vanban", "9" * 100_000)),
        (board, lambda: board.send_command("/tinhhinh", "Đ" * 100_000)),
        (user, lambda: user.send_text("²")),
        (user, lambda: user.send_text("1" * 5000)),
    ):
        before = len(who.messages)
        await hostile()
        await who.wait_for(before + 1)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        answers = who.messages[before:]
        assert len(answers) <= 2, [m.text[:80] for m in answers]
        assert all(len(m.text) < 1500 for m in answers), answers[-1].text[:200]
        assert not any("gặp lỗi khi xử lý" in m.text for m in answers), answers[-1].text
    # Still the secretary's bot afterwards.
    before = len(user.messages)
    await user.send_command("/help")
    await user.wait_for(before + 1)
    assert board.messages  # the board member's chat is untouched


async def test_a_valid_code_does_not_reset_the_wrong_code_lockout(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    await load_roster(bot)
    await add_staff(bot, "Nguyễn Thị Tuyên", "0988000001", "DUK")
    good = await invite_code(bot, "0988000001", "board")
    guesser = fake_tg.user(990, "Kẻ dò mã")
    for attempt in range(registration.MAX_FAILURES * 2):
        before = len(guesser.messages)
        if attempt % 3 == 2:
            await guesser.send_command("/start", good)  # the guesser's own valid code, between guesses
        else:
            await guesser.send_command("/start", f"ZZZZ{attempt:04d}")
        await guesser.wait_for(before + 1)
    locked = [
        m for m in guesser.messages if "thử sai quá nhiều" in m.text.lower() or "quá nhiều lần" in m.text
    ]
    assert locked, [m.text[:60] for m in guesser.messages[-3:]]
    bot.clock.advance(registration.FAILURE_WINDOW + timedelta(minutes=1))
    before = len(guesser.messages)
    await guesser.send_command("/start", good)
    await guesser.wait_for(before + 1)
    assert "Nguyễn Thị Tuyên" in guesser.messages[-1].text


async def test_no_target_or_file_row_is_left_by_a_refused_read(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await board.send_document("scan.pdf", b"not a pdf at all", "application/pdf")
    await until(board, "scan.pdf")
    for model in (Directive, DirectiveFile, DirectiveTarget, StoredFile):
        assert await _count(bot, model) == 0
