"""Rapid reports (báo cáo nhanh): a report on a `rapid` form goes to the board members over its cell at once.

The recipients are the board members whose unit is the cell or one of its ancestors, and the administrators; each
is reached on one account, Zalo first (the platform the board lives on), then the most recently used. The caller
writes the message to the outbox in its own transaction, so the notice goes out when the report is committed and
never for a report that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import ChannelName
from bot.services.forms import FieldType, FormSpec
from bot.services.summary import BOARD_ROLES
from messages import board as msg
from messages.formats import moment
from messages.reports import render_value
from storage.models import ChannelAccount, Directive, Report, Role, Unit

KIND = "rapid"
_ZALO_FIRST = (ChannelName.ZALO.value, ChannelName.ZALO_OA.value)


@dataclass(frozen=True, slots=True)
class Recipient:
    person_id: int
    channel: str
    chat_id: str


async def recipients(session: AsyncSession, unit_id: int) -> list[Recipient]:
    """One account of each board member over the cell (and of each administrator), Zalo first."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        return []
    ancestor_ids = [int(part) for part in unit.path.strip("/").split("/") if part.isdigit()] or [unit.id]
    people = select(Role.person_id).where(
        Role.kind.in_(BOARD_ROLES),
        or_(Role.kind == "admin", Role.unit_id.in_(ancestor_ids)),
    )
    accounts = (
        await session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.person_id.in_(people), ChannelAccount.active.is_(True))
            .order_by(ChannelAccount.person_id, ChannelAccount.last_seen_at.desc())
        )
    ).all()
    chosen: dict[int, ChannelAccount] = {}
    for account in accounts:
        held = chosen.get(account.person_id)
        if held is None or (account.channel in _ZALO_FIRST and held.channel not in _ZALO_FIRST):
            chosen[account.person_id] = account
    return [Recipient(a.person_id, a.channel, a.chat_id) for a in chosen.values()]


def notice(
    form: FormSpec, directive: Directive, unit_name: str, report: Report, values: dict[str, Any], tz: tzinfo
) -> str:
    """The rapid report as the board reads it: who, when, on what, then every answer."""
    lines = [
        msg.RAPID_TITLE.format(unit=unit_name, time=moment(report.submitted_at, tz)),
        msg.RAPID_DIRECTIVE.format(number=directive.number or "", title=form.title, ref=report.ref),
    ]
    for spec in form.quick_fields:
        value = values.get(spec.key)
        if value is None:
            continue
        # The board reads a rapid report in full: free text is not shortened as in a receipt.
        shown = value.strip() if spec.type is FieldType.TEXT and isinstance(value, str) else None
        lines.append(
            msg.RAPID_LINE.format(label=spec.label, value=shown or render_value(spec.type.value, value))
        )
    return "\n".join(lines)
