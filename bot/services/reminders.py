"""Reminders to cells that have not reported, and escalation to their parent unit's secretary.

The policy says when: by default 3 days and 1 day before the deadline, on the day, then every 2 days while overdue
(at most 3 times), at 08:00 local time and never during the quiet hours 21:00-07:00; a unit overdue by more than
3 days is escalated once. A directive may override any of it (`Directive.reminder_policy`).

What is due is derived from the directive's deadline, the database and the clock, never remembered in memory:
each reminder is written to the `reminders` table under (directive, unit, rule) in the same transaction that queues
it, with INSERT ... ON CONFLICT DO NOTHING, so a restart or a second instance neither loses nor repeats one. A unit
that missed several rules (it joined late, the bot was down) gets only the latest one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Button, Reply
from bot.core.host import Host
from bot.services import directives as directive_service
from bot.services import status
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form
from bot.services.outbox import enqueue
from messages import board as msg
from messages import directives as directive_msg
from messages.formats import day
from storage.db import transaction
from storage.models import Directive, DirectiveTarget, Reminder, Unit

log = logging.getLogger(__name__)

MANUAL = "manual"
INSERT_CHUNK = 500
UNREACHABLE = ("blocked", "unregistered")
LOOKAHEAD_DAYS = 31  # no "before" rule may be further ahead than this
LOOKBACK_DAYS = 366  # nor any overdue rule or escalation further behind


# --- Policy ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    enabled: bool = True
    before_days: tuple[int, ...] = (3, 1)
    on_day: bool = True
    overdue_every_days: int = 2
    overdue_max: int = 3
    send_at: time = time(8, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    escalate_after_days: int | None = 3


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class PolicyRefusal:
    """Why an override was refused, in Vietnamese, naming the option."""

    message: str


def _int_in(low: int, high: int) -> Any:
    def read(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return read


def _days_list(value: object) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError
    read = _int_in(1, LOOKAHEAD_DAYS - 1)
    return tuple(sorted({read(item) for item in value}, reverse=True))


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError
    return time.fromisoformat(value.strip())


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _optional_days(value: object) -> int | None:
    return None if value is None else _int_in(1, 60)(value)


_READERS: dict[str, Any] = {
    "enabled": _flag,
    "before_days": _days_list,
    "on_day": _flag,
    "overdue_every_days": _int_in(1, 30),
    "overdue_max": _int_in(0, 10),
    "send_at": _clock_time,
    "quiet_start": _clock_time,
    "quiet_end": _clock_time,
    "escalate_after_days": _optional_days,
}
POLICY_OPTIONS = tuple(_READERS)


def parse_policy(data: Mapping[str, object] | None, base: Policy = DEFAULT_POLICY) -> Policy | PolicyRefusal:
    """An override on top of `base`; an unknown option or a bad value is refused, naming it."""
    values: dict[str, Any] = {}
    for name, raw in (data or {}).items():
        reader = _READERS.get(name)
        if reader is None:
            return PolicyRefusal(msg.POLICY_UNKNOWN.format(name=name, options=", ".join(POLICY_OPTIONS)))
        try:
            values[name] = reader(raw)
        except ValueError:
            return PolicyRefusal(msg.POLICY_BAD.format(name=name, value=raw))
    return replace(base, **values)


def policy_of(directive: Directive) -> Policy:
    """The directive's policy; a stored override that no longer reads falls back option by option."""
    policy = DEFAULT_POLICY
    for name, raw in (directive.reminder_policy or {}).items():
        read = parse_policy({name: raw}, policy)
        if isinstance(read, Policy):
            policy = read
        else:
            log.warning("directive %s: ignoring reminder option %s=%r", directive.id, name, raw)
    return policy


def policy_to_json(policy: Policy) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for option in fields(Policy):
        value = getattr(policy, option.name)
        data[option.name] = value.strftime("%H:%M") if isinstance(value, time) else value
    data["before_days"] = list(policy.before_days)
    return data


async def set_policy(
    session: AsyncSession, directive: Directive, overrides: Mapping[str, object]
) -> Policy | PolicyRefusal:
    """Merge `overrides` into the directive's stored override (only the options given change)."""
    merged = {**(directive.reminder_policy or {}), **overrides}
    policy = parse_policy(merged)
    if isinstance(policy, PolicyRefusal):
        return policy
    stored = {name: policy_to_json(policy)[name] for name in merged}
    directive.reminder_policy = stored
    await session.flush()
    return policy


async def switch(session: AsyncSession, directive: Directive, scope: status.Scope, *, on: bool) -> int:
    """Turn automatic reminders (and escalations) on or off for the directive's cells in `scope` only: another
    board's cells keep theirs. Returns how many cells it changed."""
    cells = status.in_scope(select(Unit.id), scope)
    result = await session.execute(
        update(DirectiveTarget)
        .where(
            DirectiveTarget.directive_id == directive.id, DirectiveTarget.unit_id.in_(cells.scalar_subquery())
        )
        .values(reminders_off=not on)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- When --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planned:
    """One scheduled reminder: its key in the reminders table, its kind, and when it falls due (UTC)."""

    rule: str
    kind: str  # "before" | "due" | "overdue"
    days: int  # days before the deadline, or days overdue
    at: datetime


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)


def schedule(policy: Policy, deadline: date, tz: ZoneInfo) -> list[Planned]:
    """The reminders of a deadline in time order. Keys carry the deadline, so a moved deadline starts afresh."""
    stamp = deadline.isoformat()
    planned = [
        Planned(
            f"before{days}@{stamp}", "before", days, _at(deadline - timedelta(days=days), policy.send_at, tz)
        )
        for days in sorted(policy.before_days, reverse=True)
    ]
    if policy.on_day:
        planned.append(Planned(f"due@{stamp}", "due", 0, _at(deadline, policy.send_at, tz)))
    for n in range(1, policy.overdue_max + 1):
        days = n * policy.overdue_every_days
        planned.append(
            Planned(
                f"overdue{n}@{stamp}",
                "overdue",
                days,
                _at(deadline + timedelta(days=days), policy.send_at, tz),
            )
        )
    return sorted(planned, key=lambda p: p.at)


def escalation_at(policy: Policy, deadline: date, tz: ZoneInfo) -> datetime | None:
    """When a unit still missing counts as overdue by more than `escalate_after_days`: the next send time."""
    if policy.escalate_after_days is None:
        return None
    return _at(deadline + timedelta(days=policy.escalate_after_days + 1), policy.send_at, tz)


def is_quiet(policy: Policy, moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_ends(policy: Policy, moment: datetime, tz: ZoneInfo) -> datetime:
    """The first moment at or after `moment` outside the quiet hours."""
    if not is_quiet(policy, moment, tz):
        return moment
    local = moment.astimezone(tz)
    end = _at(local.date(), policy.quiet_end, tz)
    return end if end > local else end + timedelta(days=1)


def active_until(policy: Policy, deadline: date, tz: ZoneInfo) -> datetime:
    """After this nothing more is sent for the deadline: one overdue interval past the last reminder or the
    escalation. It bounds the job's work to the directives in their reminder window."""
    moments = [p.at for p in schedule(policy, deadline, tz)]
    escalate = escalation_at(policy, deadline, tz)
    if escalate is not None:
        moments.append(escalate)
    last = max(moments, default=_at(deadline, policy.send_at, tz))
    return last + timedelta(days=max(1, policy.overdue_every_days))


def current(
    policy: Policy, deadline: date, sent_at: datetime | None, now: datetime, tz: ZoneInfo
) -> Planned | None:
    """The latest reminder that has fallen due; those planned before the directive was sent never apply, and
    none once the reminder window is over."""
    if now >= active_until(policy, deadline, tz):
        return None
    due = [p for p in schedule(policy, deadline, tz) if p.at <= now and (sent_at is None or p.at >= sent_at)]
    return due[-1] if due else None


def escalation_due(
    policy: Policy, deadline: date, sent_at: datetime | None, now: datetime, tz: ZoneInfo
) -> bool:
    escalate = escalation_at(policy, deadline, tz)
    if escalate is None or now < escalate or now >= active_until(policy, deadline, tz):
        return False
    return sent_at is None or sent_at <= escalate


# --- Sending what is due -----------------------------------------------------------------------------------


@dataclass
class Run:
    """What one pass of the reminder job did."""

    reminders: int = 0
    escalations: int = 0
    escalated_units: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    levels: int = 0  # reminders and escalations to boards along the chain (bot/services/level_reminders.py)


async def send_due(host: Host) -> Run:
    """Queue every reminder and escalation due now. Which directives have something due is decided from one
    read of the directives; each of those then gets its own transaction."""
    clock, tz = host.clock, host.settings.tz
    now = clock.now()
    today = now.astimezone(tz).date()
    async with host.sessions() as session:
        candidates = (
            await session.scalars(
                select(Directive).where(
                    Directive.status.in_(status.SENT_STATES),
                    Directive.deadline.is_not(None),
                    Directive.deadline >= today - timedelta(days=LOOKBACK_DAYS),
                    Directive.deadline <= today + timedelta(days=LOOKAHEAD_DAYS),
                )
            )
        ).all()
    run = Run()
    for directive in candidates:
        if _something_due(directive, now, tz):
            async with transaction(host.sessions) as session:
                await _directive_due(session, clock, tz, directive.id, run)
    if run.reminders or run.escalations:
        host.sender.wake()
    return run


def _something_due(directive: Directive, now: datetime, tz: ZoneInfo) -> bool:
    policy = policy_of(directive)
    if directive.deadline is None or not policy.enabled or is_quiet(policy, now, tz):
        return False
    deadline, sent_at = directive.deadline, directive.sent_at
    return current(policy, deadline, sent_at, now, tz) is not None or escalation_due(
        policy, deadline, sent_at, now, tz
    )


async def _directive_due(
    session: AsyncSession, clock: Clock, tz: ZoneInfo, directive_id: int, run: Run
) -> None:
    directive = await session.get(Directive, directive_id)
    if directive is None or directive.deadline is None or directive.status not in status.SENT_STATES:
        return
    policy = policy_of(directive)
    now = clock.now()
    if not policy.enabled or is_quiet(policy, now, tz):
        return
    planned = current(policy, directive.deadline, directive.sent_at, now, tz)
    if planned is not None:
        form = await get_form(session, directive.form_key)
        sent = await _remind(session, clock, tz, directive, form, planned)
        run.reminders += sent
        if sent:
            run.by_rule[planned.rule] = run.by_rule.get(planned.rule, 0) + sent
    if escalation_due(policy, directive.deadline, directive.sent_at, now, tz):
        messages, units = await _escalate(session, clock, tz, directive)
        run.escalations += messages
        run.escalated_units += units


async def _remind(
    session: AsyncSession,
    clock: Clock,
    tz: ZoneInfo,
    directive: Directive,
    form: FormSpec | None,
    planned: Planned,
) -> int:
    already = (
        select(Reminder.id)
        .where(
            Reminder.directive_id == DirectiveTarget.directive_id,
            Reminder.unit_id == DirectiveTarget.unit_id,
            Reminder.rule == planned.rule,
        )
        .exists()
    )
    rows = (
        await session.execute(
            select(DirectiveTarget.unit_id, Unit.name)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(
                DirectiveTarget.directive_id == directive.id,
                DirectiveTarget.reported_at.is_(None),
                DirectiveTarget.delivery.not_in(UNREACHABLE),
                DirectiveTarget.reminders_off.is_(False),
                ~already,
            )
        )
    ).all()
    names = {unit_id: name for unit_id, name in rows}
    return await _queue_reminders(
        session, clock, tz, directive, form, names, planned.rule, planned.kind, planned.days
    )


async def _queue_reminders(
    session: AsyncSession,
    clock: Clock,
    tz: ZoneInfo,
    directive: Directive,
    form: FormSpec | None,
    names: Mapping[int, str],
    rule: str,
    kind: str,
    days: int,
    *,
    hold_until: datetime | None = None,
) -> int:
    """Record then queue one reminder per reachable unit; units already holding `rule` are skipped."""
    if not names:
        return 0
    people = [r for r in await directive_service.recipients(session, list(names)) if r.chat_id]
    recorded = await record(session, clock, directive.id, [r.unit_id for r in people], rule)
    today = clock.today(tz)
    for person in people:
        if person.unit_id not in recorded or person.channel is None or person.chat_id is None:
            continue
        reply = reminder_reply(directive, form, names[person.unit_id], kind, days, today)
        row = enqueue(
            session,
            clock,
            person.channel,
            person.chat_id,
            [reply],
            kind="reminder",
            directive_id=directive.id,
            unit_id=person.unit_id,
        )
        if hold_until is not None:
            row.next_attempt_at = hold_until
    return len(recorded)


async def record(
    session: AsyncSession, clock: Clock, directive_id: int, unit_ids: Sequence[int], rule: str
) -> set[int]:
    """Write (directive, unit, rule) rows; returns the units that did not have one yet."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = clock.now()
    inserted: set[int] = set()
    for start in range(0, len(unit_ids), INSERT_CHUNK):
        chunk = unit_ids[start : start + INSERT_CHUNK]
        statement = (
            insert(Reminder)
            .values([{"directive_id": directive_id, "unit_id": u, "rule": rule, "at": now} for u in chunk])
            .on_conflict_do_nothing()
            .returning(Reminder.unit_id)
        )
        inserted.update((await session.scalars(statement)).all())
    return inserted


async def _escalate(
    session: AsyncSession, clock: Clock, tz: ZoneInfo, directive: Directive
) -> tuple[int, int]:
    """Tell each parent unit's secretary which of its cells are still missing; returns (messages, units)."""
    assert directive.deadline is not None
    rule = status.escalation_rule(directive.deadline)
    whole = await status.whole_scope(session)
    missing = await status.all_missing_units(session, whole, directive.id, without_rule=rule)
    muted = set(
        (
            await session.scalars(
                select(DirectiveTarget.unit_id).where(
                    DirectiveTarget.directive_id == directive.id, DirectiveTarget.reminders_off.is_(True)
                )
            )
        ).all()
    )
    missing = [unit for unit in missing if unit.unit_id not in muted]
    recorded = await record(session, clock, directive.id, [u.unit_id for u in missing], rule)
    by_parent: dict[int, list[status.MissingUnit]] = defaultdict(list)
    for unit in missing:
        if unit.unit_id in recorded and unit.parent_id is not None:
            by_parent[unit.parent_id].append(unit)
    if not by_parent:
        return 0, len(recorded)
    parents = await directive_service.recipients(session, list(by_parent))
    parent_names = dict(
        (await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(by_parent))))).all()
    )
    today = clock.today(tz)
    messages = 0
    for parent in parents:
        if parent.channel is None or parent.chat_id is None:
            continue  # no one to tell: the board sees these units in its summary
        text = escalation_text(
            directive, parent_names.get(parent.unit_id, ""), by_parent[parent.unit_id], today
        )
        enqueue(
            session,
            clock,
            parent.channel,
            parent.chat_id,
            [Reply(text=text)],
            kind="reminder",
            directive_id=directive.id,
            unit_id=parent.unit_id,
        )
        messages += 1
    return messages, len(recorded)


# --- Manual nudge ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Nudge:
    """What /nhacnho did: reminders queued, units already nudged today, units the bot cannot reach."""

    sent: int
    already: int
    unreachable: list[status.MissingUnit]
    missing: int
    held_until: datetime | None


async def nudge(
    session: AsyncSession, clock: Clock, tz: ZoneInfo, scope: status.Scope, directive: Directive
) -> Nudge:
    """Remind every unit in scope still missing now, at most once a day per unit; in quiet hours the reminders
    wait in the outbox until the quiet hours end."""
    now = clock.now()
    policy = policy_of(directive)
    missing = await status.all_missing_units(session, scope, directive.id)
    reachable_units = {u.unit_id: u for u in missing if u.status not in UNREACHABLE}
    people = {r.unit_id: r for r in await directive_service.recipients(session, list(reachable_units))}
    names = {unit_id: unit.name for unit_id, unit in reachable_units.items() if people[unit_id].chat_id}
    unreachable = [u for u in missing if u.unit_id not in names]
    hold = quiet_ends(policy, now, tz)
    held_until = hold if hold > now else None
    rule = f"{MANUAL}@{now.astimezone(tz).date().isoformat()}"
    form = await get_form(session, directive.form_key)
    sent = await _queue_reminders(
        session, clock, tz, directive, form, names, rule, MANUAL, 0, hold_until=held_until
    )
    return Nudge(sent, len(names) - sent, unreachable, len(missing), held_until)


# --- Texts -------------------------------------------------------------------------------------------------


def _kind_name(directive: Directive) -> str:
    return directive_msg.KINDS.get(directive.doc_type or "", directive_msg.KIND_DEFAULT)


def reminder_reply(
    directive: Directive, form: FormSpec | None, unit_name: str, kind: str, days: int, today: date
) -> Reply:
    """What is due, for whom, by when, what the report asks, and the button that opens the report."""
    subject = directive.subject or ""
    lines = [
        msg.REMINDER_TITLES[kind].format(days=days),
        msg.REMINDER_BODY.format(
            kind=_kind_name(directive),
            number=directive.number or "",
            date=day(directive.issued_on),
            subject=subject,
            deadline=day(directive.deadline),
            left=msg.days_left(directive.deadline, today),
            unit=unit_name,
            form=form.title if form is not None else msg.REMINDER_FORM_DEFAULT,
        ),
    ]
    if form is not None:
        asked = [f.label + ("" if f.required else msg.REMINDER_OPTIONAL) for f in form.fields]
        lines.append(msg.REMINDER_FIELDS.format(fields="; ".join(asked)))
        lines.append(msg.REMINDER_QUICK.format(template=form.quick_template()))
    lines.append(msg.REMINDER_ACTION)
    return Reply(text="\n".join(lines), buttons=[[Button(msg.REMINDER_BUTTON, f"rep:{directive.id}")]])


def escalation_text(
    directive: Directive, parent: str, units: Sequence[status.MissingUnit], today: date
) -> str:
    lines = [
        msg.ESCALATION.format(
            count=len(units),
            parent=parent,
            kind=_kind_name(directive),
            number=directive.number or "",
            deadline=day(directive.deadline),
            left=msg.days_left(directive.deadline, today),
        )
    ]
    for unit in units:
        lines.append(
            msg.ESCALATION_LINE.format(
                unit=unit.name,
                secretary=unit.secretary or msg.MISSING_NO_SECRETARY,
                phone=msg.MISSING_PHONE.format(phone=unit.phone) if unit.phone else "",
            )
        )
    lines.append(msg.ESCALATION_ACTION)
    return "\n".join(lines)
