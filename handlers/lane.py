"""The seam between the dispatcher and a handler that takes many events at once (one-message reports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.events import Incoming
from handlers.context import Context


@dataclass(frozen=True)
class BatchLane:
    """Events handled many at a time: `accepts` is a cheap test before any query; `handle` gets the contexts of a
    batch (identities loaded, one shared session, update ids already recorded by the dispatcher: none is a retry)
    and says for each whether it handled the event."""

    accepts: Callable[[Incoming], bool]
    handle: Callable[[list[Context]], Awaitable[list[bool]]]
