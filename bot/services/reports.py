"""Reports on directives: which directives a cell may still report on, and saving a report as a new version.

Every submission is a new `Report` row; the previous one stays, marked not latest, so nothing a cell ever sent is
lost. The cell's `DirectiveTarget` mirrors the latest version (`reported_at`, `late`), which is what the board's
status figures count.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import event, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.clock import Clock
from storage.models import Directive, DirectiveTarget, Report, Unit

# A directive takes reports once it has been (or is being) sent; drafts and cancelled ones do not.
OPEN_STATUSES = ("sending", "sent")
REF_PREFIX = "BC-"
# No 0/O or 1/I: a secretary reads the reference over the phone or copies it by hand.
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REF_LENGTH = 4
_REF_TRIES = 8


@dataclass(frozen=True)
class OpenTarget:
    """A directive a cell may report on, with the cell's target row and name."""

    directive: Directive
    target: DirectiveTarget
    unit_name: str

    @property
    def reported(self) -> bool:
        return self.target.reported_at is not None


async def open_targets(
    session: AsyncSession, unit_ids: Sequence[int], *, directive_id: int | None = None
) -> list[OpenTarget]:
    """Directives targeted at these cells, sent and not closed, newest first."""
    if not unit_ids:
        return []
    query = (
        select(Directive, DirectiveTarget, Unit.name)
        .join(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .where(DirectiveTarget.unit_id.in_(list(unit_ids)), Directive.status.in_(OPEN_STATUSES))
        .order_by(Directive.sent_at.desc(), Directive.id.desc(), Unit.path)
    )
    if directive_id is not None:
        query = query.where(Directive.id == directive_id)
    rows = (await session.execute(query)).all()
    return [OpenTarget(directive, target, name) for directive, target, name in rows]


async def open_target(session: AsyncSession, directive_id: int, unit_id: int) -> OpenTarget | None:
    """The open target of one cell on one directive, if the directive still takes reports."""
    found = await open_targets(session, [unit_id], directive_id=directive_id)
    return found[0] if found else None


async def latest_report(session: AsyncSession, directive_id: int, unit_id: int) -> Report | None:
    return (await latest_reports(session, [(directive_id, unit_id)])).get((directive_id, unit_id))


async def latest_reports(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], Report]:
    """The version that counts of each (directive, cell) that has one."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(Report).where(
            Report.is_latest.is_(True), tuple_(Report.directive_id, Report.unit_id).in_(list(set(keys)))
        )
    )
    return {(r.directive_id, r.unit_id): r for r in rows}


async def _last_versions(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    if not keys:
        return {}
    rows = await session.execute(
        select(Report.directive_id, Report.unit_id, func.max(Report.version))
        .where(tuple_(Report.directive_id, Report.unit_id).in_(list(set(keys))))
        .group_by(Report.directive_id, Report.unit_id)
    )
    return {(d, u): int(v) for d, u, v in rows.all()}


def is_late(directive: Directive, submitted_at: datetime, tz: tzinfo) -> bool:
    """Late when sent after the end of the deadline day, in local time; no deadline means never late."""
    if directive.deadline is None:
        return False
    return submitted_at.astimezone(tz).date() > directive.deadline


def new_ref(length: int = REF_LENGTH) -> str:
    """A short receipt reference such as "BC-7K3Q", drawn from a secure random source."""
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(length))


async def _unused_refs(session: AsyncSession, count: int) -> list[str]:
    """`count` distinct references no report has yet, checked in one query per round."""
    refs: list[str] = []
    for attempt in range(_REF_TRIES):
        # After a few collisions the short space is crowded: lengthen rather than loop.
        wanted = {new_ref(REF_LENGTH + attempt // 4) for _ in range(count - len(refs))} - set(refs)
        taken = set(await session.scalars(select(Report.ref).where(Report.ref.in_(wanted))))
        refs.extend(wanted - taken)
        if len(refs) >= count:
            return refs[:count]
    return refs + [new_ref(REF_LENGTH + 4) for _ in range(count - len(refs))]


@dataclass(frozen=True)
class NewReport:
    """What a cell submits: its answers to the directive's form, and who sent them from where."""

    directive: Directive
    unit_id: int
    values: dict[str, Any]
    person_id: int | None
    channel: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.directive.id, self.unit_id)


async def save_report(
    session: AsyncSession,
    clock: Clock,
    tz: tzinfo,
    *,
    directive: Directive,
    unit_id: int,
    values: dict[str, Any],
    person_id: int | None,
    channel: str,
) -> Report:
    """Store `values` as the cell's newest version of its report, in the caller's transaction."""
    new = NewReport(directive, unit_id, values, person_id, channel)
    return (await save_reports(session, clock, tz, [new]))[0]


async def save_reports(
    session: AsyncSession, clock: Clock, tz: tzinfo, submitted: Sequence[NewReport]
) -> list[Report]:
    """Store each submission as its cell's newest version, in the caller's transaction, in a handful of statements
    however many there are (the one-message reports of many cells are saved together). Two submissions for one
    cell are saved in their order, as versions n and n+1."""
    saved: dict[int, Report] = {}
    rest = list(enumerate(submitted))
    while rest:
        keys: set[tuple[int, int]] = set()
        this_round: list[tuple[int, NewReport]] = []
        later: list[tuple[int, NewReport]] = []
        for index, new in rest:
            (later if new.key in keys else this_round).append((index, new))
            keys.add(new.key)
        reports = await _save_distinct(session, clock, tz, [new for _, new in this_round])
        saved.update((index, report) for (index, _), report in zip(this_round, reports, strict=True))
        rest = later
    _count_on_commit(session, len(submitted))
    return [saved[index] for index in range(len(submitted))]


def _count_on_commit(session: AsyncSession, stored: int) -> None:
    # Counted once the caller's transaction commits, so a rolled-back handler counts nothing.
    event.listen(
        session.sync_session, "after_commit", lambda _s: metrics.REPORTS_STORED.inc(stored), once=True
    )


async def _save_distinct(
    session: AsyncSession, clock: Clock, tz: tzinfo, submitted: Sequence[NewReport]
) -> list[Report]:
    keys = [new.key for new in submitted]
    # Lock the targets first (PostgreSQL; SQLite's writer lock is already held), always in the same order, so two
    # secretaries of one cell sending at the same moment get versions n and n+1 instead of a conflict.
    targets = {
        (t.directive_id, t.unit_id): t
        for t in await session.scalars(
            select(DirectiveTarget)
            .where(tuple_(DirectiveTarget.directive_id, DirectiveTarget.unit_id).in_(keys))
            .order_by(DirectiveTarget.directive_id, DirectiveTarget.unit_id)
            .with_for_update()
        )
    }
    previous = await latest_reports(session, keys)
    # A recurring directive's earlier periods hold versions too: a new period's first report numbers on from them.
    earlier = await _last_versions(
        session, [n.key for n in submitted if n.key not in previous and n.directive.cycle > 1]
    )
    refs = await _unused_refs(session, len(submitted))
    now = clock.now()
    reports: list[Report] = []
    for new, ref in zip(submitted, refs, strict=True):
        before = previous.get(new.key)
        if before is not None:
            before.is_latest = False
        late = is_late(new.directive, now, tz)
        reports.append(
            Report(
                directive_id=new.directive.id,
                unit_id=new.unit_id,
                person_id=new.person_id,
                cycle=new.directive.cycle,
                version=before.version + 1 if before is not None else earlier.get(new.key, 0) + 1,
                is_latest=True,
                values=dict(new.values),
                ref=ref,
                late=late,
                submitted_at=now,
                channel=new.channel,
            )
        )
        target = targets.get(new.key)
        if target is not None:
            target.reported_at = now
            target.late = late
    session.add_all(reports)
    await session.flush()
    return reports
