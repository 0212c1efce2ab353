"""The periodic jobs: due reminders and escalations every minute, and the daily summary at CHIBO_SUMMARY_TIME
(checked every minute too, so a restart after that time still sends it).

APScheduler only decides when to look; what is due is decided from the database and `runtime.clock`, never from
the wall clock, so tests move the clock and call `reminders_job` / `summary_job` directly.

When several instances share a PostgreSQL database, one of them leads: it holds a session-level advisory lock on a
connection of its own, and only the leader's scheduler runs the jobs. When the leader dies its connection closes,
PostgreSQL frees the lock, and another instance takes it at its next check (CHIBO_LEADER_INTERVAL seconds). Each run
also takes a per-job advisory lock, so a leader that lost its connection mid-job cannot overlap with the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.host import Host
from bot.services import cycles, level_reminders, personal_data, reminders, summary
from storage.db import transaction
from storage.faults import is_transient, reason
from storage.locks import SPACE, LockKey

log = logging.getLogger(__name__)


class Bot(Host, Protocol):
    """The running bot as the jobs see it: a host, and the engine that takes the jobs' cross-instance locks."""

    @property
    def engine(self) -> AsyncEngine: ...


INTERVAL_SECONDS = 60
LOCK_SPACE = SPACE
REMINDERS_LOCK = LockKey.REMINDERS
SUMMARY_LOCK = LockKey.SUMMARY
LEADER_LOCK = LockKey.LEADER
PURGE_LOCK = LockKey.RETENTION_PURGE
PURGE_TIME = (3, 30)  # local time of the daily retention purge, when nobody is reporting


class Leadership:
    """Whether this instance leads the scheduler: a session advisory lock held on a dedicated connection (always
    True on SQLite, which one process serves)."""

    def __init__(self, engine: AsyncEngine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._conn: AsyncConnection | None = None
        self.held = engine.dialect.name != "postgresql"

    async def run(self) -> None:
        """Check every `interval` seconds that the lock is still held, or try to take it; until cancelled."""
        if self.engine.dialect.name != "postgresql":
            return
        try:
            while True:
                try:
                    await self.check()
                except Exception:  # a bug, not the database going away: keep trying, never stop the loop
                    log.exception("scheduler leadership check failed")
                    await self._drop()
                await asyncio.sleep(self.interval)
        finally:
            await self._drop()

    async def check(self) -> bool:
        try:
            async with asyncio.timeout(max(5.0, self.interval)):  # a hung connection counts as lost
                return self._settle(await self._ask())
        except (OSError, SQLAlchemyError) as exc:  # OSError includes TimeoutError
            # The connection went away (and the lock with it): another instance may lead now.
            log.warning("scheduler leadership check failed (%s); retrying", type(exc).__name__)
            await self._drop()
            return False

    async def _ask(self) -> bool:
        if self._conn is None:
            self._conn = await self.engine.connect()
        if self.held:  # the session is alive, so it still holds the lock
            taken = bool(await self._conn.scalar(text("SELECT 1")))
        else:
            taken = bool(
                await self._conn.scalar(
                    text("SELECT pg_try_advisory_lock(:space, :key)"),
                    {"space": LOCK_SPACE, "key": LEADER_LOCK},
                )
            )
        await self._conn.commit()
        return taken

    def _settle(self, taken: bool) -> bool:
        if taken and not self.held:
            log.info("this instance now runs the scheduled jobs")
        self.held = taken
        return taken

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self.held = False
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()  # never back to the pool: its session may still hold the lock


async def reminders_job(runtime: Bot) -> reminders.Run | None:
    """Open the recurring directives' next periods whose deadline passed, then queue the reminders and
    escalations due now; None when another instance is running the job."""
    async with exclusive(runtime.engine, REMINDERS_LOCK) as held:
        if not held:
            return None
        async with transaction(runtime.sessions) as session:
            opened = await cycles.open_due(session, runtime.clock, runtime.settings.tz)
        if opened:
            log.info("recurring directives: %d periods opened", opened)
        run = await reminders.send_due(runtime)
        run.levels = await level_reminders.send_due(runtime)  # the boards along the chain of levels
        return run


async def summary_job(runtime: Bot) -> int | None:
    """Send today's summary to the board members still waiting for it; None when another instance runs it."""
    async with exclusive(runtime.engine, SUMMARY_LOCK) as held:
        if not held:
            return None
        return await summary.send_due(runtime)


async def purge_job(runtime: Bot) -> personal_data.Purged | None:
    """Apply the retention period (CHIBO_RETENTION_DAYS); None when another instance is running the job."""
    async with exclusive(runtime.engine, PURGE_LOCK) as held:
        if not held:
            return None
        async with transaction(runtime.sessions) as session:
            purged = await personal_data.purge_expired(
                session, runtime.clock, runtime.files, runtime.settings.retention_days
            )
        log.info(
            "retention purge: %d reports, %d photos, %d audit entries, %d messages",
            purged.reports,
            purged.photos,
            purged.audit_entries,
            purged.messages,
        )
        return purged


@asynccontextmanager
async def exclusive(engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
    """Hold a PostgreSQL advisory lock for the block (yields False if another session holds it). SQLite serves
    one process, and the jobs' writes are idempotent anyway, so there it always yields True."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        held = bool(
            await conn.scalar(
                text("SELECT pg_try_advisory_lock(:space, :key)"), {"space": LOCK_SPACE, "key": key}
            )
        )
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"), {"space": LOCK_SPACE, "key": key}
                )
                await conn.commit()


async def _guarded(job: str, runtime: Bot, leader: Leadership) -> None:
    if not leader.held:
        return
    try:
        if job == "reminders":
            await reminders_job(runtime)
        elif job == "purge":
            await purge_job(runtime)
        else:
            await summary_job(runtime)
    except Exception as exc:
        if not is_transient(exc):
            log.exception("scheduled job %s failed; it runs again at the next tick", job)
        else:
            log.warning(
                "scheduled job %s: database unavailable (%s); it runs again at the next tick",
                job,
                reason(exc),
            )


def build(runtime: Bot, leader: Leadership) -> AsyncIOScheduler:
    settings = runtime.settings
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    every_minute = IntervalTrigger(seconds=INTERVAL_SECONDS)
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": INTERVAL_SECONDS}
    scheduler.add_job(_guarded, every_minute, args=["reminders", runtime, leader], id="reminders", **options)
    scheduler.add_job(_guarded, every_minute, args=["summary", runtime, leader], id="summary", **options)
    at = settings.summary_time
    scheduler.add_job(
        _guarded,
        CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=settings.tz),
        args=["summary", runtime, leader],
        id="summary-at-time",
        **options,
    )
    scheduler.add_job(
        _guarded,
        CronTrigger(hour=PURGE_TIME[0], minute=PURGE_TIME[1], timezone=settings.tz),
        args=["purge", runtime, leader],
        id="purge",
        **options,
    )
    return scheduler


async def run(runtime: Bot, leader: Leadership) -> None:
    """Run the scheduler until cancelled (the runtime starts this as a task and cancels it on stop)."""
    scheduler = build(runtime, leader)
    scheduler.start()
    try:
        await leader.run()
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown(wait=False)
