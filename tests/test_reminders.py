"""Reminders and escalation through the fake Telegram with the clock moved, never slept: each default rule, the
quiet hours, catching up after downtime without repeats, a restart, the per-directive override, escalation to the
parent unit's secretary, and /nhacnho."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.scheduler import exclusive, reminders_job
from bot.services import reminders
from bot.services.reminders import DEFAULT_POLICY, Policy, PolicyRefusal
from storage.db import transaction
from storage.models import Directive, Outbox, Reminder, Unit
from tests.conftest import Restartable
from tests.support import (
    add_staff,
    board_and_secretaries,
    file_report,
    register,
    send_test_directive,
    travel_to,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = date(2024, 4, 10)
REPORT = {"ngay_to_chuc": "2024-04-08", "hinh_thuc": "Trực tuyến", "dang_vien": {"attended": 9, "total": 10}}
CUC, DUNG, KHANH = "0912000003", "0912000004", "0912000006"


def reminders_of(user: FakeUser) -> list[SentMessage]:
    return [m for m in user.messages if "NHẮC BÁO CÁO" in m.text or "ĐÔN ĐỐC BÁO CÁO" in m.text]


async def settle(bot: Runtime) -> None:
    """Let the outbox deliver what the job queued."""
    await bot.sender.idle()
    for _ in range(40):
        async with bot.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(
                    Outbox.status.in_(("pending", "sending")), Outbox.kind == "reminder"
                )
            )
        if not waiting:
            return
        bot.sender.wake()
        await bot.sender.idle()
        await _pause()
    raise AssertionError("reminders still waiting in the outbox")


async def _pause() -> None:
    await asyncio.sleep(0.05)


async def run_at(bot: Runtime, day: int, hour: int, minute: int = 0) -> reminders.Run:
    travel_to(bot, 2024, 4, day, hour, minute)
    run = await reminders_job(bot)
    assert run is not None
    await settle(bot)
    return run


async def setup(bot: Runtime, fake: FakeTelegram) -> tuple[FakeUser, dict[str, FakeUser], int]:
    board, secretaries = await board_and_secretaries(bot, fake)
    directive_id = await send_test_directive(bot, deadline=DEADLINE)
    await settle(bot)
    return board, secretaries, directive_id


# --- The pure schedule -------------------------------------------------------------------------------------


def local(day: int, hour: int) -> datetime:
    return datetime(2024, 4, day, hour, tzinfo=TZ)


def test_default_schedule_and_escalation_time() -> None:
    planned = reminders.schedule(DEFAULT_POLICY, DEADLINE, TZ)
    assert [(p.rule, p.at) for p in planned] == [
        ("before3@2024-04-10", local(7, 8)),
        ("before1@2024-04-10", local(9, 8)),
        ("due@2024-04-10", local(10, 8)),
        ("overdue1@2024-04-10", local(12, 8)),
        ("overdue2@2024-04-10", local(14, 8)),
        ("overdue3@2024-04-10", local(16, 8)),
    ]
    assert reminders.escalation_at(DEFAULT_POLICY, DEADLINE, TZ) == local(14, 8)
    sent = local(3, 9)
    assert reminders.current(DEFAULT_POLICY, DEADLINE, sent, local(7, 7), TZ) is None
    assert reminders.current(DEFAULT_POLICY, DEADLINE, sent, local(11, 23), TZ).rule == "due@2024-04-10"  # type: ignore[union-attr]
    last = reminders.current(DEFAULT_POLICY, DEADLINE, sent, local(17, 23), TZ)
    assert last is not None and last.rule == "overdue3@2024-04-10"
    assert reminders.current(DEFAULT_POLICY, DEADLINE, sent, local(18, 8), TZ) is None  # the window is over
    assert reminders.escalation_due(DEFAULT_POLICY, DEADLINE, sent, local(14, 8), TZ)
    assert not reminders.escalation_due(DEFAULT_POLICY, DEADLINE, sent, local(14, 7), TZ)
    late_sent = local(8, 10)  # sent two days before the deadline: the 3-day reminder never applies
    assert reminders.current(DEFAULT_POLICY, DEADLINE, late_sent, local(8, 12), TZ) is None


def test_quiet_hours() -> None:
    assert reminders.is_quiet(DEFAULT_POLICY, local(9, 21), TZ)
    assert reminders.is_quiet(DEFAULT_POLICY, local(10, 6), TZ)
    assert not reminders.is_quiet(DEFAULT_POLICY, local(10, 7), TZ)
    assert not reminders.is_quiet(DEFAULT_POLICY, local(10, 20), TZ)
    assert reminders.quiet_ends(DEFAULT_POLICY, local(9, 22), TZ) == local(10, 7)
    assert reminders.quiet_ends(DEFAULT_POLICY, local(10, 3), TZ) == local(10, 7)
    assert reminders.quiet_ends(DEFAULT_POLICY, local(10, 12), TZ) == local(10, 12)


def test_policy_overrides_are_checked() -> None:
    policy = reminders.parse_policy({"before_days": [5, 2], "send_at": "07:30", "escalate_after_days": None})
    assert isinstance(policy, Policy)
    assert (
        policy.before_days == (5, 2) and policy.send_at == time(7, 30) and policy.escalate_after_days is None
    )
    refused = reminders.parse_policy({"before_days": "ba ngày"})
    assert isinstance(refused, PolicyRefusal) and "before_days" in refused.message
    unknown = reminders.parse_policy({"every": 2})
    assert (
        isinstance(unknown, PolicyRefusal)
        and "«every»" in unknown.message
        and "overdue_max" in unknown.message
    )
    stored = Directive(reminder_policy={"overdue_max": 1, "send_at": "không rõ"})
    assert reminders.policy_of(stored) == Policy(
        overdue_max=1
    )  # a stored value that no longer reads is ignored


# --- Through the fake Telegram -------------------------------------------------------------------------------


async def test_each_default_rule_once_and_only_to_units_still_missing(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries, directive_id = await setup(bot, fake_tg)
    cuc, dung, khanh = secretaries[CUC], secretaries[DUNG], secretaries[KHANH]

    assert (await run_at(bot, 7, 7, 59)).reminders == 0
    first = await run_at(bot, 7, 8)
    assert first.by_rule == {"before3@2024-04-10": 3}
    reminder = reminders_of(cuc)[-1]
    assert reminder.text.startswith("⏰ NHẮC BÁO CÁO: còn 3 ngày đến hạn")
    assert "Công văn số 747-CV/ĐUK ngày 03/04/2024" in reminder.text
    assert "Hạn báo cáo: 10/04/2024 (còn 3 ngày)." in reminder.text
    assert "Chi bộ Chi bộ Văn phòng Sở Tài chính" not in reminder.text
    assert (
        "Chi bộ Văn phòng Sở Tài chính chưa gửi «Báo cáo kết quả sinh hoạt chính trị, tư tưởng»"
        in reminder.text
    )
    assert "Cần báo cáo: Ngày tổ chức; Hình thức;" in reminder.text and "(không bắt buộc)" in reminder.text
    assert "Báo cáo nhanh trong một tin nhắn: ngày; hình thức;" in reminder.text
    assert [(b.label, b.data) for b in reminder.buttons] == [("📝 Báo cáo", f"rep:{directive_id}")]
    assert (await run_at(bot, 7, 8, 1)).reminders == 0  # the next tick repeats nothing
    assert (await run_at(bot, 8, 12)).reminders == 0

    await file_report(bot, directive_id, "DUK-STC-VP", REPORT)
    assert (await run_at(bot, 9, 8)).by_rule == {"before1@2024-04-10": 2}
    assert len(reminders_of(cuc)) == 1
    assert reminders_of(dung)[-1].text.startswith("⏰ NHẮC BÁO CÁO: còn 1 ngày đến hạn")
    assert (await run_at(bot, 10, 8)).by_rule == {"due@2024-04-10": 2}
    assert reminders_of(khanh)[-1].text.startswith("⏰ NHẮC BÁO CÁO: hôm nay là hạn báo cáo")
    assert (await run_at(bot, 11, 8)).reminders == 0
    await file_report(bot, directive_id, "DUK-SYT-VP", REPORT)
    overdue = await run_at(bot, 12, 8)
    assert overdue.by_rule == {"overdue1@2024-04-10": 1}
    assert reminders_of(dung)[-1].text.startswith("❗ ĐÔN ĐỐC BÁO CÁO: đã quá hạn 2 ngày")
    assert "(đã quá hạn 2 ngày)" in reminders_of(dung)[-1].text
    assert (await run_at(bot, 14, 8)).by_rule == {"overdue2@2024-04-10": 1}
    assert (await run_at(bot, 16, 8)).by_rule == {"overdue3@2024-04-10": 1}
    assert (await run_at(bot, 18, 8)).reminders == 0  # at most three while overdue
    assert (await run_at(bot, 20, 8)).reminders == 0
    assert [m.text.splitlines()[0].split(": ")[1] for m in reminders_of(dung)] == [
        "còn 3 ngày đến hạn",
        "còn 1 ngày đến hạn",
        "hôm nay là hạn báo cáo",
        "đã quá hạn 2 ngày",
        "đã quá hạn 4 ngày",
        "đã quá hạn 6 ngày",
    ]
    assert len(reminders_of(khanh)) == 3
    async with bot.sessions() as session:
        rows = (await session.execute(select(Reminder.rule, func.count()).group_by(Reminder.rule))).all()
        reminded = set(
            (
                await session.scalars(
                    select(Unit.code)
                    .join(Reminder, Reminder.unit_id == Unit.id)
                    .where(Reminder.rule.not_like("escalate@%"))
                )
            ).all()
        )
    assert dict(rows)["before3@2024-04-10"] == 3
    assert reminded == {"DUK-STC-VP", "DUK-STC-NS", "DUK-SYT-VP"}  # unregistered cells are only escalated


async def test_quiet_hours_hold_reminders_until_morning(bot: Runtime, fake_tg: FakeTelegram) -> None:
    _, secretaries, _ = await setup(bot, fake_tg)
    assert (await run_at(bot, 9, 22)).reminders == 0  # down all day; at 22:00 it is too late to send
    assert (await run_at(bot, 10, 6, 59)).reminders == 0
    caught_up = await run_at(bot, 10, 7)
    assert caught_up.by_rule == {"before1@2024-04-10": 3}  # only the latest missed rule, not the 3-day one
    assert (await run_at(bot, 10, 8)).by_rule == {"due@2024-04-10": 3}
    texts = [m.text for m in reminders_of(secretaries[CUC])]
    assert len(texts) == 2 and "còn 1 ngày" in texts[0] and "hôm nay là hạn" in texts[1]


async def test_a_restart_neither_loses_nor_repeats(restartable: Restartable, fake_tg: FakeTelegram) -> None:
    bot = await restartable.start()
    _, secretaries, _ = await setup(bot, fake_tg)
    await restartable.stop()  # down at 08:00 on the 7th...
    travel_to(bot, 2024, 4, 7, 10)
    bot = await restartable.start()
    assert (await run_at(bot, 7, 10)).by_rule == {"before3@2024-04-10": 3}  # ...so sent when it is back
    await restartable.stop()
    bot = await restartable.start()
    assert (await run_at(bot, 7, 10, 5)).reminders == 0
    assert [len(reminders_of(user)) for user in secretaries.values()] == [1, 1, 1]


async def test_escalation_to_the_parent_unit_and_listed_for_the_board(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, _, directive_id = await setup(bot, fake_tg)
    parent = fake_tg.user(805, "Bình")
    await register(bot, parent, "0912000002")  # secretary of Đảng bộ Sở Tài chính
    await file_report(bot, directive_id, "DUK-SYT-VP", REPORT)
    assert (await run_at(bot, 13, 8)).escalations == 0  # overdue by three days is not yet "more than three"
    run = await run_at(bot, 14, 8)
    assert run.escalated_units == 4 and run.escalations == 1  # the other parents have no connected secretary
    message = [m for m in parent.messages if "ĐỀ NGHỊ ĐÔN ĐỐC" in m.text][-1]
    assert "2 chi bộ trực thuộc Đảng bộ Sở Tài chính chưa báo cáo Công văn số 747-CV/ĐUK" in message.text
    assert "(hạn 10/04/2024, đã quá hạn 4 ngày)" in message.text
    assert "• Chi bộ Văn phòng Sở Tài chính – Trần Thị Cúc ☎ 0912000003" in message.text
    assert "• Chi bộ Phòng Ngân sách – Lê Văn Dũng ☎ 0912000004" in message.text
    assert (await run_at(bot, 15, 8)).escalated_units == 0  # once per unit and deadline
    status = await _board_reply(board, "/tinhhinh", "747", "TÌNH HÌNH")
    assert "⚠️ Quá hạn trên 3 ngày, đã báo bí thư cấp trên: 4" in status.text


async def _board_reply(user: FakeUser, command: str, args: str, needle: str) -> SentMessage:
    before = len(user.messages)
    await user.send_command(command, args)
    await user.wait_until(lambda ms: any(needle in m.text for m in ms[before:]))
    return next(m for m in user.messages[before:] if needle in m.text)


async def test_a_directive_can_override_or_switch_off_the_policy(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries, directive_id = await setup(bot, fake_tg)
    async with transaction(bot.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        policy = await reminders.set_policy(session, directive, {"before_days": [5], "on_day": False})
        assert isinstance(policy, Policy)
        refused = await reminders.set_policy(session, directive, {"overdue_max": 99})
        assert isinstance(refused, PolicyRefusal) and "overdue_max" in refused.message
    async with bot.sessions() as session:
        stored = await session.get(Directive, directive_id)
        assert stored is not None and stored.reminder_policy == {"before_days": [5], "on_day": False}
    assert (await run_at(bot, 5, 8)).by_rule == {"before5@2024-04-10": 3}
    assert reminders_of(secretaries[CUC])[-1].text.startswith("⏰ NHẮC BÁO CÁO: còn 5 ngày đến hạn")
    assert (await run_at(bot, 7, 8)).reminders == 0
    assert (await run_at(bot, 10, 8)).reminders == 0  # no reminder on the day
    off = await _board_reply(board, "/nhacnho", "747 tắt", "Đã tắt nhắc nhở tự động")
    assert "747-CV/ĐUK" in off.text
    assert (await run_at(bot, 12, 8)).reminders == 0
    on = await _board_reply(board, "/nhacnho", "747 bat", "Đã bật lại")
    assert "747-CV/ĐUK" in on.text
    assert (await run_at(bot, 12, 9)).by_rule == {"overdue1@2024-04-10": 3}


async def test_nudge_now_once_a_day_and_held_in_quiet_hours(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries, directive_id = await setup(bot, fake_tg)
    await file_report(bot, directive_id, "DUK-STC-VP", REPORT)
    travel_to(bot, 2024, 4, 4, 10)
    answer = await _board_reply(board, "/nhacnho", "747", "Đã nhắc")
    assert "🔔 Đã nhắc 2 chi bộ chưa báo cáo văn bản 747-CV/ĐUK." in answer.text
    assert "Không nhắc được qua ứng dụng (2 chi bộ, cần gọi điện):" in answer.text
    assert "• Chi bộ Bệnh viện Đa khoa tỉnh – Vũ Thị Lan ☎ 0912000007" in answer.text
    await settle(bot)
    nudged = reminders_of(secretaries[DUNG])[-1]
    assert nudged.text.startswith("🔔 BAN TUYÊN GIÁO NHẮC BÁO CÁO") and "(còn 6 ngày)" in nudged.text
    assert nudged.buttons[0].data == f"rep:{directive_id}"
    assert not reminders_of(secretaries[CUC])
    again = await _board_reply(board, "/nhacnho", "747", "không nhắc lại")
    assert "Đã nhắc hôm nay, không nhắc lại: 2 chi bộ." in again.text
    assert len(reminders_of(secretaries[DUNG])) == 1

    travel_to(bot, 2024, 4, 5, 22, 30)
    night = await _board_reply(board, "/nhacnho", "747", "lúc 07:00")
    assert "Đã xếp lịch nhắc 2 chi bộ" in night.text
    bot.sender.wake()
    await _pause()
    await bot.sender.idle()
    assert len(reminders_of(secretaries[DUNG])) == 1  # not at night
    travel_to(bot, 2024, 4, 6, 7, 1)
    await settle(bot)
    assert len(reminders_of(secretaries[DUNG])) == 2


async def test_nudge_when_everyone_reported(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _, directive_id = await setup(bot, fake_tg)
    for code in ("DUK-STC-VP", "DUK-STC-NS", "DUK-SYT-VP", "DUK-SYT-BV", "DUK-BAO"):
        await file_report(bot, directive_id, code, REPORT)
    answer = await _board_reply(board, "/nhacnho", "747", "đã báo cáo")
    assert "Tất cả chi bộ trong phạm vi của đồng chí đã báo cáo văn bản 747-CV/ĐUK" in answer.text


async def test_only_one_holder_of_the_scheduler_lock(engine) -> None:  # type: ignore[no-untyped-def]
    async with exclusive(engine, 99) as first, exclusive(engine, 99) as second:
        assert first
        assert second == (engine.dialect.name != "postgresql")
    async with exclusive(engine, 99) as again:
        assert again


def test_send_times_are_local_time() -> None:
    before3 = reminders.schedule(DEFAULT_POLICY, DEADLINE, TZ)[0]
    assert before3.at == datetime(2024, 4, 7, 1, tzinfo=UTC)  # 08:00 in Hà Nội


async def test_a_board_members_switch_reaches_only_the_cells_in_their_scope(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    """Two boards share a directive: the Finance Department's board switching reminders off silences its own cells
    (Cúc, Dũng), never the Health Department's (Khánh) that the bloc committee's board also oversees."""
    board, secretaries, _ = await setup(bot, fake_tg)
    await add_staff(bot, "Trần Văn Tài", "0988000002", "DUK-STC")
    finance = fake_tg.user(701, "Tài")
    await register(bot, finance, "0988000002", role="board")

    await _board_reply(finance, "/nhacnho", "747 tắt", "Đã tắt nhắc nhở tự động")
    assert (await run_at(bot, 11, 8)).reminders == 1
    assert reminders_of(secretaries[KHANH]) and not reminders_of(secretaries[CUC])
    assert not reminders_of(secretaries[DUNG])

    await _board_reply(finance, "/nhacnho", "747 bật", "Đã bật lại")
    assert (await run_at(bot, 12, 9)).reminders == 3
    await _board_reply(board, "/nhacnho", "747 tắt", "Đã tắt nhắc nhở tự động")
    assert (await run_at(bot, 13, 9)).reminders == 0
