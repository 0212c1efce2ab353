"""How much text one message can carry on each platform, known by channel name.

Long texts are split, and several files grouped, where an outbox row is built (messages.render.split_long), so each
piece is a part of its own and a retry resumes at the piece that failed; the adapters keep laying out only as a last
resort.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import ChannelName


@dataclass(frozen=True)
class MessageLimits:
    text: int  # characters in one text message
    caption: int | None  # characters under a file; None: the adapter lays out a file's text itself
    group: int = 1  # files one send may carry as a group (Telegram's media group: 2 to 10 of one kind)


LIMITS: dict[str, MessageLimits] = {
    ChannelName.TELEGRAM: MessageLimits(text=4096, caption=1024, group=10),
    ChannelName.ZALO: MessageLimits(text=2000, caption=None),
}
