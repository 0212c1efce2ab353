"""A directive broadcast over the fake Zalo OA to 1,000 cells whose secretaries last interacted at different times:
the forecast the board saw before sending, and what the OA then charged (free, monthly quota, paid) and who was
held or refused.

The mix: 40% interacted a day ago (free window), 30% four days ago (quota, then paid), 20% ten days ago (past the
7-day limit: held), 10% a day ago but have since unfollowed (refused as blocked; the forecast cannot know this
before a delivery finds it out). Users age on the fake's clock, which is the bot's; the database's last_seen is
seeded at the same moments, as the dispatcher would have recorded their interactions.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, insert, select

from bench.broadcast import _reset_postgres, draft_with_attachment, wait_delivered
from bench.seed import seed_province
from bench.util import free_port
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.fakes.zalo_oa_rules import Policy
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.runtime import Runtime
from bot.services import directives, reach
from bot.services.files import FileStore
from bot.services.forms_store import install_builtin_forms
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.models import ChannelAccount, Outbox

START = datetime(2024, 4, 3, 2, 0, tzinfo=UTC)
QUOTA = 200  # the OA package's monthly quota of messages outside the window
PRICE = 55
# (share of the cells, days since the last interaction, unfollowed since)
MIX = (("within 48 h", 0.4, 1.0, False), ("within 7 days", 0.3, 4.0, False), ("older", 0.2, 10.0, False))
UNFOLLOWED = ("unfollowed", 0.1, 1.0, True)


def _groups(cells: int) -> list[tuple[str, float, bool]]:
    """Each cell's (group, days since the last interaction, unfollowed)."""
    out: list[tuple[str, float, bool]] = []
    for name, share, days, gone in (*MIX, UNFOLLOWED):
        out.extend([(name, days, gone)] * round(cells * share))
    return out[:cells]


async def oa_broadcast(cells: int = 1_000, db_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if db_url:
            await _reset_postgres(db_url)
        clock = Clock.starting_at(START)
        fake = FakeZaloOA(clock=clock, oa_secret_key="oa-webhook-key", policy=Policy(monthly_quota=QUOTA))
        await fake.start()
        try:
            return await _run(cells, url, Path(tmp), clock, fake)
        finally:
            await fake.stop()


async def _run(cells: int, url: str, tmp: Path, clock: Clock, fake: FakeZaloOA) -> dict[str, Any]:
    engine = make_engine(url)
    await migrate(engine)
    cell_ids = await seed_province(engine, clock, cells, registered=False)
    groups = _groups(cells)
    await _age_users(engine, clock, fake, groups)
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **fake.bot_settings(),  # type: ignore[arg-type]
        zalo_oa_price_vnd=PRICE,
        zalo_oa_monthly_quota=QUOTA,
        public_url="https://chibo.example.vn",
        webhook_secret=SecretStr("a-webhook-secret"),
        listen_host="127.0.0.1",
        listen_port=port,
        database_url=url,
        data_dir=tmp / "data",
        zalo_chat_interval=0,
        zalo_rate=0,  # costs are measured here, not pacing
        sender_concurrency=100,
    )
    runtime = Runtime.build(settings, clock=clock, engine=engine)
    sessions = make_sessionmaker(engine)
    await install_builtin_forms(sessions, clock)
    store = FileStore(settings.files_dir, 50 * 1024 * 1024)
    async with transaction(sessions) as session:
        directive, form = await draft_with_attachment(session, clock, store)
        forecast = await reach.forecast_broadcast(session, clock, runtime.channels, directive, cell_ids, form)
        await directives.queue_broadcast(session, clock, directive, cell_ids, form, actor="bench")
        directive_id = directive.id
    started = time.perf_counter()
    await runtime.start(migrate_db=False)
    fake.set_webhook(f"http://127.0.0.1:{port}/zalo-oa/webhook")
    await wait_delivered(runtime, directive_id, poll=0.05)
    await runtime.sender.idle()
    seconds = time.perf_counter() - started
    actual = await _actual(runtime, directive_id, reach.channel_windows(runtime.channels))
    await runtime.stop()
    await engine.dispose()
    [oa] = forecast.channels
    return {
        "cells": cells,
        "messages per delivery": oa.messages,
        "forecast: free / quota / paid / unreachable (7 days, not following)": (
            f"{oa.free} / {oa.quota} / {oa.paid} / {oa.unreachable} ({oa.silent}, {oa.not_following})"
        ),
        "forecast paid messages": oa.paid_messages,
        "forecast VND": oa.vnd,
        "actual deliveries: free / quota / paid / held / blocked / failed": actual["deliveries"],
        "actual paid messages": actual["paid_messages"],
        "actual VND (our rows)": actual["vnd"],
        "fake OA ledger: quota messages / paid messages": f"{sum(fake.rules.ledger.sub_quota.values())} / "
        f"{fake.rules.ledger.paid}",
        "fake OA: VND at price": fake.rules.ledger.paid * PRICE,
        "seconds": round(seconds, 2),
    }


async def _age_users(
    engine: Any, clock: Clock, fake: FakeZaloOA, groups: list[tuple[str, float, bool]]
) -> None:
    """Make each user interact on the fake's clock at their moment (oldest first), then come back to now."""
    accounts = []
    back = timedelta()
    by_age: dict[float, list[int]] = {}
    for i, (_name, days, _gone) in enumerate(groups):
        by_age.setdefault(days, []).append(i)
    for days in sorted(by_age, reverse=True):
        clock.advance(-timedelta(days=days) - back)  # the clock keeps running: retries still come due
        back = -timedelta(days=days)
        for i in by_age[days]:
            user = fake.user(f"oa-{i}", f"Bí thư {i + 1}")
            await user.follow()  # no webhook yet: only the fake's window opens
            accounts.append(
                {
                    "person_id": i + 1,
                    "channel": "zalo_oa",
                    "user_id": user.id,
                    "chat_id": user.id,
                    "display_name": f"BT {i + 1}",
                    "linked_at": clock.now(),
                    "last_seen_at": clock.now(),
                    "active": True,
                }
            )
    clock.advance(-back)
    for i, (_name, _days, gone) in enumerate(groups):
        if gone:
            await fake.users[f"oa-{i}"].unfollow()
    fake.webhook_errors.clear()
    async with engine.begin() as conn:
        await conn.execute(insert(ChannelAccount), accounts)


async def _actual(runtime: Runtime, directive_id: int, windows: Any) -> dict[str, Any]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(Outbox.status, Outbox.cost, func.count(), func.sum(Outbox.paid))
            .where(Outbox.directive_id == directive_id)
            .group_by(Outbox.status, Outbox.cost)
        )
        counts: dict[str, int] = {}
        paid_messages = 0
        for status, cost, count, paid in rows.all():
            key = cost if status == "sent" else status
            counts[str(key)] = counts.get(str(key), 0) + count
            paid_messages += int(paid or 0)
        spent = await reach.spent(session, windows, directive_id)
    order = ("free", "quota", "paid", "held", "blocked", "failed")
    return {
        "deliveries": " / ".join(str(counts.get(k, 0)) for k in order),
        "paid_messages": paid_messages,
        "vnd": spent.vnd if spent else 0,
    }
