"""Issue 17 benchmark: the board's web dashboard on the province data of bench.province (10,000 cells, 100
directives, 1,000,000 reports): a directive's page and the overview, each requested over HTTP from the bot's own
aiohttp application by a signed-in province board member. The time is the whole request on loopback (server time
plus a few hundred microseconds of client), the median of five after one warm-up; the target is 0.3 s each."""

from __future__ import annotations

import statistics
import tempfile
import time
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bench.broadcast import _reset_postgres
from bench.province import seed
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.runtime import settle_memory
from bot.services import web_access
from bot.web.dashboard import COOKIE, Dashboard
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.models import Person


async def _median(client: TestClient[Any, Any], path: str, cookie: str, repeat: int = 5) -> float:
    times = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        response = await client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"})
        body = await response.read()
        elapsed = time.perf_counter() - started
        assert response.status == 200, body[:300]
        if attempt:  # the first request warms the template cache and the database
            times.append(elapsed)
    return statistics.median(times)


async def web_pages(
    db_url: str | None = None, cells: int = 10_000, directives: int = 100
) -> dict[str, float]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite+aiosqlite:///{tmp}/province.db"
        if db_url:
            await _reset_postgres(db_url)
        engine = make_engine(url)
        await migrate(engine)
        started = time.perf_counter()
        await seed(engine, clock, cells, directives)
        seeding = time.perf_counter() - started
        settle_memory()
        sessions = make_sessionmaker(engine)
        async with transaction(sessions) as session:
            board = await session.get(Person, cells + 1)
            assert board is not None
            link = await web_access.issue_link(session, clock, board, "http://bench", "bench")
            assert link is not None
            opened = await web_access.redeem(session, clock, link.split("t=", 1)[1], "bench")
            assert opened is not None
        host = SimpleNamespace(
            settings=settings, clock=clock, sessions=sessions, sender=SimpleNamespace(wake=lambda: None)
        )
        app = web.Application()
        Dashboard(host).install(app)  # type: ignore[arg-type]
        async with TestClient(TestServer(app)) as client:
            figures = {
                "seeding_s": seeding,
                "directive_page_s (target 0.3)": await _median(
                    client, f"/web/van-ban/{directives // 2}", opened.key
                ),
                "directive_page_missing_filter_s": await _median(
                    client, f"/web/van-ban/{directives}?loc=missing", opened.key
                ),
                "overview_s (target 0.3)": await _median(client, "/web/", opened.key),
            }
        await engine.dispose()
    return figures
