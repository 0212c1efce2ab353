"""The units tree changes in the middle of a campaign (issue 16, "the tree can change"): a commune split by
`chibo units split` still adds up (its row in the province's status becomes one per successor, by where its cells
now are; the reports keep their cell); the roster file states a merge, a split, a rename and a move, the import
applies them and says so, and refuses a file whose changes contradict; after a merge the successor's board is
reminded of the retired unit's pending directive, acts on it and reports upward for both; a directive held for a
unit merged since reaches the successor's board when its member joins, and its re-issue is the successor's. At a
merge (shell or roster file) a directive held for a retired unit goes at once to a successor's board that has joined,
and the retired unit's secretary role ends unless the roster names her on the successor's row (also at a split). Through the CLI entry
point and the bot on both Zalo products, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.scheduler import reminders_job
from bot.services import directives, levels
from bot.services.forms_store import get_form
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import AuditEntry, Directive, Handoff, Person, Report, Role, Unit, UnitSplit
from tests.levels_support import (
    NAM_CUOI_BOARD,
    OWN,
    SECOND_COMMUNE,
    SECRETARIES,
    TAN_PHONG_BOARD,
    UPPER,
    board,
    handoffs,
    is_word,
    load_two_communes,
    province_hands_down,
    province_sends,
    reissues,
    secretary,
    select_rows,
    two_communes,
)
from tests.support import EXAMPLE_ROSTER, QUICK, invite_code
from tests.zalo_fixtures import BOT_PLATFORM, OA, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]

CHANGES = EXAMPLE_ROSTER.parent / "roster-changes.csv"


async def _run(cli: CliRunner, *args: str) -> Any:
    return await asyncio.to_thread(cli.invoke, app, list(args))


def _status(board: ZaloPerson) -> str:
    """The province board's latest status with its units below."""
    return next(m.text for m in reversed(board.messages) if "Cấp dưới" in m.text)


def _line(text: str, *words: str) -> str:
    """The one line of the status holding every word."""
    found = [line for line in text.splitlines() if all(w in line for w in words)]
    assert len(found) == 1, text
    return found[0]


async def test_a_commune_split_mid_campaign_still_adds_up_by_where_its_cells_now_are(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    people = await two_communes(zalo, tmp_path, "6", cells=("pao", "sua"))  # X-TP-B1, X-TP-B2
    province, tan_phong, pao, sua = (
        people.province,
        people.tan_phong,
        people.cells["pao"],
        people.cells["sua"],
    )
    await province_sends(zalo)
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await tan_phong.tap("Chuyển nguyên văn")
    await pao.wait_for_text(UPPER)
    await pao.say(QUICK)
    await eventually(lambda: _reports(zalo, 1), "Páo's report is saved")
    await province.say("tình hình 747")
    before = _line(_status(province), "Đảng ủy xã Tân Phong:")
    assert "1/3 chi bộ đã báo cáo" in before, before

    # Refused with the reason, nothing changed: a cell left unplaced.
    refused = await _run(
        cli, "units", "split", "X-TP", "--into", "X-TPH:Đảng ủy xã Tả Phìn", "--into",
        "X-SSH:Đảng ủy xã Sin Suối Hồ", "--cells", "X-TPH=X-TP-B1",
    )  # fmt: skip
    assert refused.exit_code == 1, refused.output
    assert "Chưa xếp" in refused.output and "X-TP-B2, X-TP-TH" in refused.output, refused.output
    assert not await select_rows(zalo, select(Unit.id).where(Unit.code == "X-TPH"))
    split = await _run(
        cli, "units", "split", "X-TP", "--into", "X-SSH:Đảng ủy xã Sin Suối Hồ", "--into",
        "X-TPH:Đảng ủy xã Tả Phìn", "--cells", "X-TPH=X-TP-B1,X-TP-TH", "--cells", "X-SSH=X-TP-B2",
        "--main", "X-TPH",
    )  # fmt: skip
    assert split.exit_code == 0, split.output
    assert "Đã tách X-TP thành X-TPH" in split.output and "Split X-TP into" in split.output, split.output
    assert "X-TPH: X-TP-B1, X-TP-TH" in split.output, split.output
    # The split commune's secretary leads neither successor unless the roster names her on its row.
    assert "Giàng A Nủ thôi là bí thư của X-TP" in " ".join(split.output.split()), split.output
    assert await _secretaries(zalo, "0912000009") == []

    await sua.wait_for_text(UPPER)
    await sua.say(QUICK)  # after the split: the report keeps its cell, now under X-SSH
    await eventually(lambda: _reports(zalo, 2), "Sua's report is saved")
    await province.say("tình hình 747")
    text = _status(province)
    main = _line(text, "Đảng ủy xã Tả Phìn (từ Đảng ủy xã Tân Phong, đã chia thành")
    other = _line(text, "Đảng ủy xã Sin Suối Hồ (từ Đảng ủy xã Tân Phong, đã chia thành")
    assert "chuyển nguyên văn" in main and "1/2 chi bộ đã báo cáo" in main, main
    assert "1/1 chi bộ đã báo cáo" in other, other  # 2/3 in all: the campaign still adds up
    assert "Đảng ủy xã Tân Phong:" not in text, text

    async with transaction(zalo.runtime.sessions) as session:
        old = await session.scalar(select(Unit).where(Unit.code == "X-TP"))
        tph = await session.scalar(select(Unit).where(Unit.code == "X-TPH"))
        assert old is not None and tph is not None
        assert not old.active and old.successor_id == tph.id
        into = (
            await session.scalars(select(UnitSplit.successor_id).where(UnitSplit.unit_id == old.id))
        ).all()
        assert len(into) == 2
        handed = (await session.scalars(select(Handoff.unit_id))).all()
        assert old.id in handed  # the handoff keeps the unit it was made to
        cells = dict(
            (await session.execute(select(Unit.id, Unit.code).join(Report, Report.unit_id == Unit.id))).all()
        )
        assert set(cells.values()) == {"X-TP-B1", "X-TP-B2"}  # the reports keep their cells
        staff = (await session.scalars(select(Role.unit_id).where(Role.kind == "board"))).all()
        assert tph.id in staff and old.id not in staff  # the board staff went with the main successor


async def test_a_commune_that_reissued_then_split_counts_its_reissue_under_each_successor(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    people = await two_communes(zalo, tmp_path, "7", cells=("pao", "sua"))  # X-TP-B1, X-TP-B2
    province, pao, sua = people.province, people.cells["pao"], people.cells["sua"]
    await province_sends(zalo)
    await _commune_reissues(zalo)
    await pao.wait_for_text(OWN)
    await pao.say(QUICK)
    await eventually(lambda: _reports(zalo, 1, OWN), "Páo's report on the re-issue is saved")
    split = await _run(
        cli, "units", "split", "X-TP", "--into", "X-TPH:Đảng ủy xã Tả Phìn", "--into",
        "X-SSH:Đảng ủy xã Sin Suối Hồ", "--cells", "X-TPH=X-TP-B1,X-TP-TH", "--cells", "X-SSH=X-TP-B2",
    )  # fmt: skip
    assert split.exit_code == 0, split.output
    await sua.wait_for_text(OWN)
    await sua.say(QUICK)
    await eventually(lambda: _reports(zalo, 2, OWN), "Sua's report on the re-issue is saved")
    await province.say("tình hình 747")
    text = _status(province)
    main = _line(text, "Đảng ủy xã Tả Phìn (từ Đảng ủy xã Tân Phong, đã chia thành")
    other = _line(text, "Đảng ủy xã Sin Suối Hồ (từ Đảng ủy xã Tân Phong, đã chia thành")
    assert f"ban hành lại (03/04/2024), số {OWN}" in main and "1/2 chi bộ đã báo cáo" in main, main
    assert f"số {OWN}" in other and "1/1 chi bộ đã báo cáo" in other, other


async def _commune_reissues(world: ZaloWorld) -> None:
    """The commune's board re-issues 747 as its own 12-CV/ĐU to all its cells, as its chat re-issue does."""
    clock = world.runtime.clock
    async with transaction(world.runtime.sessions) as session:
        handed = await session.scalar(select(Handoff).join(Unit).where(Unit.code == "X-TP"))
        commune = await session.scalar(select(Unit).where(Unit.code == "X-TP"))
        assert handed is not None and commune is not None
        draft = await levels.reissue_draft(session, clock, handed, created_by=None, today=date(2024, 4, 3))
        draft.number = OWN
        directives.confirm_deadline(draft, date(2024, 4, 8))
        cells = await directives.cells_under(session, [commune])
        form = await get_form(session, draft.form_key)
        await levels.broadcast(session, clock, draft, cells, form, actor="test")
    world.runtime.sender.wake()


async def _secretaries(world: ZaloWorld, phone: str) -> list[str]:
    """The codes of the units the person with this phone is secretary of."""
    rows = await select_rows(
        world,
        select(Unit.code)
        .join(Role, Role.unit_id == Unit.id)
        .join(Person, Person.id == Role.person_id)
        .where(Person.phone == phone, Role.kind == "secretary"),
    )
    return sorted(code for (code,) in rows)


async def _reports(world: ZaloWorld, count: int, number: str = UPPER) -> bool:
    rows = await select_rows(world, select(Report.id).join(Directive).where(Directive.number == number))
    return len(rows) == count


def _query(db_url: str, query: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return list((await session.execute(query)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_roster_states_a_merge_a_split_a_rename_and_a_move(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    assert cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)]).exit_code == 0
    changes = CHANGES.read_text(encoding="utf-8")

    # Contradictions: a cell left under a unit that retires, a unit merged and split at once.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        changes.replace(
            "X-TP-B2,Chi bộ bản Sin Suối Hồ,X-SSH,", "X-TP-B2,Chi bộ bản Sin Suối Hồ,X-TP,"
        ).replace('"hợp nhất từ DUK-STC, DUK-SYT"', '"hợp nhất từ DUK-STC, DUK-SYT, X-TP"'),
        encoding="utf-8",
    )
    refused = cli.invoke(app, ["units", "import", str(bad)])
    assert refused.exit_code == 1, refused.output
    output = " ".join(refused.output.split())
    assert "Dòng 10 (X-TP): X-TP vừa sáp nhập vào DUK-TCYT vừa tách thành X-TPH" in output, output
    assert "Dòng 13 (X-TP-B2): mã cấp trên X-TP sẽ ngừng hoạt động" in output, output
    assert _query(db_url, select(Unit.code).where(Unit.code == "DUK-TCYT")) == []  # nothing imported

    done = cli.invoke(app, ["units", "import", str(CHANGES)])
    assert done.exit_code == 0, done.output
    output = " ".join(done.output.split())
    assert "Hợp nhất DUK-STC, DUK-SYT vào DUK-TCYT. / Merged DUK-STC, DUK-SYT into DUK-TCYT." in output, (
        output
    )
    assert "Tách X-TP thành X-TPH, X-SSH. / Split X-TP into X-TPH, X-SSH." in output, output
    assert "Đổi tên DUK-BAO: «Chi bộ Báo Lai Châu» → «Chi bộ Báo và Phát thanh - Truyền hình" in output, (
        output
    )
    assert "Chuyển DUK-SYT-BV sang trực thuộc DUK. / Moved DUK-SYT-BV under DUK." in output, output
    assert "không có trong tệp" not in output, output  # the retired units are not missing from it
    # DUK-SYT's secretary is named on no successor's row: her role ended; DUK-STC's and X-TP's are named again.
    assert "Phạm Thị Hoa thôi là bí thư của DUK-SYT" in output, output
    assert output.count("thôi là bí thư") == 1, output
    secretaries = dict(
        _query(
            db_url,
            select(Person.full_name, Unit.code)
            .join(Role, Role.person_id == Person.id)
            .join(Unit, Unit.id == Role.unit_id)
            .where(
                Role.kind == "secretary",
                Person.full_name.in_(("Nguyễn Văn Bình", "Giàng A Nủ", "Phạm Thị Hoa")),
            ),
        )
    )
    assert secretaries == {"Nguyễn Văn Bình": "DUK-TCYT", "Giàng A Nủ": "X-TPH"}, secretaries
    units = {
        code: (active, successor, parent)
        for code, active, successor, parent in _query(
            db_url, select(Unit.code, Unit.active, Unit.successor_id, Unit.parent_id)
        )
    }
    ids = {code: uid for code, uid in _query(db_url, select(Unit.code, Unit.id))}
    assert units["DUK-STC"][:2] == (False, ids["DUK-TCYT"]) and units["DUK-SYT"][:2] == (
        False,
        ids["DUK-TCYT"],
    )
    assert units["X-TP"][:2] == (False, ids["X-TPH"])  # the first «tách từ» row takes its board staff
    assert units["X-TP-B2"][2] == ids["X-SSH"] and units["X-TP-TH"][2] == ids["X-TPH"]
    assert units["DUK-STC-VP"][2] == ids["DUK-TCYT"] and units["DUK-SYT-BV"][2] == ids["DUK"]
    actions = {
        a for (a,) in _query(db_url, select(AuditEntry.action).where(AuditEntry.action.like("unit.%")))
    }
    assert actions == {"unit.merge", "unit.split", "unit.rename", "unit.move"}  # one code path with the CLI

    listed = cli.invoke(app, ["units", "list"]).output
    assert "X-TP  Đảng ủy xã Tân Phong (ngừng hoạt động, đã chia thành X-SSH, X-TPH)" in listed, listed
    assert "DUK-STC  Đảng bộ Sở Tài chính (ngừng hoạt động, hợp nhất vào DUK-TCYT)" in listed, listed

    again = cli.invoke(app, ["units", "import", str(CHANGES)])
    assert again.exit_code == 0 and "0 đơn vị mới, 0 đơn vị cập nhật, 13 không đổi" in again.output, (
        again.output
    )
    assert "Thay đổi" not in again.output, again.output


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where a board reads the Word draft and sends it up
async def test_after_a_merge_the_successor_board_is_reminded_acts_and_reports_upward_for_both(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    people = await two_communes(zalo, tmp_path, "8")
    province, tan_phong, nam_cuoi = people.province, people.tan_phong, people.nam_cuoi
    pao, sai = people.cells["pao"], people.cells["sai"]
    await province_sends(zalo)  # the upper deadline: 10/04/2024
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await tan_phong.tap("Chuyển nguyên văn")
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)  # and does nothing with it before the merge
    await pao.wait_for_text(UPPER)
    await pao.say(QUICK)
    merged = await _run(
        cli, "units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"
    )
    assert merged.exit_code == 0, merged.output

    # The retired unit's pending directive reminds its successor's board (both communes' staff are on it now).
    zalo.runtime.clock.advance(timedelta(days=2))
    run = await reminders_job(zalo.runtime)
    assert run is not None and run.levels == 2, run
    for commune in (tan_phong, nam_cuoi):
        await commune.wait_for_text(
            "Đảng ủy xã Tân Phong mới (từ Đảng ủy xã Nậm Cuổi)", "chưa được ban hành lại"
        )
    await nam_cuoi.tap("Chuyển nguyên văn")  # on the card of the retired unit: its successor's cells get it
    await nam_cuoi.wait_for_text("Đã chuyển nguyên văn")
    await sai.wait_for_text(UPPER)

    # «báo cáo lên 747» by the successor's board: one report for both units, its cells counted.
    up = await tan_phong.say("báo cáo lên 747")
    assert "Đảng ủy xã Tân Phong mới" in up.text and "1/4 chi bộ đã báo cáo" in up.text, tan_phong.describe()
    await tan_phong.wait_until(lambda ms: any(is_word(m) for m in ms))
    await tan_phong.tap("Gửi lên cấp trên")
    await tan_phong.wait_for_text("Đã gửi báo cáo lên", "đúng hạn")
    received = await province.wait_for_text("BÁO CÁO CẤP DƯỚI", "Đảng ủy xã Tân Phong mới")
    assert "1/4 chi bộ" in received.text, received.text
    reported = await select_rows(zalo, select(Handoff.unit_id).where(Handoff.reported_at.is_not(None)))
    assert len(reported) == 2  # recorded on both handoffs: neither is escalated as not reported
    await province.say("tình hình 747")
    text = _status(province)
    row = _line(text, "Đảng ủy xã Tân Phong mới (hợp nhất từ")
    assert "1/4 chi bộ đã báo cáo; báo cáo lên" in row and "đúng hạn" in row, row


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where a board prepares a re-issue by chat
async def test_a_directive_held_for_a_unit_merged_since_reaches_the_successor_board_which_reissues_it(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)  # its board member not joined
    sai = await secretary(zalo, "sai-h", *SECRETARIES["sai"])  # X-NC-B1
    down = await province_hands_down(zalo, ("X-NC",), levels.Unstaffed.HOLD)
    assert [u.code for u in down.held] == ["X-NC"]
    merged = await _run(
        cli, "units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"
    )
    assert merged.exit_code == 0, merged.output

    # The retired unit's board member joins, now on the successor's board: the held directive comes to her.
    cuoi = zalo.person("xa-h", NAM_CUOI_BOARD[0])
    await cuoi.join(NAM_CUOI_BOARD[1], role="board")
    await cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER, "Đảng ủy xã Tân Phong mới")
    await cuoi.tap("Ban hành lại")
    await cuoi.wait_for_text("Thực hiện Công văn số 747-CV/ĐUK")
    drafts = await select_rows(
        zalo,
        select(Unit.code).join(Directive, Directive.unit_id == Unit.id).where(Directive.status == "draft"),
    )
    assert drafts == [("X-MOI",)]  # the successor's own draft, not the retired unit's
    await reissues(cuoi, OWN, "8/4/2024")
    await sai.wait_for_text(OWN)
    handed = await select_rows(
        zalo,
        select(Unit.code, Handoff.action, Directive.number)
        .join(Unit, Unit.id == Handoff.unit_id)
        .join(Directive, Directive.id == Handoff.reissue_id),
    )
    assert handed == [("X-NC", "reissued", OWN)]


NU = ("Giàng A Nủ", "0912000009")  # Tân Phong's secretary on the example roster


async def _held_for_nam_cuoi(zalo: ZaloWorld, tmp_path: Path, tag: str) -> tuple[ZaloPerson, ZaloPerson]:
    """747 held for Nậm Cuổi (its board member on the roster, not joined); Tân Phong's board and its secretary
    have joined. The shell runs on the real clock: the bot's the same."""
    zalo.runtime.clock.set(datetime.now(UTC))
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)
    tan_phong = await board(zalo, f"xa-{tag}", *TAN_PHONG_BOARD, "X-TP")
    nu = await secretary(zalo, f"nu-{tag}", *NU)
    down = await province_hands_down(zalo, ("X-NC",), levels.Unstaffed.HOLD)
    assert [u.code for u in down.held] == ["X-NC"]
    return tan_phong, nu


async def _successor_board_gets_747(zalo: ZaloWorld, tan_phong: ZaloPerson) -> None:
    """Nobody new joins: the successor's board, joined already, gets the held directive at the change."""
    zalo.runtime.clock.set(datetime.now(UTC))  # past the moment the shell queued it
    zalo.runtime.sender.wake()
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER, "Đảng ủy xã Tân Phong mới")
    assert await handoffs(zalo) == {"X-NC": ("pending", None)}
    await tan_phong.tap("Chuyển nguyên văn")  # on the card of the retired unit: the successor acts for it
    await tan_phong.wait_for_text("Đã chuyển nguyên văn")
    assert await handoffs(zalo) == {"X-NC": ("forwarded", None)}


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)  # the shell's real clock: no OA token
async def test_the_shell_merge_hands_held_directives_to_the_joined_successor_board_and_ends_old_secretaries(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    tan_phong, nu = await _held_for_nam_cuoi(zalo, tmp_path, "m1")
    code = await invite_code(zalo.runtime, NAM_CUOI_BOARD[1], "board")  # sent to Nậm Cuổi's board member
    merged = await _run(
        cli, "units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"
    )
    assert merged.exit_code == 0, merged.output
    said = " ".join(merged.output.split())
    assert "Đã giao 1 văn bản cấp trên đang chờ cho ban của X-MOI" in said, said
    assert "Giàng A Nủ thôi là bí thư của X-TP" in said, said
    await _successor_board_gets_747(zalo, tan_phong)

    # The retired commune's secretary acts for no unit now: not for X-TP, not for its successor.
    assert await _secretaries(zalo, NU[1]) == []
    listed = " ".join((await _run(cli, "units", "list")).output.split())
    assert "Giàng A Nủ" not in listed, listed
    helped = await nu.say("trợ giúp")
    assert "không giữ vai trò nào" in helped.text, nu.describe()

    # The retired unit's board member joins with the code she was sent before the merge: on the successor's board.
    cuoi = zalo.person("xa-m1-nc", NAM_CUOI_BOARD[0])
    await cuoi.join(NAM_CUOI_BOARD[1], role="board", code=code)
    await cuoi.wait_for_text("Đã kết nối thành công", "Đảng ủy xã Tân Phong mới")


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)
async def test_the_roster_merge_hands_held_directives_on_and_its_row_names_the_successor_secretary(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    tan_phong, _ = await _held_for_nam_cuoi(zalo, tmp_path, "m2")
    # The two communes merged in the roster file: X-MOI's row states it and names Tân Phong's secretary.
    rows = (EXAMPLE_ROSTER.read_text(encoding="utf-8") + SECOND_COMMUNE).splitlines()
    rows[0] += ",Thay đổi"
    merged = [
        'X-MOI,Đảng ủy xã Tân Phong mới,TU-LC,Đảng ủy xã,Giàng A Nủ,0912000009,"hợp nhất từ X-TP, X-NC"'
        if row.startswith(("X-TP,", "X-NC,"))
        else row.replace(",X-TP,Chi bộ", ",X-MOI,Chi bộ").replace(",X-NC,Chi bộ", ",X-MOI,Chi bộ")
        for row in rows
    ]
    roster = tmp_path / "merged.csv"
    roster.write_text("\n".join(dict.fromkeys(merged)) + "\n", encoding="utf-8")
    done = await _run(cli, "units", "import", str(roster))
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "Hợp nhất X-TP, X-NC vào X-MOI" in said, said
    assert "Đã giao 1 văn bản cấp trên đang chờ cho ban của X-MOI" in said, said
    assert "thôi là bí thư" not in said, said  # named again, on the successor's row
    assert await _secretaries(zalo, NU[1]) == ["X-MOI"]  # not the retired X-TP any more
    await _successor_board_gets_747(zalo, tan_phong)


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)
async def test_a_held_directive_merged_into_a_board_with_its_card_waiting_is_one_card_acted_on_once(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    zalo.runtime.clock.set(datetime.now(UTC))  # the shell runs on the real clock
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)
    tan_phong = await board(zalo, "xa-m3", *TAN_PHONG_BOARD, "X-TP")
    down = await province_hands_down(zalo, ("X-TP", "X-NC"), levels.Unstaffed.HOLD)
    assert [u.code for u in down.held] == ["X-NC"]
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)  # Tân Phong's own card, not acted on yet

    merged = await _run(
        cli, "units", "merge", "X-TP", "X-NC", "--into", "X-MOI", "--name", "Đảng ủy xã Tân Phong mới"
    )
    assert merged.exit_code == 0, merged.output
    assert await handoffs(zalo) == {"X-TP": ("pending", None), "X-NC": ("pending", None)}
    zalo.runtime.clock.set(datetime.now(UTC))
    zalo.runtime.sender.wake()
    await tan_phong.tap("Chuyển nguyên văn")  # the card it had: it acts for the unit merged in as well
    await tan_phong.wait_for_text("Đã chuyển nguyên văn")
    assert await handoffs(zalo) == {"X-TP": ("forwarded", None), "X-NC": ("forwarded", None)}
    cards = [m for m in tan_phong.messages if "VĂN BẢN CẤP TRÊN" in m.text]
    assert len(cards) == 1, tan_phong.describe()
