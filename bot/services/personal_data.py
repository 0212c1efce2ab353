"""Personal data (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): what is held about a person, its erasure, and the
retention purge.

Phone numbers, names, platform accounts and reports are personal data. What the board counts (how many cells
reported, on time or late, the numbers and choices they gave) is kept: erasure and the purge remove the person
and the free text and photos of reports, never the report rows themselves, so every figure stays the same.
- `export_person`: everything held about one person, as JSON-ready data (the export is audited).
- `erase_person`: the person, their roles, accounts, invites and conversations deleted; their reports kept,
  counted and unlinked from them, without free text or photos; audit entries kept without who they were.
- `purge_expired`: reports of directives whose deadline is older than the retention period lose their free text
  and photos; audit entries, delivered outbox messages, abandoned conversations (half-filled reports) and stored
  files attached to no directive (photos, the board's exports) older than it are deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.host import Files
from bot.services.audit import audit
from bot.services.forms import FieldType, FormSpec
from bot.services.forms_store import get_form
from storage.models import (
    AuditEntry,
    ChannelAccount,
    ChannelFile,
    Conversation,
    Directive,
    DirectiveFile,
    DirectiveStatus,
    HandoffFile,
    Invite,
    Outbox,
    Person,
    Report,
    Role,
    StoredFile,
    Unit,
)

log = logging.getLogger(__name__)

# Answers that are figures the board adds up; the rest (free text, photos) may say who wrote them.
FIGURES = frozenset(
    {FieldType.DATE, FieldType.NUMBER, FieldType.RATIO, FieldType.ATTENDANCE, FieldType.CHOICE}
)
ERASED_ACTOR = "erased"
PURGED_MARK = "_purged"  # set in a report's values once its text and photos are gone


@dataclass(frozen=True)
class Erased:
    reports: int  # kept, counted, no longer linked to the person
    accounts: int
    photos: int  # photo files deleted


@dataclass(frozen=True)
class Purged:
    reports: int
    photos: int
    audit_entries: int
    messages: int


async def find_person(session: AsyncSession, phone: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.phone == phone).limit(1))


async def export_person(session: AsyncSession, clock: Clock, person: Person, *, actor: str) -> dict[str, Any]:
    """Everything held about `person`; the export itself is recorded in the audit log."""
    accounts = list(
        await session.scalars(select(ChannelAccount).where(ChannelAccount.person_id == person.id))
    )
    roles = (
        await session.execute(
            select(Role.kind, Unit.code, Unit.name)
            .outerjoin(Unit, Unit.id == Role.unit_id)
            .where(Role.person_id == person.id)
        )
    ).all()
    invites = list(await session.scalars(select(Invite).where(Invite.person_id == person.id)))
    reports = (
        await session.execute(
            select(Report, Directive.number, Unit.code)
            .join(Directive, Directive.id == Report.directive_id)
            .join(Unit, Unit.id == Report.unit_id)
            .where(Report.person_id == person.id)
            .order_by(Report.submitted_at)
        )
    ).all()
    entries = list(await session.scalars(_audit_of(person, accounts).order_by(AuditEntry.at)))
    data = {
        "person": {"name": person.full_name, "phone": person.phone, "created_at": _iso(person.created_at)},
        "roles": [{"role": kind, "unit_code": code, "unit_name": name} for kind, code, name in roles],
        "accounts": [
            {
                "channel": a.channel,
                "user_id": a.user_id,
                "display_name": a.display_name,
                "linked_at": _iso(a.linked_at),
                "last_seen_at": _iso(a.last_seen_at),
                "active": a.active,
            }
            for a in accounts
        ],
        "invites": [
            {
                "role": i.role_kind,
                "created_at": _iso(i.created_at),
                "expires_at": _iso(i.expires_at),
                "used_at": _iso(i.used_at),
                "revoked_at": _iso(i.revoked_at),
            }
            for i in invites
        ],
        "reports": [
            {
                "directive": number,
                "unit_code": code,
                "version": r.version,
                "ref": r.ref,
                "submitted_at": _iso(r.submitted_at),
                "late": r.late,
                "channel": r.channel,
                "values": r.values,
            }
            for r, number, code in reports
        ],
        "audit": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "details": e.details} for e in entries
        ],
    }
    await audit(session, clock, "person.export", person_id=person.id, actor=actor)
    return data


async def erase_person(
    session: AsyncSession, clock: Clock, files: Files, person: Person, *, actor: str
) -> Erased:
    """Remove `person`'s personal data; the figures of their reports stay (see the module's docstring)."""
    accounts = list(
        await session.scalars(select(ChannelAccount).where(ChannelAccount.person_id == person.id))
    )
    for entry in await session.scalars(_audit_of(person, accounts)):
        entry.person_id = None
        entry.actor = ERASED_ACTOR
    for account in accounts:
        await session.execute(
            delete(Conversation).where(
                Conversation.channel == account.channel, Conversation.user_id == account.user_id
            )
        )
    reports = list(await session.scalars(select(Report).where(Report.person_id == person.id)))
    photos: set[str] = set()
    for report in reports:
        photos |= await _strip(session, report)
        report.person_id = None
    await session.execute(delete(Invite).where(Invite.person_id == person.id))
    await session.delete(person)  # roles, accounts and daily summaries go with it (ON DELETE CASCADE)
    await session.flush()
    deleted = await _delete_unused_files(session, files, photos)
    await audit(session, clock, "person.erase", actor=actor, details={"reports": len(reports)})
    return Erased(reports=len(reports), accounts=len(accounts), photos=deleted)


async def purge_expired(session: AsyncSession, clock: Clock, files: Files, retention_days: int) -> Purged:
    """Apply the retention period: see the module's docstring. Idempotent; the scheduler runs it daily."""
    now = clock.now()
    cutoff = now - timedelta(days=retention_days)
    closed = (
        select(Directive.id)
        .where(Directive.status.in_((DirectiveStatus.SENT, DirectiveStatus.CANCELLED)))
        .where(
            or_(
                Directive.deadline < cutoff.date(),
                Directive.deadline.is_(None) & (Directive.created_at < cutoff),
            )
        )
    )
    reports = list(
        await session.scalars(
            select(Report).where(
                Report.directive_id.in_(closed), ~cast(Report.values, String).contains(PURGED_MARK)
            )
        )
    )
    photos: set[str] = set()
    for report in reports:
        photos |= await _strip(session, report)
    await session.flush()
    old_files = await session.scalars(
        select(StoredFile.sha256)
        .where(StoredFile.created_at < cutoff)
        .where(~StoredFile.sha256.in_(select(DirectiveFile.sha256)))
        .where(~StoredFile.sha256.in_(select(HandoffFile.sha256)))
    )
    deleted = await _delete_unused_files(session, files, photos | set(old_files))
    await session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
    entries = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    messages = await session.execute(
        delete(Outbox).where(
            Outbox.status.in_(("sent", "failed", "blocked", "withdrawn")), Outbox.created_at < cutoff
        )
    )
    purged = Purged(len(reports), deleted, _count(entries), _count(messages))
    if reports or deleted or purged.audit_entries or purged.messages:
        await audit(session, clock, "retention.purge", actor="scheduler", details=purged.__dict__)
    return purged


def _audit_of(person: Person, accounts: list[ChannelAccount]) -> Any:
    actors = [f"{a.channel}:{a.user_id}" for a in accounts]
    return select(AuditEntry).where(or_(AuditEntry.person_id == person.id, AuditEntry.actor.in_(actors)))


async def _strip(session: AsyncSession, report: Report) -> set[str]:
    """Keep only the figures of `report`; the photo hashes it held are returned for deletion."""
    form_key = await session.scalar(select(Directive.form_key).where(Directive.id == report.directive_id))
    form = await get_form(session, form_key)
    kept, photos = _figures(report.values or {}, form)
    report.values = {**kept, PURGED_MARK: True}
    return photos


def _figures(values: dict[str, Any], form: FormSpec | None) -> tuple[dict[str, Any], set[str]]:
    kept: dict[str, Any] = {}
    photos: set[str] = set()
    for key, value in values.items():
        spec = form.field(key) if form else None
        if spec is not None and spec.type in FIGURES:
            kept[key] = value
        elif spec is not None and spec.type == FieldType.PHOTO:
            photos |= {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}
    return kept, photos


async def _delete_unused_files(session: AsyncSession, files: Files, hashes: set[str]) -> int:
    """Delete the photos no directive and no remaining report refers to (files are shared by content)."""
    deleted = 0
    for sha in sorted(hashes):
        used = await session.scalar(select(DirectiveFile.id).where(DirectiveFile.sha256 == sha).limit(1))
        used = used or await session.scalar(select(HandoffFile.id).where(HandoffFile.sha256 == sha).limit(1))
        used = used or await session.scalar(
            select(Report.id).where(cast(Report.values, String).contains(sha)).limit(1)
        )
        if used:
            continue
        await session.execute(delete(ChannelFile).where(ChannelFile.sha256 == sha))
        await session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))
        files.path(sha).unlink(missing_ok=True)
        deleted += 1
    return deleted


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
