"""Invites: single-use, expiring, unguessable join codes, and choosing who gets one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.audit import audit
from storage.models import ChannelAccount, Invite, Person, Role, Unit

# No 0/O, 1/I so a code read aloud over the phone or off paper is typed right; 32 symbols x 10 = 50 bits.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class InviteStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Issued:
    code: str
    person: Person
    role_kind: str
    unit: Unit | None
    expires_at: datetime

    @property
    def display_code(self) -> str:
        return format_code(self.code)


def telegram_link(bot_username: str, code: str) -> str:
    """The deep link that opens the Telegram bot with the invite code filled in."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def clean_code(text: str) -> str | None:
    """The code inside what a person typed (`abcde-fghjk`, `ABCDE FGHJK`), or None if it cannot be one."""
    candidate = "".join(ch for ch in text.upper() if ch not in " -_.\t")
    if len(candidate) == CODE_LENGTH and all(ch in ALPHABET for ch in candidate):
        return candidate
    return None


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def issue(
    session: AsyncSession, clock: Clock, person: Person, role_kind: str, unit: Unit | None, days: int
) -> Issued:
    """A new invite for `person`; any earlier open invite of theirs for the same role and unit is revoked."""
    now = clock.now()
    same_unit = Invite.unit_id == unit.id if unit else Invite.unit_id.is_(None)
    await session.execute(
        update(Invite)
        .where(
            Invite.person_id == person.id,
            Invite.role_kind == role_kind,
            same_unit,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = new_code()
    expires = now + timedelta(days=days)
    session.add(
        Invite(
            code_hash=hash_code(code),
            person_id=person.id,
            role_kind=role_kind,
            unit_id=unit.id if unit else None,
            created_at=now,
            expires_at=expires,
        )
    )
    await audit(session, clock, "invite.issue", person_id=person.id, actor="cli", details={"role": role_kind})
    return Issued(code, person, role_kind, unit, expires)


async def open_invites(
    session: AsyncSession, clock: Clock, people: list[tuple[Person, Unit | None]], role_kind: str
) -> dict[int, Invite]:
    """The valid, unused invite (if any) of each of `people` for `role_kind`, by person id. Only a code's hash
    is stored, so the code itself cannot be shown again: re-issuing is the only way to print a code anew."""
    wanted = {p.id: (u.id if u else None) for p, u in people}
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Invite).where(
            Invite.person_id.in_(wanted),
            Invite.role_kind == role_kind,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > clock.now(),
        )
    )
    return {i.person_id: i for i in rows if wanted.get(i.person_id) == i.unit_id}


async def check(session: AsyncSession, clock: Clock, code: str) -> tuple[InviteStatus, Invite | None]:
    invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        return InviteStatus.UNKNOWN, None
    return status_of(invite, clock.now()), invite


def status_of(invite: Invite, now: datetime) -> InviteStatus:
    if invite.used_at is not None:
        return InviteStatus.USED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if invite.expires_at <= now:
        return InviteStatus.EXPIRED
    return InviteStatus.OK


async def invitees(
    session: AsyncSession,
    *,
    role_kind: str,
    unit_code: str | None = None,
    subtree_code: str | None = None,
    pending_only: bool = False,
) -> list[tuple[Person, Unit | None]]:
    """People holding `role_kind` in one unit, a subtree, or everywhere; optionally only those not yet joined."""
    query = (
        select(Person, Unit)
        .join(Role, Role.person_id == Person.id)
        .outerjoin(Unit, Unit.id == Role.unit_id)
        .where(Role.kind == role_kind)
        .order_by(Unit.path, Person.full_name)
    )
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if subtree_code:
        root = await session.scalar(select(Unit).where(Unit.code == subtree_code))
        if root is None:
            return []
        query = query.where(Unit.path.startswith(root.path))
    if pending_only:
        joined = exists().where(ChannelAccount.person_id == Person.id, ChannelAccount.active.is_(True))
        query = query.where(~joined)
    return [(p, u) for p, u in (await session.execute(query)).all()]
