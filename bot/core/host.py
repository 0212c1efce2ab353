"""What handlers and services may use of the running bot, as a narrow interface: settings, clock, database
sessions, stored files, the channels' capabilities, background work the bot owns, and waking the outbox sender.

`bot.runtime.Runtime` provides it; the layers below the runtime see only this, so they never import it.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Channel, OutFile


class Files(Protocol):
    """The content-addressed file store."""

    def path(self, sha256: str) -> Path: ...

    def read(self, sha256: str) -> bytes: ...

    async def save(
        self, session: AsyncSession, clock: Clock, data: bytes, name: str, mime: str
    ) -> OutFile: ...


class Waker(Protocol):
    def wake(self) -> None:
        """New outbox rows are committed: look for them now rather than at the next poll."""


class Watcher(Protocol):
    def watch(self, directive_id: int, channel: str, chat_id: str) -> None:
        """Show the progress of a directive's broadcast to the board member in `chat_id`."""


class Host(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def files(self) -> Files: ...

    @property
    def channels(self) -> Mapping[str, Channel]: ...

    @property
    def sender(self) -> Waker: ...

    @property
    def progress(self) -> Watcher: ...

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run `work` in the background; the bot owns it: it is awaited at shutdown and a failure is logged."""
