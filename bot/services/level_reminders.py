"""Reminders along the chain of levels: the board of a unit below that has not re-issued or forwarded an upper
directive, or not sent its report upward (for a recurring directive: for the period open now), is reminded; once
the upper deadline has passed without it, the upper board is told (escalation). Cells are reminded by
bot/services/reminders.py on their own level's directive (a re-issue carries its own, earlier deadline). Each
reminder is recorded under (upper directive, unit, rule) in the `reminders` table, the rule naming the period from
a recurring directive's second one on, so a restart or a second instance neither repeats nor loses one; quiet hours
are the upper directive's policy's. A handoff to a unit merged or split since is its main successor's board's
(reminded, and named in the escalation, as «X-MOI (từ X-TP)»). A correction takes over the handoffs of the
directive it replaces and the reminders already sent about them (`pass_on`): each counts once per chain of
corrections."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Reply
from bot.core.host import Host
from bot.services import levels, reminders, unit_changes, upward
from bot.services.outbox import enqueue
from messages import levels as msg
from storage.db import transaction
from storage.models import Directive, Handoff, Reminder, Unit

ACT_AFTER_DAYS = (
    2  # a board that has neither re-issued nor forwarded is reminded this long after receiving it
)
REPORT_BEFORE_DAYS = 1  # and reminded to report upward this long before the upper deadline
ACT, REPORT, ESCALATE = "level_act", "level_report", "level_escalate"
RULES = (ACT, REPORT, ESCALATE)


def _of(rule: str, upper: Directive) -> str:
    """The reminders-table key of a rule for the upper directive's open period: a recurring directive reminds and
    escalates afresh in each period (period 1's key is the bare rule, as a one-off directive's)."""
    return rule if upper.cycle == 1 else f"{rule}@{upper.cycle}"


async def pass_on(session: AsyncSession, old_id: int, correction_id: int) -> None:
    """A correction took over the handoffs of `old_id` (level_repeats.pass_on): the reminders and escalations
    already sent about them are the correction's too. The handoff keeps when it was received, so without them a
    board reminded for the original would be reminded again for the correction as if it were new."""
    await session.execute(
        update(Reminder)
        .where(
            Reminder.directive_id == old_id,
            or_(Reminder.rule.in_(RULES), *(Reminder.rule.startswith(f"{rule}@") for rule in RULES)),
        )
        .values(directive_id=correction_id)
    )


async def send_due(host: Host) -> int:
    """Queue the reminders and escalations due now; how many were queued."""
    clock, tz = host.clock, host.settings.tz
    now = clock.now()
    today = now.astimezone(tz).date()
    queued = 0
    async with transaction(host.sessions) as session:
        rows = (
            await session.execute(
                select(Handoff, Directive, Unit)
                .join(Directive, Directive.id == Handoff.directive_id)
                .join(Unit, Unit.id == Handoff.unit_id)
                .where(
                    # not reported up for the period open now (a recurring directive's earlier one's counts not)
                    or_(Handoff.reported_at.is_(None), Handoff.report_cycle != Directive.cycle),
                    Handoff.action != levels.HELD,  # no board to remind yet
                    Directive.deadline.is_not(None),
                )
            )
        ).all()
        for handed, upper, unit in rows:
            policy = reminders.policy_of(upper)
            if not policy.enabled or reminders.is_quiet(policy, now, tz):
                continue
            assert upper.deadline is not None
            pending = handed.action == levels.PENDING
            rule, text = None, ""
            if today > upper.deadline:
                rule = ESCALATE
            elif pending and now - handed.received_at >= timedelta(days=ACT_AFTER_DAYS):
                rule = ACT
            elif not pending and today >= upper.deadline - timedelta(days=REPORT_BEFORE_DAYS):
                rule = REPORT
            if rule is None or not await reminders.record(
                session, clock, upper.id, [unit.id], _of(rule, upper)
            ):
                continue
            number, deadline = upper.number or "", msg.day(upper.deadline)
            # A unit merged or split since: its main successor's board acts and reports for it.
            holder = await unit_changes.current(session, unit)
            name = (
                unit.name if holder.id == unit.id else msg.NOW_PART_OF.format(unit=holder.name, old=unit.name)
            )
            if rule == ESCALATE:
                what = msg.ESCALATE_NOT_ACTED if pending else msg.ESCALATE_NOT_REPORTED
                text = what.format(unit=name, number=number, deadline=deadline)
                chats = await upward.upper_chats(session, upper)
            else:
                template = msg.REMIND_ACT if rule == ACT else msg.REMIND_REPORT
                text = template.format(unit=name, number=number, deadline=deadline)
                chats = await levels.board_chats(session, holder.id)
            buttons = levels.act_buttons(upper.id, unit.id) if rule == ACT else []
            for channel, chat_id in chats:
                enqueue(
                    session, clock, channel, chat_id, [Reply(text=text, buttons=buttons)], kind="reminder"
                )
                queued += 1
    if queued:
        host.sender.wake()
    return queued
