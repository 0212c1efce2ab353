"""Scans read back (issue 14): each sample directive (bot/sandbox/samples, and tests/corpus/*.txt when present)
rendered as a scanner makes it (A4, 200 dpi, turned 1-2°, speckled) into an image-only PDF, and its first page
as a JPEG photo (full size, and cut to 1280 px as a chat app may pass a photo on; scored on the first page's
fields), read through the bot's bounded worker like an upload. Per document: the fields right of the
fields the text itself states (what the parser reads from the original text), and seconds per page (median over
the pages; each page timed from the worker's progress lines).

`python -m bench scans` prints the figures; it asserts nothing."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image

from bot.fakes.scans import render_pages, to_image, to_pdf
from bot.services.directive_parser import DirectiveMeta, parse_directive
from bot.services.reading import Budget, ReadResult, read_document

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "bot" / "sandbox" / "samples", ROOT / "tests" / "corpus")
KEY_FIELDS = ("number", "issued_on", "issuer", "deadline")
OTHER_FIELDS = ("parent_body", "place", "subject", "signer_name")
# What the first page of a directive states: a photo of it is scored on these only.
HEADER_FIELDS = ("number", "issued_on", "issuer", "parent_body", "place", "subject")
TODAY = date(2024, 4, 3)  # resolves year-less deadlines the same way for the text and its scan
# Generous: this measures how long pages take, it does not test the budget.
BUDGET = Budget(seconds=60.0, scan_page_seconds=120.0)


def documents() -> list[Path]:
    return sorted(p for folder in SOURCES if folder.is_dir() for p in folder.glob("*.txt"))


async def read_timed(data: bytes, name: str) -> tuple[ReadResult, list[float]]:
    """The read, and the seconds each page took (between the worker's progress lines)."""
    marks: list[float] = []

    async def page_done(done: int, total: int) -> None:
        marks.append(time.monotonic())

    result = await read_document(data, name, today=TODAY, budget=BUDGET, on_progress=page_done)
    if not isinstance(result, ReadResult):
        raise RuntimeError(f"{name}: {result.reason}")
    return result, [b - a for a, b in itertools.pairwise(marks)]


def score(expected: DirectiveMeta, got: DirectiveMeta, names: tuple[str, ...]) -> tuple[int, int, list[str]]:
    """(right, expected, wrong field names) over the fields the original text states."""
    stated = [n for n in names if getattr(expected, n) not in (None, "", [])]
    wrong = [n for n in stated if getattr(got, n) != getattr(expected, n)]
    return len(stated) - len(wrong), len(stated), wrong


async def scan_figures(path: Path) -> dict[str, Any]:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    expected = parse_directive(text, today=TODAY)
    pages = render_pages(text)
    whole = {"key": KEY_FIELDS, "all": KEY_FIELDS + OTHER_FIELDS}
    first = {"page 1": HEADER_FIELDS}
    figures: dict[str, Any] = {}
    for label, data, name, scored in (
        (f"PDF, {len(pages)} page(s)", to_pdf(pages), f"{path.stem}.pdf", whole),
        ("JPEG of page 1", to_image(pages[0], "JPEG"), f"{path.stem}.jpg", first),
        (
            "JPEG of page 1, 1280 px",
            to_image(_as_messenger_sends(pages[0]), "JPEG"),
            f"{path.stem}.jpg",
            first,
        ),
    ):
        read, seconds = await read_timed(data, name)
        row = {f"{kind} fields right": _right(expected, read.meta, names) for kind, names in scored.items()}
        row["to check (preview)"] = ", ".join(read.scan.check) if read.scan and read.scan.check else "-"
        row["s/page (median)"] = statistics.median(seconds) if seconds else float("nan")
        figures[label] = row
    return figures


def _as_messenger_sends(page: Image.Image) -> Image.Image:
    """A photo as a chat app passes it on: the long side cut to 1280 px (about 110 dpi for A4)."""
    page = page.copy()
    page.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    return page


def _right(expected: DirectiveMeta, got: DirectiveMeta, names: tuple[str, ...]) -> str:
    right, stated, wrong = score(expected, got, names)
    return f"{right}/{stated}" + (f" (wrong: {', '.join(wrong)})" if wrong else "")


async def scans() -> dict[str, Any]:
    return {path.name: await scan_figures(path) for path in documents()}
