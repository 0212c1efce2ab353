"""The daily summary with the clock moved: sent at CHIBO_SUMMARY_TIME once a day to each board member for their own
scope, with progress and the change since yesterday, the form's figures, the day's difficulties and recommendations,
the overdue units and a chart; /tonghop gives the same on demand."""

from __future__ import annotations

import asyncio
from datetime import date
from io import BytesIO

from PIL import Image
from sqlalchemy import func, select

from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.scheduler import reminders_job, summary_job
from bot.services import status, summary
from storage.models import DailySummary, Outbox
from tests.support import (
    add_staff,
    board_and_secretaries,
    file_report,
    register,
    send_test_directive,
    travel_to,
)

STUDY = {
    "ngay_to_chuc": "2024-04-08",
    "hinh_thuc": "Sinh hoạt chuyên đề",
    "dang_vien": {"attended": 18, "total": 20},
    "quan_chung": 5,
    "kho_khan": "Đường vào bản bị sạt lở. Đề nghị hỗ trợ tài liệu điện tử.",
}
STUDY_2 = {
    "ngay_to_chuc": "2024-04-09",
    "hinh_thuc": "Trực tuyến",
    "dang_vien": {"attended": 9, "total": 12},
    "quan_chung": 0,
    "kho_khan": "không",
}


def summaries_of(user: FakeUser) -> list[SentMessage]:
    return [m for m in user.messages if m.text.startswith("🗓 TỔNG HỢP NGÀY")]


async def settle(bot: Runtime) -> None:
    for _ in range(60):
        bot.sender.wake()
        await bot.sender.idle()
        async with bot.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(
                    Outbox.status.in_(("pending", "sending")), Outbox.kind == "summary"
                )
            )
        if not waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("summaries still waiting in the outbox")


async def summary_at(bot: Runtime, day: int, hour: int, minute: int = 0) -> int:
    travel_to(bot, 2024, 4, day, hour, minute)
    sent = await summary_job(bot)
    assert sent is not None
    await settle(bot)
    return sent


async def two_directives(bot: Runtime, fake: FakeTelegram) -> tuple[FakeUser, int, int]:
    board, _ = await board_and_secretaries(bot, fake)
    first = await send_test_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    second = await send_test_directive(bot, "745-CV/ĐUK", deadline=date(2024, 4, 30))
    return board, first, second


async def test_daily_summary_at_the_set_time_once_a_day(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, first, _ = await two_directives(bot, fake_tg)
    travel_to(bot, 2024, 4, 8, 10)
    await file_report(bot, first, "DUK-STC-VP", STUDY)
    assert await summary_at(bot, 8, 16, 59) == 0
    assert await summary_at(bot, 8, 17) == 1
    text = summaries_of(board)[-1].text
    assert "🗓 TỔNG HỢP NGÀY 08/04/2024" in text
    assert "Phạm vi: Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh" in text
    assert "1. 745-CV/ĐUK" in text and "2. 747-CV/ĐUK" in text  # newest first
    part = text.split("2. 747-CV/ĐUK")[1]
    assert "Hạn: 10/04/2024 (còn 2 ngày)" in part
    assert "Đã báo cáo: 1/5 (20%); tăng 1 đơn vị so với hôm qua (0% → 20%)" in part
    assert "Đúng hạn 1 · muộn 0 · chưa báo cáo 4 · chưa kết nối 2" in part
    assert "• Số buổi sinh hoạt đã tổ chức: 1" in part
    assert "• Số đảng viên tham gia / tổng số đảng viên: 18/20 đồng chí (90%)" in part
    assert "• Số quần chúng tham gia: 5 người" in part
    assert "• Hình thức: Sinh hoạt chuyên đề 1" in part
    assert "💬 Khó khăn, kiến nghị nhận trong ngày:" in text
    assert "• Chi bộ Văn phòng Sở Tài chính (747-CV/ĐUK): “Đường vào bản bị sạt lở.”" in text
    assert "• Chi bộ Văn phòng Sở Tài chính (747-CV/ĐUK): “Đề nghị hỗ trợ tài liệu điện tử.”" in text
    assert "quá hạn" not in text.split("💬")[1]
    chart = next(m for m in board.messages[::-1] if m.kind == "photo")
    assert chart.text == "📈 Tiến độ báo cáo theo văn bản"
    image = Image.open(BytesIO(chart.photo[-1].content))
    assert image.format == "PNG" and image.width > 400

    assert await summary_at(bot, 8, 17, 1) == 0
    assert await summary_at(bot, 8, 20) == 0
    assert len(summaries_of(board)) == 1

    await summary_at(bot, 9, 9)
    await file_report(bot, first, "DUK-SYT-VP", STUDY_2)
    await file_report(bot, first, "DUK-STC-VP", {**STUDY, "quan_chung": 7})  # an edit is not a new report
    assert await summary_at(bot, 9, 17, 30) == 1
    text = summaries_of(board)[-1].text.split("2. 747-CV/ĐUK")[1]
    assert "Đã báo cáo: 2/5 (40%); tăng 1 đơn vị so với hôm qua (20% → 40%)" in text
    assert "• Số quần chúng tham gia: 7 người" in text
    assert "💬" not in text  # "không" is no difficulty, and yesterday's are not repeated
    async with bot.sessions() as session:
        days = (await session.scalars(select(DailySummary.day).order_by(DailySummary.day))).all()
    assert days == [date(2024, 4, 8), date(2024, 4, 9)]


async def test_overdue_units_are_listed_with_escalation(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, first, _ = await two_directives(bot, fake_tg)
    await file_report(bot, first, "DUK-STC-VP", STUDY)
    travel_to(bot, 2024, 4, 14, 8)
    assert await reminders_job(bot) is not None
    assert await summary_at(bot, 14, 17) == 1
    text = summaries_of(board)[-1].text
    assert "❗ Chi bộ quá hạn chưa báo cáo:" in text
    line = next(line for line in text.splitlines() if line.startswith("• 747-CV/ĐUK (đã quá hạn 4 ngày):"))
    assert "Chi bộ Phòng Ngân sách (đã báo cấp trên)" in line
    assert "Chi bộ Báo Lai Châu (đã báo cấp trên)" in line
    assert "Văn phòng Sở Tài chính" not in line
    assert "745-CV/ĐUK (" not in text.split("❗")[1]


async def test_each_board_member_gets_their_own_scope(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, _ = await two_directives(bot, fake_tg)
    await add_staff(bot, "Giàng Thị Dợ", "0988000002", "X-TP")
    commune = fake_tg.user(710, "Dợ")
    await register(bot, commune, "0988000002", role="board")
    await add_staff(bot, "Lò Văn Sáng", "0988000003", "X-TP")
    quiet = fake_tg.user(711, "Sáng")
    await register(bot, quiet, "0988000003", role="board")
    province = await send_test_directive(bot, "12-CV/TU", units=("TU-LC",), deadline=date(2024, 4, 20))
    travel_to(bot, 2024, 4, 8, 9)
    await file_report(bot, province, "X-TP-B1", STUDY)
    assert await summary_at(bot, 8, 17) == 3
    theirs = summaries_of(commune)[-1].text
    assert "Phạm vi: Đảng ủy xã Tân Phong" in theirs
    assert "12-CV/TU" in theirs and "747-CV/ĐUK" not in theirs
    assert "Đã báo cáo: 1/3 (33,3%)" in theirs
    assert "Chi bộ bản Tả Phìn (12-CV/TU): “Đường vào bản bị sạt lở.”" in theirs
    chart = next(m for m in commune.messages[::-1] if m.kind == "photo")
    assert chart.text == "📈 Tiến độ báo cáo văn bản 12-CV/TU theo đơn vị"
    ours = summaries_of(board)[-1].text
    assert "Đã báo cáo: 0/5 (0%)" in ours.split("12-CV/TU")[1] and "Tả Phìn" not in ours
    assert summaries_of(quiet)[-1].text == theirs


async def test_nothing_open_sends_nothing_and_quiet_hours_wait(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    assert await summary_at(bot, 8, 17) == 0
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailySummary)) == 1
    await send_test_directive(bot, deadline=date(2024, 4, 20))
    assert await summary_at(bot, 9, 21, 30) == 0  # the bot was down at 17:00; too late tonight
    assert await summary_at(bot, 10, 6, 59) == 0  # and too early in the morning, before the summary time
    assert await summary_at(bot, 10, 17) == 1
    assert len(summaries_of(board)) == 1


async def test_tonghop_on_demand_and_chart_by_subtree(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    directive_id = await send_test_directive(bot, deadline=date(2024, 4, 20))
    await file_report(bot, directive_id, "DUK-SYT-VP", STUDY)
    before = len(board.messages)
    await board.send_command("/tonghop")
    await board.wait_until(lambda ms: any(m.kind == "photo" for m in ms[before:]))
    text = next(m for m in board.messages[before:] if m.text.startswith("🗓 TỔNG HỢP")).text
    assert "1. 747-CV/ĐUK" in text and "Đã báo cáo: 1/5 (20%)" in text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailySummary)) == 0  # on demand is extra
        scope = await status.scope_of(session, await _board_roles(session))
        built = await summary.build_summary(session, scope, bot.clock.now(), bot.settings.tz)
    assert built.chart_by_directive is False
    assert built.chart_rows == [  # the deadline is still ahead: missing reports are not yet due, not overdue
        ("Đảng bộ Sở Tài chính", 0, 0, 0, 2),
        ("Chi bộ Báo Lai Châu", 0, 0, 0, 1),
        ("Đảng bộ Sở Y tế", 1, 0, 0, 1),
    ]


async def _board_roles(session):  # type: ignore[no-untyped-def]
    from storage.models import Person, Role

    person = await session.scalar(select(Person).where(Person.phone == "0988000001"))
    return list((await session.scalars(select(Role).where(Role.person_id == person.id))).all())


def test_summary_time_window() -> None:
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    at = time(17, 0)
    assert not summary.summary_due(datetime(2024, 4, 8, 16, 59, tzinfo=tz), tz, at)
    assert summary.summary_due(datetime(2024, 4, 8, 17, 0, tzinfo=tz), tz, at)
    assert not summary.summary_due(datetime(2024, 4, 8, 21, 0, tzinfo=tz), tz, at)
    assert summary.summary_due(datetime(2024, 4, 8, 22, 0, tzinfo=tz), tz, time(21, 30))


async def test_the_summary_time_setting_drives_the_job_and_the_scheduler(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    from datetime import time

    from bot import scheduler

    board, _ = await board_and_secretaries(bot, fake_tg)
    await send_test_directive(bot, deadline=date(2024, 4, 20))
    bot.settings.summary_time = time(18, 30)
    assert await summary_at(bot, 8, 18, 29) == 0
    assert await summary_at(bot, 8, 18, 30) == 1
    assert len(summaries_of(board)) == 1
    jobs = {job.id: job for job in scheduler.build(bot, bot.leadership).get_jobs()}
    assert set(jobs) == {"reminders", "summary", "summary-at-time", "purge"}
    cron = {field.name: str(field) for field in jobs["summary-at-time"].trigger.fields}
    assert (cron["hour"], cron["minute"]) == ("18", "30")
    assert jobs["reminders"].trigger.interval.total_seconds() == 60
