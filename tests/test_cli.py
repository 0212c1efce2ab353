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
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.fakes.telegram_server import FakeTelegram
from bot.services.roster import decode_csv
from storage.db import make_engine, make_sessionmaker
from storage.models import DirectiveTarget, Invite, Outbox, Person, Role, Unit
from tests.support import EXAMPLE_ROSTER, SAMPLES

HEADER = "Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại\n"


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
    # Printing again does not silently revoke the codes just printed: they are kept, and listed.
    kept = cli.invoke(app, ["invite", "--subtree", "DUK-SYT"])
    assert kept.exit_code == 0 and "3 người đã có mã mời còn hạn" in kept.output, kept.output
    listed = cli.invoke(app, ["invite", "--list", "--subtree", "DUK-SYT"])
    assert "Phạm Thị Hoa" in listed.output and "3 mã mời còn hạn" in listed.output, listed.output
    assert query(db_url, select(func.count()).select_from(Invite)) == [(3,)]
    out = tmp_path / "invites.csv"
    again = cli.invoke(
        app,
        [
            "invite",
            "--replace",
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
    cards = sorted((tmp_path / "qr").glob("*.png"))
    assert len(cards) == 3
    with Image.open(cards[0]) as card:  # the name, unit and code printed under the QR code
        gray = card.convert("L")
        below = gray.crop((0, gray.width, gray.width, gray.height))
        assert gray.height > gray.width + 80 and below.getextrema()[0] < 100
    statuses = query(
        db_url, select(Invite.revoked_at.is_(None), func.count()).group_by(Invite.revoked_at.is_(None))
    )
    assert sorted(statuses) == [(False, 3), (True, 3)]  # the second round revoked the first

    xlsx = tmp_path / "invites.xlsx"
    cli.invoke(app, ["invite", "--pending", "--replace", "--format", "xlsx", "--out", str(xlsx)])
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


def _windows_1258(text: str) -> bytes:
    """`text` as Excel's plain CSV saves it on a Vietnamese Windows: precomposed where the code page has the
    letter (â, ê, ô, ơ, ư, ă, đ...), else the letter followed by a combining tone mark."""
    import unicodedata

    tones = (
        "\u0300\u0301\u0303\u0309\u0323"  # the code page's combining marks; shapes (â, ơ, ă) are precomposed
    )
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            shape = "".join(m for m in marks if m not in tones)
            out += unicodedata.normalize("NFC", base + shape).encode("cp1258")
            out += "".join(m for m in marks if m in tones).encode("cp1258")
    return bytes(out)


def test_rosters_saved_by_vietnamese_excel_are_read(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    text = EXAMPLE_ROSTER.read_text(encoding="utf-8")
    ansi = tmp_path / "ansi.csv"
    ansi.write_bytes(_windows_1258(text))
    assert b"\xcc" in ansi.read_bytes() or b"\xd2" in ansi.read_bytes()  # combining tone marks were used
    result = cli.invoke(app, ["units", "import", str(ansi)])
    assert result.exit_code == 0, result.output
    names = {name for (name,) in query(db_url, select(Unit.name))}
    assert "Chi bộ Văn phòng Sở Tài chính" in names  # composed again (NFC), as typed names are
    unicode_text = tmp_path / "unicode.csv"  # Excel's "Unicode Text": UTF-16 with BOM, tab-separated
    unicode_text.write_bytes(b"\xff\xfe" + text.replace(",", "\t").encode("utf-16-le"))
    result = cli.invoke(app, ["units", "import", str(unicode_text)])
    assert result.exit_code == 0 and "0 đơn vị mới" in result.output, result.output
    unknown = tmp_path / "unknown.csv"
    unknown.write_bytes(text.encode("utf-16-le"))  # no BOM: cannot be told from binary
    result = cli.invoke(app, ["units", "import", str(unknown)])
    assert result.exit_code == 1 and "CSV UTF-8" in " ".join(result.output.split())
    with pytest.raises(ValueError, match="Windows-1258") as refused:
        decode_csv(unknown.read_bytes())
    assert "\n" not in str(refused.value)  # one line


def test_every_problem_of_a_row_is_listed(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    path = roster(tmp_path, "ROOT,Tỉnh ủy,,,,\n" + "X" * 70 + ",,NOPE,,,12345\n")
    result = cli.invoke(app, ["units", "import", str(path)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # the console wraps long lines
    line = output[output.index("Dòng 3") :]
    for reason in ("thiếu tên đơn vị", "mã đơn vị dài quá 64", "«12345»", "không tìm thấy đơn vị cấp trên"):
        assert reason in line, line
    assert "có 1 dòng lỗi" in result.output


def test_units_list_and_remove(cli: CliRunner, db_url: str) -> None:
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    listed = cli.invoke(app, ["units", "list"])
    lines = listed.output.splitlines()
    assert lines[0].startswith("TU-LC  Tỉnh ủy Lai Châu")
    assert "      DUK-STC-VP  Chi bộ Văn phòng Sở Tài chính (chi bộ, Trần Thị Cúc)" in lines
    refused = cli.invoke(app, ["units", "remove", "DUK-STC"])
    assert refused.exit_code == 1 and "còn 2 đơn vị trực thuộc" in refused.output
    assert cli.invoke(app, ["units", "remove", "NOPE"]).exit_code == 1
    for code in ("DUK-STC-VP", "DUK-STC-NS"):
        deleted = cli.invoke(app, ["units", "remove", code])
        assert deleted.exit_code == 0 and f"Đã xoá {code}" in deleted.output
    sent = cli.invoke(
        app,
        [
            "directive",
            "send",
            str(SAMPLES / "directive-747-CV-DUK.txt"),
            "--deadline",
            "30/10/2030",
            "--to",
            "DUK",
        ],
    )
    assert sent.exit_code == 0, sent.output
    retired = cli.invoke(app, ["units", "remove", "DUK-STC"])  # now a cell, and it received the directive
    assert retired.exit_code == 0 and "ngừng hoạt động" in retired.output
    after = cli.invoke(app, ["units", "list"]).output
    assert (
        "DUK-STC-VP" not in after
        and "Đảng bộ Sở Tài chính (chi bộ, Nguyễn Văn Bình, ngừng hoạt động)" in after
    )
    assert query(db_url, select(func.count()).select_from(DirectiveTarget)) == [(4,)]  # its history kept
