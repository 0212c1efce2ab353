"""Operations: /healthz, /readyz and /metrics on the running bot (polling mode, against the fake Telegram), the
JSON log format, and `chibo backup` / `chibo restore` on SQLite."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import logs
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import reports
from bot.web.health import Health
from storage.db import make_engine, transaction
from storage.models import Outbox, Unit
from tests.conftest import free_port, make_settings
from tests.support import board_and_secretaries, send_test_directive


@pytest.fixture
async def tg_bot(
    tmp_path: Path, db_url: str, engine: AsyncEngine, fake_tg: FakeTelegram, clock: Clock
) -> AsyncIterator[Runtime]:
    """The bot in polling mode (no public URL), whose web server must listen all the same."""
    settings = make_settings(tmp_path, db_url, fake_tg, ready_backlog=3, ready_timeout=1.0)
    runtime = Runtime.build(settings, clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    yield runtime
    await runtime.stop()


async def get(runtime: Runtime, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{runtime.settings.listen_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.text()
        return response.status, (json.loads(body) if path != "/metrics" else body)


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(body: str, name: str, **labels: str) -> float:
    return samples(body).get((name, tuple(sorted(labels.items()))), 0.0)


async def test_health_and_ready_in_polling_mode(tg_bot: Runtime) -> None:
    assert tg_bot.settings.public_url is None
    assert await get(tg_bot, "/healthz") == (200, {"status": "ok"})
    status, body = await get(tg_bot, "/readyz")
    assert (status, body["status"]) == (200, "ready")


async def test_not_ready_when_the_backlog_is_over_the_threshold(tg_bot: Runtime, clock: Clock) -> None:
    later = clock.now() + timedelta(days=1)  # not due yet, so the sender leaves them waiting
    async with transaction(tg_bot.sessions) as session:
        for n in range(3):
            session.add(
                Outbox(
                    channel="telegram",
                    chat_id=str(900 + n),
                    kind="reply",
                    parts=[{"text": "x"}],
                    next_attempt_at=later,
                    created_at=clock.now(),
                )
            )
    clock.advance(timedelta(seconds=90))
    status, body = await get(tg_bot, "/readyz")
    assert status == 503
    assert "outbox" in body["failed"] and "3 messages" in body["failed"]["outbox"]
    _, metrics = await get(tg_bot, "/metrics")
    assert value(metrics, "chibo_outbox_backlog") == 3
    assert value(metrics, "chibo_outbox_oldest_pending_seconds") >= 90


async def test_not_ready_while_the_database_is_locked(tg_bot: Runtime, db_url: str) -> None:
    """Another connection holds the database (a lock on SQLite, an exclusive table lock on PostgreSQL)."""
    blocker = make_engine(db_url)
    try:
        async with blocker.connect() as conn:
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("COMMIT")  # leave the BEGIN IMMEDIATE SQLAlchemy opened ...
                await conn.exec_driver_sql("BEGIN EXCLUSIVE")  # ... for a lock readers wait on too
            else:
                await conn.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
            status, body = await get(tg_bot, "/readyz")
            await conn.rollback()
    finally:
        await blocker.dispose()
    assert status == 503
    assert body["failed"]["database"].startswith("unreachable")
    for _ in range(40):  # ready again once the lock is gone
        status, _ = await get(tg_bot, "/readyz")
        if status == 200:
            break
        await asyncio.sleep(0.25)
    assert status == 200


async def test_not_ready_when_the_database_is_gone(
    tmp_path: Path, fake_tg: FakeTelegram, clock: Clock
) -> None:
    """Nothing listens where the database should be: 503 naming the database, quickly."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/chibo"
    settings: Settings = make_settings(tmp_path, url, fake_tg, ready_timeout=5.0)
    engine = make_engine(url)
    from aiohttp import web

    app = web.Application()
    Health(engine, {}, settings, clock).install(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as response:
            assert response.status == 503
            body = await response.json()
        assert list(body["failed"]) == ["database"]
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200  # alive all the same: restarting would not bring the database back
    finally:
        await runner.cleanup()
        await engine.dispose()


async def test_metrics_count_a_broadcast(tg_bot: Runtime, fake_tg: FakeTelegram) -> None:
    _, before = await get(tg_bot, "/metrics")
    _, secretaries = await board_and_secretaries(tg_bot, fake_tg)
    blocked = next(iter(secretaries.values()))
    fake_tg.block(blocked.id)
    directive_id = await send_test_directive(tg_bot)
    for _ in range(200):
        async with tg_bot.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(Outbox.status.in_(("pending", "sending")))
            )
        if not waiting:
            break
        tg_bot.sender.wake()
        await asyncio.sleep(0.05)
    await tg_bot.sender.idle()
    async with tg_bot.sessions() as session:
        outcomes = dict(
            (await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
        )
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "DUK"))
    async with transaction(tg_bot.sessions) as session:
        from storage.models import Directive

        directive = await session.get(Directive, directive_id)
        assert directive is not None and unit_id is not None
        await reports.save_report(
            session,
            tg_bot.clock,
            tg_bot.settings.tz,
            directive=directive,
            unit_id=unit_id,
            values={"ghi_chu": "x"},
            person_id=None,
            channel="telegram",
        )
    _, after = await get(tg_bot, "/metrics")

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert outcomes.get("blocked") == 1
    assert delta("chibo_deliveries_total", channel="telegram", outcome="sent") == outcomes["sent"]
    assert delta("chibo_deliveries_total", channel="telegram", outcome="blocked") == 1
    assert delta("chibo_deliveries_total", channel="telegram", outcome="failed") == outcomes.get("failed", 0)
    assert delta("chibo_reports_stored_total") == 1
    # Each registration is two updates (/start with the code, then the contact) from four people.
    assert delta("chibo_update_seconds_count", channel="telegram") == 8
    assert value(after, "chibo_outbox_backlog") == 0
    assert "chibo_events_set_aside_total" in after


async def test_metrics_count_429s_and_retries(tg_bot: Runtime, fake_tg: FakeTelegram) -> None:
    _, before = await get(tg_bot, "/metrics")
    await board_and_secretaries(tg_bot, fake_tg)
    fake_tg.force_429(retry_after=1, count=2, method="sendMessage")
    await send_test_directive(tg_bot)
    for _ in range(400):
        async with tg_bot.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(Outbox.status.in_(("pending", "sending")))
            )
        if not waiting:
            break
        tg_bot.sender.wake()
        await asyncio.sleep(0.05)
    _, after = await get(tg_bot, "/metrics")
    limited = value(after, "chibo_rate_limited_total", channel="telegram") - value(
        before, "chibo_rate_limited_total", channel="telegram"
    )
    retried = value(after, "chibo_deliveries_total", channel="telegram", outcome="retried") - value(
        before, "chibo_deliveries_total", channel="telegram", outcome="retried"
    )
    assert limited == 2
    assert retried == 2  # each 429 puts its message back in the outbox once


def test_json_log_lines() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        root.handlers[:] = []  # as in a fresh `chibo run` process
        logs.configure("json")
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        logging.getLogger("chibo.test").warning("delivery %s failed", 7, extra={"channel": "zalo"})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("chibo.test").exception("bug")
    finally:
        root.handlers[:], root.level = saved
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "chibo.test"
    assert first["message"] == "delivery 7 failed" and first["channel"] == "zalo"
    assert first["time"].endswith("+00:00")
    assert "ValueError: boom" in second["exception"]


def test_text_log_lines_by_default() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
