"""Benchmark plumbing: free ports, the fake server in its own process, process CPU and peak memory."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-TOKEN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def fake_telegram_process(*args: str, log: Path | None = None) -> AsyncIterator[str]:
    """Run the fake Bot API in a separate process (its CPU is not ours) and yield its api_url."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "bot.fakes.telegram_server",
        "--port",
        str(port),
        "--token",
        TOKEN,
        "--auto-users",
        *args,
    ]
    if log is not None:
        cmd += ["--log", str(log)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{url}/bot{TOKEN}/getMe") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Meter:
    """Wall time and this process's CPU seconds over a block."""

    def __enter__(self) -> Meter:
        self.wall0 = time.perf_counter()
        self.cpu0 = _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = _cpu() - self.cpu0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576
