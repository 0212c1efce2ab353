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

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
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
    return await session.scalar(
        select(Report).where(
            Report.directive_id == directive_id, Report.unit_id == unit_id, Report.is_latest.is_(True)
        )
    )


async def report_versions(session: AsyncSession, directive_id: int, unit_id: int) -> list[Report]:
    """Every version a cell sent on a directive, oldest first."""
    return list(
        (
            await session.scalars(
                select(Report)
                .where(Report.directive_id == directive_id, Report.unit_id == unit_id)
                .order_by(Report.version)
            )
        ).all()
    )


def is_late(directive: Directive, submitted_at: datetime, tz: tzinfo) -> bool:
    """Late when sent after the end of the deadline day, in local time; no deadline means never late."""
    if directive.deadline is None:
        return False
    return submitted_at.astimezone(tz).date() > directive.deadline


def new_ref(length: int = REF_LENGTH) -> str:
    """A short receipt reference such as "BC-7K3Q", drawn from a secure random source."""
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(length))


async def _unused_ref(session: AsyncSession) -> str:
    for attempt in range(_REF_TRIES):
        # After a few collisions the short space is crowded: lengthen rather than loop.
        ref = new_ref(REF_LENGTH + attempt // 4)
        if await session.scalar(select(Report.id).where(Report.ref == ref).limit(1)) is None:
            return ref
    return new_ref(REF_LENGTH + 4)


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
    """Store `values` as the cell's newest version of its report, in the caller's transaction.

    The target row is locked first (PostgreSQL), so two secretaries of one cell sending at the same moment get
    versions n and n+1 instead of a conflict.
    """
    target = await session.scalar(
        select(DirectiveTarget)
        .where(DirectiveTarget.directive_id == directive.id, DirectiveTarget.unit_id == unit_id)
        .with_for_update()
    )
    previous = await session.scalar(
        select(func.max(Report.version)).where(Report.directive_id == directive.id, Report.unit_id == unit_id)
    )
    await session.execute(
        update(Report)
        .where(Report.directive_id == directive.id, Report.unit_id == unit_id, Report.is_latest.is_(True))
        .values(is_latest=False)
    )
    now = clock.now()
    late = is_late(directive, now, tz)
    report = Report(
        directive_id=directive.id,
        unit_id=unit_id,
        person_id=person_id,
        version=(previous or 0) + 1,
        is_latest=True,
        values=dict(values),
        ref=await _unused_ref(session),
        late=late,
        submitted_at=now,
        channel=channel,
    )
    session.add(report)
    if target is not None:
        target.reported_at = now
        target.late = late
    await session.flush()
    return report
