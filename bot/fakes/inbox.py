"""What a fake user has received and waiting on it, shared by the Telegram and Zalo fakes' users."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

M = TypeVar("M")
K = TypeVar("K")  # the platform's user id: int on Telegram, str on Zalo
# Seconds a wait gives the bot by default: generous, as the tests run in parallel on a shared two-core machine; a
# wait ends as soon as its condition holds, so only a failing test waits this long.
WAIT = 20.0


class Inbox(Generic[M, K]):
    """`messages` the bot sent to one user, with waits that wake on every change (no polling)."""

    id: K

    def __init__(self) -> None:
        self.messages: list[M] = []
        self._changed: asyncio.Event | None = None

    def describe(self) -> str:
        raise NotImplementedError

    def changed(self) -> None:
        """Wake waiters: a message arrived or changed."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_for(self, count: int, timeout: float = WAIT) -> list[M]:  # noqa: ASYNC109 - public test API
        """Wait until the bot has sent this user at least `count` messages; return all of them."""
        try:
            await self.wait_until(lambda msgs: len(msgs) >= count, timeout)
        except AssertionError:
            raise AssertionError(f"expected {count} messages for user {self.id}; {self.describe()}") from None
        return list(self.messages)

    async def wait_until(
        self,
        predicate: Callable[[list[M]], bool],
        timeout: float = WAIT,  # noqa: ASYNC109 - public test API
    ) -> None:
        """Wait until `predicate(messages)` holds; re-checked on every change."""
        deadline = time.monotonic() + timeout
        while True:
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            if predicate(self.messages):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"condition not met within {timeout}s for user {self.id}; {self.describe()}"
                )
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue
