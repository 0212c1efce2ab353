"""The board's commands through the fake Telegram: /tinhhinh (list, one directive, subtrees, paged missing units,
scope, ambiguous and unknown numbers), /xuat and /baocao (files opened and checked), and the same from the shell."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.services import status
from storage.db import transaction
from storage.models import DirectiveTarget, Unit
from tests.conftest import START
from tests.support import (
    add_staff,
    board_and_secretaries,
    file_report,
    load_roster,
    register,
    send_test_directive,
    travel_to,
)

REPORT_VP = {
    "ngay_to_chuc": "2024-04-05",
    "hinh_thuc": "Sinh hoạt chuyên đề",
    "dang_vien": {"attended": 25, "total": 30},
    "quan_chung": 12,
    "ket_qua": "Đảng viên thảo luận sôi nổi.",
    "kho_khan": "Thiếu tài liệu in. Đề nghị cấp trên gửi thêm tài liệu.",
}
REPORT_YT = {
    "ngay_to_chuc": "2024-04-11",
    "hinh_thuc": "Sinh hoạt chi bộ thường kỳ",
    "dang_vien": {"attended": 20, "total": 25},
    "quan_chung": 3,
    "kho_khan": "Không có",
}


async def reply_to(user: FakeUser, action: object, needle: str, wait: float = 5.0) -> SentMessage:
    """Do `action` (an awaitable) and return the first new message containing `needle`."""
    before = len(user.messages)
    await action  # type: ignore[misc]

    def arrived(messages: list[SentMessage]) -> bool:
        return any(needle in m.text for m in messages[before:])

    await user.wait_until(arrived, wait)
    return next(m for m in user.messages[before:] if needle in m.text)


async def document_from(user: FakeUser, action: object, suffix: str) -> SentMessage:
    before = len(user.messages)
    await action  # type: ignore[misc]

    def arrived(messages: list[SentMessage]) -> bool:
        return any(m.kind == "document" and (m.file_name or "").endswith(suffix) for m in messages[before:])

    await user.wait_until(arrived, 15.0)
    return next(m for m in user.messages[before:] if m.kind == "document")


async def delivered(bot: Runtime, directive_id: int, count: int) -> None:
    """Wait until the outbox has delivered the directive's cards to `count` cells."""
    for _ in range(200):
        await bot.sender.flush()
        async with bot.sessions() as session:
            sent = (
                await session.scalars(
                    select(DirectiveTarget.unit_id).where(
                        DirectiveTarget.directive_id == directive_id, DirectiveTarget.delivery == "sent"
                    )
                )
            ).all()
        if len(sent) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(sent)} cards delivered")


async def reported_747(bot: Runtime, fake: FakeTelegram) -> tuple[FakeUser, dict[str, FakeUser], int]:
    """Directive 747 to the five cells of ĐUK: one acknowledged, one reported on time, one late."""
    board, secretaries = await board_and_secretaries(bot, fake)
    directive_id = await send_test_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    await delivered(bot, directive_id, 3)
    await reply_to(secretaries["0912000004"], secretaries["0912000004"].press("✅ Đã nhận"), "Đã ghi nhận")
    travel_to(bot, 2024, 4, 5, 10)
    await file_report(bot, directive_id, "DUK-STC-VP", REPORT_VP)
    travel_to(bot, 2024, 4, 11, 9)
    await file_report(bot, directive_id, "DUK-SYT-VP", REPORT_YT)
    return board, secretaries, directive_id


# --- /tinhhinh ---------------------------------------------------------------------------------------------


async def test_status_of_one_directive(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, directive_id = await reported_747(bot, fake_tg)
    listing = await reply_to(board, board.send_command("/tinhhinh"), "Văn bản đang theo dõi")
    assert "1. 747-CV/ĐUK (03/04/2024) – hạn 10/04/2024: đã báo cáo 2/5 (40%)" in listing.text
    label = f"747-CV/ĐUK (03/04/2024) · #{directive_id}"  # its internal code tells it from any other 747
    assert [b.label for b in listing.buttons] == [label]

    view = await reply_to(board, board.press(label), "TÌNH HÌNH THỰC HIỆN")
    text = view.text
    assert "TÌNH HÌNH THỰC HIỆN CÔNG VĂN SỐ 747-CV/ĐUK" in text
    assert "Hạn báo cáo: 10/04/2024 (đã quá hạn 1 ngày)" in text
    assert "Chi bộ được giao: 5" in text
    assert "Đã nhận văn bản: 3 · đã bấm «Đã nhận»: 3" in text
    assert "Đã báo cáo: 2/5 (40%) – đúng hạn 1, muộn 1" in text
    assert "Chưa báo cáo: 3" in text
    assert "Chưa kết nối: 2 · chặn bot hoặc lỗi gửi: 0" in text
    assert "• Số buổi sinh hoạt đã tổ chức: 2" in text
    assert "• Số đảng viên tham gia / tổng số đảng viên: 45/55 đồng chí (81,8%)" in text
    assert "• Số quần chúng tham gia: 15 người" in text
    assert "• Hình thức: Sinh hoạt chi bộ thường kỳ 1; Sinh hoạt chuyên đề 1" in text
    assert "• Đảng bộ Sở Tài chính: 1/2 (50%)" in text
    assert "• Đảng bộ Sở Y tế: 1/2 (50%)" in text
    assert "• Chi bộ Báo Lai Châu: 0/1 (0%)" in text
    assert "Chưa báo cáo (3) – trang 1/1:" in text
    assert (
        "2. Chi bộ Phòng Ngân sách (Đảng bộ Sở Tài chính) – Lê Văn Dũng ☎ 0912000004 · đã bấm «Đã nhận»"
        in text
    )
    assert (
        "3. Chi bộ Bệnh viện Đa khoa tỉnh (Đảng bộ Sở Y tế) – Vũ Thị Lan ☎ 0912000007 · bí thư chưa kết nối"
        in text
    )
    assert "1. Chi bộ Báo Lai Châu (Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh) – Đỗ Văn Minh" in text
    assert "Tân Phong" not in text
    labels = [b.label for b in view.buttons]
    assert labels == ["🔔 Nhắc chi bộ chưa báo cáo", "📊 Xuất Excel", "📝 Dự thảo báo cáo"]

    same = await reply_to(board, board.send_command("/tinhhinh", "747 - cv/đuk"), "TÌNH HÌNH THỰC HIỆN")
    assert same.text == text


async def test_a_board_member_sees_only_their_scope(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, directive_id = await reported_747(bot, fake_tg)
    await add_staff(bot, "Giàng Thị Dợ", "0988000002", "X-TP")
    commune = fake_tg.user(710, "Dợ")
    await register(bot, commune, "0988000002", role="board")
    answer = await reply_to(commune, commune.send_command("/tinhhinh", "747"), "Không tìm thấy")
    assert "Không tìm thấy văn bản nào có số «747» trong phạm vi của đồng chí." in answer.text
    assert "chưa có văn bản nào" in answer.text

    province_wide = await send_test_directive(bot, "12-CV/TU", units=("TU-LC",), deadline=date(2024, 4, 30))
    own = await reply_to(commune, commune.send_command("/tinhhinh", "12"), "TÌNH HÌNH THỰC HIỆN")
    assert "Chi bộ được giao: 3" in own.text and "Phạm vi: Đảng ủy xã Tân Phong" in own.text
    assert "Chi bộ bản Tả Phìn" in own.text and "Sở Tài chính" not in own.text
    theirs = await reply_to(board, board.send_command("/tinhhinh", "12-CV"), "TÌNH HÌNH THỰC HIỆN")
    assert "Chi bộ được giao: 5" in theirs.text
    async with bot.sessions() as session:
        scope = await status.scope_of(session, await _roles(session, "0988000002"))
        assert await status.directive_in_scope(session, scope, directive_id) is None
        assert await status.directive_in_scope(session, scope, province_wide) is not None


async def _roles(session, phone: str):  # type: ignore[no-untyped-def]
    from storage.models import Person, Role

    person = await session.scalar(select(Person).where(Person.phone == phone))
    return list((await session.scalars(select(Role).where(Role.person_id == person.id))).all())


async def test_ambiguous_and_unknown_numbers_get_helpful_answers(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    cv = await send_test_directive(bot, "747-CV/ĐUK")
    kh = await send_test_directive(bot, "747-KH/ĐUK")
    await send_test_directive(bot, "1747-CV/ĐUK")
    choose = await reply_to(board, board.send_command("/tinhhinh", "747"), "Có 2 văn bản khớp «747»")
    assert sorted(b.label for b in choose.buttons) == [
        f"747-CV/ĐUK (03/04/2024) · #{cv}",
        f"747-KH/ĐUK (03/04/2024) · #{kh}",
    ]
    shown = await reply_to(board, board.press(f"747-KH/ĐUK (03/04/2024) · #{kh}"), "TÌNH HÌNH THỰC HIỆN")
    assert "SỐ 747-KH/ĐUK" in shown.text
    one = await reply_to(board, board.send_command("/tinhhinh", "747-kh"), "TÌNH HÌNH THỰC HIỆN")
    assert "SỐ 747-KH/ĐUK" in one.text
    other = await reply_to(board, board.send_command("/tinhhinh", "1747"), "TÌNH HÌNH THỰC HIỆN")
    assert "SỐ 1747-CV/ĐUK" in other.text
    unknown = await reply_to(board, board.send_command("/tinhhinh", "999"), "Không tìm thấy")
    assert "Các văn bản gần đây: " in unknown.text and "Ví dụ: /tinhhinh 1747" in unknown.text
    assert len(unknown.buttons) == 3
    bare = await reply_to(board, board.send_command("/xuat"), "gõ kèm số văn bản")
    assert "/xuat 747" in bare.text and len(bare.buttons) == 3
    garbage = await reply_to(board, board.send_command("/baocao", "@@@ " * 300), "Không tìm thấy")
    assert "Ví dụ: /baocao" in garbage.text


async def test_a_board_member_without_a_scope_is_told_so(bot: Runtime, fake_tg: FakeTelegram) -> None:
    await load_roster(bot)
    await add_staff(bot, "Cán bộ mới", "0988000005", None)
    user = fake_tg.user(730, "Mới")
    await register(bot, user, "0988000005", role="board")
    for command in ("/tinhhinh", "/tonghop", "/nhacnho"):
        answer = await reply_to(user, user.send_command(command), "chưa được giao phạm vi")
        assert "Liên hệ quản trị hệ thống" in answer.text


async def test_missing_units_are_paged(bot: Runtime, fake_tg: FakeTelegram, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    lines = ["Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại", "H,Huyện ủy Thử,,Huyện ủy,,"]
    lines += [f"H-{i:02d},Chi bộ số {i:02d},H,Chi bộ,Bí thư {i:02d},09120010{i:02d}" for i in range(1, 24)]
    roster.write_text("\n".join(lines), encoding="utf-8")
    await load_roster(bot, roster)
    await add_staff(bot, "Cán bộ", "0988000009", "H")
    board = fake_tg.user(720, "Cán bộ")
    await register(bot, board, "0988000009", role="board")
    directive_id = await send_test_directive(bot, "5-CV/HU", units=("H",))
    await file_report(bot, directive_id, "H-03", REPORT_VP)
    view = await reply_to(board, board.send_command("/tinhhinh", "5"), "TÌNH HÌNH")
    assert "Chưa báo cáo (22) – trang 1/3:" in view.text
    assert "1. Chi bộ số 01 (Huyện ủy Thử) – Bí thư 01 ☎ 0912001001 · bí thư chưa kết nối" in view.text
    assert "Chi bộ số 03" not in view.text.split("Chưa báo cáo (22)")[1]
    assert view.buttons[0].label == "Trang sau ▶️"
    second = await reply_to(board, board.press("Trang sau ▶️", view), "trang 2/3")
    assert "11. Chi bộ số 12" in second.text and "20. Chi bộ số 21" in second.text
    assert [b.label for b in second.buttons] == ["◀️ Trang trước", "Trang sau ▶️"]
    third = await reply_to(board, board.press("Trang sau ▶️", second), "trang 3/3")
    assert "22. Chi bộ số 23" in third.text and [b.label for b in third.buttons] == ["◀️ Trang trước"]


async def test_board_commands_are_not_for_secretaries(bot: Runtime, fake_tg: FakeTelegram) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    user = secretaries["0912000003"]
    answer = await reply_to(user, user.send_command("/tinhhinh"), "Lệnh này không có")
    assert "/help" in answer.text


# --- /xuat and /baocao -------------------------------------------------------------------------------------


async def test_excel_export(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, _ = await reported_747(bot, fake_tg)
    sent = await document_from(board, board.send_command("/xuat", "747"), ".xlsx")
    assert any(
        m.text.startswith("⏳ Đang tạo tệp Excel kết quả thực hiện 747-CV/ĐUK") for m in board.messages
    )
    assert sent.file_name == "ket-qua-747-cv-duk-20240411.xlsx"
    assert "2 chi bộ đã báo cáo" in sent.text
    book = load_workbook(BytesIO(sent.file_bytes or b""))
    assert book.sheetnames == ["Chi tiết", "Tổng hợp"]
    detail = book["Chi tiết"]
    assert detail.freeze_panes == "A2"
    headers = [cell.value for cell in detail[1]]
    assert headers[:4] == ["Đơn vị", "Bí thư", "Số điện thoại", "Tình trạng"]
    assert "Số đảng viên tham gia / tổng số đảng viên – tham gia" in headers
    assert headers[-3:] == ["Báo cáo muộn", "Số lần gửi báo cáo", "Ảnh minh chứng"]
    rows = {
        row[0]: dict(zip(headers, row, strict=True)) for row in detail.iter_rows(min_row=2, values_only=True)
    }
    assert len(rows) == 5
    vp = rows["Đảng bộ Sở Tài chính / Chi bộ Văn phòng Sở Tài chính"]
    assert vp["Bí thư"] == "Trần Thị Cúc" and vp["Tình trạng"] == "Đã báo cáo"
    assert vp["Số đảng viên tham gia / tổng số đảng viên – tham gia"] == 25
    assert vp["Số quần chúng tham gia"] == 12 and vp["Số lần gửi báo cáo"] == 1
    yt = rows["Đảng bộ Sở Y tế / Chi bộ Văn phòng Sở Y tế"]
    assert yt["Tình trạng"] == "Báo cáo muộn" and yt["Báo cáo muộn"] == "Có"
    assert rows["Chi bộ Báo Lai Châu"]["Tình trạng"] == "Chưa đăng ký nhận tin"
    widths = [detail.column_dimensions[c].width for c in "ABCD"]
    assert all(w and w >= 8 for w in widths)
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số đơn vị được giao"][0] == 5
    assert summary["Đã báo cáo"] == (2, 0.4)
    assert summary["Số buổi sinh hoạt đã tổ chức"][0] == 2


async def test_word_report_draft(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, _ = await reported_747(bot, fake_tg)
    sent = await document_from(board, board.send_command("/baocao", "747"), ".docx")
    assert sent.file_name == "du-thao-bao-cao-747-cv-duk-20240411.docx"
    document = Document(BytesIO(sent.file_bytes or b""))
    body = "\n".join(p.text for p in document.paragraphs)
    header = "\n".join(cell.text for table in document.tables[:1] for cell in table._cells)
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in header and "ĐẢNG ỦY KHỐI CÁC CƠ QUAN" in header
    assert "-BC/ĐUK" in header and "Lai Châu, ngày 11 tháng 4 năm 2024" in header
    assert "BÁO CÁO" in body
    assert "Công văn số 747-CV/ĐUK ngày 03/4/2024" in body
    assert "Có 2/5 đơn vị đã báo cáo kết quả, đạt 40%" in body
    assert "45/55 đồng chí, đạt 81,8%" in body
    difficulties, recommendations = body.split("III. HẠN CHẾ, KHÓ KHĂN")[1].split("IV. KIẾN NGHỊ, ĐỀ XUẤT")
    assert "- Chi bộ Văn phòng Sở Tài chính: “Thiếu tài liệu in”" in difficulties
    assert "Đề nghị" not in difficulties
    assert "- Chi bộ Văn phòng Sở Tài chính: “Đề nghị cấp trên gửi thêm tài liệu”" in recommendations
    assert "- Chi bộ Văn phòng Sở Tài chính: “Đảng viên thảo luận sôi nổi”" in body.split("III.")[0]
    assert "Danh sách đơn vị chưa báo cáo (3 đơn vị)" in body
    signature = "\n".join(cell.text for cell in document.tables[-2]._cells)
    assert "T/M BAN THƯỜNG VỤ" in signature and "Nơi nhận:" in signature
    appendix = document.tables[-1]
    assert len(appendix.rows) == 6
    assert document.styles["Normal"].font.name == "Times New Roman"
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.left_margin.mm) == 30


async def test_the_status_buttons_draft_export_and_nudge(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries, directive_id = await reported_747(bot, fake_tg)
    view = await reply_to(board, board.send_command("/tinhhinh", "747"), "TÌNH HÌNH")
    draft = await document_from(board, board.press("📝 Dự thảo báo cáo", view), ".docx")
    assert "Dự thảo báo cáo kết quả thực hiện 747-CV/ĐUK" in draft.text
    export = await document_from(board, board.press("📊 Xuất Excel", view), ".xlsx")
    assert load_workbook(BytesIO(export.file_bytes or b""))["Chi tiết"].max_row == 6
    nudged = await reply_to(board, board.press("🔔 Nhắc chi bộ chưa báo cáo", view), "Đã nhắc")
    assert "🔔 Đã nhắc 1 chi bộ chưa báo cáo văn bản 747-CV/ĐUK." in nudged.text
    dung = secretaries["0912000004"]
    await dung.wait_until(lambda ms: any("BAN TUYÊN GIÁO NHẮC BÁO CÁO" in m.text for m in ms))
    reminder = next(m for m in dung.messages if "BAN TUYÊN GIÁO NHẮC BÁO CÁO" in m.text)
    assert reminder.buttons[0].data == f"rep:{directive_id}"


# --- The shell ---------------------------------------------------------------------------------------------


def test_cli_status_export_and_report(db_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import app

    today = date.today()

    async def seed() -> None:
        settings = Settings(_env_file=None, database_url=db_url, data_dir=tmp_path / "data")  # type: ignore[call-arg]
        runtime = Runtime.build(settings, clock=Clock.starting_at(START))
        await load_roster(runtime)
        directive_id = await send_test_directive(runtime, "747-CV/ĐUK", deadline=today + timedelta(days=5))
        await file_report(runtime, directive_id, "DUK-STC-VP", REPORT_VP)
        async with transaction(runtime.sessions) as session:
            assert await session.scalar(select(Unit.id).where(Unit.code == "DUK")) is not None
        await runtime.engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("CHIBO_DATABASE_URL", db_url)
    monkeypatch.setenv("CHIBO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CHIBO_TELEGRAM_TOKEN", raising=False)
    runner = CliRunner()
    listing = runner.invoke(app, ["status"])
    assert listing.exit_code == 0, listing.output
    assert "747-CV/ĐUK" in listing.output and "1/5 (20%)" in listing.output
    one = runner.invoke(app, ["status", "747"])
    assert one.exit_code == 0, one.output
    assert "Chi bộ được giao: 5" in one.output and "Chưa báo cáo (4) – trang 1/1:" in one.output
    unknown = runner.invoke(app, ["status", "999"])
    assert (
        unknown.exit_code == 1 and "Không tìm thấy văn bản đã gửi nào có số hoặc mã «999»" in unknown.output
    )
    xlsx = tmp_path / "out.xlsx"
    exported = runner.invoke(app, ["export", "747", "--out", str(xlsx)])
    assert exported.exit_code == 0, exported.output
    assert load_workbook(xlsx)["Tổng hợp"]["B6"].value == 5
    docx = tmp_path / "out.docx"
    drafted = runner.invoke(app, ["report", "747-CV", "--out", str(docx)])
    assert drafted.exit_code == 0, drafted.output
    assert any("747-CV/ĐUK" in p.text for p in Document(str(docx)).paragraphs)
