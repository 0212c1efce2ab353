"""Health, readiness and metrics on the bot's web server, for a load balancer, systemd or Prometheus.

- `/healthz`: the process answers (200), nothing else is checked, so a slow database never gets it restarted.
- `/readyz`: the database answers within CHIBO_READY_TIMEOUT seconds, every channel is receiving, and fewer than
  CHIBO_READY_BACKLOG outbox messages wait; otherwise 503 with a JSON body naming each failed check.
- `/metrics`: the counters of bot.core.metrics in Prometheus' text format; the outbox figures are read by one
  query at scrape time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import metrics
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Channel
from storage.models import Outbox

log = logging.getLogger(__name__)

WAITING = ("pending", "sending")


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest_seconds: float


@dataclass
class Health:
    engine: AsyncEngine
    channels: Mapping[str, Channel]
    settings: Settings
    clock: Clock
    # False while incoming events or the sender wait for the database (Runtime.ready), retrying with back-off.
    unhindered: Callable[[], bool] = field(default=lambda: True)

    def install(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        failed: dict[str, str] = {}
        try:
            backlog = await asyncio.wait_for(self.backlog(), self.settings.ready_timeout)
        except Exception as exc:  # any failure to read means the database is not usable now
            failed["database"] = f"unreachable: {type(exc).__name__}"
            backlog = None
        if "database" not in failed and not self.unhindered():
            failed["database"] = "events or deliveries waiting for it (retrying)"
        if backlog is not None and backlog.waiting >= self.settings.ready_backlog:
            failed["outbox"] = f"{backlog.waiting} messages waiting (limit {self.settings.ready_backlog})"
        for name, channel in self.channels.items():
            if not getattr(channel, "receiving", True):
                failed[f"channel:{name}"] = "not receiving"
        if failed:
            log.warning("not ready: %s", "; ".join(f"{k} {v}" for k, v in failed.items()))
            return web.json_response({"status": "not ready", "failed": failed}, status=503)
        body: dict[str, Any] = {"status": "ready"}
        if backlog is not None:
            body["outbox"] = backlog.waiting
        return web.json_response(body)

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            backlog = await asyncio.wait_for(self.backlog(), self.settings.ready_timeout)
        except Exception as exc:
            log.warning("metrics: outbox figures unavailable (%s)", type(exc).__name__)
        else:
            metrics.OUTBOX_BACKLOG.set(backlog.waiting)
            metrics.OUTBOX_OLDEST_SECONDS.set(backlog.oldest_seconds)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def backlog(self) -> Backlog:
        """How many outbox messages wait and since when: one query on the status index."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.min(Outbox.created_at)).where(Outbox.status.in_(WAITING))
                )
            ).one()
        waiting, oldest = int(row[0]), row[1]
        if oldest is None:
            return Backlog(waiting, 0.0)
        if isinstance(oldest, str):  # SQLite hands an aggregate back as text
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return Backlog(waiting, max(0.0, (self.clock.now() - oldest).total_seconds()))
