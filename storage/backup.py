"""Backup and restore of a SQLite database (PostgreSQL uses pg_dump / pg_restore: docs/deploy.md).

A backup is a consistent copy made with SQLite's online backup API, so it may run while the bot writes. A running
bot holds a shared lock on `<database>.lock` (`hold_in_use`); a restore takes that lock exclusively, so it is
refused while the bot runs unless forced. A restore checks first that the file is a Chibo database at the
migration this version expects, then copies it in with the same backup API (never a raw file copy, which would
tear a database in WAL mode).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from enum import StrEnum
from pathlib import Path
from typing import IO

from alembic.script import ScriptDirectory

from storage.db import alembic_config

# Tables whose presence says a file is a Chibo database (besides alembic's version table).
CHIBO_TABLES = frozenset({"units", "people", "directives", "outbox", "reports"})


class Refused(StrEnum):
    IN_USE = "in_use"
    NOT_SQLITE = "not_sqlite"
    NOT_CHIBO = "not_chibo"
    WRONG_REVISION = "wrong_revision"
    DAMAGED = "damaged"


class RestoreRefused(Exception):
    def __init__(self, reason: Refused, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def hold_in_use(database: Path) -> IO[bytes]:
    """Mark `database` as in use for as long as the returned file stays open (shared: other readers may too)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    handle = _lock_path(database).open("ab")
    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return handle


def backup(database: Path, out: Path) -> None:
    """Copy `database` to `out` consistently while others may write; `out` appears whole or not at all."""
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=1024)  # in steps, so the bot's writers are not held off for long
        finally:
            target.close()
    finally:
        source.close()
    os.replace(partial, out)


def check(path: Path) -> str:
    """The migration `path` is at, if it is an undamaged Chibo database at this version's head; else refused."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RestoreRefused(Refused.NOT_SQLITE, str(exc)) from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables or not tables >= CHIBO_TABLES:
            raise RestoreRefused(Refused.NOT_CHIBO)
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise RestoreRefused(Refused.DAMAGED)
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise RestoreRefused(Refused.NOT_SQLITE, str(exc)) from None
    finally:
        conn.close()
    head = head_revision()
    found = revision[0] if revision else "none"
    if found != head:
        raise RestoreRefused(Refused.WRONG_REVISION, f"{found} (expected {head})")
    return found


def restore(source: Path, database: Path, *, force: bool = False) -> str:
    """Replace `database` with the backup `source`; refused while the bot runs unless `force`. Returns its
    migration revision."""
    revision = check(source)
    with _lock_path(database).open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not force:
                raise RestoreRefused(Refused.IN_USE) from None
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(database, timeout=30)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
    return revision
