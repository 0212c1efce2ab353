"""Recurring directives on Zalo, on SQLite and PostgreSQL: a monthly directive opens one period ("kỳ") after
another; a cell's report belongs to the period open when it was sent; the cell is reminded again in the next
period; the board's status names the open period, and the Excel export and the Word draft of a closed period
still show that period's reports. A half-yearly schedule comes from the document's own two dates, applied by the
board in the intake preview (typed choices on the Zalo Bot Platform, buttons on the OA); the shell takes
`--every`; two instances open a period once. A monthly directive handed down to the boards below aggregates each
period like a one-off one: from the reports upward that answered that period when every unit below sent one, else
from that period's cells, saying which. A commune's re-issue of it recurs with it: its cells get each period with the
commune's earlier deadline, and the commune is reminded to report up, and shown as not reported up, afresh in each
period."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cli import app
from bot.core.clock import Clock
from bot.scheduler import reminders_job
from bot.services import board_files, cycles, directives, report_draft, status
from bot.services.directive_parser import parse_directive
from bot.services.forms_store import get_form
from bot.services.report_data import UnitStatus
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import Directive, DirectiveCycle, DirectiveTarget, Handoff, Outbox, Report, Unit
from tests.levels_support import CAMPAIGN_REISSUE as OWN
from tests.levels_support import (
    NON_MEMBERS,
    UPPER,
    answer,
    communes_act,
    docx_text,
    file_from,
    is_word,
    province_hands_down,
    reissues,
    two_communes,
)
from tests.levels_support import SUA_REPORT as SUA
from tests.support import EXAMPLE_ROSTER, QUICK, SAMPLES, sample, travel_to
from tests.test_cli import query
from tests.test_zalo_flows import board_member, secretary
from tests.zalo_fixtures import OA, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixtures, imported for pytest

NUMBER = "747-CV/ĐUK"
HALF_YEARLY = "định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12)"


def half_yearly_747() -> str:
    """Sample 747 with its yearly report deadline made half-yearly, as the parser's own example words it."""
    return sample("directive-747-CV-DUK.txt").replace("trước ngày 30/10 hằng năm", HALF_YEARLY)


async def send_monthly(world: ZaloWorld, day: int, first: date) -> int:
    """Sample 747 sent to every cell under ĐUK as a monthly report (day `day`), the way the shell sends it."""
    runtime = world.runtime
    async with transaction(runtime.sessions) as session:
        draft = await directives.new_draft(
            session,
            runtime.clock,
            parse_directive(sample("directive-747-CV-DUK.txt")),
            form_key="sinh-hoat-chinh-tri",
        )
        draft.number = NUMBER
        directives.confirm_deadline(draft, first)
        cycles.set_schedule(draft, cycles.monthly(day))
        units = list((await session.scalars(select(Unit).where(Unit.code == "DUK"))).all())
        form = await get_form(session, "sinh-hoat-chinh-tri")
        assert form is not None
        await directives.queue_broadcast(
            session, runtime.clock, draft, await directives.cells_under(session, units), form, actor="cli"
        )
        directive_id = draft.id
    runtime.sender.wake()
    return directive_id


async def _directive(world: ZaloWorld, directive_id: int) -> Directive:
    async with transaction(world.runtime.sessions) as session:
        found = await session.get(Directive, directive_id)
        assert found is not None
        return found


async def _reports(world: ZaloWorld, directive_id: int) -> list[Report]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.scalars(
            select(Report).where(Report.directive_id == directive_id).order_by(Report.id)
        )
        return list(rows.all())


async def _reminders_for(world: ZaloWorld, person: ZaloPerson) -> int:
    async with transaction(world.runtime.sessions) as session:
        count = await session.scalar(
            select(func.count()).where(Outbox.chat_id == person.id, Outbox.kind == "reminder")
        )
        return int(count or 0)


async def _lan_target(world: ZaloWorld, directive_id: int) -> DirectiveTarget:
    async with transaction(world.runtime.sessions) as session:
        target = await session.scalar(
            select(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(DirectiveTarget.directive_id == directive_id, Unit.code == "DUK-SYT-BV")
        )
        assert target is not None
        return target


async def test_a_monthly_directive_keeps_each_period_apart(zalo: ZaloWorld) -> None:
    runtime = zalo.runtime
    lan = await secretary(zalo)
    directive_id = await send_monthly(zalo, 10, date(2024, 4, 10))
    await lan.wait_for_text(NUMBER)
    tuyen = await board_member(zalo)

    # Period 1 (kỳ 04/2024): Lan reports on time.
    await lan.say(QUICK)
    first = (await eventually(lambda: _reports(zalo, directive_id), "the report is stored"))[0]
    assert (first.cycle, first.late) == (1, False)

    # The deadline passes: the leader's job opens period 2, once however often it runs.
    travel_to(runtime, 2024, 4, 11, 8, 5)
    assert await reminders_job(runtime) is not None
    assert await reminders_job(runtime) is not None
    directive = await _directive(zalo, directive_id)
    assert (directive.cycle, directive.deadline) == (2, date(2024, 5, 10))
    async with transaction(runtime.sessions) as session:
        opened = (
            await session.scalars(
                select(DirectiveCycle.number).where(DirectiveCycle.directive_id == directive_id)
            )
        ).all()
    assert sorted(opened) == [1, 2]
    assert (await _lan_target(zalo, directive_id)).reported_at is None  # nothing reported in period 2 yet

    # Period 2: Lan has not reported, so she is reminded before its deadline.
    before, shown = await _reminders_for(zalo, lan), len(lan.messages)
    travel_to(runtime, 2024, 5, 7, 8, 5)
    assert await reminders_job(runtime) is not None
    assert await _reminders_for(zalo, lan) == before + 1
    runtime.sender.wake()
    if zalo.product == OA:  # after a month of silence the OA holds it until she writes again
        await lan.say("xin chào")
    await lan.wait_until(lambda ms: any(NUMBER in m.text for m in ms[shown:]))

    # The board's status names the open period, in which nobody has reported.
    answer = await tuyen.say("tình hình 747")
    assert "kỳ 05/2024" in answer.text, tuyen.describe()

    async with transaction(runtime.sessions) as session:
        scope = await status.whole_scope(session)
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        current = await status.report_data(session, scope, directive, date(2024, 5, 7), "Asia/Ho_Chi_Minh")
        period_one = await cycles.find_by_label(session, directive, "04/2024")
        assert period_one is not None and period_one.number == 1
        closed = await status.report_data(
            session, scope, directive, date(2024, 5, 7), "Asia/Ho_Chi_Minh", period=period_one
        )
        word, _ = await report_draft.draft(session, scope, directive, date(2024, 5, 7), runtime.settings)
    assert current.counts.reported == 0
    assert closed.counts.reported == 1 and closed.directive.deadline == date(2024, 4, 10)
    lan_row = next(row for row in closed.rows if row.name == "Chi bộ Bệnh viện Đa khoa tỉnh")
    assert lan_row.status is UnitStatus.REPORTED and lan_row.values["dang_vien"] == {
        "attended": 25,
        "total": 30,
    }
    # The Word draft is of the last closed period by default, and both files say which period they are about.
    assert word.counts.reported == 1 and "kỳ 04/2024" in word.directive.subject
    sheet = load_workbook(io.BytesIO(board_files.render("xlsx", closed, directive, date(2024, 5, 7)).content))
    assert any(
        "kỳ 04/2024" in str(cell.value)
        for ws in sheet
        for row in ws.iter_rows()
        for cell in row
        if cell.value
    )
    text = "\n".join(
        p.text
        for p in Document(
            io.BytesIO(board_files.render("docx", word, directive, date(2024, 5, 7)).content)
        ).paragraphs
    )
    assert "kỳ 04/2024" in text

    # On Zalo the board asks for a closed period's Excel by its label, and is told when there is no such period.
    refused = await tuyen.say("xuất 747 kỳ 01/2020")
    assert "01/2020" in refused.text, tuyen.describe()
    await tuyen.say("xuất 747 kỳ 04/2024")
    await tuyen.wait_until(lambda ms: any(".xlsx" in m.text and m.links for m in ms))
    link = next(m.links[0] for m in reversed(tuyen.messages) if ".xlsx" in m.text and m.links)
    async with aiohttp.ClientSession() as http, http.post(zalo.local(link)) as response:
        workbook = load_workbook(io.BytesIO(await response.read()))
    assert any(
        "kỳ 04/2024" in str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value
    )

    # Her report in period 2 is that period's, numbered on from period 1's; period 1 keeps its own.
    await lan.say(QUICK)

    async def two() -> list[Report] | None:
        rows = await _reports(zalo, directive_id)
        return rows if len(rows) == 2 else None

    old, new = await eventually(two, "the period-2 report is stored")
    assert (old.cycle, old.is_latest) == (1, False)
    assert (new.cycle, new.version, new.is_latest, new.late) == (2, 2, True, False)
    assert (await _lan_target(zalo, directive_id)).reported_at is not None


def test_half_yearly_schedule_from_the_document() -> None:
    meta = parse_directive(half_yearly_747())
    schedule = cycles.proposed(meta)
    assert schedule == cycles.yearly([(6, 15), (12, 15)])
    assert schedule.next_after(date(2024, 6, 15)) == date(2024, 12, 15)
    assert schedule.next_after(date(2024, 12, 15)) == date(2025, 6, 15)
    assert schedule.label(date(2024, 6, 15)) == "kỳ 6 tháng đầu năm 2024"
    assert schedule.label(date(2024, 12, 15)) == "kỳ năm 2024"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hằng tháng 25", cycles.monthly(25)),
        ("monthly 31", cycles.monthly(31)),
        ("hằng quý 31/3", cycles.quarterly(3, 31)),
        ("yearly 15/6, 15/12", cycles.yearly([(6, 15), (12, 15)])),
        ("một lần", cycles.ONCE),
        ("định kỳ", cycles.AS_WRITTEN),
        ("hằng tháng", None),
        ("hằng năm 31/13", None),
        ("xyz", None),
    ],
)
def test_typed_schedules(typed: str, expected: object) -> None:
    assert cycles.parse(typed) == expected


def test_a_month_shorter_than_the_day_closes_on_its_last_day() -> None:
    assert cycles.monthly(31).next_after(date(2025, 1, 31)) == date(2025, 2, 28)
    assert cycles.monthly(31).next_after(date(2025, 2, 28)) == date(2025, 3, 31)
    assert cycles.quarterly(3, 31).next_after(date(2025, 3, 31)) == date(2025, 6, 30)


async def test_the_board_applies_the_half_yearly_schedule_in_the_preview(zalo: ZaloWorld) -> None:
    lan = await secretary(zalo)
    tuyen = await board_member(zalo)
    text = half_yearly_747()
    preview = await tuyen.say(text)
    await tuyen.wait_for_text("Văn bản tôi đọc được")
    await tuyen.wait_for_text("15/06, 15/12", "chưa áp dụng")
    await tuyen.tap("Định kỳ báo cáo")
    await tuyen.say("định kỳ")
    await tuyen.wait_for_text("15/06, 15/12 ✅")
    await tuyen.tap("Xác nhận hạn")
    await tuyen.tap("Tiếp tục")
    await tuyen.tap("sinh hoạt chính trị")
    await tuyen.tap("Tất cả chi bộ")
    await tuyen.tap("Gửi ngay")
    card = await lan.wait_for_text(NUMBER, "Định kỳ")
    assert "15/06, 15/12" in card.text, preview

    async with transaction(zalo.runtime.sessions) as session:
        sent = await session.scalar(select(Directive).where(Directive.status.in_(("sending", "sent"))))
        assert sent is not None
        assert cycles.schedule_of(sent) == cycles.yearly([(6, 15), (12, 15)])
        assert sent.deadline == date(2024, 6, 15)


def test_the_shell_sends_a_monthly_directive_and_exports_a_period(cli: CliRunner, db_url: str) -> None:
    assert cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)]).exit_code == 0
    args = ["directive", "send", str(SAMPLES / "directive-747-CV-DUK.txt"), "--deadline", "25/12/2030"]
    bad = cli.invoke(app, [*args, "--to", "DUK-STC", "--every", "hằng tuần"])
    assert bad.exit_code == 2 and "--every" in bad.output, bad.output
    sent = cli.invoke(app, [*args, "--to", "DUK-STC", "--every", "monthly 25"])
    assert sent.exit_code == 0, sent.output
    [(meta,)] = query(db_url, select(Directive.meta).where(Directive.status != "draft"))
    assert cycles.Schedule.from_json(meta["schedule"]) == cycles.monthly(25)
    shown = cli.invoke(app, ["status", "747"])
    assert "kỳ 12/2030" in shown.output, shown.output
    unknown = cli.invoke(app, ["export", "747", "--cycle", "05/2020"])
    assert unknown.exit_code != 0 and "05/2020" in unknown.output, unknown.output


async def test_two_instances_open_the_next_period_once(db_url: str, clock: Clock) -> None:
    """Two instances running the job at the same moment (each with its own connections) open period 2 once."""
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        async with transaction(make_sessionmaker(first)) as session:
            cell = Unit(code="C1", name="Chi bộ 1", path="/1/", is_cell=True)
            session.add(cell)
            await session.flush()
            directive = Directive(
                number="1-CV/ĐUK", status="sent", deadline=date(2024, 4, 2), created_at=clock.now(), meta={}
            )
            cycles.set_schedule(directive, cycles.monthly(2))
            session.add(directive)
            await session.flush()
            session.add(DirectiveTarget(directive_id=directive.id, unit_id=cell.id, delivery="sent"))
            directive_id = directive.id
        tz = ZoneInfo("Asia/Ho_Chi_Minh")

        async def run(engine: AsyncEngine) -> int:
            async with transaction(make_sessionmaker(engine)) as session:
                return await cycles.open_due(session, clock, tz)

        opened = await asyncio.gather(run(first), run(second))
        assert sorted(opened) == [0, 1]
        async with transaction(make_sessionmaker(first)) as session:
            stored = await session.get(Directive, directive_id)
            assert stored is not None and (stored.cycle, stored.deadline) == (2, date(2024, 5, 2))
            numbers = await session.scalars(
                select(DirectiveCycle.number).where(DirectiveCycle.directive_id == directive_id)
            )
            assert sorted(numbers.all()) == [1, 2]
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where boards re-issue and report upward by chat
async def test_a_monthly_directive_handed_down_aggregates_each_period_from_below_or_from_its_cells(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    runtime = zalo.runtime
    people = await two_communes(zalo, tmp_path, "k", cells=("pao", "sai"))
    province, tan_phong, nam_cuoi = people.province, people.tan_phong, people.nam_cuoi
    pao, sai = people.cells["pao"], people.cells["sai"]  # X-TP-B1 (of 3 cells), X-NC-B1 (of 1)
    await province_hands_down(zalo, ("X-TP", "X-NC"), schedule=cycles.monthly(10))

    # Period 1 (kỳ 04/2024): Tân Phong re-issues it, Nậm Cuổi forwards it; a cell of each reports; both report up.
    await communes_act(tan_phong, nam_cuoi, OWN)
    await pao.wait_for_text(OWN)
    await sai.wait_for_text(UPPER)
    await pao.say(QUICK)  # 12 non-members
    await sai.say(QUICK)  # 12 non-members, period 1

    async def reports(count: int) -> bool:
        async with transaction(runtime.sessions) as session:
            return len((await session.scalars(select(Report.id))).all()) == count

    await eventually(lambda: reports(2), "both cells' reports are saved")
    for commune in (tan_phong, nam_cuoi):
        await commune.say("báo cáo lên 747")
        await commune.tap("Gửi lên cấp trên")
        await commune.wait_for_text("Đã gửi báo cáo lên")
    # Both Word reports upward reached the province board before it asks for its own files.
    await province.wait_until(lambda ms: sum(is_word(m) for m in ms) == 2)
    async with transaction(runtime.sessions) as session:
        kept = (await session.scalars(select(Handoff.report_figures))).all()
    assert sorted(k["cycle"] for k in kept if k) == [1, 1], kept  # each answers period 1

    # Period 2 opens; Sài reports on it; no unit below has reported up for it.
    travel_to(runtime, 2024, 4, 11, 8, 5)
    assert await reminders_job(runtime) is not None
    await sai.say(SUA)  # 5 non-members, period 2
    await eventually(lambda: reports(3), "the second period's report is saved")

    # The closed period: both communes reported up for it, so from below by default, saying so; or from that
    # period's cells (Páo's through the re-issue, Sài's first report), saying so.
    word = docx_text(await file_from(zalo, province, "báo cáo 747 kỳ 04/2024", ".docx"))
    assert "Nguồn số liệu: báo cáo của 2/2 đơn vị cấp dưới" in word, word[:2000]
    assert f"{NON_MEMBERS}: 24 người" in word, word[:2000]
    word = docx_text(await file_from(zalo, province, "báo cáo 747 kỳ 04/2024 theo chi bộ", ".docx"))
    assert "Nguồn số liệu: báo cáo trực tiếp của 2/4 chi bộ" in word, word[:2000]
    assert f"{NON_MEMBERS}: 24 người" in word, word[:2000]

    # The open period: the reports upward answered the one before, so from its cells (Tân Phong's re-issue recurs
    # with 747 and opened its period 2, nobody reported in it; Sài's forwarded cell did), saying so; from below,
    # nobody has reported.
    text = await answer(province, "tổng hợp 747")
    assert "Nguồn số liệu: báo cáo trực tiếp của 1/4 chi bộ" in text and f"{NON_MEMBERS}: 5" in text, text
    text = await answer(province, "tổng hợp 747 theo cấp dưới")
    assert "Nguồn số liệu: báo cáo của 0/2 đơn vị cấp dưới" in text, text


async def _reissue_of(world: ZaloWorld) -> Directive:
    async with transaction(world.runtime.sessions) as session:
        found = await session.scalar(select(Directive).where(Directive.number == OWN))
        assert found is not None
        return found


async def _reports_of(world: ZaloWorld, number: str, count: int) -> bool:
    """Whether the directive numbered `number` holds `count` reports."""
    async with transaction(world.runtime.sessions) as session:
        found = await session.scalars(
            select(Report.id)
            .join(Directive, Directive.id == Report.directive_id)
            .where(Directive.number == number)
        )
        return len(found.all()) == count


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where boards re-issue and report upward by chat
async def test_a_commune_re_issue_of_a_monthly_directive_recurs_and_reports_up_each_period(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    runtime = zalo.runtime
    people = await two_communes(zalo, tmp_path, "r", cells=("pao",))
    province, tan_phong, pao = people.province, people.tan_phong, people.cells["pao"]  # Páo: X-TP-B1
    await province_hands_down(zalo, ("X-TP",), schedule=cycles.monthly(10))  # kỳ 04/2024, due 10/04

    # Tân Phong re-issues it two days earlier: the preview says the re-issue recurs monthly too.
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await tan_phong.tap("Ban hành lại")
    await tan_phong.wait_for_text("Thực hiện Công văn số 747-CV/ĐUK", "ngày 10 hằng tháng")
    await reissues(tan_phong, OWN, "8/4/2024")
    await pao.wait_for_text(OWN)

    # Period 1: Páo reports, Tân Phong reports up; the province sees it reported up.
    await pao.say(QUICK)
    await eventually(lambda: _reports_of(zalo, OWN, 1), "Páo's report is saved")
    await tan_phong.say("báo cáo lên 747")
    await tan_phong.tap("Gửi lên cấp trên")
    await tan_phong.wait_for_text("Đã gửi báo cáo lên")
    text = await answer(province, "tình hình 747")
    assert "Đảng ủy xã Tân Phong" in text and "; báo cáo lên" in text and "chưa báo cáo lên" not in text, text

    # Period 2 opens with 747's: the re-issue opens its own, due two days before 747's new deadline.
    travel_to(runtime, 2024, 4, 11, 8, 5)
    assert await reminders_job(runtime) is not None
    reissue = await _reissue_of(zalo)
    assert (reissue.cycle, reissue.deadline) == (2, date(2024, 5, 8))
    assert (await _directive(zalo, reissue.meta["upper_id"])).deadline == date(2024, 5, 10)

    # Páo, who has not reported in period 2, is reminded of the re-issue's deadline.
    shown = len(pao.messages)
    travel_to(runtime, 2024, 5, 7, 8, 5)
    assert await reminders_job(runtime) is not None
    runtime.sender.wake()
    await pao.say("xin chào")  # after a month of silence the OA holds it until she writes again
    await pao.wait_for_text(OWN, "08/05/2024", after=shown)

    # The day before 747's deadline Tân Phong is reminded to report up again, for period 2.
    shown = len(tan_phong.messages)
    travel_to(runtime, 2024, 5, 9, 8, 5)
    assert await reminders_job(runtime) is not None
    runtime.sender.wake()
    await tan_phong.say("xin chào")
    await tan_phong.wait_for_text("Hạn báo cáo lên cấp trên về văn bản 747-CV/ĐUK là 10/05/2024", after=shown)

    # The province sees Tân Phong not reported up for period 2, its cell counted in the period's re-issue; period 1
    # stays reported up (its Word report from below by default).
    text = await answer(province, "tình hình 747")
    assert "kỳ 05/2024" in text and "0/3 chi bộ đã báo cáo; chưa báo cáo lên" in text, text
    word = docx_text(await file_from(zalo, province, "báo cáo 747 kỳ 04/2024", ".docx"))
    assert "Nguồn số liệu: báo cáo của 1/1 đơn vị cấp dưới" in word, word[:2000]

    # Páo reports in period 2 and Tân Phong reports up for it: the province sees it reported up again.
    await pao.say(QUICK)
    await eventually(lambda: _reports_of(zalo, OWN, 2), "Páo's period-2 report is saved")
    before = len(tan_phong.messages)
    await tan_phong.say("báo cáo lên 747")
    await tan_phong.tap("Gửi lên cấp trên")
    await tan_phong.wait_for_text("Đã gửi báo cáo lên", after=before)
    async with transaction(runtime.sessions) as session:
        kept = (await session.scalars(select(Handoff.report_cycle))).all()
    assert kept == [2], kept
    text = await answer(province, "tình hình 747")
    assert "1/3 chi bộ đã báo cáo; báo cáo lên" in text, text
