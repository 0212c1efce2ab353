"""Up (issue 16): the province board's summary, Excel and Word on a directive it handed to two communes, built
from the cells (every cell's report, through the re-issue and the forward) or from the communes' reports upward
(the figures each one sent up, kept on its handoff), each saying which, with figures equal to their rows; the
commune that has not reported up is listed as such with its live progress apart; the drill-down from the upper
status to one commune's cells; the same files from the shell with --from; the upper /tinhhinh, its list and the
daily summary count every cell under the directive, their missing lists staying the upper board's own cells. Driven through the bot on both Zalo
products, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.services import upward
from storage.db import transaction
from storage.models import Directive, Handoff, Report, Unit
from tests.levels_support import CAMPAIGN_REISSUE as OWN
from tests.levels_support import (
    NON_MEMBERS,
    SUA_REPORT,
    UPPER,
    answer,
    campaign,
    docx_text,
    file_from,
    province_sends,
    reissues,
    sheet,
    two_communes,
    xlsx_summary,
)
from tests.support import QUICK
from tests.zalo_fixtures import ZaloWorld, eventually, zalo

__all__ = ["zalo"]

NAM_CUOI_OWN = "16-CV/ĐU"  # Nậm Cuổi's re-issue (the merge test)
FROM_CELLS = "Nguồn số liệu: báo cáo trực tiếp của 3/4 chi bộ"
FROM_BELOW = "Nguồn số liệu: báo cáo của 1/2 đơn vị cấp dưới"


def _appendix(content: bytes) -> list[int]:
    """The figures of the Word appendix's column of non-members, row by row (empty cells left out)."""
    for table in Document(io.BytesIO(content)).tables:
        head = [cell.text for cell in table.rows[0].cells]
        if NON_MEMBERS in head:
            column = head.index(NON_MEMBERS)
            values = [row.cells[column].text.strip() for row in table.rows[1:]]
            return [int(value) for value in values if value]
    raise AssertionError("no appendix table")


async def test_the_upper_board_aggregates_from_the_cells_or_from_below_and_says_which(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    province, _, _ = await campaign(zalo, tmp_path)

    # The report upward kept the figures it was built from.
    async with transaction(zalo.runtime.sessions) as session:
        rows = (await session.execute(select(Unit.code, Handoff.report_figures).join(Unit))).all()
    figures: dict[str, Any] = {code: kept for code, kept in rows}
    assert figures["X-NC"] is None
    kept = figures["X-TP"]
    assert kept["form_key"] == "sinh-hoat-chinh-tri" and kept["built_on"]
    assert kept["counts"]["targeted"] == 3 and kept["counts"]["reported_on_time"] == 2
    assert kept["aggregates"]["sums"] == {"quan_chung": 17}
    assert kept["aggregates"]["ratios"] == {"dang_vien": [45, 52]}

    # The summary in chat: from the cells by default (a commune has yet to report up), or from below.
    text = await answer(province, "tổng hợp 747")
    assert FROM_CELLS in text, province.describe()
    assert f"{NON_MEMBERS}: 29" in text and "70/82" in text, text  # 12 + 5 + 12; 25 + 20 + 25 of 30 + 22 + 30
    assert "Đảng ủy xã Nậm Cuổi (chuyển nguyên văn): 1/1 chi bộ đã báo cáo" in text, text
    text = await answer(province, "tổng hợp 747 theo cấp dưới")
    assert FROM_BELOW in text, province.describe()
    assert f"{NON_MEMBERS}: 17" in text and "45/52" in text, text  # Tân Phong's report only
    assert f"ban hành lại, số {OWN}" in text and "2/3 chi bộ đã báo cáo" in text, text
    not_up = text.split("Chưa báo cáo lên")[1]
    assert "Đảng ủy xã Nậm Cuổi" in not_up and "1/1 chi bộ" in not_up, text  # live, apart, not added in

    # Excel from the cells: one row per cell (through the re-issue and the forward); totals equal the rows.
    cells = await file_from(zalo, province, "xuất 747", ".xlsx")
    summary = xlsx_summary(cells)
    assert summary["Nguồn số liệu"].startswith("báo cáo trực tiếp của 3/4 chi bộ"), summary
    detail = sheet(cells, "Chi tiết")
    column = detail[0].index(NON_MEMBERS)
    assert len(detail) - 1 == 4 == summary["Số đơn vị được giao"]
    assert sum(row[column] or 0 for row in detail[1:]) == 29 == summary[NON_MEMBERS]

    # Excel from below: one row per commune; totals equal the rows; Nậm Cuổi not reported, live apart.
    below = await file_from(zalo, province, "xuất 747 theo cấp dưới", ".xlsx")
    summary = xlsx_summary(below)
    assert summary["Nguồn số liệu"] == "báo cáo của 1/2 đơn vị cấp dưới", summary
    units = sheet(below, "Cấp dưới")
    head, body = units[0], {row[0]: row for row in units[1:]}
    column = head.index(NON_MEMBERS)
    assert sum(row[column] or 0 for row in body.values()) == 17 == summary[NON_MEMBERS]
    reported = head.index("Chi bộ đã báo cáo (theo báo cáo)")
    assert (
        sum(row[reported] or 0 for row in body.values())
        == 2
        == summary["Chi bộ đã báo cáo (theo báo cáo cấp dưới)"]
    )
    nam_cuoi = body["Đảng ủy xã Nậm Cuổi"]
    assert "Chưa báo cáo lên" in nam_cuoi and nam_cuoi[-1] == "1/1" and nam_cuoi[column] is None

    # Word from the cells and from below, each saying its source in its body.
    content = await file_from(zalo, province, "báo cáo 747", ".docx")
    word = docx_text(content)
    assert FROM_CELLS in word and f"{NON_MEMBERS}: 29 người" in word, word[:2000]
    assert _appendix(content) == [12, 5, 12], word  # one row per cell, through the re-issue and the forward
    content = await file_from(zalo, province, "báo cáo 747 theo cấp dưới", ".docx")
    word = docx_text(content)
    assert FROM_BELOW in word and f"{NON_MEMBERS}: 17 người" in word, word[:2000]
    assert _appendix(content) == [17], word  # one row per unit below; Nậm Cuổi's is empty
    assert "Đảng ủy xã Nậm Cuổi – Chưa báo cáo lên (hiện 1/1 chi bộ đã báo cáo" in word, word  # apart

    # The same from the shell.
    out = tmp_path / "below.xlsx"
    done = await asyncio.to_thread(cli.invoke, app, ["export", "747", "--from", "below", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert xlsx_summary(out.read_bytes())["Nguồn số liệu"] == "báo cáo của 1/2 đơn vị cấp dưới"
    out = tmp_path / "cells.docx"
    done = await asyncio.to_thread(cli.invoke, app, ["report", "747", "--from", "cells", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert FROM_CELLS in docx_text(out.read_bytes())
    refused = await asyncio.to_thread(cli.invoke, app, ["export", "747", "--from", "somewhere"])
    assert refused.exit_code != 0


async def test_the_upper_board_drills_down_from_its_status_to_one_communes_cells(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    province, _, _ = await campaign(zalo, tmp_path)
    status = await answer(province, "tình hình 747")
    assert "tình hình 747 <mã đơn vị>" in status, status
    # Typed, as on any product: Tân Phong's re-issue within Tân Phong, its missing cell named.
    shown = await answer(province, "tình hình 747 X-TP")
    assert "Đảng ủy xã Tân Phong — ban hành lại" in shown and OWN in shown, shown
    assert "2/3" in shown and "Chi bộ Trường Tiểu học Tân Phong" in shown, shown
    assert "Nậm Cuổi" not in shown, shown
    # Or chosen from the status (a button on the OA, a number typed on the Bot Platform).
    await province.say("tình hình 747")
    before = len(province.messages)
    await province.tap("🔎 Đảng ủy xã Nậm Cuổi")
    shown = "\n".join(m.text for m in province.messages[before:])
    assert "Đảng ủy xã Nậm Cuổi — chuyển nguyên văn" in shown and "1/1" in shown, shown
    assert "ban hành lại của cấp dưới" not in shown, shown  # Tân Phong's re-issue lies outside Nậm Cuổi
    refused = await province.say("tình hình 747 DUK-BAO")  # a unit the directive was not handed to
    assert "chưa nhận văn bản" in refused.text, province.describe()
    async with transaction(zalo.runtime.sessions) as session:
        assert await session.scalar(select(Directive.id).where(Directive.number == OWN))


async def test_the_upper_status_and_summary_count_every_cell_under_a_directive_handed_down(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    province, _, nam_cuoi = await campaign(zalo, tmp_path)
    zalo.runtime.clock.advance(timedelta(days=10))  # past both deadlines: overdue cells would be named

    # /tinhhinh: the top figures add up Tân Phong's re-issue and Nậm Cuổi's forward; the units below still listed.
    text = await answer(province, "tình hình 747")
    assert "Chi bộ được giao: 4" in text and "Đã báo cáo: 3/4" in text, text
    assert "Số liệu gồm cả chi bộ nhận qua 1 văn bản ban hành lại của cấp dưới." in text, text
    assert "🏛 Cấp dưới:" in text and "Đảng ủy xã Tân Phong" in text, text
    # Its list of missing cells is the upper board's own (Nậm Cuổi's forwarded cell reported); the re-issue's
    # missing cell answers to Tân Phong's board and deadline, seen by drilling down.
    assert "Chi bộ nhận trực tiếp: không còn chi bộ nào chưa báo cáo." in text, text
    assert "Trường Tiểu học Tân Phong" not in text, text

    # The list and the summary: one line for 747 counting all four cells; the re-issue is not listed again.
    listed = await answer(province, "tình hình")
    assert UPPER in listed and OWN not in listed and "3/4" in listed, listed
    summary = await answer(province, "tổng hợp")
    assert f"1. {UPPER}" in summary and "Đã báo cáo: 3/4" in summary, summary
    assert "Gồm cả chi bộ nhận qua 1 văn bản ban hành lại của cấp dưới." in summary, summary
    assert OWN not in summary and "Trường Tiểu học Tân Phong" not in summary, summary

    # A commune board on the directive it forwarded sees its own cell, never its peer's progress below the
    # province.
    own = await answer(nam_cuoi, "tình hình 747")
    assert "Chi bộ được giao: 1" in own and "Đã báo cáo: 1/1" in own, own
    assert "🏛 Cấp dưới:" not in own and "Tân Phong" not in own, own


def test_the_units_below_are_dated_in_the_users_time_zone() -> None:
    # 06:30 on 4 April in Hà Nội is still 3 April in UTC, where the handoff's times are stored.
    acted = datetime(2024, 4, 3, 23, 30, tzinfo=UTC)
    row = upward.Below(Unit(name="Đảng ủy xã Tân Phong"), "forwarded", acted, [], 2, 1, reported_up=acted)
    text = upward.render_below([row], ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "(04/04/2024)" in text and "báo cáo lên 04/04/2024" in text, text
    assert "03/04/2024" not in text, text


async def test_after_a_merge_the_successor_reports_upward_from_both_communes_reissues_once_each(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    """Both communes re-issued 747 before they were merged: the successor's report upward answers for both
    re-issues, its Word draft built from each once (figures, appendix rows), and so are the figures it keeps."""
    people = await two_communes(zalo, tmp_path, "m", cells=("pao", "sai"))
    tan_phong, nam_cuoi = people.tan_phong, people.nam_cuoi
    pao, sai = people.cells["pao"], people.cells["sai"]  # X-TP-B1, X-NC-B1
    await province_sends(zalo)
    for board, number in ((tan_phong, OWN), (nam_cuoi, NAM_CUOI_OWN)):
        await board.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
        await board.tap("Ban hành lại")
        await board.wait_for_text("Thực hiện Công văn số 747-CV/ĐUK")
        await reissues(board, number, "8/4/2024")
    await pao.wait_for_text(OWN)
    await sai.wait_for_text(NAM_CUOI_OWN)
    await pao.say(QUICK)  # 12 non-members, 25/30 members
    await sai.say(SUA_REPORT)  # 5 non-members, 20/22 members

    async def reported() -> bool:
        async with transaction(zalo.runtime.sessions) as session:
            return len((await session.scalars(select(Report.id))).all()) == 2

    await eventually(reported, "both cells' reports are saved")
    merged = await asyncio.to_thread(
        cli.invoke,
        app,
        ["units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"],
    )
    assert merged.exit_code == 0, merged.output

    content = await file_from(zalo, tan_phong, "báo cáo lên 747", ".docx")
    word = docx_text(content)
    assert f"{NON_MEMBERS}: 17 người" in word and "45/52" in word, word[:2000]
    assert sorted(_appendix(content)) == [5, 12], word  # each re-issue's cells, once
    assert "Có 2/4 đơn vị đã báo cáo" in word, word[:2000]
    await tan_phong.tap("Gửi lên cấp trên")
    await tan_phong.wait_for_text("Đã gửi báo cáo lên")
    async with transaction(zalo.runtime.sessions) as session:
        kept = [f for f in (await session.scalars(select(Handoff.report_figures))).all() if f is not None]
    assert len(kept) == 1, kept  # one report for both units, kept once
    assert kept[0]["counts"]["targeted"] == 4 and kept[0]["counts"]["reported_on_time"] == 2, kept
    assert kept[0]["aggregates"]["sums"] == {"quan_chung": 17}
    text = await answer(people.province, "tổng hợp 747 theo cấp dưới")
    assert FROM_BELOW.replace("1/2", "1/1") in text and f"{NON_MEMBERS}: 17" in text, text
