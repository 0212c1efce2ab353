"""HTTP calls to the Zalo OA API: the `access_token` header, one renewal and retry when Zalo says the token is
invalid or expired, and Zalo's errors mapped to the delivery errors the outbox understands.

Every answer is `{"error": 0, "message": ..., "data": {...}}`; a non-zero `error` (negative) is a refusal, with
HTTP 200. Codes relied on: -216 invalid access token (goclaw's client), -32 rate limit (developers.zalo.me);
from integrators' notes, unconfirmed: -124 expired access token, -213 window passed and quota spent, -230 no
interaction for 7 days, -201 recipient not reachable (unknown or not following; one client reads -201 as a
malformed request: either way retrying cannot help). Any other code is a refusal whose message is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.channels.zalo_oa_tokens import TokenKeeper
from bot.core.events import Blocked, DeliveryError, OutsideWindow, RateLimited, Rejected, Transient

TOKEN_REFUSED = frozenset({-216, -124, 216, -401, 401})  # sign and magnitude vary between sources
RATE_LIMITED = -32
NOT_REACHABLE = -201
WINDOW_CLOSED = -213
SILENT_TOO_LONG = -230


class ZaloOaError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo OA error {code}: {message}")
        self.code = code
        self.message = message


class OaApi:
    def __init__(
        self,
        api_url: str,
        tokens: TokenKeeper,
        http: Callable[[], aiohttp.ClientSession],
        *,
        request_timeout: float = 15.0,
        upload_timeout: float = 120.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.request_timeout = request_timeout
        self.upload_timeout = upload_timeout

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._with_token(path, lambda: {"json": body}, self.request_timeout)

    async def upload(self, kind: str, name: str, mime: str, data: bytes) -> dict[str, Any]:
        """POST one file as multipart to /v2.0/oa/upload/{file,image}; the form is rebuilt for a retry."""

        def form() -> dict[str, Any]:
            parts = aiohttp.FormData(quote_fields=False)
            parts.add_field("file", data, filename=name, content_type=mime)
            return {"data": parts}

        return await self._with_token(f"/v2.0/oa/upload/{kind}", form, self.upload_timeout)

    async def _with_token(
        self, path: str, payload: Callable[[], dict[str, Any]], wait: float
    ) -> dict[str, Any]:
        token = await self.tokens.access_token()
        try:
            return await self._once(path, token, payload(), wait)
        except ZaloOaError as exc:
            if exc.code not in TOKEN_REFUSED:
                raise
        token = await self.tokens.renew(stale=token)
        return await self._once(path, token, payload(), wait)

    async def _once(self, path: str, token: str, payload: dict[str, Any], wait: float) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=wait)
        headers = {"access_token": token}
        try:
            async with self.http().post(
                self.api_url + path, headers=headers, timeout=timeout, **payload
            ) as resp:
                status, raw = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"{path}: {exc!r}") from exc
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise (
                Transient(f"{path}: HTTP {status}, not JSON")
                if status >= 500 or status == 429
                else Rejected(f"{path}: HTTP {status}")
            )
        code = body.get("error", 0)
        if code == 0 and status < 400:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        raise ZaloOaError(code if isinstance(code, int) else status, str(body.get("message") or "error"))


def delivery_error(exc: ZaloOaError, retry_after: float) -> DeliveryError:
    """The outbox's reading of a Zalo OA refusal; the message is kept whole for the board."""
    text = str(exc)
    if exc.code == RATE_LIMITED:
        return RateLimited(retry_after, text)
    if exc.code == NOT_REACHABLE:
        return Blocked(text)
    if exc.code in (WINDOW_CLOSED, SILENT_TOO_LONG):
        return OutsideWindow(text, route_hint="zns")
    if exc.code in TOKEN_REFUSED:
        return Transient(
            text
        )  # a deployment problem (token renewal failed): keep the message until it is fixed
    if exc.code >= 500:
        return Transient(text)
    return Rejected(text)
