"""Several instances on one database: migrations started together do not race, and the scheduler's leader is
taken over when the leading instance dies (a `chibo run` process killed with SIGKILL), its reminders sent once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import scheduler
from bot.core.clock import Clock
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from storage.backup import head_revision
from storage.db import make_engine, migrate
from storage.models import Base, Outbox
from tests.conftest import POSTGRES_URL, free_port, make_settings
from tests.support import board_and_secretaries, send_test_directive, travel_to

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="CHIBO_TEST_POSTGRES_URL is not set")
REPO = Path(__file__).resolve().parents[1]


async def schema_of(engine: AsyncEngine) -> tuple[set[str], str]:
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    return tables, str(revision)


async def migrate_together(url: str) -> None:
    engines = [make_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        tables, revision = await schema_of(engines[0])
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert revision == head_revision()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_migrations_started_together_on_sqlite(tmp_path: Path) -> None:
    await migrate_together(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")


@needs_postgres
async def test_migrations_started_together_on_postgres(postgres_ready: str | None) -> None:
    assert postgres_ready is not None  # this worker's database (tests/conftest.py)
    url = postgres_ready
    engine = make_engine(url)
    async with engine.begin() as conn:  # a fresh database: nothing migrated yet
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await migrate_together(url)  # leaves the database migrated, as the other tests expect


# -- the scheduler's leader --------------------------------------------------------------------------------


async def leader_backends(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid::bigint = :space AND objid::bigint = :key AND objsubid = 2"
                ),
                {"space": scheduler.LOCK_SPACE, "key": scheduler.LEADER_LOCK},
            )
        )


async def waiting(runtime: Runtime, kind: str | None = None) -> int:
    async with runtime.sessions() as session:
        query = select(func.count()).where(Outbox.status.in_(("pending", "sending")))
        if kind:
            query = query.where(Outbox.kind == kind)
        return int(await session.scalar(query) or 0)


async def settle(runtime: Runtime) -> None:
    for _ in range(400):
        if not await waiting(runtime):
            return
        runtime.sender.wake()
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


def reminders_to(user: object) -> int:
    return sum("NHẮC BÁO CÁO" in m.text for m in user.messages)  # type: ignore[attr-defined]


@needs_postgres
async def test_a_killed_leader_is_replaced_and_its_reminders_sent_once(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("leadership is a PostgreSQL matter: SQLite serves one process")
    monkeypatch.setattr(scheduler, "INTERVAL_SECONDS", 1)  # the jobs tick every second: a short test
    settings = make_settings(tmp_path, db_url, fake_tg, leader_interval=0.2)
    first = Runtime.build(settings, clock=clock)
    await first.start(migrate_db=False)
    _, secretaries = await board_and_secretaries(first, fake_tg)
    await send_test_directive(first, deadline=date(2024, 4, 10))
    await settle(first)
    await first.stop()

    # Another instance, in a process of its own (its own fake Telegram, so it takes nobody's updates), leads.
    other_fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await other_fake.start()
    env = os.environ | {
        "CHIBO_DATABASE_URL": db_url,
        "CHIBO_TELEGRAM_TOKEN": other_fake.token,
        "CHIBO_TELEGRAM_API_URL": other_fake.api_url,
        "CHIBO_LISTEN_HOST": "127.0.0.1",
        "CHIBO_LISTEN_PORT": str(free_port()),
        "CHIBO_DATA_DIR": str(tmp_path / "other"),
        "CHIBO_LEADER_INTERVAL": "0.2",
    }
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    probe = make_engine(db_url)
    follower: Runtime | None = None
    try:
        for _ in range(600):
            if await leader_backends(probe) == 1:
                break
            assert leader.returncode is None, "the other instance exited"
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the other instance never took the lead")

        follower = Runtime.build(make_settings(tmp_path, db_url, fake_tg, leader_interval=0.2), clock=clock)
        await follower.start(migrate_db=False)
        travel_to(follower, 2024, 4, 7, 8)  # three cells are due a reminder now
        await asyncio.sleep(3)  # several job ticks and leadership checks
        state = f"other instance exit code {leader.returncode}, leaders {await leader_backends(probe)}"
        assert not follower.leadership.held, state
        assert await waiting(follower, "reminder") == 0, state
        assert all(reminders_to(user) == 0 for user in secretaries.values())

        leader.send_signal(signal.SIGKILL)
        await leader.wait()
        killed = time.monotonic()
        for _ in range(600):
            if follower.leadership.held:
                break
            await asyncio.sleep(0.1)
        took_over = time.monotonic() - killed
        assert follower.leadership.held, "nobody took the lead"
        for _ in range(600):
            if all(reminders_to(user) == 1 for user in secretaries.values()):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # more ticks: nothing is sent twice
        await settle(follower)
        assert [reminders_to(user) for user in secretaries.values()] == [1, 1, 1]
        print(f"leader taken over {took_over:.2f} s after SIGKILL")
    finally:
        if leader.returncode is None:
            leader.kill()
            await leader.wait()
        if follower is not None:
            await follower.stop()
        await probe.dispose()
        await other_fake.stop()
