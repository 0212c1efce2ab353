"""A bot process for the crash benchmark and test: runs the sender until the queued broadcast is delivered."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from sqlalchemy import func, select

from bench.broadcast import settings_for
from bot.runtime import Runtime, settle_memory
from storage.models import Outbox


async def main(args: argparse.Namespace) -> None:
    settings = settings_for(args.db, Path(args.data), args.api, sender_concurrency=args.concurrency)
    runtime = Runtime.build(settings)
    await runtime.start()
    settle_memory()  # as `chibo run` does
    try:
        while True:
            await runtime.sender.flush()
            async with runtime.sessions() as session:
                left = await session.scalar(
                    select(func.count()).where(Outbox.status.in_(("pending", "sending")))
                )
            if not left:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--concurrency", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
