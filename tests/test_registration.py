"""Joining the bot through the fake Telegram: deep link, typed code, phone check, every refused code, re-linking."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import AuditEntry, ChannelAccount, Invite
from tests.support import add_staff, invite_code, load_roster, register

SECRETARY_PHONE = "0912000006"  # Hoàng Văn Khánh, Chi bộ Văn phòng Sở Y tế


async def accounts(runtime: Runtime) -> list[ChannelAccount]:
    async with transaction(runtime.sessions) as session:
        return list((await session.scalars(select(ChannelAccount).order_by(ChannelAccount.id))).all())


async def test_deep_link_and_contact_link_a_secretary(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    code = await invite_code(bot, SECRETARY_PHONE)
    khanh = fake_tg.user(501, "Khánh", "Hoàng")

    await khanh.send_command("/start", code)
    (greeting,) = await khanh.wait_for(1)
    assert "Hoàng Văn Khánh" in greeting.text and "Chi bộ Văn phòng Sở Y tế" in greeting.text
    assert greeting.request_contact

    await khanh.share_contact("+84 912 000 006")
    linked, help_msg = (await khanh.wait_for(3))[1:]
    assert "Đã kết nối thành công" in linked.text
    assert "/vanban" in help_msg.text and "/tinhhinh" not in help_msg.text  # a secretary's commands only
    assert "/help" in help_msg.text

    (account,) = await accounts(bot)
    assert account.user_id == "501" and account.active
    async with transaction(bot.sessions) as session:
        invite = await session.scalar(select(Invite))
        assert invite is not None and invite.used_at is not None
        assert await session.scalar(select(func.count()).where(AuditEntry.action == "account.link")) == 1


async def test_typed_code_works_with_dashes_and_lowercase(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    code = await invite_code(bot, SECRETARY_PHONE)
    user = fake_tg.user(502, "Khánh")
    await user.send_text(f"  {code[:5].lower()}-{code[5:].lower()} ")
    (greeting,) = await user.wait_for(1)
    assert "Hoàng Văn Khánh" in greeting.text
    await user.share_contact("0912000006")
    await user.wait_for(3)
    assert len(await accounts(bot)) == 1


async def test_unknown_used_expired_and_revoked_codes_are_explained(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    await load_roster(bot)
    stranger = fake_tg.user(600, "Lạ")
    await stranger.send_command("/start", "ABCDEFGHJK")
    assert "Mã mời không đúng" in (await stranger.wait_for(1))[0].text

    revoked = await invite_code(bot, SECRETARY_PHONE)
    fresh = await invite_code(bot, SECRETARY_PHONE)  # a new invite revokes the old one
    await stranger.send_command("/start", revoked)
    assert "đã bị thay bằng một mã mới" in (await stranger.wait_for(2))[1].text

    owner = fake_tg.user(601, "Khánh")
    await owner.send_command("/start", fresh)
    await owner.wait_for(1)
    await owner.share_contact(SECRETARY_PHONE)
    await owner.wait_for(3)
    await stranger.send_command("/start", fresh)
    assert "đã được sử dụng" in (await stranger.wait_for(3))[2].text

    expiring = await invite_code(bot, "0912000007", days=1)
    bot.clock.advance(timedelta(days=1, minutes=1))
    await stranger.send_command("/start", expiring)
    assert "đã hết hạn" in (await stranger.wait_for(4))[3].text
    assert [a.user_id for a in await accounts(bot)] == ["601"]


async def test_anyone_unregistered_gets_only_the_how_to_join_answer(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    nobody = fake_tg.user(700, "Ai đó")
    await nobody.send_text("xin chào")
    await nobody.send_command("/tinhhinh")
    await nobody.send_command("/help")
    replies = await nobody.wait_for(3)
    assert all("Đồng chí chưa được kết nối" in m.text for m in replies)


async def test_phone_must_match_the_roster_and_be_ones_own(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    code = await invite_code(bot, SECRETARY_PHONE)
    user = fake_tg.user(503, "Khánh")
    await user.send_command("/start", code)
    await user.wait_for(1)
    await user.share_contact("0912999999", own=False)
    assert "của chính mình" in (await user.wait_for(2))[1].text
    await user.send_text("0912000006")  # typing is refused where the contact button exists
    assert "bấm nút" in (await user.wait_for(3))[2].text
    await user.share_contact("0987654321")
    assert "không khớp" in (await user.wait_for(4))[3].text
    assert await accounts(bot) == []
    await user.share_contact(SECRETARY_PHONE)
    assert "Đã kết nối thành công" in (await user.wait_for(5))[4].text


async def test_new_phone_is_relinked_by_a_new_invite(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    old_phone = fake_tg.user(510, "Khánh")
    await register(bot, old_phone, SECRETARY_PHONE)
    new_phone = fake_tg.user(511, "Khánh")
    await register(bot, new_phone, SECRETARY_PHONE)
    rows = {a.user_id: a.active for a in await accounts(bot)}
    assert rows == {"510": False, "511": True}
    await old_phone.send_text("xin chào")
    assert "chưa được kết nối" in (await old_phone.wait_for(4))[3].text


async def test_wrong_codes_are_rate_limited(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    good = await invite_code(bot, SECRETARY_PHONE)
    guesser = fake_tg.user(520, "Đoán")
    for i in range(10):
        await guesser.send_text(f"AAAAA-AAAA{'BCDEFGHJKL'[i]}")
    await guesser.wait_for(10)
    await guesser.send_text(good)
    assert "quá nhiều lần" in (await guesser.wait_for(11))[10].text


async def test_board_staff_join_and_see_only_their_commands(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    await add_staff(bot, "Nguyễn Thị Tuyên", "0988000001", "DUK")
    staff = fake_tg.user(530, "Tuyên")
    await register(bot, staff, "0988000001", role="board")
    secretary = fake_tg.user(531, "Khánh")
    await register(bot, secretary, SECRETARY_PHONE)
    await staff.send_command("/help")
    await secretary.send_command("/help")
    board_help = (await staff.wait_for(4))[3].text
    secretary_help = (await secretary.wait_for(4))[3].text
    assert "Ban Tuyên giáo" in board_help
    assert "Bí thư chi bộ" in secretary_help and "Ban Tuyên giáo." not in secretary_help.split("\n")[0]
    await fake_tg_wait_commands(fake_tg, 530)
    await fake_tg_wait_commands(fake_tg, 531)


async def fake_tg_wait_commands(fake: FakeTelegram, chat_id: int) -> None:
    import asyncio

    for _ in range(50):
        if ("chat", chat_id) in fake.commands:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no command menu set for chat {chat_id}: {list(fake.commands)}")


async def test_same_update_twice_is_handled_once(bot: Runtime, fake_tg: FakeTelegram) -> None:
    from bot.core.events import ChannelName, Incoming

    event = Incoming(
        channel=ChannelName.TELEGRAM,
        update_id="42",
        user_id="900",
        chat_id="900",
        display_name="Lặp",
        date=bot.clock.now(),
        text="xin chào",
    )
    fake_tg.user(900, "Lặp")
    await bot.dispatcher.handle(event)
    await bot.dispatcher.handle(event)
    await bot.sender.idle()
    assert len([m for m in fake_tg.sent if m.chat_id == 900]) == 1
