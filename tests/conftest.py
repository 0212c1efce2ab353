"""Shared fixtures: every database test runs on SQLite and, when CHIBO_TEST_POSTGRES_URL is set, on PostgreSQL;
bot tests run the real runtime against the fake Telegram server."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from storage.db import make_engine, migrate
from storage.models import Base

POSTGRES_URL = os.environ.get("CHIBO_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
START = datetime(2024, 4, 3, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội on the day sample 747 was issued


def _pg_async_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1) if "+asyncpg" not in url else url


async def _prepare_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await migrate(engine)
    await engine.dispose()


async def _prepare_sqlite(path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await migrate(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "chibo.db"
    asyncio.run(_prepare_sqlite(path))
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str | None:
    if not POSTGRES_URL:
        return None
    url = _pg_async_url(POSTGRES_URL)
    asyncio.run(_prepare_postgres(url))
    return url


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_ready: str | None
) -> Iterator[str]:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "chibo.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        assert postgres_ready is not None
        asyncio.run(_truncate(postgres_ready))
        yield postgres_ready


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock.starting_at(START)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def fake_oa(clock: Clock) -> AsyncIterator[FakeZaloOA]:
    """A fake Zalo OA with its webhook key; a test module may override it with a stricter policy."""
    fake = FakeZaloOA(clock=clock, oa_secret_key="oa-webhook-key")
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo()
    await fake.start()
    yield fake
    await fake.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(
    tmp_path: Path, db_url: str, fake: FakeTelegram, zalo: FakeZalo | None = None, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "telegram_token": SecretStr(fake.token),
        "telegram_api_url": fake.api_url,
        "listen_host": "127.0.0.1",
        "listen_port": free_port(),
        "progress_interval": 0.2,
        "database_url": db_url,
        "data_dir": tmp_path / "data",
        "telegram_rate": 0,
        "telegram_chat_interval": 0,
    }
    if zalo is not None:
        values |= {"zalo_token": SecretStr(zalo.token), "zalo_api_url": zalo.api_url}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake_tg: FakeTelegram, fake_zalo: FakeZalo, clock: Clock
) -> AsyncIterator[Runtime]:
    """The real bot on Telegram and Zalo at once, against both fakes."""
    runtime = Runtime.build(make_settings(tmp_path, db_url, fake_tg, fake_zalo), clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    yield runtime
    await runtime.stop()


class Restartable:
    """Runtimes built one after another on the same database and fake Telegram, as a restarted server is."""

    def __init__(self, tmp_path: Path, db_url: str, fake: FakeTelegram, clock: Clock) -> None:
        self.tmp_path, self.db_url, self.fake, self.clock = tmp_path, db_url, fake, clock
        self.current: Runtime | None = None

    async def start(self) -> Runtime:
        runtime = Runtime.build(make_settings(self.tmp_path, self.db_url, self.fake), clock=self.clock)
        await runtime.start(migrate_db=False)
        self.current = runtime
        return runtime

    async def restart(self) -> Runtime:
        await self.stop()
        return await self.start()

    async def stop(self) -> None:
        if self.current is not None:
            runtime, self.current = self.current, None
            await runtime.stop()


@pytest.fixture
async def restartable(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> AsyncIterator[Restartable]:
    servers = Restartable(tmp_path, db_url, fake_tg, clock)
    yield servers
    await servers.stop()
