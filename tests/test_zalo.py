"""Secretary flows over the fake Zalo server, through the same handlers as Telegram: joining by typed code and
phone, directives as text plus signed download links, numbered choices, unsupported files, two linked channels."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import func, select

from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelAccount, DirectiveTarget, Download
from tests.support import board_and_secretaries, load_roster, register, register_zalo
from tests.test_directives import broadcast_747, until

ZALO_PHONE = "0912000007"  # Vũ Thị Lan, Chi bộ Bệnh viện Đa khoa tỉnh (ĐUK subtree)


async def test_joining_on_zalo_by_typed_code_and_phone(bot: Runtime, fake_zalo: FakeZalo) -> None:
    await load_roster(bot)
    lan = fake_zalo.user("e4ea2cd5189df1c3a88c", "Vũ Thị Lan")
    await lan.send_text("xin chào")
    assert "chưa được kết nối" in (await lan.wait_for(1))[0].text
    await register_zalo(bot, lan, ZALO_PHONE)
    greeting = next(m for m in lan.messages if "Chào đồng chí Vũ Thị Lan" in m.text)
    assert "gõ số điện thoại" in greeting.text
    async with transaction(bot.sessions) as session:
        account = await session.scalar(select(ChannelAccount).where(ChannelAccount.channel == "zalo"))
    assert account is not None and account.user_id == "e4ea2cd5189df1c3a88c"


async def test_wrong_phone_typed_on_zalo_is_refused(bot: Runtime, fake_zalo: FakeZalo) -> None:
    await load_roster(bot)
    from tests.support import invite_code

    lan = fake_zalo.user("aa11", "Lan")
    await lan.send_text(await invite_code(bot, ZALO_PHONE))
    await lan.wait_for(1)
    await lan.send_text("số của tôi")
    assert "chưa đúng" in (await lan.wait_for(2))[1].text
    await lan.send_text("0987 654 321")
    assert "không khớp" in (await lan.wait_for(3))[2].text


async def zalo_secretary(bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo):  # type: ignore[no-untyped-def]
    board, _ = await board_and_secretaries(bot, fake_tg)
    lan = fake_zalo.user("f00dcafe", "Vũ Thị Lan")
    await register_zalo(bot, lan, ZALO_PHONE)
    return board, lan


def link_in(text: str) -> str:
    return next(word for word in text.split() if word.startswith("http"))


async def test_directive_arrives_as_text_and_signed_links(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    board, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await broadcast_747(bot, board)
    await lan.wait_until(lambda ms: any("Tải tệp: 747-CV-DUK.docx" in m.text for m in ms))
    card = next(m for m in lan.messages if m.text.startswith("📄 VĂN BẢN MỚI"))
    assert "Công văn số 747-CV/ĐUK" in card.text
    file_message = next(m for m in lan.messages if "Tải tệp" in m.text)
    assert "1. ✅ Đã nhận" in file_message.text and "2. 📝 Báo cáo" in file_message.text
    url = link_in(file_message.text)

    async with aiohttp.ClientSession(
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 10) Mobile"}
    ) as http:
        async with http.get(url) as response:
            assert response.status == 200
            assert "Tải xuống" in await response.text()  # the page with the download button
        async with http.post(url) as response:
            assert response.status == 200
            body = await response.read()
            assert body[:2] == b"PK"  # the DOCX itself
        parts = urlsplit(url)
        tampered = url.replace(parts.path, parts.path[:-1] + ("0" if parts.path[-1] != "0" else "1"))
        async with http.get(tampered) as response:
            assert response.status == 403
            assert "không hợp lệ" in await response.text()
        bot.clock.advance(timedelta(days=31))
        async with http.get(url) as response:
            assert response.status == 410
            assert "hết hạn" in await response.text()

    async with transaction(bot.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Download)) == 1
        acknowledged = await session.scalar(
            select(func.count()).where(DirectiveTarget.acknowledged_at.is_not(None))
        )
    assert acknowledged == 1  # the button's download counts as received


async def test_typed_number_answers_the_choices(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    board, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await broadcast_747(bot, board)
    await lan.wait_until(lambda ms: any("1. ✅ Đã nhận" in m.text for m in ms))
    await lan.send_text("1")
    await until(lan, "Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK")


async def test_unsupported_file_gets_a_polite_answer(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    _, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await lan.send_unsupported()
    await until(lan, "gửi ảnh, hoặc gõ nội dung")


async def test_person_on_both_channels_gets_pushes_where_they_were_last(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    board, lan_zalo = await zalo_secretary(bot, fake_tg, fake_zalo)
    lan_tg = fake_tg.user(804, "Lan")
    await register(bot, lan_tg, ZALO_PHONE)  # Telegram now, so Telegram is where she was last
    await broadcast_747(bot, board)
    await lan_tg.wait_until(lambda ms: any(m.text.startswith("📄 VĂN BẢN MỚI") for m in ms))
    assert not any(m.text.startswith("📄 VĂN BẢN MỚI") for m in lan_zalo.messages)
    async with transaction(bot.sessions) as session:
        active = await session.scalar(select(func.count()).where(ChannelAccount.active.is_(True)))
    assert active == 6  # board, 3 Telegram secretaries, and Lan on both channels


async def test_quick_report_typed_words_and_a_reminder_on_zalo(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    from datetime import date

    from bot.scheduler import reminders_job
    from storage.models import Report
    from tests.support import send_test_directive, travel_to

    _, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await send_test_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    await lan.wait_until(lambda ms: any("VĂN BẢN MỚI" in m.text for m in ms))

    await lan.send_text("Da nhan")
    await until(lan, "Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK")
    await lan.send_text("tro giup")
    help_text = (await until(lan, "Các từ đồng chí có thể gõ")).text
    assert "/" not in help_text and "bấm" not in help_text.lower()
    for word in ("«văn bản»", "«báo cáo»", "«đã nhận»", "«sửa»", "«hủy»", "«quay lại»", "«trợ giúp»"):
        assert word in help_text

    travel_to(bot, 2024, 4, 7, 8, 5)  # 3 days before the deadline, after 08:00
    assert await reminders_job(bot) is not None
    bot.sender.wake()
    reminder = await until(lan, "Cần báo cáo:")
    assert "747-CV/ĐUK" in reminder.text
    assert "1. 📝 Báo cáo" in reminder.text  # the button, numbered for Zalo

    await lan.send_text("06/4; chuyen de; 20/24; 5; Tốt; Không")
    await until(lan, "Mã biên nhận")
    assert bot.dispatcher.lane_counts["handled"] == 1  # past the check for a typed choice of the reminder
    async with transaction(bot.sessions) as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.channel == "zalo"
    assert report.values["dang_vien"] == {"attended": 20, "total": 24}


async def test_board_on_zalo_acts_and_pastes_a_new_directive(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    from tests.support import BOARD_PHONE, sample

    board, _ = await board_and_secretaries(bot, fake_tg)
    await broadcast_747(bot, board)
    board_zalo = fake_zalo.user("b0a7d", "Tuyên")
    await register_zalo(bot, board_zalo, BOARD_PHONE, role="board")
    await board_zalo.send_text("/tinhhinh")
    await board_zalo.wait_until(lambda ms: len(ms) >= 4)
    assert "Zalo" not in board_zalo.messages[-1].text
    before = len(board_zalo.messages)
    await board_zalo.send_text("/nhacnho 747")  # nudging needs no upload: it works on Zalo too
    await board_zalo.wait_for(before + 1)
    assert "Telegram" not in board_zalo.messages[before].text
    await board_zalo.send_text(sample("directive-745-CV-DUK.txt"))  # a new directive, pasted on Zalo too
    preview = await until(board_zalo, "Văn bản tôi đọc được")
    assert "745-CV/ĐUK" in preview.text and "Trả lời 1, 2" in preview.text
