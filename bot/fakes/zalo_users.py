"""A simulated Zalo user of the fake Zalo Bot API, and the record of what the bot sent: the user writes text,
sends an image, a sticker or a file Zalo cannot pass on, and sees the bot's messages in their private chat."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.fakes.inbox import Inbox

if TYPE_CHECKING:
    from bot.fakes.zalo_server import FakeZalo

JSON = dict[str, Any]


def zalo_id() -> str:
    """An id as Zalo writes them: 20 lowercase hex characters, e.g. "16f6366b3f02645a3d15"."""
    return secrets.token_hex(10)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class ZaloSent:
    """One message the bot sent to a user: `kind` is "text", "photo" or "sticker"; `date` in milliseconds."""

    chat_id: str
    message_id: str
    date: int
    kind: str
    text: str = ""
    photo: str | None = None
    caption: str = ""
    sticker: str | None = None

    @property
    def body(self) -> str:
        """What the user reads: the text, or the caption of a photo."""
        return self.caption if self.kind == "photo" else self.text

    def summary(self) -> str:
        shown = self.body.replace("\n", " ")
        extra = f" [{self.photo}]" if self.photo else ""
        return f"{self.kind} {self.message_id}: {shown[:70]!r}{extra}"


class FakeZaloUser(Inbox[ZaloSent, str]):
    """One person with a private chat with the bot (on Zalo the chat id is the user id)."""

    def __init__(self, server: FakeZalo, user_id: str, display_name: str) -> None:
        super().__init__()
        self.server = server
        self.id = user_id
        self.display_name = display_name

    # --- actions --------------------------------------------------------------------------------------
    async def send_text(self, text: str) -> str:
        """The user types a message; returns its message_id (which the bot sees as the update id)."""
        return await self._send("message.text.received", {"text": text})

    async def send_image(self, url: str, caption: str = "") -> str:
        """The user sends a photo; Zalo hands the bot a URL to it, and the caption when there is one."""
        extra: JSON = {"photo": url}
        if caption:
            extra["caption"] = caption
        return await self._send("message.image.received", extra)

    async def send_sticker(self, sticker: str = "0e078a2fb66a5f34067b") -> str:
        return await self._send("message.sticker.received", {"sticker": sticker})

    async def send_unsupported(self) -> str:
        """A file Zalo does not pass to bots (a PDF, a video): the bot learns only that something came."""
        return await self._send("message.unsupported.received", {})

    # --- what the user sees ---------------------------------------------------------------------------
    @property
    def last(self) -> ZaloSent:
        if not self.messages:
            raise AssertionError(f"the bot sent nothing to user {self.id}")
        return self.messages[-1]

    def describe(self) -> str:
        if not self.messages:
            return "received nothing"
        lines = "\n  ".join(m.summary() for m in self.messages)
        return f"received {len(self.messages)}:\n  {lines}"

    # --- used by the server ---------------------------------------------------------------------------
    def receive(self, sent: ZaloSent) -> None:
        self.messages.append(sent)
        self.changed()

    def event(self, event_name: str, extra: JSON) -> JSON:
        """An incoming event exactly as Zalo shapes it (ids are strings, `date` is in milliseconds)."""
        message: JSON = {
            "message_id": zalo_id(),
            "date": now_ms(),
            "chat": {"id": self.id, "chat_type": "PRIVATE"},
            "from": {"id": self.id, "display_name": self.display_name, "is_bot": False},
            **extra,
        }
        return {"event_name": event_name, "message": message}

    async def _send(self, event_name: str, extra: JSON) -> str:
        event = self.event(event_name, extra)
        self.server.emit(event)
        await asyncio.sleep(0)
        return str(event["message"]["message_id"])
