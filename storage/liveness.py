"""Which bot instances are alive, for instances sharing one PostgreSQL: each holds a session advisory lock named
after itself for as long as it runs, so a lock anyone else can take belongs to an instance that died."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def lock_key(instance: str) -> int:
    """A stable signed 64-bit key for an instance id (hex)."""
    return int(instance[:15], 16)


class InstanceLock:
    def __init__(self, engine: AsyncEngine, instance: str) -> None:
        self.engine = engine
        self.key = lock_key(instance)
        self._conn: AsyncConnection | None = None

    async def hold(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        self._conn = await self.engine.connect()
        await self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
        await self._conn.commit()

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()  # closing the session releases its advisory locks
            self._conn = None


async def dead_instances(conn: AsyncConnection, instances: list[str]) -> list[str]:
    """Those of `instances` whose lock is free: nobody holds it, so that instance is gone."""
    dead = []
    for instance in instances:
        key = lock_key(instance)
        taken = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
        if taken:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            dead.append(instance)
    return dead
