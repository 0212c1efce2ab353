"""Passwordless sign-in to the board's web dashboard: a one-time link sent in chat (or printed by the CLI) opens a
browser session. Only hashes of the link's token and of the session's cookie are stored, so a database leak opens
nothing; a link works once and briefly, a session expires and can be ended. Who may sign in: a board member or an
administrator (a secretary has nothing to see there)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import audit
from storage.models import Person, Role, WebLogin, WebSession

LINK_MINUTES = 15
SESSION_HOURS = 12
STAFF_KINDS = ("board", "admin")
LOGIN_PATH = "/web/dang-nhap"

SIGNED_IN = "web.signed_in"
SIGNED_OUT = "web.signed_out"
SESSION_ENDED = "web.session_ended"
OTHERS_ENDED = "web.other_sessions_ended"
SEEN_EVERY = timedelta(minutes=1)  # last use is written at most this often: a page view is not a write
LINK_ISSUED = "web.link_issued"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def staff_roles(session: AsyncSession, person_id: int) -> list[Role]:
    """The person's board and administrator roles: what the dashboard lets them see."""
    query = select(Role).where(Role.person_id == person_id, Role.kind.in_(STAFF_KINDS))
    return list((await session.scalars(query)).all())


async def issue_link(
    session: AsyncSession, clock: Clock, person: Person, base_url: str, actor: str
) -> str | None:
    """A one-time sign-in link for a board member or administrator; None for anyone else."""
    if not await staff_roles(session, person.id):
        return None
    token = secrets.token_urlsafe(24)
    now = clock.now()
    session.add(
        WebLogin(
            token_hash=_hash(token),
            person_id=person.id,
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    await audit.audit(session, clock, LINK_ISSUED, person_id=person.id, actor=actor)
    return f"{base_url.rstrip('/')}{LOGIN_PATH}?t={token}"


async def link_is_usable(session: AsyncSession, clock: Clock, token: str) -> bool:
    """Whether the link is genuine, unused and current (the landing page shows the button only then)."""
    login = await session.scalar(select(WebLogin).where(WebLogin.token_hash == _hash(token)))
    return login is not None and login.used_at is None and login.expires_at > clock.now()


@dataclass(frozen=True, slots=True)
class Opened:
    key: str  # the cookie's value, never stored
    expires_in: int  # seconds


async def redeem(
    session: AsyncSession, clock: Clock, token: str, actor: str, user_agent: str = ""
) -> Opened | None:
    """Spend a sign-in link and open a session; None when the link is unknown, used or expired. The update that
    marks it used is conditional, so two presses of one link open one session."""
    now = clock.now()
    spent = await session.execute(
        update(WebLogin)
        .where(WebLogin.token_hash == _hash(token), WebLogin.used_at.is_(None), WebLogin.expires_at > now)
        .values(used_at=now)
        .returning(WebLogin.person_id)
    )
    person_id = spent.scalar_one_or_none()
    if person_id is None or not await staff_roles(session, person_id):
        return None
    key = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            key_hash=_hash(key),
            person_id=person_id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
            user_agent=user_agent[:200] or None,
            last_seen_at=now,
        )
    )
    await audit.audit(session, clock, SIGNED_IN, person_id=person_id, actor=actor)
    return Opened(key, SESSION_HOURS * 3600)


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in board member: who, with which roles, and the session's CSRF token."""

    person: Person
    roles: list[Role]
    session_id: int
    csrf: str

    @property
    def actor(self) -> str:
        return f"web:{self.person.id}"


async def visitor(session: AsyncSession, clock: Clock, key: str) -> Visitor | None:
    """The member a cookie belongs to, while their session is open and they still hold a board role."""
    if not key:
        return None
    found = await session.scalar(
        select(WebSession).where(
            WebSession.key_hash == _hash(key),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > clock.now(),
        )
    )
    if found is None:
        return None
    now = clock.now()
    if found.last_seen_at is None or _aware(found.last_seen_at) + SEEN_EVERY <= now:
        found.last_seen_at = now
    roles = await staff_roles(session, found.person_id)
    person = await session.get(Person, found.person_id)
    if not roles or person is None:
        return None
    return Visitor(person, roles, found.id, found.csrf)


async def sign_out(session: AsyncSession, clock: Clock, who: Visitor) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id == who.session_id).values(ended_at=clock.now())
    )
    await audit.audit(session, clock, SIGNED_OUT, person_id=who.person.id, actor=who.actor)


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def open_sessions(session: AsyncSession, clock: Clock, person_id: int) -> list[WebSession]:
    """The member's sessions still open, the most recently used first."""
    query = (
        select(WebSession)
        .where(
            WebSession.person_id == person_id,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > clock.now(),
        )
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
    )
    return list((await session.scalars(query)).all())


async def end_session(session: AsyncSession, clock: Clock, who: Visitor, session_id: int) -> bool:
    """End one of the member's own open sessions (another browser, or this one); False when there is none such."""
    ended = await session.execute(
        update(WebSession)
        .where(
            WebSession.id == session_id,
            WebSession.person_id == who.person.id,
            WebSession.ended_at.is_(None),
        )
        .values(ended_at=clock.now())
    )
    if not ended.rowcount:  # type: ignore[attr-defined]
        return False
    details = {"session": session_id, "this": session_id == who.session_id}
    await audit.audit(
        session, clock, SESSION_ENDED, person_id=who.person.id, actor=who.actor, details=details
    )
    return True


async def end_other_sessions(session: AsyncSession, clock: Clock, who: Visitor) -> int:
    """End every open session of the member but this one; how many were ended."""
    ended = await session.execute(
        update(WebSession)
        .where(
            WebSession.person_id == who.person.id,
            WebSession.id != who.session_id,
            WebSession.ended_at.is_(None),
        )
        .values(ended_at=clock.now())
    )
    count = int(ended.rowcount)  # type: ignore[attr-defined]
    await audit.audit(
        session, clock, OTHERS_ENDED, person_id=who.person.id, actor=who.actor, details={"ended": count}
    )
    return count
