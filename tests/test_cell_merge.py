"""Two party cells merge in the middle of a campaign (issue 16, "the tree can change"; the 2025 reform made one
village cell of two): the merged cell is a reporting cell and one target of the open directive; the report one of
them had made counts for it and stays under its own name; the part not reported yet is asked of the merged cell's
secretary, who gets the card when she joins (or at the change, if she had joined already) and reports; the board's
status, summary, Excel, Word and web table count the merged cell once and keep the earlier report. A merge
mixing cells and committees is refused. Through the shell (`chibo units merge`, the roster file's «Thay đổi») and the bot on Zalo,
on SQLite and PostgreSQL (bot/services/cell_targets.py)."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.scheduler import reminders_job
from storage.models import Directive, DirectiveTarget, Report, Unit
from tests.levels_support import (
    SECOND_COMMUNE,
    SUA_REPORT,
    UPPER,
    docx_text,
    province_sends,
    select_rows,
    sheet,
    two_communes,
    xlsx_summary,
)
from tests.support import EXAMPLE_ROSTER, QUICK, travel_to
from tests.test_web import Browser, _link, _rows
from tests.zalo_fixtures import BOT_PLATFORM, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]

MERGED = "Chi bộ bản Tả Phìn - Sin Suối Hồ"
NEW_SECRETARY = ("Lò Thị Mây", "0912000031")
NON_MEMBERS = "Số quần chúng tham gia"


async def _run(cli: CliRunner, *args: str) -> Any:
    return await asyncio.to_thread(cli.invoke, app, list(args))


def _said(result: Any) -> str:
    return " ".join(result.output.split())


async def _answer(person: ZaloPerson, words: str) -> str:
    """Type `words`; the whole answer, however many messages it takes."""
    before = len(person.messages)
    await person.say(words)
    return "\n".join(m.text for m in person.messages[before:])


def _tan_phong(text: str) -> str:
    found = [line for line in text.splitlines() if "Đảng ủy xã Tân Phong" in line and "chi bộ" in line]
    assert len(found) == 1, text
    return found[0]


async def _reports(world: ZaloWorld, count: int) -> bool:
    rows = await select_rows(world, select(Report.id).join(Directive).where(Directive.number == UPPER))
    return len(rows) == count


async def _targets(world: ZaloWorld) -> dict[str, str | None]:
    """The cells 747 is asked of now, each with whether it counts as reported."""
    rows = await select_rows(
        world,
        select(Unit.code, DirectiveTarget.reported_at)
        .join(DirectiveTarget, DirectiveTarget.unit_id == Unit.id)
        .join(Directive, Directive.id == DirectiveTarget.directive_id)
        .where(Directive.number == UPPER),
    )
    return {code: "reported" if at else None for code, at in rows}


async def _campaign_with_one_cell_reported(
    zalo: ZaloWorld, tmp_path: Path, tag: str
) -> dict[str, ZaloPerson]:
    """747 reaches Tân Phong's three cells through its board's forward; Páo (X-TP-B1) reports, Sua (X-TP-B2)
    not yet."""
    people = await two_communes(zalo, tmp_path, tag, cells=("pao", "sua"))
    tan_phong, pao, sua = people.tan_phong, people.cells["pao"], people.cells["sua"]
    await province_sends(zalo)
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await tan_phong.tap("Chuyển nguyên văn")
    await pao.wait_for_text(UPPER)
    await sua.wait_for_text(UPPER)
    await pao.say(QUICK)  # 12 non-members, 25/30 members
    await eventually(lambda: _reports(zalo, 1), "Páo's report is saved")
    assert await _targets(zalo) == {"X-TP-B1": "reported", "X-TP-B2": None, "X-TP-TH": None}
    return {"province": people.province, "pao": pao, "sua": sua}


async def test_two_cells_merged_mid_campaign_count_once_and_the_new_secretary_reports_the_rest(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner, http: aiohttp.ClientSession
) -> None:
    people = await _campaign_with_one_cell_reported(zalo, tmp_path, "cm1")
    province = people["province"]

    # A cell and a commune do not merge: refused with the reason, nothing changed.
    refused = await _run(cli, "units", "merge", "X-TP-B1", "X-NC", "--into", "X-ZZ", "--name", "Lẫn lộn")
    assert refused.exit_code == 1, refused.output
    said = _said(refused)
    assert "Chỉ hợp nhất chi bộ với chi bộ" in said and "Merge cells with cells" in said, said
    assert not await select_rows(zalo, select(Unit.id).where(Unit.code == "X-ZZ"))

    merged = await _run(cli, "units", "merge", "X-TP-B1", "X-TP-B2", "--into", "X-TP-B9", "--name", MERGED)
    assert merged.exit_code == 0, merged.output
    said = _said(merged)
    assert "X-TP-B9 nhận 1 văn bản đang mở mà X-TP-B1, X-TP-B2 chưa báo cáo" in said, said
    assert "Vàng Thị Sua thôi là bí thư của X-TP-B2" in said, said
    cell = await select_rows(zalo, select(Unit.is_cell, Unit.active).where(Unit.code == "X-TP-B9"))
    assert cell == [(True, True)]  # a reporting cell, not a committee
    # One target for the merged cell, still owing Sua's part; Páo's report stays his own.
    assert await _targets(zalo) == {"X-TP-B9": None, "X-TP-TH": None}
    status = await _answer(province, "tình hình 747")
    assert "0/2 chi bộ đã báo cáo" in _tan_phong(status), status

    # The roster names the merged cell's secretary; she joins and gets the directive she is to report on.
    roster = tmp_path / "after.csv"
    rows = (EXAMPLE_ROSTER.read_text(encoding="utf-8") + SECOND_COMMUNE).splitlines()
    name, phone = NEW_SECRETARY
    rows = [
        f"X-TP-B9,{MERGED},X-TP,Chi bộ,{name},{phone}" if row.startswith("X-TP-B1,") else row
        for row in rows
        if not row.startswith("X-TP-B2,")
    ]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = await _run(cli, "units", "import", str(roster))
    assert imported.exit_code == 0, imported.output
    may = zalo.person("may-cm1", name)
    await may.join(phone)
    await may.wait_for_text("VĂN BẢN MỚI", UPPER)
    # Reminded by the deadline (10/04), as the cell's secretary: three days before.
    travel_to(zalo.runtime, 2024, 4, 7, 8, 30)
    run = await reminders_job(zalo.runtime)
    assert run is not None
    zalo.runtime.sender.wake()
    await may.wait_for_text("NHẮC BÁO CÁO", UPPER)
    await may.say(SUA_REPORT)  # Sua's village: 5 non-members, 20/22 members
    await eventually(lambda: _reports(zalo, 2), "the merged cell's report is saved")
    assert await _targets(zalo) == {"X-TP-B9": "reported", "X-TP-TH": None}

    # Counted once, both reports in the figures.
    status = await _answer(province, "tình hình 747")
    assert "1/2 chi bộ đã báo cáo" in _tan_phong(status), status
    summary = await _answer(province, "tổng hợp 747")
    assert f"{NON_MEMBERS}: 17" in summary and "45/52" in summary, summary  # Páo's 12 + 5; 25 + 20 of 30 + 22
    assert "1/2 chi bộ đã báo cáo" in _tan_phong(summary), summary

    # Excel and Word: the merged cell one target, Páo's report kept under his cell's name, not counted again.
    xlsx = tmp_path / "747.xlsx"
    exported = await _run(cli, "export", "747", "--out", str(xlsx))
    assert exported.exit_code == 0, exported.output
    content = xlsx.read_bytes()
    totals = xlsx_summary(content)
    assert totals["Số đơn vị được giao"] == 2 and totals[NON_MEMBERS] == 17, totals
    detail = sheet(content, "Chi tiết")
    column = detail[0].index(NON_MEMBERS)
    named = {
        next(str(c) for c in row if isinstance(c, str) and "Chi bộ" in c): row[column] for row in detail[1:]
    }
    assert any(
        f"Chi bộ bản Tả Phìn (nay là {MERGED})" in key and value == 12 for key, value in named.items()
    ), named
    assert any(key.endswith(MERGED) and value == 5 for key, value in named.items()), named
    docx = tmp_path / "747.docx"
    drafted = await _run(cli, "report", "747", "--out", str(docx))
    assert drafted.exit_code == 0, drafted.output
    assert "17" in docx_text(docx.read_bytes())

    # The web dashboard's table of cells as the Excel: Páo's report listed under his cell's name, not a cell more.
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(province))).status == 303
    directive = await select_rows(zalo, select(Directive.id).where(Directive.number == UPPER))
    _, _, body = await browser.get(f"/web/van-ban/{directive[0][0]}")
    page = html.unescape(body.decode())
    rows = _rows(page, "units")
    assert any(f"Chi bộ bản Tả Phìn (nay là {MERGED})" in row and "Đã báo cáo" in row for row in rows), rows
    assert len(rows) == 3 and "Hiện 2/2 chi bộ." in page, page
    assert "Kèm 1 báo cáo của chi bộ đã hợp nhất" in page, page
    pao_cell = await select_rows(zalo, select(Unit.id).where(Unit.code == "X-TP-B1"))
    link = f"/web/van-ban/{directive[0][0]}/chi-bo/{pao_cell[0][0]}"
    assert link in page, page
    opened, _, report = await browser.get(link)  # his report opens from its row, as any cell's
    assert opened == 200 and "Chi bộ bản Tả Phìn" in report.decode(), report.decode()
    _, _, missing = await browser.get(
        f"/web/van-ban/{directive[0][0]}?loc=missing"
    )  # it reported: not missing
    assert "nay là" not in html.unescape(missing.decode())


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)  # the shell's real clock: no OA token
async def test_a_roster_merge_of_cells_sends_the_open_directive_to_the_joined_secretary_it_names(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    zalo.runtime.clock.set(datetime.now(UTC))  # the shell queues on the real clock: the bot's the same
    people = await _campaign_with_one_cell_reported(zalo, tmp_path, "cm2")
    sua = people["sua"]
    before = len(sua.messages)
    # The roster file states the merge on the new cell's row and names Sua, who has joined, its secretary.
    roster = tmp_path / "merged.csv"
    rows = (EXAMPLE_ROSTER.read_text(encoding="utf-8") + SECOND_COMMUNE).splitlines()
    rows[0] += ",Thay đổi"
    rows = [
        f'X-TP-B9,{MERGED},X-TP,Chi bộ,Vàng Thị Sua,0912000011,"hợp nhất từ X-TP-B1, X-TP-B2"'
        if row.startswith("X-TP-B1,")
        else row
        for row in rows
        if not row.startswith("X-TP-B2,")
    ]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = await _run(cli, "units", "import", str(roster))
    assert done.exit_code == 0, done.output
    said = _said(done)
    assert "Hợp nhất X-TP-B1, X-TP-B2 vào X-TP-B9" in said, said
    assert "Đã gửi 1 văn bản đang mở của các chi bộ cũ cho bí thư của X-TP-B9" in said, said
    assert await _targets(zalo) == {"X-TP-B9": None, "X-TP-TH": None}

    zalo.runtime.clock.set(datetime.now(UTC))  # past the moment the shell queued it
    zalo.runtime.sender.wake()
    await sua.wait_until(lambda ms: any("VĂN BẢN MỚI" in m.text and UPPER in m.text for m in ms[before:]))
    await sua.say(SUA_REPORT)
    await eventually(lambda: _reports(zalo, 2), "the merged cell's report is saved")
    assert await _targets(zalo) == {"X-TP-B9": "reported", "X-TP-TH": None}
    status = await _answer(people["province"], "tình hình 747")
    assert "1/2 chi bộ đã báo cáo" in _tan_phong(status), status


async def test_a_cell_split_mid_campaign_asks_each_new_cell_what_it_had_not_reported(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    people = await _campaign_with_one_cell_reported(zalo, tmp_path, "cm3")
    # Páo's cell had reported: its report was the whole cell's, so its target stands and nobody is asked again.
    kept = await _run(
        cli, "units", "split", "X-TP-B1", "--into", "X-TP-B1A:Chi bộ thôn Tả Phìn 1", "--into",
        "X-TP-B1B:Chi bộ thôn Tả Phìn 2",
    )  # fmt: skip
    assert kept.exit_code == 0, kept.output
    assert "nhận" not in _said(kept), kept.output
    # Sua's had not: each new cell is asked instead.
    split = await _run(
        cli, "units", "split", "X-TP-B2", "--into", "X-TP-B2A:Chi bộ thôn Sin Suối Hồ 1", "--into",
        "X-TP-B2B:Chi bộ thôn Sin Suối Hồ 2",
    )  # fmt: skip
    assert split.exit_code == 0, split.output
    said = _said(split)
    assert "X-TP-B2A nhận 1 văn bản đang mở mà X-TP-B2 chưa báo cáo" in said, said
    assert "X-TP-B2B nhận 1 văn bản" in said, said
    cells = await select_rows(
        zalo, select(Unit.code).where(Unit.is_cell.is_(True), Unit.code.like("X-TP-B2_"))
    )
    assert sorted(code for (code,) in cells) == ["X-TP-B2A", "X-TP-B2B"]
    assert await _targets(zalo) == {
        "X-TP-B1": "reported",
        "X-TP-B2A": None,
        "X-TP-B2B": None,
        "X-TP-TH": None,
    }
    status = await _answer(people["province"], "tình hình 747")
    assert "1/4 chi bộ đã báo cáo" in _tan_phong(status), status
