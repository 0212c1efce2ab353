"""What the machine around the bot can break ends a command with one clear line in each language, never a
traceback: no network for `chibo run`, a database server that is away, an SQLite file another program holds
locked. Run through the real `chibo` entry point, as an administrator would."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def chibo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHIBO_")}
    clean |= {"CHIBO_DATA_DIR": str(tmp_path / "data")} | env
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=tmp_path,
        env=clean | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_clear_line_each(
    result: subprocess.CompletedProcess[str], vietnamese: str, english: str
) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    logged = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")  # `chibo run` logs its start
    lines = [line for line in output.splitlines() if line.strip() and not logged.match(line)]
    assert len(lines) == 2, output
    assert vietnamese in lines[0] and english in lines[1], output


def test_run_with_no_network_says_so_in_one_line(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there: as a server cut off from Telegram
    assert chibo(tmp_path, "db", "upgrade").returncode == 0  # an installed server: no migration to log
    result = chibo(
        tmp_path, "run", CHIBO_TELEGRAM_TOKEN="123:abc", CHIBO_TELEGRAM_API_URL=nowhere, CHIBO_LISTEN_PORT="0"
    )
    assert_one_clear_line_each(result, "Không kết nối được", "Cannot reach the messaging platform")


def test_a_command_on_a_database_server_that_is_away(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/chibo"
    result = chibo(tmp_path, "status", CHIBO_DATABASE_URL=url)
    assert_one_clear_line_each(result, "Không mở được cơ sở dữ liệu", "Cannot open the database")


def test_a_command_on_a_locked_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "chibo.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE held (x)")
    holder.execute("BEGIN EXCLUSIVE")  # another program writing for longer than the bot is willing to wait
    try:
        result = chibo(tmp_path, "status", CHIBO_DATABASE_URL=f"sqlite+aiosqlite:///{path}")
    finally:
        holder.rollback()
        holder.close()
    assert_one_clear_line_each(result, "Không mở được cơ sở dữ liệu", "Cannot open the database")
    assert "locked" in result.stdout + result.stderr
