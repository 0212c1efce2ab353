"""A simulated follower of the fake Zalo OA and the record of what the OA sent them. The user follows the OA,
types text, sends an image or a file, presses a template button (`oa.query.*` sends its payload back as a text
event) and submits the request_user_info form; every one of these is an interaction that opens a new window."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.fakes.inbox import Inbox
from bot.fakes.zalo_oa_rules import Follower

if TYPE_CHECKING:
    from bot.fakes.zalo_oa_server import FakeZaloOA

JSON = dict[str, Any]
QUERY_ACTIONS = ("oa.query.show", "oa.query.hide")


@dataclass(frozen=True)
class OaButton:
    title: str
    type: str
    payload: str


@dataclass
class OaUpload:
    """A file or image the OA uploaded: what its token stands for."""

    token: str
    kind: str  # "file" | "image"
    name: str
    mime: str
    data: bytes


@dataclass
class OaSent:
    """One message the OA sent: `kind` is text, buttons, list, image, file or request_info; `quota` what paid it."""

    user_id: str
    message_id: str
    date: int
    route: str
    quota: str
    kind: str
    text: str = ""
    buttons: list[OaButton] = field(default_factory=list)
    image: str | None = None  # attachment_id or URL
    file: OaUpload | None = None
    title: str = ""
    subtitle: str = ""

    def summary(self) -> str:
        shown = self.text.replace("\n", " ")[:60]
        extra = f" buttons={[b.title for b in self.buttons]}" if self.buttons else ""
        extra += f" file={self.file.name}" if self.file else ""
        return f"{self.kind} via {self.route}/{self.quota}: {shown!r}{extra}"


class FakeOaUser(Inbox[OaSent, str]):
    def __init__(self, server: FakeZaloOA, follower: Follower) -> None:
        super().__init__()
        self.server = server
        self.follower = follower
        self.id = follower.user_id

    @property
    def last(self) -> OaSent:
        if not self.messages:
            raise AssertionError(f"the OA sent nothing to user {self.id}")
        return self.messages[-1]

    def describe(self) -> str:
        lines = "\n  ".join(m.summary() for m in self.messages)
        return f"received {len(self.messages)}:\n  {lines}" if self.messages else "received nothing"

    def receive(self, sent: OaSent) -> None:
        self.messages.append(sent)
        self.changed()

    # --- actions --------------------------------------------------------------------------------------
    async def follow(self) -> str:
        self.follower.following = True
        return await self._act("follow", {"follower": {"id": self.id}, "source": "oa_profile"})

    async def unfollow(self) -> str:
        self.follower.following = False
        return await self._act("unfollow", {"follower": {"id": self.id}}, interaction=False)

    async def send_text(self, text: str) -> str:
        return await self._act("user_send_text", {"message": {"msg_id": _msg_id(), "text": text}})

    async def send_image(self, url: str, caption: str = "") -> str:
        attachment = {"type": "image", "payload": {"url": url, "thumbnail": url}}
        return await self._act("user_send_image", {"message": _with_attachment(attachment, caption)})

    async def send_file(self, url: str, name: str, size: int, file_type: str = "pdf") -> str:
        payload = {
            "url": url,
            "name": name,
            "size": str(size),
            "type": file_type,
            "checksum": secrets.token_hex(16),
        }
        return await self._act(
            "user_send_file", {"message": _with_attachment({"type": "file", "payload": payload})}
        )

    async def press(self, title: str, message: OaSent | None = None) -> str:
        """Press the button titled `title` on `message` (default: the last one that has buttons)."""
        if message is None:
            message = next((m for m in reversed(self.messages) if m.buttons), None)
        button = next((b for b in (message.buttons if message else []) if b.title == title), None)
        if button is None:
            raise AssertionError(f"no button {title!r} for user {self.id}; {self.describe()}")
        if button.type not in QUERY_ACTIONS:
            raise AssertionError(f"button {title!r} opens a link ({button.type}); it sends nothing to the OA")
        return await self.send_text(button.payload)

    async def submit_info(self, phone: str, name: str | None = None) -> str:
        """Fill in the request_user_info form the OA sent: Zalo passes the name and phone the user confirmed."""
        if not any(m.kind == "request_info" for m in self.messages):
            raise AssertionError(f"the OA never asked user {self.id} for their information")
        info = {
            "name": name or self.follower.display_name,
            "phone": phone,
            "address": "",
            "city": "",
            "district": "",
        }
        return await self._act("user_submit_info", {"info": info})

    async def _act(self, event_name: str, extra: JSON, *, interaction: bool = True) -> str:
        now = self.server.clock.now()
        if interaction:
            self.server.rules.interacted(self.follower, now)
        event: JSON = {
            "app_id": self.server.app_id,
            "user_id_by_app": f"app-{self.id}",
            "event_name": event_name,
            "timestamp": str(int(now.timestamp() * 1000)),
            "sender": {"id": self.id},
            "recipient": {"id": self.server.oa_id},
            **extra,
        }
        if event_name in ("follow", "unfollow"):
            event["oa_id"] = self.server.oa_id
        self.server.emit(event)
        await asyncio.sleep(0)
        message = event.get("message")
        return (
            str(message["msg_id"])
            if isinstance(message, dict)
            else f"{event_name}:{self.id}:{event['timestamp']}"
        )


def _msg_id() -> str:
    return secrets.token_hex(16)


def _with_attachment(attachment: JSON, text: str = "") -> JSON:
    message: JSON = {"msg_id": _msg_id(), "attachments": [attachment]}
    if text:
        message["text"] = text
    return message
