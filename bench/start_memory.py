"""The bot's resident memory once started: `python -m bench.start_memory` runs `chibo run` (polling Telegram, no
sandbox) against the fake Telegram on a fresh SQLite database, waits until it polls, and prints the child's
resident set size (VmRSS) and whether matplotlib was loaded at start."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from bot.fakes.telegram_server import FakeTelegram

POLLS_BEFORE_MEASURING = 1
SETTLE_SECONDS = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _maps_matplotlib(pid: int) -> bool:
    """Whether the child mapped matplotlib's compiled extensions (it imports them with the package)."""
    return "matplotlib" in Path(f"/proc/{pid}/maps").read_text()


async def measure() -> dict[str, object]:
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CHIBO_TELEGRAM_TOKEN": fake.token,
            "CHIBO_TELEGRAM_API_URL": fake.api_url,
            "CHIBO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/chibo.db",
            "CHIBO_DATA_DIR": f"{tmp}/data",
            "CHIBO_LISTEN_HOST": "127.0.0.1",
            "CHIBO_LISTEN_PORT": str(_free_port()),
        }
        for name in ("CHIBO_PUBLIC_URL", "CHIBO_ZALO_TOKEN"):
            env.pop(name, None)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while sum(call.method == "getUpdates" for call in fake.calls) < POLLS_BEFORE_MEASURING:
                if child.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chibo run did not start polling (exit {child.returncode})")
                await asyncio.sleep(0.2)
            await asyncio.sleep(SETTLE_SECONDS)
            return {"rss_mb": round(_rss_mb(child.pid), 1), "matplotlib_loaded": _maps_matplotlib(child.pid)}
        finally:
            child.terminate()
            await child.wait()
            await fake.stop()


if __name__ == "__main__":
    print(asyncio.run(measure()))
