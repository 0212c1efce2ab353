"""Personal data (Law 91/2025/QH15) through the bot and the command line: no phone number or report text in the
logs, every board look at reports audited, a person's data exported and erased with the figures kept, and the
daily retention purge."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot import scheduler
from bot.cli import app
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import directives
from bot.services.personal_data import PURGED_MARK
from storage.db import transaction
from storage.models import (
    AuditEntry,
    ChannelAccount,
    Directive,
    DirectiveStatus,
    HandoffFile,
    Person,
    Report,
    StoredFile,
    Unit,
)
from tests.support import add_staff, register
from tests.test_cli import query
from tests.test_reports import CUC, answer, card_for, one_secretary, queue_directive

# A report whose free-text answers are easy to find in a log.
SECRET_RESULT = "Kết quả riêng tư XYZZY"
SECRET_PROBLEM = "Khó khăn riêng tư PLUGH"
QUICK = f"1/4; chuyên đề; 25/30; 12; {SECRET_RESULT}; {SECRET_PROBLEM}"


async def _report(bot: Runtime, fake_tg: FakeTelegram) -> int:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    return directive_id


async def test_no_phone_number_or_report_text_in_the_logs(
    bot: Runtime, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything `chibo run` logs (INFO), and the project's own DEBUG lines too. Libraries' DEBUG traces (aiosqlite
    # logs every statement's parameters) are off in production, as are the fake servers' own logs.
    caplog.set_level(logging.INFO)
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    await _report(bot, fake_tg)
    board = fake_tg.user(700, "Tuyên")
    await add_staff(bot, "Nguyễn Thị Tuyên", "0988000001", "DUK")
    await register(bot, board, "0988000001", role="board")
    before = len(board.messages)
    await board.send_command("/tinhhinh", "747")
    await board.wait_for(before + 1)
    ours = [r for r in caplog.records if not r.name.startswith("bot.fakes")]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert ours, "the run logged something"
    for secret in (CUC, "+84912000003", "912000003", "0988000001", SECRET_RESULT, SECRET_PROBLEM):
        assert secret not in logged, secret


async def test_board_views_of_reports_are_audited(bot: Runtime, fake_tg: FakeTelegram) -> None:
    directive_id = await _report(bot, fake_tg)
    await add_staff(bot, "Nguyễn Thị Tuyên", "0988000001", "DUK")
    board = fake_tg.user(700, "Tuyên")
    await register(bot, board, "0988000001", role="board")
    for command in ("/tinhhinh", "/xuat", "/baocao"):
        before = len(board.messages)
        await board.send_command(command, "747")
        await board.wait_for(before + 1)
    before = len(board.messages)
    await board.send_command("/tonghop")
    await board.wait_for(before + 1)
    await bot.dispatcher.idle()
    async with transaction(bot.sessions) as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action.like("reports.%"))))
    assert sorted(e.action for e in entries) == [
        "reports.export_docx",
        "reports.export_xlsx",
        "reports.view_status",
        "reports.view_summary",
    ]
    assert all(e.actor == "telegram:700" and e.person_id is not None for e in entries)
    assert {e.details["directive"] for e in entries} == {directive_id, None}


async def test_export_then_erase_keeps_the_figures(
    bot: Runtime,
    fake_tg: FakeTelegram,
    cli: CliRunner,
    db_url: str,
    tmp_path: Path,
) -> None:
    directive_id = await _report(bot, fake_tg)

    async def shell(*args: str) -> Result:
        return await asyncio.to_thread(cli.invoke, app, list(args))

    async def db(statement: Any) -> list[Any]:
        return await asyncio.to_thread(query, db_url, statement)

    out = tmp_path / "cuc.json"
    exported = await shell("person", "export", CUC, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["phone"] == CUC and data["person"]["name"] == "Trần Thị Cúc"
    assert [r["role"] for r in data["roles"]] == ["secretary"]
    assert data["accounts"][0]["channel"] == "telegram" and data["accounts"][0]["user_id"] == "801"
    assert data["reports"][0]["values"]["ket_qua"] == SECRET_RESULT
    assert data["audit"], "what was recorded about the person is part of the export"

    erased = await shell("person", "erase", CUC, "--yes")
    assert erased.exit_code == 0, erased.output
    assert "1 báo cáo vẫn được tính" in erased.output
    assert await db(select(func.count()).select_from(Person).where(Person.phone == CUC)) == [(0,)]
    assert await db(select(func.count()).select_from(ChannelAccount)) == [(0,)]
    [(report,)] = await db(select(Report).where(Report.directive_id == directive_id))
    assert report.person_id is None
    assert report.values["dang_vien"] == {"attended": 25, "total": 30} and report.values["quan_chung"] == 12
    assert "ket_qua" not in report.values and "kho_khan" not in report.values
    actors = {actor for (actor,) in await db(select(AuditEntry.actor))}
    assert "telegram:801" not in actors
    actions = {action for (action,) in await db(select(AuditEntry.action))}
    assert {"person.export", "person.erase"} <= actions
    assert (await shell("person", "export", CUC)).exit_code == 1  # nothing left to export
    # The cell still counts as reported for the board.
    async with transaction(bot.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_the_daily_purge_keeps_counts_and_drops_old_texts(bot: Runtime, fake_tg: FakeTelegram) -> None:
    directive_id = await _report(bot, fake_tg)
    async with transaction(bot.sessions) as session:  # a board export of the reports, and a directive's file
        export = await bot.files.save(session, bot.clock, b"xlsx of reports", "bao-cao.xlsx", "application/x")
        attached = await bot.files.save(session, bot.clock, b"the directive", "747.docx", "application/x")
        await directives.attach(session, directive_id, attached)
        # A file a lower unit's board sent with it to its cells (bot.services.levels.forward).
        guide = await bot.files.save(session, bot.clock, b"the commune's guide", "hd.docx", "application/x")
        unit_id = await session.scalar(select(Unit.id).limit(1))
        assert unit_id is not None
        session.add(
            HandoffFile(directive_id=directive_id, unit_id=unit_id, sha256=guide.sha256, name="hd.docx")
        )
    async with transaction(bot.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        directive.status = DirectiveStatus.SENT
        deadline = directive.deadline or date(2024, 4, 10)
    assert await scheduler.purge_job(bot) is not None
    async with transaction(bot.sessions) as session:
        report = (await session.scalars(select(Report))).one()
        assert report.values["ket_qua"] == SECRET_RESULT, "within the retention period nothing is purged"

    days = bot.settings.retention_days
    bot.clock.advance(deadline - bot.clock.now().date() + timedelta(days=days + 1))
    purged = await scheduler.purge_job(bot)
    assert purged is not None and purged.reports == 1 and purged.audit_entries >= 1
    async with transaction(bot.sessions) as session:
        report = (await session.scalars(select(Report))).one()
        count = await session.scalar(select(func.count()).select_from(Report))
    assert count == 1 and report.values[PURGED_MARK] is True
    assert report.values["dang_vien"] == {"attended": 25, "total": 30}
    assert "ket_qua" not in report.values and "kho_khan" not in report.values
    assert not bot.files.path(export.sha256).exists() and bot.files.path(attached.sha256).exists()
    assert bot.files.path(guide.sha256).exists()
    async with transaction(bot.sessions) as session:
        assert await session.get(StoredFile, export.sha256) is None
    again = await scheduler.purge_job(bot)
    assert again is not None and again.reports == 0
