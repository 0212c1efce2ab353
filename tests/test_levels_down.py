"""Levels, down (issue 16): the chat, the shell and the browser send a directive down the same way (the cells under a
unit below whose board has joined go to that board, not to them); where a unit's board staff has not joined, the
upper board chooses whether its cells get it directly or it waits for that board, which gets it when a member joins;
the upper status shows a held unit as waiting; a lower board forwards with its own files, which reach its cells with
working download links; more cells for a directive handed down («Gửi thêm») and its correction («Đính chính»)
go down the levels too; a board reminded before a correction is not reminded again for it, and its old card acts
on the correction. Driven through the Zalo Bot Platform and Zalo OA fakes and the CLI, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.scheduler import reminders_job
from bot.services import directives, levels
from bot.services.directive_parser import parse_directive
from bot.services.forms_store import get_form
from messages import levels as level_msg
from storage.db import transaction
from storage.models import Directive, Handoff, HandoffFile, Unit
from tests.levels_support import (
    NAM_CUOI_BOARD,
    OWN,
    PROVINCE_BOARD,
    SECRETARIES,
    TAN_PHONG_BOARD,
    UPPER,
    board,
    directive_numbered,
    drafts_747_for_every_cell,
    handoffs,
    load_two_communes,
    province_sends,
    secretary,
    targets_of,
    two_communes,
)
from tests.support import docx_bytes, sample
from tests.test_reports import jpeg
from tests.test_scans import host
from tests.test_web import Browser, _link, _rows, _upload_747
from tests.zalo_fixtures import BOT_PLATFORM, OA, ZaloPerson, ZaloWorld, zalo

__all__ = ["host", "zalo"]

# How the province's send of 747 to every cell goes, before the board chose for Nậm Cuổi and after it held it.
ROUTE_BEFORE = (
    "Gửi trực tiếp tới 5 chi bộ; 3 chi bộ nhận qua ban của 1 đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp); "
    "1 chi bộ thuộc 1 đơn vị có ban chưa tham gia Chibo"
)
ROUTE_HELD = "3 chi bộ nhận qua ban của 1 đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp); 1 chi bộ giữ chờ ban của 1 đơn vị."
# The same send once the board chose to send Nậm Cuổi's cell directly.
ROUTE_DIRECT_CHOSEN = "🧭 Gửi trực tiếp tới 6 chi bộ; 3 chi bộ nhận qua ban của 1 đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp)."
# «Gửi thêm» of 747 to every cell after it went to Tân Phong's (re-issued to Páo's), and its correction after that.
ROUTE_MORE = "🧭 Gửi trực tiếp tới 5 chi bộ; 3 chi bộ nhận qua ban của 2 đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp)."
ROUTE_CORRECTION = "🧭 Gửi trực tiếp tới 5 chi bộ; 4 chi bộ nhận qua ban của 2 đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp)."
GUIDE = "Hướng dẫn của Đảng ủy xã Nậm Cuổi về sinh hoạt chuyên đề.docx"
NOTE = (
    "Các chi bộ bản tổ chức sinh hoạt chuyên đề trước ngày 20 hằng tháng và gửi ảnh biên bản về Đảng ủy xã."
)


async def _joins_nam_cuoi_board(world: ZaloWorld, user_id: str) -> ZaloPerson:
    person = world.person(user_id, NAM_CUOI_BOARD[0])
    await person.join(NAM_CUOI_BOARD[1], role="board")
    return person


async def _handoff_files(world: ZaloWorld) -> list[tuple[str, str]]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.execute(
            select(Unit.code, HandoffFile.name)
            .join(Unit, Unit.id == HandoffFile.unit_id)
            .order_by(HandoffFile.id)
        )
        return [(code, name) for code, name in rows.all()]


@pytest.mark.parametrize("zalo", [BOT_PLATFORM, OA], indirect=True)
async def test_the_chat_holds_a_directive_for_an_unjoined_board_which_forwards_it_with_its_own_files(
    zalo: ZaloWorld, tmp_path: Path, host: Callable[[str, bytes], str], http: aiohttp.ClientSession
) -> None:
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)
    province = await board(zalo, "tinh-d1", *PROVINCE_BOARD, "TU-LC")
    tan_phong = await board(zalo, "xa-d1", *TAN_PHONG_BOARD, "X-TP")
    sai = await secretary(zalo, "sai-d1", *SECRETARIES["sai"])  # X-NC-B1

    await drafts_747_for_every_cell(province)
    # Told as it will happen: the bloc's 5 cells directly, Tân Phong's 3 through its board, Nậm Cuổi's apart; of
    # the secretaries who joined, only those it reaches directly count (Sài's commune waits for the choice).
    outlook = await province.wait_for_text(ROUTE_BEFORE)
    assert "Sẽ gửi tới" not in outlook.text and "Chi bộ nhận trực tiếp: 0 bí thư" in outlook.text, (
        outlook.text
    )
    asked = await province.tap("Gửi ngay")
    assert "Đảng ủy xã Nậm Cuổi" in asked.text and "chưa có ai tham gia" in asked.text, province.describe()
    await province.tap("Giữ chờ ban đơn vị")
    await province.wait_for_text("Đã xếp lịch gửi văn bản", "tới 5 chi bộ", ROUTE_HELD)
    await province.wait_for_text("Giữ chờ ban của 1 đơn vị", "Đảng ủy xã Nậm Cuổi")
    await province.wait_for_text("Chuyển tới ban của 1 đơn vị", "Đảng ủy xã Tân Phong")
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    assert await handoffs(zalo) == {"X-TP": ("pending", None), "X-NC": ("held", None)}
    assert not {c for c in await targets_of(zalo, UPPER) if c.startswith("X-")}  # no commune cell reached

    await province.say("tình hình 747")
    text = "\n".join(m.text for m in province.messages[-3:])
    assert "Đảng ủy xã Nậm Cuổi: đang giữ chờ ban" in text, text

    # The commune's board member joins: the held directive is handed to her then.
    nam_cuoi = await _joins_nam_cuoi_board(zalo, "xa-d2")
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    assert (await handoffs(zalo))["X-NC"] == ("pending", None)

    # She forwards it with the commune's own materials: what her Zalo product can send.
    asked = await nam_cuoi.tap("Chuyển kèm tài liệu")
    assert "Đảng ủy xã Nậm Cuổi" in asked.text, nam_cuoi.describe()
    if zalo.product == BOT_PLATFORM:
        assert "ảnh chụp" in asked.text, asked.text
        nudged = await nam_cuoi.say("ok")  # a word typed by mistake is no material
        assert "«Xong»" in nudged.text, nudged.text
        await nam_cuoi.user.send_unsupported()  # type: ignore[union-attr]  # a PDF Zalo did not pass on
        await nam_cuoi.wait_for_text("Zalo không chuyển tệp PDF", "chụp ảnh")
        await nam_cuoi.user.send_image(host("bien-ban.jpg", jpeg()))  # type: ignore[union-attr]
        await nam_cuoi.wait_for_text("Đã nhận", "1 tệp")
        taken = await nam_cuoi.say(NOTE)
        expected = ["anh-1.jpg", level_msg.NOTE_NAME.format(n=2)]
    else:
        data = docx_bytes("Hướng dẫn sinh hoạt chuyên đề của Đảng ủy xã Nậm Cuổi.")
        await nam_cuoi.user.send_file(host("hd.docx", data), GUIDE, len(data), "docx")  # type: ignore[union-attr]
        await nam_cuoi.wait_for_text("Đã nhận", "1 tệp")
        taken = await nam_cuoi.user.send_image(host("bien-ban.jpg", jpeg()))  # type: ignore[union-attr]
        expected = [GUIDE, "anh-2.jpg"]
    await nam_cuoi.wait_for_text("Đã nhận", "2 tệp")
    assert taken
    if zalo.product == BOT_PLATFORM:
        await nam_cuoi.say("xong")  # the word of the choice, typed
    else:
        await nam_cuoi.tap("Xong")
    done = await nam_cuoi.wait_for_text("Đã chuyển nguyên văn")
    assert "1 chi bộ" in done.text, done.text
    assert await _handoff_files(zalo) == [("X-NC", name) for name in expected]

    # The cell gets the upper directive with the commune's files, each under its name, and the links work.
    card = await sai.wait_for_text(UPPER)
    if zalo.product == BOT_PLATFORM:  # files as links under their names; the photo as a photo
        assert "2 tệp" in card.text and expected[1] in card.text, card.text
        async with http.get(zalo.local(card.links[0])) as page:
            assert page.status == 200 and expected[1] in await page.text()
        photo = next(m for m in sai.user.messages if m.kind == "photo")  # type: ignore[union-attr]
        async with http.get(zalo.local(photo.photo)) as page:  # type: ignore[union-attr]
            assert page.status == 200 and page.content_type == "image/jpeg"
    else:
        # The guide under the name she gave it, then the photo: separate sends, so both are waited for.
        await sai.wait_until(lambda ms: GUIDE in {m.file_name for m in ms})
        await sai.user.wait_until(lambda ms: any(m.kind == "image" for m in ms))
    assert await targets_of(zalo, UPPER) >= {"X-NC-B1"}
    assert (await handoffs(zalo))["X-NC"] == ("forwarded", None)


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)
async def test_the_shell_hands_down_like_the_chat_and_holds_for_an_unjoined_board(
    zalo: ZaloWorld, tmp_path: Path, cli: CliRunner
) -> None:
    zalo.runtime.clock.set(datetime.now(UTC))  # the shell runs on the real clock: the bot's the same
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)
    tan_phong = await board(zalo, "xa-d3", *TAN_PHONG_BOARD, "X-TP")
    pao = await secretary(zalo, "pao-d3", *SECRETARIES["pao"])  # X-TP-B1
    cuc = await secretary(zalo, "cuc-d3", *SECRETARIES["cuc"])  # DUK-STC-VP: no board between
    args = ["directive", "send", str(tmp_path / "747.txt"), "--deadline", "30/10/2030", "--to", "TU-LC"]
    (tmp_path / "747.txt").write_text(sample("directive-747-CV-DUK.txt"), encoding="utf-8")

    refused = await asyncio.to_thread(cli.invoke, app, [*args, "--unstaffed", "later"])
    assert refused.exit_code == 2
    sent = await asyncio.to_thread(cli.invoke, app, [*args, "--unstaffed", "hold"])
    assert sent.exit_code == 0, sent.output
    said = " ".join(sent.output.split())  # the console wraps long lines
    assert "Handed to the boards of 1 units below, to re-issue or forward: Đảng ủy xã Tân Phong" in said, said
    assert "handed to the first who joins: Đảng ủy xã Nậm Cuổi" in said, said
    assert "tới 5 chi bộ" in said, said  # the bloc's cells: no board of theirs has joined
    assert ROUTE_HELD in said, said
    # The forecast counts Cúc (reached directly), never Páo (Tân Phong's board sends to him).
    assert "• Zalo: 1 bí thư, miễn phí." in said, said
    zalo.runtime.clock.set(datetime.now(UTC))  # past the moment the shell queued it
    zalo.runtime.sender.wake()
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await cuc.wait_for_text(UPPER)
    targets = await targets_of(zalo, UPPER)
    assert "DUK-STC-VP" in targets and not {c for c in targets if c.startswith("X-")}, targets
    assert await handoffs(zalo) == {"X-TP": ("pending", None), "X-NC": ("held", None)}

    # Tân Phong's board forwards unchanged; Nậm Cuổi's joins later and gets the card then.
    await tan_phong.tap("Chuyển nguyên văn")
    await pao.wait_for_text(UPPER)
    nam_cuoi = await _joins_nam_cuoi_board(zalo, "xa-d4")
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    assert await handoffs(zalo) == {"X-TP": ("forwarded", None), "X-NC": ("pending", None)}
    assert await _handoff_files(zalo) == []  # forwarded as is: no files of the unit


@pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)
async def test_the_browser_hands_down_and_asks_about_units_whose_board_has_not_joined(
    zalo: ZaloWorld, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    await load_two_communes(zalo, tmp_path, nam_cuoi_on_roster=True)
    province = await board(zalo, "tinh-d5", *PROVINCE_BOARD, "TU-LC")
    tan_phong = await board(zalo, "xa-d5", *TAN_PHONG_BOARD, "X-TP")
    sai = await secretary(zalo, "sai-d5", *SECRETARIES["sai"])  # X-NC-B1
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(province))).status == 303
    csrf = await browser.csrf()
    preview = await _upload_747(browser, http, csrf)
    async with transaction(zalo.runtime.sessions) as session:
        top = await session.scalar(select(Unit.id).where(Unit.code == "TU-LC"))
    form = {
        "csrf": csrf,
        "number": UPPER,
        "form": "sinh-hoat-chinh-tri",
        "unit": str(top),
        "deadline": "2024-10-30",
    }
    status, text = await browser.post(preview, {**form, "check": "1"})  # how it would go, nothing sent
    assert status == 200 and html.unescape(ROUTE_BEFORE) in html.unescape(text), text
    assert 'name="unstaffed"' not in text and await handoffs(zalo) == {}
    status, text = await browser.post(preview, form)
    assert status == 200 and "Đảng ủy xã Nậm Cuổi" in text and 'name="unstaffed"' in text, text
    assert ROUTE_BEFORE in html.unescape(text), text
    assert await handoffs(zalo) == {}  # nothing sent before the board chose
    sent = await browser.post_to(preview, {**form, "unstaffed": "direct"})
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await sai.wait_for_text(UPPER)  # chosen: directly to the cells of the commune whose board has not joined
    targets = await targets_of(zalo, UPPER)
    assert "X-NC-B1" in targets and not {c for c in targets if c.startswith("X-TP")}, targets
    assert await handoffs(zalo) == {"X-TP": ("pending", None)}
    async with transaction(zalo.runtime.sessions) as session:
        directive = await session.scalar(select(Directive).where(Directive.number == UPPER))
        held = await session.scalar(select(Handoff).where(Handoff.action == "held"))
    assert directive is not None and held is None
    assert sent.startswith(f"/web/van-ban/{directive.id}?"), sent
    _, _, body = await browser.get(sent)
    page = html.unescape(body.decode())
    # The page the send leads to says how it went, as the chat does, then lists the units below, as /tinhhinh.
    assert ROUTE_DIRECT_CHOSEN in page, page
    below = _rows(page, "below")
    assert below == [f"Đảng ủy xã Tân Phong {level_msg.ACTIONS['pending']} 0/0 Chưa báo cáo lên"], below
    _, _, again = await browser.get(
        f"/web/van-ban/{directive.id}"
    )  # said once, after the send, not every visit
    assert "🧭" not in html.unescape(again.decode())


async def _first_send_to_one_commune(world: ZaloWorld) -> int:
    """747 sent by the province board to Tân Phong's cells only (handed to its board), which re-issues it as its
    own 12-CV/ĐU to one of its cells (Páo's), as their chat sends do."""
    clock = world.runtime.clock
    async with transaction(world.runtime.sessions) as session:
        province = await session.scalar(select(Unit).where(Unit.code == "TU-LC"))
        commune = await session.scalar(select(Unit).where(Unit.code == "X-TP"))
        pao = await session.scalar(select(Unit).where(Unit.code == "X-TP-B1"))
        assert province is not None and commune is not None and pao is not None
        draft = await directives.new_draft(
            session,
            clock,
            parse_directive(sample("directive-747-CV-DUK.txt")),
            form_key="sinh-hoat-chinh-tri",
            unit_id=province.id,
        )
        directives.confirm_deadline(draft, date(2024, 4, 10))
        form = await get_form(session, draft.form_key)
        cells = await directives.cells_under(session, [commune])
        down = await levels.broadcast(session, clock, draft, cells, form, actor="test")
        assert [u.code for u in down.handed] == ["X-TP"]
        handed = await session.scalar(select(Handoff).where(Handoff.directive_id == draft.id))
        assert handed is not None
        reissue = await levels.reissue_draft(session, clock, handed, created_by=None, today=date(2024, 4, 3))
        reissue.number = OWN
        directives.confirm_deadline(reissue, date(2024, 4, 8))
        await levels.broadcast(session, clock, reissue, [pao.id], form, actor="test")
        first = draft.id
    world.runtime.sender.wake()
    return first


async def _sends_747_again(province: ZaloPerson, choice: str) -> None:
    """The province board pastes 747 again for every cell and chooses what it is."""
    await drafts_747_for_every_cell(province)
    before = len(province.messages)
    await province.tap("Gửi ngay")
    await province.wait_for_text("đã được gửi trước đây", after=before)  # this time's, not the last one's
    await province.tap(choice)


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where a board prepares a directive by chat
async def test_more_cells_and_a_correction_of_a_directive_handed_down_go_down_the_levels(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    people = await two_communes(zalo, tmp_path, "r", cells=("pao", "sua", "sai", "cuc"))
    province, tan_phong, nam_cuoi = people.province, people.tan_phong, people.nam_cuoi
    pao, sua = people.cells["pao"], people.cells["sua"]  # X-TP-B1: got the re-issue; X-TP-B2: not yet
    sai, cuc = people.cells["sai"], people.cells["cuc"]  # X-NC-B1; DUK-STC-VP: no board between
    first = await _first_send_to_one_commune(zalo)
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await pao.wait_for_text(OWN)

    # «Gửi thêm»: the bloc's cells get 747 directly; Nậm Cuổi's board is handed it; Tân Phong's other cells
    # get its re-issue, as its board chose for 747, and its board is told; Páo's cell gets nothing again.
    await _sends_747_again(province, f"Gửi thêm #{first}")
    # Told by route, as a new send is: Tân Phong's 2 cells join what its board did, Nậm Cuổi's 1 is handed to it.
    await province.wait_for_text("tới 8 chi bộ chưa nhận", ROUTE_MORE)
    await province.wait_for_text("Chuyển tới ban của 1 đơn vị", "Đảng ủy xã Nậm Cuổi")
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    told = await tan_phong.wait_for_text("Cấp trên gửi thêm văn bản", OWN)
    assert "2 chi bộ của Đảng ủy xã Tân Phong" in told.text, told.text
    await sua.wait_for_text(OWN)
    await cuc.wait_for_text(UPPER)
    assert await handoffs(zalo) == {"X-TP": ("reissued", OWN), "X-NC": ("pending", None)}
    assert not {c for c in await targets_of(zalo, UPPER) if c.startswith("X-")}  # no commune cell directly
    assert await targets_of(zalo, OWN) == {"X-TP-B1", "X-TP-B2", "X-TP-TH"}
    assert sum(OWN in m.text for m in pao.messages) == 1, pao.describe()

    # «Đính chính»: the handoffs pass to the correction; each board below gets its card headed as such:
    # Tân Phong, which re-issued the old one, is told to look at its own; Nậm Cuổi acts on it.
    await _sends_747_again(province, f"Đính chính, thay thế #{first}")
    await province.wait_for_text("bản đính chính", "tới 9 chi bộ", ROUTE_CORRECTION)
    card = await tan_phong.wait_for_text("ĐÍNH CHÍNH", UPPER)
    assert f"ban hành lại văn bản cũ bằng văn bản số {OWN}" in card.text, card.text
    await nam_cuoi.wait_for_text("ĐÍNH CHÍNH", UPPER)
    async with transaction(zalo.runtime.sessions) as session:
        correction = await session.scalar(
            select(Directive).where(Directive.number == UPPER, Directive.status.in_(("sending", "sent")))
        )
        assert correction is not None
        moved = (await session.execute(select(Handoff.directive_id))).scalars().all()
    assert set(moved) == {correction.id}
    await nam_cuoi.tap("Chuyển nguyên văn")
    await nam_cuoi.wait_for_text("Đã chuyển nguyên văn")
    await sai.wait_for_text("ĐÍNH CHÍNH", UPPER)  # the correction reaches its cell through its board
    await cuc.wait_for_text("ĐÍNH CHÍNH", UPPER)  # and the bloc's cells directly
    assert await handoffs(zalo) == {"X-TP": ("reissued", OWN), "X-NC": ("forwarded", None)}


@pytest.mark.parametrize("zalo", [OA], indirect=True)  # where a board prepares a directive by chat
async def test_a_board_reminded_before_a_correction_is_not_reminded_again_and_its_old_card_acts_on_it(
    zalo: ZaloWorld, tmp_path: Path
) -> None:
    people = await two_communes(zalo, tmp_path, "k", cells=("sai",))
    province, nam_cuoi, sai = people.province, people.nam_cuoi, people.cells["sai"]
    await province_sends(zalo)
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    zalo.runtime.clock.advance(timedelta(days=2))
    run = await reminders_job(zalo.runtime)
    assert run is not None and run.levels == 2  # both communes, neither has acted
    await nam_cuoi.wait_for_text("chưa được ban hành lại hoặc chuyển")

    # The province corrects 747: the communes get the correction's card, and no «not acted» reminder again.
    first = await directive_numbered(zalo, UPPER)
    assert first is not None
    await _sends_747_again(province, f"Đính chính, thay thế #{first.id}")
    await nam_cuoi.wait_for_text("ĐÍNH CHÍNH", UPPER)
    again = await reminders_job(zalo.runtime)
    assert again is not None and again.levels == 0
    assert sum("chưa được ban hành lại" in m.text for m in nam_cuoi.messages) == 1, nam_cuoi.describe()

    # «Chuyển nguyên văn» on the old card (the first one, before the reminder): it forwards the correction and
    # says so, rather than answering that the directive is not the unit's.
    assert isinstance(nam_cuoi.user, FakeOaUser)
    old = next(
        m for m in nam_cuoi.user.messages if any(b.title == level_msg.BUTTON_FORWARD for b in m.buttons)
    )
    assert "ĐÍNH CHÍNH" not in old.text
    await nam_cuoi.settle()
    await nam_cuoi.user.press(level_msg.BUTTON_FORWARD, old)
    await nam_cuoi.wait_for_text("đã được cấp trên đính chính", "bản đính chính")
    await nam_cuoi.wait_for_text("Đã chuyển nguyên văn")
    assert not any(level_msg.NOT_YOURS in m.text for m in nam_cuoi.messages), nam_cuoi.describe()
    await sai.wait_for_text("ĐÍNH CHÍNH", UPPER)  # the correction, not the old text, reaches its cell
    assert await handoffs(zalo) == {"X-TP": ("pending", None), "X-NC": ("forwarded", None)}
