"""Directives: drafts built from parsed documents, their files, audiences within a board's scope, queueing a
broadcast (one target row per cell, one outbox row per reachable secretary) in one transaction, and the directive's
status: this module is the only one that moves it (`cancel`, `queue_broadcast`, `resume_sending`, `mark_replaced`,
`settle`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from bot.core.events import Button, OutFile, Reply
from bot.services import cycles
from bot.services.audit import audit
from bot.services.directive_parser import DeadlineKind, DirectiveMeta
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form
from bot.services.outbox import DIRECTIVE, Address, enqueue, enqueue_many
from messages import cycles as cycle_msg
from messages import directives as msg
from messages.formats import format_date
from storage.models import (
    ChannelAccount,
    Directive,
    DirectiveFile,
    DirectiveStatus,
    DirectiveTarget,
    HandoffFile,
    Person,
    Role,
    StoredFile,
    Unit,
)

# A target whose delivery is not finished; every other value (sent, blocked, failed, unregistered) is final.
UNDELIVERED = "pending"
# Directives the cells have in hand (or soon will): the ones reports, reminders and the board's views are about.
OUT = (DirectiveStatus.SENDING, DirectiveStatus.SENT)


@dataclass(frozen=True)
class Recipient:
    unit_id: int
    person_id: int | None
    channel: str | None
    chat_id: str | None
    last_seen: datetime | None = None  # the account's last interaction (to a minute): its channel's window


@dataclass(frozen=True)
class Plan:
    cells: int
    reachable: int
    unregistered: int


async def new_draft(
    session: AsyncSession,
    clock: Clock,
    meta: DirectiveMeta,
    *,
    form_key: str,
    created_by: int | None = None,
    unit_id: int | None = None,
) -> Directive:
    """A draft from what the parser read, saved (it has an id) so its files can be attached."""
    draft = Directive(
        status=DirectiveStatus.DRAFT,
        created_by=created_by,
        unit_id=unit_id,
        created_at=clock.now(),
        form_key=form_key,
    )
    apply_meta(draft, meta)
    session.add(draft)
    await session.flush()
    return draft


def deadline_passed(deadline: date, today: date) -> bool:
    """The one rule for a report deadline a sender gives (chat and shell alike): not a day already gone."""
    return deadline < today


def confirm_deadline(directive: Directive, deadline: date) -> None:
    """The report deadline as the sender confirmed it: reminders and the board's views count from it."""
    directive.deadline = deadline
    directive.meta = {**(directive.meta or {}), "deadline_confirmed": True}


def apply_meta(directive: Directive, meta: DirectiveMeta) -> None:
    """Copy what the parser found onto the draft; what it did not find stays empty, never guessed."""
    directive.number = meta.number
    directive.doc_type = meta.doc_type
    directive.issuer_code = meta.issuer_code
    directive.parent_body = meta.parent_body
    directive.issuer = meta.issuer
    directive.place = meta.place
    directive.issued_on = meta.issued_on
    directive.subject = meta.subject
    directive.period_start = meta.period_start
    directive.period_end = meta.period_end
    directive.deadline = meta.deadline or meta.deadline_suggestion
    directive.body_text = meta.body or ""
    signer = " ".join(p for p in (meta.signer_title, meta.signer_name) if p)
    directive.meta = {
        "parsed": meta.to_json(),
        "recipients": meta.recipients,
        "cited": [_cited_line(c.to_json()) for c in meta.cited],
        "materials": list(meta.materials),
        "signer": signer or None,
        "signer_authority": meta.signer_authority,
        "deadline_text": meta.deadline_text,
        "deadline_recurring": meta.deadline_recurring.value if meta.deadline_recurring else None,
        "deadline_at_period_end": meta.deadline_at_period_end,
        "completion_deadlines": [
            d.date.isoformat() for d in meta.deadlines if d.kind is DeadlineKind.COMPLETION and d.date
        ],
        "deadline_confirmed": False,
        "subject_hint": meta.subject_hint,
    }
    # The document's recurring deadline is only proposed: the board applies it (or another one) in the preview.
    cycles.propose(directive, meta)


def _cited_line(cited: dict[str, Any]) -> str:
    parts = [cited.get("kind") or "", cited["number"]]
    if cited.get("date"):
        parts.append(msg.CITED_DATE.format(date=format_date(date.fromisoformat(cited["date"]))))
    return " ".join(p for p in parts if p)


def preview_fields(directive: Directive) -> dict[str, str | None]:
    meta = directive.meta or {}
    deadline = None
    if directive.deadline:
        deadline = msg.day(directive.deadline)
        if meta.get("deadline_recurring") == "yearly":
            deadline = msg.DEADLINE_YEARLY.format(date=deadline)
        deadline += msg.DEADLINE_CONFIRMED if meta.get("deadline_confirmed") else msg.DEADLINE_UNCONFIRMED
    elif meta.get("deadline_at_period_end"):
        deadline = msg.DEADLINE_AT_PERIOD_END
    if completion := meta.get("completion_deadlines"):
        # Work due by a date is shown beside the report deadline, never as it.
        dates = ", ".join(msg.day(date.fromisoformat(day)) for day in completion)
        deadline = (deadline or msg.MISSING) + msg.DEADLINE_COMPLETION.format(dates=dates)
    period = None
    if directive.period_start or directive.period_end:
        period = f"{msg.day(directive.period_start)} – {msg.day(directive.period_end)}"
    return {
        "number": directive.number,
        "parent_body": directive.parent_body,
        "issuer": directive.issuer,
        "place": directive.place,
        "issued_on": msg.day(directive.issued_on) if directive.issued_on else None,
        "subject": directive.subject,
        "recipients": meta.get("recipients"),
        "cited": "; ".join(meta.get("cited") or []) or None,
        "materials": "; ".join(meta.get("materials") or []) or None,
        "period": period,
        "deadline": deadline,
        "schedule": cycles.preview_text(directive),
        "signer": meta.get("signer"),
    }


async def attach(session: AsyncSession, directive_id: int, file: OutFile) -> None:
    """Attach a stored file under the name it came with: equal bytes stored earlier may carry another name."""
    position = await session.scalar(
        select(func.count()).select_from(DirectiveFile).where(DirectiveFile.directive_id == directive_id)
    )
    session.add(
        DirectiveFile(directive_id=directive_id, sha256=file.sha256, position=position or 0, name=file.name)
    )


async def files_of(session: AsyncSession, directive_id: int, under: str | None = None) -> list[OutFile]:
    """The directive's files; with `under` (a unit's path), followed by those the boards of the units on that
    path added to it when it was handed to them (bot.services.levels), the upper unit's first."""
    rows = await session.execute(
        select(StoredFile, DirectiveFile.name)
        .join(DirectiveFile, DirectiveFile.sha256 == StoredFile.sha256)
        .where(DirectiveFile.directive_id == directive_id)
        .order_by(DirectiveFile.position)
    )
    found = [(f, name) for f, name in rows.all()]
    chain = [int(part) for part in (under or "").strip("/").split("/") if part]
    if chain:
        added = await session.execute(
            select(StoredFile, HandoffFile.name, HandoffFile.unit_id)
            .join(HandoffFile, HandoffFile.sha256 == StoredFile.sha256)
            .where(HandoffFile.directive_id == directive_id, HandoffFile.unit_id.in_(chain))
            .order_by(HandoffFile.position)
        )
        ordered = sorted(added.all(), key=lambda row: chain.index(row[2]))  # stable: positions kept per unit
        found += [(f, name) for f, name, _ in ordered]
    return [
        OutFile(f.sha256, name or f.name, f.mime, f.size, as_photo=f.mime.startswith("image/"))
        for f, name in found
    ]


# -- scope and audience -----------------------------------------------------------------------------------------


async def scope_units(session: AsyncSession, roles: list[Role]) -> list[Unit]:
    """The roots of what a board member may address: their units, or every top unit for an administrator."""
    if any(r.kind == "admin" for r in roles):
        return list(
            (await session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))).all()
        )
    ids = [r.unit_id for r in roles if r.kind == "board" and r.unit_id is not None]
    if not ids:
        return []
    return list((await session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name))).all())


def _under(units: list[Unit]) -> Any:
    return or_(*(Unit.path.startswith(u.path) for u in units))


async def cells_under(session: AsyncSession, units: list[Unit]) -> list[int]:
    if not units:
        return []
    query = (
        select(Unit.id)
        .where(Unit.is_cell.is_(True), Unit.active.is_(True), _under(units))
        .order_by(Unit.path)
    )
    return list((await session.scalars(query)).all())


async def children_with_cell_counts(session: AsyncSession, parent: Unit) -> list[tuple[Unit, int]]:
    """The parent's direct children, each with the number of active cells in its subtree (one query)."""
    cell = aliased(Unit)
    rows = await session.execute(
        select(Unit, func.count(cell.id))
        .outerjoin(cell, cell.path.startswith(Unit.path) & cell.is_cell.is_(True) & cell.active.is_(True))
        .where(Unit.parent_id == parent.id)
        .group_by(Unit.id)
        .order_by(Unit.name)
    )
    return [(unit, count) for unit, count in rows.all()]


def split_codes(text: str) -> list[str]:
    """Unit codes typed in one line ("DUK-SYT, DUK-BAO; DUK-STC-VP"), in order."""
    return [code for code in re.split(r"[\s,;]+", text) if code]


async def units_by_codes(
    session: AsyncSession, codes: list[str], scope: list[Unit]
) -> tuple[list[Unit], list[str]]:
    """The units with these codes inside `scope`, and the codes that are unknown or outside it."""
    if not codes or not scope:
        return [], codes
    found = (await session.scalars(select(Unit).where(Unit.code.in_(codes), _under(scope)))).all()
    known = {u.code for u in found}
    return list(found), [c for c in codes if c not in known]


async def recipients(session: AsyncSession, cell_ids: list[int]) -> list[Recipient]:
    """Each cell's secretary and the account to reach them on: their pinned channel, else the one used last."""
    rows = await session.execute(
        select(Role.unit_id, Person.id, Person.preferred_channel, ChannelAccount)
        .join(Person, Person.id == Role.person_id)
        .outerjoin(ChannelAccount, (ChannelAccount.person_id == Person.id) & ChannelAccount.active.is_(True))
        .where(Role.kind == "secretary", Role.unit_id.in_(cell_ids))
    )
    best: dict[int, Recipient] = {}
    seen: dict[int, tuple[bool, Any]] = {}
    for unit_id, person_id, pinned, account in rows.all():
        if unit_id is None:  # excluded by the filter on cells; said again for the type checker
            continue
        if account is None:
            best.setdefault(unit_id, Recipient(unit_id, person_id, None, None))
            continue
        rank = (account.channel == pinned, account.last_seen_at)
        if unit_id not in seen or rank > seen[unit_id]:
            seen[unit_id] = rank
            best[unit_id] = Recipient(
                unit_id, person_id, account.channel, account.chat_id, account.last_seen_at
            )
    return [best.get(uid, Recipient(uid, None, None, None)) for uid in cell_ids]


async def plan(session: AsyncSession, cell_ids: list[int]) -> Plan:
    people = await recipients(session, cell_ids)
    reachable = sum(1 for r in people if r.chat_id)
    return Plan(cells=len(cell_ids), reachable=reachable, unregistered=len(cell_ids) - reachable)


# -- the card and the broadcast -------------------------------------------------------------------------------


def card_parts(directive: Directive, files: list[OutFile], form: FormSpec | None) -> list[Reply]:
    """What a cell receives: the card with its buttons and every file, as one message to lay out per channel."""
    meta = directive.meta or {}
    kind = msg.KINDS.get(directive.doc_type or "", msg.KIND_DEFAULT)
    subject = directive.subject or ""  # never the parser's hint: the sender types it or takes it (intake)
    lines = [
        msg.CARD.format(
            kind=kind, number=directive.number or "", date=msg.day(directive.issued_on), subject=subject
        )
    ]
    replaces = meta.get("replaces")
    if isinstance(
        replaces, dict
    ):  # a correction: the cells that had the old one must know this one replaces it
        lines.insert(0, msg.CARD_CORRECTION.format(number=replaces.get("number") or ""))
    if directive.deadline:
        lines.append(msg.CARD_DEADLINE.format(deadline=msg.day(directive.deadline)))
    if schedule := cycles.schedule_of(directive):
        lines.append(cycle_msg.SCHEDULE_LINE.format(schedule=schedule.describe()))
    if directive.period_start and directive.period_end:
        lines.append(
            msg.CARD_PERIOD.format(start=msg.day(directive.period_start), end=msg.day(directive.period_end))
        )
    lines.append(msg.CARD_TODO)
    if form is not None:
        lines.append(msg.CARD_QUICK.format(template=form.quick_template()))
    if files:
        lines.append(msg.CARD_FILES.format(count=len(files)))
    buttons = [
        [Button(msg.BUTTON_ACK, f"ack:{directive.id}"), Button(msg.BUTTON_REPORT, f"rep:{directive.id}")]
    ]
    # One message as far as the channel allows: the outbox lays it out per channel (services.outbox), e.g. on
    # Telegram the card as the caption of the first file with the buttons, the other files as a media group.
    first = files[0] if files else None
    return [Reply(text="\n".join(lines), buttons=buttons, file=first, group=files[1:])]


async def queue_broadcast(
    session: AsyncSession,
    clock: Clock,
    directive: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
    *,
    actor: str,
    person_id: int | None = None,
) -> Plan:
    """Write every target and delivery row before anything is sent: the outbox does the rest."""
    queued = await queue_cells(session, clock, directive, cell_ids, form)
    directive.status = DirectiveStatus.SENDING
    directive.sent_at = clock.now()
    await settle(session, [directive.id])  # nobody reachable: nothing left to deliver
    await audit(
        session,
        clock,
        "directive.send",
        person_id=person_id,
        actor=actor,
        details={"directive_id": directive.id, "cells": len(cell_ids), "queued": queued},
    )
    return Plan(cells=len(cell_ids), reachable=queued, unregistered=len(cell_ids) - queued)


async def queue_cells(
    session: AsyncSession,
    clock: Clock,
    directive: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
    under: str | None = None,
) -> int:
    """One target row per cell and one delivery row per reachable secretary; how many deliveries were queued.
    `under`: the path of the unit whose board forwarded it (its files and its upper units' go with it)."""
    files = await files_of(session, directive.id, under)
    parts = card_parts(directive, files, form)
    people = await recipients(session, cell_ids)
    addresses = [Address(r.channel, r.chat_id, r.unit_id) for r in people if r.channel and r.chat_id]
    reached = {a.unit_id for a in addresses}
    targets = [
        {
            "directive_id": directive.id,
            "unit_id": r.unit_id,
            "delivery": UNDELIVERED if r.unit_id in reached else "unregistered",
        }
        for r in people
    ]
    if targets:
        await session.execute(insert(DirectiveTarget), targets)
    return await enqueue_many(session, clock, addresses, parts, kind=DIRECTIVE, directive_id=directive.id)


def resume_sending(directive: Directive) -> None:
    """More deliveries were queued for a directive already out (`repeats.add_cells`): sending until settled."""
    directive.status = DirectiveStatus.SENDING


def mark_replaced(old: Directive, correction_id: int) -> None:
    """A correction took the place of `old` (`repeats.replace`): it is never open again."""
    old.status = DirectiveStatus.REPLACED
    old.meta = {**(old.meta or {}), "replaced_by": correction_id}


def cancel(draft: Directive) -> None:
    """Drop a draft: it will never be sent."""
    draft.status = DirectiveStatus.CANCELLED


async def settle(session: AsyncSession, directive_ids: Iterable[int] | None = None) -> None:
    """Mark sent those of these directives (None: all) that are sending and have no target left to deliver to.

    The outbox only records what happened to each delivery; whoever finishes deliveries (the sender, after
    recording them; a broadcast that reached nobody) calls this, so a directive ends sent however it was queued.
    The sender also settles them all when it starts, for those a crash or an older version left sending."""
    undelivered = (
        select(DirectiveTarget.directive_id)
        .where(DirectiveTarget.directive_id == Directive.id, DirectiveTarget.delivery == UNDELIVERED)
        .exists()
    )
    which = Directive.status == DirectiveStatus.SENDING
    if directive_ids is not None:
        ids = sorted(set(directive_ids))
        if not ids:
            return
        which = which & Directive.id.in_(ids)
    await session.execute(
        update(Directive)
        .where(which, ~undelivered)
        .values(status=DirectiveStatus.SENT)
        .execution_options(synchronize_session="fetch")
    )


async def delivery_counts(session: AsyncSession, directive_id: int) -> Counter[str]:
    rows = await session.execute(
        select(DirectiveTarget.delivery, func.count())
        .where(DirectiveTarget.directive_id == directive_id)
        .group_by(DirectiveTarget.delivery)
    )
    return Counter({status: count for status, count in rows.all()})


async def unreachable(
    session: AsyncSession, directive_id: int
) -> list[tuple[Unit, str | None, str, str | None]]:
    """Cells that did not get the directive: unit, secretary name, why, and the error text."""
    rows = await session.execute(
        select(Unit, Person.full_name, DirectiveTarget.delivery, DirectiveTarget.delivery_error)
        .join(Unit, Unit.id == DirectiveTarget.unit_id)
        .outerjoin(Role, (Role.unit_id == Unit.id) & (Role.kind == "secretary"))
        .outerjoin(Person, Person.id == Role.person_id)
        .where(
            DirectiveTarget.directive_id == directive_id,
            DirectiveTarget.delivery.in_(("held", "blocked", "failed", "unregistered")),
        )
        .order_by(Unit.path)
    )
    return [(u, name, status, error) for u, name, status, error in rows.all()]


async def catch_up(
    session: AsyncSession, clock: Clock, unit_ids: list[int], channel: str, chat_id: str
) -> int:
    """Queue the directives a cell missed because its secretary had not joined yet; returns how many."""
    if not unit_ids:
        return 0
    rows = (
        await session.execute(
            select(DirectiveTarget, Directive, Unit.path)
            .join(Directive, Directive.id == DirectiveTarget.directive_id)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(
                DirectiveTarget.unit_id.in_(unit_ids),
                DirectiveTarget.delivery == "unregistered",
                Directive.status.in_(OUT),
            )
            .order_by(Directive.sent_at)
        )
    ).all()
    for target, directive, path in rows:
        files = await files_of(session, directive.id, path)
        parts = card_parts(directive, files, await get_form(session, directive.form_key))
        enqueue(
            session,
            clock,
            channel,
            chat_id,
            parts,
            kind=DIRECTIVE,
            directive_id=directive.id,
            unit_id=target.unit_id,
        )
        target.delivery = UNDELIVERED
    return len(rows)
