"""Processed updates: each platform update is handled once, recorded in the same transaction as its effects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Incoming, Unreadable
from storage.models import ProcessedUpdate, SetAsideUpdate


async def first_times(session: AsyncSession, clock: Clock, events: Sequence[Incoming]) -> list[bool]:
    """Record the events' update ids; for each event, whether it is seen for the first time (else a retry)."""
    if not events:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = clock.now()
    table = ProcessedUpdate.metadata.tables[
        ProcessedUpdate.__tablename__
    ]  # a plain INSERT, without the ORM's bulk-insert bookkeeping
    recorded = await session.execute(
        insert(table)
        .values([{"channel": e.channel.value, "update_key": e.update_id, "at": now} for e in events])
        .on_conflict_do_nothing()
        .returning(table.c.channel, table.c.update_key)
    )
    new = {(channel, key) for channel, key in recorded}
    return [(e.channel.value, e.update_id) in new for e in events]


async def forget(session: AsyncSession, events: Sequence[Incoming]) -> None:
    """Drop the records of `events` (recorded in this transaction but left to be handled in another one)."""
    if not events:
        return
    keys = [(e.channel.value, e.update_id) for e in events]
    await session.execute(
        delete(ProcessedUpdate)
        .where(tuple_(ProcessedUpdate.channel, ProcessedUpdate.update_key).in_(keys))
        .execution_options(synchronize_session=False)  # nothing of it is loaded in the session
    )


def set_aside(session: AsyncSession, clock: Clock, event: Unreadable) -> None:
    """Keep an update that can never be handled, for whoever inspects it (`set_aside_updates`)."""
    session.add(
        SetAsideUpdate(
            at=clock.now(),
            channel=event.channel.value,
            update_key=event.update_id[:64],
            reason=event.reason[:500],
            payload=event.payload.replace("\x00", ""),
        )
    )
