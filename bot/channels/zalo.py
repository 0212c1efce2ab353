"""The Zalo adapter: a thin aiohttp client of the Zalo Bot API, polling or webhook, mapped to the neutral model.

Zalo bots cannot send documents, buttons or edits (see docs/zalo-bot-api.md), so: choices go out as a numbered
list the user answers by typing, a file goes out as a signed download link from Chibo's own server (`link_maker`),
an image as sendPhoto with that link, and an edit as a new message.

Choices this adapter makes where the platform leaves room:
- A sticker becomes an `Incoming` with no text and `IncomingFile("unsupported")`, what the Telegram adapter makes
  of a sticker, so handlers answer it the same way on both platforms (rather than leaving the user unanswered).
- getUpdates has no offset: Zalo forgets an event once it has handed it out. The poller still awaits each event's
  handling before asking for the next, so events reach the dispatcher in order and a slow bot is not flooded.
- Zalo uploads nothing, so the `Sent.file_ref` of a file is only a marker ("link:<sha256>"); a link is minted
  afresh for every send (links expire), and the marker lets the outbox skip its once-per-file upload lock.
- Zalo gives no retry_after with its 429 "Quota exceeded": `retry_after` (default 5 s) is used instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.downloads import read_at_most
from bot.core.events import (
    Blocked,
    ChannelName,
    DeliveryError,
    Incoming,
    IncomingFile,
    IncomingHandler,
    NotStored,
    OutFile,
    RateLimited,
    Rejected,
    Reply,
    Sent,
    Transient,
    WindowRules,
)
from messages.render import numbered_choices, split_text
from messages.zalo import file_link

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_RETRY_AFTER = 5.0
POLL_TIMEOUT = 25
MAX_DOWNLOAD = 50 * 1024 * 1024
NO_UPDATES = 408  # what getUpdates answers when nothing arrived within its timeout
_MAX_BACKOFF = 30.0
_EPOCH_MS_THRESHOLD = 100_000_000_000  # as milliseconds: March 1973; as seconds: year 5138


class ZaloApiError(Exception):
    """An `ok: false` answer (or a non-JSON error page) of the Bot API."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


class ZaloChannel:
    name = ChannelName.ZALO
    can_share_contact = False
    has_buttons = False
    windows: WindowRules | None = None
    has_commands = False

    def __init__(
        self,
        token: str,
        api_url: str,
        *,
        public_url: str | None = None,
        webhook_secret: str | None = None,
        web_app: web.Application | None = None,
        link_maker: Callable[[OutFile], str] | None = None,  # the file names whom it is delivered for
        poll_timeout: int = POLL_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
        request_timeout: float = 15.0,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self.public_url = public_url
        self.webhook_secret = _usable_secret(webhook_secret)
        self.web_app = web_app
        self.link_maker = link_maker
        self.poll_timeout = poll_timeout
        self.retry_after = retry_after
        self.request_timeout = request_timeout
        self.me: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        self._on_event: IncomingHandler | None = None
        self._poller: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=60))
        self.me = await self._request("getMe")

    async def start(self, on_event: IncomingHandler) -> None:
        self._on_event = on_event
        await self.open()
        if self.public_url and self.web_app is not None:
            self.web_app.router.add_post(WEBHOOK_PATH, self._webhook)
            url = f"{self.public_url.rstrip('/')}{WEBHOOK_PATH}"
            await self._request("setWebhook", url=url, secret_token=self.webhook_secret)
        else:
            await self._request("deleteWebhook")
            self._poller = asyncio.create_task(self._poll())

    @property
    def receiving(self) -> bool:
        """Started, and its polling loop (if it polls) still running: read by /readyz."""
        return self._on_event is not None and (self._poller is None or not self._poller.done())

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _poll(self) -> None:
        backoff = 1.0
        while True:
            try:
                result = await self._call("getUpdates", timeout=self.poll_timeout)
                backoff = 1.0
            except ZaloApiError as exc:
                if exc.code == NO_UPDATES:
                    continue
                if exc.code == 429:
                    await asyncio.sleep(self.retry_after)
                    continue
                log.warning("getUpdates failed: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            except Transient as exc:
                log.warning("getUpdates failed: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            events = result if isinstance(result, list) else [result] if result else []
            await asyncio.gather(*(self._dispatch_until_stored(event) for event in events))

    async def _dispatch_until_stored(self, event: Any) -> None:
        """Zalo hands a polled event out only once: one not stored is kept here and offered again after a
        back-off until the database takes it (the poller waits meanwhile, so nothing new piles up)."""
        backoff = 1.0
        while True:
            try:
                await self._dispatch(event)
                return
            except NotStored as exc:
                log.warning("Zalo event not stored (%s), offering it again in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _dispatch(self, event: Any) -> None:
        incoming = to_incoming(event)
        if incoming is None or self._on_event is None:
            return
        try:
            await self._on_event(incoming)
        except (asyncio.CancelledError, NotStored):
            raise
        except Exception:  # one bad event must not stop the poller or fail the webhook for others
            log.exception("handling Zalo event %s failed", incoming.update_id)

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.webhook_secret.encode()):
            return web.Response(status=403)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        event = unwrap(body)
        if event is None:
            return web.Response(status=400)
        try:
            await self._dispatch(event)
        except NotStored:
            return web.Response(status=503)  # not stored: answered 5xx so the platform may deliver it again
        return web.json_response({"ok": True})

    # -- sending ------------------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, file_ref: str | None = None) -> Sent:
        """Send `reply`; `file_ref` is ignored (see the module docstring): a fresh link is made every time. The
        text, a link per document and the choices share messages as far as 2,000 characters allow; photos follow,
        one sendPhoto each, the choices under the last (a lone photo takes the text as its caption)."""
        choices = numbered_choices(reply.buttons)[0] if reply.buttons and not reply.listed else ""
        files = reply.files
        photos = [f for f in files if f.as_photo]
        if len(photos) == len(files) == 1:
            return await self._send_photo(chat_id, reply, photos[0], choices)
        chunks = _fit(split_text(reply.text, TEXT_LIMIT)) if reply.text.strip() else []
        for f in files:
            if not f.as_photo:
                chunks = _append_block(chunks, file_link(f.name, f.size, self._link(f)))
        if choices and not photos:
            chunks = _append_block(chunks, choices)
        if not chunks and not photos:
            raise Rejected("empty message: Zalo needs 1 to 2000 characters")
        message_id = ""
        for chunk in chunks:
            message_id = _message_id(await self._request("sendMessage", chat_id=chat_id, text=chunk))
        for i, photo in enumerate(photos, start=1):
            under = choices if i == len(photos) else ""
            message_id = (await self._send_photo(chat_id, Reply(), photo, under)).message_id
        markers = [_file_marker(f) for f in files]
        return Sent(message_id, file_ref=markers[0] if markers else None, group_refs=tuple(markers[1:]))

    async def _send_photo(self, chat_id: str, reply: Reply, file: OutFile, choices: str) -> Sent:
        photo = self._link(file)
        caption = "\n\n".join(part for part in (reply.text.strip(), choices) if part)
        if _utf16_len(caption) > TEXT_LIMIT:
            # Too long for a caption: the text goes first, the photo follows with the choices under it.
            for chunk in _fit(split_text(reply.text, TEXT_LIMIT)):
                await self._request("sendMessage", chat_id=chat_id, text=chunk)
            caption = choices if _utf16_len(choices) <= TEXT_LIMIT else ""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        result = await self._request("sendPhoto", **params)
        return Sent(_message_id(result), file_ref=_file_marker(file))

    def _link(self, file: OutFile) -> str:
        if self.link_maker is None:
            raise Rejected("Zalo cannot send files: no link_maker configured for download links")
        return self.link_maker(file)

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        """Zalo cannot edit a message: the new text is sent as a new message."""
        await self.send(chat_id, Reply(text=reply.text, buttons=reply.buttons, listed=reply.listed))

    async def answer_button(self, callback_id: str) -> None:
        """Zalo has no buttons, so there is nothing to answer."""

    async def download(self, file: IncomingFile) -> bytes:
        """Fetch a photo the user sent from the URL Zalo gave; at most MAX_DOWNLOAD bytes."""
        if not file.ref:
            raise Rejected("this file has no link: Zalo does not pass it to bots")
        try:
            async with self._http().get(file.ref, timeout=_timeout(60.0)) as resp:
                if resp.status >= 400:
                    raise _delivery_error(ZaloApiError(resp.status, resp.reason or "download failed"))
                data = await read_at_most(resp, MAX_DOWNLOAD)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"download failed: {exc!r}") from exc
        if len(data) > MAX_DOWNLOAD:
            raise Rejected(f"file larger than {MAX_DOWNLOAD} bytes")
        return data

    async def set_commands(self, chat_id: str | None, commands: list[tuple[str, str]]) -> None:
        """Zalo bots have no command menu."""

    def message_count(self, reply: Reply) -> int:
        """Sending costs nothing here: no forecast needs the exact count."""
        return 1

    def invite_link(self, code: str) -> str | None:
        return None

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _request(self, method: str, **params: Any) -> Any:
        """One API call with errors mapped to the delivery errors the outbox understands."""
        try:
            return await self._call(method, **params)
        except ZaloApiError as exc:
            raise _delivery_error(exc, self.retry_after) from exc

    async def _call(self, method: str, **params: Any) -> Any:
        """POST `params` as JSON to `method`; the `result` of an `ok` answer, else ZaloApiError or Transient."""
        wait = float(params.get("timeout", 0)) + 10 if method == "getUpdates" else self.request_timeout
        try:
            async with self._http().post(
                f"{self._base}/{method}", json=params, timeout=_timeout(wait)
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"{method}: {exc!r}") from exc
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ZaloApiError(status if status >= 400 else 502, raw[:200].decode("utf-8", "replace"))
        if body.get("ok") is True and status < 400:
            return body.get("result")
        code = body.get("error_code")
        code = code if isinstance(code, int) and code != 0 else (status if status >= 400 else 400)
        raise ZaloApiError(code, str(body.get("description") or "error"))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # send() may be used without start() (a CLI broadcast, tests): open the session on demand.
            self._session = aiohttp.ClientSession()
        return self._session


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=seconds)


def _usable_secret(secret: str | None) -> str:
    """Zalo wants 8–256 characters; a missing secret gets a random one, an unfit one its SHA-256 in hex."""
    if not secret:
        return secrets.token_urlsafe(32)
    if 8 <= len(secret) <= 256:
        return secret
    return hashlib.sha256(secret.encode()).hexdigest()


def _message_id(result: Any) -> str:
    return str(result.get("message_id", "")) if isinstance(result, dict) else ""


def _file_marker(file: OutFile | None) -> str | None:
    return f"link:{file.sha256}" if file is not None else None


def _delivery_error(exc: ZaloApiError, retry_after: float = DEFAULT_RETRY_AFTER) -> DeliveryError:
    code, text = exc.code, str(exc)
    if code == 429 or "quota" in exc.description.lower():
        return RateLimited(retry_after, text)
    if code == 403:
        return Blocked(text)
    if code == 401:
        return Transient(text)  # a wrong token is a deployment problem: keep the message until it is fixed
    if 400 <= code < 500 and code != 408:
        return Rejected(text)
    return Transient(text)


# -- text ---------------------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(chunks: list[str]) -> list[str]:
    """Re-split any chunk over the limit when counted in UTF-16 units (emoji count two), never inside a word."""
    out: list[str] = []
    for chunk in chunks:
        excess = _utf16_len(chunk) - TEXT_LIMIT
        if excess <= 0:
            out.append(chunk)
        else:
            out.extend(_fit(split_text(chunk, max(1, len(chunk) - excess))))
    return out


def _append_block(chunks: list[str], block: str) -> list[str]:
    """Add `block` after the text, in the last chunk if it fits there, else as chunks of its own."""
    if chunks and _utf16_len(chunks[-1]) + 2 + _utf16_len(block) <= TEXT_LIMIT:
        return [*chunks[:-1], f"{chunks[-1]}\n\n{block}"]
    return [*_fit(chunks), *_fit(split_text(block, TEXT_LIMIT))]


# -- events -------------------------------------------------------------------------------------------------


def unwrap(body: Any) -> dict[str, Any] | None:
    """The event in a webhook body: documented `{"ok": true, "result": {...}}` or flat `{...}`."""
    if not isinstance(body, dict):
        return None
    inner = body.get("result")
    if "message" not in body and isinstance(inner, dict):
        return inner
    return body


def to_incoming(event: Any) -> Incoming | None:
    """Map a Zalo event to the neutral event; events Chibo does not use (groups, bots, junk) give None."""
    if not isinstance(event, dict):
        return None
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict) or sender.get("is_bot") is True:
        return None
    if str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE" or not sender.get("id"):
        return None
    user_id, chat_id = str(sender["id"]), str(chat.get("id") or sender["id"])
    date = _date(message.get("date"))
    base: dict[str, Any] = {
        "channel": ChannelName.ZALO,
        "update_id": str(message.get("message_id") or f"{chat_id}:{int(date.timestamp() * 1000)}"),
        "user_id": user_id,
        "chat_id": chat_id,
        "display_name": _nfc(sender.get("display_name") or sender.get("first_name") or ""),
        "date": date,
    }
    name = str(event.get("event_name", ""))
    text = message.get("text")
    if name == "message.image.received":
        photo = message.get("photo") or message.get("photo_url")
        caption = message.get("caption") or text
        file = (
            IncomingFile("photo", str(photo), mime="image/jpeg")
            if photo
            else IncomingFile("unsupported", None)
        )
        return Incoming(
            **base, file=file, text=_nfc(caption) if isinstance(caption, str) and caption else None
        )
    if name == "message.text.received" or (not name and isinstance(text, str)):
        return _text_incoming(base, _nfc(text) if isinstance(text, str) else "")
    # Stickers, files Zalo does not pass on, and event kinds added later: "something came that is not text".
    return Incoming(**base, file=IncomingFile("unsupported", None))


def _text_incoming(base: dict[str, Any], text: str) -> Incoming:
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        head, _, args = stripped.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return Incoming(**base, text=text, command=command, args=args.strip())
    return Incoming(**base, text=text)


def _date(value: Any) -> datetime:
    """Zalo dates are milliseconds since the epoch; a value in seconds is accepted too, junk means now."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return datetime.now(UTC)
    seconds = value / 1000 if value >= _EPOCH_MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", str(text))
