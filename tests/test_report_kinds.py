"""Issue 15: attendance as cell minutes count it, and the built-in report kinds boards aggregate (học tập nghị quyết,
tình hình tư tưởng – dư luận xã hội, báo cáo nhanh), driven on each Zalo product alone, on SQLite and PostgreSQL.

A secretary answers the attendance question in the form walk and in a one-message report; a rapid report reaches
the board members over the cell at once; the board's status, summary, Excel and Word show the attendance rate with
exempted members left out of the denominator, and the opinion report's topics and urgency."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import aiohttp
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import rapid, status, summary
from bot.services.docx_report import build_docx
from bot.services.xlsx_export import build_xlsx
from storage.db import transaction
from storage.models import ChannelAccount, Directive, Outbox, Person, Report, Unit
from tests.support import BOARD_PHONE, add_staff, file_report, load_roster, send_test_directive
from tests.zalo_fixtures import ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

LAN_PHONE = "0912000007"  # Vũ Thị Lan, secretary of Chi bộ Bệnh viện Đa khoa tỉnh (DUK-SYT-BV)
STUDY = "hoc-tap-nghi-quyet"
OPINION = "tu-tuong-du-luan"
RAPID = "bao-cao-nhanh"
QUICK_STUDY = (
    "hôm nay; Nghị quyết Đại hội XIV của Đảng; trực tuyến; 25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do; "
    "12; Đảng viên nắm chắc nội dung; Không"
)
ATTENDANCE = {"official": 25, "probationary": 3, "exempt": 2, "excused": 1, "unexcused": 0, "present": 25}


async def _secretary(world: ZaloWorld, form_key: str) -> tuple[ZaloPerson, int]:
    await load_roster(world.runtime)
    lan = world.person("lan-zalo-1", "Vũ Thị Lan")
    await lan.join(LAN_PHONE)
    directive_id = await send_test_directive(world.runtime, form_key=form_key)
    await lan.wait_for_text("747-CV/ĐUK")
    return lan, directive_id


async def _board(world: ZaloWorld) -> ZaloPerson:
    await add_staff(world.runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    tuyen = world.person("tuyen-zalo-1", "Nguyễn Thị Tuyên")
    await tuyen.join(BOARD_PHONE, role="board")
    return tuyen


async def _reports(world: ZaloWorld, directive_id: int) -> list[Report]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.scalars(select(Report).where(Report.directive_id == directive_id))
        return list(rows.all())


# -- the secretary ---------------------------------------------------------------------------------------------


async def test_attendance_answered_in_the_form_walk_with_sums_checked(zalo: ZaloWorld) -> None:
    lan, directive_id = await _secretary(zalo, STUDY)
    await lan.say("báo cáo")
    await lan.say("hôm nay")
    await lan.say("Nghị quyết Đại hội XIV của Đảng")
    question = await lan.say("Trực tuyến")
    assert "chính thức" in question.text and "miễn" in question.text, (
        lan.describe()
    )  # one question, an example
    refused = await lan.say("25 chính thức, vắng 2")
    assert "có lý do hay không lý do" in refused.text, lan.describe()
    refused = await lan.say("25 chính thức, 3 dự bị, có mặt 20, vắng 1 không lý do")
    assert "Không khớp" in refused.text and "27 có mặt" in refused.text, lan.describe()
    await lan.say("25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do")
    await lan.say("12")
    await lan.say("Tốt")
    await lan.say("bỏ qua")
    await lan.say("gửi")
    stored = (await eventually(lambda: _reports(zalo, directive_id), "the report is stored"))[0]
    assert stored.values["dang_vien"] == ATTENDANCE
    await lan.wait_until(lambda ms: any(stored.ref in m.text and "có mặt 25/26" in m.text for m in ms))


async def test_attendance_in_a_one_message_report(zalo: ZaloWorld) -> None:
    lan, directive_id = await _secretary(zalo, STUDY)
    await lan.say(QUICK_STUDY)
    stored = (await eventually(lambda: _reports(zalo, directive_id), "the report is stored"))[0]
    assert stored.values["dang_vien"] == ATTENDANCE
    assert stored.values["hinh_thuc"] == "Trực tuyến" and stored.values["quan_chung"] == 12


async def test_a_rapid_report_reaches_the_board_at_once(zalo: ZaloWorld) -> None:
    lan, directive_id = await _secretary(zalo, RAPID)
    tuyen = await _board(zalo)
    await lan.say(
        "hôm nay; Tập trung đông người tại trụ sở UBND xã; xã Tân Phong; khẩn cấp; "
        "Khoảng 30 người khiếu nại về đất đai, tình hình đã ổn định; Đề nghị cử cán bộ nắm tình hình"
    )
    stored = (await eventually(lambda: _reports(zalo, directive_id), "the report is stored"))[0]
    notice = await tuyen.wait_for_text("BÁO CÁO NHANH", "Khẩn cấp")
    assert "Chi bộ Bệnh viện Đa khoa tỉnh" in notice.text and stored.ref in notice.text
    assert "Khoảng 30 người khiếu nại về đất đai" in notice.text
    async with transaction(zalo.runtime.sessions) as session:
        kinds = (await session.scalars(select(Outbox.kind).where(Outbox.chat_id == tuyen.id))).all()
        assert "rapid" in kinds and "summary" not in kinds  # it did not wait for the daily summary


async def test_an_ordinary_report_is_not_pushed_to_the_board(zalo: ZaloWorld) -> None:
    lan, directive_id = await _secretary(zalo, STUDY)
    tuyen = await _board(zalo)
    await lan.say(QUICK_STUDY)
    await eventually(lambda: _reports(zalo, directive_id), "the report is stored")
    await lan.settle()
    async with transaction(zalo.runtime.sessions) as session:
        kinds = (await session.scalars(select(Outbox.kind).where(Outbox.chat_id == tuyen.id))).all()
    assert "rapid" not in kinds


# -- the board's figures ---------------------------------------------------------------------------------------

# Văn phòng Sở Tài chính: 20 members, 2 exempted, nobody absent: 100 %, never 18/20.
EXEMPT_ONLY = {"official": 18, "probationary": 2, "exempt": 2, "excused": 0, "unexcused": 0, "present": 18}
# Phòng Ngân sách: 10 members, 1 exempted, 1 absent with a reason, 1 without: 7 of 9.
WITH_ABSENT = {"official": 9, "probationary": 1, "exempt": 1, "excused": 1, "unexcused": 1, "present": 7}


def _study(attendance: dict[str, int], mass: int) -> dict[str, object]:
    return {
        "ngay_hoc_tap": "2024-04-02",
        "nghi_quyet": "Nghị quyết Đại hội XIV của Đảng",
        "hinh_thuc": "Hội nghị trực tiếp",
        "dang_vien": attendance,
        "quan_chung": mass,
    }


async def test_exempted_members_are_never_counted_absent_in_any_aggregate(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    tuyen = await _board(zalo)
    directive_id = await send_test_directive(zalo.runtime, form_key=STUDY)
    await file_report(zalo.runtime, directive_id, "DUK-STC-VP", _study(EXEMPT_ONLY, 5))
    await file_report(zalo.runtime, directive_id, "DUK-STC-NS", _study(WITH_ABSENT, 3))

    shown = await tuyen.say("tình hình 747")  # status: 25 present of 27 expected (29 members, 3 exempted)
    assert "có mặt 25/27" in shown.text and "92,6%" in shown.text, tuyen.describe()
    assert "Số quần chúng dự học tập: 8" in shown.text
    daily = await tuyen.say("tổng hợp")
    assert "có mặt 25/27" in daily.text, tuyen.describe()

    await tuyen.say("xuất 747")
    await tuyen.wait_until(lambda ms: any(".xlsx" in m.text and m.links for m in ms))
    link = next(m for m in tuyen.messages if ".xlsx" in m.text and m.links).links[0]
    async with aiohttp.ClientSession() as http, http.post(zalo.local(link)) as response:  # the page's button
        workbook = load_workbook(BytesIO(await response.read()), read_only=True)
    detail = list(workbook["Chi tiết"].iter_rows(values_only=True))
    header = detail[0]
    rate = header.index("Đảng viên học tập – tỷ lệ có mặt (không tính miễn sinh hoạt)")
    exempt = header.index("Đảng viên học tập – miễn sinh hoạt")
    by_unit = {row[0]: row for row in detail[1:]}
    office = next(row for name, row in by_unit.items() if "Văn phòng Sở Tài chính" in name)
    assert office[rate] == 1.0 and office[exempt] == 2
    budget = next(row for name, row in by_unit.items() if "Phòng Ngân sách" in name)
    assert budget[rate] == 7 / 9
    totals = {row[0]: row[1:] for row in workbook["Tổng hợp"].iter_rows(values_only=True)}
    assert totals["Đảng viên học tập: có mặt"] == (25, 25 / 27)
    assert totals["Đảng viên học tập: phải dự (không tính miễn sinh hoạt)"][0] == 27

    async with transaction(zalo.runtime.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        scope = await status.whole_scope(session)
        data = await status.report_data(
            session, scope, directive, zalo.runtime.clock.today(zalo.runtime.settings.tz), "Asia/Ho_Chi_Minh"
        )
    text = "\n".join(p.text for p in Document(BytesIO(build_docx(data))).paragraphs)
    assert "25/27 đồng chí phải dự có mặt, đạt 92,6%" in text
    assert "3 đồng chí miễn sinh hoạt không tính vào số phải dự" in text


async def test_opinion_topics_and_urgency_are_counted_for_the_board(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    directive_id = await send_test_directive(zalo.runtime, form_key=OPINION)
    for code, topic, urgency in (
        ("DUK-STC-VP", "Đất đai, tài nguyên, môi trường", "Cần xử lý ngay"),
        ("DUK-STC-NS", "Đất đai, tài nguyên, môi trường", "Cần theo dõi"),
        ("DUK-BAO", "Thông tin xấu, độc trên mạng xã hội", "Cần theo dõi"),
    ):
        values = {
            "tinh_hinh_chung": "Tư tưởng ổn định",
            "chu_de": topic,
            "muc_do": urgency,
            "noi_dung": "Dư luận về bồi thường giải phóng mặt bằng",
            "de_xuat": "Đề nghị công khai phương án bồi thường",
        }
        await file_report(zalo.runtime, directive_id, code, values)
    async with transaction(zalo.runtime.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        scope = await status.whole_scope(session)
        built = await summary.build_summary(
            session, scope, zalo.runtime.clock.now(), zalo.runtime.settings.tz
        )
        data = await status.report_data(
            session, scope, directive, zalo.runtime.clock.today(zalo.runtime.settings.tz), "Asia/Ho_Chi_Minh"
        )
    text = summary.render(built)
    assert "Đất đai, tài nguyên, môi trường 2" in text and "Thông tin xấu, độc trên mạng xã hội 1" in text
    assert "Cần theo dõi 2" in text and "Cần xử lý ngay 1" in text
    totals = {
        row[0]: row[1]
        for row in load_workbook(BytesIO(build_xlsx(data)))["Tổng hợp"].iter_rows(values_only=True)
    }
    assert totals["Mức độ: Cần xử lý ngay"] == 1
    word = "\n".join(p.text for p in Document(BytesIO(build_docx(data))).paragraphs)
    assert "Cần xử lý ngay" in word and "công khai phương án bồi thường" in word


# -- who a rapid report reaches --------------------------------------------------------------------------------


async def test_rapid_report_recipients_are_the_board_over_the_cell_on_zalo_first(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    await add_staff(zalo.runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    await add_staff(zalo.runtime, "Giàng Thị Dợ", "0988000002", "X-TP")  # another subtree: not told
    async with transaction(zalo.runtime.sessions) as session:
        people = {p.phone: p for p in (await session.scalars(select(Person))).all()}
        now = zalo.runtime.clock.now()
        for phone, channel, seen in (
            (BOARD_PHONE, "zalo", datetime(2024, 1, 1, tzinfo=now.tzinfo)),
            (BOARD_PHONE, "telegram", now),  # used more recently, but Zalo comes first
            ("0988000002", "zalo", now),
        ):
            person = people[phone]
            session.add(
                ChannelAccount(
                    person_id=person.id,
                    channel=channel,
                    user_id=f"{channel}-{phone}",
                    chat_id=f"{channel}-{phone}",
                    linked_at=seen,
                    last_seen_at=seen,
                )
            )
        await session.flush()
        cell = await session.scalar(select(Unit).where(Unit.code == "DUK-SYT-BV"))
        assert cell is not None
        found = await rapid.recipients(session, cell.id)
    assert [(r.channel, r.chat_id) for r in found] == [("zalo", f"zalo-{BOARD_PHONE}")]
