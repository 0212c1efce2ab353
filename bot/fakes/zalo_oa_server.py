"""A faithful fake of the Zalo Official Account API v3.0 over HTTP, for tests, benchmarks and the sandbox.

The bot calls `{url}/v3.0/oa/message/{cs,transaction,promotion}`, `{url}/v2.0/oa/upload/{file,image}`,
`{url}/v3.0/oa/quota/message` (header `access_token`) and `{url}/v4/oa/access_token` (the OAuth host; tests point
both at this server). Every answer is `{"error": 0, "message": "Success", "data": {...}}` with HTTP 200, a
refusal `{"error": <negative code>, "message": ...}`, also with HTTP 200. Users' events go to the webhook set with
`set_webhook`, signed `X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp + OA secret key>`
(hainh.me's webhook guide and goclaw's verifier).
Run standalone with `python -m bot.fakes.zalo_oa_control --port 8083`.

Sources: developers.zalo.me (OAuth v4, rate limit -32), open-source clients (redai-zalo-sdk upload limits; goclaw
signature, error codes -201/-210/-216/-14014; chatwoot endpoints). Choices where they are silent or disagree:
- a send answer carries `data.quota.quota_type` ("reply", "sub_quota", "purchase_quota", "promotion",
  "transaction"); sources name these types but not this exact place;
- the file upload answers `data.token` (most clients) or, with `file_token_field="attachment_id"`, what one client's
  fixture shows; the image upload answers `data.attachment_id`;
- `oa_secret_key` signs webhooks and `secret_key` (the app's) authorizes OAuth: one guide says the two differ,
  other clients use one secret for both, so by default they are the same;
- `signature_prefix` ("mac=" by default, "" for a bare hex digest as one client reads it);
- the quota endpoint's `data` shape is the fake's (see Rules.remaining).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.core.clock import Clock
from bot.fakes.inbox import WAIT
from bot.fakes.telegram_limits import TokenBucket
from bot.fakes.zalo_oa_auth import JSON, FakeOAuth, OaError
from bot.fakes.zalo_oa_parse import bad, parse_message
from bot.fakes.zalo_oa_rules import RATE_LIMITED, Follower, Policy, Rules
from bot.fakes.zalo_oa_users import FakeOaUser, OaSent, OaUpload

SIGNATURE_HEADER = "X-ZEvent-Signature"
ROUTES = ("cs", "transaction", "promotion")


class FakeZaloOA:
    def __init__(
        self,
        *,
        app_id: str = "1234567890123456789",
        secret_key: str = "fake-app-secret-key",
        oa_secret_key: str | None = None,
        oa_id: str = "579745863508352884",
        clock: Clock | None = None,
        policy: Policy | None = None,
        refresh_grace: bool = False,
        token_shape: str = "flat",
        file_token_field: str = "token",
        signature_prefix: str = "mac=",
        webhook_retries: int = 2,
    ) -> None:
        self.app_id, self.secret_key, self.oa_id = app_id, secret_key, oa_id
        self.oa_secret_key = oa_secret_key or secret_key  # signs webhooks; Zalo's is not the app's secret
        self.clock = clock or Clock()
        self.rules = Rules(policy)
        self.oauth = FakeOAuth(
            app_id, secret_key, self.clock, refresh_grace=refresh_grace, token_shape=token_shape
        )
        self.file_token_field = file_token_field
        self.signature_prefix = signature_prefix
        self.webhook_retries = webhook_retries
        self.url = ""
        self.users: dict[str, FakeOaUser] = {}
        self.uploads: dict[str, OaUpload] = {}
        self.sent: list[OaSent] = []
        self.calls: list[tuple[str, int]] = []  # (path, error code) of every API call
        self.webhook: str | None = None
        self.webhook_errors: list[str] = []
        self.internal_errors: list[BaseException] = []
        self.delay = 0.0
        self._http_faults: dict[str, deque[int]] = {}
        self._error_faults: dict[str, deque[OaError]] = {}
        self._bucket: TokenBucket | None = None
        self._user_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------------------
    async def start(
        self, host: str = "127.0.0.1", port: int = 0, setup: Callable[[web.Application], None] | None = None
    ) -> None:
        """Serve on `host:port` (0: any free port); `setup` adds routes (the control API of zalo_oa_control)."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/{route}", self._handle)
        app.router.add_post("/v2.0/oa/upload/{kind}", self._handle)
        app.router.add_post("/v3.0/oa/quota/message", self._handle)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        if setup is not None:
            setup(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeZaloOA:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- world, faults, inspection --------------------------------------------------------------------
    def user(self, user_id: str, display_name: str) -> FakeOaUser:
        if user_id not in self.users:
            self.users[user_id] = FakeOaUser(self, Follower(user_id, display_name))
        return self.users[user_id]

    def authorize(self) -> tuple[str, str]:
        """A fresh (access, refresh) pair, as the OA admin's consent gives the operator."""
        return self.oauth.authorize()

    def bot_settings(self) -> dict[str, object]:
        """The `Settings` values of a bot connected to this OA, with a fresh refresh token from the admin's consent."""
        return {
            "zalo_oa_app_id": self.app_id,
            "zalo_oa_secret_key": SecretStr(self.secret_key),
            "zalo_oa_webhook_key": SecretStr(self.oa_secret_key),
            "zalo_oa_id": self.oa_id,
            "zalo_oa_refresh_token": SecretStr(self.authorize()[1]),
            "zalo_oa_api_url": self.url,
            "zalo_oa_oauth_url": self.url,
        }

    def set_webhook(self, url: str | None) -> None:
        """The webhook URL set in the Zalo developer console (there is no API call for it)."""
        self.webhook = url

    def fail_next(self, path: str, status: int = 500, count: int = 1) -> None:
        """The next `count` calls whose path ends with `path` answer HTTP `status` with no JSON."""
        self._http_faults.setdefault(path, deque()).extend([status] * count)

    def refuse_next(self, path: str, code: int, message: str, count: int = 1) -> None:
        """The next `count` calls whose path ends with `path` answer the Zalo error `code`."""
        self._error_faults.setdefault(path, deque()).extend(OaError(code, message) for _ in range(count))

    def set_delay(self, seconds: float) -> None:
        self.delay = max(0.0, seconds)

    def set_rate(self, per_second: float | None) -> None:
        """API calls beyond `per_second` (bursts of one second's worth) answer -32; None: no limit."""
        self._bucket = TokenBucket(per_second, max(1.0, per_second), time.monotonic()) if per_second else None

    def paid_vnd(self, price: int) -> int:
        return self.rules.ledger.paid * price

    # --- HTTP -----------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            status = _pop(self._http_faults, path)
            if status is not None:
                self.calls.append((path, status))
                return web.Response(status=status, text="upstream error")
            injected = _pop(self._error_faults, path)
            if injected is not None:
                raise injected
            self._admit()
            self.oauth.check_access(request.headers.get("access_token"))
            data = await self._dispatch(request)
        except OaError as error:
            self.calls.append((path, error.code))
            return _json(error.as_json())
        except Exception as exc:  # a bug in the fake must not look like a Zalo answer
            self.internal_errors.append(exc)
            return web.Response(status=500, text=f"fake failed: {exc!r}")
        self.calls.append((path, 0))
        return _json({"error": 0, "message": "Success", "data": data})

    async def _dispatch(self, request: web.Request) -> JSON:
        if request.path.startswith("/v2.0/oa/upload/"):
            return await self._upload(request, request.match_info["kind"])
        body = await _json_body(request)
        if request.path == "/v3.0/oa/quota/message":
            follower = self._follower(body.get("user_id"))
            return {"user_id": body.get("user_id"), **self.rules.remaining(follower, self.clock.now())}
        route = request.match_info["route"]
        if route not in ROUTES:
            raise bad("unknown message type")
        recipient = body.get("recipient")
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        fields = parse_message(body.get("message"), self.uploads)
        follower = self._follower(user_id)
        quota = self.rules.charge(route, follower, self.clock.now())
        return self._record(self.users[str(user_id)], route, quota, fields)

    def _follower(self, user_id: Any) -> Follower | None:
        user = self.users.get(str(user_id)) if user_id else None
        return user.follower if user else None

    def _record(self, user: FakeOaUser, route: str, quota: str, fields: JSON) -> JSON:
        date = int(self.clock.now().timestamp() * 1000)
        sent = OaSent(user.follower.user_id, secrets.token_hex(16), date, route, quota, **fields)
        self.sent.append(sent)
        user.receive(sent)
        return {"message_id": sent.message_id, "user_id": sent.user_id, "quota": {"quota_type": quota}}

    async def _upload(self, request: web.Request, kind: str) -> JSON:
        if kind not in ("file", "image"):
            raise bad("unknown upload kind")
        try:
            form = await request.post()
        except ValueError as exc:
            raise bad("the upload must be multipart/form-data") from exc
        part = form.get("file")
        if not isinstance(part, web.FileField):
            raise bad("the upload needs a file part named file")
        data = part.file.read()
        self.rules.admit_upload(kind, part.filename, part.content_type, len(data), self.clock.now())
        token = secrets.token_urlsafe(24)
        self.uploads[token] = OaUpload(token, kind, part.filename, part.content_type, data)
        field = self.file_token_field if kind == "file" else "attachment_id"
        return {field: token}

    async def _oauth(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        answer = self.oauth.renew(form, request.headers.get("secret_key"))
        self.calls.append((request.path, int(answer.get("error", 0) or 0)))
        return _json(answer)

    def _admit(self) -> None:
        if self._bucket is None:
            return
        if self._bucket.wait_time(time.monotonic()) > 0:
            raise OaError(RATE_LIMITED, "Request rate limit exceeded")
        self._bucket.tokens -= 1

    # --- events to the bot ----------------------------------------------------------------------------
    def signature(self, body: bytes, timestamp: str) -> str:
        raw = self.app_id.encode() + body + timestamp.encode() + self.oa_secret_key.encode()
        return self.signature_prefix + hashlib.sha256(raw).hexdigest()

    def emit(self, event: JSON) -> None:
        """Sign and POST one event to the webhook, in order per user; dropped when no webhook is set."""
        if self.webhook is None:
            self.webhook_errors.append(f"no webhook set: {event['event_name']} dropped")
            return
        task = asyncio.get_running_loop().create_task(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: JSON) -> None:
        user = str(event["sender"]["id"])
        async with self._user_locks.setdefault(user, asyncio.Lock()):
            for attempt in range(self.webhook_retries + 1):
                if await self._post(event):
                    return
                await asyncio.sleep(0.1 * 2**attempt)

    async def _post(self, event: JSON) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.signature(body, event["timestamp"]),
        }
        try:
            async with self._session.post(str(self.webhook), data=body, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                self.webhook_errors.append(f"webhook answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.webhook_errors.append(f"webhook unreachable: {type(exc).__name__}")
        return False

    async def settle(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109 - public test API
        """Wait until every event emitted so far has been delivered (or given up)."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _pop(queues: dict[str, deque[Any]], path: str) -> Any:
    for suffix, queue in queues.items():
        if queue and path.endswith(suffix):
            return queue.popleft()
    return None


def _json(body: JSON) -> web.Response:
    return web.json_response(body, dumps=lambda b: json.dumps(b, ensure_ascii=False))


async def _json_body(request: web.Request) -> JSON:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        data = json.loads(await request.read() or b"{}")
        if isinstance(data, dict):
            return data
    raise bad("the body must be a JSON object")
