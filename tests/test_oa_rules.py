"""The Zalo OA's rules in the model (issue 12): each recipient's window is known, what the OA may not carry is held
(not dropped) and goes when the user interacts again, a tap on «Đã nhận» opens a new free window, the board's
forecast matches what the broadcast then costs, and the final summary names who was not reached and why.

Driven through the bot against the fake OA, whose clock is the bot's: users age by moving it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.events import Button, ChannelName, Reply
from bot.fakes.zalo_oa_rules import Policy
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.runtime import Runtime
from bot.services import directives, reach
from bot.services.outbox import enqueue
from messages import directives as msg
from storage.db import transaction
from storage.models import Directive, DirectiveStatus, DirectiveTarget, Outbox, Unit
from tests.support import add_staff, invite_code, load_roster, send_test_directive
from tests.zalo_fixtures import oa_runtime

PUBLIC = "https://chibo.example.vn"
OA = ChannelName.ZALO_OA
QUOTA = 1  # the OA package's monthly quota: one message outside the window, then paid
PRICE = 55
BOARD_PHONE = "0988000001"


@pytest.fixture
async def fake_oa(clock: Clock) -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA(clock=clock, oa_secret_key="oa-webhook-key", policy=Policy(monthly_quota=QUOTA))
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
async def oa_bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake_oa: FakeZaloOA, clock: Clock
) -> AsyncIterator[Runtime]:
    async with oa_runtime(
        tmp_path, db_url, engine, fake_oa, clock, zalo_oa_price_vnd=PRICE, zalo_oa_monthly_quota=QUOTA
    ) as runtime:
        yield runtime


async def join(runtime: Runtime, fake: FakeZaloOA, phone: str, role: str = "secretary") -> FakeOaUser:
    """Follow the OA, type the invite code, share the phone through the OA's form."""
    code = await invite_code(runtime, phone, role)
    user = fake.user(f"oa-{phone}", f"Người dùng {phone}")
    await user.follow()
    await user.wait_for(1)
    await user.send_text(code)
    await user.wait_until(lambda ms: ms[-1].kind == "request_info")
    await user.submit_info(phone)
    await user.wait_until(lambda ms: any("Đã kết nối thành công" in m.text for m in ms))
    await settled(runtime)
    return user


async def settled(runtime: Runtime) -> None:
    await runtime.dispatcher.idle()
    await runtime.sender.idle()


async def row_of(runtime: Runtime, user: FakeOaUser, kind: str, *, until: tuple[str, ...]) -> Outbox:
    """The user's latest delivery of `kind` once its status is one of `until` (waits for the sender)."""
    for _ in range(400):
        async with runtime.sessions() as session:
            row = await session.scalar(
                select(Outbox)
                .where(Outbox.channel == OA, Outbox.chat_id == user.id, Outbox.kind == kind)
                .order_by(Outbox.id.desc())
            )
        if row is not None and row.status in until:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} row for {user.id} reached {until}: {row and row.status}")


async def test_forecast_matches_the_broadcast_held_rows_wait_for_the_next_interaction(
    oa_bot: Runtime, fake_oa: FakeZaloOA, clock: Clock
) -> None:
    await load_roster(oa_bot)
    await add_staff(oa_bot, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    silent = await join(oa_bot, fake_oa, "0912000003")  # DUK-STC-VP: 10 days without a word by the broadcast
    clock.advance(timedelta(days=5))
    outside = [await join(oa_bot, fake_oa, p) for p in ("0912000004", "0912000006")]  # 5 days: quota, paid
    clock.advance(timedelta(days=4))
    fresh = await join(oa_bot, fake_oa, "0912000007")  # 1 day: free
    board = await join(oa_bot, fake_oa, BOARD_PHONE, role="board")
    clock.advance(timedelta(days=1))  # DUK-BAO's secretary never joined

    async with transaction(oa_bot.sessions) as session:
        duk = await session.scalar(select(Unit).where(Unit.code == "DUK"))
        assert duk is not None
        cells = await directives.cells_under(session, [duk])
        people = await directives.recipients(session, cells)
        forecast = await reach.forecast(session, clock, oa_bot.channels, people, [Reply(text="Thẻ văn bản")])
    [oa] = forecast.channels
    assert (oa.channel, oa.free, oa.quota, oa.paid, oa.silent, oa.not_following) == (OA, 1, 1, 1, 1, 0)
    assert forecast.unregistered == 1 and oa.vnd == PRICE
    text = reach.describe(forecast)
    assert "Zalo OA: 1 bí thư miễn phí" in text and "khoảng 55 đồng" in text, text

    directive_id = await send_test_directive(oa_bot, units=("DUK",))
    oa_bot.progress.watch(directive_id, OA, board.id)
    rows = {
        u.id: await row_of(oa_bot, u, "directive", until=("sent", "held", "failed", "blocked"))
        for u in (silent, *outside, fresh)
    }
    assert rows[silent.id].status == "held" and "7 days" in (rows[silent.id].last_error or "")
    assert rows[fresh.id].cost == "free"
    assert sorted(rows[u.id].cost or "" for u in outside) == ["paid", "quota"]
    assert sum(r.paid for r in rows.values()) == 1
    assert not any("VĂN BẢN MỚI" in m.text for m in silent.messages)  # nothing reached the silent one

    await board.wait_until(lambda ms: any("Đã gửi xong" in m.text for m in ms))
    summary = next(m.text for m in board.messages if "Đã gửi xong" in m.text)
    assert "Chi bộ Văn phòng Sở Tài chính" in summary and msg.REASONS["held"] in summary, summary
    assert "Chi bộ Báo Lai Châu" in summary and msg.REASONS["unregistered"] in summary, summary
    assert "1 tin miễn phí · 1 tin dùng hạn mức tháng · 1 tin trả phí (khoảng 55 đồng)" in summary, summary
    async with oa_bot.sessions() as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None and directive.status == DirectiveStatus.SENT  # held is not undelivered

    # The silent secretary writes: a new window opens and what was held goes, free.
    await silent.send_text("Chào đồng chí")
    await silent.wait_until(lambda ms: any("VĂN BẢN MỚI" in m.text for m in ms))
    released = await row_of(oa_bot, silent, "directive", until=("sent",))
    assert released.id == rows[silent.id].id and released.cost == "free"
    async with oa_bot.sessions() as session:
        target = await session.scalar(
            select(DirectiveTarget).where(
                DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == released.unit_id
            )
        )
        assert target is not None and target.delivery == "sent"


async def test_a_tap_on_received_opens_a_window_so_the_reminder_is_free(
    oa_bot: Runtime, fake_oa: FakeZaloOA, clock: Clock
) -> None:
    await load_roster(oa_bot)
    tapper = await join(oa_bot, fake_oa, "0912000003")
    quiet = await join(oa_bot, fake_oa, "0912000004")
    async with oa_bot.sessions() as session:
        units = dict((await session.execute(select(Unit.code, Unit.id))).tuples().all())
    tapper_unit, quiet_unit = units["DUK-STC-VP"], units["DUK-STC-NS"]
    clock.advance(timedelta(hours=1))
    await send_test_directive(oa_bot, units=("DUK",))
    for user in (tapper, quiet):
        assert (await row_of(oa_bot, user, "directive", until=("sent",))).cost == "free"
    clock.advance(timedelta(hours=46))  # 47 h after joining: the joining window is nearly spent
    card = next(m for m in reversed(tapper.messages) if m.buttons)
    before = len(tapper.messages)
    await tapper.press(msg.BUTTON_ACK, card)
    await tapper.wait_for(before + 1)  # the bot's thanks: the tap was handled
    await settled(oa_bot)
    clock.advance(timedelta(hours=40))  # 87 h after joining, 40 h after the tap
    async with oa_bot.sessions() as session:  # the tap was seen as an interaction: the board's forecast knows
        people = await directives.recipients(session, [tapper_unit, quiet_unit])
        forecast = await reach.forecast(session, clock, oa_bot.channels, people, [Reply(text="Nhắc")])
    assert [(c.free, c.quota, c.paid) for c in forecast.channels] == [(1, 1, 0)]
    async with transaction(oa_bot.sessions) as session:
        for user in (tapper, quiet):
            enqueue(session, clock, OA, user.id, [Reply(text="⏰ Nhắc báo cáo")], kind="reminder")
    oa_bot.sender.wake()
    assert (await row_of(oa_bot, tapper, "reminder", until=("sent",))).cost == "free"
    assert (await row_of(oa_bot, quiet, "reminder", until=("sent",))).cost == "quota"
    assert fake_oa.users[tapper.id].messages[-1].quota == "reply"


async def test_the_forecast_counts_messages_as_the_oa_sends_them(
    oa_bot: Runtime, fake_oa: FakeZaloOA
) -> None:
    """What the forecast charges per delivery is what the adapter then sends, message for message."""
    await load_roster(oa_bot)
    user = await join(oa_bot, fake_oa, "0912000003")
    channel = oa_bot.channels[OA]
    buttons = [[Button(f"Lựa chọn {i}", f"c:{i}") for i in range(6)]]
    for reply in (
        Reply(text="Một dòng"),
        Reply(text="Có nút", buttons=buttons),
        Reply(text="Dài " * 700, buttons=buttons[:1]),
        Reply(buttons=buttons),
        Reply(text="Xin số điện thoại", request_contact=True),
    ):
        before = len(user.messages)
        await channel.send(user.id, reply)
        assert len(user.messages) - before == channel.message_count(reply), reply
