"""The administrator's command line: roster import (idempotent, in-place updates, bad rows refused whole),
invites in every output form, staff, `chibo run` refusing a half-configured server, and directives from the shell."""

from __future__ import annotations

import asyncio
import csv
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.fakes.telegram_server import FakeTelegram
from storage.db import make_engine, make_sessionmaker
from storage.models import DirectiveTarget, Invite, Outbox, Person, Role, Unit
from tests.support import EXAMPLE_ROSTER, SAMPLES

HEADER = "Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại\n"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CHIBO_DATABASE_URL", db_url)
    monkeypatch.setenv("CHIBO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHIBO_TELEGRAM_BOT_USERNAME", "chibo_bot")
    for name in ("CHIBO_TELEGRAM_TOKEN", "CHIBO_ZALO_TOKEN", "CHIBO_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def query(db_url: str, statement):  # type: ignore[no-untyped-def]
    async def read():  # type: ignore[no-untyped-def]
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return (await session.execute(statement)).all()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def roster(tmp_path: Path, rows: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_import_is_idempotent_and_updates_in_place(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    first = cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    assert first.exit_code == 0, first.output
    assert "13 đơn vị mới, 0 đơn vị cập nhật, 0 không đổi" in first.output
    again = cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    assert "0 đơn vị mới, 0 đơn vị cập nhật, 13 không đổi" in again.output

    edited = EXAMPLE_ROSTER.read_text(encoding="utf-8")
    edited = edited.replace("Chi bộ Báo Lai Châu,DUK,", "Chi bộ Báo Lai Châu (mới),DUK-STC,")
    edited = edited.replace("Hoàng Văn Khánh,0912000006", "Nguyễn Thị Mới,0912000099")
    path = tmp_path / "edited.csv"
    path.write_text(edited, encoding="utf-8")
    result = cli.invoke(app, ["units", "import", str(path)])
    assert "0 đơn vị mới, 2 đơn vị cập nhật, 11 không đổi" in result.output, result.output
    ((name, unit_path, is_cell),) = query(
        db_url, select(Unit.name, Unit.path, Unit.is_cell).where(Unit.code == "DUK-BAO")
    )
    ((stc_path,),) = query(db_url, select(Unit.path).where(Unit.code == "DUK-STC"))
    assert name == "Chi bộ Báo Lai Châu (mới)" and unit_path.startswith(stc_path) and is_cell
    secretaries = query(
        db_url,
        select(Person.full_name)
        .join(Role, Role.person_id == Person.id)
        .join(Unit, Unit.id == Role.unit_id)
        .where(Unit.code == "DUK-SYT-VP", Role.kind == "secretary"),
    )
    assert secretaries == [("Nguyễn Thị Mới",)]


def test_bad_rows_are_listed_and_nothing_is_imported(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    path = roster(
        tmp_path,
        "ROOT,Tỉnh ủy,,,,\n"
        "A,Đảng ủy A,NOPE,,,\n"
        "B,Chi bộ B,ROOT,,Lê Văn B,12345\n"
        "B,Chi bộ B lặp,ROOT,,,\n"
        "C,Đảng ủy C,D,,,\n"
        "D,Đảng ủy D,C,,,\n"
        ",Không mã,ROOT,,,\n"
        "E,Chi bộ E,ROOT,,Lò Văn E,0912 345 678\n",
    )
    result = cli.invoke(app, ["units", "import", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "Không nhập gì cả vì có" in out
    assert "Dòng 3 (A): không tìm thấy đơn vị cấp trên có mã NOPE" in out
    assert "Dòng 4 (B): số điện thoại «12345» không đúng định dạng" in out
    assert "Dòng 5 (B): mã đơn vị B trùng với dòng 4" in out
    assert "Dòng 6 (C): vòng lặp cấp trên" in out and "Dòng 7 (D): vòng lặp cấp trên" in out
    assert "Dòng 8 (—): thiếu mã đơn vị" in out
    assert "Dòng 9" not in out  # the good row is fine, but was not imported either
    assert query(db_url, select(func.count()).select_from(Unit)) == [(0,)]


def test_xlsx_roster_with_english_headers(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "parent_code", "kind", "secretary_name", "secretary_phone"])
    sheet.append(["P", "Đảng ủy xã P", None, "Đảng ủy xã", None, None])
    sheet.append(["P1", "Chi bộ thôn 1", "P", "Chi bộ", "Giàng A Páo", 912000123])  # Excel dropped the 0
    book.save(tmp_path / "roster.xlsx")
    result = cli.invoke(app, ["units", "import", str(tmp_path / "roster.xlsx")])
    assert result.exit_code == 0, result.output
    assert query(db_url, select(Person.phone)) == [("0912000123",)]


def test_invites_for_pending_secretaries_in_every_form(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    table = cli.invoke(app, ["invite", "--subtree", "DUK-SYT"])
    assert table.exit_code == 0, table.output
    assert "Phạm Thị Hoa" in table.output and "https://t.me/chibo_bot?start=" in table.output
    out = tmp_path / "invites.csv"
    again = cli.invoke(
        app,
        [
            "invite",
            "--subtree",
            "DUK-SYT",
            "--format",
            "csv",
            "--out",
            str(out),
            "--qr",
            str(tmp_path / "qr"),
        ],
    )
    assert again.exit_code == 0, again.output
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[0][:5] == ["Họ tên", "Số điện thoại", "Đơn vị", "Vai trò", "Mã mời"]
    assert len(rows) == 4 and all(len(r[4]) == 11 and r[4][5] == "-" for r in rows[1:])
    assert "gửi mã" in rows[1][7]  # the Zalo instructions
    assert len(list((tmp_path / "qr").glob("*.png"))) == 3
    statuses = query(
        db_url, select(Invite.revoked_at.is_(None), func.count()).group_by(Invite.revoked_at.is_(None))
    )
    assert sorted(statuses) == [(False, 3), (True, 3)]  # the second round revoked the first

    xlsx = tmp_path / "invites.xlsx"
    cli.invoke(app, ["invite", "--pending", "--format", "xlsx", "--out", str(xlsx)])
    sheet = load_workbook(xlsx).active
    assert sheet.max_row == 1 + 12  # every secretary in the roster (cells and parent units); none has joined
    assert sheet.freeze_panes == "A2"


@pytest.fixture
def telegram_elsewhere() -> Iterator[FakeTelegram]:
    """The fake Telegram on its own event loop: the command line runs its own with asyncio.run."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_invite_links_name_the_bot_telegram_knows(
    cli: CliRunner, telegram_elsewhere: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a configured bot name the Telegram channel asks Telegram for it (getMe) to make the deep links."""
    monkeypatch.delenv("CHIBO_TELEGRAM_BOT_USERNAME")
    monkeypatch.setenv("CHIBO_TELEGRAM_TOKEN", telegram_elsewhere.token)
    monkeypatch.setenv("CHIBO_TELEGRAM_API_URL", telegram_elsewhere.api_url)
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    table = cli.invoke(app, ["invite", "--subtree", "DUK-SYT"])
    assert table.exit_code == 0, table.output
    assert f"https://t.me/{telegram_elsewhere.bot_username}?start=" in table.output
    monkeypatch.setenv("CHIBO_TELEGRAM_API_URL", "http://127.0.0.1:9")  # Telegram out of reach
    unreachable = cli.invoke(app, ["invite", "--subtree", "DUK-SYT"])
    assert unreachable.exit_code == 0, unreachable.output
    assert "https://t.me/" not in unreachable.output


def test_staff_add_and_board_invite(cli: CliRunner, db_url: str) -> None:
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    added = cli.invoke(
        app, ["staff", "add", "--name", "Nguyễn Thị Tuyên", "--phone", "+84 988 000 001", "--unit", "DUK"]
    )
    assert added.exit_code == 0, added.output
    assert (
        cli.invoke(app, ["staff", "add", "--name", "X", "--phone", "0988000002", "--unit", "NOPE"]).exit_code
        == 1
    )
    assert cli.invoke(app, ["staff", "add", "--name", "X", "--phone", "12"]).exit_code == 1
    invite = cli.invoke(app, ["invite", "--role", "board", "--phone", "0988000001"])
    assert "Cán bộ Ban Tuyên giáo" in invite.output and "Nguyễn Thị Tuyên" in invite.output


def test_run_refuses_a_server_without_telegram_token(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIBO_PUBLIC_URL", "https://chibo.example.org")
    result = cli.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "@BotFather" in result.output and "CHIBO_TELEGRAM_TOKEN" in result.output
    assert "Chưa cấu hình token Telegram" in result.output


def test_directive_parse_json_and_send_from_the_shell(cli: CliRunner, db_url: str) -> None:
    import json

    parsed = cli.invoke(app, ["directive", "parse", str(SAMPLES / "directive-747-CV-DUK.txt"), "--json"])
    data = json.loads(parsed.output)
    assert data["number"] == "747-CV/ĐUK" and data["deadline"] == "2024-10-30"
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    sent = cli.invoke(
        app,
        [
            "directive",
            "send",
            str(SAMPLES / "directive-747-CV-DUK.txt"),
            "--deadline",
            "30/10/2030",
            "--to",
            "DUK-SYT",
            "--to",
            "X-TP",
        ],
    )
    assert sent.exit_code == 0, sent.output
    assert "tới 5 chi bộ" in sent.output
    assert query(db_url, select(func.count()).select_from(DirectiveTarget)) == [(5,)]
    assert query(db_url, select(func.count()).select_from(Outbox)) == [(0,)]  # nobody has joined yet
    bad = cli.invoke(
        app,
        [
            "directive",
            "send",
            str(SAMPLES / "directive-747-CV-DUK.txt"),
            "--deadline",
            "31/2/2030",
            "--to",
            "DUK",
        ],
    )
    assert bad.exit_code == 2


def test_directive_commands_refuse_classified_and_hostile_files_and_fit_long_fields(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    from bench.reading import zip_bomb_docx
    from storage.models import Directive, StoredFile

    text = (SAMPLES / "directive-747-CV-DUK.txt").read_text(encoding="utf-8")
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    classified = tmp_path / "747-mat.txt"
    classified.write_text(text.replace("Số 747-CV/ĐUK", "TỐI MẬT\n\nSố 747-CV/ĐUK"), encoding="utf-8")
    bomb = tmp_path / "bom.docx"
    bomb.write_bytes(zip_bomb_docx(64))
    for path in (classified, bomb):
        parsed = cli.invoke(app, ["directive", "parse", str(path)])
        assert parsed.exit_code == 1 and path.name in parsed.output, parsed.output
        sent = cli.invoke(app, ["directive", "send", str(path), "--deadline", "30/10/2030", "--to", "DUK"])
        assert sent.exit_code == 1 and path.name in sent.output, sent.output
    refused = cli.invoke(
        app, ["directive", "send", str(classified), "--deadline", "30/10/2030", "--to", "DUK"]
    )
    assert "Tối mật" in refused.output and "classified" in refused.output
    assert query(db_url, select(func.count()).select_from(Directive)) == [(0,)]
    assert query(db_url, select(func.count()).select_from(StoredFile)) == [(0,)]

    # A header over 255 characters and a 250-character file name (NUL-free: a shell path cannot hold one).
    long = tmp_path / ("cong-van-" + "x" * 240 + ".txt")
    long.write_text(
        text.replace("ĐẢNG BỘ TỈNH LAI CHÂU", "ĐẢNG BỘ TỈNH LAI CHÂU" + " VÀ CÁC HUYỆN" * 30),
        encoding="utf-8",
    )
    sent = cli.invoke(app, ["directive", "send", str(long), "--deadline", "30/10/2030", "--to", "DUK"])
    assert sent.exit_code == 0, sent.output
    [(parent_body,)] = query(db_url, select(Directive.parent_body))
    assert len(parent_body) == 255 and parent_body.endswith("…")
