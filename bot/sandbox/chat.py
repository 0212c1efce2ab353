"""One person the sandbox page can play: their fake Telegram, Zalo Bot Platform or Zalo OA user, what they did (the fakes keep only what
the bot sent, so the person's own side is kept here), and their chat as JSON for the page.

A person's own message is placed after the bot messages their chat held when they acted (`after`), so both sides
interleave exactly without comparing clocks. Times shown are sandbox times: a fake stamps messages with the real
time, and `TimeLine` adds the clock shift that was in force at that moment.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.fakes.zalo_oa_users import FakeOaUser, OaSent
from bot.fakes.zalo_users import FakeZaloUser, ZaloSent
from bot.sandbox.demo import DemoPerson

JSON = dict[str, Any]
User = FakeUser | FakeZaloUser | FakeOaUser
BotMessage = SentMessage | ZaloSent | OaSent
OA_KINDS = {"buttons": "text", "list": "text", "image": "photo", "file": "document"}  # else the same name
_URL = re.compile(r"https?://[^\s<>\"']+")


class Refused(Exception):
    """An action the page asked for that this person cannot do; the message is shown as is."""


class TimeLine:
    """The clock's shift over real time, so a real timestamp can be shown as the sandbox time it happened at.

    Shifts are indexed both by wall time (Zalo stamps messages in milliseconds) and by the monotonic clock (the
    fake Telegram records `sent_at` with it; its whole-second `date` is too coarse to tell whether a message
    came just before or just after a jump)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._wall: list[float] = []
        self._mono: list[float] = []
        self._shift: list[float] = []
        self.record()

    def record(self) -> None:
        """Note the current shift; call after every move of the clock."""
        wall, mono = time.time(), time.monotonic()
        self._wall.append(wall)
        self._mono.append(mono)
        self._shift.append(self.clock.now().timestamp() - wall)

    def at_wall(self, real: float) -> datetime:
        """The sandbox time at real epoch second `real`."""
        return self._at(self._wall, real, real)

    def at_monotonic(self, mono: float) -> datetime:
        """The sandbox time at `time.monotonic()` reading `mono`."""
        real = mono - self._mono[-1] + self._wall[-1]
        return self._at(self._mono, mono, real)

    def _at(self, marks: list[float], mark: float, real: float) -> datetime:
        index = max(0, bisect.bisect_right(marks, mark) - 1)
        return datetime.fromtimestamp(real + self._shift[index], UTC)


@dataclass
class Own:
    """Something the person did: typed, sent a file or photo, shared their number, tapped a button."""

    after: int
    kind: str  # text | document | photo | contact | press | follow | unsupported
    at: datetime
    text: str = ""
    file_name: str | None = None
    url: str | None = None


@dataclass
class Persona:
    """A person of the demo province on one platform, and everything they did in the sandbox."""

    demo: DemoPerson
    user: User
    own: list[Own] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.demo.platform}-{self.demo.user_id}"

    @property
    def platform(self) -> str:
        return self.demo.platform

    @property
    def bot_messages(self) -> Sequence[BotMessage]:
        return self.user.messages

    def version(self) -> int:
        """Changes whenever the chat does: a new message either way, or an edit (Telegram)."""
        seen = self.user.version if isinstance(self.user, FakeUser) else len(self.user.messages)
        return seen * 1000 + len(self.own)

    def remember(self, kind: str, now: datetime, **details: Any) -> Own:
        entry = Own(len(self.user.messages), kind, now, **details)
        self.own.append(entry)
        return entry


@dataclass
class Render:
    """What a chat needs to become JSON: the time zone, the time line, where files are served from."""

    tz: ZoneInfo
    timeline: TimeLine
    telegram: FakeTelegram
    rewrite_link: Callable[[str], str]  # a bot download link (Zalo) -> a link the page can open
    oa_file_url: Callable[[str], str]  # an OA upload token -> where the page downloads that file

    def chat(self, persona: Persona) -> JSON:
        bot = [self._bot(i, m) for i, m in enumerate(persona.bot_messages)]
        entries: list[JSON] = []
        own = sorted(persona.own, key=lambda o: o.after)  # stable: same-position actions keep their order
        j = 0
        for i in range(len(bot) + 1):
            while j < len(own) and own[j].after <= i:
                entries.append(self._own(own[j]))
                j += 1
            if i < len(bot):
                entries.append(bot[i])
        return {
            "key": persona.key,
            "version": persona.version(),
            "entries": entries,
            "keyboard": self._keyboard(persona),
            "commands": self._commands(persona),
        }

    def _stamp(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%H:%M %d/%m")

    def _own(self, own: Own) -> JSON:
        return {
            "side": "me",
            "kind": own.kind,
            "text": own.text,
            "file_name": own.file_name,
            "url": own.url,
            "time": self._stamp(own.at),
        }

    def _bot(self, index: int, message: BotMessage) -> JSON:
        if isinstance(message, ZaloSent):
            return self._zalo(index, message)
        if isinstance(message, OaSent):
            return self._oa(index, message)
        return self._telegram(index, message)

    def _telegram(self, index: int, m: SentMessage) -> JSON:
        entry: JSON = {
            "side": "bot",
            "index": index,
            "id": m.message_id,
            "kind": m.kind,
            "text": m.text,
            "entities": m.entities,
            "edited": m.edit_count > 0,
            "deleted": m.deleted,
            "time": self._stamp(self.timeline.at_monotonic(m.sent_at)),
            "buttons": [
                [{"label": b["text"], "data": b.get("callback_data"), "url": b.get("url")} for b in row]
                for row in (m.inline_keyboard or [])
            ],
        }
        if m.file is not None:
            entry["file"] = {
                "name": m.file.file_name or ("photo.jpg" if m.kind == "photo" else "file"),
                "size": m.file.size,
                "mime": m.file.mime_type,
                "url": f"/api/files/{m.file.file_id}",
            }
        return entry

    def _zalo(self, index: int, m: ZaloSent) -> JSON:
        entry: JSON = {
            "side": "bot",
            "index": index,
            "id": m.message_id,
            "kind": m.kind,
            "text": _URL.sub(lambda found: self.rewrite_link(found.group(0)), m.body),
            "entities": [],
            "edited": False,
            "deleted": False,
            "time": self._stamp(self.timeline.at_wall(m.date / 1000)),
            "buttons": [],
        }
        if m.kind == "photo" and m.photo:
            entry["file"] = {
                "name": "photo.jpg",
                "size": None,
                "mime": "image/jpeg",
                "url": self.rewrite_link(m.photo),
            }
        return entry

    def _oa(self, index: int, m: OaSent) -> JSON:
        """An OA message: text, a template with buttons (pressed by payload), an image, a native file, or the
        request_user_info form (`form`, which the page lets the person submit with their phone)."""
        entry: JSON = {
            "side": "bot",
            "index": index,
            "id": m.message_id,
            "kind": OA_KINDS.get(m.kind, m.kind),
            "text": _URL.sub(lambda found: self.rewrite_link(found.group(0)), m.text),
            "entities": [],
            "edited": False,
            "deleted": False,
            # The fake OA stamps with the sandbox's own clock, so no shift is added.
            "time": self._stamp(datetime.fromtimestamp(m.date / 1000, UTC)),
            "buttons": [[{"label": b.title, "data": b.payload, "url": None}] for b in m.buttons],
        }
        if m.kind == "image" and m.image:
            url = m.image if m.image.startswith("http") else self.oa_file_url(m.image)
            entry["file"] = {
                "name": "photo.jpg",
                "size": None,
                "mime": "image/jpeg",
                "url": self.rewrite_link(url),
            }
        elif m.kind == "file" and m.file is not None:
            entry["file"] = {
                "name": m.file.name,
                "size": len(m.file.data),
                "mime": m.file.mime,
                "url": self.oa_file_url(m.file.token),
            }
        elif m.kind == "request_info":
            entry["form"] = {"title": m.title, "subtitle": m.subtitle}
        return entry

    def _keyboard(self, persona: Persona) -> JSON | None:
        """Telegram's reply keyboard in force (the "share my number" button); it stays until removed."""
        if not isinstance(persona.user, FakeUser):
            return None
        current: JSON | None = None
        for m in persona.user.messages:
            if m.keyboard:
                current = {"labels": list(m.keyboard), "request_contact": m.request_contact}
            elif m.removed_keyboard:
                current = None
        return current

    def _commands(self, persona: Persona) -> list[JSON]:
        """The command menu Telegram shows this chat: its own list, else the bot's default one."""
        if not isinstance(persona.user, FakeUser):
            return []
        commands = self.telegram.commands
        chosen = commands.get(("chat", persona.user.id)) or commands.get(("default", None)) or []
        return [{"command": c["command"], "description": c["description"]} for c in chosen]
