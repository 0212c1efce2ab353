"""Recurring directives: a directive whose report comes back every month, quarter, half-year or year has a
schedule (`Directive.meta["schedule"]`) and opens one period ("kỳ") after another.

A one-off directive is a single implicit period, number 1, and nothing here touches it. For a recurring one,
`Directive.cycle` is the period now open and `Directive.deadline` its deadline, so reminders, the late flag and the
board's current status work per period exactly as for a one-off directive. When the open period's deadline has
passed, `open_due` (the leader's reminders job, every minute) opens the next one: it records both periods in
`directive_cycles`, clears the targets' report state and marks the closed period's reports as no longer the
current ones (`Report.is_latest`); each report keeps the period it was submitted in (`Report.cycle`), so a closed
period is still read whole (`bot.services.status` with a cycle number). The opening is one conditional UPDATE on
the directive (`cycle = n`), so two instances never open a period twice.

A lower board's re-issue of a recurring upper directive recurs with it (`follow`): same schedule, each period's
deadline earlier than the upper one's by the margin the board chose when it re-issued. It never opens a period by
its own deadline: it opens its next one when the upper directive does, so its cells get a new period each time
(a forward needs nothing of this: its cells are the upper directive's own targets).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.textnorm import fold
from bot.services.directive_parser import DeadlineKind, DirectiveMeta, Recurrence
from messages import cycles as msg
from storage.models import Directive, DirectiveCycle, DirectiveTarget, Handoff, Report

MONTHLY = "monthly"
YEARLY = "yearly"
SENT_STATES = ("sending", "sent")
# A directive whose deadline is further behind than this is not rolled on (a yearly period is at most a year).
LOOKBACK_DAYS = 400

_QUARTER_RE = re.compile(r"\b(quy|quarter\w*)\b")
_YEAR_RE = re.compile(r"\b(nam|year\w*)\b")
_MONTH_RE = re.compile(r"\b(thang|month\w*)\b")
_ONCE_RE = re.compile(r"^(mot lan|1 lan|khong|once|none|no)$")
_AS_WRITTEN_RE = re.compile(r"^(dinh ky|giu|giu nguyen|theo van ban|document|as written)$")
_DAY_MONTH_RE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\b")
_NUMBER_RE = re.compile(r"\b(\d{1,2})\b")
# "747 kỳ 10/2026": the directive, then the period the board wants.
_PERIOD_ARG_RE = re.compile(r"^(?P<query>.+?)\s+(?:kỳ|kì|ky|ki)\s+(?P<period>\S+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a recurring report is due: day `day` of every month, or on each (month, day) of every year
    (a half-year is two dates, a quarter four)."""

    kind: str
    day: int = 0
    dates: tuple[tuple[int, int], ...] = ()
    quarterly: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "day": self.day,
            "dates": [list(d) for d in self.dates],
            "quarterly": self.quarterly,
        }

    @classmethod
    def from_json(cls, data: Any) -> Schedule | None:
        if not isinstance(data, dict) or data.get("kind") not in (MONTHLY, YEARLY):
            return None
        dates = tuple(sorted((int(m), int(d)) for m, d in data.get("dates") or []))
        return cls(data["kind"], int(data.get("day") or 0), dates, bool(data.get("quarterly")))

    def next_after(self, after: date) -> date:
        """The first deadline of the schedule strictly after `after`."""
        if self.kind == MONTHLY:
            year, month = after.year, after.month
            while True:
                candidate = _on(year, month, self.day)
                if candidate > after:
                    return candidate
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        for year in (after.year, after.year + 1):
            for month, day in self.dates:
                candidate = _on(year, month, day)
                if candidate > after:
                    return candidate
        raise ValueError("a yearly schedule without dates")

    def label(self, deadline: date) -> str:
        """ "kỳ 11/2026", "kỳ 6 tháng đầu năm 2026", "kỳ quý II/2026": the period a deadline closes."""
        if self.kind == MONTHLY:
            return msg.LABEL_MONTH.format(month=deadline.month, year=deadline.year)
        index = next((i for i, (month, _) in enumerate(self.dates) if month == deadline.month), None)
        if index is None:
            return msg.deadline_label(deadline)
        if len(self.dates) == 1:
            return msg.LABEL_YEAR.format(year=deadline.year)
        if len(self.dates) == 2:
            return msg.half(deadline.year, first=index == 0)
        if len(self.dates) == 4:
            return msg.LABEL_QUARTER.format(quarter=msg.ROMAN_QUARTERS[index], year=deadline.year)
        return msg.deadline_label(deadline)

    def describe(self) -> str:
        if self.kind == MONTHLY:
            return msg.MONTHLY.format(day=self.day)
        dates = ", ".join(msg.day_month(m, d) for m, d in self.dates)
        return (msg.QUARTERLY if self.quarterly else msg.YEARLY).format(dates=dates)


def _on(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or its last day when the month is shorter ("ngày 31 hằng tháng" in February)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _valid(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def monthly(day: int) -> Schedule:
    return Schedule(MONTHLY, day=day)


def yearly(dates: list[tuple[int, int]]) -> Schedule:
    return Schedule(YEARLY, dates=tuple(sorted(set(dates))))


def quarterly(month: int, day: int) -> Schedule:
    first = (month - 1) % 3 + 1
    return Schedule(YEARLY, dates=tuple((first + 3 * i, day) for i in range(4)), quarterly=True)


class Once:
    """The board said the directive reports only once."""


class AsWritten:
    """The board took the schedule the document's own words give."""


ONCE = Once()
AS_WRITTEN = AsWritten()


def parse(text: str) -> Schedule | Once | AsWritten | None:
    """A schedule as the board or an admin types it: "hằng tháng 25" / "monthly 25", "hằng quý 31/3" /
    "quarterly 31/3", "hằng năm 15/6 15/12" / "yearly 15/6,15/12", "một lần" / "once", or "định kỳ" /
    "document" (as the document says); None if unreadable."""
    folded = fold(text).replace(":", " ").replace(",", " ")
    if _ONCE_RE.match(folded):
        return ONCE
    if _AS_WRITTEN_RE.match(folded):
        return AS_WRITTEN
    pairs = [(int(m), int(d)) for d, m in _DAY_MONTH_RE.findall(folded)]
    if any(not _valid(m, d) for m, d in pairs):
        return None
    if _QUARTER_RE.search(folded):
        return quarterly(*pairs[0]) if len(pairs) == 1 else None
    if _YEAR_RE.search(folded):
        return yearly(pairs) if pairs else None
    if _MONTH_RE.search(folded) and not pairs:
        days = [int(n) for n in _NUMBER_RE.findall(folded)]
        return monthly(days[0]) if len(days) == 1 and 1 <= days[0] <= 31 else None
    return None


def proposed(meta: DirectiveMeta) -> Schedule | None:
    """The schedule the document's own words give: its recurring report deadlines ("trước ngày 25 hằng tháng";
    "định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12)" is two yearly dates)."""
    recurring = [d for d in meta.deadlines if d.kind is DeadlineKind.REPORT and d.recurring and d.date]
    monthly_day = next((d.date.day for d in recurring if d.recurring is Recurrence.MONTHLY and d.date), None)
    if monthly_day is not None:
        return monthly(monthly_day)
    dates = [(d.date.month, d.date.day) for d in recurring if d.recurring is Recurrence.YEARLY and d.date]
    return yearly(dates) if dates else None


def chosen(directive: Directive, typed: Schedule | Once | AsWritten) -> Schedule | None:
    """The schedule a typed choice stands for: the one typed, the document's (kept as a proposal), or none."""
    if isinstance(typed, AsWritten):
        return proposed_of(directive)
    return typed if isinstance(typed, Schedule) else None


def schedule_of(directive: Directive) -> Schedule | None:
    """The confirmed schedule of a recurring directive; None for a one-off one."""
    return Schedule.from_json((directive.meta or {}).get("schedule"))


def set_schedule(directive: Directive, schedule: Schedule | None) -> None:
    meta = dict(directive.meta or {})
    meta["schedule"] = schedule.to_json() if schedule is not None else None
    directive.meta = meta


def follow(reissue: Directive, upper: Directive, upper_deadline: date | None) -> None:
    """A re-issue of a recurring upper directive, sent: it recurs on the upper one's schedule, opening a period
    when the upper one opens one, each deadline earlier than the upper one's by the margin it was sent with
    (from `upper_deadline`, the upper period's it was drafted in; a later deadline was refused). The upper
    schedule, whatever the draft's said: the re-issue answers the upper directive period by period."""
    schedule = schedule_of(upper)
    if schedule is None or reissue.deadline is None or upper_deadline is None:
        return
    set_schedule(reissue, schedule)
    margin = max((upper_deadline - reissue.deadline).days, 0)
    reissue.meta = {**(reissue.meta or {}), "follows": {"upper_id": upper.id, "margin_days": margin}}


def margin_of(directive: Directive) -> int | None:
    """How many days before its upper directive's deadline a following re-issue's deadline falls; None when
    the directive opens its periods itself."""
    follows = (directive.meta or {}).get("follows")
    margin = follows.get("margin_days") if isinstance(follows, dict) else None
    return margin if isinstance(margin, int) else None


def proposed_of(directive: Directive) -> Schedule | None:
    """The schedule read from the document, kept in the draft for the board to confirm."""
    return Schedule.from_json((directive.meta or {}).get("schedule_proposed"))


def propose(directive: Directive, meta: DirectiveMeta) -> None:
    """Keep the document's schedule as a proposal: a directive stays one-off until the board confirms one."""
    schedule = proposed(meta)
    directive.meta = {**(directive.meta or {}), "schedule_proposed": schedule.to_json() if schedule else None}


def preview_text(directive: Directive) -> str:
    """The schedule as the intake preview shows it: confirmed, proposed by the document, or none."""
    if (schedule := schedule_of(directive)) is not None:
        return msg.CONFIRMED_FIELD.format(schedule=schedule.describe())
    if (offered := proposed_of(directive)) is not None:
        return msg.PROPOSED_FIELD.format(schedule=offered.describe())
    return msg.ONE_OFF_FIELD


# --- Periods -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cycle:
    """One period of a directive: its number, deadline, label ("" for a one-off directive) and whether it is the
    one open now."""

    number: int
    deadline: date | None
    label: str
    current: bool


def current_label(directive: Directive) -> str:
    """The open period's label ("kỳ 11/2026"); "" for a one-off directive."""
    schedule = schedule_of(directive)
    return schedule.label(directive.deadline) if schedule and directive.deadline else ""


async def cycle(session: AsyncSession, directive: Directive, number: int | None = None) -> Cycle | None:
    """Period `number` of the directive (None: the one open now); None when it has no such period."""
    schedule = schedule_of(directive)
    if number is None or number == directive.cycle:
        return Cycle(directive.cycle, directive.deadline, current_label(directive), True)
    if number < 1 or number > directive.cycle:
        return None
    row = await session.get(DirectiveCycle, (directive.id, number))
    if row is None:
        return None
    return Cycle(number, row.deadline, schedule.label(row.deadline) if schedule else "", False)


async def last_closed(session: AsyncSession, directive: Directive) -> Cycle | None:
    """The period the Word report is about by default: the last one closed, else the one open."""
    if directive.cycle > 1:
        return await cycle(session, directive, directive.cycle - 1)
    return await cycle(session, directive)


async def find_by_label(session: AsyncSession, directive: Directive, text: str) -> Cycle | None:
    """The period a typed label names ("11/2026", "kỳ 11/2026", "3"): by label, else by number."""
    wanted = fold(text).removeprefix("ky").strip()
    if wanted.isdigit() and len(wanted) < 4:  # a period's number; a label ends with a year
        return await cycle(session, directive, int(wanted))
    for number in range(directive.cycle, 0, -1):
        found = await cycle(session, directive, number)
        if found is not None and wanted and fold(found.label).removeprefix("ky").strip().endswith(wanted):
            return found
    return None


def split_period(args: str) -> tuple[str, str | None]:
    """The directive the board's words name, and the period typed after it ("747 kỳ 10/2026"), if any."""
    found = _PERIOD_ARG_RE.match(unicodedata.normalize("NFC", args.strip()))
    return (found["query"], found["period"]) if found else (args, None)


async def open_due(session: AsyncSession, clock: Clock, tz: tzinfo) -> int:
    """Open the next period of every recurring directive whose open period's deadline has passed (several, if
    the bot was down for more than one period). Returns how many periods were opened."""
    today = clock.today(tz)
    rows = await session.scalars(
        select(Directive).where(
            Directive.status.in_(SENT_STATES),
            Directive.deadline < today,
            Directive.deadline >= today - timedelta(days=LOOKBACK_DAYS),
        )
    )
    opened = 0
    for directive in rows.all():
        schedule = schedule_of(directive)
        if margin_of(directive) is not None:
            continue  # a following re-issue: opened with its upper directive
        while schedule is not None and directive.deadline is not None and directive.deadline < today:
            if not await _open_next(session, clock, directive, schedule.next_after(directive.deadline)):
                break
            opened += 1 + await _open_followers(session, clock, directive)
    return opened


async def _open_followers(session: AsyncSession, clock: Clock, upper: Directive) -> int:
    """The upper directive opened a period: so does each re-issue of it that follows it (and theirs, further
    down), its deadline earlier by its margin. How many periods were opened."""
    rows = await session.scalars(
        select(Directive)
        .join(Handoff, Handoff.reissue_id == Directive.id)
        .where(Handoff.directive_id == upper.id, Directive.status.in_(SENT_STATES))
    )
    opened = 0
    for reissue in list(dict.fromkeys(rows.all())):
        margin = margin_of(reissue)
        if margin is None or upper.deadline is None or reissue.deadline is None:
            continue
        if reissue.deadline >= upper.deadline - timedelta(days=margin):
            continue  # opened already (a second instance, or caught up)
        if await _open_next(session, clock, reissue, upper.deadline - timedelta(days=margin)):
            opened += 1 + await _open_followers(session, clock, reissue)
    return opened


async def _open_next(session: AsyncSession, clock: Clock, directive: Directive, following: date) -> bool:
    """Close the open period and open the next, due `following`."""
    closing, deadline = directive.cycle, directive.deadline
    assert deadline is not None
    moved = await session.execute(
        update(Directive)
        .where(Directive.id == directive.id, Directive.cycle == closing)
        .values(cycle=closing + 1, deadline=following)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False  # another instance opened it
    now = clock.now()
    if await session.get(DirectiveCycle, (directive.id, closing)) is None:
        session.add(
            DirectiveCycle(directive_id=directive.id, number=closing, deadline=deadline, opened_at=now)
        )
    session.add(
        DirectiveCycle(directive_id=directive.id, number=closing + 1, deadline=following, opened_at=now)
    )
    await session.execute(
        update(DirectiveTarget)
        .where(DirectiveTarget.directive_id == directive.id)
        .values(reported_at=None, late=False)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Report)
        .where(Report.directive_id == directive.id, Report.is_latest.is_(True))
        .values(is_latest=False)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await session.refresh(directive)
    return True
