"""A Zalo conversation that feels native, through the fake Zalo Bot server (no buttons, no command menu): no text
speaks of pressing buttons or of slash commands, numbers pick only real choices, a one-message report may use
commas, a mistyped phone can be typed again as the text says, and a late joiner reads her messages in order."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_server import FakeZalo
from bot.fakes.zalo_users import FakeZaloUser
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelAccount, Report
from tests.support import board_and_secretaries, invite_code, load_roster, send_test_directive
from tests.test_directives import broadcast_747, until
from tests.test_zalo import ZALO_PHONE, zalo_secretary

SLASH_COMMAND = re.compile(r"(?:^|[\s(«“])/[a-z]+")


def assert_native(user: FakeZaloUser) -> None:
    for message in user.messages:
        assert "bấm" not in message.body.lower(), message.body
        assert not SLASH_COMMAND.search(message.body), message.body
        assert not re.search(r"^\d+\. \d+\. ", message.body, re.M), message.body  # "1. 1. 747-CV/ĐUK"


async def test_a_secretarys_zalo_texts_name_words_never_buttons_or_commands(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    board, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await broadcast_747(bot, board)
    await send_test_directive(bot, "745-CV/ĐUK")
    await lan.wait_until(lambda ms: sum("VĂN BẢN MỚI" in m.body for m in ms) == 2)
    for typed, answer in (
        ("tro giup", "Các từ đồng chí có thể gõ"),
        ("xin chao ban", "Tôi chưa hiểu"),
        ("van ban", "Văn bản đã nhận"),
        ("2", "Đang gửi lại văn bản 747-CV/ĐUK"),  # the second directive of the list, sent again
        ("huy", "Đã hủy"),
        ("bao cao", "Báo cáo này cho văn bản nào"),
        ("1", "Mục 1/7"),
        ("huy", "Đã hủy, chưa gửi gì thêm"),
    ):
        await lan.send_text(typed)
        await until(lan, answer)
    listing = next(m.body for m in lan.messages if "Văn bản đã nhận" in m.body)
    assert "1. 745-CV/ĐUK" in listing and "2. 747-CV/ĐUK" in listing
    assert_native(lan)


async def test_a_comma_separated_report_goes_through_the_batch_lane(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    _, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await send_test_directive(bot, "747-CV/ĐUK")
    await lan.wait_until(lambda ms: any("VĂN BẢN MỚI" in m.body for m in ms))
    await lan.send_text("2/4, chuyên đề, 25/30, 12, Tốt, Thiếu tài liệu, thiếu phòng họp")
    await until(lan, "Mã biên nhận")
    assert bot.dispatcher.lane_counts["handled"] == 1
    async with transaction(bot.sessions) as session:
        report = await session.scalar(select(Report))
    assert report is not None
    assert report.values["dang_vien"] == {"attended": 25, "total": 30}
    assert report.values["kho_khan"] == "Thiếu tài liệu, thiếu phòng họp"
    assert_native(lan)


async def test_a_mistyped_phone_is_typed_again_then_the_code_is_needed(
    bot: Runtime, fake_zalo: FakeZalo
) -> None:
    await load_roster(bot)
    lan = fake_zalo.user("aa12", "Lan")
    code = await invite_code(bot, ZALO_PHONE)
    await lan.send_text(code)
    await until(lan, "gõ số điện thoại")
    await lan.send_text("0912000008")
    mismatch = await until(lan, "không khớp")
    assert "gõ lại số điện thoại" in mismatch.body
    await lan.send_text(ZALO_PHONE)  # as the text says: typed again, it is taken
    await until(lan, "Đã kết nối thành công")

    mai = fake_zalo.user("aa13", "Mai")
    await mai.send_text(await invite_code(bot, ZALO_PHONE))
    await until(mai, "gõ số điện thoại")
    for wrong in ("0912000008", "0912000009", "0912000010"):
        before = len(mai.messages)
        await mai.send_text(wrong)
        await mai.wait_until(lambda ms, before=before: len(ms) > before)
    assert "gõ lại mã mời" in mai.messages[-1].body
    await mai.send_text(ZALO_PHONE)  # no longer waiting for a phone: the code must come first
    await until(mai, "Đây là trợ lý nhận văn bản")  # what anyone not yet joined reads
    async with transaction(bot.sessions) as session:
        accounts = (await session.scalars(select(ChannelAccount.user_id))).all()
    assert "aa13" not in accounts
    assert_native(lan)
    assert_native(mai)


async def test_a_late_joiner_reads_welcome_directives_and_help_in_order(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await broadcast_747(bot, board)
    await send_test_directive(bot, "745-CV/ĐUK")
    lan = fake_zalo.user("1a7e", "Vũ Thị Lan")
    await lan.send_text(await invite_code(bot, ZALO_PHONE))
    await until(lan, "gõ số điện thoại")
    start = len(lan.messages)
    await lan.send_text(ZALO_PHONE)
    await lan.wait_until(lambda ms: any("Các từ đồng chí có thể gõ" in m.body for m in ms))
    await lan.wait_until(lambda ms: sum("VĂN BẢN MỚI" in m.body for m in ms) == 2)
    bodies = [m.body for m in lan.messages[start:]]

    def first(needle: str) -> int:
        return next(i for i, body in enumerate(bodies) if needle in body)

    assert first("Đã kết nối thành công") == 0
    card_747, card_745 = first("747-CV/ĐUK"), first("745-CV/ĐUK")
    file_747 = first("Tải tệp: 747-CV-DUK.docx")
    assert 0 < card_747 == file_747 < card_745, bodies  # each card with its files, by when it was sent
    assert "1. ✅ Đã nhận" in bodies[file_747]  # one text: the card, the file's link and the choices
    assert first("Các từ đồng chí có thể gõ") == len(bodies) - 1, bodies  # help last
    assert_native(lan)
