"""The child side of `bot.services.reading`: read one directive under a memory and CPU cap, answer in JSON.

Run as `python -m bot.services.read_worker MEMORY_MB CPU_SECONDS`. Stdin holds one JSON line (the request:
`name`, `mime`, `today`, and `pasted` for text to parse as is) followed by the file's bytes; stdout gets one JSON
object, `{"text", "source_format", "meta"}` or `{"refusal"}`. JSON rather than pickle: a file that subverted a
parser here still cannot make the bot run code when the bot reads the answer.
"""

from __future__ import annotations

import json
import resource
import sys
from datetime import date
from typing import Any

from bot.services.directive_parser import parse_directive
from bot.services.document_text import Refusal, SourceFormat, extract_text

_MB = 1024 * 1024


def main() -> None:
    memory_mb, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    # Hard limits too: nothing read from the file may raise them again.
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * _MB, memory_mb * _MB))
    # A backstop for the parent's wall-clock budget: the kernel ends a worker its parent no longer watches.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        request = json.loads(sys.stdin.buffer.readline())
        # Plain UTF-8: a Vietnamese letter takes 2-3 bytes instead of a 6-byte \u escape, quicker to decode.
        answer = json.dumps(_answer(request, sys.stdin.buffer.read()), ensure_ascii=False).encode()
    except MemoryError:  # the file needed more than the budget; what it held is freed by now
        answer = json.dumps({"refusal": Refusal.TOO_HEAVY.value}).encode()
    sys.stdout.buffer.write(answer)


def _answer(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    today = date.fromisoformat(request["today"]) if request.get("today") else None
    if request.get("pasted"):
        return _parsed(data.decode("utf-8"), None, today)
    extracted = extract_text(data, request["name"], request.get("mime"))
    if extracted.text is None:
        return {"refusal": str(extracted.refusal)}
    return _parsed(extracted.text, extracted.source_format, today)


def _parsed(text: str, source_format: SourceFormat | None, today: date | None) -> dict[str, Any]:
    meta = parse_directive(text, today=today)
    return {"text": text, "source_format": source_format, "meta": meta.to_json()}


if __name__ == "__main__":
    main()
