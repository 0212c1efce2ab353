"""The board's review of a cell's report: accept the latest version, or return it for correction with a comment.
A returned report's secretary gets the comment in chat through the outbox and corrects it the usual way («sửa»);
the corrected version arrives as a new version, received and not yet reviewed. Only a unit in the reviewer's scope
can be reviewed, and every review is written to the audit log."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Reply
from bot.services import audit, outbox
from bot.services import directives as directive_service
from bot.services.status import Scope, in_scope
from messages import web as msg
from storage.models import Directive, Person, Report, Unit

COMMENT_MAX = 1000


class Review(StrEnum):
    RECEIVED = "received"  # stored as NULL: every version starts here
    ACCEPTED = "accepted"
    RETURNED = "returned"


def review_of(report: Report | None) -> Review | None:
    if report is None:
        return None
    return Review(report.review) if report.review else Review.RECEIVED


async def latest_in_scope(
    session: AsyncSession, scope: Scope, directive_id: int, unit_id: int
) -> Report | None:
    """The cell's latest report on the directive, if the cell is in scope."""
    query = select(Report).where(
        Report.directive_id == directive_id, Report.unit_id == unit_id, Report.is_latest.is_(True)
    )
    return await session.scalar(in_scope(query, scope, join_on=Report.unit_id))


async def review(
    session: AsyncSession,
    clock: Clock,
    report: Report,
    directive: Directive,
    reviewer: Person,
    *,
    accept: bool,
    comment: str = "",
    actor: str,
) -> None:
    """Accept `report`, or return it with `comment` (the secretary is told in chat)."""
    comment = " ".join(comment.split())[:COMMENT_MAX]
    report.review = Review.ACCEPTED if accept else Review.RETURNED
    report.review_comment = comment or None
    report.reviewed_at = clock.now()
    report.reviewed_by = reviewer.id
    await audit.audit(
        session,
        clock,
        "report.accepted" if accept else "report.returned",
        person_id=reviewer.id,
        actor=actor,
        details={
            "directive": directive.id,
            "unit": report.unit_id,
            "version": report.version,
            "comment": comment,
        },
    )
    if accept:
        return
    unit_name = await session.scalar(select(Unit.name).where(Unit.id == report.unit_id)) or ""
    for recipient in await directive_service.recipients(session, [report.unit_id]):
        if recipient.channel is None or recipient.chat_id is None:
            continue
        text = msg.RETURNED_TO_SECRETARY.format(
            number=directive.number or "", unit=unit_name, comment=comment, reviewer=reviewer.full_name
        )
        outbox.enqueue(
            session,
            clock,
            recipient.channel,
            recipient.chat_id,
            [Reply(text=text)],
            kind=outbox.REPLY,
            directive_id=directive.id,
            unit_id=report.unit_id,
        )
