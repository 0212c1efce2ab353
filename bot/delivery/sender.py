"""The durable outbox: every message is a row before it is sent, and a sender works the rows off.

A row is one delivery to one chat (a directive card and its files, a reminder, a reply). The sender claims due rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances can share the work), sends their parts in order under
the channel's pacing, and records progress part by part in batched writes. A crash leaves claimed rows behind; they
are taken up again once their lease runs out, so nobody is skipped and only in-flight parts can be sent twice.

A delivery the channel refuses as outside its window (`OutsideWindow`) is held, not failed: the row keeps its place
and reason for the board, and goes again when the user next interacts (services.outbox.release_held). Each
delivered row records what it cost (the dearest of its parts, and how many paid messages) for the board's sums.

Faults: a delivery failing for a transient reason (5xx, network) is tried again on a `RetrySchedule` (by default
1 min doubling to 1 h, for a day) before it is marked failed, which the board's final progress summary then names
with its reason. A database error in the claim loop or a progress write is logged in one line and retried with
back-off: sending goes on once the database is back, and `healthy` is False meanwhile (readiness).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core import metrics
from bot.core.clock import Clock
from bot.core.events import (
    Blocked,
    Channel,
    Cost,
    DeliveryError,
    OutsideWindow,
    RateLimited,
    Rejected,
    Reply,
    Sent,
)
from bot.delivery.pacing import Pacer
from bot.services import directives
from bot.services.files import FileStore
from bot.services.outbox import DIRECTIVE, HELD, REPLY
from storage.faults import is_transient, reason
from storage.liveness import InstanceLock, dead_instances
from storage.models import ChannelFile, DirectiveTarget, Outbox

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
FLUSH_INTERVAL = 0.05
RECLAIM_EVERY = 5.0
LOOP_MAX_BACKOFF = 10.0


@dataclass(frozen=True)
class RetrySchedule:
    """When a delivery that failed for a transient reason is tried again: `first` seconds after the first failure,
    doubling up to `longest`, until the waits add up to more than `within`; then it is marked failed."""

    first: float = 60.0
    longest: float = 3600.0
    within: float = 86400.0

    def delay(self, failures: int) -> float | None:
        """The wait after the `failures`-th failure (1-based), or None once the schedule is spent."""
        waits = [min(self.longest, self.first * 2.0**i) for i in range(failures)]
        return waits[-1] if sum(waits) <= self.within else None


@dataclass
class _Job:
    id: int
    channel: str
    chat_id: str
    kind: str
    directive_id: int | None
    unit_id: int | None
    parts: list[dict[str, Any]]
    next_part: int
    attempts: int
    cost: str | None = None
    paid: int = 0

    @classmethod
    def of(cls, row: Outbox) -> _Job:
        return cls(
            row.id,
            row.channel,
            row.chat_id,
            row.kind,
            row.directive_id,
            row.unit_id,
            list(row.parts),
            row.next_part,
            row.attempts,
            row.cost,
            row.paid or 0,
        )


@dataclass
class _PendingWrites:
    outbox: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)


class Sender:
    """Works the outbox off for every configured channel."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: dict[str, Channel],
        pacers: dict[str, Pacer],
        files: FileStore,
        clock: Clock,
        *,
        retries: RetrySchedule | None = None,
        concurrency: int = 64,
        reclaim_all_on_start: bool = False,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.pacers = pacers
        self.files = files
        self.clock = clock
        self.retries = retries or RetrySchedule()
        self._db_failures = 0  # consecutive failed claim-loop steps: not healthy while above zero
        self.instance = uuid.uuid4().hex[:12]
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._active = 0
        self._wake = asyncio.Event()
        self._writes = _PendingWrites()
        self._flush_lock = asyncio.Lock()
        # Batches of progress writes are numbered; a worker keeps its slot until its batch is committed, so at most
        # `concurrency` messages are ever sent but not yet recorded: the most a crash can make us send twice.
        self._batch = 0
        self._durable_upto = -1
        self._durable = asyncio.Condition()
        # Handles of uploaded files by (channel, sha256, name): a resend by handle shows the name of the upload.
        self._file_refs: dict[tuple[str, str, str], str] = {}
        self._upload_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # The last job spawned for each chat: a chat's rows go out one after another in the order they were
        # spawned (claimed by id), so two rows' parts never interleave (a late joiner's cards, then her help).
        self._chat_tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._stopping = False
        self._stop_asked = asyncio.Event()
        self._reclaim_all = reclaim_all_on_start
        self.engine = engine
        self._liveness: InstanceLock | None = None
        self._last_reclaim = 0.0
        self._runner: asyncio.Task[None] | None = None

    # -- public -------------------------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False while the claim loop cannot reach the database (readiness)."""
        return self._db_failures == 0

    def wake(self) -> None:
        self._wake.set()

    def deliver_claimed(self, rows: Iterable[Outbox]) -> None:
        """Send rows this instance claimed at creation (replies), without waiting for the next poll."""
        for row in rows:
            self._spawn(_Job.of(row))

    async def recover(self) -> None:
        """Announce this instance alive, take back what dead ones left claimed, and settle the directives whose
        deliveries all finished while nobody recorded it (a crash, an older version); call before sending anything."""
        if self.engine is not None:
            self._liveness = InstanceLock(self.engine, self.instance)
            await self._liveness.hold()
        await self._reclaim(everything=self._reclaim_all)
        async with self.sessions() as session, session.begin():
            await directives.settle(session)

    def start(self) -> None:
        self._runner = asyncio.create_task(self.run())

    async def run(self) -> None:
        flusher = asyncio.create_task(self._flush_forever())
        try:
            while not self._stopping:
                try:
                    claimed = await self._step()
                except Exception as exc:
                    # Whatever the database did, sending must go on once it is back: one line, back off, again.
                    self._db_failures += 1
                    delay = min(LOOP_MAX_BACKOFF, 0.2 * 2.0 ** min(self._db_failures, 10))
                    log.warning("outbox: database error (%s), retrying in %.1fs", reason(exc), delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_asked.wait(), timeout=delay)
                    continue
                self._db_failures = 0
                if not claimed:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=0.5)
                elif self._active >= self._concurrency:
                    await asyncio.sleep(0.01)
        finally:
            flusher.cancel()  # it only ever waits here between flushes: a flush itself is shielded

    async def _step(self) -> list[_Job]:
        """Claim what is due and start sending it; reclaim the rows of dead claimers now and then when idle."""
        claimed = await self._claim(self._concurrency - self._active)
        for job in claimed:
            self._spawn(job)
        if not claimed and time.monotonic() - self._last_reclaim > RECLAIM_EVERY:
            self._last_reclaim = time.monotonic()
            await self._reclaim(everything=False)
        return claimed

    async def stop(self) -> None:
        """Let the claim loop finish its step (never cancel it inside a transaction), then drain."""
        self._stopping = True
        self._stop_asked.set()
        self._wake.set()
        if self._runner is not None:
            await self._runner
        await self.idle()
        if self._liveness is not None:
            await self._liveness.release()

    async def idle(self) -> None:
        """Wait until nothing is in flight and all progress is written (shutdown, tests and benchmarks).

        Flushes as it waits: workers hold their slot until their progress is committed."""
        while self._tasks:
            await self.flush()
            await asyncio.wait(list(self._tasks), timeout=FLUSH_INTERVAL)
        await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            writes, self._writes = self._writes, _PendingWrites()
            taken, self._batch = self._batch, self._batch + 1
            if not writes.outbox and not writes.targets:
                await self._mark_durable(taken)
                return
            try:
                async with self.sessions() as session, session.begin():
                    for group in _by_keys(_merge(writes.outbox, ("id",))):
                        await session.execute(update(Outbox), group)
                    for group in _by_keys(_merge(writes.targets, ("directive_id", "unit_id"))):
                        await session.execute(update(DirectiveTarget), group)
                    await directives.settle(session, {t["directive_id"] for t in writes.targets})
            except Exception:
                # Keep the progress for the next flush; losing it would resend messages after a restart.
                self._writes.outbox[:0] = writes.outbox
                self._writes.targets[:0] = writes.targets
                raise
            await self._mark_durable(taken)

    async def _mark_durable(self, batch: int) -> None:
        async with self._durable:
            self._durable_upto = batch
            self._durable.notify_all()

    async def _until_durable(self, batch: int) -> None:
        async with self._durable:
            await self._durable.wait_for(lambda: self._durable_upto >= batch)

    # -- claiming -----------------------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[_Job]:
        if limit <= 0:
            return []
        now = self.clock.now()
        due = (
            select(Outbox.id)
            .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(Outbox)
            .where(Outbox.id.in_(due.scalar_subquery()))
            .values(status="sending", claimed_by=self.instance, claimed_at=now)
            .returning(Outbox)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(claim)).scalars().all()
            return sorted((_Job.of(r) for r in rows), key=lambda j: j.id)

    async def _reclaim(self, *, everything: bool) -> None:
        """Put back rows whose claimer died: all of them at a single-process start; on PostgreSQL those of instances
        whose liveness lock is free; and as a last resort those claimed longer ago than the lease."""
        stale = Outbox.status == "sending"
        async with self.sessions() as session, session.begin():
            if not everything:
                conn = await session.connection()
                dead: list[str] = []
                if conn.dialect.name == "postgresql":
                    claimers = await session.scalars(
                        select(Outbox.claimed_by).where(stale, Outbox.claimed_by != self.instance).distinct()
                    )
                    dead = await dead_instances(conn, [c for c in claimers.all() if c])
                stale = stale & (Outbox.claimed_by.in_(dead) | (Outbox.claimed_at < self.clock.now() - LEASE))
            await session.execute(
                update(Outbox)
                .where(stale)
                .values(status="pending", claimed_by=None)
                .execution_options(synchronize_session=False)
            )

    # -- sending ------------------------------------------------------------------------------------------

    def _spawn(self, job: _Job) -> None:
        self._active += 1
        key = (job.channel, job.chat_id)
        task = asyncio.create_task(self._work(job, self._chat_tails.get(key)))
        self._chat_tails[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._done)
        task.add_done_callback(lambda done: self._forget_tail(key, done))

    def _forget_tail(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._chat_tails.get(key) is task:
            del self._chat_tails[key]

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._active -= 1
        if not task.cancelled() and task.exception():
            log.error("outbox worker crashed", exc_info=task.exception())
        self._wake.set()

    async def _work(self, job: _Job, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait([after])  # only its end matters here; its outcome is its own
        async with self._slots:
            await self._until_durable(await self._deliver(job))

    async def _deliver(self, job: _Job) -> int:
        """Send the job's remaining parts; returns the write batch that records how far it got."""
        channel = self.channels.get(job.channel)
        pacer = self.pacers.get(job.channel)
        if channel is None or pacer is None:
            return self._finish(job, "failed", error=f"channel {job.channel} is not configured")
        while True:
            reply = _addressed(job, Reply.from_dict(job.parts[job.next_part]))
            await pacer.wait(job.chat_id, per_chat=job.kind != REPLY, messages=channel.message_count(reply))
            try:
                sent = await self._send_part(channel, job, reply)
            except RateLimited as exc:
                metrics.RATE_LIMITED.labels(channel=job.channel).inc()
                pacer.pause(exc.retry_after)
                return self._retry_later(job, exc.retry_after, str(exc), count_attempt=False)
            except Blocked as exc:
                return self._finish(job, "blocked", error=str(exc) or "blocked")
            except OutsideWindow as exc:
                return self._finish(job, HELD, error=str(exc) or HELD, cost=job.cost, paid=job.paid)
            except Rejected as exc:
                return self._finish(job, "failed", error=str(exc))
            except DeliveryError as exc:
                delay = self.retries.delay(job.attempts + 1)
                if delay is None:
                    return self._finish(job, "failed", error=str(exc), attempts=job.attempts + 1)
                log.warning("delivery %s to %s failed (%s), retry in %.0fs", job.id, job.channel, exc, delay)
                return self._retry_later(job, delay, str(exc))
            job.next_part += 1
            job.cost = _dearer(job.cost, sent.cost or (Cost.FREE if channel.windows is None else None))
            job.paid += sent.paid
            if job.next_part >= len(job.parts):
                return self._finish(job, "sent", message_id=sent.message_id, cost=job.cost, paid=job.paid)
            await self._until_durable(
                self._record(
                    job.id, next_part=job.next_part, claimed_at=self.clock.now(), cost=job.cost, paid=job.paid
                )
            )

    async def _send_part(self, channel: Channel, job: _Job, reply: Reply) -> Sent:
        if not reply.files:
            return await channel.send(job.chat_id, reply)
        return await self._send_files(channel, job, reply)

    async def _send_files(self, channel: Channel, job: _Job, reply: Reply) -> Sent:
        """Send a message with files, each uploaded once per channel and name: the files without a handle are
        uploaded by this send under their locks (taken in one order), and concurrent senders wait and reuse the
        handles; the others go by handle (a media group mixes both)."""
        files = reply.files
        keys = [(job.channel, *f.key) for f in files]
        refs = [await self._file_ref(key) for key in keys]
        async with contextlib.AsyncExitStack() as held:
            for key in sorted({k for k, ref in zip(keys, refs, strict=True) if ref is None}):
                await held.enter_async_context(self._upload_locks.setdefault(key, asyncio.Lock()))
            refs = [self._file_refs.get(key) for key in keys]  # uploaded by another sender while we waited
            first = refs[0] if reply.file is not None else None
            sent = await channel.send(job.chat_id, _with_refs(reply, refs), file_ref=first)
            for key, ref, new in zip(keys, refs, (sent.file_ref, *sent.group_refs), strict=False):
                if new and new != ref:
                    await self._remember_file(key, new)
        return sent

    async def _file_ref(self, key: tuple[str, str, str]) -> str | None:
        if key in self._file_refs:
            return self._file_refs[key]
        async with self.sessions() as session:
            row = await session.get(ChannelFile, key)
        if row is not None:
            self._file_refs[key] = row.ref
            return row.ref
        return None

    async def _remember_file(self, key: tuple[str, str, str], ref: str) -> None:
        self._file_refs[key] = ref
        try:
            async with self.sessions() as session, session.begin():
                row = await session.get(ChannelFile, key)
                if row is None:
                    session.add(ChannelFile(channel=key[0], sha256=key[1], name=key[2], ref=ref))
                else:
                    row.ref = ref  # the platform no longer knew the old handle and took a new upload
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Kept in memory: only another instance or a restart uploads the file once more.
            log.warning("could not store the handle of an uploaded file (%s)", reason(exc))

    # -- recording ----------------------------------------------------------------------------------------

    def _record(self, row_id: int, **values: Any) -> int:
        self._writes.outbox.append({"id": row_id, **values})
        return self._batch

    def _retry_later(self, job: _Job, delay: float, error: str, *, count_attempt: bool = True) -> int:
        attempts = job.attempts + (1 if count_attempt else 0)
        metrics.delivery(job.channel, "retried")
        return self._record(
            job.id,
            status="pending",
            next_part=job.next_part,
            attempts=attempts,
            next_attempt_at=self.clock.now() + timedelta(seconds=delay),
            claimed_by=None,
            last_error=error[:500],
        )

    def _finish(self, job: _Job, status: str, *, error: str | None = None, **extra: Any) -> int:
        now = self.clock.now()
        metrics.delivery(job.channel, status)
        values: dict[str, Any] = {"status": status, "next_part": job.next_part, "claimed_by": None}
        if status == "sent":
            values["sent_at"] = now
        if error:
            values["last_error"] = error[:500]
        batch = self._record(job.id, **values, **extra)
        if job.directive_id is not None and job.unit_id is not None and job.kind == DIRECTIVE:
            target: dict[str, Any] = {
                "directive_id": job.directive_id,
                "unit_id": job.unit_id,
                "delivery": status,
            }
            if status == "sent":
                target["delivered_at"] = now
            else:
                target["delivery_error"] = (error or status)[:500]
            self._writes.targets.append(target)
        return batch

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                # Cancelling a flush mid-transaction could lose progress and leave SQLite's write lock held.
                await asyncio.shield(self.flush())
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("could not record outbox progress; will retry")
                else:
                    log.warning("could not record outbox progress (%s); will retry", reason(exc))
                    await asyncio.sleep(0.5)


_COST_RANK: dict[str | None, int] = {None: 0, Cost.FREE: 1, Cost.QUOTA: 2, Cost.PAID: 3}


def _dearer(a: str | None, b: str | None) -> str | None:
    return a if _COST_RANK.get(a, 0) >= _COST_RANK.get(b, 0) else b


def _addressed(job: _Job, reply: Reply) -> Reply:
    """Name on the files the directive and cell this copy goes to (a download link minted for one records them)."""
    if job.directive_id is not None:
        if reply.file is not None:
            reply.file = replace(reply.file, directive_id=job.directive_id, unit_id=job.unit_id)
        reply.group = [replace(f, directive_id=job.directive_id, unit_id=job.unit_id) for f in reply.group]
    return reply


def _with_refs(reply: Reply, refs: list[str | None]) -> Reply:
    """`reply` with the known handle of each of its files (`refs` in the order of `reply.files`)."""
    files = [replace(f, ref=ref) for f, ref in zip(reply.files, refs, strict=True)]
    if reply.file is None:
        return replace(reply, group=files)
    return replace(reply, file=files[0], group=files[1:])


def _merge(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Fold several updates of one row into one, later values winning; in key order, the order in which every
    writer of many rows locks them (see services.reports.save_reports), so two never wait for each other."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        merged.setdefault(tuple(row[k] for k in key), {}).update(row)
    return [merged[k] for k in sorted(merged)]


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group same-shaped updates so each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
