"""The audit log: who did what, from the shell or a chat; every look at cells' reports (status, export, Word
draft, summary) is recorded too, since reports are personal data (Law 91/2025/QH15)."""

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


# What the board looks at or takes away: each is a view of cells' reports.
VIEW_STATUS = "reports.view_status"
VIEW_SUMMARY = "reports.view_summary"
EXPORT_XLSX = "reports.export_xlsx"
EXPORT_DOCX = "reports.export_docx"
VIEW_EVIDENCE = "reports.view_evidence"  # a cell's evidence photos, opened from an export's link


async def audit_view(
    session: AsyncSession,
    clock: Clock,
    action: str,
    *,
    directive_id: int | None,
    units: list[int] | None,
    person_id: int | None = None,
    actor: str = "",
) -> None:
    """Record that `actor` saw or exported the reports of `directive_id` in the subtrees `units` (None: all)."""
    await audit(
        session,
        clock,
        action,
        person_id=person_id,
        actor=actor,
        details={"directive": directive_id, "units": units},
    )
