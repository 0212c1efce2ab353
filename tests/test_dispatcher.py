"""The dispatcher: one user's updates are handled in order, different users' concurrently, each update once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.core.events import ChannelName, Incoming
from bot.runtime import Runtime
from handlers.context import Context
from handlers.lane import BatchLane


def event(update_id: int, user: str, text: str) -> Incoming:
    return Incoming(
        channel=ChannelName.TELEGRAM,
        update_id=str(update_id),
        user_id=user,
        chat_id=user,
        display_name=user,
        date=datetime.now(UTC),
        text=text,
    )


async def test_in_order_per_user_and_concurrent_across_users(bot: Runtime) -> None:
    log: list[str] = []
    slow_started = asyncio.Event()

    async def router(ctx: Context) -> None:
        text = ctx.event.text or ""
        log.append(f"start {text}")
        if text == "a1":
            slow_started.set()
            await asyncio.sleep(0.3)
        log.append(f"end {text}")

    bot.dispatcher.router = router
    first = bot.dispatcher.submit(event(1, "A", "a1"))
    second = bot.dispatcher.submit(event(2, "A", "a2"))
    await slow_started.wait()
    other = bot.dispatcher.submit(event(3, "B", "b1"))
    await asyncio.gather(first, second, other)
    assert log.index("end a1") < log.index("start a2")  # A in order
    assert log.index("end b1") < log.index("start a2")  # B is not queued behind A's later updates
    if bot.engine.dialect.name == "postgresql":
        # With concurrent transactions B does not even wait for A's slow one (SQLite has one writer at a time).
        assert log.index("end b1") < log.index("end a1")
    duplicate = bot.dispatcher.submit(event(1, "A", "a1"))
    await duplicate
    assert log.count("start a1") == 1  # the same update id is handled once


async def test_the_dispatcher_records_a_batch_and_the_lane_sees_each_update_once(bot: Runtime) -> None:
    routed: list[str] = []
    laned: list[str] = []

    async def router(ctx: Context) -> None:
        routed.append(ctx.event.text or "")

    async def handle(ctxs: list[Context]) -> list[bool]:
        laned.extend(ctx.event.text or "" for ctx in ctxs)
        return [(ctx.event.text or "").startswith("lane") for ctx in ctxs]

    bot.dispatcher.router = router
    bot.dispatcher.lane = BatchLane(accepts=lambda _event: True, handle=handle)
    batch = [event(1, "A", "lane a"), event(2, "B", "route b")]
    await asyncio.gather(*(bot.dispatcher.submit(e) for e in batch))
    assert laned == ["lane a", "route b"]
    assert routed == ["route b"]  # left by the lane: its update id was forgotten, the route recorded it
    await asyncio.gather(*(bot.dispatcher.submit(e) for e in batch))  # webhook retries of both
    assert laned == ["lane a", "route b"] and routed == ["route b"]
    assert bot.dispatcher.lane_counts["handled"] == 3  # "lane a", then both retries (nothing more to do)
