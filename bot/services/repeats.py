"""A directive sent again: a draft with the number, issuer and issue date of one already sent
(`status.repeats_of`) is, as the board chooses, more cells for that one, a correction replacing it, or a new
directive. The chat's intake, the browser and `chibo directive send` all come here, and a plain send goes down the
levels (`levels.broadcast`: handed to the boards of the units below); the status changes go through
`bot.services.directives`."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import directives, level_repeats, levels, outbox, status
from bot.services.audit import audit
from bot.services.directives import Plan
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form
from storage.models import Directive, DirectiveTarget, Report, Unit

MAX_SHOWN = 3  # earlier directives listed with their choices; more is rare and the rest stay in the count


class Repeat(StrEnum):
    """What a draft with the number, issuer and date of a directive already sent is (`status.repeats_of`)."""

    ADD = "add"  # the same directive for more cells: the draft is dropped, the reports stay one set
    REPLACE = "replace"  # a correction: it goes to the old one's cells too, takes over its reports, the old one ends
    NEW = "new"  # a different directive that shares the number: both stay, told apart by their codes


async def target_cells(session: AsyncSession, directive_id: int) -> list[int]:
    rows = await session.scalars(
        select(DirectiveTarget.unit_id).where(DirectiveTarget.directive_id == directive_id)
    )
    return list(rows.all())


async def add_cells(
    session: AsyncSession,
    clock: Clock,
    draft: Directive,
    existing: Directive,
    cell_ids: list[int],
    *,
    actor: str,
    person_id: int | None = None,
) -> levels.Down:
    """Send `existing` (as it was sent) to those of `cell_ids` it has not reached yet, down the levels like a new
    send (`level_repeats.send_more`: handed to the board of a unit below, or joined to what that board did with it), and
    drop the draft."""
    family = await status.family(session, existing.id)  # its re-issues below reached theirs already
    had = set(
        (
            await session.scalars(
                select(DirectiveTarget.unit_id).where(DirectiveTarget.directive_id.in_(family))
            )
        ).all()
    )
    new_cells = [c for c in cell_ids if c not in had]
    # Down from the board adding them (its draft's unit), as the draft itself would have gone.
    unit_id = draft.unit_id or existing.unit_id
    sender = await session.get(Unit, unit_id) if unit_id else None
    more = await level_repeats.send_more(session, clock, existing, new_cells, sender=sender)
    form = await get_form(session, existing.form_key)
    queued = await directives.queue_cells(session, clock, existing, more.direct, form)
    directives.cancel(draft)
    if queued or more.joined:
        directives.resume_sending(existing)  # settled back to sent by the sender once delivered
        await directives.settle(session, [existing.id])
    await audit(
        session,
        clock,
        "directive.add_cells",
        person_id=person_id,
        actor=actor,
        details={
            "directive_id": existing.id,
            "draft_id": draft.id,
            "cells": len(new_cells),
            "queued": queued,
            "handed": [u.id for u in more.handed],
            "joined": [u.id for u in more.joined],
        },
    )
    plan = Plan(cells=len(new_cells), reachable=queued, unregistered=len(more.direct) - queued)
    return levels.Down(plan, more.handed, route=more.route)


async def replace(
    session: AsyncSession,
    clock: Clock,
    draft: Directive,
    old: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
    *,
    actor: str,
    person_id: int | None = None,
) -> levels.Down:
    """Send the draft as a correction of `old`: to the old one's cells and `cell_ids`, marked as replacing it; the
    reports already sent move to it (and count for it), and the old one is replaced (never open again). Down the
    levels: the handoffs of `old` become the correction's (`level_repeats.pass_on`), the cells under a board that
    forwarded it get the correction as they got it, and each board below that received `old` gets the
    correction's card (`level_repeats.tell_corrected`); new cells go down like a new send."""
    had = await target_cells(session, old.id)
    cells = had + [c for c in cell_ids if c not in set(had)]
    draft.meta = {**(draft.meta or {}), "replaces": {"id": old.id, "number": old.number}}
    moved = await level_repeats.pass_on(session, old, draft)
    sender = await session.get(Unit, draft.unit_id) if draft.unit_id else None
    more = await level_repeats.send_more(session, clock, draft, cells, sender=sender, tell=False)
    plan = await directives.queue_broadcast(
        session, clock, draft, more.direct, form, actor=actor, person_id=person_id
    )
    plan = Plan(cells=len(cells), reachable=plan.reachable, unregistered=plan.unregistered)
    reported = (
        await session.execute(
            select(DirectiveTarget.unit_id, DirectiveTarget.reported_at, DirectiveTarget.late).where(
                DirectiveTarget.directive_id == old.id, DirectiveTarget.reported_at.is_not(None)
            )
        )
    ).all()
    if reported:
        await session.execute(
            update(DirectiveTarget),
            [
                {"directive_id": draft.id, "unit_id": unit_id, "reported_at": at, "late": late}
                for unit_id, at, late in reported
            ],
        )
    await session.execute(update(Report).where(Report.directive_id == old.id).values(directive_id=draft.id))
    directives.mark_replaced(old, draft.id)
    await outbox.withdraw(session, old.id)  # a cell not yet reached gets only the correction
    await level_repeats.tell_corrected(session, clock, draft, moved)
    await audit(
        session,
        clock,
        "directive.replace",
        person_id=person_id,
        actor=actor,
        details={
            "directive_id": draft.id,
            "replaced": old.id,
            "reports_moved": len(reported),
            "boards_told": len(moved),
        },
    )
    return levels.Down(plan, more.handed, route=more.route)


def parse_choice(text: str, earlier: list[Directive]) -> tuple[Repeat, Directive | None] | None:
    """A choice written as "new", "add:<id>" or "replace:<id>" (the browser's form), checked against the
    directives the draft repeats; None when it names none of them, so the board is asked again."""
    kind, _, wanted = text.partition(":")
    if kind == Repeat.NEW:
        return Repeat.NEW, None
    if kind not in (Repeat.ADD, Repeat.REPLACE):
        return None
    existing = next((d for d in earlier if str(d.id) == wanted), None)
    return (Repeat(kind), existing) if existing is not None else None


def broadcasts(choice: tuple[Repeat, Directive | None] | None) -> bool:
    """Whether `send_as` sends the draft as a new directive down the levels (not more cells for an earlier one,
    nor a correction of it): only then are the units whose board has not joined a question."""
    repeat, existing = choice if choice is not None else (Repeat.NEW, None)
    return repeat is Repeat.NEW or existing is None


async def send_as(
    session: AsyncSession,
    clock: Clock,
    draft: Directive,
    cells: list[int],
    form: FormSpec | None,
    choice: tuple[Repeat, Directive | None] | None,
    *,
    actor: str,
    person_id: int | None = None,
    unstaffed: levels.Unstaffed = levels.Unstaffed.DIRECT,
) -> tuple[levels.Down, Directive]:
    """Send the draft as the board chose (a plain broadcast down the levels when it repeats nothing): what went
    where, and the directive that now carries the cells (the earlier one when cells were added to it)."""
    repeat, existing = choice if choice is not None else (Repeat.NEW, None)
    if repeat is Repeat.ADD and existing is not None:
        down = await add_cells(session, clock, draft, existing, cells, actor=actor, person_id=person_id)
        return down, existing
    if repeat is Repeat.REPLACE and existing is not None:
        down = await replace(session, clock, draft, existing, cells, form, actor=actor, person_id=person_id)
        return down, draft
    down = await levels.broadcast(
        session, clock, draft, cells, form, actor=actor, person_id=person_id, choice=unstaffed
    )
    return down, draft
