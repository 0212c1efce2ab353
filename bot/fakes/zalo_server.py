"""A faithful fake of the Zalo Bot Platform API over HTTP, for tests, benchmarks and the sandbox.

The bot under test calls `{api_url}/bot{token}/{method}` (CHIBO_ZALO_API_URL = `api_url`). Tests play users through
`FakeZalo.user(...)`, inject faults and inspect what was sent. Run standalone with
`python -m bot.fakes.zalo_server --port 8082`; then `/_fake/...` lets another process play users.

Where Zalo's documentation is silent, the fake makes a documented choice (the real service may differ):
- every error answers `{"ok": false, "error_code": N, "description": ...}` with HTTP status N;
- getUpdates answers one event per call (`"result": {event}`, as in Zalo's sample response) and, when nothing
  arrived within `timeout`, error 408 "Request timeout" as the real service does; `updates_shape="list"` answers
  `"result": [events]` and an empty list instead;
- getUpdates while a webhook is set: 409 "Conflict: ..."; an unknown chat: 400 "Bad Request: chat not found";
- a user who blocked the bot: 403 "Forbidden: the user has blocked the bot" (Zalo publishes no code for this;
  403 is what Telegram answers and what Chibo's outbox treats as "never retry");
- text and caption lengths are counted in UTF-16 code units (an emoji counts two), the stricter reading;
- setWebhook wants an HTTPS URL, but accepts plain HTTP to a loopback host so tests can receive the POSTs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.fakes.inbox import WAIT
from bot.fakes.standalone import rate_arg, serve_until_signalled
from bot.fakes.telegram_limits import TokenBucket
from bot.fakes.zalo_users import JSON, FakeZaloUser, ZaloSent, now_ms, zalo_id

TEXT_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
BODY_SHAPES = ("wrapped", "flat")
UPDATES_SHAPES = ("single", "list")
QUOTA_EXCEEDED = "Quota exceeded"
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SEND_METHODS = frozenset({"sendmessage", "sendphoto", "sendsticker"})
_MAX_POLL = 60.0


class ZaloError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def as_json(self) -> JSON:
        return {"ok": False, "error_code": self.code, "description": self.description}


def bad_request(reason: str) -> ZaloError:
    return ZaloError(400, f"Bad Request: {reason}")


@dataclass(slots=True)
class ZaloCall:
    """One API call as the fake saw it; `error_code` is None when it succeeded."""

    method: str
    params: JSON
    time: float
    error_code: int | None = None
    description: str | None = None


@dataclass(slots=True)
class Webhook:
    url: str
    secret: str
    updated_at: int


@dataclass
class _Faults:
    by_method: dict[str, deque[ZaloError]] = field(default_factory=dict)
    quota: int = 0

    def check(self, method: str) -> None:
        queue = self.by_method.get(method.lower())
        if queue:
            raise queue.popleft()
        if self.quota and method.lower() in _SEND_METHODS:
            self.quota -= 1
            raise ZaloError(429, QUOTA_EXCEEDED)


class FakeZalo:
    """The fake Zalo Bot API server: state, HTTP plumbing, test controls and inspection."""

    def __init__(
        self,
        token: str = "1234567890:ZALO-TEST-SECRET",
        *,
        rate: float | None = None,
        bot_name: str = "Chibo Zalo",
        body_shape: str = "wrapped",
        updates_shape: str = "single",
        auto_users: bool = False,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        if body_shape not in BODY_SHAPES or updates_shape not in UPDATES_SHAPES:
            raise ValueError(f"body_shape in {BODY_SHAPES}, updates_shape in {UPDATES_SHAPES}")
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = head if head.isdigit() else "1459232241454765289"
        self.bot_name = bot_name
        self.body_shape = body_shape
        self.updates_shape = updates_shape
        self.auto_users = auto_users
        self.api_url = ""
        # inspection
        self.calls: list[ZaloCall] = []
        self.sent: list[ZaloSent] = []
        self.too_many_requests = 0
        self.delivered: set[str] = set()  # message_ids the bot received (getUpdates answer or webhook 2xx)
        self.webhook_errors: list[str] = []
        self.webhook_failed: list[JSON] = []  # events whose every webhook delivery failed
        self.internal_errors: list[BaseException] = []
        # world
        self.users: dict[str, FakeZaloUser] = {}
        self.blocked: set[str] = set()
        self.webhook: Webhook | None = None
        self.pending: deque[JSON] = deque()
        # behaviour
        self.delay = 0.0
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay = webhook_retry_delay
        self._rate = rate
        self._bucket: TokenBucket | None = None
        self._faults = _Faults()
        self._arrived = asyncio.Event()
        self._sent_changed = asyncio.Event()
        self._closed = False
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name.lower(): (name, getattr(self, f"_api_{name}"))
            for name in (
                "getMe",
                "getUpdates",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "sendMessage",
                "sendPhoto",
                "sendSticker",
                "sendChatAction",
            )
        }

    # --- lifecycle ------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        _add_controls(app, self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, backlog=1024).start()
        bound_port = self._runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        self.api_url = f"http://{shown}:{bound_port}"

    async def stop(self) -> None:
        self._closed = True
        self._wake_pollers()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZalo:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- world and faults -----------------------------------------------------------------------------
    def user(self, user_id: str, display_name: str) -> FakeZaloUser:
        """A person with a private chat with the bot, e.g. user("e4ea2cd5189df1c3a88c", "Nguyễn Văn A")."""
        existing = self.users.get(user_id)
        if existing is None:
            existing = self.users[user_id] = FakeZaloUser(self, user_id, display_name)
        return existing

    def block(self, user_id: str) -> None:
        """From now on, sending to this user answers 403 (see the module docstring for why 403)."""
        self.blocked.add(user_id)

    def unblock(self, user_id: str) -> None:
        self.blocked.discard(user_id)

    def force_429(self, count: int = 1) -> None:
        """The next `count` send calls answer error 429 "Quota exceeded"."""
        self._faults.quota += count

    def fail_next(
        self, method: str, status: int = 500, count: int = 1, description: str = "Internal Server Error"
    ) -> None:
        """The next `count` calls of `method` answer this error instead of running."""
        queue = self._faults.by_method.setdefault(method.lower(), deque())
        queue.extend(ZaloError(status, description) for _ in range(count))

    def set_delay(self, seconds: float) -> None:
        """Every method answers this many seconds late."""
        self.delay = max(0.0, seconds)

    def set_rate(self, rate: float | None) -> None:
        """Send calls beyond `rate` per second (bursts of up to one second's worth) answer 429; None: no limit."""
        self._rate, self._bucket = rate, None

    # --- waiting --------------------------------------------------------------------------------------
    async def wait_sent(self, count: int, timeout: float = WAIT) -> list[ZaloSent]:  # noqa: ASYNC109 - public test API
        """Wait until the bot has sent at least `count` messages in all; return them."""
        await _wait_for(lambda: len(self.sent) >= count, lambda: self._sent_changed, timeout)
        return list(self.sent)

    async def wait_delivered(self, message_id: str, timeout: float = WAIT) -> None:  # noqa: ASYNC109 - public test API
        """Wait until an event reached the bot: answered by getUpdates or acknowledged 2xx by the webhook."""
        await _wait_for(lambda: message_id in self.delivered, lambda: self._sent_changed, timeout)

    # --- events to the bot ----------------------------------------------------------------------------
    def emit(self, event: JSON) -> None:
        """Hand a new event to the bot: POSTed to the webhook if one is set, else queued for getUpdates."""
        if self.webhook is not None:
            self._submit(event)
        else:
            self.pending.append(event)
            self._wake_pollers()

    def _wake_pollers(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _mark_delivered(self, event: JSON) -> None:
        self.delivered.add(str(event["message"]["message_id"]))
        self._notify_sent()

    def _notify_sent(self) -> None:
        self._sent_changed.set()
        self._sent_changed = asyncio.Event()

    def _submit(self, event: JSON) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: JSON) -> None:
        """POST one event, in order per chat, retrying a few times; a webhook removed meanwhile re-queues it."""
        chat = str(event["message"]["chat"]["id"])
        async with self._chat_locks.setdefault(chat, asyncio.Lock()):
            for attempt in range(self.webhook_retries + 1):
                hook = self.webhook
                if hook is None:
                    self.emit(event)
                    return
                if await self._post(hook, event):
                    self._mark_delivered(event)
                    return
                if attempt < self.webhook_retries:
                    await asyncio.sleep(self.webhook_retry_delay * 2**attempt)
            self.webhook_failed.append(event)

    async def _post(self, hook: Webhook, event: JSON) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        body = {"ok": True, "result": event} if self.body_shape == "wrapped" else event
        headers = {"Content-Type": "application/json", SECRET_HEADER: hook.secret}
        try:
            data = json.dumps(body, ensure_ascii=False).encode()
            async with self._session.post(hook.url, data=data, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                self.webhook_errors.append(f"webhook answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.webhook_errors.append(f"webhook unreachable: {type(exc).__name__}")
        return False

    # --- methods --------------------------------------------------------------------------------------
    def _api_getMe(self, p: JSON) -> JSON:
        return {
            "id": self.bot_id,
            "account_name": self.bot_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _api_getUpdates(self, p: JSON) -> JSON | list[JSON]:
        self._refuse_while_webhook()
        wait = min(_MAX_POLL, _number(p.get("timeout", 30), "timeout"))
        deadline = time.monotonic() + wait
        while not self.pending and not self._closed:
            arrived = self._arrived
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)
            self._refuse_while_webhook()
        if self.updates_shape == "list":
            events = list(self.pending)
            self.pending.clear()
            for event in events:
                self._mark_delivered(event)
            return events
        if not self.pending:
            raise ZaloError(408, "Request timeout")
        event = self.pending.popleft()
        self._mark_delivered(event)
        return event

    def _refuse_while_webhook(self) -> None:
        if self.webhook is not None:
            raise ZaloError(
                409, "Conflict: getUpdates is not available while a webhook is set; call deleteWebhook"
            )

    def _api_setWebhook(self, p: JSON) -> JSON:
        url, secret = p.get("url"), p.get("secret_token")
        if not isinstance(url, str) or not url:
            raise bad_request("url is required")
        parts = urlsplit(url)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        if not secure or not parts.hostname:
            raise bad_request("url must be an HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise bad_request("secret_token must be 8 to 256 characters")
        self.webhook = Webhook(url, secret, now_ms())
        self._wake_pollers()
        waiting = list(self.pending)
        self.pending.clear()
        for event in waiting:
            self._submit(event)
        return {"url": url, "updated_at": self.webhook.updated_at}

    def _api_deleteWebhook(self, p: JSON) -> JSON:
        self.webhook = None
        return {"url": "", "updated_at": now_ms()}

    def _api_getWebhookInfo(self, p: JSON) -> JSON:
        hook = self.webhook
        return {"url": hook.url if hook else "", "updated_at": hook.updated_at if hook else 0}

    def _api_sendMessage(self, p: JSON) -> JSON:
        text = p.get("text")
        if not isinstance(text, str) or not 1 <= _utf16_len(text) <= TEXT_LIMIT:
            raise bad_request(f"text must be 1 to {TEXT_LIMIT} characters")
        user = self._target(p)
        return self._record(user, "text", text=text)

    def _api_sendPhoto(self, p: JSON) -> JSON:
        photo, caption = p.get("photo"), p.get("caption") or ""
        if not isinstance(photo, str) or urlsplit(photo).scheme not in ("http", "https"):
            raise bad_request("photo must be the URL of an image")
        if not isinstance(caption, str) or _utf16_len(caption) > TEXT_LIMIT:
            raise bad_request(f"caption must be at most {TEXT_LIMIT} characters")
        user = self._target(p)
        return self._record(user, "photo", photo=photo, caption=caption)

    def _api_sendSticker(self, p: JSON) -> JSON:
        sticker = p.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise bad_request("sticker is required")
        user = self._target(p)
        return self._record(user, "sticker", sticker=sticker)

    def _api_sendChatAction(self, p: JSON) -> bool:
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("action must be typing or upload_photo")
        self._target(p)
        return True

    def _target(self, p: JSON) -> FakeZaloUser:
        """The private chat a call addresses, with the answers for unknown and blocked users."""
        chat_id = p.get("chat_id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat_id = str(chat_id)
        if not isinstance(chat_id, str) or not chat_id:
            raise bad_request("chat_id is required")
        user = self.users.get(chat_id)
        if user is None and self.auto_users:
            user = self.user(chat_id, f"Người dùng {chat_id[:6]}")
        if user is None:
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ZaloError(403, "Forbidden: the user has blocked the bot")
        return user

    def _record(self, user: FakeZaloUser, kind: str, **fields: Any) -> JSON:
        self._admit()
        sent = ZaloSent(chat_id=user.id, message_id=zalo_id(), date=now_ms(), kind=kind, **fields)
        self.sent.append(sent)
        user.receive(sent)
        self._notify_sent()
        return {"message_id": sent.message_id, "date": sent.date}

    def _admit(self) -> None:
        if self._rate is None:
            return
        now = time.monotonic()
        if self._bucket is None:
            self._bucket = TokenBucket(self._rate, max(1.0, self._rate), now)
        if self._bucket.wait_time(now) > 0:
            raise ZaloError(429, QUOTA_EXCEEDED)
        self._bucket.tokens -= 1

    # --- HTTP -----------------------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(ZaloError(401, "Unauthorized").as_json())
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _answer(ZaloError(404, "Not Found").as_json())
        name, handler = entry
        call = ZaloCall(name, {}, time.monotonic())
        self.calls.append(call)
        try:
            call.params = await _read_params(request)
            if self.delay:
                await asyncio.sleep(self.delay)
            self._faults.check(name)
            result = handler(call.params)
            if inspect.isawaitable(result):
                result = await result
        except ZaloError as error:
            call.error_code, call.description = error.code, error.description
            if error.code == 429:
                self.too_many_requests += 1
            return _answer(error.as_json())
        except Exception as exc:  # a bug in the fake must not look like a Zalo answer
            self.internal_errors.append(exc)
            call.error_code, call.description = 500, repr(exc)
            return _answer(ZaloError(500, f"Internal Server Error: fake failed: {exc!r}").as_json())
        return _answer({"ok": True, "result": result})


def _answer(body: JSON) -> web.Response:
    status = 200 if body.get("ok") else int(body["error_code"])
    return web.json_response(body, status=status, dumps=lambda b: json.dumps(b, ensure_ascii=False))


async def _read_params(request: web.Request) -> JSON:
    """Parameters from the query string and a JSON or form body, as Zalo accepts them all."""
    params: JSON = dict(request.query)
    try:
        if request.content_type == "application/json":
            raw = await request.read()
            if raw:
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise bad_request("the body must be a JSON object")
                params.update(data)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("cannot parse the request body") from exc
    return params


def _number(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be a number") from None
    return max(0.0, number)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _wait_for(ready: Callable[[], bool], event: Callable[[], asyncio.Event], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        changed = event()
        if ready():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {seconds}s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)


# --- controls for another process (sandbox, benchmarks) ---------------------------------------------------
def _add_controls(app: web.Application, fake: FakeZalo) -> None:
    """`/_fake/...`: create users, make them act, read what they received, inject faults, see counters."""

    async def body(request: web.Request) -> JSON:
        with contextlib.suppress(ValueError):
            data = await request.json()
            if isinstance(data, dict):
                return data
        return {}

    async def state(request: web.Request) -> web.Response:
        hook = fake.webhook
        return web.json_response(
            {
                "ok": True,
                "calls": len(fake.calls),
                "sent": len(fake.sent),
                "too_many_requests": fake.too_many_requests,
                "pending_events": len(fake.pending),
                "webhook": hook.url if hook else None,
                "users": len(fake.users),
            }
        )

    async def create_user(request: web.Request) -> web.Response:
        data = await body(request)
        user_id = str(data.get("user_id") or zalo_id())
        user = fake.user(user_id, str(data.get("display_name") or f"Người dùng {user_id[:6]}"))
        return web.json_response({"ok": True, "user_id": user.id})

    async def act(request: web.Request) -> web.Response:
        user = fake.users.get(request.match_info["user_id"])
        if user is None:
            return web.json_response({"ok": False, "description": "unknown user"}, status=404)
        data = await body(request)
        actions: dict[str, Callable[[], Awaitable[str]]] = {
            "text": lambda: user.send_text(str(data.get("text", ""))),
            "image": lambda: user.send_image(str(data.get("url", "")), str(data.get("caption", ""))),
            "sticker": lambda: user.send_sticker(),
            "unsupported": lambda: user.send_unsupported(),
        }
        action = actions.get(str(data.get("action")))
        if action is None:
            return web.json_response({"ok": False, "description": f"action in {sorted(actions)}"}, status=400)
        return web.json_response({"ok": True, "message_id": await action()})

    async def messages(request: web.Request) -> web.Response:
        user = fake.users.get(request.match_info["user_id"])
        if user is None:
            return web.json_response({"ok": False, "description": "unknown user"}, status=404)
        shown = [
            {"message_id": m.message_id, "date": m.date, "kind": m.kind, "text": m.body, "photo": m.photo}
            for m in user.messages
        ]
        return web.json_response(
            {"ok": True, "messages": shown}, dumps=lambda b: json.dumps(b, ensure_ascii=False)
        )

    async def faults(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            apply_faults(data)
        except (TypeError, ValueError) as exc:
            return web.json_response({"ok": False, "description": f"bad fault: {exc}"}, status=400)
        return web.json_response({"ok": True})

    def apply_faults(data: JSON) -> None:
        if data.get("force_429"):
            fake.force_429(int(data["force_429"]))
        if data.get("fail_next"):
            fake.fail_next(str(data["fail_next"]), int(data.get("status", 500)), int(data.get("count", 1)))
        if "delay" in data:
            fake.set_delay(float(data["delay"]))
        if "rate" in data:
            fake.set_rate(None if data["rate"] in (None, 0) else float(data["rate"]))
        for user_id in data.get("block", []):
            fake.block(str(user_id))

    app.router.add_get("/_fake/state", state)
    app.router.add_post("/_fake/users", create_user)
    app.router.add_post("/_fake/users/{user_id}/actions", act)
    app.router.add_get("/_fake/users/{user_id}/messages", messages)
    app.router.add_post("/_fake/faults", faults)


# --- standalone -------------------------------------------------------------------------------------------
def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake Zalo Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default="1234567890:ZALO-TEST-SECRET")
    parser.add_argument("--bot-name", default="Chibo Zalo")
    parser.add_argument(
        "--rate", type=rate_arg, default=None, help="send calls per second before 429, or 'off'"
    )
    parser.add_argument("--body-shape", choices=BODY_SHAPES, default="wrapped")
    parser.add_argument("--updates-shape", choices=UPDATES_SHAPES, default="single")
    parser.add_argument("--auto-users", action="store_true", help="accept any chat_id as a user")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeZalo(
        args.token,
        rate=args.rate,
        bot_name=args.bot_name,
        body_shape=args.body_shape,
        updates_shape=args.updates_shape,
        auto_users=args.auto_users,
    )
    await serve_until_signalled(fake, args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
