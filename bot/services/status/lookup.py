"""Finding the directive a board member means: by the number they type ("747", "747-CV", "cv/đuk") or its internal
code ("#12"), by the bare id a button carries, or the list of directives still followed; and the directives a new
one repeats (same number, issuer and issue date). Only sent directives reaching the scope count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.textnorm import fold
from bot.services.directive_numbers import match_number, normalize_number, parse_code
from bot.services.status.scope import Scope, in_scope
from storage.models import Directive, DirectiveTarget

SENT_STATES = ("sending", "sent")
OPEN_DAYS_AFTER_DEADLINE = 30  # a directive stays on the board's list this long after its deadline


@dataclass(frozen=True, slots=True)
class Lookup:
    """The directives a board member's text names: one (found), several (ambiguous) or none."""

    matches: list[Directive]
    recent: list[Directive]

    @property
    def found(self) -> Directive | None:
        return self.matches[0] if len(self.matches) == 1 else None


async def find_directive(session: AsyncSession, scope: Scope, query: str, today: date) -> Lookup:
    """Resolve a typed number ("747", "747-CV", "cv/đuk") or internal code ("#12") among the sent directives in
    scope."""
    code = parse_code(query)
    if code is not None:
        named = await directive_in_scope(session, scope, code)
        return Lookup([named] if named else [], [] if named else await open_directives(session, scope, today))
    rows = (
        await session.execute(
            select(Directive.id, Directive.number).where(
                Directive.status.in_(SENT_STATES), Directive.number.is_not(None)
            )
        )
    ).all()
    ids = match_number(query, {row.id: row.number for row in rows}, loose=True)
    in_reach = await _with_targets_in_scope(session, scope, ids)
    matches = await _directives(session, [i for i in ids if i in in_reach])
    recent = [] if len(matches) == 1 else await open_directives(session, scope, today)
    return Lookup(matches, recent)


async def directive_in_scope(session: AsyncSession, scope: Scope, directive_id: int) -> Directive | None:
    """The directive, if it was sent and reaches the scope (button presses carry bare ids)."""
    directive = await session.get(Directive, directive_id)
    if directive is None or directive.status not in SENT_STATES:
        return None
    return directive if await _with_targets_in_scope(session, scope, [directive_id]) else None


async def open_directives(session: AsyncSession, scope: Scope, today: date) -> list[Directive]:
    """Sent directives still being followed (no deadline, or at most a month past it), newest first."""
    since = today - timedelta(days=OPEN_DAYS_AFTER_DEADLINE)
    candidates = (
        await session.scalars(
            select(Directive)
            .where(
                Directive.status.in_(SENT_STATES),
                or_(Directive.deadline.is_(None), Directive.deadline >= since),
            )
            .order_by(Directive.sent_at.desc(), Directive.id.desc())
        )
    ).all()
    reach = await _with_targets_in_scope(session, scope, [d.id for d in candidates])
    return [d for d in candidates if d.id in reach]


async def _with_targets_in_scope(session: AsyncSession, scope: Scope, ids: Sequence[int]) -> set[int]:
    if not ids or scope.empty:
        return set()
    if scope.everything:  # every target is in scope: nothing to ask the database
        return set(ids)
    query = select(DirectiveTarget.directive_id).where(DirectiveTarget.directive_id.in_(ids))
    query = in_scope(query, scope, join_on=DirectiveTarget.unit_id).distinct()
    return set((await session.scalars(query)).all())


async def _directives(session: AsyncSession, ids: Sequence[int]) -> list[Directive]:
    if not ids:
        return []
    query = select(Directive).where(Directive.id.in_(ids)).order_by(Directive.sent_at.desc(), Directive.id)
    return list((await session.scalars(query)).all())


async def repeats_of(session: AsyncSession, scope: Scope, draft: Directive) -> list[Directive]:
    """Sent directives reaching the scope with the draft's number, issuer and issue date: sending the draft again
    would make two directives with one number, so the board chooses what it is (`directives.Repeat`)."""
    if not draft.number:
        return []
    rows = (
        await session.execute(
            select(Directive.id, Directive.number, Directive.issuer).where(
                Directive.status.in_(SENT_STATES),
                Directive.id != draft.id,
                Directive.issued_on.is_(None)
                if draft.issued_on is None
                else Directive.issued_on == draft.issued_on,
            )
        )
    ).all()
    number, issuer = normalize_number(draft.number), fold(draft.issuer or "")
    ids = [
        row.id
        for row in rows
        if normalize_number(row.number or "") == number and fold(row.issuer or "") == issuer
    ]
    in_reach = await _with_targets_in_scope(session, scope, ids)
    return await _directives(session, [i for i in ids if i in in_reach])
