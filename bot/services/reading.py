"""Read a directive (text extraction + parsing) off the event loop, in a bounded worker process.

python-docx, pypdf and the parser are CPU-bound, and on a hostile file unbounded in time and memory; on the
event loop they would freeze every user. Each read runs in its own child process (`bot.services.read_worker`)
that caps its own memory (RLIMIT_AS) and CPU time, under a wall-clock budget enforced here by killing it. A
worker that runs over, crashes or is killed costs only its own read, which is refused with a Vietnamese message
saying what to do instead; the next read starts a fresh worker, and the loop serves everyone else meanwhile.
A fresh process per read, rather than a warm pool, means no broken pool to rebuild and no state carried from
one hostile file to the next; it costs an interpreter start (a few hundred ms) on a read a person waits for
anyway.

A scan (an image-only PDF, a photo) is read with Tesseract in the same worker. The worker says how many pages it
will read before it starts; the wall-clock budget then grows by `Budget.scan_page_seconds` per page, and the
caller's `on_progress(done, total)` hears of each page so the board sees the read moving.

The bot calls `read_document` for an uploaded file, `read_photos` for the photos of a directive's pages and
`read_pasted_text` for a pasted directive; a command
line tool calls `asyncio.run(read_document(...))`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.services.directive_parser import DirectiveMeta
from bot.services.document_text import Refusal as Reason
from bot.services.document_text import SourceFormat
from messages import reading as msg

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Budget:
    """What one read may spend: wall-clock seconds (the worker is killed after them) and address space, plus
    seconds per page of a scan (also each page's CPU limit)."""

    seconds: float = 20.0
    memory_mb: int = 512
    scan_page_seconds: float = 40.0


DEFAULT_BUDGET = Budget()
# Directives run one to three pages, with an appendix at most a few more; what a scan holds past this is left out
# (the parser reads number, date and issuer from the first page, the deadline from the body), and a directive
# photographed page by page takes no more photos than this.
MAX_SCAN_PAGES = 6
# Reads running at once; more wait their turn, so a burst of uploads cannot take every core and all memory.
MAX_CONCURRENT_READS = 2


@dataclass(frozen=True, slots=True)
class Scan:
    """How a scan was read: pages read of the pages it has, and the fields to check (`scan_check`)."""

    pages: int
    total_pages: int
    check: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The directive's text and what the parser read from it."""

    text: str
    meta: DirectiveMeta
    source_format: SourceFormat | None  # None for pasted text
    scan: Scan | None = None  # set when the text was read from a scan


# Told (done, total) pages of a scan: done = 0 as reading starts, then after each page.
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the directive could not be read, and the Vietnamese message to send the user."""

    reason: Reason
    message: str


async def read_document(
    data: bytes,
    name: str,
    mime: str | None = None,
    *,
    today: date | None = None,
    budget: Budget = DEFAULT_BUDGET,
    tesseract: str = "tesseract",
    on_progress: Progress | None = None,
) -> ReadResult | Refusal:
    """Extract the text of an uploaded file (OCR with the `tesseract` command for a scan) and parse it; `today`
    as for `parse_directive`."""
    request = {"name": name, "mime": mime, "today": _iso(today), "tesseract": tesseract}
    answer = await _in_worker(request, data, budget, label=name, on_progress=on_progress)
    if isinstance(answer, Reason):
        return Refusal(answer, msg.file_refusal(answer, name))
    return answer


async def read_photos(
    photos: list[bytes],
    name: str,
    *,
    today: date | None = None,
    budget: Budget = DEFAULT_BUDGET,
    tesseract: str = "tesseract",
    on_progress: Progress | None = None,
) -> ReadResult | Refusal:
    """Read photos of one directive's pages, in order, as one scan (a page photographed after the others)."""
    request = {"name": name, "today": _iso(today), "tesseract": tesseract, "photos": [len(p) for p in photos]}
    answer = await _in_worker(request, b"".join(photos), budget, label=name, on_progress=on_progress)
    if isinstance(answer, Reason):
        return Refusal(answer, msg.file_refusal(answer, name))
    return answer


async def read_pasted_text(
    text: str, *, today: date | None = None, budget: Budget = DEFAULT_BUDGET
) -> ReadResult | Refusal:
    """Parse a directive pasted as a message."""
    answer = await _in_worker(
        {"pasted": True, "today": _iso(today)}, text.encode("utf-8"), budget, label="pasted text"
    )
    if isinstance(answer, Reason):
        return Refusal(answer, msg.pasted_refusal(answer))
    return answer


# --- The worker -------------------------------------------------------------------------------------------

# Refusals worth an operator's attention: a file that was (or looked) built to exhaust the bot, or a dead worker.
_HOSTILE = frozenset({Reason.TOO_LARGE, Reason.TOO_HEAVY, Reason.READ_FAILED})
# Refusals the operator can end by installing something.
_SERVER_SIDE = frozenset({Reason.NO_OCR})
# Reads waiting for a worker, per event loop (a semaphore belongs to the loop that first waits on it).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(MAX_CONCURRENT_READS)
    return _gates[loop]


async def _in_worker(
    request: dict[str, Any],
    data: bytes,
    budget: Budget,
    *,
    label: str,
    on_progress: Progress | None = None,
) -> ReadResult | Reason:
    async with _gate():
        started = time.monotonic()
        answer = await _run_worker(json.dumps(request).encode() + b"\n" + data, budget, on_progress)
        elapsed = time.monotonic() - started
    if isinstance(answer, Reason):
        level = logging.WARNING if answer in _HOSTILE | _SERVER_SIDE else logging.INFO
        hint = (
            f" (is {request.get('tesseract')} installed, with its vie data?)"
            if answer in _SERVER_SIDE
            else ""
        )
        log.log(
            level, "reading %s (%d bytes) refused after %.1f s: %s%s", label, len(data), elapsed, answer, hint
        )
        return answer
    log.info("read %s (%d bytes) in %.1f s", label, len(data), elapsed)
    return _result(answer)


async def _run_worker(
    payload: bytes, budget: Budget, on_progress: Progress | None
) -> dict[str, Any] | Reason:
    # Per process: the worker and, for a scan, each page's tesseract get this much CPU each.
    cpu_seconds = math.ceil(max(budget.seconds, budget.scan_page_seconds)) + 1
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.services.read_worker",
        str(budget.memory_mb),
        str(cpu_seconds),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=budget.memory_mb * 1024 * 1024,  # the answer is one line, as long as the text
    )
    try:
        async with asyncio.timeout(budget.seconds) as deadline:
            output = await _converse(worker, payload, budget, deadline, on_progress)
            await worker.wait()
    except TimeoutError:
        return Reason.TOO_HEAVY
    finally:
        # Over budget, or the caller gave up (cancelled): the worker must not outlive its read.
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    if worker.returncode == -signal.SIGXCPU:
        return Reason.TOO_HEAVY
    if worker.returncode != 0:
        return Reason.READ_FAILED
    # A long text's answer takes a while to decode; in a thread the loop gets turns meanwhile.
    return await asyncio.to_thread(_answer, output)


async def _converse(
    worker: asyncio.subprocess.Process,
    payload: bytes,
    budget: Budget,
    deadline: asyncio.Timeout,
    on_progress: Progress | None,
) -> bytes:
    """Hand the worker its request, follow a scan's progress lines, and return the answer line."""
    assert worker.stdin is not None and worker.stdout is not None
    try:
        worker.stdin.write(payload)
        await worker.stdin.drain()
        worker.stdin.close()
    except (BrokenPipeError, ConnectionResetError):  # the worker died early; its exit code says so below
        pass
    while True:
        try:
            line = await worker.stdout.readline()
        except ValueError:  # a line over the limit: no answer of ours
            return b""
        progress = _progress(line)
        if progress is None:
            return line
        done, total = progress
        if done == 0:  # a scan of `total` pages starts: its pages get their own time
            when = deadline.when()
            assert when is not None
            deadline.reschedule(when + total * budget.scan_page_seconds)
        if on_progress is not None:
            await on_progress(done, total)


def _progress(line: bytes) -> tuple[int, int] | None:
    if not line.startswith(b'{"progress"'):
        return None
    try:
        done, total = json.loads(line)["progress"]
        return int(done), int(total)
    except (ValueError, TypeError, KeyError):
        return None


def _answer(output: bytes) -> dict[str, Any] | Reason:
    try:
        answer = json.loads(output)
    except ValueError:
        return Reason.READ_FAILED
    if not isinstance(answer, dict):
        return Reason.READ_FAILED
    if "refusal" in answer:
        return Reason(answer["refusal"])
    return answer


def _result(answer: dict[str, Any]) -> ReadResult:
    source_format = answer.get("source_format")
    scan = answer.get("scan")
    return ReadResult(
        text=answer["text"],
        meta=DirectiveMeta.from_json(answer["meta"]),
        source_format=SourceFormat(source_format) if source_format else None,
        scan=Scan(scan["pages"], scan["total_pages"], list(scan["check"])) if scan else None,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
