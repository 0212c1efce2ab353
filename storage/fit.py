"""Fit every row to its columns before it is written, the same way on SQLite and PostgreSQL.

SQLite stores a 300-character string in a String(64) column and a NUL in any text; PostgreSQL refuses both, and
the refusal used to crash the handler and leave a directive unsendable. What people and documents write (a
directive number, a place, a header, a file name, a report) is therefore fitted here, in one place, for every
ORM insert and update: NUL, other control characters and lone surrogates are removed from every string (in JSON
columns too), and a string longer than its column is cut to fit, ending in "…" (keeping a file's extension), so
a reader sees it was cut. Nothing is refused: an over-long header still makes a directive that can be sent.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

ELLIPSIS = "…"
# As bot.core.textnorm.scrub (storage imports nothing of the project): NUL, control characters, lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def scrub(value: str) -> str:
    """`value` without NUL, other control characters (newline, tab and CR stay) and lone surrogates."""
    return _UNSAFE.sub("", value)


def fit(value: str, length: int | None) -> str:
    """`value` scrubbed and, if longer than `length` characters, cut to `length` ending in "…"."""
    value = scrub(value)
    if length is None or len(value) <= length:
        return value
    extension = _EXTENSION.search(value)
    tail = ELLIPSIS + (extension.group() if extension and len(extension.group()) < length // 2 else "")
    return value[: length - len(tail)].rstrip() + tail


def _scrub_json(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {_scrub_json(k): _scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def fit_row(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    """Fit the string and JSON attributes of `target` (an ORM object about to be written) to their columns."""
    for key, column in inspect(target).mapper.columns.items():
        value = target.__dict__.get(key)
        if value is None:
            continue
        if isinstance(column.type, String) and isinstance(value, str):
            fitted = fit(value, column.type.length)
        elif isinstance(column.type, JSON):
            fitted = _scrub_json(value)
        else:
            continue
        if fitted != value:
            setattr(target, key, fitted)


def install(base: type[Any]) -> None:
    """Fit the rows of every model derived from `base` before each insert and update."""
    for name in ("before_insert", "before_update"):
        if not event.contains(base, name, fit_row):
            event.listen(base, name, fit_row, propagate=True)
