"""Issue 16 benchmark: a three-level tree (1 province, 100 communes, 10,000 cells). The province's directive was
handed to the 100 commune boards; 90 re-issued it to their cells (90 % of which reported), 10 forwarded it; half
the communes reported upward, each with the figures of its report (what the province adds up "from below"). Times
the province board's /tinhhinh on it (the status, counting every cell through the re-issues, and the units below,
target 0.3 s), its daily summary (one line for 1818 counting every cell) and its
summary of 1818 from the cells and from below («tổng hợp 1818 [theo cấp dưới]», target 1 s each), and the split
of a new province send among the 100 joined commune boards. Every figure is the median of RUNS runs (the machine is
shared: one run, or the best, says little)."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.board import _timed
from bench.broadcast import _reset_postgres
from bench.seed import PER_PARENT, seed_province
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services import directives, levels, rollup, status, summary, upward
from bot.services.report_data import Aggregates, Counts
from messages import rollup as rollup_msg
from storage.db import make_engine, make_sessionmaker, migrate
from storage.models import ChannelAccount, Directive, DirectiveTarget, Handoff, Person, Report, Role, Unit

COMMUNES = 100
FORWARDING = 10  # communes that forwarded the directive unchanged; the others re-issued it
CHUNK = 5_000
RUNS = 5


def _directive(
    did: int, unit_id: int, number: str, clock: Clock, meta: dict[str, object]
) -> dict[str, object]:
    issued = clock.now() - timedelta(days=5)
    return {
        "id": did,
        "number": number,
        "doc_type": "CV",
        "subject": "Sinh hoạt chính trị, tư tưởng",
        "issued_on": issued.date(),
        "deadline": (issued + timedelta(days=20 if did == 1 else 15)).date(),
        "status": "sent",
        "form_key": "sinh-hoat-chinh-tri",
        "meta": meta,
        "body_text": "",
        "unit_id": unit_id,
        "created_at": issued,
        "sent_at": issued,
    }


def _figures(now: datetime) -> dict[str, object]:
    """A commune's report upward: 100 cells, 90 reported on time (as seeded below)."""
    counts = Counts(targeted=100, delivered=100, acknowledged=90, reported_on_time=90, not_reported=10)
    return rollup.figures(counts, Aggregates(sessions_held=90), "sinh-hoat-chinh-tri", now.date())


async def seed(engine: AsyncEngine, clock: Clock, cells: int = 10_000) -> None:
    cell_ids = await seed_province(engine, clock, cells)
    now = clock.now()
    communes = [2 + p for p in range(COMMUNES)]
    directive_rows = [_directive(1, 1, "1818-CV/TU", clock, {})]
    handoffs: list[dict[str, object]] = []
    targets: list[dict[str, object]] = []
    reports: list[dict[str, object]] = []
    for n, commune in enumerate(communes):
        forwarded = n < FORWARDING
        source = 1 if forwarded else 2 + n
        if not forwarded:
            directive_rows.append(_directive(source, commune, f"{n + 1}-CV/ĐU", clock, {"upper_id": 1}))
        handoffs.append(
            {
                "directive_id": 1,
                "unit_id": commune,
                "received_at": now - timedelta(days=5),
                "action": levels.FORWARDED if forwarded else levels.REISSUED,
                "acted_at": now - timedelta(days=4),
                "reissue_id": None if forwarded else source,
                "reported_at": now - timedelta(days=1) if n % 2 else None,
                "report_late": False,
                "report_figures": _figures(now) if n % 2 else None,
            }
        )
        for i, cell in enumerate(cell_ids[n * PER_PARENT : (n + 1) * PER_PARENT]):
            reported = i % 10 != 0
            targets.append(
                {
                    "directive_id": source,
                    "unit_id": cell,
                    "delivery": "sent",
                    "delivered_at": now - timedelta(days=4),
                    "reported_at": now - timedelta(hours=i) if reported else None,
                    "late": False,
                }
            )
            if reported:
                reports.append(
                    {
                        "directive_id": source,
                        "unit_id": cell,
                        "version": 1,
                        "is_latest": True,
                        "values": {"ngay_to_chuc": (now - timedelta(days=2)).date().isoformat()},
                        "ref": f"BC-{len(reports):06d}",
                        "late": False,
                        "submitted_at": now - timedelta(hours=i),
                        "channel": "zalo",
                    }
                )
    board = cells + 1
    async with engine.begin() as conn:
        await conn.execute(insert(Directive), directive_rows)
        await conn.execute(insert(Handoff), handoffs)
        for rows, model in ((targets, DirectiveTarget), (reports, Report)):
            for start in range(0, len(rows), CHUNK):
                await conn.execute(insert(model), rows[start : start + CHUNK])
        await conn.execute(
            insert(Person),
            [{"id": board, "full_name": "Cán bộ Ban Tuyên giáo", "phone": "0988000001", "created_at": now}],
        )
        await conn.execute(insert(Role), [{"id": board, "person_id": board, "kind": "board", "unit_id": 1}])
        # Each commune's board member, joined: the province's next send is split among them (timed).
        staff = [board + 1 + n for n in range(COMMUNES)]
        await conn.execute(
            insert(Person),
            [
                {"id": p, "full_name": f"Ban xã {p}", "phone": f"0977{p:06d}", "created_at": now}
                for p in staff
            ],
        )
        await conn.execute(
            insert(Role),
            [
                {"id": p, "person_id": p, "kind": "board", "unit_id": c}
                for p, c in zip(staff, communes, strict=True)
            ],
        )
        await conn.execute(
            insert(ChannelAccount),
            [
                {
                    "person_id": p,
                    "channel": "zalo",
                    "user_id": f"ban-{p}",
                    "chat_id": f"ban-{p}",
                    "linked_at": now,
                    "last_seen_at": now,
                }
                for p in staff
            ],
        )
        if conn.dialect.name == "postgresql":
            for table in ("directives", "reports", "people", "roles", "channel_accounts"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
        await conn.execute(text("ANALYZE"))


async def tree(db_url: str | None = None, cells: int = 10_000) -> dict[str, float]:
    tz = Settings(_env_file=None).tz  # type: ignore[call-arg]
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite+aiosqlite:///{tmp}/levels.db"
        if db_url:
            await _reset_postgres(db_url)
        engine = make_engine(url)
        await migrate(engine)
        started = time.perf_counter()
        await seed(engine, clock, cells)
        seeding = time.perf_counter() - started
        sessions = make_sessionmaker(engine)
        now = clock.now()
        today = now.astimezone(tz).date()
        async with sessions() as session:
            scope = await status.whole_scope(session)
            upper = await session.get(Directive, 1)
            assert upper is not None

            async def upper_status() -> None:
                view = await status.status_view(session, scope, upper)
                assert view.counts.targeted == cells and view.reissues == COMMUNES - FORWARDING, view.counts
                text = status.render_status(view, scope, today, escalate_after=3)
                rows = await upward.below(session, upper.id)
                below = upward.render_below(rows, tz)
                assert below.count("\n") == COMMUNES, below[:200]
                assert len(rollup.inside(rows, scope)) == COMMUNES  # the drill-down buttons' units
                assert text

            province = await session.get(Unit, 1)
            cells_all = await directives.cells_under(session, [province] if province else [])

            async def split_send() -> None:
                parts = await levels.split(session, province, cells_all)
                assert len(parts.handed) == COMMUNES and not parts.direct

            async def upper_summary() -> None:
                built = await summary.build_summary(session, scope, now, tz)
                # One line for 1818 counting every cell, its re-issues below not listed again.
                assert [d.counts.targeted for d in built.directives] == [cells], built.directives[:3]
                summary.render(built)

            async def from_cells() -> None:
                figures = await rollup.rollup(session, scope, upper, rollup.CELLS)
                assert figures is not None and figures.counts.targeted == cells, figures
                rollup_msg.render_summary(figures, "1818")

            async def from_below() -> None:
                figures = await rollup.rollup(session, scope, upper, rollup.BELOW)
                assert figures is not None and figures.counts.reported == 90 * COMMUNES // 2, figures
                rollup_msg.render_summary(figures, "1818")

            figures = {
                "seeding_s": seeding,
                "upper_status_with_units_below_s (target 0.3)": await _timed(upper_status, RUNS),
                "upper_daily_summary_s (target 1)": await _timed(upper_summary, RUNS),
                "upper_summary_from_cells_s (target 1)": await _timed(from_cells, RUNS),
                "upper_summary_from_below_s (target 1)": await _timed(from_below, RUNS),
                "send_split_among_100_boards_s": await _timed(split_send, RUNS),
            }
        await engine.dispose()
    return figures
