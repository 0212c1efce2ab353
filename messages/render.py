"""Rendering helpers shared by the channel adapters: splitting long texts, numbering choices for text-only chats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.core.events import Button, OutFile, Reply
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
    """`parts` laid out as the channel sends them, one send each, so that a retry resumes at the piece that failed
    instead of sending the earlier pieces again: every text too long for one message split into parts of its own
    (the last piece keeps the part's buttons, keyboard and file; the pieces before it are plain text), and several
    files in groups the channel can send at once. No limits: `parts` as they are (the adapter lays them out)."""
    if limits is None:
        return list(parts)
    return [piece for part in parts for piece in _pieces(part, limits)]


def _pieces(part: Reply, limits: MessageLimits) -> list[Reply]:
    files = part.files
    if len(files) > 1 and limits.caption is not None:
        return _with_files(part, files, limits)
    room = limits.text if part.file is None else limits.caption
    if room is None or len(part.text) <= room:
        return [part]
    chunks = split_text(part.text, limits.text)
    if part.file is not None:  # too long for a caption: the text goes first, the file follows without one
        return [*(Reply(text=chunk) for chunk in chunks), dataclasses.replace(part, text="")]
    *head, last = chunks
    return [*(Reply(text=chunk) for chunk in head), dataclasses.replace(part, text=last)]


def _with_files(part: Reply, files: list[OutFile], limits: MessageLimits) -> list[Reply]:
    """Several files: the text as the caption of the first (with the part's buttons, which no group carries, on
    that file alone), or before them when too long for a caption; the files in groups of one kind."""
    assert limits.caption is not None
    marked = bool(part.buttons or part.request_contact or part.remove_keyboard)
    bare = dataclasses.replace(
        part, text="", buttons=[], file=None, group=[], request_contact=False, remove_keyboard=False
    )
    if len(part.text) > limits.caption:
        head = _pieces(dataclasses.replace(part, file=None, group=[]), limits)
        return [*head, *_groups(files, bare, limits.group)]
    if marked:
        first = dataclasses.replace(part, file=files[0], group=[])
        return [first, *_groups(files[1:], bare, limits.group)]
    groups = _groups(files, bare, limits.group)
    groups[0].text = part.text
    return groups


def _groups(files: list[OutFile], base: Reply, size: int) -> list[Reply]:
    """`files` in runs of one kind (photos, documents: a media group takes one or the other), at most `size` each."""
    runs: list[list[OutFile]] = []
    for f in files:
        if runs and runs[-1][0].as_photo == f.as_photo and len(runs[-1]) < size:
            runs[-1].append(f)
        else:
            runs.append([f])
    return [dataclasses.replace(base, file=run[0], group=run[1:]) for run in runs]


def numbered_choices(buttons: list[list[Button]]) -> tuple[str, dict[str, str]]:
    """For chats without buttons: "1. Đã nhận\n2. Báo cáo" and the map from typed number to button data."""
    flat = [b for row in buttons for b in row]
    lines = [f"{i}. {b.label}" for i, b in enumerate(flat, start=1)]
    numbers = ", ".join(str(i) for i in range(1, len(flat)))
    hint = f"Trả lời {numbers} hoặc {len(flat)}." if len(flat) > 1 else "Trả lời 1."
    return "\n".join([*lines, hint]), {str(i): b.data for i, b in enumerate(flat, start=1)}
