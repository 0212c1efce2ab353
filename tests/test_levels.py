"""Levels (issue 16): a province board's directive reaches the boards of the units below that have their own
board staff, each of which re-issues it to its cells with its own number and an earlier deadline (a later one is
refused) or forwards it unchanged; a commune without board staff gets it in its cells directly; a cell reports on
its own level's directive; the province board's status shows, per unit below, what was done and how far its cells
got; two communes merged mid-campaign still add up under their successor; boards along the chain are reminded and
escalated. The chat intake is driven on the Zalo OA (where a board prepares directives by chat); forwarding, the
merge and the reminders on both Zalo products; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.scheduler import reminders_job
from bot.services import levels
from storage.db import transaction
from storage.models import Directive, Handoff, Report, Role, Unit
from tests.levels_support import (
    OWN,
    PROVINCE_BOARD,
    SECRETARIES,
    TAN_PHONG_BOARD,
    UPPER,
    board,
    directive_numbered,
    drafts_747_for_every_cell,
    handoffs,
    is_word,
    load_two_communes,
    province_sends,
    reissues,
    secretary,
    select_rows,
    targets_of,
    two_communes,
)
from tests.support import QUICK
from tests.zalo_fixtures import OA, ZaloWorld, eventually, zalo

__all__ = ["zalo"]

on_oa = pytest.mark.parametrize("zalo", [OA], indirect=True)


@on_oa
async def test_a_province_directive_is_reissued_by_a_commune_forwarded_by_a_bloc_and_sent_direct_elsewhere(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    await load_two_communes(zalo, tmp_path)
    province = await board(zalo, "tinh-1", *PROVINCE_BOARD, "TU-LC")
    commune = await board(zalo, "xa-1", *TAN_PHONG_BOARD, "X-TP")
    bloc = await board(zalo, "khoi-1", "Lê Thị Khối", "0913000003", "DUK")
    pao = await secretary(zalo, "pao-1", *SECRETARIES["pao"])  # X-TP-B1, under the commune board
    sai = await secretary(zalo, "sai-1", *SECRETARIES["sai"])  # X-NC-B1, a commune with no board
    cuc = await secretary(zalo, "cuc-1", *SECRETARIES["cuc"])  # DUK-STC-VP, under the bloc

    # Down: the province board sends to every cell of the province.
    await drafts_747_for_every_cell(province)
    await province.tap("Gửi ngay")
    await province.wait_for_text("Đảng ủy xã Tân Phong", "ban hành lại")
    await sai.wait_for_text(UPPER)  # no board between: directly
    assert await handoffs(zalo) == {"X-TP": ("pending", None), "DUK": ("pending", None)}
    assert await targets_of(zalo, UPPER) == {"X-NC-B1"}  # nothing went past a board that stands between

    # The commune board re-issues it: the draft says what it carries out and the upper deadline.
    card = await commune.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    assert "30/10/2024" in card.text, card.text
    preview = await commune.tap("Ban hành lại")
    preview = await commune.wait_for_text("Thực hiện Công văn số 747-CV/ĐUK ngày 03/04/2024")
    assert "Hạn báo cáo của cấp trên: 30/10/2024" in preview.text, preview.text
    await commune.tap("Hạn báo cáo")
    refused = await commune.say("5/11/2024")
    assert "muộn hơn hạn của cấp trên" in refused.text, commune.describe()
    await commune.say("20/10/2024")
    await reissues(commune, OWN)
    own_card = await pao.wait_for_text(OWN)
    assert "20/10/2024" in own_card.text, own_card.text
    assert UPPER not in "\n".join(m.text for m in pao.messages)  # the cell has its own level's directive only
    assert await targets_of(zalo, OWN) == {"X-TP-B1", "X-TP-B2", "X-TP-TH"}

    # The bloc board forwards it unchanged to its cells; pressing again does nothing twice.
    await bloc.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await bloc.tap("Chuyển nguyên văn")
    await bloc.wait_for_text("Đã chuyển nguyên văn")
    await cuc.wait_for_text(UPPER)
    again = await bloc.tap("Chuyển nguyên văn")
    assert "đã được" in again.text, bloc.describe()
    duk_cells = {c for c in await targets_of(zalo, UPPER) if c.startswith("DUK")}
    assert "DUK-STC-VP" in duk_cells and len(duk_cells) == 5
    assert await handoffs(zalo) == {"X-TP": ("reissued", OWN), "DUK": ("forwarded", None)}

    # A cell reports on its own level's directive; the province board sees each unit below.
    await pao.say(QUICK)
    own = await directive_numbered(zalo, OWN)
    assert own is not None

    async def reported() -> bool:
        rows = await select_rows(zalo, select(Report.id).where(Report.directive_id == own.id))
        return bool(rows)

    await eventually(reported, "the cell's report on the re-issue is saved")

    # Up: the commune board reads its Word draft, aggregated from its cells, and sends it to the province board.
    up = await commune.say("báo cáo lên 747")
    assert "1/3 chi bộ đã báo cáo" in up.text, commune.describe()
    await commune.wait_until(lambda ms: any(is_word(m) for m in ms))
    await commune.tap("Gửi lên cấp trên")
    await commune.wait_for_text("Đã gửi báo cáo lên", "đúng hạn")
    received = await province.wait_for_text("BÁO CÁO CẤP DƯỚI", "Đảng ủy xã Tân Phong")
    assert "1/3 chi bộ" in received.text, received.text
    await province.wait_until(lambda ms: any(is_word(m) for m in ms))
    reports_up = await select_rows(
        zalo, select(Unit.code, Handoff.report_late).join(Unit).where(Handoff.reported_at.is_not(None))
    )
    assert reports_up == [("X-TP", False)]
    shown = await province.say("tình hình 747")
    text = "\n".join(m.text for m in province.messages[-3:])
    assert "Cấp dưới" in text, province.describe()
    assert "Đảng ủy xã Tân Phong: ban hành lại" in text and f"số {OWN}, hạn 20/10/2024" in text, text
    assert "1/3 chi bộ đã báo cáo" in text, text
    assert "chuyển nguyên văn" in text, text
    assert "đúng hạn" in text and "chưa báo cáo lên" in text, (
        text
    )  # the commune reported up, the bloc not yet
    assert shown is not None
    assert levels.PENDING == "pending"


async def test_two_communes_merged_mid_campaign_still_add_up_under_their_successor(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    people = await two_communes(zalo, tmp_path, "2")
    province, pao, sai = people.province, people.cells["pao"], people.cells["sai"]
    await province_sends(zalo)
    assert await targets_of(zalo, UPPER) == set()  # both communes have their own board: nothing went direct
    for commune in (people.tan_phong, people.nam_cuoi):
        await commune.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
        await commune.tap("Chuyển nguyên văn")
        await commune.wait_for_text("Đã chuyển nguyên văn")
    await pao.wait_for_text(UPPER)
    await pao.say(QUICK)  # before the merge

    merged = await asyncio.to_thread(
        cli.invoke,
        app,
        ["units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"],
    )
    assert merged.exit_code == 0, merged.output
    assert "X-MOI" in merged.output
    refused = await asyncio.to_thread(cli.invoke, app, ["units", "merge", "X-KHONG", "--into", "X-MOI"])
    assert refused.exit_code == 1 and "X-KHONG" in refused.output

    await sai.wait_for_text(UPPER)
    await sai.say(QUICK)  # after the merge: the cell's report keeps its cell, which now sits under X-MOI

    async def both_reported() -> bool:
        rows = await select_rows(
            zalo, select(Report.unit_id).join(Directive).where(Directive.number == UPPER)
        )
        return len(rows) == 2

    await eventually(both_reported, "both cells' reports are saved")
    await province.say("tình hình 747")
    text = "\n".join(m.text for m in province.messages[-3:])
    assert "Đảng ủy xã Tân Phong mới (hợp nhất từ" in text, text
    assert "Đảng ủy xã Nậm Cuổi" in text and "2/4 chi bộ đã báo cáo" in text, text
    async with transaction(zalo.runtime.sessions) as session:
        old = await session.scalar(select(Unit).where(Unit.code == "X-TP"))
        new = await session.scalar(select(Unit).where(Unit.code == "X-MOI"))
        cell = await session.scalar(select(Unit).where(Unit.code == "X-TP-B1"))
        assert old is not None and new is not None and cell is not None
        assert not old.active and old.successor_id == new.id and cell.path.startswith(new.path)
        staff = (
            await session.scalars(select(Role).where(Role.unit_id == new.id, Role.kind == "board"))
        ).all()
        assert len(staff) == 2  # both communes' board staff now staff the successor


async def test_boards_along_the_chain_are_reminded_and_escalated_to_the_level_above(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    people = await two_communes(zalo, tmp_path, "3", cells=())
    province, tan_phong, nam_cuoi = people.province, people.tan_phong, people.nam_cuoi
    await province_sends(zalo)  # the upper deadline: 10/04/2024
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await nam_cuoi.tap("Chuyển nguyên văn")
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)  # and does nothing with it

    clock = zalo.runtime.clock
    clock.advance(timedelta(days=2))
    run = await reminders_job(zalo.runtime)
    assert run is not None and run.levels == 1
    await tan_phong.wait_for_text("chưa được ban hành lại hoặc chuyển")
    clock.advance(timedelta(days=4))  # 09/04: the day before the upper deadline
    run = await reminders_job(zalo.runtime)
    assert run is not None and run.levels == 1
    await nam_cuoi.wait_for_text("báo cáo lên 747")
    clock.advance(timedelta(days=2))  # 11/04: past it
    await province.say("tình hình")  # within the OA's window of free messages, as a board at work is
    run = await reminders_job(zalo.runtime)
    assert run is not None and run.levels == 2
    await province.wait_for_text("Đảng ủy xã Tân Phong chưa ban hành lại")
    await province.wait_for_text("Đảng ủy xã Nậm Cuổi chưa báo cáo lên")
    again = await reminders_job(zalo.runtime)
    assert again is not None and again.levels == 0  # recorded: never twice
