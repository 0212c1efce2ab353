"""The board's progress message while a scan is read: one message as the reading starts, then a line every few
pages (`messages.scans.PAGES_PER_UPDATE`), an edit where the platform edits and a new message where it cannot
(Zalo), so a long scan never floods the chat. Sent at once, not through the outbox: it is a courtesy about work
in progress, worth nothing once the preview arrives, and it must not wait for the handler's transaction."""

from __future__ import annotations

import logging

from bot.core.events import DeliveryError, Reply
from bot.services.reading import Progress
from handlers.context import Context
from messages import scans as msg

log = logging.getLogger(__name__)


def progress_for(ctx: Context, name: str) -> Progress:
    """What `read_document` calls with each page of a scan it reads for the sender of `ctx`'s event."""
    channel = ctx.runtime.channels[ctx.event.channel]
    chat_id = ctx.event.chat_id
    message_id: str | None = None

    async def told(done: int, total: int) -> None:
        nonlocal message_id
        try:
            if done == 0:
                sent = await channel.send(chat_id, Reply(text=msg.READING.format(name=name, pages=total)))
                message_id = sent.message_id
            elif done < total and done % msg.PAGES_PER_UPDATE == 0 and message_id is not None:
                text = msg.READING_PAGES.format(name=name, done=done, total=total)
                await channel.edit(chat_id, message_id, Reply(text=text))
        except DeliveryError as exc:  # a courtesy: the read goes on, the preview follows anyway
            log.info("progress of reading %s not sent: %s", name, exc)

    return told
