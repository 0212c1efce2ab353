"""Send pacing per channel: a global rate, a minimum gap per chat, and a pause after a 429."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Hands out send slots: at most `rate` per second overall (0 = unlimited) and one per `chat_interval`
    seconds to the same chat. Slots are reserved before sleeping, so concurrent senders never overshoot."""

    def __init__(self, rate: float, chat_interval: float) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self._next_global = 0.0
        self._next_chat: dict[str, float] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every send on this channel for `seconds` (the platform said 429)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def wait(self, chat_id: str, *, per_chat: bool = True, messages: int = 1) -> None:
        """Wait for a slot to send `messages` platform messages at once (a media group) to `chat_id`."""
        now = time.monotonic()
        at = max(now, self._paused_until)
        if per_chat and self.chat_interval > 0:
            at = max(at, self._next_chat.get(chat_id, 0.0))
            self._next_chat[chat_id] = at + self.chat_interval
            if len(self._next_chat) > 50_000:
                self._forget_idle_chats(now)
        if self.rate > 0:
            at = max(at, self._next_global)
            self._next_global = at + max(1, messages) / self.rate
        delay = at - now
        if delay > 0:
            await asyncio.sleep(delay)
        pause = self._paused_until - time.monotonic()  # a 429 may have arrived while we slept
        if pause > 0:
            await asyncio.sleep(pause)

    def _forget_idle_chats(self, now: float) -> None:
        self._next_chat = {chat: t for chat, t in self._next_chat.items() if t > now}
