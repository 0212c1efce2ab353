"""The Zalo OA access token, renewed with a refresh token that rotates: each renewal answers a new pair and the old
refresh token stops working at once (developers.zalo.me, OAuth v4). Losing the newest refresh token locks the bot
out until an OA admin consents again, so the pair lives in the database (`zalo_oa_tokens`), and renewing is one
transaction that holds a lock across the call and saves the new pair before it commits:

- two instances renewing at once: the second waits for the lock (a PostgreSQL advisory lock held by the
  transaction; SQLite's write lock taken by BEGIN IMMEDIATE), then reads the pair the first saved and uses it
  without calling Zalo;
- an "invalid refresh token" answer: the pair is re-read, and if it changed meanwhile (another instance, a lock
  that could not be had) the renewal is tried once more with the newer refresh token;
- a crash between Zalo's answer and the commit rolls the transaction back: the window is as short as one UPDATE and
  a COMMIT, but it cannot be closed from our side. If Zalo then refuses the stored refresh token, `AuthLost` says
  so (a Transient error, so the outbox keeps every message), and setting a new CHIBO_ZALO_OA_REFRESH_TOKEN from a
  fresh consent is picked up without clearing anything: a configured token the table has not seen replaces the
  stored one (an instance still configured with an older token, as in a rolling restart, does not).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.events import Transient
from storage.db import transaction
from storage.locks import SPACE, LockKey
from storage.models import ZaloOaToken

log = logging.getLogger(__name__)

LOCK_SPACE = SPACE
TOKEN_LOCK = LockKey.ZALO_OA_TOKEN
RENEW_MARGIN = timedelta(minutes=10)  # renew this long before the access token expires
OAUTH_TIMEOUT = 15.0  # seconds; the renewal holds the database lock (SQLite: the one connection) meanwhile
DEFAULT_LIFETIME = 90_000  # seconds (25 hours), when the answer has no usable expires_in
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AuthLost(Transient):
    """Zalo refuses the newest refresh token we hold: an OA admin must consent again (see the module docstring)."""


class OAuthRefused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code


class TokenKeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        oa_id: str,
        app_id: str,
        secret_key: str,
        seed_refresh_token: str | None,
        oauth_url: str,
        http: Callable[[], aiohttp.ClientSession],
        before_save: Callable[[], Awaitable[None]] | None = None,  # tests: a crash between answer and save
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.oa_id = oa_id
        self.app_id = app_id
        self.secret_key = secret_key
        self.seed = seed_refresh_token
        self.oauth_url = oauth_url.rstrip("/")
        self.http = http
        self.before_save = before_save
        self.renewals = 0  # calls to Zalo's OAuth that this keeper made
        self._token = ""
        self._until = _EPOCH
        self._lock = asyncio.Lock()
        self._refused = ""  # the refresh token of the last call, to tell whether the stored one changed since

    async def access_token(self) -> str:
        """A usable access token: the one in memory, else the one in the database, else a renewed one."""
        if self._fresh(self._token, self._until):
            return self._token
        return await self.renew(stale=self._token)

    async def renew(self, stale: str | None) -> str:
        """A token other than `stale` (the one Zalo just refused, or None), renewing only if nobody else has."""
        async with self._lock:
            if self._token and self._token != stale and self._fresh(self._token, self._until):
                return self._token  # another task of this instance renewed while we waited
            try:
                used = await self._renew_locked(stale)
            except OAuthRefused as exc:
                if not await self._changed_since(exc):
                    raise AuthLost(
                        f"Zalo OA refresh token refused ({exc}); an OA admin must authorize again"
                    ) from exc
                used = await self._renew_locked(stale)
            return used

    async def _changed_since(self, exc: OAuthRefused) -> bool:
        """After a refusal: has the stored pair changed since we read it (another instance rotated)?"""
        async with transaction(self.sessions) as session:
            row = await session.get(ZaloOaToken, self.oa_id)
            changed = row is not None and row.refresh_token != self._refused
        log.warning(
            "Zalo OA refresh refused (%s); the stored pair %s",
            exc,
            "changed" if changed else "did not change",
        )
        return changed

    async def _adopt(self) -> None:
        """Store a configured refresh token never seen before in a transaction of its own, so that it counts as
        seen even when the renewal that follows fails."""
        async with transaction(self.sessions) as session:
            await _lock(session)
            await self._row(session)

    async def _renew_locked(self, stale: str | None) -> str:
        await self._adopt()
        async with transaction(self.sessions) as session:
            await _lock(session)
            row = await self._row(session)
            usable = row.access_token and row.access_token != stale
            if usable and self._fresh(row.access_token, row.access_expires_at):
                return self._keep(row.access_token, row.access_expires_at)  # another instance renewed it
            self._refused = row.refresh_token
            answer = await self._call(row.refresh_token)
            if self.before_save is not None:
                await self.before_save()
            now = self.clock.now()
            row.access_token = answer["access_token"]
            row.refresh_token = answer["refresh_token"]
            row.access_expires_at = now + timedelta(seconds=_seconds(answer.get("expires_in")))
            row.renewals += 1
            row.updated_at = now
            self.renewals += 1
            return self._keep(row.access_token, row.access_expires_at)

    async def _row(self, session: AsyncSession) -> ZaloOaToken:
        """The stored pair, created from (or replaced by) a configured refresh token the table has never seen. An
        instance still configured with an older token (a rolling restart) keeps using the stored pair."""
        row = await session.get(ZaloOaToken, self.oa_id)
        digest = hashlib.sha256(self.seed.encode()).hexdigest() if self.seed else ""
        if row is not None and (not digest or digest in row.seed_hashes.split()):
            return row
        if not self.seed:
            raise AuthLost("no Zalo OA refresh token: set CHIBO_ZALO_OA_REFRESH_TOKEN")
        now = self.clock.now()
        if row is None:
            row = ZaloOaToken(oa_id=self.oa_id, renewals=0, seed_hashes="")
            session.add(row)
        else:
            log.warning("a new CHIBO_ZALO_OA_REFRESH_TOKEN replaces the stored Zalo OA token pair")
        row.refresh_token, row.seed_hashes = self.seed, f"{row.seed_hashes} {digest}".strip()
        row.access_token, row.access_expires_at, row.updated_at = "", now, now
        await session.flush()
        return row

    async def _call(self, refresh_token: str) -> dict[str, Any]:
        form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
        headers = {"secret_key": self.secret_key}
        url = f"{self.oauth_url}/v4/oa/access_token"
        try:
            timeout = aiohttp.ClientTimeout(total=OAUTH_TIMEOUT)
            async with self.http().post(url, data=form, headers=headers, timeout=timeout) as resp:
                status, raw = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"Zalo OA token renewal: {exc!r}") from exc
        try:
            body = _unwrap(json.loads(raw))
        except ValueError:
            raise Transient(f"Zalo OA token renewal: HTTP {status}, not JSON") from None
        if body.get("access_token") and body.get("refresh_token"):
            return body
        code = body.get("error")
        if status >= 500 or not isinstance(code, int) or code == 0:
            raise Transient(f"Zalo OA token renewal: HTTP {status}")
        raise OAuthRefused(code, str(body.get("message") or body.get("error_description") or "refused"))

    def _fresh(self, token: str, until: datetime) -> bool:
        return bool(token) and self.clock.now() + RENEW_MARGIN < until

    def _keep(self, token: str, until: datetime) -> str:
        self._token, self._until = token, until
        return token


async def _lock(session: AsyncSession) -> None:
    """Serialize renewals across instances; SQLite already holds its write lock (BEGIN IMMEDIATE, storage.db)."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LOCK_SPACE, "key": TOKEN_LOCK}
        )


def _unwrap(body: Any) -> dict[str, Any]:
    """The token answer flat (`{"access_token": ...}`, developers.zalo.me) or wrapped in `data`."""
    if not isinstance(body, dict):
        return {}
    data = body.get("data")
    return {**body, **data} if isinstance(data, dict) else body


def _seconds(value: Any) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    return seconds if seconds > 0 else DEFAULT_LIFETIME
