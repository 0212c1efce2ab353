"""Turns incoming events into handler calls: once per update, in order per user, concurrently across users.

Each event runs in one database transaction: the update id is recorded (so a webhook retry is a no-op), the sender's
account and roles are loaded, the router runs, and the answers are written to the outbox; after the commit the
answers are sent at once by the outbox sender.

Events a batch lane accepts (one-message reports, which arrive by the hundred near a deadline) are first offered to
it together: the events waiting at that moment share one transaction, in which the dispatcher records their update
ids before the lane sees them, and whatever the lane leaves goes the ordinary way. Under light load a batch is a single event, so nobody waits for others to arrive.

Faults: an event whose transaction fails for a transient reason (the database unreachable, locked, its connection
cut) is tried again with back-off, in order with the same user's later events, for up to `patience` seconds; past
that its future raises `NotStored` so the channel does not confirm it and the platform hands it over again. While
any event waits so, the dispatcher is not `healthy` (readiness). An update a channel could not read at all
(`Unreadable`) is set aside in `set_aside_updates` and counted; a handler's own bug is logged with its traceback
and the user gets an apology, since trying again would fail the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from bot.core import metrics
from bot.core.events import Incoming, NotStored, Unreadable, scrubbed
from bot.services.choices import resolve_typed_choice
from bot.services.outbox import REPLY, enqueue, release_held
from bot.services.updates import first_times, forget, set_aside
from handlers.context import Context
from handlers.lane import BatchLane
from messages import common
from storage.db import transaction
from storage.faults import is_transient, reason
from storage.models import ChannelAccount, Outbox, Role

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
LAST_SEEN_GRANULARITY = timedelta(minutes=1)

BATCH_LIMIT = 100
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 5.0

Router = Callable[[Context], Awaitable[None]]


class Dispatcher:
    def __init__(
        self, runtime: Runtime, router: Router, lane: BatchLane | None = None, *, patience: float = 30.0
    ) -> None:
        self.runtime = runtime
        self.patience = patience
        self.router = router
        self.lane = lane
        self._queues: dict[tuple[str, str], deque[tuple[Incoming, asyncio.Future[None]]]] = {}
        self._drains: set[asyncio.Task[None]] = set()
        self._offered: list[tuple[Incoming, asyncio.Future[bool]]] = []
        self._batches: asyncio.Task[None] | None = None
        # How the lane is doing (logged, and read by tests): batches run, events offered and events it handled.
        self.lane_counts: Counter[str] = Counter()
        # Faults met: "retried" (attempts that failed for a transient reason), "not_stored" (events given back to
        # the channel unconfirmed), "set_aside" (unreadable updates kept for inspection).
        self.fault_counts: Counter[str] = Counter()
        self._waiting = 0  # events now waiting for the database to come back

    @property
    def healthy(self) -> bool:
        """False while some event waits for the database (readiness)."""
        return self._waiting == 0

    def submit(self, event: Incoming) -> asyncio.Future[None]:
        """Queue `event` behind earlier events of the same user; the future resolves once it is handled."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        event = scrubbed(event)
        key = (event.channel.value, event.user_id)
        queue = self._queues.get(key)
        if queue is None:
            self._queues[key] = queue = deque()
            task = asyncio.create_task(self._drain(key, queue))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        queue.append((event, done))
        return done

    async def handle(self, event: Incoming | Unreadable) -> None:
        """Return once `event` is stored (or set aside); raise NotStored if a transient fault outlasted patience."""
        if isinstance(event, Unreadable):
            await self._set_aside(event)
            return
        await self.submit(event)

    async def _set_aside(self, event: Unreadable) -> None:
        log.warning("update %s of %s set aside: %s", event.update_id, event.channel, event.reason)

        async def keep() -> None:
            async with transaction(self.runtime.sessions) as session:
                set_aside(session, self.runtime.clock, event)

        await self._patiently(keep, f"set-aside update {event.update_id}")
        self.fault_counts["set_aside"] += 1
        metrics.EVENTS_SET_ASIDE.inc()

    async def _patiently(self, attempt: Callable[[], Awaitable[None]], what: str) -> None:
        """Run `attempt` until it succeeds; a transient failure is tried again with back-off, within patience."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        delay = FIRST_BACKOFF
        waiting = False
        try:
            while True:
                try:
                    await attempt()
                    return
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    self.fault_counts["retried"] += 1
                    if loop.time() + delay > give_up:
                        self.fault_counts["not_stored"] += 1
                        log.warning(
                            "%s not stored, left to the platform to hand over again: %s", what, reason(exc)
                        )
                        raise NotStored(reason(exc)) from exc
                    log.warning("%s: database unavailable (%s), retrying in %.1fs", what, reason(exc), delay)
                    if not waiting:
                        waiting = True
                        self._waiting += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        finally:
            if waiting:
                self._waiting -= 1

    async def idle(self) -> None:
        """Wait until every queued event is handled (shutdown, tests)."""
        while self._drains:
            await asyncio.gather(*list(self._drains), return_exceptions=True)

    async def _drain(self, key: tuple[str, str], queue: deque[tuple[Incoming, asyncio.Future[None]]]) -> None:
        try:
            while queue:
                event, done = queue[0]
                try:
                    await self._patiently(partial(self._offer_or_handle, event), f"event {event.update_id}")
                except NotStored as exc:
                    # Later events of this user wait behind it, so they go back unconfirmed with it, in order.
                    for _, later in queue:
                        if not later.done():
                            later.set_exception(NotStored(str(exc)))
                    queue.clear()
                    break
                except Exception:
                    log.exception("event %s of %s failed", event.update_id, event.channel)
                    await self._apologise(event)
                queue.popleft()
                if not done.done():
                    done.set_result(None)
        finally:
            del self._queues[key]

    async def _offer_or_handle(self, event: Incoming) -> None:
        if not await self._offer(event):
            await self._handle(event)

    async def _handle(self, event: Incoming) -> None:
        runtime = self.runtime
        if event.callback_id:
            channel = runtime.channels.get(event.channel)
            if channel is not None:
                await _quietly(channel.answer_button(event.callback_id))
        async with transaction(runtime.sessions) as session:
            if not (await first_times(session, runtime.clock, [event]))[0]:
                return
            channel = runtime.channels.get(event.channel)
            if channel is not None and not channel.has_buttons:
                event = await resolve_typed_choice(session, event)
            ctx = Context(event=event, session=session, runtime=runtime)
            await _load_identity(ctx)
            await self.router(ctx)
            rows = _outbox_rows(ctx, runtime.sender.instance)
        self._committed([ctx], rows)

    def _committed(self, ctxs: list[Context], rows: list[Outbox]) -> None:
        """Send the answers the handlers wrote to the outbox and run their after-commit hooks."""
        sender = self.runtime.sender
        sender.deliver_claimed(r for r in rows if r.claimed_by is not None)
        if any(row.claimed_by is None for row in rows):
            sender.wake()
        for ctx in ctxs:
            for hook in ctx.after_commit:
                hook()

    async def _offer(self, event: Incoming) -> bool:
        """Hand `event` to the batch lane with whatever else is waiting; True once the lane has handled it."""
        if self.lane is None or not self.lane.accepts(event):
            return False
        taken: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._offered.append((event, taken))
        if self._batches is None:
            self._batches = asyncio.create_task(self._run_batches())
        return await taken

    async def _run_batches(self) -> None:
        try:
            while self._offered:
                batch, self._offered = self._offered[:BATCH_LIMIT], self._offered[BATCH_LIMIT:]
                # Should even the batch's own fallback fail, every event still goes the ordinary way.
                handled = [False] * len(batch)
                try:
                    handled = await self._handle_batch([event for event, _ in batch])
                finally:
                    for (_, taken), done in zip(batch, handled, strict=True):
                        if not taken.done():  # its drain may have been cancelled (shutdown)
                            taken.set_result(done)
        finally:
            self._batches = None

    async def _handle_batch(self, events: list[Incoming]) -> list[bool]:
        """Record the batch's update ids, hand the events seen for the first time to the lane, and forget the
        records of those it leaves: the ordinary route records them with its own effects. A retry is handled
        as done, with nothing more to do."""
        assert self.lane is not None
        runtime = self.runtime
        try:
            async with transaction(runtime.sessions) as session:
                first = await first_times(session, runtime.clock, events)
                fresh = [event for event, new in zip(events, first, strict=True) if new]
                ctxs = [Context(event=event, session=session, runtime=runtime) for event in fresh]
                taken: list[bool] = []
                if ctxs:
                    await _load_identities(ctxs)
                    taken = await self.lane.handle(ctxs)
                left = [ctx.event for ctx, done in zip(ctxs, taken, strict=True) if not done]
                await forget(session, left)
                ctxs = [ctx for ctx, done in zip(ctxs, taken, strict=True) if done]
                for ctx in ctxs:
                    await _touch(ctx)
                rows = [row for ctx in ctxs for row in _outbox_rows(ctx, runtime.sender.instance)]
        except Exception as exc:
            # Nothing of the batch was kept: each event goes the ordinary way, in its own transaction.
            if is_transient(exc):
                log.warning("a batch of %d events was not stored (%s); one by one", len(events), reason(exc))
            else:
                log.exception("a batch of %d events failed; handling them one by one", len(events))
            return [False] * len(events)
        self._committed(ctxs, rows)
        handled_ids = {id(ctx.event) for ctx in ctxs}
        handled = [not new or id(event) in handled_ids for event, new in zip(events, first, strict=True)]
        self.lane_counts.update(batches=1, offered=len(events), handled=sum(handled))
        log.debug("batch of %d events: %d handled by the lane", len(events), sum(handled))
        return handled

    async def _apologise(self, event: Incoming) -> None:
        try:
            async with transaction(self.runtime.sessions) as session:
                enqueue(
                    session,
                    self.runtime.clock,
                    event.channel,
                    event.chat_id,
                    [common.reply(common.INTERNAL_ERROR)],
                    kind=REPLY,
                )
            self.runtime.sender.wake()
        except Exception as exc:
            if is_transient(exc):
                log.warning("could not apologise to %s: %s", event.user_id, reason(exc))
            else:
                log.exception("could not even apologise to %s", event.user_id)


async def _load_identity(ctx: Context) -> None:
    await _load_identities([ctx])
    await _touch(ctx)


async def _load_identities(ctxs: Sequence[Context]) -> None:
    """Each event's active account, person and roles, in two queries whatever the number of events."""
    session = ctxs[0].session
    pairs = {(ctx.event.channel.value, ctx.event.user_id) for ctx in ctxs}
    accounts = {
        (a.channel, a.user_id): a
        for a in await session.scalars(
            select(ChannelAccount)
            .where(
                tuple_(ChannelAccount.channel, ChannelAccount.user_id).in_(pairs),
                ChannelAccount.active.is_(True),
            )
            .options(joinedload(ChannelAccount.person))
        )
    }
    if not accounts:
        return
    roles: dict[int, list[Role]] = {}
    person_ids = {a.person_id for a in accounts.values()}
    for role in await session.scalars(select(Role).where(Role.person_id.in_(person_ids)).order_by(Role.id)):
        roles.setdefault(role.person_id, []).append(role)
    for ctx in ctxs:
        account = accounts.get((ctx.event.channel.value, ctx.event.user_id))
        if account is not None:
            ctx.account, ctx.person = account, account.person
            ctx.roles = list(roles.get(account.person_id, []))


async def _touch(ctx: Context) -> None:
    """Note when the account (if any) was last used and where it writes from; on a channel with windows, every
    event (a message, a button press such as «Đã nhận», the phone form) is an interaction that opens a new one, so
    the deliveries held for this user go now.

    last_seen_at is written at most once a minute: forecasts read it against windows of hours and days, and a
    minute's lag only makes them count a window closed up to a minute early. Releasing does not wait on it."""
    account = ctx.account
    if account is None:
        return
    now = ctx.clock.now()
    if (
        now - account.last_seen_at > LAST_SEEN_GRANULARITY
    ):  # "used last" needs minutes, not a write per message
        account.last_seen_at = now
    if account.chat_id != ctx.event.chat_id:
        account.chat_id = ctx.event.chat_id
    channel = ctx.runtime.channels.get(ctx.event.channel)
    windowed = channel is not None and channel.windows is not None
    if windowed and await release_held(ctx.session, ctx.clock, ctx.event.channel, ctx.event.chat_id):
        ctx.after_commit.append(ctx.runtime.sender.wake)


def _outbox_rows(ctx: Context, claimer: str) -> list[Outbox]:
    """The handler's answers, born claimed by `claimer` (this instance's sender) to go out at once, and its pushes."""
    runtime = ctx.runtime
    rows: list[Outbox] = []
    if ctx.replies:
        rows.append(
            enqueue(
                ctx.session,
                runtime.clock,
                ctx.event.channel,
                ctx.event.chat_id,
                ctx.replies,
                kind=REPLY,
                claimed_by=claimer,
            )
        )
    for push in ctx.pushes:
        rows.append(
            enqueue(ctx.session, runtime.clock, push.channel, push.chat_id, [push.reply], kind=push.kind)
        )
    return rows


async def _quietly(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.debug("button answer failed", exc_info=True)
