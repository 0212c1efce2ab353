"""The report's number: the register numbers each issuer's reports from 01 per committee term, the draft proposes
the next number, the board takes it in chat (Zalo by typing, Telegram by the button) or types another, two
members confirming at once get different numbers, and the shell lists the register."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from typer.testing import CliRunner

from bot.core.clock import Clock
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import doc_register
from bot.services.doc_register import Key, Numbered, Taken
from handlers.classify import board_command
from handlers.report_number import split_args
from storage.db import transaction
from storage.models import Directive, DocumentNumber
from tests.conftest import START
from tests.support import load_roster, send_test_directive
from tests.test_board import document_from, reported_747
from tests.test_zalo_flows import board_member, with_directive
from tests.word_layout import check_layout, closing_table
from tests.zalo_fixtures import OA, ZaloPerson, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

KEY = Key("ĐUK", "BC", "2025-2030")


def test_the_term_is_configured_or_the_five_years_holding_the_day() -> None:
    assert doc_register.term_of("2020-2025", date(2026, 1, 9)) == "2020-2025"
    assert doc_register.term_of("", date(2026, 1, 9)) == "2025-2030"
    assert doc_register.term_of("  ", date(2030, 12, 31)) == "2030-2035"


@pytest.mark.parametrize(
    ("typed", "command", "split"),
    [
        ("Lấy số 747", ("layso", "747"), ("747", None)),
        ("lay so 747 05", ("layso", "747 05"), ("747", 5)),
        ("lấy số 747-CV/ĐUK số 12", ("layso", "747-CV/ĐUK số 12"), ("747-CV/ĐUK", 12)),
    ],
)
def test_the_words_that_take_a_number(
    typed: str, command: tuple[str, str], split: tuple[str, int | None]
) -> None:
    assert board_command(typed) == command
    assert split_args(command[1]) == split


def test_numbers_below_ten_take_a_leading_zero() -> None:
    assert doc_register.symbol(3, "BC", "ĐUK") == "03-BC/ĐUK"
    assert doc_register.symbol(112, "BC", "ĐUK") == "112-BC/ĐUK"


async def _directives(engine: AsyncEngine, count: int, clock: Clock) -> list[int]:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with transaction(sessions) as session:
        rows = [Directive(number=f"{700 + i}-CV/ĐUK", created_at=clock.now()) for i in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_numbers_restart_per_term_type_and_issuer(engine: AsyncEngine, clock: Clock) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    first, second, third = await _directives(engine, 3, clock)
    async with sessions() as session:
        proposed = await doc_register.for_draft(session, KEY, first)
    assert proposed == Numbered(KEY, 1, recorded=False)
    assert await doc_register.record(sessions, clock, KEY, first, actor="t") == Numbered(
        KEY, 1, recorded=True
    )
    # Taking it again keeps the directive's number; the draft shows it as recorded.
    assert await doc_register.record(sessions, clock, KEY, first, actor="t", number=7) == Numbered(
        KEY, 1, True
    )
    async with sessions() as session:
        assert (await doc_register.for_draft(session, KEY, first)).recorded
        assert (await doc_register.for_draft(session, KEY, second)).number == 2
        assert (await doc_register.for_draft(session, Key("ĐUK", "BC", "2030-2035"), second)).number == 1
        assert (await doc_register.for_draft(session, Key("ĐUK", "KH", "2025-2030"), second)).number == 1
        assert (await doc_register.for_draft(session, Key("HU", "BC", "2025-2030"), second)).number == 1
    # A typed number: taken if another document holds it, else recorded (and the next proposal follows it).
    assert await doc_register.record(sessions, clock, KEY, second, actor="t", number=1) == Taken(
        KEY, 1, first
    )
    assert await doc_register.record(sessions, clock, KEY, second, actor="t", number=5) == Numbered(
        KEY, 5, True
    )
    async with sessions() as session:
        assert (await doc_register.for_draft(session, KEY, third)).number == 6


async def test_members_confirming_at_once_get_different_numbers(engine: AsyncEngine, clock: Clock) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    ids = await _directives(engine, 8, clock)
    taken = await asyncio.gather(
        *(
            doc_register.record(sessions, clock, KEY, directive_id, actor=f"m{i}")
            for i, directive_id in enumerate(ids)
        )
    )
    assert sorted(n.number for n in taken if isinstance(n, Numbered)) == list(range(1, 9))
    async with sessions() as session:
        rows = await doc_register.entries(session)
    assert sorted(row.directive_id for row in rows if row.directive_id is not None) == sorted(ids)


# --- In chat --------------------------------------------------------------------------------------------------


async def _latest_docx(world: ZaloWorld, person: ZaloPerson, after: int) -> bytes:
    """The newest Word file the person got: natively through the OA, as a download link on the Bot Platform."""

    def arrived(messages: list[object]) -> bool:
        return any(".docx" in (m.file_name or "") or ".docx" in m.text for m in person.messages[after:])

    await person.wait_until(arrived)
    if world.product == OA:
        sent = [m for m in person.user.messages[after:] if getattr(m, "file", None) is not None]
        return sent[-1].file.data  # type: ignore[attr-defined,union-attr]
    link = next(m.links[0] for m in reversed(person.messages[after:]) if m.links and ".docx" in m.text)
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.local(link)) as response,
    ):  # the download button
        assert response.status == 200
        return await response.read()


def _number_line(content: bytes) -> str:
    return Document(BytesIO(content)).tables[0].rows[0].cells[0].paragraphs[3].text


async def test_board_on_zalo_takes_the_proposed_number_by_typing(zalo: ZaloWorld) -> None:
    await with_directive(zalo)
    tuyen = await board_member(zalo)
    before = len(tuyen.messages)
    await tuyen.say("báo cáo 747")
    offer = await tuyen.wait_for_text("Số đề xuất", "01-BC/ĐUK")
    assert "lấy số 747" in offer.text and "nhiệm kỳ" in offer.text
    draft = await _latest_docx(zalo, tuyen, before)
    check_layout(draft)
    assert _number_line(draft) == "Số 01-BC/ĐUK"  # proposed, not yet recorded

    before = len(tuyen.messages)
    await tuyen.say("lấy số 747")
    await tuyen.wait_for_text("Đã ghi số 01-BC/ĐUK")
    recorded = await _latest_docx(zalo, tuyen, before)
    check_layout(recorded)
    assert _number_line(recorded) == "Số 01-BC/ĐUK"
    async with transaction(zalo.runtime.sessions) as session:
        rows = (await session.scalars(select(DocumentNumber))).all()
    assert [(r.issuer_code, r.doc_type, r.number) for r in rows] == [("ĐUK", "BC", 1)]
    assert rows[0].recorded_by.endswith(tuyen.id)

    await tuyen.say("lấy số 747 05")  # the report has its number already
    await tuyen.wait_for_text("đã có số 01-BC/ĐUK")
    before = len(tuyen.messages)
    await tuyen.say("báo cáo 747")  # a new draft carries the recorded number and offers nothing
    again = await _latest_docx(zalo, tuyen, before)
    assert _number_line(again) == "Số 01-BC/ĐUK"
    assert not any("Số đề xuất" in m.text for m in tuyen.messages[before:])


async def test_board_on_zalo_types_another_number(zalo: ZaloWorld) -> None:
    await with_directive(zalo)
    tuyen = await board_member(zalo)
    await tuyen.say("lấy số 747 12")
    await tuyen.wait_for_text("Đã ghi số 12-BC/ĐUK")
    await eventually(lambda: _numbers(zalo.runtime), "the number is recorded")
    assert await _numbers(zalo.runtime) == [12]
    answer = await tuyen.say("lấy số 747 0")
    assert "từ 1 đến 9999" in answer.text or "từ 1 đến 9999" in tuyen.messages[-1].text


async def _numbers(runtime: Runtime) -> list[int]:
    async with transaction(runtime.sessions) as session:
        return list((await session.scalars(select(DocumentNumber.number))).all())


async def test_board_on_telegram_takes_the_number_with_the_button(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, _, _ = await reported_747(bot, fake_tg)
    draft = await document_from(board, board.send_command("/baocao", "747"), ".docx")
    check_layout(draft.file_bytes or b"")
    await board.wait_until(lambda ms: any("Số đề xuất" in m.text for m in ms))
    offer = next(m for m in board.messages if "Số đề xuất" in m.text)
    assert offer.buttons[0].label == "🔢 Lấy số 01-BC/ĐUK"
    numbered = await document_from(board, board.press("🔢 Lấy số 01-BC/ĐUK", offer), ".docx")
    assert _number_line(numbered.file_bytes or b"") == "Số 01-BC/ĐUK"
    await board.wait_until(lambda ms: any("Đã ghi số 01-BC/ĐUK" in m.text for m in ms))


def test_cli_drafts_with_the_proposed_number_and_lists_the_register(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app
    from bot.core.config import Settings

    async def seed() -> None:
        settings = Settings(_env_file=None, database_url=db_url, data_dir=tmp_path / "data")  # type: ignore[call-arg]
        runtime = Runtime.build(settings, clock=Clock.starting_at(START))
        await load_roster(runtime)
        await send_test_directive(runtime, "747-CV/ĐUK", deadline=date.today() + timedelta(days=5))
        (other,) = await _directives(runtime.engine, 1, runtime.clock)
        key = Key("ĐUK", "BC", "2020-2025")
        await doc_register.record(runtime.sessions, runtime.clock, key, other, actor="cli-test")
        await runtime.engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("CHIBO_DATABASE_URL", db_url)
    monkeypatch.setenv("CHIBO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHIBO_PARTY_TERM", "2020-2025")
    monkeypatch.setenv("CHIBO_REPORT_SIGNER_NAME", "Lò Văn Minh")
    monkeypatch.delenv("CHIBO_TELEGRAM_TOKEN", raising=False)
    runner = CliRunner()
    docx = tmp_path / "bao-cao.docx"
    drafted = runner.invoke(app, ["report", "747", "--out", str(docx)])
    assert drafted.exit_code == 0, drafted.output
    content = docx.read_bytes()
    check_layout(content)
    assert _number_line(content) == "Số 02-BC/ĐUK"  # proposed after the one taken this term
    assert "Lò Văn Minh" in closing_table(Document(BytesIO(content))).rows[0].cells[1].text
    listed = runner.invoke(app, ["register"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "01-BC/ĐUK" in listed.output and "2020-2025" in listed.output and "700-CV/ĐUK" in listed.output
    other = runner.invoke(app, ["register", "--term", "2025-2030"], env={"COLUMNS": "200"})
    assert "chưa có số nào" in other.output
