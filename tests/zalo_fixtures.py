"""Zalo alone, for each Zalo product: a runtime configured with ONLY the Zalo Bot Platform or ONLY the Zalo Official
Account (no Telegram setting), and `ZaloPerson`, one secretary or board member acting the way people do on the
product at hand (typed words on the Bot Platform, template buttons and the phone form on the OA).

The `zalo` fixture is parametrised over both products; with `db_url` it also runs on SQLite and PostgreSQL.
Assertions go through meaning (rows in the database, a file or a link received) rather than exact wording."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import ChannelName
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.fakes.zalo_server import FakeZalo
from bot.fakes.zalo_users import FakeZaloUser
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelAccount, Outbox
from tests.conftest import free_port
from tests.support import invite_code

PUBLIC = "https://chibo.example.vn"
WAIT = 20.0  # seconds: generous, the machine is shared; waits end as soon as the condition holds
BOT_PLATFORM, OA = "bot", "oa"
PRODUCTS = [BOT_PLATFORM, OA]
_URL = re.compile(r"https?://\S+")


def _common(tmp_path: Path, db_url: str, port: int) -> dict[str, Any]:
    return {
        "public_url": PUBLIC,
        "webhook_secret": SecretStr("zalo-webhook-secret-0123456789"),
        "listen_host": "127.0.0.1",
        "listen_port": port,
        "database_url": db_url,
        "data_dir": tmp_path / "data",
        "zalo_chat_interval": 0,
        "progress_interval": 0.2,
    }


def bot_platform_settings(tmp_path: Path, db_url: str, fake: FakeZalo, port: int) -> Settings:
    values = _common(tmp_path, db_url, port) | {
        "zalo_token": SecretStr(fake.token),
        "zalo_api_url": fake.api_url,
        "zalo_bot_name": "Chibo Lai Châu",
    }
    return Settings(_env_file=None, **values)


def oa_settings(tmp_path: Path, db_url: str, fake: FakeZaloOA, port: int, **overrides: object) -> Settings:
    values = _common(tmp_path, db_url, port) | fake.bot_settings() | overrides
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def oa_runtime(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake: FakeZaloOA, clock: Clock, **overrides: object
) -> AsyncIterator[Runtime]:
    """The bot with only this Zalo OA configured, started, the fake's webhook reaching its own port."""
    port = free_port()
    runtime = Runtime.build(
        oa_settings(tmp_path, db_url, fake, port, **overrides), clock=clock, engine=engine
    )
    await runtime.start(migrate_db=False)
    fake.set_webhook(f"http://127.0.0.1:{port}/zalo-oa/webhook")  # what the HTTPS proxy in front does
    try:
        yield runtime
    finally:
        await runtime.stop()


@dataclass(frozen=True)
class Received:
    """One message as the person reads it: its text, a file that came natively, the links in it."""

    text: str
    file_name: str | None
    links: list[str]


class ZaloPerson:
    """A person on one Zalo product, acting as they would there."""

    def __init__(self, world: ZaloWorld, user: FakeZaloUser | FakeOaUser) -> None:
        self.world, self.user = world, user

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def messages(self) -> list[Received]:
        if isinstance(self.user, FakeOaUser):
            return [
                Received(
                    "\n".join(p for p in (m.text, m.title, m.subtitle) if p),
                    m.file.name if m.file else None,
                    _URL.findall(m.text),
                )
                for m in self.user.messages
            ]
        return [Received(m.body, None, _URL.findall(m.body)) for m in self.user.messages]

    def describe(self) -> str:
        return self.user.describe()

    async def wait_until(self, predicate: Callable[[list[Received]], bool], timeout: float = WAIT) -> None:  # noqa: ASYNC109
        await self.user.wait_until(lambda _: predicate(self.messages), timeout)

    async def wait_for_text(self, *words: str, after: int = 0) -> Received:
        """The first message holding every one of `words` (compared without case), once it arrives; only among
        the messages from index `after` (a step done twice must not be satisfied by its first answer)."""
        await self.wait_until(lambda ms: any(_has(m.text, words) for m in ms[after:]))
        return next(m for m in self.messages[after:] if _has(m.text, words))

    async def say(self, text: str) -> Received:
        """Type `text` and wait for the bot's answer (all of it); return its first message."""
        await self.settle()
        before = len(self.user.messages)
        await self.user.send_text(text)
        await self.user.wait_for(before + 1, timeout=WAIT)
        await self.settle()
        return self.messages[before]

    async def settle(self) -> None:
        """Wait until nothing queued for this person is left to send (a reply can be several messages)."""

        async def idle() -> bool:
            async with transaction(self.world.runtime.sessions) as session:
                waiting = await session.scalar(
                    select(func.count()).where(
                        Outbox.chat_id == self.id,
                        Outbox.status.in_(("pending", "sending")),
                        Outbox.next_attempt_at <= self.world.runtime.clock.now(),
                    )
                )
            return waiting == 0

        await eventually(idle, f"everything queued for {self.id} is sent")

    async def tap(self, label: str) -> Received:
        """Choose the offered option whose label holds `label`: a template button on the OA; on the Bot Platform,
        whatever the numbered list says to type for it (its number or symbol)."""
        await self.settle()
        before = len(self.user.messages)
        if isinstance(self.user, FakeOaUser):
            # The newest message offering it: the OA carries five buttons a message, so a long list comes in parts.
            offered = [
                (b.title, m)
                for m in reversed(self.user.messages)
                for b in m.buttons
                if label.lower() in b.title.lower()
            ]
            assert offered, f"no button with {label!r}; {self.describe()}"
            await self.user.press(*offered[0])
        else:
            await self.user.send_text(self._typed_choice(label))
        await self.user.wait_for(before + 1, timeout=WAIT)
        await self.settle()
        return self.messages[before]

    def _typed_choice(self, label: str) -> str:
        for message in reversed(self.messages):
            for line in reversed(message.text.splitlines()):  # the choices come last
                if label.lower() in line.lower():
                    key = re.match(r"\s*(\S+?)[.)]?\s", line)
                    assert key is not None, line
                    return key.group(1)
        raise AssertionError(f"no choice {label!r}; {self.describe()}")

    async def join(self, phone: str, role: str = "secretary", code: str | None = None) -> None:
        """Join with an invite (`code`, one issued earlier; by default one issued now): the code typed, then the
        phone typed (Bot Platform) or sent by the OA's form."""
        code = code or await invite_code(self.world.runtime, phone, role)
        if isinstance(self.user, FakeOaUser):
            await self.user.follow()
            await self.user.wait_for(1, timeout=WAIT)  # the welcome a new follower gets
            await self.user.send_text(code)
            await self.user.wait_until(lambda ms: ms[-1].kind == "request_info", WAIT)
            await self.user.submit_info(phone)
        else:
            before = len(self.user.messages)
            await self.user.send_text(code)
            await self.user.wait_for(before + 1, timeout=WAIT)
            await self.user.send_text(phone)
        await eventually(lambda: self.world.linked(self.id), "the account is linked")
        await self.settle()  # the confirmation and the help that follows it


def _has(text: str, words: tuple[str, ...]) -> bool:
    return all(w.lower() in text.lower() for w in words)


@dataclass
class ZaloWorld:
    """The running bot on one Zalo product and its fake server."""

    product: str
    runtime: Runtime
    fake: FakeZalo | FakeZaloOA
    port: int

    @property
    def channel(self) -> ChannelName:
        return ChannelName.ZALO if self.product == BOT_PLATFORM else ChannelName.ZALO_OA

    def person(self, user_id: str, name: str) -> ZaloPerson:
        return ZaloPerson(self, self.fake.user(user_id, name))

    def local(self, url: str) -> str:
        """A public link as the reverse proxy in front of the bot serves it."""
        return url.replace(PUBLIC, f"http://127.0.0.1:{self.port}", 1)

    async def linked(self, user_id: str) -> bool:
        async with transaction(self.runtime.sessions) as session:
            account = await session.scalar(select(ChannelAccount).where(ChannelAccount.user_id == user_id))
        return account is not None and account.channel == self.channel


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT) -> Any:  # noqa: ASYNC109
    """Poll `check` (a database read) until it returns something truthy; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture(params=PRODUCTS)
async def zalo(
    request: pytest.FixtureRequest, tmp_path: Path, db_url: str, engine: AsyncEngine, clock: Clock
) -> AsyncIterator[ZaloWorld]:
    """The bot with ONE Zalo product configured and nothing else, against that product's fake."""
    port = free_port()
    fake: FakeZalo | FakeZaloOA
    if request.param == BOT_PLATFORM:
        fake = bot_fake = FakeZalo()
        await bot_fake.start()
        settings = bot_platform_settings(tmp_path, db_url, bot_fake, port)
    else:
        fake = oa_fake = FakeZaloOA(clock=clock, oa_secret_key="oa-webhook-key")
        await oa_fake.start()
        settings = oa_settings(tmp_path, db_url, oa_fake, port)
    runtime = Runtime.build(settings, clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    # What the HTTPS reverse proxy does: what Zalo posts to the public URL reaches the bot's own port.
    if isinstance(fake, FakeZalo):
        assert fake.webhook is not None
        fake.webhook = replace(fake.webhook, url=f"http://127.0.0.1:{port}/zalo/webhook")
    else:
        fake.set_webhook(f"http://127.0.0.1:{port}/zalo-oa/webhook")
    world = ZaloWorld(request.param, runtime, fake, port)
    assert set(runtime.channels) == {world.channel}
    try:
        yield world
    finally:
        await runtime.stop()
        await fake.stop()
    if isinstance(fake, FakeZaloOA):
        assert fake.internal_errors == []
