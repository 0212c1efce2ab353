"""A server with Zalo settings only: the administrator's commands and `chibo run` need no Telegram setting, and a
secretary joins over the fake Zalo server through the real `chibo run` process."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.fakes.zalo_server import FakeZalo
from tests.conftest import free_port
from tests.support import EXAMPLE_ROSTER, SAMPLES

PUBLIC_URL = "https://chibo.example.org"
SECRET = "zalo-webhook-secret-0123456789"
LAN_PHONE = "0912000007"  # Vũ Thị Lan, Chi bộ Bệnh viện Đa khoa tỉnh
STARTUP = 60.0  # seconds; a cold interpreter on a busy 2-core machine


def zalo_only_env(db_url: str, data_dir: Path, zalo_api_url: str, port: int) -> dict[str, str]:
    """The process environment without any CHIBO_* setting but those of a Zalo-only production server."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CHIBO_")}
    return env | {
        "CHIBO_ZALO_TOKEN": "1234567890:ZALO-TEST-SECRET",
        "CHIBO_ZALO_API_URL": zalo_api_url,
        "CHIBO_ZALO_BOT_NAME": "Chibo Lai Châu",
        "CHIBO_PUBLIC_URL": PUBLIC_URL,
        "CHIBO_WEBHOOK_SECRET": SECRET,
        "CHIBO_LISTEN_HOST": "127.0.0.1",
        "CHIBO_LISTEN_PORT": str(port),
        "CHIBO_DATABASE_URL": db_url,
        "CHIBO_DATA_DIR": str(data_dir),
    }


def test_the_administrators_commands_need_no_telegram_setting(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in [n for n in os.environ if n.startswith("CHIBO_")]:
        monkeypatch.delenv(name)
    for name, value in zalo_only_env(db_url, tmp_path / "data", "http://127.0.0.1:9", free_port()).items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()

    def ok(*args: str) -> str:
        result = cli.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result.output

    ok("db", "upgrade")
    ok("units", "import", str(EXAMPLE_ROSTER))
    ok("staff", "add", "--name", "Nguyễn Thị Tuyên", "--phone", "0988000001", "--unit", "DUK")
    invites = ok("invite", "--subtree", "DUK", "--qr", str(tmp_path / "qr"))
    assert "tìm bot «Chibo Lai Châu»" in invites
    assert "Telegram" not in invites  # no advice to configure what a Zalo-only server does not use
    sample = str(SAMPLES / "directive-747-CV-DUK.txt")
    ok("directive", "send", sample, "--deadline", "30/10/2030", "--to", "DUK")
    assert "747-CV/ĐUK" in ok("status")
    ok("export", "747", "--out", str(tmp_path / "747.xlsx"))
    ok("report", "747", "--out", str(tmp_path / "747.docx"))
    assert (tmp_path / "747.xlsx").stat().st_size > 0 and (tmp_path / "747.docx").stat().st_size > 0


async def chibo(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finished(env: dict[str, str], cwd: Path, *args: str) -> str:
    process = await chibo(env, cwd, *args)
    output, _ = await asyncio.wait_for(process.communicate(), STARTUP)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def read_until(process: asyncio.subprocess.Process, marker: str) -> str:
    assert process.stdout is not None
    seen = ""
    while marker not in seen:
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP)
        assert line, f"chibo run ended before {marker!r}:\n{seen}"
        seen += line.decode()
    return seen


async def test_chibo_run_serves_zalo_alone(fake_zalo: FakeZalo, db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = zalo_only_env(db_url, tmp_path / "data", fake_zalo.api_url, port)
    await finished(env, tmp_path, "units", "import", str(EXAMPLE_ROSTER))
    await finished(env, tmp_path, "invite", "--phone", LAN_PHONE, "--format", "csv", "--out", "invites.csv")
    with (tmp_path / "invites.csv").open(encoding="utf-8-sig") as f:
        code = list(csv.reader(f))[1][4]

    process = await chibo(env, tmp_path, "run")
    try:
        started = await read_until(process, "Chibo đang chạy")
        assert f"Zalo: webhook tại {PUBLIC_URL}" in started and "Telegram" not in started
        assert fake_zalo.webhook is not None and fake_zalo.webhook.url == f"{PUBLIC_URL}/zalo/webhook"
        # The reverse proxy: what Zalo posts to the public URL reaches the bot's own port.
        fake_zalo.webhook = replace(fake_zalo.webhook, url=f"http://127.0.0.1:{port}/zalo/webhook")

        lan = fake_zalo.user("e4ea2cd5189df1c3a88c", "Vũ Thị Lan")
        await lan.send_text(code)
        await lan.wait_for(1, timeout=30)
        await lan.send_text(LAN_PHONE)
        await lan.wait_until(lambda ms: any("Đã kết nối thành công" in m.text for m in ms), timeout=30)

        process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), STARTUP)
        assert process.returncode == 0, rest.decode()
        assert "Đã dừng Chibo." in rest.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
