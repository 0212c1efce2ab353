"""Outbox rows: every message is a row before it is sent; the sender (bot/delivery/sender.py) works them off.

This is the one place that builds a delivery row, so what a row means is decided here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Reply
from bot.core.limits import LIMITS
from messages.render import split_long
from storage.models import Outbox

REPLY = "reply"


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
    now = clock.now()
    row = Outbox(
        channel=channel,
        chat_id=chat_id,
        kind=kind,
        directive_id=directive_id,
        unit_id=unit_id,
        parts=[p.to_dict() for p in split_long(parts, LIMITS.get(channel))],
        next_part=0,
        status="sending" if claimed_by else "pending",
        attempts=0,
        next_attempt_at=now,
        claimed_by=claimed_by,
        claimed_at=now if claimed_by else None,
        created_at=now,
    )
    session.add(row)
    return row
