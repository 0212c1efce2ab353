"""The OAuth side of the fake Zalo OA: access tokens that expire and refresh tokens that rotate.

Facts followed (see the module docstring of zalo_oa_server for sources): `POST /v4/oa/access_token` takes a form
(`app_id`, `grant_type=refresh_token`, `refresh_token`) and the app secret in a `secret_key` header; it answers a
new access token (about 25 hours) and a new refresh token (about 3 months); the old refresh token stops working at
once. Choices of the fake where sources disagree or are silent:
- `token_shape="flat"` answers `{"access_token", "refresh_token", "expires_in": "90000"}` (developers.zalo.me's
  sample, `expires_in` a string); `"wrapped"` answers `{"error": 0, "message": ..., "data": {...}}` as some
  integrations read it;
- `refresh_grace=True` keeps the old refresh token usable until the new one is first used (not documented for
  Zalo; lets a test show what such a grace would buy after a crash);
- error codes: -14014 invalid or used refresh token (seen in an open-source client), -14002 wrong app id or
  secret, -216 invalid access token, -124 expired access token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock

JSON = dict[str, Any]
ACCESS_TTL = timedelta(hours=25)
REFRESH_TTL = timedelta(days=90)
TOKEN_SHAPES = ("flat", "wrapped")

INVALID_ACCESS = -216
EXPIRED_ACCESS = -124
INVALID_REFRESH = -14014
BAD_APP = -14002


class OaError(Exception):
    """An error answer of the OA API: `{"error": code, "message": ...}` with HTTP 200, as Zalo answers."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message

    def as_json(self) -> JSON:
        return {"error": self.code, "message": self.message}


@dataclass
class _Refresh:
    expires_at: datetime
    parent: str | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class FakeOAuth:
    app_id: str
    secret_key: str
    clock: Clock
    access_ttl: timedelta = ACCESS_TTL
    refresh_ttl: timedelta = REFRESH_TTL
    refresh_grace: bool = False
    token_shape: str = "flat"
    access: dict[str, datetime] = field(default_factory=dict)
    refresh: dict[str, _Refresh] = field(default_factory=dict)
    refreshed: int = 0  # successful renewals
    refused: int = 0  # renewals refused

    def authorize(self) -> tuple[str, str]:
        """A fresh pair, as an OA admin gets by consenting in the browser (the operator's first refresh token)."""
        return self._issue(parent=None)

    def _issue(self, parent: str | None) -> tuple[str, str]:
        now = self.clock.now()
        access, refresh = f"oa-at-{secrets.token_urlsafe(24)}", f"oa-rt-{secrets.token_urlsafe(32)}"
        self.access[access] = now + self.access_ttl
        self.refresh[refresh] = _Refresh(now + self.refresh_ttl, parent)
        if parent is not None and parent in self.refresh:
            self.refresh[parent].children.append(refresh)
        return access, refresh

    def check_access(self, token: str | None) -> None:
        if not token or token not in self.access:
            raise OaError(INVALID_ACCESS, "Access token is invalid")
        if self.clock.now() >= self.access[token]:
            raise OaError(EXPIRED_ACCESS, "Access token has expired")

    def expire_access(self) -> None:
        """Every access token issued so far expires now (a test jumps past the 25 hours)."""
        now = self.clock.now()
        self.access = {token: min(at, now) for token, at in self.access.items()}

    def renew(self, form: JSON, secret: str | None) -> JSON:
        """The answer of `POST /v4/oa/access_token` with grant_type=refresh_token."""
        try:
            access, refresh = self._renew(form, secret)
        except OaError as error:
            self.refused += 1
            return {**error.as_json(), "error_description": error.message}
        self.refreshed += 1
        data = {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": str(int(self.access_ttl.total_seconds())),
        }
        return {"error": 0, "message": "Success", "data": data} if self.token_shape == "wrapped" else data

    def _renew(self, form: JSON, secret: str | None) -> tuple[str, str]:
        if form.get("app_id") != self.app_id or secret != self.secret_key:
            raise OaError(BAD_APP, "Invalid app_id or secret_key")
        if form.get("grant_type") != "refresh_token":
            raise OaError(-14003, "grant_type must be refresh_token")
        token = str(form.get("refresh_token") or "")
        state = self.refresh.get(token)
        if state is None:
            raise OaError(INVALID_REFRESH, "Invalid refresh token")
        if self.clock.now() >= state.expires_at:
            del self.refresh[token]
            raise OaError(INVALID_REFRESH, "Refresh token has expired")
        for child in state.children:  # under grace: a child never used is replaced by this new one
            self.refresh.pop(child, None)
        state.children.clear()
        if state.parent is not None:  # the child is in use: its parent, kept for grace, dies now
            self.refresh.pop(state.parent, None)
            state.parent = None
        pair = self._issue(parent=token)
        if not self.refresh_grace:
            del self.refresh[token]
        return pair
