"""Plain records the fake Telegram Bot API server keeps: sent messages, API calls, stored files, errors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

JSON = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, Telegram's description, optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def as_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer in Telegram's wording, e.g. bad_request("chat not found")."""
    return ApiError(400, f"Bad Request: {reason}")


class Button(NamedTuple):
    """One inline keyboard button as a user sees it: its label and its callback_data (None for URL buttons)."""

    label: str
    data: str | None


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(slots=True)
class StoredFile:
    """A file known to the server, sent by a user or uploaded by the bot; addressable by file_id."""

    file_id: str
    file_unique_id: str
    kind: str  # "document", "photo", or what Telegram made of a document: "audio", "video", "animation"
    content: bytes = field(repr=False)
    file_path: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.content)

    def document_json(self) -> JSON:
        doc: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.size}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def media_json(self) -> JSON:
        """The Audio, Video or Animation object: a document with the fields those types require (the fake does
        not decode media, so durations and sizes are 0)."""
        extra: JSON = {"duration": 0} if self.kind == "audio" else {"duration": 0, "width": 0, "height": 0}
        return self.document_json() | extra

    def photo_size_json(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "width": self.width,
            "height": self.height,
        }

    def file_json(self) -> JSON:
        """The File object getFile answers with."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(slots=True)
class Call:
    """One Bot API request as the server answered it. `time` is time.monotonic() on arrival."""

    method: str
    params: JSON
    chat_id: int | str | None
    status: int = 200
    time: float = 0.0
    description: str | None = None


@dataclass(slots=True, eq=False)
class SentMessage:
    """A message the bot sent to a user, kept current: edits change it in place.

    `text` is what the user reads (entities parsed, HTML tags gone); for documents and photos it is the
    caption. `raw_text` is the string the bot sent, before parsing.
    """

    message_id: int
    chat_id: int
    date: int
    kind: str  # "text", "document", "photo", "audio", "video" or "animation"
    method: str
    text: str = ""
    raw_text: str = ""
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    buttons: list[Button] = field(default_factory=list)
    keyboard: list[str] = field(default_factory=list)
    request_contact: bool = False
    removed_keyboard: bool = False
    file: StoredFile | None = None
    photo: list[StoredFile] = field(default_factory=list)
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    reply_to_message_id: int | None = None
    media_group_id: str | None = None  # the album it came in (sendMediaGroup)
    sent_at: float = field(default_factory=time.monotonic)

    @property
    def caption(self) -> str | None:
        return None if self.kind == "text" else self.text

    @property
    def file_name(self) -> str | None:
        return self.file.file_name if self.file else None

    @property
    def file_bytes(self) -> bytes | None:
        return self.file.content if self.file else None

    @property
    def mime_type(self) -> str | None:
        return self.file.mime_type if self.file else None

    @property
    def file_id(self) -> str | None:
        return self.file.file_id if self.file else None

    @property
    def inline_keyboard(self) -> list[list[JSON]] | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup["inline_keyboard"]
        return None

    def set_inline_markup(self, markup: JSON | None) -> None:
        """Replace the inline keyboard (edits), keeping `buttons` in step."""
        self.reply_markup = markup
        self.buttons = inline_buttons(markup)

    def summary(self) -> str:
        """One line for assertion messages."""
        labels = ", ".join(b.label for b in self.buttons)
        head = f"#{self.message_id} [{self.kind}] {self.text[:120]!r}"
        return f"{head} buttons=[{labels}]" if labels else head


def inline_buttons(markup: JSON | None) -> list[Button]:
    """Flatten an inline keyboard into Button(label, callback_data) in reading order."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [Button(b["text"], b.get("callback_data")) for row in markup["inline_keyboard"] for b in row]


def reply_keyboard_labels(markup: JSON | None) -> list[str]:
    if not markup or "keyboard" not in markup:
        return []
    return [b if isinstance(b, str) else b.get("text", "") for row in markup["keyboard"] for b in row]


def wants_contact(markup: JSON | None) -> bool:
    if not markup or "keyboard" not in markup:
        return False
    return any(isinstance(b, dict) and b.get("request_contact") for row in markup["keyboard"] for b in row)
