"""A bot process killed hard half-way through a broadcast and started again: nobody is missed, and at most the
messages in flight at the kill (bounded by the sender's concurrency) are sent twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.broadcast import PER_CELL, prepare
from bench.seed import CHAT_BASE
from bench.util import ROOT, TOKEN
from bot.fakes.telegram_server import FakeTelegram

CELLS = 300
CONCURRENCY = 16


def worker(db_url: str, data: Path, api_url: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bench.worker", "--db", db_url, "--data", str(data), "--api", api_url]
    return subprocess.Popen([*cmd, "--concurrency", str(CONCURRENCY)], cwd=ROOT, stderr=subprocess.PIPE)


async def test_hard_kill_mid_broadcast_misses_nobody(db_url: str, tmp_path: Path) -> None:
    await prepare(db_url, tmp_path, CELLS)
    fake = FakeTelegram(TOKEN, global_rate=None, per_chat_rate=None, auto_users=True)
    fake.set_delay(0.01)
    await fake.start()
    try:
        first = worker(db_url, tmp_path, fake.api_url)
        while len(fake.sent) < PER_CELL * CELLS // 2:  # half of the messages
            assert first.poll() is None, first.stderr.read().decode()  # type: ignore[union-attr]
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert len(fake.sent) < PER_CELL * CELLS, "the kill came too late to test anything"
        second = worker(db_url, tmp_path, fake.api_url)
        while second.poll() is None:
            await asyncio.sleep(0.05)
        assert second.returncode == 0, second.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        await fake.stop()
    per_chat = Counter(m.chat_id for m in fake.sent)
    missed = [chat for chat in range(CHAT_BASE, CHAT_BASE + CELLS) if per_chat[chat] < PER_CELL]
    duplicated = sum(per_chat.values()) - PER_CELL * CELLS
    assert missed == []
    assert 0 <= duplicated <= CONCURRENCY
