"""Issue 5 benchmark: on a province of 10,000 cells, 100 directives and 1,000,000 reports, time the daily summary
for a whole-province board, /tinhhinh for one directive, the Excel export and the Word report.

The directives ask the report kinds of issue 15 in turn (bench.province); the directive timed asks the attendance
form, and the Excel export of one asking the default (ratio) form is timed in the same run for comparison."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.broadcast import _reset_postgres
from bench.province import seed
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.runtime import settle_memory
from bot.services import status, summary
from bot.services.docx_report import build_docx
from bot.services.xlsx_export import build_xlsx
from storage.db import make_engine, make_sessionmaker, migrate
from storage.models import Directive


async def _timed(work: Callable[[], Awaitable[Any]], repeat: int = 3) -> float:
    """The median of `repeat` runs (the machine is shared: one run alone says little)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def board(db_url: str | None = None, cells: int = 10_000, directives: int = 100) -> dict[str, float]:
    tz = Settings(_env_file=None).tz  # type: ignore[call-arg]
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite+aiosqlite:///{tmp}/province.db"
        if db_url:
            await _reset_postgres(db_url)
        engine = make_engine(url)
        await migrate(engine)
        started = time.perf_counter()
        await seed(engine, clock, cells, directives)
        seeding = time.perf_counter() - started
        settle_memory()  # as `chibo run` does once it is up
        sessions = make_sessionmaker(engine)
        now = clock.now()
        today = now.astimezone(tz).date()
        async with sessions() as session:
            scope = await status.whole_scope(session)
            # The directive timed asks the attendance form; the one before it the default form (bench.province).
            directive = await session.get(Directive, directives // 2)
            ratio_directive = await session.get(Directive, directives // 2 - 1)
            assert directive is not None and ratio_directive is not None

            async def daily_summary() -> None:
                s = await summary.build_summary(session, scope, now, tz)
                summary.render(s)

            async def daily_summary_with_chart() -> None:
                s = await summary.build_summary(session, scope, now, tz)
                summary.render(s)
                await summary.chart(s)

            async def tinhhinh() -> None:
                view = await status.status_view(session, scope, directive)
                status.render_status(view, scope, today, escalate_after=3)

            async def excel() -> None:
                build_xlsx(await status.report_data(session, scope, directive, today, str(tz)))

            async def excel_ratio_form() -> None:
                build_xlsx(await status.report_data(session, scope, ratio_directive, today, str(tz)))

            async def word() -> None:
                build_docx(await status.report_data(session, scope, directive, today, str(tz)))

            figures = {
                "seeding_s": seeding,
                "daily_summary_s (target 1)": await _timed(daily_summary),
                "daily_summary_with_chart_s": await _timed(daily_summary_with_chart),
                "tinhhinh_one_directive_s (target 0.3)": await _timed(tinhhinh),
                "excel_export_s (target 5)": await _timed(excel),
                "excel_export_default_form_s": await _timed(excel_ratio_form),
                "word_report_s (target 5)": await _timed(word),
            }
        await engine.dispose()
    return figures
