"""`make bench`: print every benchmark figure. `python -m bench [broadcast pacing crash ...]` runs a subset;
PostgreSQL runs are added when CHIBO_BENCH_POSTGRES_URL (or CHIBO_TEST_POSTGRES_URL) points at a database that
may be wiped."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

from bench import (
    board,
    broadcast,
    faults,
    fewer,
    ingest,
    levels,
    oa_broadcast,
    parser_corpus,
    reading,
    scans,
    web,
)

Section = Callable[[str | None], Awaitable[dict[str, Any]]]


def postgres_url() -> str | None:
    url = os.environ.get("CHIBO_BENCH_POSTGRES_URL") or os.environ.get("CHIBO_TEST_POSTGRES_URL")
    if url and "+asyncpg" not in url:
        url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    return url


async def _throughput(_pg: str | None) -> dict[str, Any]:
    return await broadcast.throughput(10_000)


async def _pacing(_pg: str | None) -> dict[str, Any]:
    return await broadcast.pacing(450)


async def _crash(pg: str | None) -> dict[str, Any]:
    result = {"sqlite": await broadcast.crash(10_000)}
    if pg:
        result["postgres"] = await broadcast.crash(10_000, db_url=pg)
    return result


async def _ingest(pg: str | None) -> dict[str, Any]:
    result = {
        "sqlite, saturated (median of 5 runs)": await ingest.median_of(5, 3_000),
        "sqlite, 50 reports/s offered": await ingest.ingest(1_000, offered_rate=50),
    }
    if pg:
        result["postgres, saturated (median of 5 runs)"] = await ingest.median_of(5, 3_000, db_url=pg)
        result["postgres, 50 reports/s offered"] = await ingest.ingest(1_000, db_url=pg, offered_rate=50)
    return result


async def _board(pg: str | None) -> dict[str, Any]:
    result = {"sqlite": await board.board()}
    if pg:
        result["postgres"] = await board.board(pg)
    return result


async def _web(pg: str | None) -> dict[str, Any]:
    result = {"sqlite": await web.web_pages()}
    if pg:
        result["postgres"] = await web.web_pages(pg)


async def _levels(pg: str | None) -> dict[str, Any]:
    result = {"sqlite": await levels.tree()}
    if pg:
        result["postgres"] = await levels.tree(pg)
    return result


async def _oa(pg: str | None) -> dict[str, Any]:
    result = {"sqlite": await oa_broadcast.oa_broadcast(1_000)}
    if pg:
        result["postgres"] = await oa_broadcast.oa_broadcast(1_000, db_url=pg)
    return result


async def _faults(pg: str | None) -> dict[str, Any]:
    return await faults.faults(pg)


async def _fewer(_pg: str | None) -> dict[str, Any]:
    return await fewer.one_file_directive(2_000)


async def _reading(_pg: str | None) -> dict[str, Any]:
    return await reading.reading()


async def _scans(_pg: str | None) -> dict[str, Any]:
    return await scans.scans()


SECTIONS: dict[str, tuple[str, Section]] = {
    "broadcast": (
        "Issue 3.1 – broadcast throughput, 10,000 cells x (attachment with the card as caption), limits off",
        _throughput,
    ),
    "pacing": ("Issue 3.2 – pacing under 30 msg/s overall and 1 msg/s per chat", _pacing),
    "crash": ("Issue 3.3 – hard kill half-way through a 10,000-cell broadcast, then restart", _crash),
    "ingest": (
        "Issue 4 – one-message reports as updates, end to end (parsed, stored, receipt sent)",
        _ingest,
    ),
    "board": ("Issue 5 – board views on 10,000 cells, 100 directives, 1,000,000 reports", _board),
    "web": ("Issue 17 – the board's web dashboard on 10,000 cells, 100 directives, 1,000,000 reports", _web),
    "levels": (
        "Issue 16 – three levels (1 province, 100 communes, 10,000 cells): the province board's status and summary",
        _levels,
    ),
    "oa": (
        "Issue 12 – 1,000-cell broadcast over the Zalo OA: the board's forecast against free / quota / paid / held",
        _oa,
    ),
    "faults": (
        "Issue 13 – 2,000-cell broadcast under 20 % injected 502/429/slow answers, SIGKILLed twice and restarted",
        _faults,
    ),
    "fewer": (
        "Issue 14 – a one-file directive to 2,000 cells under 30 msg/s: messages and time "
        "(`python -m bench.fewer 10000` for 10,000 cells)",
        _fewer,
    ),
    "reading": ("Hostile input – parser time by size, reads through the bounded worker", _reading),
    "parser_corpus": (
        "Issue 14 – directive parser on tests/corpus, per field and format: right/wrong/missed/invented",
        parser_corpus.section,
    ),
    "scans": (
        "Issue 14 – rendered scans (A4, 200 dpi, turned 1-2°, speckled) read by Tesseract: fields right, s/page",
        _scans,
    ),
}


def show(title: str, figures: dict[str, Any], indent: str = "  ") -> None:
    print(title)
    for key, value in figures.items():
        if isinstance(value, dict):
            show(f"{indent}{key}:", value, indent + "  ")
        elif isinstance(value, float):
            print(f"{indent}{key:<28} {value:,.2f}")
        else:
            print(f"{indent}{key:<28} {value}")


async def main(names: list[str]) -> None:
    pg = postgres_url()
    for name in names:
        title, run = SECTIONS[name]
        show(title, await run(pg))
        print(flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(SECTIONS))
    args = parser.parse_args()
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    asyncio.run(main(args.sections or list(SECTIONS)))
