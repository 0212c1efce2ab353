"""Issue 13 fault run: a broadcast under injected faults (a share of Telegram's answers 502, 429 or slow) with the
bot SIGKILLed mid-way and restarted, on SQLite and PostgreSQL. Prints what must stay at zero (recipients missed,
tracebacks in the log) and what must stay under the crash bound (messages sent twice)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from bench.broadcast import PER_CELL, _reset_postgres, deliveries, prepare
from bench.seed import CHAT_BASE
from bench.util import ROOT, fake_telegram_process

# Deliveries that meet a fault are retried within seconds here, not the production schedule's minutes to hours.
RETRY_ENV = {
    "CHIBO_DELIVERY_RETRY_FIRST": "0.5",
    "CHIBO_DELIVERY_RETRY_MAX": "4",
    "CHIBO_DELIVERY_RETRY_FOR": "3600",
}


def _start(db_url: str, data: Path, api_url: str, concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bench.worker", "--db", db_url, "--data", str(data), "--api", api_url]
    cmd += ["--concurrency", str(concurrency)]
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=out, env={**os.environ, **RETRY_ENV}
        )


async def fault_run(
    cells: int = 2_000,
    *,
    share: float = 0.2,
    kills: int = 2,
    concurrency: int = 100,
    db_url: str | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        sent_log, bot_log = data / "sent.jsonl", data / "bot.log"
        url = db_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if db_url:
            await _reset_postgres(db_url)
        await prepare(url, data, cells)
        expected = cells * PER_CELL
        async with fake_telegram_process(
            "--global-rate", "off", "--per-chat-rate", "off", "--chaos", str(share), log=sent_log
        ) as api_url:
            worker = _start(url, data, api_url, concurrency, bot_log)
            for kill in range(kills):
                mark = expected * (kill + 1) // (kills + 1)
                while sum(deliveries(sent_log).values()) < mark:
                    if worker.poll() is not None:
                        raise RuntimeError(
                            f"the bot ended early (exit {worker.returncode}, {sum(deliveries(sent_log).values())} of {mark} sent):\n{bot_log.read_text()[-1500:]}"
                        )
                    await asyncio.sleep(0.02)
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                worker = _start(url, data, api_url, concurrency, bot_log)
            if await asyncio.to_thread(worker.wait, 1800) != 0:
                raise RuntimeError(f"the bot failed:\n{bot_log.read_text()[-2000:]}")
            async with aiohttp.ClientSession() as s, s.get(f"{api_url}/_fake/state") as r:
                state = await r.json()
        counts = deliveries(sent_log)
        text = bot_log.read_text(errors="replace")
    missed = sum(1 for i in range(cells) if counts[CHAT_BASE + i] < PER_CELL)
    duplicated = (
        sum(counts.values()) - expected + sum(max(0, PER_CELL - counts[CHAT_BASE + i]) for i in range(cells))
    )
    faults = state.get("chaos", {})
    return {
        "cells": cells,
        "messages": expected,
        "kills": kills,
        "fault_share": share,
        "faults_injected": ", ".join(f"{k} {v}" for k, v in sorted(faults.items())),
        "recipients_missed": missed,
        "messages_duplicated": duplicated,
        "duplicate_bound": concurrency * kills,
        "tracebacks_in_log": text.count("Traceback (most recent call last)"),
        "warning_lines": sum(1 for line in text.splitlines() if line.startswith("WARNING")),
    }


async def faults(pg: str | None, cells: int = 2_000) -> dict[str, Any]:
    result = {"sqlite": await fault_run(cells)}
    if pg:
        result["postgres"] = await fault_run(cells, db_url=pg)
    return result
