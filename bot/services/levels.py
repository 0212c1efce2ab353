"""Levels: a directive flows down a tree of any depth and each level's board acts on it. When a board sends a
directive, the cells under a unit below it that has its own board staff joined are not sent it directly: that unit's
board receives it (a `Handoff`), then re-issues it as its own directive with an earlier deadline or forwards it
unchanged (a recurring one is re-issued recurring: bot/services/cycles.py `follow`); what comes back up (each
unit's action and progress, its report upward, per period) is bot/services/upward.py. The
same code serves a province, a commune and a bloc: no level has a name here, only units and who staffs them
(docs/design.md, Levels).

A unit below whose board staff is on the roster but none has joined yet is the upper board's choice
(`Unstaffed`): its cells get the directive directly, or it is held (a `held` handoff) and handed to the first of its
board members to join (`catch_up`). A board forwarding may add its own files (`HandoffFile`), which go with the
directive to the cells under its unit (`directives.files_of(..., under=path)`). More cells for a directive handed
down, and a correction of it, go down the same way (bot/services/level_repeats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Row, Select, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.events import Button, OutFile, Reply
from bot.services import cycles, directives, unit_changes
from bot.services.audit import audit
from bot.services.forms import FormSpec
from bot.services.outbox import REPLY, enqueue
from messages import directives as dmsg
from messages import levels as msg
from storage.models import ChannelAccount, Directive, DirectiveTarget, Handoff, HandoffFile, Role, Unit

PENDING, FORWARDED, REISSUED, HELD = "pending", "forwarded", "reissued", "held"


class Unstaffed(StrEnum):
    """What the upper board chose for the units below whose board staff has not joined yet."""

    DIRECT = "direct"  # their cells get the directive directly, as where a unit has no board at all
    HOLD = "hold"  # kept for their board: handed to the first of its members to join


def choice_of(text: str) -> Unstaffed | None:
    """The choice a form or the shell wrote ("direct", "hold"), None for anything else."""
    return next((u for u in Unstaffed if u.value == text), None)


@dataclass(frozen=True)
class Split:
    """A broadcast's cells: those sent directly, those handed to the board of a unit below (by unit), and those
    under a unit whose board staff has not joined (by unit: direct or held, as the upper board chooses)."""

    direct: list[int]
    handed: dict[int, list[int]]
    unstaffed: dict[int, list[int]] = field(default_factory=dict)

    def route(self, choice: Unstaffed | None) -> Route:
        """How these cells go as the board chose for the units whose board has not joined (None: not asked yet,
        their cells counted apart)."""
        waiting = sum(len(cells) for cells in self.unstaffed.values())
        direct = len(self.direct) + (waiting if choice is Unstaffed.DIRECT else 0)
        handed = sum(len(cells) for cells in self.handed.values())
        if choice is Unstaffed.DIRECT:
            return Route(direct, handed, len(self.handed))
        return Route(direct, handed, len(self.handed), waiting, len(self.unstaffed), choice)

    def sent_directly(self, choice: Unstaffed | None) -> list[int]:
        """The cells the sender queues itself: those under a unit whose board has not joined only once the board
        chose to bypass it (before it chose, they are counted apart)."""
        if choice is not Unstaffed.DIRECT:
            return list(self.direct)
        return self.direct + [c for cells in self.unstaffed.values() for c in cells]


@dataclass(frozen=True)
class Route:
    """What the board is told of a send, before and after: the cells it reaches directly, those that go through
    the boards of units below (and how many boards), and those under units whose board has not joined: held for
    it (`choice` HOLD) or, before the board chose (None), counted apart."""

    direct: int
    handed: int = 0
    boards: int = 0
    waiting: int = 0
    waiting_units: int = 0
    choice: Unstaffed | None = None

    @property
    def only_direct(self) -> bool:
        return not (self.handed or self.waiting)


@dataclass(frozen=True)
class Down:
    """What a send did: the cells queued directly, the units whose board got it, the units held for their board,
    and the units with board staff not joined whose cells got it directly."""

    plan: directives.Plan
    handed: list[Unit] = field(default_factory=list)
    held: list[Unit] = field(default_factory=list)
    bypassed: list[Unit] = field(default_factory=list)
    route: Route | None = None  # the cells as they went (more cells, a correction: level_repeats.More)


def _with_board(under: Unit | None) -> Select[Unit]:
    """Committees strictly below `under` (None: below the top units) with board staff on the roster."""
    query = (
        select(Unit)
        .join(Role, (Role.unit_id == Unit.id) & (Role.kind == "board"))
        .where(Unit.active.is_(True), Unit.is_cell.is_(False))
        .distinct()
    )
    if under is None:
        return query.where(Unit.parent_id.is_not(None))
    return query.where(Unit.path.startswith(under.path), Unit.id != under.id)


async def _staffed(session: AsyncSession, under: Unit | None) -> list[Unit]:
    """Units strictly below `under` whose board staff has joined the bot."""
    joined = _with_board(under).join(
        ChannelAccount, (ChannelAccount.person_id == Role.person_id) & ChannelAccount.active.is_(True)
    )
    return list((await session.scalars(joined)).all())


async def _unjoined(session: AsyncSession, under: Unit | None, joined: list[Unit]) -> list[Unit]:
    """Units strictly below `under` with board staff on the roster, none of whom has joined the bot."""
    skip = {u.id for u in joined}
    return [u for u in (await session.scalars(_with_board(under))).all() if u.id not in skip]


async def split(session: AsyncSession, sender: Unit | None, cell_ids: list[int]) -> Split:
    """Each cell goes to the nearest staffed unit between it and the sender (that board hands it on further
    down in its turn); else, under a unit whose board staff has not joined, it waits for the upper board's
    choice; else directly."""
    staffed = await _staffed(session, sender)
    unjoined = await _unjoined(session, sender, staffed)
    if not (staffed or unjoined) or not cell_ids:
        return Split(list(cell_ids), {})
    # The cells' paths by one prefix read of the subtrees, never a parameter per cell (10,000 and more).
    under = or_(*(Unit.path.startswith(u.path) for u in staffed + unjoined))
    wanted = set(cell_ids)
    rows = await session.execute(select(Unit.id, Unit.path).where(Unit.is_cell.is_(True), under))
    paths = {uid: path for uid, path in rows.all() if uid in wanted}
    direct: list[int] = []
    handed: dict[int, list[int]] = {}
    waiting: dict[int, list[int]] = {}
    staffed_ids, unjoined_ids = {u.id for u in staffed}, {u.id for u in unjoined}
    for cell in cell_ids:
        # A path lists the ancestors from the top: the first staffed one is the nearest below the sender.
        ancestors = [int(part) for part in paths.get(cell, "").strip("/").split("/") if part]
        owner = next((a for a in ancestors if a in staffed_ids), None)
        held_by = next((a for a in ancestors if a in unjoined_ids), None)
        if owner is not None:
            handed.setdefault(owner, []).append(cell)
        elif held_by is not None:
            waiting.setdefault(held_by, []).append(cell)
        else:
            direct.append(cell)
    return Split(direct, handed, waiting)


async def split_of(session: AsyncSession, directive: Directive, cell_ids: list[int]) -> Split:
    """These cells split as a send of `directive` from its board's unit would split them."""
    sender = await session.get(Unit, directive.unit_id) if directive.unit_id else None
    return await split(session, sender, cell_ids)


async def unstaffed(session: AsyncSession, directive: Directive, cell_ids: list[int]) -> list[Unit]:
    """The units below the sender, among these cells', whose board staff has not joined: the upper board chooses
    whether their cells get the directive directly or it waits for their board (`Unstaffed`)."""
    return await _named(session, list((await split_of(session, directive, cell_ids)).unstaffed))


async def broadcast(
    session: AsyncSession,
    clock: Clock,
    directive: Directive,
    cell_ids: list[int],
    form: FormSpec | None,
    *,
    actor: str,
    person_id: int | None = None,
    choice: Unstaffed = Unstaffed.DIRECT,
) -> Down:
    """Send a board's directive down: directly to the cells no board below stands between, to the boards of the
    units below for the others; under a unit whose board has not joined, directly or held for it as the board
    chose. A re-issue is recorded on the upper directive it carries out."""
    parts = await split_of(session, directive, cell_ids)
    direct = parts.sent_directly(choice)
    plan = await directives.queue_broadcast(
        session, clock, directive, direct, form, actor=actor, person_id=person_id
    )
    handed = await hand_down(session, clock, directive, list(parts.handed))
    waiting = await _named(session, list(parts.unstaffed))
    if choice is Unstaffed.HOLD and waiting:
        await _insert(session, clock, directive, [u.id for u in waiting], HELD)
    await _record_reissue(session, clock, directive)
    if choice is Unstaffed.HOLD:
        return Down(plan, handed, held=waiting, route=parts.route(choice))
    return Down(plan, handed, bypassed=waiting, route=parts.route(choice))


async def _named(session: AsyncSession, unit_ids: list[int]) -> list[Unit]:
    if not unit_ids:
        return []
    return list((await session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name))).all())


async def _insert(
    session: AsyncSession, clock: Clock, directive: Directive, unit_ids: list[int], action: str
) -> None:
    now = clock.now()
    await session.execute(
        insert(Handoff),
        [
            {"directive_id": directive.id, "unit_id": u, "received_at": now, "action": action}
            for u in unit_ids
        ],
    )


async def hand_down(
    session: AsyncSession, clock: Clock, directive: Directive, unit_ids: list[int]
) -> list[Unit]:
    """The directive handed to the boards of these units: a handoff row each and the card to every board member."""
    if not unit_ids:
        return []
    await _insert(session, clock, directive, unit_ids, PENDING)
    units = await _named(session, unit_ids)
    for unit in units:
        parts = card(directive, unit, await directives.files_of(session, directive.id, unit.path))
        for channel, chat_id in await board_chats(session, unit.id):
            enqueue(session, clock, channel, chat_id, parts, kind=REPLY)
    return units


async def catch_up(session: AsyncSession, clock: Clock, unit_ids: list[int]) -> list[Reply]:
    """A board member of these units joined: the upper directives held for their board (or for a unit merged
    into theirs since) are handed to it now, and those handed before they joined and not acted on yet come to
    them too; the cards to send them."""
    if not unit_ids:
        return []
    rows = await _handed(
        session,
        Handoff.unit_id.in_(await unit_changes.predecessors(session, unit_ids)),
        Handoff.action.in_((HELD, PENDING)),
    )
    now = clock.now()
    cards: list[Reply] = []
    carded: set[int] = set()
    for handed, directive, unit in rows:
        parts = await _taken_up(session, now, handed, directive, unit)
        if directive.id not in carded:  # one card per directive: acting on it acts for every unit merged in
            carded.add(directive.id)
            cards += parts
    return cards


async def hand_held_on(session: AsyncSession, clock: Clock) -> dict[int, int]:
    """At a merge or a split: the upper directives held for a unit retired since, whose successor's board has
    joined already, are handed to that board now (else they would wait for someone new to join, who may never
    come); the card to every member. How many went to each successor (by unit id); the others stay held for
    `catch_up`."""
    rows = await _handed(session, Handoff.action == HELD, Unit.successor_id.is_not(None))
    now = clock.now()
    handed_to: dict[int, int] = {}
    for handed, directive, unit in rows:
        standing = await unit_changes.current(session, unit)
        chats = await board_chats(session, standing.id)
        if not chats:
            continue
        # A card still waiting to be acted on covers this unit too (acting on it acts for every unit merged in);
        # a board that acted already gets the card again, as this unit's cells are not reached yet.
        waiting = any(h.action == PENDING for h in await handoffs_of(session, directive.id, standing.id))
        parts = await _taken_up(session, now, handed, directive, unit)
        if waiting:
            continue
        for channel, chat_id in chats:
            enqueue(session, clock, channel, chat_id, parts, kind=REPLY)
        handed_to[standing.id] = handed_to.get(standing.id, 0) + 1
    return handed_to


async def _handed(
    session: AsyncSession, *conditions: ColumnElement[bool]
) -> Sequence[Row[Handoff, Directive, Unit]]:
    """The handoffs meeting `conditions`, each with its directive and unit, oldest first."""
    rows = await session.execute(
        select(Handoff, Directive, Unit)
        .join(Directive, Directive.id == Handoff.directive_id)
        .join(Unit, Unit.id == Handoff.unit_id)
        .where(*conditions)
        .order_by(Handoff.received_at)
    )
    return rows.all()


async def _taken_up(
    session: AsyncSession, now: datetime, handed: Handoff, directive: Directive, unit: Unit
) -> list[Reply]:
    """A handoff reaching a board now (held until now: handed from now on); its card."""
    if handed.action == HELD:
        handed.action, handed.received_at = PENDING, now
    standing = await unit_changes.current(session, unit)  # a retired unit's card names its successor
    files = await directives.files_of(session, directive.id, standing.path)
    return card(directive, standing, files, handed_to=unit.id)


def card(
    directive: Directive,
    unit: Unit,
    files: list[OutFile],
    handed_to: int | None = None,
    done: str | None = None,
) -> list[Reply]:
    """The card of an upper directive for `unit`'s board (headed as a correction when it replaces one): asking
    it to act, with the buttons naming the unit it was handed to (`handed_to`, a unit merged since; by default
    `unit`); or, `done`, saying what came of what the board did already, without buttons."""
    text = msg.HANDED.format(
        unit=unit.name,
        kind=dmsg.KINDS.get(directive.doc_type or "", dmsg.KIND_DEFAULT),
        number=directive.number or "",
        date=msg.day(directive.issued_on),
        issuer=msg.issuer_of(directive.parent_body, directive.issuer),
        subject=directive.subject or "",
        deadline=msg.day(directive.deadline),
    )
    replaces = (directive.meta or {}).get("replaces")
    if isinstance(replaces, dict):
        text = msg.CORRECTION_HEAD.format(old=replaces.get("number") or "") + "\n" + text
    text += "\n" + (done or msg.HANDED_ASK)
    if files:
        text += "\n" + msg.HANDED_FILES.format(count=len(files))
    buttons = [] if done else act_buttons(directive.id, unit.id if handed_to is None else handed_to)
    return [Reply(text=text, buttons=buttons, file=files[0] if files else None, group=files[1:])]


def act_buttons(directive_id: int, unit_id: int) -> list[list[Button]]:
    """Re-issue, forward, or forward with the unit's own files: on the card, and on the reminder (on the Zalo Bot
    Platform a typed choice answers the last message only). Built here as directives.card_parts builds `ack:`;
    handlers/buttons.py reads them (ReissueUpper, ForwardUpper, ForwardWithFiles)."""
    return [
        [Button(msg.BUTTON_REISSUE, f"hr:{directive_id}:{unit_id}")],
        [Button(msg.BUTTON_FORWARD, f"hf:{directive_id}:{unit_id}")],
        [Button(msg.BUTTON_FORWARD_FILES, f"ha:{directive_id}:{unit_id}")],
    ]


async def board_chats(session: AsyncSession, unit_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(ChannelAccount.channel, ChannelAccount.chat_id)
        .join(Role, (Role.person_id == ChannelAccount.person_id) & (Role.kind == "board"))
        .where(Role.unit_id == unit_id, ChannelAccount.active.is_(True))
    )
    return sorted(set(rows.all()))


async def handoff(session: AsyncSession, directive_id: int, unit_ids: list[int]) -> Handoff | None:
    """The handoff of this directive to one of these units (a board member's), if it was handed to one."""
    if not unit_ids:
        return None
    return await session.scalar(
        select(Handoff).where(Handoff.directive_id == directive_id, Handoff.unit_id.in_(unit_ids))
    )


async def forward(
    session: AsyncSession,
    clock: Clock,
    handed: Handoff,
    form: FormSpec | None,
    *,
    actor: str,
    person_id: int | None,
    files: list[OutFile] | None = None,
) -> tuple[int, list[Unit]]:
    """The upper directive forwarded unchanged to the unit's cells (handed further down where a board stands
    between), with the unit's own `files` after its own; how many cells it was queued for and the units it was
    handed to."""
    directive = await session.get(Directive, handed.directive_id)
    unit = await session.get(Unit, handed.unit_id)
    assert directive is not None and unit is not None
    unit = await unit_changes.current(session, unit)  # merged or split since: its main successor's cells
    for position, file in enumerate(files or []):
        session.add(
            HandoffFile(
                directive_id=directive.id,
                unit_id=unit.id,
                sha256=file.sha256,
                position=position,
                name=file.name,
            )
        )
    await session.flush()
    cells = await _not_reached(session, directive, unit)
    parts = await split(session, unit, cells)
    direct = parts.direct + [c for cells in parts.unstaffed.values() for c in cells]
    queued = 0
    if direct:
        await directives.queue_cells(session, clock, directive, direct, form, unit.path)
        directives.resume_sending(directive)
        await directives.settle(session, [directive.id])
        queued = len(direct)
    units = await hand_down(session, clock, directive, list(parts.handed))
    # The cells of the units merged into this one were reached too: their handoffs waiting are carried out.
    group = await handoffs_of(session, directive.id, unit.id)
    for done in [handed, *(h for h in group if h.action in (PENDING, HELD))]:
        done.action, done.acted_at = FORWARDED, clock.now()
    await audit(
        session,
        clock,
        "directive.forward",
        person_id=person_id,
        actor=actor,
        details={
            "directive_id": directive.id,
            "unit_id": unit.id,
            "cells": queued,
            "files": len(files or []),
        },
    )
    return queued, units


async def _not_reached(session: AsyncSession, directive: Directive, unit: Unit) -> list[int]:
    """The cells under `unit` the directive has not reached yet, nor been handed toward (a unit below it held or
    handed it already, as when it was held here and a board below had its own)."""
    targeted = set(
        (
            await session.scalars(
                select(DirectiveTarget.unit_id).where(DirectiveTarget.directive_id == directive.id)
            )
        ).all()
    )
    cells = [c for c in await directives.cells_under(session, [unit]) if c not in targeted]
    others = (
        await session.scalars(
            select(Unit)
            .join(Handoff, Handoff.unit_id == Unit.id)
            .where(Handoff.directive_id == directive.id, Unit.path.startswith(unit.path), Unit.id != unit.id)
        )
    ).all()
    if not others:
        return cells
    elsewhere = set(await directives.cells_under(session, list(others)))
    return [c for c in cells if c not in elsewhere]


def implements_line(upper: Directive) -> str:
    """«Thực hiện Công văn số 1818-CV/TU ngày 25/3/2024 của Ban Thường vụ Tỉnh ủy ...»"""
    return msg.IMPLEMENTS.format(
        kind=dmsg.KINDS.get(upper.doc_type or "", dmsg.KIND_DEFAULT),
        number=upper.number or "",
        date=msg.day(upper.issued_on),
        issuer=msg.issuer_of(upper.parent_body, upper.issuer),
    )


async def reissue_draft(
    session: AsyncSession, clock: Clock, handed: Handoff, *, created_by: int | None, today: date
) -> Directive:
    """The lower board's own draft carrying out the upper directive: its subject, files and the «Thực hiện ...»
    line prefilled, issued today by the unit; the number and an earlier deadline are the board's to give."""
    upper = await session.get(Directive, handed.directive_id)
    unit = await session.get(Unit, handed.unit_id)
    assert upper is not None and unit is not None
    unit = await unit_changes.current(session, unit)  # merged or split since: its main successor re-issues
    line = implements_line(upper)
    draft = Directive(
        status="draft",
        created_by=created_by,
        unit_id=unit.id,
        created_at=clock.now(),
        form_key=upper.form_key,
        doc_type=upper.doc_type,
        issuer=unit.name,
        issued_on=today,
        subject=upper.subject,
        period_start=upper.period_start,
        period_end=upper.period_end,
        deadline=upper.deadline,
        body_text=line,
        meta={
            "upper_id": upper.id,
            "upper_deadline": upper.deadline.isoformat() if upper.deadline else None,
            # The upper period it carries out (a recurring directive's open one): its report upward answers it.
            "upper_cycle": upper.cycle,
            "implements": line,
            "cited": [line.removeprefix("Thực hiện ")],
            "deadline_confirmed": False,
            # A recurring upper directive is re-issued recurring: the preview says so; at the send it follows
            # the upper one's periods (`_record_reissue`). Always: a one-off re-issue would leave its cells
            # nothing in later periods, and its board nothing to report up for them.
            "schedule": (upper.meta or {}).get("schedule"),
        },
    )
    session.add(draft)
    await session.flush()
    for f in await directives.files_of(session, upper.id, unit.path):
        await directives.attach(session, draft.id, f)
    return draft


def upper_deadline(draft: Directive) -> date | None:
    """The deadline of the upper directive a re-issue carries out: its own may not be later."""
    value = (draft.meta or {}).get("upper_deadline")
    return date.fromisoformat(value) if isinstance(value, str) else None


def after_upper(draft: Directive, deadline: date) -> bool:
    upper = upper_deadline(draft)
    return upper is not None and deadline > upper


async def _record_reissue(session: AsyncSession, clock: Clock, directive: Directive) -> None:
    """A re-issue sent: recorded on the upper directive's handoffs to its unit and to the units merged into it
    since that had not been acted on (one re-issue carries it out for all of them). An upper directive corrected
    meanwhile is carried out through its correction, which holds its handoffs now (`pass_on`)."""
    upper_id = (directive.meta or {}).get("upper_id")
    if not isinstance(upper_id, int) or directive.unit_id is None:
        return
    upper = await in_force(session, upper_id)
    if upper is None:
        return
    cycles.follow(directive, upper, upper_deadline(directive))  # a recurring upper one's periods, if any
    group = await handoffs_of(session, upper.id, directive.unit_id)
    for handed in [h for h in group if h.action in (PENDING, HELD)] or group[:1]:
        handed.action, handed.acted_at, handed.reissue_id = REISSUED, clock.now(), directive.id


async def in_force(session: AsyncSession, directive_id: int) -> Directive | None:
    """The directive as it stands today: itself, or the correction that replaced it (and so on)."""
    directive = await session.get(Directive, directive_id)
    for _ in range(unit_changes.MAX_CHAIN):
        later = (directive.meta or {}).get("replaced_by") if directive is not None else None
        if not isinstance(later, int):
            break
        directive = await session.get(Directive, later)
    return directive


async def handoffs_of(session: AsyncSession, directive_id: int, unit_id: int) -> list[Handoff]:
    """This directive's handoffs to the unit and to the units merged into it since: one report upward for all."""
    ids = await unit_changes.predecessors(session, [unit_id])
    rows = await session.scalars(
        select(Handoff).where(Handoff.directive_id == directive_id, Handoff.unit_id.in_(ids))
    )
    return sorted(rows.all(), key=lambda h: (h.unit_id != unit_id, h.unit_id))  # its own first
