"""Turns incoming events into handler calls: once per update, in order per user, concurrently across users.

Each event runs in one database transaction: the update id is recorded (so a webhook retry is a no-op), the sender's
account and roles are loaded, the router runs, and the answers are written to the outbox; after the commit the
answers are sent at once by the outbox sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.channels.base import Incoming
from bot.choices import resolve_typed_choice
from bot.context import Context
from bot.outbox import REPLY, enqueue
from messages import common
from storage.db import transaction
from storage.models import ChannelAccount, Outbox, ProcessedUpdate, Role

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
LAST_SEEN_GRANULARITY = timedelta(minutes=1)

Router = Callable[[Context], Awaitable[None]]


class Dispatcher:
    def __init__(self, runtime: Runtime, router: Router) -> None:
        self.runtime = runtime
        self.router = router
        self._queues: dict[tuple[str, str], deque[tuple[Incoming, asyncio.Future[None]]]] = {}
        self._drains: set[asyncio.Task[None]] = set()

    def submit(self, event: Incoming) -> asyncio.Future[None]:
        """Queue `event` behind earlier events of the same user; the future resolves once it is handled."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key = (event.channel.value, event.user_id)
        queue = self._queues.get(key)
        if queue is None:
            self._queues[key] = queue = deque()
            task = asyncio.create_task(self._drain(key, queue))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        queue.append((event, done))
        return done

    async def handle(self, event: Incoming) -> None:
        await self.submit(event)

    async def idle(self) -> None:
        """Wait until every queued event is handled (shutdown, tests)."""
        while self._drains:
            await asyncio.gather(*list(self._drains), return_exceptions=True)

    async def _drain(self, key: tuple[str, str], queue: deque[tuple[Incoming, asyncio.Future[None]]]) -> None:
        try:
            while queue:
                event, done = queue[0]
                try:
                    await self._handle(event)
                except Exception:
                    log.exception("event %s of %s failed", event.update_id, event.channel)
                    await self._apologise(event)
                finally:
                    queue.popleft()
                    if not done.done():
                        done.set_result(None)
        finally:
            del self._queues[key]

    async def _handle(self, event: Incoming) -> None:
        runtime = self.runtime
        if event.callback_id:
            channel = runtime.channels.get(event.channel)
            if channel is not None:
                await _quietly(channel.answer_button(event.callback_id))
        async with transaction(runtime.sessions) as session:
            if not await _first_time(session, event, runtime):
                return
            channel = runtime.channels.get(event.channel)
            if channel is not None and not channel.has_buttons:
                event = await resolve_typed_choice(session, event)
            ctx = Context(event=event, session=session, runtime=runtime)
            await _load_identity(ctx)
            await self.router(ctx)
            rows = _outbox_rows(ctx)
        runtime.sender.deliver_claimed(r for r in rows if r.claimed_by is not None)
        if any(row.claimed_by is None for row in rows):
            runtime.sender.wake()
        for hook in ctx.after_commit:
            hook()

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
        except Exception:
            log.exception("could not even apologise to %s", event.user_id)


async def _first_time(session: AsyncSession, event: Incoming, runtime: Runtime) -> bool:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate)
        .values(channel=event.channel.value, update_key=event.update_id, at=runtime.clock.now())
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def _load_identity(ctx: Context) -> None:
    event = ctx.event
    account = await ctx.session.scalar(
        select(ChannelAccount)
        .where(
            ChannelAccount.channel == event.channel,
            ChannelAccount.user_id == event.user_id,
            ChannelAccount.active.is_(True),
        )
        .options(joinedload(ChannelAccount.person))
    )
    if account is None:
        return
    now = ctx.clock.now()
    if (
        now - account.last_seen_at > LAST_SEEN_GRANULARITY
    ):  # "used last" needs minutes, not a write per message
        account.last_seen_at = now
    if account.chat_id != event.chat_id:
        account.chat_id = event.chat_id
    ctx.account = account
    ctx.person = account.person
    ctx.roles = list(
        (await ctx.session.scalars(select(Role).where(Role.person_id == account.person_id))).all()
    )


def _outbox_rows(ctx: Context) -> list[Outbox]:
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
                claimed_by=runtime.sender.instance,
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
