"""The neutral message model and the Channel interface every platform adapter implements.

Handlers only ever see `Incoming` and produce `Reply`; adapters translate both ways. Delivery errors are mapped to
the small set of exceptions below so the outbox can decide: wait, give up on this chat, retry, or fail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.core.textnorm import scrub


class ChannelName(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    ZALO_OA = "zalo_oa"


@dataclass(frozen=True)
class Button:
    """A choice offered to the user; `data` is what comes back when it is chosen (at most 64 bytes)."""

    label: str
    data: str


@dataclass(frozen=True)
class OutFile:
    """A stored file to send: `sha256` names it in the content-addressed store. The outbox fills in the directive
    and cell a copy is delivered for, so a download link minted for it can tell who fetched the file."""

    sha256: str
    name: str
    mime: str
    size: int
    as_photo: bool = False
    directive_id: int | None = None
    unit_id: int | None = None
    ref: str | None = None  # the platform's handle from an earlier upload, when the outbox knows one (groups)

    @property
    def key(self) -> tuple[str, str]:
        """What a platform's handle stands for: these bytes under this name (a resend by handle keeps the name
        of the upload, so the same bytes named otherwise are another upload)."""
        return (self.sha256, self.name)


@dataclass
class Reply:
    """One message to a user: text, optional choices, optional file, optional request for their phone number.

    `group` holds further files that travel with `file` as one group where the platform has one (a Telegram media
    group; on Zalo, links in the same text); an outbox part with a group is still one send."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    file: OutFile | None = None
    group: list[OutFile] = field(default_factory=list)
    request_contact: bool = False
    remove_keyboard: bool = False
    # The text already lists the choices, numbered in the buttons' order: a channel without buttons answers the
    # typed number but does not print the list again (no "1. 1. 747-CV/ĐUK").
    listed: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[[b.label, b.data] for b in row] for row in self.buttons]
        if self.file:
            data["file"] = _file_row(self.file)
        if self.group:
            data["group"] = [_file_row(f) for f in self.group]
        if self.request_contact:
            data["request_contact"] = True
        if self.remove_keyboard:
            data["remove_keyboard"] = True
        if self.listed:
            data["listed"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        file = data.get("file")
        return cls(
            text=data.get("text", ""),
            buttons=[[Button(label, value) for label, value in row] for row in data.get("buttons", [])],
            file=OutFile(*file) if file else None,
            group=[OutFile(*f) for f in data.get("group", [])],
            request_contact=data.get("request_contact", False),
            remove_keyboard=data.get("remove_keyboard", False),
            listed=data.get("listed", False),
        )

    @property
    def files(self) -> list[OutFile]:
        """Every file of this message, in order."""
        return [self.file, *self.group] if self.file is not None else list(self.group)


def _file_row(f: OutFile) -> list[Any]:
    return [f.sha256, f.name, f.mime, f.size, f.as_photo]


@dataclass(frozen=True)
class IncomingFile:
    """A file or photo the user sent; `ref` is the platform's handle (Telegram file_id, Zalo photo URL)."""

    kind: str  # "document" | "photo" | "unsupported"
    ref: str | None
    name: str | None = None
    mime: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Incoming:
    """One event from a user, whatever the platform."""

    channel: ChannelName
    update_id: str
    user_id: str
    chat_id: str
    display_name: str
    date: datetime
    text: str | None = None
    command: str | None = None  # "start", "help", ... without the slash
    args: str = ""
    button: str | None = None  # the data of a pressed button
    callback_id: str | None = None
    contact_phone: str | None = None
    contact_is_own: bool = True
    file: IncomingFile | None = None


class Cost(StrEnum):
    """What a delivered message cost, whatever the platform's names for its quotas."""

    FREE = "free"  # inside the free window (or a platform without charges)
    QUOTA = "quota"  # drew on a monthly free quota outside the window
    PAID = "paid"  # charged at the channel's price per message


@dataclass(frozen=True)
class WindowRules:
    """When a channel lets a bot write to a user, and what it costs (Zalo OA consultation messages). Free for
    `free_hours` after the user's last interaction (at most `free_per_window` messages), then on a monthly quota of
    `monthly_quota`, then at `price_vnd` each; after `hard_limit_days` of silence not at all until the user writes."""

    free_hours: int = 48
    free_per_window: int = 8
    hard_limit_days: int = 7
    monthly_quota: int = 0
    price_vnd: int = 0


# What an event may carry into the bot: more than any platform sends (Telegram 4,096 characters a message,
# Zalo 2,000), so only a forged or broken update is cut. A command argument is a code, a number or a name.
MAX_TEXT = 20_000
MAX_ARGS = 256
MAX_SHORT = 255


def scrubbed(event: Incoming) -> Incoming:
    """`event` as handlers may trust it: no NUL, control characters or lone surrogates in its strings, and no
    string longer than any real message (a forged 100,000-character argument is cut, not echoed back)."""

    def cut(value: str | None, limit: int) -> str | None:
        return None if value is None else scrub(value[: limit * 2])[:limit]

    file = event.file
    if file is not None:
        # The name is only scrubbed and bounded here; storage fits it to its column, keeping its extension.
        file = replace(file, name=cut(file.name, MAX_ARGS * 4), mime=cut(file.mime, MAX_SHORT))
    return replace(
        event,
        display_name=cut(event.display_name, MAX_SHORT) or "",
        text=cut(event.text, MAX_TEXT),
        command=cut(event.command, 64),
        args=cut(event.args, MAX_ARGS) or "",
        button=cut(event.button, MAX_ARGS),
        contact_phone=cut(event.contact_phone, 32),
        file=file,
    )


@dataclass(frozen=True)
class Sent:
    """What the platform returned for a sent message; `file_ref` is the reusable handle of an uploaded file;
    `cost` is the dearest charge of the platform messages it took (None: the platform did not say; free where the
    channel has no windows), `paid` how many of them were charged at the channel's price."""

    message_id: str
    file_ref: str | None = None
    cost: Cost | None = None
    paid: int = 0
    group_refs: tuple[str | None, ...] = ()  # the handles of a group's files (Reply.group), in order


class DeliveryError(Exception):
    """Base of everything a send can fail with."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after}s")
        self.retry_after = retry_after


class Blocked(DeliveryError):
    """The user blocked the bot or deleted the chat: never retry."""


class Transient(DeliveryError):
    """Timeouts, 5xx, network trouble: worth retrying with back-off."""


class Rejected(DeliveryError):
    """The platform refused this message for good (bad request): retrying cannot help."""


class OutsideWindow(Rejected):
    """The platform allows no message to this user now (Zalo OA: no interaction for too long, window and quota
    spent). Retrying the same route cannot help; `route_hint` names one that still could (e.g. "zns"), if any."""

    def __init__(self, detail: str, route_hint: str | None = None) -> None:
        super().__init__(detail)
        self.route_hint = route_hint


@dataclass(frozen=True)
class Unreadable:
    """An update a channel could not make sense of (a message without a chat, a number where text belongs, ...):
    it can never be handled, so it is set aside for inspection instead of stopping the receive loop."""

    channel: ChannelName
    update_id: str
    payload: str  # the raw update as received, for whoever inspects it
    reason: str


class NotStored(Exception):
    """An event could not be stored for a transient reason (database unreachable, locked, connection cut) within
    the dispatcher's patience: the channel must not confirm it to the platform, so it comes again."""


# Returns once the event is stored (or set aside); raises NotStored when it is not, and may be retried.
IncomingHandler = Callable[[Incoming | Unreadable], Awaitable[None]]


class Channel(Protocol):
    """What the rest of Chibo needs from a messaging platform."""

    name: ChannelName
    has_buttons: bool  # False: choices go out as a numbered list answered by typing (Zalo)
    can_share_contact: bool  # True: a button shares the user's phone number (Telegram)
    windows: WindowRules | None  # None: the bot may write any time, free (Telegram, Zalo Bot Platform)
    has_commands: bool  # True: slash commands with a menu of them (Telegram); else people type words

    async def open(self) -> None:
        """Connect to the platform, to send only (the command line); `start` opens the channel itself."""

    async def start(self, on_event: IncomingHandler) -> None:
        """Begin receiving events (polling or webhook) and hand each to `on_event`."""

    async def stop(self) -> None:
        """Stop receiving events; sending still works until `close`."""

    async def close(self) -> None:
        """Release the connection to the platform."""

    async def send(self, chat_id: str, reply: Reply, file_ref: str | None = None) -> Sent:
        """Send one message; `file_ref` is a previously returned handle for `reply.file`, if any."""

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        """Replace a sent message's text; platforms that cannot edit send it anew."""

    async def answer_button(self, callback_id: str) -> None: ...

    async def download(self, file: IncomingFile) -> bytes:
        """The bytes of a file the user sent; fails with a `DeliveryError` only."""

    async def set_commands(self, chat_id: str | None, commands: list[tuple[str, str]]) -> None:
        """Show `commands` in the platform's menu for one chat (or as the default when chat_id is None)."""

    def invite_link(self, code: str) -> str | None:
        """A link that opens the bot with `code` pre-filled, where the platform has one."""

    def message_count(self, reply: Reply) -> int:
        """How many platform messages `reply` becomes: what a channel with windows charges per (forecasts).
        Channels without windows may answer 1."""
