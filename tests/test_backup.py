"""`chibo backup` and `chibo restore` on SQLite: a consistent copy taken while the bot writes, restored and read
back; and each refusal of a restore (the bot running, not a database, not Chibo's, another migration)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.core.clock import Clock
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import AuditEntry
from tests.conftest import make_settings

BATCH = 25  # rows the writer commits together: a consistent copy holds a whole number of batches


@pytest.fixture
def db_file(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "chibo.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("CHIBO_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return path


def chibo(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def audit_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])


async def write_batches(runtime: Runtime, stop: asyncio.Event) -> int:
    batches = 0
    while not stop.is_set():
        async with transaction(runtime.sessions) as session:
            for n in range(BATCH):
                session.add(
                    AuditEntry(at=runtime.clock.now(), actor="test", action="write", details={"n": n})
                )
        batches += 1
        await asyncio.sleep(0)
    return batches


async def test_backup_while_the_bot_writes_then_restore(
    tmp_path: Path, db_file: Path, fake_tg: FakeTelegram, clock: Clock
) -> None:
    runtime = Runtime.build(make_settings(tmp_path, f"sqlite+aiosqlite:///{db_file}", fake_tg), clock=clock)
    await runtime.start(migrate_db=False)
    stop = asyncio.Event()
    writer = asyncio.create_task(write_batches(runtime, stop))
    try:
        await asyncio.sleep(0.3)
        out = tmp_path / "backups" / "chibo-1.db"
        out.parent.mkdir()
        code, output = await asyncio.to_thread(chibo, "backup", str(out))
        assert code == 0, output
        await asyncio.sleep(0.2)
        # While the bot runs, a restore is refused ...
        code, output = await asyncio.to_thread(chibo, "restore", str(out))
        assert code == 2 and "Bot đang chạy" in output and "--force" in output
    finally:
        stop.set()
        batches = await writer
        await runtime.stop()
    copied = audit_rows(out)
    assert copied > 0 and copied % BATCH == 0  # whole transactions only
    assert audit_rows(db_file) == batches * BATCH > copied  # the bot went on writing after the copy
    # ... and once it stopped, the backup comes back and reads back.
    code, output = chibo("restore", str(out))
    assert code == 0, output
    assert audit_rows(db_file) == copied
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    runtime = Runtime.build(make_settings(tmp_path, f"sqlite+aiosqlite:///{db_file}", fake_tg), clock=clock)
    await runtime.start()  # the restored database is at the migration this version expects
    await runtime.stop()


def test_restore_refuses_what_is_not_a_chibo_backup(tmp_path: Path, db_file: Path) -> None:
    text_file = tmp_path / "notes.db"
    text_file.write_text("không phải cơ sở dữ liệu " * 100, encoding="utf-8")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    older = tmp_path / "older.db"
    shutil.copy(db_file, older)
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    before = db_file.read_bytes()
    for path, words in (
        (text_file, "không phải cơ sở dữ liệu SQLite"),
        (other, "không phải cơ sở dữ liệu của Chibo"),
        (older, "phiên bản cơ sở dữ liệu khác"),
    ):
        code, output = chibo("restore", str(path))
        assert code == 2, output
        assert words in output and "Traceback" not in output
    assert db_file.read_bytes() == before  # nothing was touched


def test_restore_force_while_in_use(tmp_path: Path, db_file: Path) -> None:
    from storage.backup import hold_in_use

    out = tmp_path / "copy.db"
    assert chibo("backup", str(out))[0] == 0
    with hold_in_use(db_file):
        assert chibo("restore", str(out))[0] == 2
        code, output = chibo("restore", str(out), "--force")
    assert code == 0, output


def test_backup_on_postgres_points_to_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIBO_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/chibo")
    monkeypatch.chdir(tmp_path)
    code, output = chibo("backup", str(tmp_path / "x.db"))
    assert code == 2 and "pg_dump" in output
