"""The board's daily summary: for each open directive in a member's scope, progress and the change since yesterday,
the form's figures, the difficulties and recommendations received that day, the overdue units, and one progress
chart. Sent at CHIBO_SUMMARY_TIME to every board member (recorded in `daily_summaries`, so once a day), and on
demand with /tonghop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Reply
from bot.core.host import Files, Host
from bot.services import cycles, status
from bot.services.charts import ProgressRow, build_progress_chart
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form
from bot.services.outbox import enqueue
from bot.services.reminders import DEFAULT_POLICY, is_quiet
from bot.services.report_data import Aggregates, Counts, add_aggregates, add_counts
from messages import board as msg
from messages import cycles as cycle_msg
from messages import documents as doc_msg
from messages.formats import day, format_number, format_percent
from storage.db import transaction
from storage.models import ChannelAccount, DailySummary, Directive, Role, Unit

log = logging.getLogger(__name__)

DETAILED = 5  # directives shown with figures and overdue units; the rest get one line each
LISTED = 30
QUOTES_SHOWN = 10
BOARD_ROLES = ("board", "admin")


@dataclass(frozen=True, slots=True)
class DirectiveProgress:
    """One directive's line. On a directive handed down (`family` holds its re-issues below) `counts` add up
    every cell under it; `own` are the counts of the cells it reached itself (directly or through a forward),
    whose overdue ones the summary names: the cells under a re-issue answer to that board and its deadline."""

    directive: Directive
    counts: Counts
    new_since_yesterday: int
    form: FormSpec | None = None
    aggregates: Aggregates | None = None
    overdue: tuple[status.OverdueUnit, ...] = ()
    escalated: int = 0
    family: tuple[int, ...] = ()
    own: Counts | None = None
    reissues: int = 0  # the re-issues below counted in: those reaching the scope

    @property
    def reported_yesterday(self) -> int:
        return self.counts.reported - self.new_since_yesterday

    @property
    def own_missing(self) -> int:
        return (self.own or self.counts).not_reported


@dataclass(frozen=True, slots=True)
class Summary:
    day: date
    scope: status.Scope
    directives: list[DirectiveProgress]
    said: list[status.Said]
    chart_rows: list[ProgressRow]
    chart_by_directive: bool
    cells: int = 0  # active cells in scope, said under a chart by directive (whose bars share their cells)

    @property
    def empty(self) -> bool:
        return not self.directives


async def build_summary(session: AsyncSession, scope: status.Scope, now: datetime, tz: ZoneInfo) -> Summary:
    """Everything the summary shows, from a handful of aggregate queries whatever the size of the scope. A
    directive handed down is one line counting its re-issues below (which are not listed again)."""
    today = now.astimezone(tz).date()
    listed = await status.open_directives(session, scope, today)
    families = await status.families_of_period(session, listed)
    open_ = [d for d in listed if d.id in families]
    root_of = {member: root for root, ids in families.items() for member in ids}
    every = list(root_of)
    counts = await status.counts_by_directive(session, scope, every)
    new = await status.new_reports_since(session, scope, every, now - timedelta(days=1))
    detailed = open_[:DETAILED]
    forms: dict[str | None, FormSpec | None] = {}
    groups: dict[str | None, list[int]] = defaultdict(list)
    for directive in detailed:
        if directive.form_key not in forms:
            forms[directive.form_key] = await get_form(session, directive.form_key)
        groups[directive.form_key] += families[directive.id]
    aggregates: dict[int, list[Aggregates]] = defaultdict(list)
    said: list[status.Said] = []
    midnight = datetime.combine(today, time(0), tzinfo=tz)
    for key, group in groups.items():
        for member, figures in (await status.form_aggregates(session, scope, group, forms[key])).items():
            aggregates[root_of[member]].append(figures)
        quoted = await status.quotes(session, scope, group, forms[key], since=midnight, limit=QUOTES_SHOWN)
        said += [replace(item, directive_id=root_of[item.directive_id]) for item in quoted]
    said = [item for item in said if item.kind in ("difficulties", "recommendations")]
    escalated = await status.escalated_counts(session, scope, detailed)
    progress = []
    for index, directive in enumerate(open_):
        family = families[directive.id]
        reissues = status.reissues_reaching(counts, family)
        item = DirectiveProgress(
            directive,
            add_counts(counts[i] for i in family),
            sum(new.get(i, 0) for i in family),
            family=tuple(family),
            own=counts[directive.id] if reissues else None,
            reissues=reissues,
        )
        if index < DETAILED:
            overdue: list[status.OverdueUnit] = []
            if directive.deadline is not None and directive.deadline < today and item.own_missing:
                overdue = await status.overdue_units(session, scope, directive)
            item = replace(
                item,
                form=forms.get(directive.form_key),
                aggregates=add_aggregates(aggregates[directive.id]),
                overdue=tuple(overdue),
                escalated=escalated.get(directive.id, 0),
            )
        progress.append(item)
    rows, by_directive = await _chart_rows(session, scope, progress, today)
    cells = await _cells_in_scope(session, scope) if by_directive else 0
    return Summary(today, scope, progress, said, rows, by_directive, cells)


async def _chart_rows(
    session: AsyncSession, scope: status.Scope, progress: list[DirectiveProgress], today: date
) -> tuple[list[ProgressRow], bool]:
    """Progress by directive, or, when only one is open, by part of the scope."""
    if len(progress) == 1:
        directive = progress[0].directive
        parts = await status.counts_by_subtree(session, scope, progress[0].family or [directive.id])
        return [_row(part.name, part.counts, _overdue(directive, today)) for part in parts], False
    return [_row(p.directive.number or "", p.counts, _overdue(p.directive, today)) for p in progress], True


def _overdue(directive: Directive, today: date) -> bool:
    """Whether a missing report is late yet: only once the deadline has passed."""
    return directive.deadline is not None and directive.deadline < today


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _row(label: str, counts: Counts, overdue: bool) -> ProgressRow:
    missing = counts.not_reported
    return (
        label,
        counts.reported_on_time,
        counts.reported_late,
        missing if overdue else 0,
        0 if overdue else missing,
    )


async def _cells_in_scope(session: AsyncSession, scope: status.Scope) -> int:
    """The active cells the member oversees: the units a chart by directive is about (one index scan)."""
    query = select(func.count()).select_from(Unit).where(Unit.is_cell.is_(True), Unit.active.is_(True))
    return int(await session.scalar(status.in_scope(query, scope)) or 0)


# --- Text and chart ----------------------------------------------------------------------------------------


def render(summary: Summary) -> str:
    lines = [
        msg.SUMMARY_TITLE.format(date=day(summary.day)),
        msg.SUMMARY_SCOPE.format(names=msg.join_names(summary.scope.names)),
    ]
    if summary.empty:
        lines.append(msg.SUMMARY_NONE)
        return "\n".join(lines)
    for index, item in enumerate(summary.directives[:LISTED], start=1):
        lines.append("")
        lines.extend(_directive_lines(index, item, summary.day))
    if len(summary.directives) > LISTED:
        lines += ["", msg.SUMMARY_MORE.format(count=len(summary.directives) - LISTED)]
    lines.extend(_quote_lines(summary))
    lines.extend(_overdue_lines(summary))
    return "\n".join(lines)


def _directive_lines(index: int, item: DirectiveProgress, today: date) -> list[str]:
    directive, counts = item.directive, item.counts
    subject = directive.subject or ""
    if label := cycles.current_label(directive):
        subject = cycle_msg.LABELLED.format(subject=subject, label=label)
    if item.new_since_yesterday:
        change = msg.SUMMARY_CHANGE.format(
            count=format_number(item.new_since_yesterday),
            before=format_percent(_rate(item.reported_yesterday, counts.targeted)),
            now=format_percent(counts.report_rate),
        )
    else:
        change = msg.SUMMARY_NO_CHANGE
    lines = [
        msg.SUMMARY_DIRECTIVE.format(index=index, number=directive.number or "", subject=subject),
        msg.SUMMARY_DEADLINE.format(
            date=day(directive.deadline), left=msg.days_left(directive.deadline, today)
        ),
        msg.SUMMARY_PROGRESS.format(progress=msg.share(counts.reported, counts.targeted), change=change),
    ]
    if item.reissues:
        lines.append(msg.SUMMARY_THROUGH_BELOW.format(count=format_number(item.reissues)))
    if item.aggregates is None:
        return lines
    lines.append(
        msg.SUMMARY_BREAKDOWN.format(
            on_time=format_number(counts.reported_on_time),
            late=format_number(counts.reported_late),
            missing=format_number(counts.not_reported),
            unregistered=format_number(counts.unregistered),
        )
    )
    lines += [
        msg.SUMMARY_FIGURE.format(line=line) for line in status.figure_lines(item.form, item.aggregates)
    ]
    return lines


def _quote_lines(summary: Summary) -> list[str]:
    if not summary.said:
        return []
    numbers = {item.directive.id: item.directive.number or "" for item in summary.directives}
    lines = ["", msg.SUMMARY_QUOTES_TITLE]
    for item in summary.said[:QUOTES_SHOWN]:
        lines.append(
            msg.SUMMARY_QUOTE.format(
                unit=item.quote.unit_name, number=numbers.get(item.directive_id, ""), text=item.quote.text
            )
        )
    if len(summary.said) > QUOTES_SHOWN:
        lines.append(msg.SUMMARY_QUOTES_MORE.format(count=len(summary.said) - QUOTES_SHOWN))
    return lines


def _overdue_lines(summary: Summary) -> list[str]:
    lines = []
    for item in summary.directives:
        if not item.overdue:
            continue
        names = [
            (msg.SUMMARY_OVERDUE_ESCALATED if unit.escalated else msg.SUMMARY_OVERDUE_UNIT).format(
                unit=unit.name
            )
            for unit in item.overdue
        ]
        more = item.own_missing - len(item.overdue)
        text = ", ".join(names) + (msg.SUMMARY_OVERDUE_MORE.format(count=more) if more > 0 else "")
        left = msg.days_left(item.directive.deadline, summary.day)
        lines.append(msg.SUMMARY_OVERDUE.format(number=item.directive.number or "", left=left, units=text))
    return ["", msg.SUMMARY_OVERDUE_TITLE, *lines] if lines else []


# matplotlib's style settings are process-wide, so charts are drawn one at a time.
_CHART_LOCK = threading.Lock()


def _draw(summary: Summary) -> bytes:
    with _CHART_LOCK:
        return build_progress_chart(summary.chart_rows, summary.day, chart_subtitle(summary))


def chart_subtitle(summary: Summary) -> str | None:
    """Under a chart by directive, the units it is about; the bars' sum would count each cell once per
    directive. A chart by part of the scope sums its units itself (None)."""
    if not summary.chart_by_directive:
        return None
    return doc_msg.CHART_SUBTITLE_DIRECTIVES.format(
        directives=format_number(len(summary.directives)), units=format_number(summary.cells)
    )


async def chart(summary: Summary) -> bytes | None:
    """The PNG of the summary's progress chart, drawn off the event loop; None when there is nothing to draw."""
    if not summary.chart_rows:
        return None
    return await asyncio.to_thread(_draw, summary)


def chart_caption(summary: Summary) -> str:
    if summary.chart_by_directive:
        return msg.SUMMARY_CHART.format(scope=msg.SUMMARY_CHART_BY_DIRECTIVE)
    number = summary.directives[0].directive.number or "" if summary.directives else ""
    return msg.SUMMARY_CHART.format(scope=msg.SUMMARY_CHART_BY_SUBTREE.format(number=number))


async def replies(session: AsyncSession, clock: Clock, files: Files, summary: Summary) -> list[Reply]:
    """The summary as messages: the text, then the chart as a photo."""
    parts = [Reply(text=render(summary))]
    png = await chart(summary)
    if png is not None:
        name = msg.CHART_NAME.format(date=summary.day.strftime("%Y%m%d"))
        stored = await files.save(session, clock, png, name, "image/png")
        parts.append(Reply(text=chart_caption(summary), file=stored))
    return parts


# --- The daily job -----------------------------------------------------------------------------------------


def summary_due(now: datetime, tz: ZoneInfo, at: time) -> bool:
    """From CHIBO_SUMMARY_TIME on, outside the quiet hours (unless the summary time itself is in them)."""
    local = now.astimezone(tz)
    if local.time() < at:
        return False
    configured_quiet = is_quiet(DEFAULT_POLICY, datetime.combine(local.date(), at, tzinfo=tz), tz)
    return configured_quiet or not is_quiet(DEFAULT_POLICY, now, tz)


@dataclass(frozen=True, slots=True)
class _Member:
    person_id: int
    roles: tuple[Role, ...]
    channel: str
    chat_id: str


async def send_due(host: Host) -> int:
    """Send today's summary to each board member who has not had it; returns how many were sent."""
    clock, tz = host.clock, host.settings.tz
    now = clock.now()
    if not summary_due(now, tz, host.settings.summary_time):
        return 0
    today = now.astimezone(tz).date()
    async with host.sessions() as session:
        members = await _members_due(session, today)
    built: dict[tuple[int, ...], Summary] = {}
    sent = 0
    for member in members:
        try:
            sent += await _send_one(host, member, today, built)
        except Exception:
            log.exception("daily summary for person %s failed", member.person_id)
    if sent:
        host.sender.wake()
    return sent


async def _members_due(session: AsyncSession, today: date) -> list[_Member]:
    """Board members without today's summary, each with their most recently used active account."""
    done = select(DailySummary.person_id).where(DailySummary.day == today)
    roles = (
        await session.scalars(
            select(Role)
            .where(Role.kind.in_(BOARD_ROLES), Role.person_id.not_in(done))
            .order_by(Role.person_id)
        )
    ).all()
    by_person: dict[int, list[Role]] = defaultdict(list)
    for role in roles:
        by_person[role.person_id].append(role)
    if not by_person:
        return []
    accounts = (
        await session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.person_id.in_(list(by_person)), ChannelAccount.active.is_(True))
            .order_by(ChannelAccount.last_seen_at.desc())
        )
    ).all()
    latest: dict[int, ChannelAccount] = {}
    for account in accounts:
        latest.setdefault(account.person_id, account)
    return [
        _Member(person_id, tuple(person_roles), latest[person_id].channel, latest[person_id].chat_id)
        for person_id, person_roles in by_person.items()
        if person_id in latest
    ]


async def _send_one(host: Host, member: _Member, today: date, built: dict[tuple[int, ...], Summary]) -> int:
    clock, tz = host.clock, host.settings.tz
    async with transaction(host.sessions) as session:
        if not await _claim(session, member.person_id, today, clock.now()):
            return 0  # another run got there first
        scope = await status.scope_of(session, list(member.roles))
        if scope.empty:
            return 0
        key = tuple(root.id for root in scope.roots)
        if key not in built:
            built[key] = await build_summary(session, scope, clock.now(), tz)
        summary = built[key]
        if summary.empty:
            return 0  # nothing open: no message, but recorded so it is not rebuilt every minute
        parts = await replies(session, clock, host.files, summary)
        enqueue(session, clock, member.channel, member.chat_id, parts, kind="summary")
    return 1


async def _claim(session: AsyncSession, person_id: int, day: date, now: datetime) -> bool:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DailySummary)
        .values(person_id=person_id, day=day, at=now)
        .on_conflict_do_nothing()
        .returning(DailySummary.person_id)
    )
    return (await session.scalar(statement)) is not None
