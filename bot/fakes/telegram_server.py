"""A faithful fake of the Telegram Bot API over HTTP, for tests, benchmarks and the sandbox.

The bot under test points python-telegram-bot at it with `base_url=f"{api_url}/bot"` and
`base_file_url=f"{api_url}/file/bot"`. Tests play users through `FakeTelegram.user(...)`, inject faults and
inspect what was sent. Run standalone with `python -m bot.fakes.telegram_server --port 8081`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bot.fakes import telegram_control
from bot.fakes.inbox import WAIT
from bot.fakes.standalone import rate_arg, serve_until_signalled
from bot.fakes.telegram_http import MAX_BODY, error_response, json_response, loggable, read_params
from bot.fakes.telegram_limits import Chaos, FaultPlan, RateLimiter
from bot.fakes.telegram_methods import BotApi
from bot.fakes.telegram_models import JSON, ApiError, Call, SentMessage, StoredFile, bad_request
from bot.fakes.telegram_updates import UpdateBox, WebhookSender, update_kind
from bot.fakes.telegram_users import FakeUser

_DESCRIPTIONS = {"setwebhook": "Webhook was set", "deletewebhook": "Webhook was deleted"}
_FILE_ID_PREFIX = {
    "document": "BQACAgUAAxkBAAI",
    "photo": "AgACAgUAAxkBAAI",
    "audio": "CQACAgUAAxkBAAI",
    "video": "BAACAgUAAxkBAAI",
    "animation": "CgACAgUAAxkBAAI",
}
_FOLDERS = {"photo": "photos", "audio": "music", "video": "videos", "animation": "animations"}
_MEDIA = frozenset({"audio", "video", "animation"})
_THUMB_SIDE = 90


class FakeTelegram:
    """The fake Bot API server: state, HTTP plumbing, test controls and inspection."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "chibo_test_bot",
        global_rate: float | None = 30.0,
        per_chat_rate: float | None = 1.0,
        burst: int = 5,
        auto_users: bool = False,
        callback_ttl: float = 15.0,
        webhook_retries: int = 4,
        webhook_retry_delay: float = 0.2,
        send_log: str | Path | None = None,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.bot_username = bot_username
        self.bot_first_name = "Chibo Test"
        self.api_url = ""
        self.auto_users = auto_users
        self.callback_ttl = callback_ttl
        # inspection
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.too_many_requests = 0
        self.uploads = 0
        self.upload_attempts = 0
        self.commands: dict[tuple[str, int | None], list[JSON]] = {}
        self.commands_by_language: dict[str, dict[tuple[str, int | None], list[JSON]]] = {}
        self.webhook: JSON | None = None
        self.webhook_hosts: dict[str, str] = {}
        self.internal_errors: list[BaseException] = []
        self.delivered: set[int] = set()
        # world
        self.users: dict[int, FakeUser] = {}
        self.blocked: dict[int, str] = {}
        self.bot_messages: dict[tuple[int, int], SentMessage] = {}
        self.message_counters: dict[int, int] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.photo_sizes: dict[str, list[StoredFile]] = {}
        self.callback_queries: dict[str, tuple[FakeUser, float]] = {}
        # behaviour
        self.limiter = RateLimiter(global_rate, per_chat_rate, burst)
        self.faults = FaultPlan()
        self.chaos = Chaos()
        self.delay = 0.0
        self.box = UpdateBox(self._mark_delivered)
        self.sender = WebhookSender(self._mark_delivered, self.box.push, webhook_retries, webhook_retry_delay)
        self._methods = BotApi(self).handlers()
        self._update_id = 100_000
        self._sequence = 0
        self._sent_changed: asyncio.Event | None = None
        self._delivered_changed: asyncio.Event | None = None
        self._send_log_path = Path(send_log) if send_log else None
        self._send_log: TextIO | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        telegram_control.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.api_url = f"http://{host}:{bound_port}"
        self._open_send_log()

    async def stop(self) -> None:
        self.box.close()
        await self.sender.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._send_log is not None:
            self._send_log.close()
            self._send_log = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- world and faults -----------------------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str = "",
        username: str | None = None,
        *,
        started: bool = True,
    ) -> FakeUser:
        """A person with a private chat with the bot; `started=False` until they first write to it."""
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        created = FakeUser(self, user_id, first_name, last_name, username, started=started)
        self.users[user_id] = created
        return created

    def set_limits(self, global_rate: float | None, per_chat_rate: float | None) -> None:
        """Flood limits in msg/s on send*/edit*; None switches one off."""
        self.limiter.configure(global_rate, per_chat_rate)

    def block(self, user_id: int, description: str = "Forbidden: bot was blocked by the user") -> None:
        """From now on, calls to this chat answer 403 (use "Forbidden: user is deactivated" for that case)."""
        self.blocked[user_id] = description
        self._emit_membership(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        if self.blocked.pop(user_id, None) is not None:
            self._emit_membership(user_id, "kicked", "member")

    def fail_next(
        self, method: str, status: int = 500, count: int = 1, description: str = "Internal Server Error"
    ) -> None:
        """The next `count` calls of `method` answer this error instead of running."""
        self.faults.fail_next(method, status, count, description)

    def force_429(
        self, retry_after: int = 1, count: int = 1, method: str | None = None, *, after: int = 0
    ) -> None:
        """The next `count` send*/edit* calls (or calls of `method`) answer 429 with this retry_after; with
        `after`, that many such calls go through first (e.g. after=1: the second piece of a long reply fails)."""
        self.faults.force_429(retry_after, count, method, after)

    def expose_webhook_host(self, public_origin: str, local_origin: str) -> None:
        """Stand in for DNS and the TLS proxy in front of a bot: a webhook registered under `public_origin`
        (https://host[:port], as Telegram demands) is POSTed to `local_origin` (http://127.0.0.1:PORT), same path."""
        self.webhook_hosts[public_origin.rstrip("/")] = local_origin.rstrip("/")

    def webhook_delivery_url(self, url: str) -> str:
        """Where a registered webhook URL is reached from here (see expose_webhook_host)."""
        for public, local in self.webhook_hosts.items():
            if url == public or url.startswith(f"{public}/"):
                return local + url[len(public) :]
        return url

    def set_delay(self, seconds: float) -> None:
        """Every method answers this many seconds late."""
        self.delay = max(0.0, seconds)

    # --- waiting --------------------------------------------------------------------------------------
    async def wait_sent(self, count: int, timeout: float = WAIT) -> list[SentMessage]:  # noqa: ASYNC109 - public test API
        """Wait until the bot has sent at least `count` messages in all; return them."""
        await _wait(
            lambda: len(self.sent) >= count, self._sent_event, timeout, lambda: f"{len(self.sent)} sent"
        )
        return list(self.sent)

    async def wait_delivered(self, update_id: int, timeout: float = WAIT) -> None:  # noqa: ASYNC109 - public test API
        """Wait until an update reached the bot: webhook answered 2xx, or getUpdates confirmed it by offset."""
        await _wait(
            lambda: update_id in self.delivered, self._delivered_event, timeout, lambda: "not delivered"
        )

    def _sent_event(self) -> asyncio.Event:
        if self._sent_changed is None:
            self._sent_changed = asyncio.Event()
        return self._sent_changed

    def _delivered_event(self) -> asyncio.Event:
        if self._delivered_changed is None:
            self._delivered_changed = asyncio.Event()
        return self._delivered_changed

    def _mark_delivered(self, update_id: int) -> None:
        self.delivered.add(update_id)
        if self._delivered_changed is not None:
            self._delivered_changed.set()
            self._delivered_changed = None

    # --- helpers used by methods and users ------------------------------------------------------------
    def bot_json(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def target(self, p: JSON) -> FakeUser:
        """The private chat a call addresses, with Telegram's 400/403 answers."""
        chat_id = p.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None and self.auto_users and isinstance(chat_id, int) and chat_id > 0:
            user = self.user(chat_id, f"User {chat_id}")
        if user is None:
            raise bad_request("chat not found")
        reason = self.blocked.get(user.id)
        if reason:
            raise ApiError(403, reason)
        if not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return user

    def admit(self, chat_id: int, messages: int = 1) -> None:
        self.limiter.admit(chat_id, time.monotonic(), messages)

    def next_media_group_id(self) -> str:
        self._sequence += 1
        return f"{13_000_000_000_000_000 + self._sequence}"

    def next_update_id(self) -> int:
        self._update_id += 1
        return self._update_id

    def next_message_id(self, chat_id: int) -> int:
        current = self.message_counters.get(chat_id, 1)
        self.message_counters[chat_id] = current + 1
        return current

    def emit(self, update: JSON, chat_id: int | None) -> None:
        """Hand a new update to the bot: by webhook if one is set, else to the getUpdates queue."""
        if update_kind(update) not in self.box.allowed:
            return
        if self.webhook is not None:
            self.sender.submit(update, chat_id)
        else:
            self.box.push(update)

    def open_callback_query(self, user: FakeUser) -> str:
        self._sequence += 1
        query_id = f"{self.bot_id}{self._sequence:012d}"
        self.callback_queries[query_id] = (user, time.monotonic())
        return query_id

    def store_file(
        self, kind: str, content: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        self._sequence += 1
        folder = _FOLDERS.get(kind, "documents")
        suffix = Path(file_name).suffix if file_name else ".jpg"
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIX[kind]}{self._sequence}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{secrets.token_urlsafe(9)}",
            kind=kind,
            content=content,
            file_path=f"{folder}/file_{self._sequence}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def store_photo(self, content: bytes) -> list[StoredFile]:
        """Telegram keeps several sizes of a photo; here a thumbnail and the full size (same bytes)."""
        width, height = self.image_size(content) or (1280, 720)
        scale = min(1.0, _THUMB_SIDE / max(width, height, 1))
        sizes = []
        for w, h in ((round(width * scale), round(height * scale)), (width, height)):
            stored = self.store_file("photo", content, None, "image/jpeg")
            stored.width, stored.height = max(1, w), max(1, h)
            sizes.append(stored)
        for stored in sizes:
            self.photo_sizes[stored.file_id] = sizes
        return sizes

    @staticmethod
    def image_size(content: bytes) -> tuple[int, int] | None:
        """(width, height) of an image, or None when it is not one Telegram could process."""
        try:
            from PIL import Image
        except ImportError:  # Pillow ships with the project; without it, trust the bytes
            return (1280, 720)
        try:
            with Image.open(io.BytesIO(content)) as image:
                return image.size
        except Exception:
            return None

    def record_sent(self, msg: SentMessage) -> JSON:
        """A send succeeded: the user sees it, inspection lists it, the standalone log counts it."""
        user = self.users[msg.chat_id]
        user.messages.append(msg)
        self.sent.append(msg)
        self.bot_messages[(msg.chat_id, msg.message_id)] = msg
        user.notify()
        if self._sent_changed is not None:
            self._sent_changed.set()
            self._sent_changed = None
        if self._send_log is not None:
            line = {"chat_id": msg.chat_id, "method": msg.method, "message_id": msg.message_id}
            self._send_log.write(json.dumps(line | {"text": msg.text[:50], "time": time.time()}) + "\n")
        return self.message_json(msg)

    def message_json(self, msg: SentMessage) -> JSON:
        """The Message object Telegram answers with (and puts in callback queries), edits applied."""
        body: JSON = {
            "message_id": msg.message_id,
            "from": self.bot_json(),
            "chat": self.users[msg.chat_id].chat_json(),
            "date": msg.date,
        }
        if msg.edit_date:
            body["edit_date"] = msg.edit_date
        if msg.media_group_id:
            body["media_group_id"] = msg.media_group_id
        if msg.kind in _MEDIA and msg.file:
            body[msg.kind] = msg.file.media_json()
        if msg.kind in ("document", "animation") and msg.file:
            body["document"] = msg.file.document_json()  # an animation comes with its document, as documented
        elif msg.kind == "photo":
            body["photo"] = [size.photo_size_json() for size in msg.photo]
        text_key, entities_key = (
            ("text", "entities") if msg.kind == "text" else ("caption", "caption_entities")
        )
        if msg.text or msg.kind == "text":
            body[text_key] = msg.text
        if msg.entities:
            body[entities_key] = msg.entities
        if msg.inline_keyboard is not None:
            body["reply_markup"] = {"inline_keyboard": msg.inline_keyboard}
        return body

    def _emit_membership(self, user_id: int, old: str, new: str) -> None:
        user = self.users.get(user_id)
        if user is None:
            return

        def member(status: str) -> JSON:
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": self.bot_json(), "status": status} | extra

        update = {
            "chat": user.chat_json(),
            "from": user.as_json(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.emit({"update_id": self.next_update_id(), "my_chat_member": update}, user_id)

    def _open_send_log(self) -> None:
        if self._send_log_path is not None and self._send_log is None:
            self._send_log = self._send_log_path.open("a", encoding="utf-8", buffering=1)

    # --- HTTP -----------------------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return error_response(ApiError(404, "Not Found"))
        name, handler, rate_limited = entry
        call = Call(name, {}, None, time=time.monotonic())
        self.calls.append(call)
        try:
            params = await read_params(request)
            call.params, call.chat_id = loggable(params), params.get("chat_id")
            if self.delay:
                await asyncio.sleep(self.delay)
            chaos = self.chaos.roll(name)
            if chaos == "slow":
                await asyncio.sleep(self.chaos.slow_seconds)
            elif chaos is not None:
                raise self.chaos.error(chaos)
            self.faults.check(name, rate_limited)
            result: Any = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            call.status, call.description = error.status, error.description
            if error.status == 429:
                self.too_many_requests += 1
            return error_response(error)
        except Exception as exc:  # a bug in the fake must not look like a Telegram answer
            self.internal_errors.append(exc)
            call.status, call.description = 500, repr(exc)
            return error_response(ApiError(500, f"Internal Server Error: fake failed: {exc!r}"))
        body: JSON = {"ok": True, "result": result}
        if name.lower() in _DESCRIPTIONS:
            body["description"] = _DESCRIPTIONS[name.lower()]
        return json_response(body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self.files_by_path.get(request.match_info["path"])
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")


async def _wait(
    ready: Callable[[], bool], event: Callable[[], asyncio.Event], seconds: float, what: Callable[[], str]
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        changed = event()
        if ready():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {seconds}s: {what()}")
        try:
            await asyncio.wait_for(changed.wait(), remaining)
        except TimeoutError:
            continue


# --- standalone ---------------------------------------------------------------------------------------
def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="chibo_test_bot")
    parser.add_argument("--global-rate", type=rate_arg, default=30.0, help="msg/s overall, or 'off'")
    parser.add_argument("--per-chat-rate", type=rate_arg, default=1.0, help="msg/s per chat, or 'off'")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--auto-users", action="store_true", help="accept any positive chat_id as a user")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per successful send")
    parser.add_argument(
        "--chaos",
        type=float,
        default=0.0,
        help="share of calls answered 502, 429 or slowly (fault benchmarks)",
    )
    parser.add_argument(
        "--webhook-host",
        action="append",
        default=[],
        metavar="PUBLIC=LOCAL",
        help="deliver webhooks registered under https://PUBLIC to LOCAL (e.g. https://chibo.test=http://127.0.0.1:8080)",
    )
    return parser.parse_args(argv)


def from_args(argv: list[str] | None = None) -> tuple[FakeTelegram, argparse.Namespace]:
    """The fake the command line describes, not yet started."""
    args = _parse_args(argv)
    fake = FakeTelegram(
        args.token,
        bot_username=args.bot_username,
        global_rate=args.global_rate,
        per_chat_rate=args.per_chat_rate,
        burst=args.burst,
        auto_users=args.auto_users,
        send_log=args.log,
    )
    fake.chaos = Chaos(args.chaos)
    for pair in args.webhook_host:
        public, _, local = pair.partition("=")
        fake.expose_webhook_host(public, local)
    return fake, args


async def _serve(argv: list[str] | None) -> None:
    fake, args = from_args(argv)
    await serve_until_signalled(fake, args.host, args.port)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(argv))


if __name__ == "__main__":
    main()
