"""Shared set-up of the levels tests (issue 16): the example province plus a second commune (Nậm Cuổi), its
people joining on Zalo, the province board's directive handed down to both communes, and reads of where it went."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl
from docx import Document
from sqlalchemy import select

from bot.services import cycles, directives, levels
from bot.services.directive_parser import parse_directive
from bot.services.forms_store import get_form
from storage.db import transaction
from storage.models import Directive, DirectiveTarget, Handoff, Report, Unit
from tests.support import EXAMPLE_ROSTER, QUICK, add_staff, load_roster, sample
from tests.zalo_fixtures import Received, ZaloPerson, ZaloWorld, eventually

FORM = "sinh hoạt chính trị"
UPPER = "747-CV/ĐUK"  # the sample, sent here by the province board
OWN = "12-CV/ĐU"  # the commune's re-issue
# A second commune with no board staff of its own: its cells get the province's directive directly.
CAMPAIGN_REISSUE = "15-CV/ĐU"  # Tân Phong's re-issue in `campaign`
SUA_REPORT = (
    "2/4; thường kỳ; 20/22; 5; Tốt; Không"  # a second cell of Tân Phong: 5 non-members, 20/22 members
)
SECOND_COMMUNE = "X-NC,Đảng ủy xã Nậm Cuổi,TU-LC,Đảng ủy xã,,\nX-NC-B1,Chi bộ bản Nậm Cuổi,X-NC,Chi bộ,Tẩn Văn Sài,0912000020\n"

# (name, phone) of the people of the two communes' province
PROVINCE_BOARD = ("Trần Văn Tỉnh", "0913000001")  # TU-LC
TAN_PHONG_BOARD = ("Giàng Thị Xã", "0913000002")  # X-TP
NAM_CUOI_BOARD = ("Tẩn Thị Cuổi", "0913000004")  # X-NC
SECRETARIES = {
    "pao": ("Lò Văn Páo", "0912000010"),  # X-TP-B1
    "sua": ("Vàng Thị Sua", "0912000011"),  # X-TP-B2
    "sai": ("Tẩn Văn Sài", "0912000020"),  # X-NC-B1
    "cuc": ("Trần Thị Cúc", "0912000003"),  # DUK-STC-VP: no board between it and the province
}


async def board(world: ZaloWorld, user_id: str, name: str, phone: str, unit: str) -> ZaloPerson:
    await add_staff(world.runtime, name, phone, unit)
    person = world.person(user_id, name)
    await person.join(phone, role="board")
    return person


async def secretary(world: ZaloWorld, user_id: str, name: str, phone: str) -> ZaloPerson:
    person = world.person(user_id, name)
    await person.join(phone)
    return person


async def load_two_communes(world: ZaloWorld, tmp_path: Path, nam_cuoi_on_roster: bool = False) -> None:
    """The example roster plus the second commune; with `nam_cuoi_on_roster`, its board member is on the roster,
    not joined."""
    roster = tmp_path / "roster.csv"
    roster.write_text(EXAMPLE_ROSTER.read_text(encoding="utf-8") + SECOND_COMMUNE, encoding="utf-8")
    await load_roster(world.runtime, roster)
    if nam_cuoi_on_roster:
        await add_staff(world.runtime, *NAM_CUOI_BOARD, "X-NC")


@dataclass(frozen=True)
class TwoCommunes:
    province: ZaloPerson
    tan_phong: ZaloPerson
    nam_cuoi: ZaloPerson
    cells: dict[str, ZaloPerson]  # the secretaries who joined, by the keys of SECRETARIES


async def two_communes(
    world: ZaloWorld, tmp_path: Path, tag: str, cells: tuple[str, ...] = ("pao", "sai")
) -> TwoCommunes:
    """Both communes loaded; the province's and both communes' boards join, then the secretaries of `cells`, in
    that order; `tag` tells this test's Zalo users apart."""
    await load_two_communes(world, tmp_path)
    province = await board(world, f"tinh-{tag}", *PROVINCE_BOARD, "TU-LC")
    tan_phong = await board(world, f"xa-tp-{tag}", *TAN_PHONG_BOARD, "X-TP")
    nam_cuoi = await board(world, f"xa-nc-{tag}", *NAM_CUOI_BOARD, "X-NC")
    joined = {key: await secretary(world, f"{key}-{tag}", *SECRETARIES[key]) for key in cells}
    return TwoCommunes(province, tan_phong, nam_cuoi, joined)


async def province_sends(world: ZaloWorld) -> None:
    """Sample 747 sent by the province board to the cells of both communes, as its chat send does."""
    down = await province_hands_down(world, ("X-TP", "X-NC"))
    assert {u.code for u in down.handed} == {"X-TP", "X-NC"}


async def province_hands_down(
    world: ZaloWorld,
    communes: tuple[str, ...],
    choice: levels.Unstaffed = levels.Unstaffed.DIRECT,
    schedule: cycles.Schedule | None = None,
) -> levels.Down:
    """Sample 747 sent by the province board to the cells of `communes`, as its chat send does (recurring on
    `schedule`, its first deadline 10/04/2024): where it went."""
    async with transaction(world.runtime.sessions) as session:
        province = await session.scalar(select(Unit).where(Unit.code == "TU-LC"))
        assert province is not None
        draft = await directives.new_draft(
            session,
            world.runtime.clock,
            parse_directive(sample("directive-747-CV-DUK.txt")),
            form_key="sinh-hoat-chinh-tri",
            unit_id=province.id,
        )
        draft.number = UPPER
        directives.confirm_deadline(draft, date(2024, 4, 10))
        cycles.set_schedule(draft, schedule)
        units = (await session.scalars(select(Unit).where(Unit.code.in_(communes)))).all()
        cells = await directives.cells_under(session, list(units))
        form = await get_form(session, draft.form_key)
        down = await levels.broadcast(
            session, world.runtime.clock, draft, cells, form, actor="test", choice=choice
        )
    world.runtime.sender.wake()
    return down


async def drafts_747_for_every_cell(board: ZaloPerson) -> None:
    """The board pastes sample 747 and chooses its form and every cell, up to «Gửi ngay» (not pressed)."""
    before = len(board.messages)  # a board may paste it again: the new preview, not the last one
    await board.say(sample("directive-747-CV-DUK.txt"))
    await board.wait_for_text("Văn bản tôi đọc được", after=before)
    await board.tap("Xác nhận hạn")
    await _every_cell(board)


async def reissues(board: ZaloPerson, number: str, deadline: str | None = None) -> None:
    """On its re-issue's draft, the board sets the deadline (if given) and its number, and sends it to every cell."""
    if deadline is not None:
        await board.tap("Hạn báo cáo")
        await board.say(deadline)
    await board.tap("Số, ký hiệu")
    await board.say(number)
    await _every_cell(board)
    await board.tap("Gửi ngay")


async def _every_cell(board: ZaloPerson) -> None:
    await board.tap("Tiếp tục")
    await board.tap(FORM)
    await board.tap("Tất cả chi bộ")


async def communes_act(tan_phong: ZaloPerson, nam_cuoi: ZaloPerson, number: str) -> None:
    """On 747's cards: Tân Phong's board re-issues it as `number` (deadline 8/4/2024), Nậm Cuổi's forwards it."""
    await tan_phong.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await tan_phong.tap("Ban hành lại")
    await tan_phong.wait_for_text("Thực hiện Công văn số 747-CV/ĐUK")
    await reissues(tan_phong, number, "8/4/2024")
    await nam_cuoi.wait_for_text("VĂN BẢN CẤP TRÊN", UPPER)
    await nam_cuoi.tap("Chuyển nguyên văn")
    await nam_cuoi.wait_for_text("Đã chuyển nguyên văn")


async def campaign(zalo: ZaloWorld, tmp_path: Path) -> tuple[ZaloPerson, ZaloPerson, ZaloPerson]:
    """The province hands 747 to both communes; Tân Phong re-issues it and Nậm Cuổi forwards it; three of the
    four cells report; Tân Phong reports up, Nậm Cuổi does not."""
    people = await two_communes(zalo, tmp_path, "9", cells=("pao", "sua", "sai"))
    province, tan_phong, nam_cuoi = people.province, people.tan_phong, people.nam_cuoi
    pao, sua, sai = people.cells["pao"], people.cells["sua"], people.cells["sai"]  # X-TP-B1, X-TP-B2, X-NC-B1
    await province_sends(zalo)  # the upper deadline: 10/04/2024

    await communes_act(tan_phong, nam_cuoi, CAMPAIGN_REISSUE)

    await pao.wait_for_text(CAMPAIGN_REISSUE)
    await sua.wait_for_text(CAMPAIGN_REISSUE)
    await sai.wait_for_text(UPPER)
    await pao.say(QUICK)
    await sua.say(SUA_REPORT)
    await sai.say(QUICK)

    async def reported() -> bool:
        async with transaction(zalo.runtime.sessions) as session:
            return len((await session.scalars(select(Report.id))).all()) == 3

    await eventually(reported, "three cells' reports are saved")
    await tan_phong.say("báo cáo lên 747")
    await tan_phong.tap("Gửi lên cấp trên")
    await tan_phong.wait_for_text("Đã gửi báo cáo lên")
    return province, tan_phong, nam_cuoi


async def select_rows(world: ZaloWorld, query: Any) -> list[Any]:
    async with transaction(world.runtime.sessions) as session:
        return list((await session.execute(query)).all())


async def directive_numbered(world: ZaloWorld, number: str) -> Directive | None:
    async with transaction(world.runtime.sessions) as session:
        return await session.scalar(select(Directive).where(Directive.number == number))


async def handoffs(world: ZaloWorld) -> dict[str, tuple[str, str | None]]:
    """Each unit handed a directive: what its board did, and the number of its re-issue if any."""
    found = await select_rows(
        world,
        select(Unit.code, Handoff.action, Handoff.reissue_id).join(Unit, Unit.id == Handoff.unit_id),
    )
    out = {}
    for code, action, reissue_id in found:
        reissue = await _number_of(world, reissue_id) if reissue_id else None
        out[code] = (action, reissue)
    return out


async def _number_of(world: ZaloWorld, directive_id: int) -> str | None:
    async with transaction(world.runtime.sessions) as session:
        directive = await session.get(Directive, directive_id)
        return directive.number if directive else None


async def targets_of(world: ZaloWorld, number: str) -> set[str]:
    """The codes of the cells the directive numbered `number` went to."""
    found = await select_rows(
        world,
        select(Unit.code)
        .join(DirectiveTarget, DirectiveTarget.unit_id == Unit.id)
        .join(Directive, Directive.id == DirectiveTarget.directive_id)
        .where(Directive.number == number),
    )
    return {code for (code,) in found}


def sheet(content: bytes, name: str) -> list[tuple[Any, ...]]:
    return [
        tuple(row) for row in openpyxl.load_workbook(io.BytesIO(content))[name].iter_rows(values_only=True)
    ]


def xlsx_summary(content: bytes) -> dict[str, Any]:
    """The workbook's summary sheet, label to value (its source among them: «Nguồn số liệu»)."""
    return {row[0]: row[1] for row in sheet(content, "Tổng hợp")[1:]}


def docx_text(content: bytes) -> str:
    """The Word file's paragraphs, then its tables' cells, one a line."""
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def is_word(message: Received) -> bool:
    """A Word file received: natively, or as a link where the product cannot carry it."""
    return bool((message.file_name or "").endswith(".docx") or any(".docx" in link for link in message.links))


NON_MEMBERS = "Số quần chúng tham gia"  # a field of the political-study form, added up by every view


async def file_from(world: ZaloWorld, person: ZaloPerson, words: str, ext: str) -> bytes:
    """Type `words` and return the file with extension `ext` the answer brings: natively on the OA, else by
    its link."""
    before = len(person.messages)
    await person.say(words)

    def has(index: int) -> bool:
        m = person.messages[index]
        return bool((m.file_name or "").endswith(ext) or (m.links and download_link(m.text, ext)))

    await person.wait_until(lambda ms: any(has(i) for i in range(before, len(ms))))
    index = next(i for i in range(before, len(person.messages)) if has(i))
    message = person.messages[index]
    if (message.file_name or "").endswith(ext):
        sent: Any = person.user.messages[index]
        return bytes(sent.file.data)
    link = download_link(message.text, ext)
    assert link is not None, message.text
    async with aiohttp.ClientSession() as http, http.post(world.local(link)) as response:  # its button
        assert response.status == 200
        return await response.read()


async def answer(person: ZaloPerson, words: str) -> str:
    """Type `words`; the whole answer, however many messages it takes."""
    before = len(person.messages)
    await person.say(words)
    return "\n".join(m.text for m in person.messages[before:])


def download_link(text: str, ext: str) -> str | None:
    """The download link under the line naming a file with extension `ext` («📎 Tải tệp: ....xlsx»)."""
    lines = text.splitlines()
    for line, after in itertools.pairwise(lines):
        if ext in line and after.startswith("http"):
            return after.strip()
    return None
