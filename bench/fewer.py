"""Issue 14 benchmark: a one-file directive to many cells under Telegram's 30 msg/s, counting the messages it takes.

The fake Bot API runs in its own process with Telegram's limits (30 msg/s overall, 1 msg/s per chat); the sender is
paced just under them, as in production. The figures are the messages the fake accepted (a media group counts each
of its items), the wall time until every cell's delivery is recorded, and the 429s met on the way."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from bench.broadcast import prepare, settings_for, wait_delivered
from bench.util import Meter, fake_telegram_process
from bot.runtime import Runtime

RATE = 29.7  # the sender's pace, just under the fake's 30 msg/s


async def one_file_directive(cells: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        directive_id = await prepare(db_url, Path(tmp), cells)
        async with fake_telegram_process("--global-rate", "30", "--per-chat-rate", "1") as api_url:
            runtime = Runtime.build(
                settings_for(db_url, Path(tmp), api_url, telegram_rate=RATE, telegram_chat_interval=1.0)
            )
            with Meter() as m:
                await runtime.start(migrate_db=False)
                await wait_delivered(runtime, directive_id, poll=0.2)
            await runtime.stop()
            async with aiohttp.ClientSession() as s, s.get(f"{api_url}/_fake/state") as r:
                state = await r.json()
    sent = int(state["sent"])
    return {
        "cells": cells,
        "messages_sent": sent,
        "messages_per_cell": sent / cells,
        "wall_seconds": m.wall,
        "wall_minutes": m.wall / 60,
        "http_429": state.get("too_many_requests", -1),
        "uploads": state.get("uploads", -1),
    }


if __name__ == "__main__":  # `python -m bench.fewer 2000`: one size alone (also on an older checkout)
    import asyncio

    from bench.__main__ import show

    for size in sys.argv[1:] or ["2000"]:
        show(f"one-file directive, {size} cells, 30 msg/s", asyncio.run(one_file_directive(int(size))))
