"""Read a directive (text extraction + parsing) off the event loop, in a bounded worker process.

python-docx, pypdf and the parser are CPU-bound, and on a hostile file unbounded in time and memory; on the
event loop they would freeze every user. Each read runs in its own child process (`bot.services.read_worker`)
that caps its own memory (RLIMIT_AS) and CPU time, under a wall-clock budget enforced here by killing it. A
worker that runs over, crashes or is killed costs only its own read, which is refused with a Vietnamese message
saying what to do instead; the next read starts a fresh worker, and the loop serves everyone else meanwhile.
A fresh process per read, rather than a warm pool, means no broken pool to rebuild and no state carried from
one hostile file to the next; it costs an interpreter start (a few hundred ms) on a read a person waits for
anyway.

The bot calls `read_document` for an uploaded file and `read_pasted_text` for a pasted directive; a command
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
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.services.directive_parser import DirectiveMeta
from bot.services.document_text import Refusal as Reason
from bot.services.document_text import SourceFormat
from messages import reading as msg

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Budget:
    """What one read may spend: wall-clock seconds (the worker is killed after them) and address space."""

    seconds: float = 20.0
    memory_mb: int = 512


DEFAULT_BUDGET = Budget()
# Reads running at once; more wait their turn, so a burst of uploads cannot take every core and all memory.
MAX_CONCURRENT_READS = 2


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The directive's text and what the parser read from it."""

    text: str
    meta: DirectiveMeta
    source_format: SourceFormat | None  # None for pasted text


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
) -> ReadResult | Refusal:
    """Extract the text of an uploaded file and parse it; `today` as for `parse_directive`."""
    answer = await _in_worker({"name": name, "mime": mime, "today": _iso(today)}, data, budget, label=name)
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
# Reads waiting for a worker, per event loop (a semaphore belongs to the loop that first waits on it).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(MAX_CONCURRENT_READS)
    return _gates[loop]


async def _in_worker(
    request: dict[str, Any], data: bytes, budget: Budget, *, label: str
) -> ReadResult | Reason:
    async with _gate():
        started = time.monotonic()
        answer = await _run_worker(json.dumps(request).encode() + b"\n" + data, budget)
        elapsed = time.monotonic() - started
    if isinstance(answer, Reason):
        level = logging.WARNING if answer in _HOSTILE else logging.INFO
        log.log(level, "reading %s (%d bytes) refused after %.1f s: %s", label, len(data), elapsed, answer)
        return answer
    log.info("read %s (%d bytes) in %.1f s", label, len(data), elapsed)
    return _result(answer)


async def _run_worker(payload: bytes, budget: Budget) -> dict[str, Any] | Reason:
    cpu_seconds = math.ceil(budget.seconds) + 1
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.services.read_worker",
        str(budget.memory_mb),
        str(cpu_seconds),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        output, _ = await asyncio.wait_for(worker.communicate(payload), budget.seconds)
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
    return ReadResult(
        text=answer["text"],
        meta=DirectiveMeta.from_json(answer["meta"]),
        source_format=SourceFormat(source_format) if source_format else None,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
