"""The dispatcher's batch lane for one-message reports: many cells reporting at once are handled together, and
every event that is not a complete one-message report is answered exactly as the ordinary route answers it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.clock import Clock
from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.services.reports import NewReport, save_reports
from messages import common
from storage.db import transaction
from storage.models import Directive, Report, Unit
from tests.conftest import Restartable
from tests.support import board_and_secretaries, load_roster, register
from tests.test_reports import (
    CUC,
    DUNG,
    QUICK,
    REF,
    answer,
    card_for,
    queue_directive,
    reports_of,
)

CELLS = 10
HEADER = "Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại\n"


def quick(attended: int) -> str:
    return f"1/4; chuyên đề; {attended}/30; 5; Tốt; Không"


async def cells_with_secretaries(bot: Runtime, fake: FakeTelegram, tmp_path: Path) -> list[FakeUser]:
    """A committee with CELLS cells, each with a joined secretary (Telegram users 901…)."""
    rows = ["TU,Tỉnh ủy,,Tỉnh ủy,,", "DU,Đảng ủy Khối,TU,Đảng ủy khối,,"]
    rows += [f"C{i:02d},Chi bộ số {i},DU,Chi bộ,Bí thư {i},09130000{i:02d}" for i in range(CELLS)]
    roster = tmp_path / "cells.csv"
    roster.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    await load_roster(bot, roster)
    users = []
    for i in range(CELLS):
        user = fake.user(901 + i, f"Bí thư {i}")
        await register(bot, user, f"09130000{i:02d}")
        users.append(user)
    return users


def has(needle: str, count: int = 1) -> Callable[[list[SentMessage]], bool]:
    return lambda messages: sum(needle in m.text for m in messages) >= count


async def test_reports_arriving_together_are_handled_together_and_each_as_if_alone(
    restartable: Restartable, fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    bot = await restartable.start()
    users = await cells_with_secretaries(bot, fake_tg, tmp_path)
    await queue_directive(bot, "747-CV/ĐUK", units=("DU",))
    for user in users:
        await card_for(user, "747-CV/ĐUK")
    in_form = users[3]
    await answer(in_form, in_form.press("📝 Báo cáo"), "Mục 1/7")

    # The bot is down for a moment near the deadline: everything sent meanwhile arrives in one getUpdates.
    await restartable.stop()
    complete = [0, 1, 2, 4, 5, 6]
    for i in complete:
        await users[i].send_text(quick(20 + i))
    await in_form.send_text(
        quick(23)
    )  # a whole report in the middle of the form: the ordinary route takes it
    await users[7].send_text("1/4; chuyên đề")  # half a report: the bot asks for the rest
    await users[8].send_text(quick(18))
    await users[8].send_text(quick(28))  # sent again: a second version
    await users[9].send_text("hủy\nbỏ")  # a word for a button, on two lines
    stranger = fake_tg.user(950, "Người lạ")
    await stranger.send_text(QUICK)

    bot = await restartable.start()
    for i in [*complete, 3]:
        await users[i].wait_until(has("Mã biên nhận"))
    await users[7].wait_until(has("Mục 1/1: Số đảng viên tham gia"))
    await users[8].wait_until(has("Mã biên nhận", 2))
    await users[9].wait_until(has(common.for_channel(common.CANCELLED, commands=True)))
    await stranger.wait_until(has("chưa được kết nối"))

    refs = [REF.search(next(m.text for m in users[i].messages if "Mã biên nhận" in m.text)) for i in complete]
    assert len({ref.group(1) for ref in refs if ref}) == len(complete)
    understood = next(m.text for m in users[7].messages if "Tôi đã hiểu" in m.text)
    assert "1. Ngày tổ chức: 01/04/2024" in understood and "Còn thiếu" in understood
    assert "Đây là bản thứ 2" in users[8].messages[-1].text

    stored = await reports_of(bot)
    by_cell = {r.unit_id: r for r in stored if r.is_latest}
    async with transaction(bot.sessions) as session:
        codes = dict((await session.execute(select(Unit.id, Unit.code))).all())
    attended = {codes[r.unit_id]: r.values["dang_vien"]["attended"] for r in by_cell.values()}
    assert attended == {**{f"C{i:02d}": 20 + i for i in complete}, "C03": 23, "C08": 28}
    assert sorted(r.version for r in stored if codes[r.unit_id] == "C08") == [1, 2]
    assert len(stored) == len(complete) + 3
    counts = bot.dispatcher.lane_counts
    assert counts["handled"] == len(complete) + 2  # user 8's two reports; the rest went the ordinary way
    assert counts["batches"] < counts["handled"], "reports that arrived together shared a transaction"


@pytest.mark.parametrize(
    ("text", "by_lane"),
    [
        (QUICK, True),
        ("747: 1/4; chuyên đề; 25/30; 5; Tốt; Không", True),  # prefixed with the directive number
        ("1/4; chuyên đề", False),  # missing fields
        ("32/4; chuyên đề; 35/30; 5; Tốt; Không", False),  # invalid fields
        ("999: 1/4; chuyên đề; 25/30", False),  # a directive that is not open
        ("1/4; chuyên đề; 25/30; 5; Tốt; Không; thừa; thừa", False),  # too many parts
        ("Xin chào;\nđồng chí", False),  # not a report
        ("hủy\nbỏ", False),
        (";;;", False),
    ],
)
async def test_the_lane_answers_as_the_ordinary_route_does(
    bot: Runtime, fake_tg: FakeTelegram, text: str, by_lane: bool
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    cuc, dung = secretaries[CUC], secretaries[DUNG]
    for user in (cuc, dung):
        await card_for(user, "747-CV/ĐUK")

    async def reply_to(user: FakeUser) -> list[str]:
        before = len(user.messages)
        await user.send_text(text)
        await user.wait_until(lambda ms: len(ms) > before)
        await bot.dispatcher.idle()
        await bot.sender.idle()
        return [m.text for m in user.messages[before:]]

    with_lane = await reply_to(cuc)
    lane, bot.dispatcher.lane = bot.dispatcher.lane, None
    ordinary = await reply_to(dung)
    bot.dispatcher.lane = lane

    def same_cell(texts: list[str]) -> list[str]:
        names = ("Chi bộ Văn phòng Sở Tài chính", "Chi bộ Phòng Ngân sách")
        return [REF.sub("Mã biên nhận: BC-?", re.sub("|".join(names), "Chi bộ", t)) for t in texts]

    assert same_cell(with_lane) == same_cell(ordinary)
    assert bot.dispatcher.lane_counts["handled"] == (1 if by_lane else 0)
    saved = [r.person_id for r in await reports_of(bot)]
    assert len(saved) == (2 if by_lane else 0) and len(set(saved)) == len(saved)  # one each, or none


async def test_a_failing_batch_leaves_every_event_to_the_ordinary_route(
    bot: Runtime, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    cuc = secretaries[CUC]
    await card_for(cuc, "747-CV/ĐUK")

    async def broken(*_args: object) -> list[Report]:
        raise RuntimeError("the batch could not be saved")

    monkeypatch.setattr("handlers.quick_reports.save_reports", broken)
    receipt = await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    assert REF.search(receipt.text)
    (report,) = await reports_of(bot)
    assert report.values["dang_vien"] == {"attended": 25, "total": 30}
    assert bot.dispatcher.lane_counts["handled"] == 0


async def test_two_submissions_for_one_cell_in_one_batch_become_two_versions(
    bot: Runtime, clock: Clock
) -> None:
    await load_roster(bot)
    directive_id = await queue_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    async with transaction(bot.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        cell = await session.scalar(select(Unit.id).where(Unit.code == "DUK-STC-VP"))
        other = await session.scalar(select(Unit.id).where(Unit.code == "DUK-STC-NS"))
        assert cell is not None and other is not None
        first, second, elsewhere = await save_reports(
            session,
            clock,
            bot.settings.tz,
            [
                NewReport(directive, cell, {"n": 1}, None, "telegram"),
                NewReport(directive, cell, {"n": 2}, None, "telegram"),
                NewReport(directive, other, {"n": 3}, None, "telegram"),
            ],
        )
    assert (first.version, second.version, elsewhere.version) == (1, 2, 1)
    assert len({first.ref, second.ref, elsewhere.ref}) == 3
    stored = {(r.unit_id, r.version): r.is_latest for r in await reports_of(bot, directive_id)}
    assert stored == {(cell, 1): False, (cell, 2): True, (other, 1): True}
