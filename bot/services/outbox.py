"""Outbox rows: every message is a row before it is sent; the sender (bot/delivery/sender.py) works them off.

This is the one place that builds a delivery row, so what a row means is decided here and nowhere else. A row
records only what happened to its delivery; what that means for a directive is decided in services.directives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Reply
from bot.core.limits import LIMITS
from messages.render import split_long
from storage.models import Outbox

REPLY = "reply"
DIRECTIVE = "directive"
# A delivery the channel may not carry now (outside its window, past its hard limit): kept, not failed, until the
# user interacts again (release_held). The sender holds rows; only release_held puts them back.
HELD = "held"
# A delivery not begun when a correction replaced its directive (services.repeats): never sent.
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Address:
    """Where one delivery goes, and the cell it is for when it carries a directive."""

    channel: str
    chat_id: str
    unit_id: int | None = None


def enqueue(
    session: AsyncSession,
    clock: Clock,
    channel: str,
    chat_id: str,
    parts: Iterable[Reply],
    *,
    kind: str,
    directive_id: int | None = None,
    unit_id: int | None = None,
    claimed_by: str | None = None,
) -> Outbox:
    """Add a delivery row to the session; with `claimed_by` it is born claimed, for the caller to send at once."""
    address = Address(channel, chat_id, unit_id)
    row = Outbox(**_row(clock.now(), address, _encoded(parts, channel), kind, directive_id, claimed_by))
    session.add(row)
    return row


async def enqueue_many(
    session: AsyncSession,
    clock: Clock,
    addresses: Iterable[Address],
    parts: Iterable[Reply],
    *,
    kind: str,
    directive_id: int | None = None,
) -> int:
    """Write one delivery row per address in one statement (a broadcast); returns how many."""
    now, parts = clock.now(), list(parts)
    encoded: dict[str, list[dict[str, Any]]] = {}  # shared by every row of a channel: encoded once
    rows = []
    for a in addresses:
        if a.channel not in encoded:
            encoded[a.channel] = _encoded(parts, a.channel)
        rows.append(_row(now, a, encoded[a.channel], kind, directive_id, None))
    if rows:
        await session.execute(insert(Outbox), rows)
    return len(rows)


def _encoded(parts: Iterable[Reply], channel: str) -> list[dict[str, Any]]:
    """The parts as stored, each text too long for one message on the channel split into parts of its own."""
    return [p.to_dict() for p in split_long(parts, LIMITS.get(channel))]


def _row(
    now: datetime,
    address: Address,
    parts: list[dict[str, Any]],
    kind: str,
    directive_id: int | None,
    claimed_by: str | None,
) -> dict[str, Any]:
    return {
        "channel": address.channel,
        "chat_id": address.chat_id,
        "kind": kind,
        "directive_id": directive_id,
        "unit_id": address.unit_id,
        "parts": parts,
        "next_part": 0,
        "status": "sending" if claimed_by else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": claimed_by,
        "claimed_at": now if claimed_by else None,
        "created_at": now,
    }


async def release_held(session: AsyncSession, clock: Clock, channel: str, chat_id: str) -> int:
    """The user interacted: their held deliveries may go now, oldest first as the sender claims them. The one
    owner of the held -> pending change; returns how many were released (the caller wakes the sender)."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.status == HELD)
        .values(status="pending", next_attempt_at=clock.now(), claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def withdraw(session: AsyncSession, directive_id: int) -> int:
    """Take back the deliveries of `directive_id` that have not begun (pending or held); a row being sent finishes."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.directive_id == directive_id, Outbox.status.in_(("pending", HELD)))
        .values(status=WITHDRAWN)
    )
    return int(getattr(result, "rowcount", 0) or 0)
