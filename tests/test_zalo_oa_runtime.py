"""The Zalo Official Account wired into the running bot: configured alone (no Telegram, no Zalo Bot), it receives
signed webhook events and a secretary joins with the OA's phone form, checked against the roster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.events import ChannelName
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelAccount
from tests.support import invite_code, load_roster
from tests.zalo_fixtures import oa_runtime

PUBLIC = "https://chibo.example.vn"


@pytest.fixture
async def oa_bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake_oa: FakeZaloOA, clock: Clock
) -> AsyncIterator[Runtime]:
    async with oa_runtime(tmp_path, db_url, engine, fake_oa, clock) as runtime:
        yield runtime


async def test_the_oa_alone_runs_and_a_secretary_joins_with_the_phone_form(
    oa_bot: Runtime, fake_oa: FakeZaloOA
) -> None:
    assert set(oa_bot.channels) == {ChannelName.ZALO_OA}
    await load_roster(oa_bot)
    code = await invite_code(oa_bot, "0912000001")
    user = fake_oa.user("oa-user-1", "Bùi Thị Hòa")
    await user.follow()
    await user.wait_for(1)  # the welcome a new follower gets
    await user.send_text(code)
    await user.wait_until(lambda ms: ms[-1].kind == "request_info")
    await user.submit_info("0912 000 001")
    await user.wait_until(lambda ms: any("Đã kết nối thành công" in m.text for m in ms))
    async with transaction(oa_bot.sessions) as session:
        account = await session.scalar(select(ChannelAccount).where(ChannelAccount.user_id == "oa-user-1"))
    assert account is not None and account.channel == ChannelName.ZALO_OA


async def test_a_phone_not_on_the_roster_is_refused_through_the_form(
    oa_bot: Runtime, fake_oa: FakeZaloOA
) -> None:
    await load_roster(oa_bot)
    code = await invite_code(oa_bot, "0912000001")
    user = fake_oa.user("oa-user-2", "Người Lạ")
    await user.follow()
    await user.wait_for(1)
    await user.send_text(code)
    await user.wait_until(lambda ms: ms[-1].kind == "request_info")
    before = len(user.messages)
    await user.submit_info("0987654321")
    messages = await user.wait_for(before + 1)
    assert "không khớp" in messages[-1].text, user.describe()
