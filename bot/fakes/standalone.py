"""Running a fake server as its own process (benchmarks, manual trials) until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from typing import Protocol


class FakeServer(Protocol):
    api_url: str

    async def start(self, host: str = ..., port: int = ...) -> None: ...

    async def stop(self) -> None: ...


def rate_arg(value: str) -> float | None:
    """A rate option on the command line: a number, or "off" for no limit."""
    return None if value.lower() in ("off", "none", "0") else float(value)


async def serve_until_signalled(fake: FakeServer, host: str, port: int) -> None:
    await fake.start(host, port)
    print(fake.api_url, flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    await fake.stop()
