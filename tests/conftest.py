"""Shared fixtures: every database test runs on SQLite and, when CHIBO_TEST_POSTGRES_URL is set, on PostgreSQL;
bot tests run the real runtime against the fake Telegram server.

`make test` runs the suite in parallel (pytest-xdist); what the workers could share is made theirs: each worker has
its own PostgreSQL database (the configured name with the worker's suffix, created when missing), its own range of
ports, its own temporary directories (pytest's) and its own LibreOffice profile (tests/support.py). What they
share is the run's Tesseract output (tests/ocr_cache.py): a page is read once per run, not once per test."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from typer.testing import CliRunner

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from storage.db import make_engine, migrate
from storage.models import Base

POSTGRES_URL = os.environ.get("CHIBO_TEST_POSTGRES_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"... under `pytest -n`; unset in a plain run
BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
START = datetime(2024, 4, 3, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội on the day sample 747 was issued


def _pg_async_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1) if "+asyncpg" not in url else url


def _worker_url(url: str) -> str:
    """This worker's own database: parallel workers truncating one database would wipe each other's rows."""
    if WORKER is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


async def _create_database(base_url: str, url: str) -> None:
    """Create the worker's database when missing, through the configured one (CREATE DATABASE needs autocommit)."""
    name = make_url(url).database
    engine = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if not found:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _prepare_postgres(base_url: str, url: str) -> None:
    if url != base_url:
        await _create_database(base_url, url)
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


@pytest.fixture(scope="session", autouse=True)
def tesseract_once_per_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The bot's Tesseract (CHIBO_TESSERACT_CMD) reads each page image once per run (tests/ocr_cache.py); a
    test that names its own command, or calls the OCR directly, still gets that command."""
    real = shutil.which("tesseract")
    if real is None:
        yield
        return
    run = tmp_path_factory.getbasetemp()
    cache = (run.parent if WORKER else run) / "ocr-cache"  # under xdist, each worker's folder is in the run's
    cache.mkdir(exist_ok=True)
    command = tmp_path_factory.mktemp("ocr") / "tesseract"
    script = Path(__file__).with_name("ocr_cache.py")
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    command.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHIBO_TESSERACT_CMD", str(command))
        patch.setenv("CHIBO_OCR_CACHE", str(cache))
        patch.setenv("CHIBO_OCR_REAL", real)
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "chibo.db"
    asyncio.run(_prepare_sqlite(path))
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str | None:
    """This worker's PostgreSQL database, emptied and migrated once per session; None without PostgreSQL."""
    if not POSTGRES_URL:
        return None
    base = _pg_async_url(POSTGRES_URL)
    url = _worker_url(base)
    asyncio.run(_prepare_postgres(base, url))
    return url


def _emptying() -> str:
    """Empty every table, children first, and restart every sequence, in one statement. DELETE rather than
    TRUNCATE: a test leaves a few rows, and TRUNCATE's new files for each table and index cost seven times more."""
    deletes = " ".join(f"DELETE FROM {table.name};" for table in reversed(Base.metadata.sorted_tables))
    return (
        f"DO $$DECLARE s record; BEGIN {deletes} "
        "FOR s IN SELECT oid FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace "
        "LOOP EXECUTE format('ALTER SEQUENCE %s RESTART', s.oid::regclass); END LOOP; END$$"
    )


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(_emptying()))
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
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command line against this test's database (each command runs its own event loop)."""
    monkeypatch.setenv("CHIBO_DATABASE_URL", db_url)
    monkeypatch.setenv("CHIBO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHIBO_TELEGRAM_BOT_USERNAME", "chibo_bot")
    for name in ("CHIBO_TELEGRAM_TOKEN", "CHIBO_ZALO_TOKEN", "CHIBO_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


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


# Ports handed out by free_port: below Linux's ephemeral range (32768-60999), so no port the kernel picks for a
# connection or a bind to port 0 (the fakes) can take one; each xdist worker draws from its own slice, starting
# at a random place in it (another test run on the machine draws elsewhere), going round it only once used up.
_PORTS = range(20000, 32000)


def _port_candidates() -> itertools.cycle[int]:
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(WORKER[2:]) if WORKER and WORKER[2:].isdigit() else 0
    size = len(_PORTS) // max(count, 1)
    first = _PORTS.start + index * size
    start = random.randrange(size)
    return itertools.cycle([*range(first + start, first + size), *range(first, first + start)])


_candidates = _port_candidates()


def free_port() -> int:
    """A port nothing listens on now and no other test of this run will be given."""
    for port in itertools.islice(_candidates, 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in this worker's range")


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
