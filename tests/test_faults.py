"""No fault loses a report or stops the bot (issue 13): a database lock held from another connection, a connection
cut by a proxy, malformed updates from the platform, and deliveries failing for a day. Each time, what users sent
during the fault is stored and answered afterwards, exactly once, and the loops go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.delivery.sender import RetrySchedule
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from storage.db import is_sqlite, make_engine, transaction
from storage.models import Outbox, SetAsideUpdate
from tests.conftest import make_settings
from tests.test_report_batches import cells_with_secretaries, has, quick
from tests.test_reports import card_for, queue_directive, reports_of
from tests.zalo_fixtures import eventually

LOCK_SECONDS = 3.0


def _short_busy_timeout(engine: AsyncEngine) -> None:
    """SQLite waits up to 10 s for a lock on its own; a short wait makes the lock below fail statements, as a
    longer lock does in production, without a slow test."""

    def pragma(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=200")
        cur.close()

    event.listen(engine.sync_engine, "connect", pragma)


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, url: str, fake: FakeTelegram, clock: Clock, **settings: Any
) -> AsyncIterator[Runtime]:
    engine = make_engine(url)
    if is_sqlite(url):
        _short_busy_timeout(engine)
    runtime = Runtime.build(make_settings(tmp_path, url, fake, **settings), clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    try:
        yield runtime
    finally:
        await runtime.stop()


@contextlib.asynccontextmanager
async def database_locked(db_url: str) -> AsyncIterator[None]:
    """Hold the database's write lock from another connection: BEGIN EXCLUSIVE on SQLite, LOCK TABLE on PostgreSQL."""
    if is_sqlite(db_url):
        # In a thread: the bot's open transaction must be able to finish on this event loop before we get the lock.
        conn = sqlite3.connect(
            make_url(db_url).database or "", isolation_level=None, timeout=30, check_same_thread=False
        )
        await asyncio.to_thread(conn.execute, "BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("COMMIT")
            conn.close()
        return
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        await conn.execute(text("BEGIN"))
        await conn.execute(text("LOCK TABLE processed_updates, reports, outbox IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await conn.execute(text("COMMIT"))
    await engine.dispose()


async def receipts_for_all(bot: Runtime, fake: FakeTelegram, tmp_path: Path, fault: Any) -> None:
    """Every cell sends its one-message report during `fault`; afterwards each has one receipt and one report."""
    users = await cells_with_secretaries(bot, fake, tmp_path)
    await queue_directive(bot, "747-CV/ĐUK", units=("DU",))
    for user in users:
        await card_for(user, "747-CV/ĐUK")
    not_ready_seen = False
    async with fault():
        for i, user in enumerate(users):
            await user.send_text(quick(10 + i))
        for _ in range(int(LOCK_SECONDS / 0.1)):
            await asyncio.sleep(0.1)
            not_ready_seen = not_ready_seen or not bot.ready
    for user in users:
        await user.wait_until(has("Mã biên nhận"), timeout=60)
    await bot.dispatcher.idle()
    await bot.sender.idle()
    stored = await reports_of(bot)
    assert sorted(r.values["dang_vien"]["attended"] for r in stored) == [10 + i for i in range(len(users))]
    assert all(sum("Mã biên nhận" in m.text for m in u.messages) == 1 for u in users), "a receipt sent twice"
    if fault.__name__ != "pg_lock":  # PostgreSQL just waits on a table lock: nothing fails, nothing to retry
        assert bot.dispatcher.fault_counts["retried"] > 0
        assert not_ready_seen, "the bot said it was ready while it could not store anything"
    for _ in range(300):  # the sender notices at its next try, within its back-off
        if bot.ready:
            break
        await asyncio.sleep(0.1)
    assert bot.ready
    # The sender's loop lived through it: a new broadcast reaches every cell.
    await queue_directive(bot, "748-CV/ĐUK", units=("DU",))
    for user in users:
        await card_for(user, "748-CV/ĐUK")


async def test_reports_sent_while_the_database_is_locked_are_stored_and_answered_once(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> None:
    def lock() -> contextlib.AbstractAsyncContextManager[None]:
        return database_locked(db_url)

    lock.__name__ = "sqlite_lock" if is_sqlite(db_url) else "pg_lock"
    async with running(tmp_path, db_url, fake_tg, clock) as bot:
        await receipts_for_all(bot, fake_tg, tmp_path, lock)


class CuttableProxy:
    """A TCP proxy between the bot and PostgreSQL whose connections can be cut and refused, then restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.up = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def restore(self) -> None:
        self.up = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._links |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._links.discard(writer)
            writer.transport.abort()


async def test_reports_sent_while_the_postgres_connection_is_cut_are_stored_and_answered_once(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> None:
    if is_sqlite(db_url):
        pytest.skip("a connection to cut is PostgreSQL's")
    url = make_url(db_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()

    @contextlib.asynccontextmanager
    async def cut_connection() -> AsyncIterator[None]:
        proxy.cut()
        try:
            yield
        finally:
            proxy.restore()

    try:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        async with running(tmp_path, proxied, fake_tg, clock) as bot:
            await receipts_for_all(bot, fake_tg, tmp_path, cut_connection)
    finally:
        await proxy.stop()


def _malformed(fake: FakeTelegram, user_id: int, shape: str) -> dict[str, Any]:
    sender = {"id": user_id, "is_bot": False, "first_name": "Lạ"}
    chat = {"id": user_id, "type": "private", "first_name": "Lạ"}
    message: dict[str, Any] = {
        "message_id": 1,
        "date": 1712000000,
        "from": sender,
        "chat": chat,
        "text": "chào",
    }
    if shape == "message without a chat":
        del message["chat"]
    elif shape == "a number where text belongs":
        message["text"] = 12345
    elif shape == "a date as a string":
        message["date"] = "2024-04-01"
    elif shape == "a button press without a sender":
        query = {"id": "q1", "chat_instance": "1", "data": "x", "message": message}
        return {"update_id": fake.next_update_id(), "callback_query": query}
    return {"update_id": fake.next_update_id(), "message": message}


SHAPES = [
    "message without a chat",
    "a number where text belongs",
    "a button press without a sender",
    "a date as a string",
]


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_malformed_update_is_set_aside_and_polling_goes_on(
    bot: Runtime, fake_tg: FakeTelegram, shape: str
) -> None:
    fake_tg.emit(_malformed(fake_tg, 990, shape), None)
    stranger = fake_tg.user(991, "Người lạ")
    await stranger.send_text("xin chào")
    await stranger.wait_until(lambda messages: len(messages) >= 1)
    async with transaction(bot.sessions) as session:
        kept = (await session.scalars(select(SetAsideUpdate))).all()
    assert [row.channel for row in kept] == ["telegram"]
    assert '"update_id"' in kept[0].payload and kept[0].reason
    assert bot.dispatcher.fault_counts["set_aside"] == 1
    assert not fake_tg.box.pending, "every update was confirmed"


async def test_a_malformed_update_over_the_webhook_is_set_aside_and_answered_200(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> None:
    from tests.conftest import free_port

    port = free_port()
    public = "https://bot.example.org"
    fake_tg.expose_webhook_host(public, f"http://127.0.0.1:{port}")
    settings = {"public_url": public, "webhook_secret": "s3cret-token", "listen_port": port}
    async with running(tmp_path, db_url, fake_tg, clock, **settings) as bot:
        fake_tg.emit(_malformed(fake_tg, 990, SHAPES[0]), None)
        stranger = fake_tg.user(991, "Người lạ")
        await stranger.send_text("xin chào")
        await stranger.wait_until(lambda messages: len(messages) >= 1)

        async def set_aside() -> bool:  # the two chats are handled side by side: either may finish first
            return bot.dispatcher.fault_counts["set_aside"] == 1

        await eventually(set_aside, "the malformed update set aside")


def test_the_retry_schedule_spans_a_day_then_gives_up() -> None:
    schedule = RetrySchedule(first=60, longest=3600, within=86400)
    waits = []
    while (wait := schedule.delay(len(waits) + 1)) is not None:
        waits.append(wait)
    assert waits[:3] == [60, 120, 240] and max(waits) == 3600
    assert 23 * 3600 < sum(waits) <= 86400


async def test_a_delivery_failing_for_a_day_is_retried_then_named_to_the_board(
    bot: Runtime, fake_tg: FakeTelegram, clock: Clock
) -> None:
    from tests.support import board_and_secretaries

    board, _ = await board_and_secretaries(bot, fake_tg)
    fake_tg.fail_next("sendMessage", 500, count=10_000, description="Internal Server Error: dead")
    started = clock.now()
    directive_id = await queue_directive(bot, "747-CV/ĐUK", units=("DUK-STC-VP",))
    bot.progress.watch(directive_id, "telegram", str(board.id))

    async def delivery() -> Outbox:
        await bot.sender.flush()
        async with transaction(bot.sessions) as session:
            return (await session.scalars(select(Outbox).where(Outbox.directive_id == directive_id))).one()

    attempts_seen = []
    for _ in range(200):
        row = await delivery()
        if row.status == "failed":
            break
        if not attempts_seen or attempts_seen[-1] != row.attempts:
            attempts_seen.append(row.attempts)
            # An hour later the next try is due, whatever the wait the schedule chose.
            assert row.status != "pending" or row.next_attempt_at - clock.now() <= timedelta(hours=1)
        clock.advance(timedelta(minutes=30))
        bot.sender.wake()
        await asyncio.sleep(0.05)
    fake_tg.faults._by_method.clear()
    assert row.status == "failed" and "dead" in (row.last_error or "")
    assert row.attempts > 20, "retried over hours, not given up after seconds"
    assert clock.now() - started > timedelta(hours=23)
    await board.wait_until(lambda ms: any("Chi bộ Văn phòng Sở Tài chính" in m.text for m in ms), timeout=30)


async def test_faults_leave_no_trace_but_retries(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A broadcast and conversations while a fifth of Telegram's answers are 502, 429 or slow: everything arrives
    in the end, and the log holds one line per expected failure, never a traceback."""
    from bot.fakes.telegram_limits import Chaos
    from tests.support import board_and_secretaries

    fast_retries = {"delivery_retry_first": 0.2, "delivery_retry_max": 1.0}
    async with running(tmp_path, db_url, fake_tg, clock, **fast_retries) as bot:
        board, secretaries = await board_and_secretaries(bot, fake_tg)
        caplog.clear()
        fake_tg.chaos = Chaos(0.2, slow_seconds=0.3)
        await queue_directive(bot, "747-CV/ĐUK")
        users = list(secretaries.values())
        for user in users:
            await card_for(user, "747-CV/ĐUK")
        for i, user in enumerate(users):
            await user.send_text(quick(10 + i))
            await user.send_command("/help")
        await board.send_command("/tinhhinh", "747")
        await board.send_command("/nhacnho", "747")
        for user in users:
            await user.wait_until(has("Mã biên nhận"), timeout=60)
        await board.wait_until(has("TÌNH HÌNH THỰC HIỆN"), timeout=60)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        assert sum(fake_tg.chaos.counts.values()) > 0, "no fault was injected"
        fake_tg.chaos = Chaos()
    traced = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not traced, [f"{r.name}: {r.getMessage()}" for r in traced]


async def test_a_webhook_update_not_stored_is_answered_5xx_and_handled_when_redelivered(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> None:
    from tests.conftest import free_port

    port = free_port()
    public = "https://bot.example.org"
    fake_tg.expose_webhook_host(public, f"http://127.0.0.1:{port}")
    settings = {
        "public_url": public,
        "webhook_secret": "s3cret-token",
        "listen_port": port,
        "event_patience": 0.5,
    }
    async with running(tmp_path, db_url, fake_tg, clock, **settings) as bot:
        stranger = fake_tg.user(991, "Người lạ")
        async with database_locked(db_url):
            await stranger.send_text("xin chào")
            await asyncio.sleep(2.0)
        await stranger.wait_until(lambda messages: len(messages) >= 1, timeout=30)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        if is_sqlite(db_url):  # PostgreSQL waits on the lock instead of failing
            assert bot.dispatcher.fault_counts["not_stored"] >= 1
            assert fake_tg.sender.last_error_message, "the webhook answered an error while nothing was stored"
        assert len(stranger.messages) == 1
        assert not fake_tg.sender.failed


async def test_a_zalo_event_polled_while_the_database_is_locked_is_kept_and_handled(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, fake_zalo: FakeZalo, clock: Clock
) -> None:
    """Zalo hands a polled event out once: the bot keeps it and offers it again until it is stored."""
    if not is_sqlite(db_url):
        pytest.skip("PostgreSQL waits on the lock instead of failing")
    settings = {
        "zalo_token": SecretStr(fake_zalo.token),
        "zalo_api_url": fake_zalo.api_url,
        "event_patience": 0.3,
    }
    async with running(tmp_path, db_url, fake_tg, clock, **settings) as bot:
        stranger = fake_zalo.user("z-991", "Người lạ")
        async with database_locked(db_url):
            await stranger.send_text("xin chào")
            await asyncio.sleep(2.0)
        await stranger.wait_until(lambda messages: len(messages) >= 1, timeout=30)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        assert bot.dispatcher.fault_counts["not_stored"] >= 1
        assert len(stranger.messages) == 1


async def test_a_polled_update_not_stored_is_left_unconfirmed_and_fetched_again(
    tmp_path: Path, db_url: str, fake_tg: FakeTelegram, clock: Clock
) -> None:
    if not is_sqlite(db_url):
        pytest.skip("PostgreSQL waits on the lock instead of failing")
    async with running(tmp_path, db_url, fake_tg, clock, event_patience=0.3) as bot:
        users = [fake_tg.user(991 + i, f"Người lạ {i}") for i in range(3)]
        async with database_locked(db_url):
            for user in users:
                await user.send_text("xin chào")
            await asyncio.sleep(2.0)
        for user in users:
            await user.wait_until(lambda messages: len(messages) >= 1, timeout=30)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        assert bot.dispatcher.fault_counts["not_stored"] >= 1
        assert [len(user.messages) for user in users] == [1, 1, 1]
