"""Which units a board member sees: the `Scope` (the subtrees they oversee) and `in_scope`, the one filter every
status query goes through. A scope covering every top unit needs no filter, so `in_scope` then leaves the query
untouched (no join, no condition): the common case of a province's board stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.services import directives as directive_service
from storage.models import DirectiveTarget, Role, Unit

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True, slots=True)
class ScopeRoot:
    id: int
    path: str
    name: str


@dataclass(frozen=True, slots=True)
class Scope:
    """The subtrees a board member oversees. `everything` means no unit filter is needed at all."""

    roots: tuple[ScopeRoot, ...]
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not self.roots

    @property
    def names(self) -> list[str]:
        return [root.name for root in self.roots]


def in_scope(
    query: Select[*Columns], scope: Scope, *, join_on: QueryableAttribute[int] | None = None
) -> Select[*Columns]:
    """`query` limited to the units in scope, by their materialised path. `join_on` is the unit id column to
    join `Unit` on, for a query that does not read `Unit` already; a scope of everything is left unfiltered."""
    if scope.everything:
        return query
    if join_on is not None:
        query = query.join(Unit, Unit.id == join_on)
    if not scope.roots:
        return query.where(false())
    return query.where(or_(*(Unit.path.startswith(root.path) for root in scope.roots)))


def targets_in_scope(scope: Scope, *columns: Any) -> Select[Any]:
    """A query of `columns` over the directive targets whose unit is in scope."""
    return in_scope(select(*columns).select_from(DirectiveTarget), scope, join_on=DirectiveTarget.unit_id)


async def scope_of(session: AsyncSession, roles: Sequence[Role]) -> Scope:
    """The scope of a board member or administrator; empty for anyone else."""
    units = await directive_service.scope_units(session, list(roles))
    return await _scope(session, units)


async def whole_scope(session: AsyncSession) -> Scope:
    """Every unit: the administrator at the shell."""
    tops = (await session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))).all()
    return await _scope(session, list(tops))


async def _scope(session: AsyncSession, units: Sequence[Unit]) -> Scope:
    # A unit inside another chosen unit adds nothing.
    kept = [u for u in units if not any(o.id != u.id and u.path.startswith(o.path) for o in units)]
    roots = tuple(ScopeRoot(u.id, u.path, u.name) for u in kept)
    if not roots:
        return Scope(())
    tops = set((await session.scalars(select(Unit.id).where(Unit.parent_id.is_(None)))).all())
    return Scope(roots, everything=tops <= {root.id for root in roots})
