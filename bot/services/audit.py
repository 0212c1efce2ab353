"""The audit log: who did what, from the shell or a chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from storage.models import AuditEntry


async def audit(
    session: AsyncSession,
    clock: Clock,
    action: str,
    *,
    person_id: int | None = None,
    actor: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(at=clock.now(), person_id=person_id, actor=actor, action=action, details=details or {})
    )
