"""Rendering helpers shared by the channel adapters: splitting long texts, numbering choices for text-only chats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.core.events import Button, Reply
from bot.core.limits import MessageLimits

_BREAKS = ("\n\n", "\n", ". ", "; ", ", ", " ")


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into chunks of at most `limit` characters, at the best break before the limit, never inside a
    word or a number (a single word longer than the limit is the only thing ever cut)."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for brk in _BREAKS:
            pos = window.rfind(brk, 0, limit)
            if pos > limit // 3:
                cut = pos + len(brk.rstrip(" ")) if brk != " " else pos
                break
        if cut <= 0:
            pos = window.rfind(" ", 0, limit)
            cut = pos if pos > 0 else limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks or [""]


def split_long(parts: Iterable[Reply], limits: MessageLimits | None) -> list[Reply]:
    """`parts` with every text too long for one message on the channel split into parts of their own, so that a
    retry resumes at the piece that failed instead of sending the earlier pieces again. The last piece keeps the
    part's buttons, keyboard and file; the pieces before it are plain text. No limits: `parts` as they are."""
    if limits is None:
        return list(parts)
    return [piece for part in parts for piece in _pieces(part, limits)]


def _pieces(part: Reply, limits: MessageLimits) -> list[Reply]:
    room = limits.text if part.file is None else limits.caption
    if room is None or len(part.text) <= room:
        return [part]
    chunks = split_text(part.text, limits.text)
    if part.file is not None:  # too long for a caption: the text goes first, the file follows without one
        return [*(Reply(text=chunk) for chunk in chunks), dataclasses.replace(part, text="")]
    *head, last = chunks
    return [*(Reply(text=chunk) for chunk in head), dataclasses.replace(part, text=last)]


def numbered_choices(buttons: list[list[Button]]) -> tuple[str, dict[str, str]]:
    """For chats without buttons: "1. Đã nhận\n2. Báo cáo" and the map from typed number to button data."""
    flat = [b for row in buttons for b in row]
    lines = [f"{i}. {b.label}" for i, b in enumerate(flat, start=1)]
    numbers = ", ".join(str(i) for i in range(1, len(flat)))
    hint = f"Trả lời {numbers} hoặc {len(flat)}." if len(flat) > 1 else "Trả lời 1."
    return "\n".join([*lines, hint]), {str(i): b.data for i, b in enumerate(flat, start=1)}
