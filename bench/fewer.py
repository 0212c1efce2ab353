"""Issue 14 benchmark: a one-file directive to many cells under Telegram's 30 msg/s, counting the messages it takes.

The fake Bot API runs in its own process with Telegram's limits (30 msg/s overall, 1 msg/s per chat); the sender is
paced just under them, as in production. The figures are the messages the fake accepted (a media group counts each
of its items), the wall time until every cell's delivery is recorded, and the 429s met on the way."""

from __future__ import annotations

import sys
from typing import Any

from bench.broadcast import paced_delivery

RATE = 29.7  # the sender's pace, just under the fake's 30 msg/s


async def one_file_directive(cells: int) -> dict[str, Any]:
    wall, state = await paced_delivery(cells, RATE, poll=0.2)
    sent = int(state["sent"])
    return {
        "cells": cells,
        "messages_sent": sent,
        "messages_per_cell": sent / cells,
        "wall_seconds": wall,
        "wall_minutes": wall / 60,
        "http_429": state.get("too_many_requests", -1),
        "uploads": state.get("uploads", -1),
    }


if __name__ == "__main__":  # `python -m bench.fewer 2000`: one size alone
    import asyncio

    from bench.__main__ import show

    for size in sys.argv[1:] or ["2000"]:
        show(f"one-file directive, {size} cells, 30 msg/s", asyncio.run(one_file_directive(int(size))))
