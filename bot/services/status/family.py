"""A directive handed down and the re-issues of it by the boards of the units below, at every level: its family.
The family's targets together are every cell under the directive (a forward's cells are the directive's own
targets), so the upper board's status and summary count them all (docs/design.md, Levels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.report_data import Counts, add_counts
from bot.services.status.counts import counts_by_directive
from bot.services.status.scope import Scope
from storage.models import Directive, Handoff


async def families(session: AsyncSession, directive_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each of these directives with its re-issues below at every level (itself first), one query per level
    whatever their number; a directive that is itself a re-issue of another of them is left out (it is in that
    one's family)."""
    children: dict[int, list[int]] = {}
    seen, frontier = set(directive_ids), list(directive_ids)
    while frontier:
        rows = await session.execute(
            select(Handoff.directive_id, Handoff.reissue_id).where(
                Handoff.directive_id.in_(frontier), Handoff.reissue_id.is_not(None)
            )
        )
        frontier = []
        for parent, child in rows.all():
            if child is None:
                continue
            children.setdefault(parent, []).append(child)
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    below = {child for kids in children.values() for child in kids}
    out: dict[int, list[int]] = {}
    for root in directive_ids:
        if root in below:
            continue
        ids, todo = [root], [root]
        while todo:
            for child in children.get(todo.pop(0), []):
                if child not in ids:
                    ids.append(child)
                    todo.append(child)
        out[root] = ids
    return out


async def family(session: AsyncSession, directive_id: int) -> list[int]:
    """The directive and its re-issues by the units below, at every level down."""
    return (await families(session, [directive_id]))[directive_id]


async def family_of_period(session: AsyncSession, directive: Directive, number: int) -> list[int]:
    """The family answering period `number` of the directive (itself first), as `family_periods` finds it."""
    return list(await family_periods(session, directive, number))


async def family_periods(session: AsyncSession, directive: Directive, number: int) -> dict[int, int | None]:
    """The family answering period `number` of the directive, each with its own period that answers it (None:
    the one open now), itself first. A re-issue carries out the period of the upper directive open when it was
    drafted (`meta["upper_cycle"]`, bot.services.levels): a one-off one answers only that period, one following a
    recurring upper directive (bot.services.cycles `follow`) that period with its first and each later one with
    its next. The re-issues of other periods, and what lies under them, are left out; a re-issue drafted before
    periods were recorded answers every one. One query per level."""
    found: dict[int, int] = {directive.id: number}
    current: dict[int, int] = {directive.id: directive.cycle}
    frontier = [directive.id]
    while frontier:
        rows = await session.execute(
            select(Handoff.directive_id, Directive)
            .join(Directive, Directive.id == Handoff.reissue_id)
            .where(Handoff.directive_id.in_(frontier))
        )
        frontier = []
        for parent, child in rows.all():
            own = _answering(child, found[parent])
            if child.id in found or own is None:
                continue
            found[child.id], current[child.id] = own, child.cycle
            frontier.append(child.id)
    return {i: (None if own == current[i] else own) for i, own in found.items()}


def _answering(reissue: Directive, upper_period: int) -> int | None:
    """The re-issue's own period that answers its upper directive's period `upper_period`; None if none does."""
    meta = reissue.meta or {}
    kept = meta.get("upper_cycle")
    if not isinstance(kept, int):
        return reissue.cycle  # drafted before periods were recorded: counted as it stands
    if isinstance(meta.get("follows"), dict):
        own = upper_period - kept + 1
        return own if 1 <= own <= reissue.cycle else None
    return 1 if upper_period == kept else None


async def families_of_period(session: AsyncSession, listed: Sequence[Directive]) -> dict[int, list[int]]:
    """`families` of these directives, each keeping only what answers its period open now (a recurring one's
    re-issues of earlier periods left out, as `family_of_period`)."""
    out = await families(session, [d.id for d in listed])
    for directive in listed:
        if directive.id in out and directive.cycle > 1 and len(out[directive.id]) > 1:
            out[directive.id] = await family_of_period(session, directive, directive.cycle)
    return out


@dataclass(frozen=True, slots=True)
class FamilyProgress:
    """A family's progress within a scope: its directives' counts added up, and how many of its re-issues below
    were counted in (those reaching the scope: «includes N re-issues below»)."""

    counts: Counts
    reissues: int


async def family_progress(
    session: AsyncSession, scope: Scope, families_: Mapping[int, Sequence[int]]
) -> dict[int, FamilyProgress]:
    """Progress of each family within the scope (its directives' targets added up), from one GROUP BY."""
    counts = await counts_by_directive(session, scope, [i for ids in families_.values() for i in ids])
    return {
        root: FamilyProgress(add_counts(counts[i] for i in ids), reissues_reaching(counts, ids))
        for root, ids in families_.items()
    }


def reissues_reaching(counts: Mapping[int, Counts], ids: Sequence[int]) -> int:
    """How many of a family's re-issues below (`ids` after its first) have targets in the scope `counts` were
    counted in."""
    return sum(counts[i].targeted > 0 for i in ids[1:])
