"""Issue 3 benchmarks: broadcast throughput against bare aiohttp and PTB over HTTPX, pacing under Telegram's
limits, and a hard crash half-way through a broadcast."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.seed import CHAT_BASE, seed_province
from bench.util import ROOT, TOKEN, Meter, fake_telegram_process, free_port, peak_rss_mb
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.runtime import Runtime, settle_memory
from bot.services import directives
from bot.services.files import FileStore
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form, install_builtin_forms
from storage.db import make_engine, make_sessionmaker, migrate, transaction
from storage.models import Directive, DirectiveTarget

ATTACHMENT = b"%PDF-1.4\n" + os.urandom(40_000)
# What one cell receives of the benchmarks' directive on Telegram: its attachment, the card as its caption.
PER_CELL = 1


def settings_for(db_url: str, data_dir: Path, api_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_token": SecretStr(TOKEN),
        "telegram_api_url": api_url,
        "database_url": db_url,
        "data_dir": data_dir,
        "telegram_rate": 0,
        "telegram_chat_interval": 0,
        "sender_concurrency": 200,
        # The bot's web server listens in every mode (health, metrics): on a free local port, not 8080.
        "listen_host": "127.0.0.1",
        "listen_port": free_port(),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def draft_with_attachment(
    session: AsyncSession, clock: Clock, store: FileStore
) -> tuple[Directive, FormSpec]:
    """The benchmarks' directive: a draft with one 40 KB attachment, and its report form."""
    directive = Directive(
        number="747-CV/ĐUK",
        doc_type="CV",
        subject="Benchmark",
        status="draft",
        created_at=clock.now(),
        form_key="sinh-hoat-chinh-tri",
    )
    session.add(directive)
    await session.flush()
    stored = await store.save(session, clock, ATTACHMENT, "tai-lieu.pdf", "application/pdf")
    await directives.attach(session, directive.id, stored)
    return directive, await get_form(session, directive.form_key)


async def prepare(db_url: str, data_dir: Path, cells: int) -> int:
    """A migrated database with `cells` registered cells and one directive (card + attachment) queued to all."""
    clock = Clock()
    engine = make_engine(db_url)
    await migrate(engine)
    sessions = make_sessionmaker(engine)
    await install_builtin_forms(sessions, clock)
    cell_ids = await seed_province(engine, clock, cells)
    store = FileStore(data_dir / "files", 50 * 1024 * 1024)
    async with transaction(sessions) as session:
        directive, form = await draft_with_attachment(session, clock, store)
        await directives.queue_broadcast(session, clock, directive, cell_ids, form, actor="bench")
        directive_id = directive.id
    await engine.dispose()
    return directive_id


async def pending(runtime: Runtime, directive_id: int) -> int:
    async with runtime.sessions() as session:
        return (
            await session.scalar(
                select(func.count()).where(
                    DirectiveTarget.directive_id == directive_id, DirectiveTarget.delivery == "pending"
                )
            )
            or 0
        )


async def wait_delivered(runtime: Runtime, directive_id: int, poll: float = 0.2) -> None:
    while await pending(runtime, directive_id):
        await asyncio.sleep(poll)


# -- 1. throughput ---------------------------------------------------------------------------------------------


async def bare_aiohttp(api_url: str, n: int, concurrency: int) -> float:
    url = f"{api_url}/bot{TOKEN}/sendMessage"
    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(i: int) -> None:
            async with (
                sem,
                session.post(url, json={"chat_id": CHAT_BASE + i % 10_000, "text": f"Tin {i}"}) as r,
            ):
                await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


async def ptb_httpx(api_url: str, n: int, concurrency: int) -> float:
    from telegram import Bot

    bot = Bot(TOKEN, base_url=f"{api_url}/bot")  # PTB's default transport: HTTPXRequest
    sem = asyncio.Semaphore(concurrency)
    async with bot:

        async def one(i: int) -> None:
            async with sem:
                await bot.send_message(CHAT_BASE + i % 10_000, f"Tin {i}")

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


async def prepare_elsewhere(db_url: str, data_dir: Path, cells: int) -> int:
    """`prepare` in a child process, so seeding does not count in this process's peak memory."""
    code = (
        "import asyncio, sys; from pathlib import Path; from bench.broadcast import prepare; "
        "print(asyncio.run(prepare(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))))"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        db_url,
        str(data_dir),
        str(cells),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError("preparing the benchmark database failed")
    return int(out.decode().split()[-1])


async def throughput(cells: int = 10_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        directive_id = await prepare_elsewhere(db_url, Path(tmp), cells)
        async with fake_telegram_process("--global-rate", "off", "--per-chat-rate", "off") as api_url:
            runtime = Runtime.build(settings_for(db_url, Path(tmp), api_url))
            settle_memory()  # as `chibo run` does (here before start: sending begins at once)
            with Meter() as m:
                await runtime.start(migrate_db=False)
                await wait_delivered(runtime, directive_id, poll=0.05)
            await runtime.stop()
            messages = cells * PER_CELL
            ours = messages / m.wall
            rss = peak_rss_mb()
            bare = await bare_aiohttp(api_url, 10_000, 200)
            httpx = await ptb_httpx(api_url, 5_000, 200)
    return {
        "messages": messages,
        "seconds": m.wall,
        "msg_per_s": ours,
        "cpu_s": m.cpu,
        "peak_rss_mb": rss,
        "bare_aiohttp_msg_per_s": bare,
        "ptb_httpx_msg_per_s": httpx,
        "ratio_vs_ptb_httpx": ours / httpx,
        "ratio_vs_bare_aiohttp": ours / bare,
    }


# -- 2. pacing -------------------------------------------------------------------------------------------------


async def paced_delivery(cells: int, rate: float, poll: float) -> tuple[float, dict[str, Any]]:
    """One directive to `cells` cells through the fake at Telegram's limits (30 msg/s overall, 1 msg/s per chat), the
    sender paced at `rate`: the wall time until every delivery is recorded, and the fake's counters."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        directive_id = await prepare(db_url, Path(tmp), cells)
        async with fake_telegram_process("--global-rate", "30", "--per-chat-rate", "1") as api_url:
            runtime = Runtime.build(
                settings_for(db_url, Path(tmp), api_url, telegram_rate=rate, telegram_chat_interval=1.0)
            )
            with Meter() as m:
                await runtime.start(migrate_db=False)
                await wait_delivered(runtime, directive_id, poll=poll)
            await runtime.stop()
            async with aiohttp.ClientSession() as s, s.get(f"{api_url}/_fake/state") as r:
                state = await r.json()
    return m.wall, state


async def pacing(cells: int = 450, rate: float = 29.7) -> dict[str, float]:
    """The fake enforces 30 msg/s overall and 1 msg/s per chat; the sender is paced at `rate`."""
    wall, state = await paced_delivery(cells, rate, poll=0.05)
    messages = cells * PER_CELL
    achieved = messages / wall
    return {
        "messages": messages,
        "msg_per_s": achieved,
        "share_of_30": achieved / 30,
        "http_429": state.get("too_many_requests", -1),
    }


# -- 3. crash --------------------------------------------------------------------------------------------------


def start_worker(db_url: str, data_dir: Path, api_url: str, concurrency: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "bench.worker",
        "--db",
        db_url,
        "--data",
        str(data_dir),
        "--api",
        api_url,
        "--concurrency",
        str(concurrency),
    ]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def deliveries(log: Path) -> Counter[int]:
    counts: Counter[int] = Counter()
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                counts[int(json.loads(line)["chat_id"])] += 1
            except (ValueError, KeyError):  # the line the server is writing right now
                continue
    return counts


async def crash(cells: int = 10_000, concurrency: int = 200, db_url: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        log = data / "sent.jsonl"
        url = db_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if db_url:
            await _reset_postgres(db_url)
        await prepare(url, data, cells)
        expected = cells * PER_CELL
        async with fake_telegram_process(
            "--global-rate", "off", "--per-chat-rate", "off", log=log
        ) as api_url:
            worker = start_worker(url, data, api_url, concurrency)
            while sum(deliveries(log).values()) < expected // 2:
                if worker.poll() is not None:
                    raise RuntimeError(f"worker ended early: {worker.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                await asyncio.sleep(0.02)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            at_kill = sum(deliveries(log).values())
            worker = start_worker(url, data, api_url, concurrency)
            if worker.wait(timeout=600) != 0:
                raise RuntimeError(worker.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
        counts = deliveries(log)
    missed = sum(1 for i in range(cells) if counts[CHAT_BASE + i] < PER_CELL)
    duplicated = (
        sum(counts.values()) - expected + sum(max(0, PER_CELL - counts[CHAT_BASE + i]) for i in range(cells))
    )
    return {
        "messages": expected,
        "sent_at_kill": at_kill,
        "missed_recipients": missed,
        "duplicated_messages": duplicated,
        "in_flight_bound": concurrency,
    }


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
