"""Typed answers to numbered choices, for channels without buttons (Zalo): "2", or the words of an option without
diacritics, answer the choices of the last message the bot sent to that chat, as if the button had been pressed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Incoming
from bot.core.textnorm import fold, small_number
from storage.models import Outbox

_NOT_WORDS = re.compile(r"[^\w\s/]+")


def _label_key(label: str) -> str:
    return " ".join(_NOT_WORDS.sub(" ", fold(label)).split())


def _last_buttons(parts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    # Whatever the row's recorded progress (it is written in batches), a person answering has seen the last part;
    # the choices are on the last part that has any (a media group after a card carries none).
    offered: list[list[list[str]]] = next((p["buttons"] for p in reversed(parts) if p.get("buttons")), [])
    return [(label, data) for row in offered for label, data in row]


async def resolve_typed_choice(session: AsyncSession, event: Incoming) -> Incoming:
    """`event` turned into a button press when its text picks one of the last offered choices; else unchanged."""
    if not event.text or event.command or event.button:
        return event
    offered = await last_offered(session, event.channel, [event.chat_id])
    return typed_choice(event, offered.get(event.chat_id, []))


async def last_offered(
    session: AsyncSession, channel: str, chat_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The parts of the last message sent (or being sent) to each chat, in one query."""
    last = (
        select(func.max(Outbox.id))
        .where(
            Outbox.channel == channel,
            Outbox.chat_id.in_(list(set(chat_ids))),
            Outbox.status.in_(("sent", "sending")),
        )
        .group_by(Outbox.chat_id)
    )
    rows = await session.execute(select(Outbox.chat_id, Outbox.parts).where(Outbox.id.in_(last)))
    return {chat_id: parts for chat_id, parts in rows}


def typed_choice(event: Incoming, last_parts: list[dict[str, Any]]) -> Incoming:
    """`event` as the press of the button its text picks among the last message's choices; else unchanged."""
    if not event.text or event.command or event.button:
        return event
    buttons = _last_buttons(last_parts)
    key = _label_key(event.text)
    data = None
    number = small_number(key)
    if number is not None and 1 <= number <= len(buttons):
        data = buttons[number - 1][1]
    else:
        matches = [d for label, d in buttons if _label_key(label) == key]
        data = matches[0] if len(matches) == 1 else None
    return dataclasses.replace(event, button=data, text=None) if data else event
