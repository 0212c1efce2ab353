"""Who a broadcast can reach now, and what it will cost: the forecast the board sees before sending.

A channel with windows (`Channel.windows`, the Zalo OA's consultation rules) carries a message free for some hours
after the user's last interaction, then on a monthly quota, then at a price; after a longer silence not at all,
until the user writes again (such deliveries are held, see services.outbox.HELD). Channels without windows carry
everything free. The forecast reads each recipient's last interaction (ChannelAccount.last_seen_at, to a minute),
the quota this month's deliveries already used, and who was last found not following (a blocked delivery).

It is an estimate: it assumes no free message of a recipient's current window is used yet, and counts a month's
quota by delivered rows. The benchmark (bench/oa_broadcast.py) prints it beside what happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Channel, Cost, Reply, WindowRules
from bot.services import directives, levels
from bot.services.directives import Recipient
from bot.services.forms import FormSpec
from bot.services.outbox import DIRECTIVE
from messages import directives as msg
from messages import levels as level_msg
from storage.models import Directive, Outbox


@dataclass(frozen=True)
class ChannelForecast:
    """One channel's share of a broadcast: recipients by what reaching them costs, per delivery of `messages`."""

    channel: str
    free: int = 0  # inside the free window
    quota: int = 0  # outside it, on the monthly quota
    paid: int = 0  # outside it, at least one message charged once the quota is spent
    silent: int = 0  # past the hard limit: held until they write
    not_following: int = 0  # their last delivery found them gone: held or refused until they follow again
    messages: int = 1  # platform messages per delivery
    price_vnd: int = 0
    paid_messages: int = 0  # what the quota leaves to pay for

    @property
    def recipients(self) -> int:
        return self.free + self.quota + self.paid + self.silent + self.not_following

    @property
    def unreachable(self) -> int:
        return self.silent + self.not_following

    @property
    def vnd(self) -> int:
        return self.paid_messages * self.price_vnd


@dataclass(frozen=True)
class Forecast:
    channels: list[ChannelForecast]
    unregistered: int  # cells whose secretary has not joined: they get it when they join

    @property
    def vnd(self) -> int:
        return sum(c.vnd for c in self.channels)


async def forecast_broadcast(
    session: AsyncSession,
    clock: Clock,
    channels: Mapping[str, Channel],
    directive: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
) -> Forecast:
    """The forecast for sending `directive` (its card and files, as queue_broadcast builds them) to these cells."""
    parts = directives.card_parts(directive, await directives.files_of(session, directive.id), form)
    return await forecast(session, clock, channels, await directives.recipients(session, cell_ids), parts)


async def forecast(
    session: AsyncSession,
    clock: Clock,
    channels: Mapping[str, Channel],
    people: list[Recipient],
    parts: Sequence[Reply],
) -> Forecast:
    """Split `people` per channel by what delivering `parts` will cost each (in the channel's own messages)."""
    now = clock.now()
    reachable = [r for r in people if r.channel and r.chat_id]
    gone = await _not_following(session, reachable)
    by_channel: dict[str, list[Recipient]] = {}
    for r in reachable:
        assert r.channel is not None
        by_channel.setdefault(r.channel, []).append(r)
    result = []
    for channel, group in sorted(by_channel.items()):
        found = channels.get(channel)
        rules = found.windows if found is not None else None
        messages = sum(found.message_count(p) for p in parts) if found is not None else len(parts)
        if rules is None:
            result.append(ChannelForecast(channel, free=len(group), messages=messages))
            continue
        left = max(0, rules.monthly_quota - await _quota_used(session, channel, now))
        counts = {"free": 0, "quota": 0, "paid": 0, "silent": 0, "not_following": 0, "paid_messages": 0}
        for r in group:
            kind = _classify(r, rules, now, messages, gone)
            if kind == "outside":
                on_quota = min(left, messages)
                left -= on_quota
                kind = "quota" if on_quota == messages else "paid"
                counts["paid_messages"] += messages - on_quota
            counts[kind] += 1
        result.append(ChannelForecast(channel, **counts, messages=messages, price_vnd=rules.price_vnd))
    return Forecast(result, unregistered=len(people) - len(reachable))


def _classify(
    r: Recipient, rules: WindowRules, now: datetime, messages: int, gone: set[tuple[str, str]]
) -> str:
    if (r.channel, r.chat_id) in gone:
        return "not_following"
    if r.last_seen is None:
        return "silent"
    silence = now - _aware(r.last_seen, now)
    if silence >= timedelta(days=rules.hard_limit_days):
        return "silent"
    if silence < timedelta(hours=rules.free_hours) and messages <= rules.free_per_window:
        return "free"
    return "outside"


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None and like.tzinfo else moment


async def _quota_used(session: AsyncSession, channel: str, now: datetime) -> int:
    """Deliveries on `channel` this (UTC) month that drew on the quota."""
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = await session.scalar(
        select(func.count()).where(
            Outbox.channel == channel, Outbox.cost == Cost.QUOTA, Outbox.sent_at >= month
        )
    )
    return int(used or 0)


async def _not_following(session: AsyncSession, people: Iterable[Recipient]) -> set[tuple[str, str]]:
    """The chats whose latest finished delivery was refused as blocked (unfollowed, or an unknown user)."""
    pairs = {(r.channel, r.chat_id) for r in people}
    if not pairs:
        return set()
    latest = (
        select(Outbox.channel, Outbox.chat_id, func.max(Outbox.id).label("last"))
        .where(tuple_(Outbox.channel, Outbox.chat_id).in_(pairs), Outbox.status.in_(("sent", "blocked")))
        .group_by(Outbox.channel, Outbox.chat_id)
        .subquery()
    )
    rows = await session.execute(
        select(Outbox.channel, Outbox.chat_id)
        .join(latest, Outbox.id == latest.c.last)
        .where(Outbox.status == "blocked")
    )
    return {(channel, chat_id) for channel, chat_id in rows.all()}


@dataclass(frozen=True)
class Spent:
    """What a broadcast's deliveries actually cost: deliveries by cost, and the đồng its paid messages came to."""

    free: int = 0
    quota: int = 0
    paid: int = 0  # deliveries with at least one paid message
    vnd: int = 0


async def spent(
    session: AsyncSession, windows: Mapping[str, WindowRules | None], directive_id: int
) -> Spent | None:
    """The costs directive `directive_id`'s deliveries incurred; None when none went over a channel with windows."""
    rows = await session.execute(
        select(Outbox.channel, Outbox.cost, func.count(), func.sum(Outbox.paid))
        .where(Outbox.directive_id == directive_id, Outbox.kind == DIRECTIVE, Outbox.status == "sent")
        .group_by(Outbox.channel, Outbox.cost)
    )
    counts = {"free": 0, "quota": 0, "paid": 0}
    vnd, windowed = 0, False
    for channel, cost, count, paid in rows.all():
        rules = windows.get(channel)
        windowed = windowed or rules is not None
        counts[cost if cost in counts else "free"] += count
        vnd += int(paid or 0) * (rules.price_vnd if rules else 0)
    return Spent(**counts, vnd=vnd) if windowed else None


def channel_windows(channels: Mapping[str, Channel]) -> dict[str, WindowRules | None]:
    """Each configured channel's window rules (None: no windows)."""
    return {name: channel.windows for name, channel in channels.items()}


@dataclass(frozen=True)
class Outlook:
    """What the board is told before sending: how the cells go (directly, through the boards below, held), and of
    those it reaches directly how many can be reached now and at what cost (`forecast`: None when none can)."""

    route: levels.Route
    plan: directives.Plan
    forecast: Forecast | None


async def outlook(
    session: AsyncSession,
    clock: Clock,
    channels: Mapping[str, Channel],
    directive: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
    choice: levels.Unstaffed | None = None,
) -> Outlook:
    """The outlook of sending `directive` to these cells down the levels, the units whose board has not joined as
    `choice` (None: not chosen yet, their cells counted apart). A cell handed to a board below is not the sender's
    to reach nor to pay for: that board's send is."""
    parts = await levels.split_of(session, directive, cell_ids)
    direct = parts.sent_directly(choice)
    plan = await directives.plan(session, direct)
    forecast = (
        await forecast_broadcast(session, clock, channels, directive, direct, form)
        if plan.reachable
        else None
    )
    return Outlook(parts.route(choice), plan, forecast)


def describe_route(route: levels.Route) -> str:
    """How a send's cells go, in one line; "" when every one goes directly."""
    if route.only_direct:
        return ""
    held = route.choice is levels.Unstaffed.HOLD
    return level_msg.route(
        route.direct, route.handed, route.boards, route.waiting, route.waiting_units, held=held
    )


def describe_outlook(seen: Outlook) -> str:
    """The outlook as the board reads it before sending."""
    p = seen.plan
    if seen.route.only_direct:
        head = msg.AUDIENCE_SUMMARY.format(cells=p.cells, people=p.reachable, unregistered=p.unregistered)
    else:
        direct = msg.AUDIENCE_DIRECT.format(people=p.reachable, unregistered=p.unregistered)
        head = f"{describe_route(seen.route)}\n{direct}" if p.cells else describe_route(seen.route)
    cost = describe(seen.forecast) if seen.forecast is not None else ""
    return f"{head}\n\n{cost}" if cost else head


def describe(forecast: Forecast) -> str:
    """The forecast as the board reads it, one line per channel; empty when nobody can be sent to yet."""
    if not forecast.channels:
        return ""
    lines = [msg.FORECAST_HEAD]
    for c in forecast.channels:
        label = msg.CHANNEL_LABELS.get(c.channel, c.channel)
        if c.recipients == c.free and not c.price_vnd:
            lines.append(msg.FORECAST_FREE_CHANNEL.format(channel=label, count=c.free))
            continue
        lines.append(
            msg.FORECAST_CHANNEL.format(
                channel=label,
                free=c.free,
                quota=c.quota,
                paid=c.paid,
                vnd=msg.money(c.vnd),
                silent=c.silent,
                not_following=c.not_following,
            )
        )
    if any(c.unreachable for c in forecast.channels):
        lines.append(msg.FORECAST_HELD_HINT)
    return "\n".join(lines)
