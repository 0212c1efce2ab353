"""Flood control and injected faults of the fake Bot API: token buckets and one-shot error plans."""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass

from bot.fakes.telegram_models import ApiError


class TokenBucket:
    """Refills `rate` tokens per second up to `capacity`; refilled lazily, so each check is O(1)."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_time(self, now: float, count: int = 1) -> float:
        """Seconds until `count` tokens are available (0 when they are there now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= count else (count - self.tokens) / self.rate


class RateLimiter:
    """Telegram's flood limits for send*/edit*: about `global_rate` msg/s overall and `per_chat_rate` per chat.

    The per-chat bucket holds `burst` messages, so a short reply burst passes as on real Telegram; the global
    bucket holds one second's worth (at least `burst`). A rate of None switches that limit off.
    """

    def __init__(self, global_rate: float | None, per_chat_rate: float | None, burst: int) -> None:
        self.burst = max(1, burst)
        self.configure(global_rate, per_chat_rate)

    def configure(self, global_rate: float | None, per_chat_rate: float | None) -> None:
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self._global: TokenBucket | None = None
        self._chats: dict[int | str, TokenBucket] = {}

    def admit(self, chat_id: int | str, now: float, messages: int = 1) -> None:
        """Take `messages` tokens from the global bucket and one from the chat's (an album arrives in its chat as
        one burst), or raise the 429 Telegram would answer (nothing taken)."""
        buckets: list[tuple[TokenBucket, int]] = []
        if self.global_rate is not None:
            if self._global is None:
                self._global = TokenBucket(self.global_rate, max(self.burst, self.global_rate), now)
            buckets.append((self._global, messages))
        if self.per_chat_rate is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                bucket = self._chats[chat_id] = TokenBucket(self.per_chat_rate, self.burst, now)
            buckets.append((bucket, 1))
        wait = max((b.wait_time(now, count) for b, count in buckets), default=0.0)
        if wait > 0:
            raise too_many_requests(math.ceil(wait))
        for bucket, count in buckets:
            bucket.tokens -= count


def too_many_requests(retry_after: int) -> ApiError:
    seconds = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


@dataclass(slots=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None = None
    method: str | None = None  # for forced 429s: None means any send*/edit* call
    skip: int = 0  # for forced 429s: matching calls to let through first


class FaultPlan:
    """Errors queued by tests: the next N calls of a method fail, or the next N sends answer 429."""

    def __init__(self) -> None:
        self._by_method: dict[str, deque[_Fault]] = {}
        self._floods: deque[_Fault] = deque()

    def fail_next(self, method: str, status: int, count: int, description: str) -> None:
        queue = self._by_method.setdefault(method.lower(), deque())
        queue.extend(_Fault(status, description) for _ in range(count))

    def force_429(self, retry_after: int, count: int, method: str | None, after: int = 0) -> None:
        error = too_many_requests(retry_after)
        wanted = method.lower() if method else None
        faults = [_Fault(429, error.description, error.retry_after, wanted) for _ in range(count)]
        if faults:
            faults[0].skip = max(0, after)
        self._floods.extend(faults)

    def check(self, method: str, rate_limited: bool) -> None:
        """Raise the queued fault for this call, if any (consuming it)."""
        key = method.lower()
        queue = self._by_method.get(key)
        if queue:
            fault = queue.popleft()
            raise ApiError(fault.status, fault.description, fault.retry_after)
        if self._floods:
            wanted = self._floods[0].method
            if (wanted is None and rate_limited) or wanted == key:
                if self._floods[0].skip > 0:
                    self._floods[0].skip -= 1
                    return
                fault = self._floods.popleft()
                raise ApiError(fault.status, fault.description, fault.retry_after)


# Start-up calls stay reliable under chaos: a bot that cannot start is another matter than one that meets faults.
_CALM = frozenset({"getme", "deletewebhook", "setwebhook", "setmycommands", "getwebhookinfo"})


class Chaos:
    """Random faults on a share of calls, for fault benchmarks: a 5xx, a 429 or a slow answer, in equal parts."""

    def __init__(self, share: float = 0.0, seed: int = 13, slow_seconds: float = 2.0) -> None:
        self.share = share
        self.slow_seconds = slow_seconds
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)

    def roll(self, method: str) -> str | None:
        """The fault this call meets ("error", "flood" or "slow"), or None."""
        if not self.share or method.lower() in _CALM or self._random.random() >= self.share:
            return None
        kind = self._random.choice(("error", "flood", "slow"))
        self.counts[kind] += 1
        return kind

    @staticmethod
    def error(kind: str) -> ApiError:
        if kind == "flood":
            return too_many_requests(1)
        return ApiError(502, "Bad Gateway")
