"""Update delivery of the fake Bot API: the getUpdates queue (long polling, offsets) and webhook POSTs."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from itertools import islice

import aiohttp

from bot.fakes.telegram_models import JSON, ApiError

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# What Telegram sends when allowed_updates was never given or given empty.
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}


def update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _conflict(reason: str) -> ApiError:
    return ApiError(409, f"Conflict: {reason}")


class UpdateBox:
    """Updates waiting for getUpdates, with Telegram's offset confirmation and long-poll semantics."""

    def __init__(self, on_confirmed: Callable[[int], None]) -> None:
        self.pending: deque[JSON] = deque()
        self.allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._on_confirmed = on_confirmed
        self._event: asyncio.Event | None = None
        self._generation = 0
        self._reason = ""
        self._closed = False

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Remembered until changed, like Telegram; an empty list means the default set."""
        if allowed is None:
            return
        self.allowed = frozenset(allowed) & ALL_UPDATE_TYPES if allowed else DEFAULT_UPDATE_TYPES

    def push(self, update: JSON) -> None:
        self.pending.append(update)
        self._wake()

    def take_all(self) -> list[JSON]:
        items = list(self.pending)
        self.pending.clear()
        return items

    def terminate(self, reason: str) -> None:
        """Make a waiting getUpdates answer 409 (another poller or a webhook took over)."""
        self._generation += 1
        self._reason = reason
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()

    async def poll(self, offset: int | None, limit: int, wait_seconds: float) -> list[JSON]:
        self.terminate(
            "terminated by other getUpdates request; make sure that only one bot instance is running"
        )
        generation = self._generation
        self._confirm(offset)
        deadline = time.monotonic() + wait_seconds
        while not self.pending and not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self._event is None:
                self._event = asyncio.Event()
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                break
            if generation != self._generation:
                raise _conflict(self._reason)
        return list(islice(self.pending, limit))

    def _confirm(self, offset: int | None) -> None:
        if not offset:
            return
        if offset < 0:
            while len(self.pending) > -offset:
                self._on_confirmed(self.pending.popleft()["update_id"])
            return
        while self.pending and self.pending[0]["update_id"] < offset:
            self._on_confirmed(self.pending.popleft()["update_id"])

    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None


class WebhookSender:
    """POSTs updates to the bot's webhook like Telegram: in order per chat, secret header, retries on failure."""

    def __init__(
        self,
        on_delivered: Callable[[int], None],
        requeue: Callable[[JSON], None],
        retries: int = 4,
        retry_delay: float = 0.2,
    ) -> None:
        self.url: str | None = None
        self.secret: str | None = None
        self.in_flight = 0
        self.failed: list[JSON] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.retries = retries
        self.retry_delay = retry_delay
        self._on_delivered = on_delivered
        self._requeue = requeue
        self._semaphore = asyncio.Semaphore(40)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def configure(self, url: str | None, secret: str | None, max_connections: int = 40) -> None:
        self.url, self.secret = url, secret
        self._semaphore = asyncio.Semaphore(max_connections)

    def submit(self, update: JSON, chat_id: int | None) -> None:
        self.in_flight += 1
        task = asyncio.get_running_loop().create_task(self._deliver(update, chat_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, update: JSON, chat_id: int | None) -> None:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock, self._semaphore:
                for attempt in range(self.retries + 1):
                    if self.url is None:
                        self._requeue(update)
                        return
                    if await self._post(self.url, update):
                        self._on_delivered(update["update_id"])
                        return
                    if attempt < self.retries:
                        await asyncio.sleep(self.retry_delay * 2**attempt)
                self.failed.append(update)
        finally:
            self.in_flight -= 1

    async def _post(self, url: str, update: JSON) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret
        try:
            async with self._session.post(url, data=json.dumps(update).encode(), headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                self._record_error(f"Wrong response from the webhook: {resp.status} {resp.reason}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._record_error(f"Connection failed: {type(exc).__name__}")
        return False

    def _record_error(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message
