"""Webhook mode (CHIBO_PUBLIC_URL set): the bot registers its webhook with the secret, the fake Telegram delivers
updates by POST, and requests without the right X-Telegram-Bot-Api-Secret-Token are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from tests.conftest import free_port, make_settings
from tests.support import load_roster, register

SECRET = "s3cret-webhook-token"
PUBLIC_URL = "https://chibo.example.vn"  # Telegram takes only HTTPS: the fake maps it to the bot's local port


@pytest.fixture
async def webhook_bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake_tg: FakeTelegram, clock: Clock
) -> AsyncIterator[Runtime]:
    port = free_port()
    fake_tg.expose_webhook_host(PUBLIC_URL, f"http://127.0.0.1:{port}")
    settings = make_settings(
        tmp_path,
        db_url,
        fake_tg,
        public_url=PUBLIC_URL,
        listen_port=port,
        webhook_secret=SecretStr(SECRET),
    )
    runtime = Runtime.build(settings, clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    yield runtime
    await runtime.stop()


async def test_updates_arrive_by_webhook_with_the_secret(webhook_bot: Runtime, fake_tg: FakeTelegram) -> None:
    assert fake_tg.webhook is not None
    assert fake_tg.webhook["url"] == f"{webhook_bot.settings.public_url}/telegram/webhook"
    await load_roster(webhook_bot)
    user = fake_tg.user(950, "Khánh")
    await register(webhook_bot, user, "0912000006")  # /start <code> and the contact, both delivered by POST
    assert not any(call.method == "getUpdates" for call in fake_tg.calls)


async def test_a_wrong_or_missing_secret_is_refused(webhook_bot: Runtime) -> None:
    url = f"http://127.0.0.1:{webhook_bot.settings.listen_port}/telegram/webhook"
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"},
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update) as response:
            assert response.status == 403
        async with http.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        ) as response:
            assert response.status == 403
