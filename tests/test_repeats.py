"""A directive sent again (same number, issuer and issue date): the board chooses more cells for the one sent, a
correction replacing it, or a new one told apart by its internal code, on Zalo by chat and from the shell; the
subject is never taken from the parser's hint unless the board taps the suggestion; a button of an earlier preview
either does what its label says or is answered as out of date; the shell refuses a past deadline and says which
report form it used.

The board prepares a directive by chat where the channel has buttons: on the Zalo OA (the board pastes the text) and
Telegram; the Zalo Bot Platform sends the board to those or the shell, and its board commands take the codes too. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.runtime import Runtime
from bot.services import status
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import ChannelAccount, Directive, DirectiveTarget, Outbox, Person, Report, Role, Unit
from tests.support import EXAMPLE_ROSTER, QUICK, SAMPLES, board_and_secretaries, sample, send_test_directive
from tests.test_cli import query
from tests.test_directives import preview_of, send_747, until
from tests.test_zalo_flows import board_member, secretary
from tests.zalo_fixtures import OA, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixtures, imported for pytest

NUMBER = "747-CV/ĐUK"
on_oa = pytest.mark.parametrize(
    "zalo", [OA], indirect=True
)  # a Zalo product where the board prepares directives
FORM = "sinh hoạt chính trị"  # words of the form's title


async def _up_to_send(tuyen: ZaloPerson, text: str) -> None:
    """Paste a directive and take it to the audience: deadline confirmed, the form chosen, every cell picked."""
    before = len(tuyen.messages)  # pasted again: this time's preview, not the last one
    await tuyen.say(text)
    await tuyen.wait_for_text("Văn bản tôi đọc được", after=before)
    await tuyen.tap("Xác nhận hạn")
    await tuyen.tap("Tiếp tục")
    await tuyen.tap(FORM)
    await tuyen.tap("Tất cả chi bộ")


def _offered(person: ZaloPerson, since: int) -> str:
    """What the person was shown since message `since`: texts (typed choices included) and the OA's buttons."""
    shown = [m.text for m in person.messages[since:]]
    if isinstance(person.user, FakeOaUser):
        shown += [b.title for m in person.user.messages[since:] for b in m.buttons]
    return "\n".join(shown)


async def _wait_offered(person: ZaloPerson, since: int, *words: str) -> None:
    """Until every one of `words` was shown since message `since` (other messages may come in between)."""
    await person.wait_until(lambda _: all(w in _offered(person, since) for w in words))


async def _sent(world: ZaloWorld) -> list[Directive]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.scalars(
            select(Directive).where(Directive.status != "draft").order_by(Directive.id)
        )
        return list(rows.all())


async def _cells(world: ZaloWorld, directive_id: int) -> set[str]:
    async with transaction(world.runtime.sessions) as session:
        rows = await session.scalars(
            select(Unit.code)
            .join(DirectiveTarget, DirectiveTarget.unit_id == Unit.id)
            .where(DirectiveTarget.directive_id == directive_id)
        )
        return set(rows.all())


@on_oa
async def test_sending_747_again_asks_and_more_cells_get_the_same_directive(zalo: ZaloWorld) -> None:
    lan = await secretary(zalo)  # her cell (Bệnh viện, under Sở Y tế) did not get the first one
    first = await send_test_directive(zalo.runtime, NUMBER, units=("DUK-STC",))
    tuyen = await board_member(zalo)
    await _up_to_send(tuyen, sample("directive-747-CV-DUK.txt"))

    since = len(tuyen.messages)
    await tuyen.tap("Gửi ngay")
    await tuyen.wait_for_text("đã được gửi trước đây")  # progress messages may come in between
    await _wait_offered(tuyen, since, f"#{first}")
    assert [d.id for d in await _sent(zalo) if d.status != "cancelled"] == [first]  # nothing sent yet

    await tuyen.tap(f"Gửi thêm #{first}")
    await tuyen.wait_for_text(f"(#{first}) tới 3 chi bộ chưa nhận")
    kept = [d for d in await _sent(zalo) if d.status in status.SENT_STATES]
    assert [d.id for d in kept] == [first]  # still one directive 747: its reports stay one set
    assert await _cells(zalo, first) == {"DUK-STC-VP", "DUK-STC-NS", "DUK-SYT-VP", "DUK-SYT-BV", "DUK-BAO"}
    await lan.wait_for_text(NUMBER)  # the new cell gets the directive already sent


@on_oa
async def test_a_correction_replaces_the_directive_and_keeps_the_reports(zalo: ZaloWorld) -> None:
    lan = await secretary(zalo)
    first = await send_test_directive(zalo.runtime, NUMBER, units=("DUK",))
    await lan.wait_for_text(NUMBER)
    await lan.say(QUICK)

    async def reported() -> int | None:
        async with transaction(zalo.runtime.sessions) as session:
            return await session.scalar(select(func.count()).where(Report.directive_id == first))

    await eventually(reported, "Lan's report on the first one is stored")
    tuyen = await board_member(zalo)
    await _up_to_send(tuyen, sample("directive-747-CV-DUK.txt"))
    await tuyen.tap("Gửi ngay")
    await tuyen.tap(f"Đính chính, thay thế #{first}")

    old, correction = await _sent(zalo)
    assert (old.id, old.status) == (first, "replaced")
    assert correction.status in status.SENT_STATES and correction.meta["replaces"]["id"] == first
    async with transaction(zalo.runtime.sessions) as session:
        moved = await session.scalar(select(func.count()).where(Report.directive_id == correction.id))
        counted = await session.scalar(
            select(func.count()).where(
                DirectiveTarget.directive_id == correction.id, DirectiveTarget.reported_at.is_not(None)
            )
        )
        still_open = await status.open_directives(
            session, await status.whole_scope(session), zalo.runtime.clock.today(zalo.runtime.settings.tz)
        )
    assert (moved, counted) == (1, 1)  # Lan's report counts for the correction
    assert [d.id for d in still_open] == [
        correction.id
    ]  # the old one is nowhere open: status, reminders, summary
    card = await lan.wait_for_text("ĐÍNH CHÍNH")
    assert NUMBER in card.text
    await tuyen.say("tình hình 747")  # one match now: the correction's status at once
    await tuyen.wait_for_text("TÌNH HÌNH", f"(#{correction.id})")


@on_oa
async def test_a_new_directive_sharing_the_number_is_told_apart_by_its_code(zalo: ZaloWorld) -> None:
    await secretary(zalo)
    first = await send_test_directive(zalo.runtime, NUMBER, units=("DUK",))
    tuyen = await board_member(zalo)
    await _up_to_send(tuyen, sample("directive-747-CV-DUK.txt"))
    await tuyen.tap("Gửi ngay")
    await tuyen.tap("Là văn bản khác")
    second = max(d.id for d in await _sent(zalo))
    assert second != first
    await tuyen.wait_for_text(f"Mã nội bộ: #{second}")

    since = len(tuyen.messages)
    await tuyen.say("tình hình 747")  # two directives 747: candidates with distinct labels
    await _wait_offered(tuyen, since, f"#{first}", f"#{second}")
    await tuyen.say(f"tình hình #{first}")  # every command takes the internal code
    await tuyen.wait_for_text("TÌNH HÌNH", f"(#{first})")


async def test_board_commands_on_zalo_take_the_internal_code(zalo: ZaloWorld) -> None:
    await secretary(zalo)
    first = await send_test_directive(zalo.runtime, NUMBER)
    second = await send_test_directive(zalo.runtime, NUMBER)  # a different directive sharing the number
    tuyen = await board_member(zalo)
    since = len(tuyen.messages)
    await tuyen.say("tình hình 747")
    await _wait_offered(tuyen, since, f"#{first}", f"#{second}")
    await tuyen.tap(f"#{second}")
    await tuyen.wait_for_text("TÌNH HÌNH", f"(#{second})")
    await tuyen.say(f"tình hình #{first}")
    await tuyen.wait_for_text("TÌNH HÌNH", f"(#{first})")


@on_oa
async def test_the_subject_is_typed_or_the_suggestion_tapped_never_filled_in_silently(
    zalo: ZaloWorld,
) -> None:
    lan = await secretary(zalo)
    tuyen = await board_member(zalo)
    preview = await tuyen.say(sample("directive-745-CV-DUK.txt"))  # a subject the parser could only guess
    await tuyen.wait_for_text("Gợi ý trích yếu")
    assert "Trích yếu: — chưa tìm thấy" in "\n".join(m.text for m in tuyen.messages), preview.text
    await tuyen.tap("Hạn báo cáo")
    await tuyen.say("10/5/2024")
    await tuyen.tap("Tiếp tục")
    await tuyen.wait_for_text("chưa có trích yếu")
    await tuyen.tap("Dùng trích yếu gợi ý")
    await tuyen.wait_for_text("Đã dùng trích yếu gợi ý")
    await tuyen.tap("Tiếp tục")
    await tuyen.tap(FORM)
    await tuyen.tap("Tất cả chi bộ")
    await tuyen.tap("Gửi ngay")
    card = await lan.wait_for_text("745-CV/ĐUK")
    assert "đẩy mạnh tuyên truyền sự kiện Kỷ niệm 70 năm" in card.text  # the subject the board took


def test_the_card_never_shows_the_hint_as_the_subject() -> None:
    from bot.services import directives
    from bot.services.directive_parser import parse_directive

    meta = parse_directive(sample("directive-745-CV-DUK.txt"))
    assert meta.subject is None and meta.subject_hint
    draft = Directive()
    directives.apply_meta(draft, meta)
    draft.id = 1
    card = directives.card_parts(draft, [], None)[0].text or ""
    assert meta.subject_hint not in card


# -- buttons of an earlier message (Telegram: any old message's buttons can be pressed) ------------------------


async def test_an_out_of_date_send_button_says_so_and_a_plain_one_does_what_it_says(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await send_747(board)
    await preview_of(board)
    first_preview = next(m for m in board.messages if m.text.startswith("📄 Văn bản tôi đọc được"))
    await board.press("✅ Xác nhận hạn 30/10/2024")
    await until(board, "Đã xác nhận hạn")
    await board.wait_until(lambda ms: sum(m.text.startswith("📄 Văn bản tôi đọc được") for m in ms) == 2)
    # "Tiếp tục" on the preview from before the deadline was confirmed: it does what it says.
    await board.press("➡️ Tiếp tục: chọn nơi nhận", first_preview)
    await until(board, "Chọn mẫu báo cáo")
    await board.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await until(board, "Chọn nơi nhận")
    await board.press("🌐 Tất cả chi bộ trong phạm vi")
    everyone = await until(board, "Sẽ gửi tới 5 chi bộ")
    await board.press("⬜ Đảng bộ Sở Y tế (2)")
    await until(board, "Sẽ gửi tới 2 chi bộ")

    await board.press("📤 Gửi ngay", everyone)  # sent to 5 cells, as that message said? No: it is out of date
    await until(board, "Nút đó thuộc một tin cũ")
    async with transaction(bot.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(DirectiveTarget)) == 0
    await board.wait_until(
        lambda ms: sum("Sẽ gửi tới 2 chi bộ" in m.text for m in ms) == 2
    )  # the current one
    await board.press("📤 Gửi ngay")
    await until(board, "Đã xếp lịch gửi văn bản 747-CV/ĐUK tới 2 chi bộ")
    await board.press("❌ Hủy văn bản này", first_preview)  # the draft is gone: nothing to cancel
    await until(board, "không còn")


async def test_a_stale_deadline_confirmation_is_refused(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await send_747(board)
    old = await preview_of(board)
    old_message = next(m for m in board.messages if m.text == old)
    await board.press("✏️ Hạn báo cáo")
    await until(board, "Gõ hạn báo cáo")
    await board.send_text("20/10/2024")
    await until(board, "Đã sửa Hạn báo cáo")
    await board.press("✅ Xác nhận hạn 30/10/2024", old_message)
    await until(board, "Nút đó thuộc một tin cũ")
    assert not any("Đã xác nhận hạn báo cáo 30/10/2024" in m.text for m in board.messages)


# -- the shell ---------------------------------------------------------------------------------------------


def _send(cli: CliRunner, *extra: str, to: str = "DUK-STC", deadline: str = "30/10/2030") -> tuple[int, str]:
    args = [
        "directive",
        "send",
        str(SAMPLES / "directive-747-CV-DUK.txt"),
        "--deadline",
        deadline,
        "--to",
        to,
    ]
    result = cli.invoke(app, [*args, *extra])
    return result.exit_code, result.output


def test_the_shell_never_duplicates_a_directive_silently(cli: CliRunner, db_url: str) -> None:
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    code, out = _send(cli)
    assert code == 0, out
    assert "Mẫu báo cáo / report form:" in out  # which form it used
    [(first,)] = query(db_url, select(Directive.id))

    code, out = _send(cli, to="DUK")
    assert code == 1 and f"#{first}" in out and "--repeat" in out, out
    assert query(db_url, select(func.count()).select_from(Directive)) == [(1,)]  # refused whole

    code, out = _send(cli, "--repeat", "add", to="DUK")
    assert code == 0 and "3" in out and f"#{first}" in out, out
    assert query(db_url, select(func.count()).where(DirectiveTarget.directive_id == first)) == [(5,)]
    assert query(db_url, select(func.count()).where(Directive.status.in_(("sending", "sent")))) == [(1,)]

    code, out = _send(cli, "--repeat", "replace", "--of", f"#{first}")
    assert code == 0, out
    rows = query(db_url, select(Directive.id, Directive.status).where(Directive.status != "cancelled"))
    [(correction, _)] = [r for r in rows if r[0] != first]
    assert (first, "replaced") in rows
    assert query(db_url, select(func.count()).where(DirectiveTarget.directive_id == correction)) == [(5,)]

    code, out = _send(cli, "--repeat", "new")
    assert code == 0, out
    listing = cli.invoke(app, ["status"])
    assert listing.exit_code == 0, listing.output
    assert f"#{correction}" in listing.output and not re.search(rf"#{first}\b", listing.output)
    assert (
        "chibo status" in listing.output and "/tinhhinh" not in listing.output and "Bấm" not in listing.output
    )
    ambiguous = cli.invoke(app, ["status", "747"])
    assert ambiguous.exit_code == 1 and f"#{correction}" in ambiguous.output, ambiguous.output
    one = cli.invoke(app, ["status", f"#{correction}"])
    assert one.exit_code == 0 and f"(#{correction})" in one.output, one.output


def test_a_correction_withdraws_the_old_deliveries_not_yet_made(cli: CliRunner, db_url: str) -> None:
    # A secretary has joined but the bot has not run since the first send: her copy of the old one still waits.
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])

    async def join() -> None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                cell = await session.scalar(select(Unit).where(Unit.code == "DUK-STC-VP"))
                assert cell is not None
                lan = Person(full_name="Lan", phone="0912000111", created_at=datetime.now(UTC))
                session.add(lan)
                await session.flush()
                session.add(Role(person_id=lan.id, kind="secretary", unit_id=cell.id))
                session.add(
                    ChannelAccount(
                        person_id=lan.id,
                        channel="zalo",
                        user_id="z-lan",
                        chat_id="z-lan",
                        linked_at=lan.created_at,
                        last_seen_at=lan.created_at,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(join())
    assert _send(cli)[0] == 0
    [(first,)] = query(db_url, select(Directive.id))
    assert query(db_url, select(Outbox.status).where(Outbox.directive_id == first)) == [("pending",)]

    code, out = _send(cli, "--repeat", "replace")
    assert code == 0, out
    by_directive = query(db_url, select(Outbox.directive_id, Outbox.status).order_by(Outbox.id))
    assert [(d == first, state) for d, state in by_directive] == [(True, "withdrawn"), (False, "pending")]


def test_the_shell_refuses_a_past_deadline_and_a_missing_subject(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    cli.invoke(app, ["units", "import", str(EXAMPLE_ROSTER)])
    code, out = _send(cli, deadline="01/01/2020")
    assert code == 1 and "01/01/2020" in out and "past" in out, out
    no_subject = ["directive", "send", str(SAMPLES / "directive-745-CV-DUK.txt"), "--deadline", "30/10/2030"]
    refused = cli.invoke(app, [*no_subject, "--to", "DUK"])
    assert refused.exit_code == 1 and "--subject" in refused.output and "Kỷ niệm 70 năm" in refused.output
    assert query(db_url, select(func.count()).select_from(Directive)) == [(0,)]
    taken = cli.invoke(
        app, [*no_subject, "--to", "DUK", "--subject", "Tuyên truyền 70 năm Chiến thắng Điện Biên Phủ"]
    )
    assert taken.exit_code == 0, taken.output
    assert query(db_url, select(func.count()).select_from(Outbox)) == [(0,)]
