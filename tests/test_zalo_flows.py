"""Every secretary and board flow on each Zalo product alone (no Telegram configured), on SQLite and PostgreSQL:
joining with an invite, a directive with its files, acknowledgement, the guided and the one-message report, edit and
resend, reminders inside and outside the OA's window, and a board member on Zalo asking status, nudging, reading the
summary, switching reminders, and getting the Excel export and the Word report.

Directives are created through the services as `chibo directive send` does: uploads stay on Telegram, the CLI and
the web. Assertions are on meaning (rows stored, a file or a link received), not on wording."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.scheduler import reminders_job
from bot.services import directives
from bot.services.directive_parser import parse_directive
from bot.services.files import FileStore
from bot.services.forms_store import get_form
from handlers.classify import board_command, names_directive
from handlers.report_state import FLOW as REPORT_FLOW
from storage.db import transaction
from storage.models import Conversation, Directive, DirectiveTarget, Outbox, Report, Unit
from tests.support import BOARD_PHONE, DOCX_MIME, QUICK, add_staff, docx_bytes, load_roster, sample, travel_to
from tests.zalo_fixtures import BOT_PLATFORM, OA, Received, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

LAN_PHONE = "0912000007"  # Vũ Thị Lan, secretary of Chi bộ Bệnh viện Đa khoa tỉnh (under ĐUK)
NUMBER = "747-CV/ĐUK"
DEADLINE = date(2024, 4, 10)
SMALL_DOCX = "ke-hoach-747.docx"  # within the OA's 5 MB: sent natively
LARGE_PDF = "tai-lieu-747.pdf"  # over 5 MB: a link on every product
LARGE_SIZE = 6 * 1024 * 1024


async def send_directive(world: ZaloWorld, *, files: bool = True) -> int:
    """Sample 747 with two materials, queued for every cell under ĐUK, the way the command line queues it."""
    runtime = world.runtime
    settings = runtime.settings
    async with transaction(runtime.sessions) as session:
        draft = await directives.new_draft(
            session,
            runtime.clock,
            parse_directive(sample("directive-747-CV-DUK.txt")),
            form_key="sinh-hoat-chinh-tri",
        )
        draft.number = NUMBER
        directives.confirm_deadline(draft, DEADLINE)
        if files:
            store = FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024)
            materials = [
                (docx_bytes("Kế hoạch thực hiện\nNội dung sinh hoạt"), SMALL_DOCX, DOCX_MIME),
                (b"%PDF-1.4\n" + b"0" * LARGE_SIZE, LARGE_PDF, "application/pdf"),
            ]
            for data, name, mime in materials:
                stored = await store.save(session, runtime.clock, data, name, mime)
                await directives.attach(session, draft.id, stored)
        scope = list((await session.scalars(select(Unit).where(Unit.code == "DUK"))).all())
        form = await get_form(session, "sinh-hoat-chinh-tri")
        assert form is not None
        await directives.queue_broadcast(
            session, runtime.clock, draft, await directives.cells_under(session, scope), form, actor="cli"
        )
        directive_id = draft.id
    runtime.sender.wake()
    return directive_id


async def secretary(world: ZaloWorld) -> ZaloPerson:
    await load_roster(world.runtime)
    lan = world.person("lan-zalo-1", "Vũ Thị Lan")
    await lan.join(LAN_PHONE)
    return lan


async def with_directive(world: ZaloWorld, *, files: bool = False) -> tuple[ZaloPerson, int]:
    lan = await secretary(world)
    directive_id = await send_directive(world, files=files)
    await lan.wait_for_text("747-CV/ĐUK")
    await eventually(lambda: _settled(world, directive_id), "the broadcast is settled")
    return lan, directive_id


async def _settled(world: ZaloWorld, directive_id: int) -> bool:
    async with transaction(world.runtime.sessions) as session:
        directive = await session.get(Directive, directive_id)
        return directive is not None and directive.status == "sent"


async def lan_target(world: ZaloWorld, directive_id: int) -> DirectiveTarget | None:
    async with transaction(world.runtime.sessions) as session:
        return await session.scalar(
            select(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(DirectiveTarget.directive_id == directive_id, DirectiveTarget.delivery == "sent")
        )


async def reports(world: ZaloWorld, directive_id: int) -> list[Report]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.scalars(
            select(Report).where(Report.directive_id == directive_id).order_by(Report.version)
        )
        return list(rows.all())


# -- a secretary ---------------------------------------------------------------------------------------------


async def test_joins_with_an_invite(zalo: ZaloWorld) -> None:
    await secretary(zalo)  # the code typed, then the phone typed (Bot Platform) or given in the OA's form
    assert await zalo.linked("lan-zalo-1")


async def test_a_directive_arrives_with_its_files(zalo: ZaloWorld) -> None:
    lan = await secretary(zalo)
    await send_directive(zalo)
    await lan.wait_for_text("747-CV/ĐUK")  # the directive's card
    await lan.wait_until(lambda ms: any(LARGE_PDF in m.text for m in ms))
    card = next(i for i, m in enumerate(lan.messages) if "747-CV/ĐUK" in m.text)
    # One message carries the card, the link of a file that goes as a link, and the choices.
    assert card == next(i for i, m in enumerate(lan.messages) if LARGE_PDF in m.text)
    if zalo.product == OA:  # a PDF/DOCX within 5 MB comes as a native file; a larger one as a link
        await lan.wait_until(lambda ms: any(m.file_name == SMALL_DOCX for m in ms))
        assert not any(m.file_name == LARGE_PDF for m in lan.messages)
    else:  # the Bot Platform sends no files: each is a link to the bot's signed page
        await lan.wait_until(lambda ms: any(SMALL_DOCX in m.text and m.links for m in ms))
    link = next(m for m in lan.messages if LARGE_PDF in m.text).links[0]
    assert link.startswith("https://chibo.example.vn/"), link
    async with aiohttp.ClientSession() as http:
        async with http.get(zalo.local(link)) as response:
            assert response.status == 200  # the page (or the file) behind the link opens
        async with http.get(zalo.local(link[:-1] + ("0" if link[-1] != "0" else "1"))) as response:
            assert response.status in (403, 404)  # a link not signed by the bot does not


async def test_acknowledges_the_directive(zalo: ZaloWorld) -> None:
    lan, directive_id = await with_directive(zalo)
    target = await lan_target(zalo, directive_id)
    assert target is not None and target.acknowledged_at is None
    if zalo.product == OA:
        await lan.tap("Đã nhận")  # the template button
    else:
        await lan.say("đã nhận")  # typed: the Bot Platform has no buttons

    async def acknowledged() -> bool:
        row = await lan_target(zalo, directive_id)
        return row is not None and row.acknowledged_at is not None

    await eventually(acknowledged, "the receipt is recorded")


async def test_guided_report_field_by_field_then_edit_and_resend(zalo: ZaloWorld) -> None:
    lan, directive_id = await with_directive(zalo)
    await lan.say("báo cáo")
    await lan.say("hôm nay")  # Ngày tổ chức
    await lan.say("Sinh hoạt chuyên đề")  # Hình thức, by its words
    await lan.say("25/30")  # Số đảng viên tham gia / tổng số
    await lan.say("12")  # Số quần chúng
    await lan.say("Đảng viên nắm chắc nội dung")  # Kết quả nổi bật
    await lan.say("Không có")  # Khó khăn, kiến nghị
    await lan.say("bỏ qua")  # Ảnh minh chứng
    await lan.say("gửi")  # the summary: send
    first = (await eventually(lambda: reports(zalo, directive_id), "the report is stored"))[0]
    assert first.version == 1 and first.channel == zalo.channel
    assert first.values["ngay_to_chuc"] == "2024-04-03"
    assert first.values["hinh_thuc"] == "Sinh hoạt chuyên đề"
    assert first.values["dang_vien"] == {"attended": 25, "total": 30}
    assert first.values["quan_chung"] == 12
    assert first.values["ket_qua"] == "Đảng viên nắm chắc nội dung"
    await lan.wait_until(lambda ms: any(first.ref in m.text for m in ms))  # the receipt names its reference

    await lan.say("sửa")  # the sent report, shown for editing
    await lan.say("sửa")  # which field
    await lan.say("3")  # the third field, by its place in the list
    await lan.say("28/30")
    await lan.say("gửi")

    async def two_versions() -> list[Report] | None:
        rows = await reports(zalo, directive_id)
        return rows if len(rows) == 2 else None

    old, new = await eventually(two_versions, "the edited report is stored as a new version")
    assert (old.is_latest, new.is_latest, new.version) == (False, True, 2)
    assert new.values["dang_vien"] == {"attended": 28, "total": 30}
    assert new.values["hinh_thuc"] == old.values["hinh_thuc"]


async def test_one_message_report(zalo: ZaloWorld) -> None:
    lan, directive_id = await with_directive(zalo)
    await lan.say(QUICK)
    stored = (await eventually(lambda: reports(zalo, directive_id), "the report is stored"))[0]
    assert stored.values["ngay_to_chuc"] == "2024-04-01"
    assert stored.values["dang_vien"] == {"attended": 25, "total": 30}
    assert stored.channel == zalo.channel
    await lan.wait_until(lambda ms: any(stored.ref in m.text for m in ms))  # a receipt arrives


async def _reminder_outcome(world: ZaloWorld, lan: ZaloPerson, since: datetime) -> Outbox:
    """The reminder queued for `lan` at or after `since`, once the sender has dealt with it."""

    async def outcome() -> Outbox | None:
        async with transaction(world.runtime.sessions) as session:
            row = await session.scalar(
                select(Outbox)
                .where(Outbox.chat_id == lan.id, Outbox.kind == "reminder", Outbox.created_at >= since)
                .order_by(Outbox.id.desc())
            )
        if row is None or (row.status in ("pending", "sending") and row.attempts == 0):
            return None
        return row

    assert await reminders_job(world.runtime) is not None
    world.runtime.sender.wake()
    return await eventually(outcome, "the reminder is dealt with")


async def test_reminders_inside_and_outside_the_window(zalo: ZaloWorld) -> None:
    lan, _ = await with_directive(zalo)
    oa = zalo.fake if zalo.product == OA else None

    # Inside the window: she confirmed receipt a few minutes before the reminder of 3 days before the deadline
    # (on the OA a tap on the button is an interaction: it opens a new window).
    travel_to(zalo.runtime, 2024, 4, 7, 7, 55)
    await (lan.tap("Đã nhận") if oa is not None else lan.say("đã nhận"))
    travel_to(zalo.runtime, 2024, 4, 7, 8, 5)
    before = len(lan.messages)
    row = await _reminder_outcome(zalo, lan, zalo.runtime.clock.now())
    assert row.status == "sent", row.last_error
    await lan.wait_until(lambda ms: any("747-CV/ĐUK" in m.text for m in ms[before:]))
    if oa is not None:  # the OA's window: inside it the message is free
        assert lan.user.messages[-1].quota == "reply"  # type: ignore[union-attr]

    # Outside the 48-hour window, within 7 days: the reminder of 1 day before still reaches her.
    travel_to(zalo.runtime, 2024, 4, 9, 8, 5)
    before = len(lan.messages)
    row = await _reminder_outcome(zalo, lan, zalo.runtime.clock.now())
    assert row.status in ("sent", "pending", "held"), (row.status, row.last_error)  # delivered or held
    if row.status == "sent":
        await lan.wait_until(lambda ms: any("747-CV/ĐUK" in m.text for m in ms[before:]))
    if oa is not None:  # the OA's window: outside it a sent one draws on the quota
        assert row.status != "sent" or lan.user.messages[-1].quota != "reply"  # type: ignore[union-attr]


async def test_a_reminder_after_a_long_silence_is_never_lost(zalo: ZaloWorld) -> None:
    lan, _ = await with_directive(zalo)
    travel_to(zalo.runtime, 2024, 4, 14, 8, 5)  # 4 days overdue, 11 days after she last wrote
    row = await _reminder_outcome(zalo, lan, zalo.runtime.clock.now() - timedelta(minutes=1))
    if zalo.product != OA:  # no window on the Zalo Bot Platform: it goes out
        assert row.status == "sent", (row.status, row.last_error)
        return
    # The OA refuses anything after 7 days of silence: the reminder is held for her, not dropped, and goes out
    # (free: she just wrote) as soon as she writes again.
    assert row.status == "held", (row.status, row.last_error)
    await lan.say("xin chào")
    await lan.user.wait_until(lambda ms: any("747-CV/ĐUK" in m.text for m in ms))
    async with transaction(zalo.runtime.sessions) as session:
        released = await session.get(Outbox, row.id)
    assert released is not None and released.status == "sent"


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("Tình hình", ("tinhhinh", "")),
        ("tinh hinh 747-CV/ĐUK", ("tinhhinh", "747-CV/ĐUK")),
        ("Nhắc nhở 747 tắt.", ("nhacnho", "747 tắt")),
        ("Báo cáo Word 747", ("baocao", "747")),
        ("xuất 745", ("xuat", "745")),
        ("Tổng hợp!", ("tonghop", "")),
        ("tình hình tốt; 25/30; 12", None),  # a report, not a command
        ("báo cáo\nNgày 1/4 sinh hoạt chuyên đề, 25/30", None),
        ("xin chào", None),
    ],
)
def test_board_words(typed: str, command: tuple[str, str] | None) -> None:
    assert board_command(typed) == command


# -- a board member ------------------------------------------------------------------------------------------


async def board_member(world: ZaloWorld) -> ZaloPerson:
    await add_staff(world.runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    tuyen = world.person("tuyen-zalo-1", "Nguyễn Thị Tuyên")
    await tuyen.join(BOARD_PHONE, role="board")
    return tuyen


async def _policy_enabled(world: ZaloWorld, directive_id: int) -> bool | None:
    """Whether reminders are on for the directive's cells (a board member switches them for their scope's cells)."""
    async with transaction(world.runtime.sessions) as session:
        off = (
            await session.scalars(
                select(DirectiveTarget.reminders_off).where(DirectiveTarget.directive_id == directive_id)
            )
        ).all()
        return not any(off) if off else None


async def test_board_on_zalo_status_nudge_summary_and_reminders(zalo: ZaloWorld) -> None:
    lan, directive_id = await with_directive(zalo)
    tuyen = await board_member(zalo)

    status = await tuyen.say("tình hình 747")  # /tinhhinh by its word
    assert "747-CV/ĐUK" in status.text, tuyen.describe()
    listed = await tuyen.say("tình hình")  # the open directives, each a choice
    chosen = await tuyen.tap("747-CV/ĐUK")
    assert chosen != listed and "747-CV/ĐUK" in chosen.text, tuyen.describe()
    before = len(lan.messages)
    await tuyen.say("nhắc nhở 747")  # nudge the late cells: Lan has not reported

    async def nudged() -> bool:
        async with transaction(zalo.runtime.sessions) as session:
            return bool(
                await session.scalar(
                    select(func.count()).where(Outbox.chat_id == lan.id, Outbox.kind == "reminder")
                )
            )

    await eventually(nudged, "the nudge is queued for the late cell")
    await lan.wait_until(lambda ms: any("747-CV/ĐUK" in m.text for m in ms[before:]))

    summary = await tuyen.say("tổng hợp")
    assert summary.text.strip(), tuyen.describe()

    await tuyen.say("nhắc nhở 747 tắt")
    await eventually(lambda: _is(zalo, directive_id, False), "reminders switched off")
    await tuyen.say("nhắc nhở 747 bật")
    await eventually(lambda: _is(zalo, directive_id, True), "reminders switched back on")


async def _is(world: ZaloWorld, directive_id: int, enabled: bool) -> bool:
    return await _policy_enabled(world, directive_id) is enabled


@pytest.mark.parametrize(("words", "name_end"), [("xuất 747", ".xlsx"), ("báo cáo 747", ".docx")])
async def test_board_on_zalo_gets_the_export_and_the_report(
    zalo: ZaloWorld, words: str, name_end: str
) -> None:
    await with_directive(zalo)
    tuyen = await board_member(zalo)
    await tuyen.say(words)

    def delivered(ms: list[Received]) -> bool:
        return any((m.file_name or "").endswith(name_end) or (m.links and name_end in m.text) for m in ms)

    await tuyen.wait_until(delivered)
    got = next(m for m in tuyen.messages if (m.file_name or "").endswith(name_end) or name_end in m.text)
    native = (
        zalo.product == OA and name_end == ".docx"
    )  # Word goes natively through an OA; Excel is no OA file type
    if native:
        assert got.file_name is not None
    else:
        assert got.links, tuyen.describe()
        async with aiohttp.ClientSession() as http, http.get(zalo.local(got.links[0])) as response:
            assert response.status == 200


async def test_a_secretary_on_the_board_still_reports_with_her_words(zalo: ZaloWorld) -> None:
    """ "báo cáo" from someone who is both a secretary and on the board opens her own report, not the Word draft."""
    lan, _ = await with_directive(zalo)
    await add_staff(zalo.runtime, "Vũ Thị Lan", LAN_PHONE, "DUK")
    await lan.say("báo cáo")
    async with transaction(zalo.runtime.sessions) as session:
        flow = await session.scalar(select(Conversation.flow).where(Conversation.user_id == lan.id))
    assert flow == REPORT_FLOW
    await lan.say("bỏ qua")  # nothing else arrives: no Word draft was started
    assert not any((m.file_name or "").endswith(".docx") or ".docx" in m.text for m in lan.messages)


async def test_a_secretary_on_the_board_mid_report_gets_the_word_draft_for_747_and_her_report_waits(
    zalo: ZaloWorld,
) -> None:
    """ "báo cáo 747" (the board guide's words for the Word draft) from someone both a secretary and on the board,
    with her cell's report half done, is the board's draft, not an answer to her report's question; her report
    stays where it was and goes on with her next answer."""
    lan, directive_id = await with_directive(zalo)
    await add_staff(zalo.runtime, "Vũ Thị Lan", LAN_PHONE, "DUK")
    await lan.say("báo cáo")
    asked = await lan.wait_for_text("Mục 1/")
    before = len(lan.messages)
    await lan.say("báo cáo 747")
    await lan.wait_until(
        lambda ms: any((m.file_name or "").endswith(".docx") or ".docx" in m.text for m in ms)
    )
    assert not any("Chưa hiểu" in m.text for m in lan.messages[before:]), lan.describe()
    await lan.wait_for_text("Báo cáo đang làm dở của chi bộ vẫn được giữ")
    async with transaction(zalo.runtime.sessions) as session:
        flow = await session.scalar(select(Conversation.flow).where(Conversation.user_id == lan.id))
    assert flow == REPORT_FLOW
    answered = await lan.say("hôm nay")  # the first question (a date) answered as if nothing happened between
    assert "Mục 2/" in answered.text, (asked.text, lan.describe())
    assert await reports(zalo, directive_id) == []


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("báo cáo 747", True),
        ("xuất 747-CV/ĐUK kỳ 04/2024", True),
        ("báo cáo 747 theo cấp dưới", True),
        ("tình hình 747 X-TP", True),
        ("tình hình 12 đảng viên chấp hành tốt", False),  # an answer about the cell, not a command
        ("báo cáo 3 buổi sinh hoạt", False),
    ],
)
def test_only_a_board_command_s_own_words_after_a_number_leave_a_report_half_done(
    text: str, command: bool
) -> None:
    assert names_directive(text) is command


async def test_a_board_member_on_zalo_reads_the_words_to_type_not_slash_commands(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    tuyen = await board_member(zalo)
    help_text = (await tuyen.say("trợ giúp")).text
    assert "/" not in help_text.replace("tắt | bật", ""), (
        help_text
    )  # no command menu: nothing to pick a slash from
    for word in ("tình hình", "nhắc nhở", "tổng hợp", "xuất", "báo cáo word"):
        assert f"«{word}" in help_text, help_text
    if zalo.product == BOT_PLATFORM:  # no files there: a directive is pasted or photographed
        assert "dán nội dung" in help_text and "chụp ảnh từng trang" in help_text, help_text
