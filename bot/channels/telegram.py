"""The Telegram adapter: python-telegram-bot's `Bot` over aiohttp, polling or webhook, mapped to the neutral model."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels.aiohttp_request import AiohttpRequest
from bot.core.events import (
    Blocked,
    ChannelName,
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
    Unreadable,
    WindowRules,
)
from bot.core.limits import LIMITS
from bot.services.files import FileStore
from bot.services.invites import telegram_link
from messages.registration import SHARE_PHONE_BUTTON
from messages.render import split_long, split_text

log = logging.getLogger(__name__)
# We call do_api_request on purpose for raw results (see TelegramChannel._call); PTB nudges towards its typed methods.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.(send|editMessageText|getUpdates)", category=PTBUserWarning
)

TEXT_LIMIT = LIMITS[ChannelName.TELEGRAM].text
CAPTION_LIMIT = LIMITS[ChannelName.TELEGRAM].caption or 0
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's refusals of a file as a photo (over 10 MB, width + height over 10000, sides over 20:1, not an image
# it can read): the file still goes out, as a document.
PHOTO_REFUSALS = ("PHOTO_INVALID_DIMENSIONS", "IMAGE_PROCESS_FAILED", "PHOTO_SAVE_FILE_INVALID")
AS_DOCUMENT = "document:"  # prefix of the file_ref of a photo that went out as a document
POLL_TIMEOUT = 25
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_BACKOFF = 30.0


class TelegramChannel:
    name = ChannelName.TELEGRAM
    can_share_contact = True
    has_buttons = True
    windows: WindowRules | None = None
    has_commands = True

    def __init__(
        self,
        token: str,
        api_url: str,
        files: FileStore,
        *,
        public_url: str | None = None,
        webhook_secret: str | None = None,
        web_app: web.Application | None = None,
        paid_broadcast: bool = False,
    ) -> None:
        api_url = api_url.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{api_url}/bot",
            base_file_url=f"{api_url}/file/bot",
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connections=2, read_timeout=40),
        )
        self.files = files
        self.public_url = public_url
        self.webhook_secret = webhook_secret
        self.web_app = web_app
        # Unpaced sending (CHIBO_TELEGRAM_RATE=0) asks Telegram to lift its ~30 msg/s limit, billed in Stars.
        self._paid = True if paid_broadcast else None
        self.username: str | None = None
        self._on_event: IncomingHandler | None = None
        self._poller: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            await self.bot.initialize()
        except TelegramError as exc:  # no network, a wrong token: the caller says so in one line
            raise _delivery_error(exc) from exc
        self.username = self.bot.username

    async def start(self, on_event: IncomingHandler) -> None:
        self._on_event = on_event
        await self.open()
        if self.public_url and self.web_app is not None:
            self.web_app.router.add_post(WEBHOOK_PATH, self._webhook)
            await self.bot.set_webhook(
                f"{self.public_url.rstrip('/')}{WEBHOOK_PATH}",
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await self.bot.delete_webhook()
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
        await self.bot.shutdown()

    async def _poll(self) -> None:
        """Long-poll raw updates and confirm a batch (the next offset) only once every update in it is stored or
        set aside: an update the dispatcher could not store comes again with the same offset, after a back-off."""
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = await self._get_updates(offset)
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                log.warning("getUpdates failed: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if not updates:
                backoff = 1.0
                continue
            outcomes = await asyncio.gather(*(self._dispatch(u) for u in updates), return_exceptions=True)
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                for other in failed:
                    if not isinstance(other, NotStored):
                        raise other  # a bug in the dispatcher itself, not a fault to wait out
                log.warning("%d updates not stored, asking for them again in %.0fs", len(failed), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
            if ids:
                offset = max(ids) + 1

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """The raw updates: each is parsed on its own (`_dispatch`), so one Telegram cannot parse stops none."""
        result = await self.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                k: v
                for k, v in {
                    "offset": offset,
                    "timeout": POLL_TIMEOUT,
                    "allowed_updates": ALLOWED_UPDATES,
                }.items()
                if v is not None
            },
            read_timeout=POLL_TIMEOUT + 15,
        )
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    async def _dispatch(self, raw: dict[str, Any]) -> None:
        """Hand one raw update to the dispatcher, as an `Incoming` or, when it cannot be read, as `Unreadable`."""
        try:
            event: Incoming | Unreadable | None = to_incoming(Update.de_json(raw, self.bot))
        except Exception as exc:  # malformed: whatever the shape, it is kept for inspection, not retried
            payload = json.dumps(raw, ensure_ascii=False, default=str)
            event = Unreadable(self.name, str(raw.get("update_id")), payload, f"{type(exc).__name__}: {exc}")
        if event is not None and self._on_event is not None:
            await self._on_event(event)

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(given, self.webhook_secret):
            return web.Response(status=403)
        try:
            raw = await request.json()
        except ValueError as exc:
            log.warning("webhook body refused: %r", exc)
            return web.Response(status=400)
        if not isinstance(raw, dict):
            return web.Response(status=400)
        try:
            await self._dispatch(raw)
        except NotStored:
            return web.Response(status=503)  # not stored: Telegram delivers it again
        return web.Response(text="ok")

    # -- sending ------------------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, file_ref: str | None = None) -> Sent:
        try:
            if reply.group:
                return await self._send_group(chat_id, reply)
            if reply.file is not None:
                return await self._send_file(chat_id, reply, file_ref)
            # Rows built by services.outbox.enqueue hold texts that fit (split_long); this is the last resort for
            # rows built elsewhere or before, where a 429 on a later chunk resends the earlier ones.
            chunks = split_text(reply.text, TEXT_LIMIT)
            result: dict[str, Any] = {}
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                result = await self._call(
                    "sendMessage",
                    chat_id=int(chat_id),
                    text=chunk,
                    reply_markup=_markup(reply) if last else None,
                    allow_paid_broadcast=self._paid,
                )
            return Sent(str(result["message_id"]))
        except TelegramError as exc:
            raise _delivery_error(exc) from exc

    async def _call(self, method: str, **params: Any) -> Any:
        """A Bot API call through PTB (request building, error mapping) returning the raw result: parsing every
        sent Message into PTB objects cost a third of the sender's CPU and nothing here reads them."""
        kwargs = {k: v for k, v in params.items() if v is not None}
        return await self.bot.do_api_request(method, api_kwargs=kwargs)

    async def _send_file(self, chat_id: str, reply: Reply, file_ref: str | None) -> Sent:
        assert reply.file is not None
        caption = reply.text if len(reply.text) <= CAPTION_LIMIT else ""
        if reply.text and not caption:
            for chunk in split_text(reply.text, TEXT_LIMIT):
                await self._call(
                    "sendMessage", chat_id=int(chat_id), text=chunk, allow_paid_broadcast=self._paid
                )
        if reply.file.as_photo and not (file_ref or "").startswith(AS_DOCUMENT):
            try:
                return await self._send_photo(chat_id, reply, caption, file_ref)
            except BadRequest as exc:
                if not _breaks_photo_rules(exc):
                    raise
                log.info("%s is no photo for Telegram (%s): sending it as a document", reply.file.name, exc)
        return await self._send_document(chat_id, reply, caption, file_ref)

    async def _send_photo(self, chat_id: str, reply: Reply, caption: str, file_ref: str | None) -> Sent:
        assert reply.file is not None
        result = await self._call(
            "sendPhoto",
            chat_id=int(chat_id),
            photo=file_ref or self._input(reply.file),
            caption=caption or None,
            reply_markup=_markup(reply),
            allow_paid_broadcast=self._paid,
        )
        return Sent(str(result["message_id"]), file_ref=_ref_of(result, reply.file, as_photo=True))

    async def _send_document(self, chat_id: str, reply: Reply, caption: str, file_ref: str | None) -> Sent:
        """A file as a document, also when it is audio, video or a GIF: Telegram would otherwise turn it into
        one of those, whose answer has no document to reuse, and every recipient would cost an upload."""
        assert reply.file is not None
        result = await self._call(
            "sendDocument",
            chat_id=int(chat_id),
            document=file_ref.removeprefix(AS_DOCUMENT) if file_ref else self._input(reply.file),
            caption=caption or None,
            reply_markup=_markup(reply),
            disable_content_type_detection=True,
            allow_paid_broadcast=self._paid,
        )
        return Sent(str(result["message_id"]), file_ref=_ref_of(result, reply.file, as_photo=False))

    def _input(self, file: OutFile, *, attach: bool = False) -> InputFile:
        """The file's bytes to upload; `attach`: as a part a media group's item points at (attach://)."""
        return InputFile(self.files.read(file.sha256), filename=file.name, attach=attach)

    async def _send_group(self, chat_id: str, reply: Reply) -> Sent:
        """Several files as one media group (one call, each file a message), the text as the first one's caption.
        Rows built by services.outbox hold groups Telegram takes (split_long); any other is laid out here, as a
        last resort: a 429 on a later piece resends the earlier ones."""
        pieces = split_long([reply], LIMITS[ChannelName.TELEGRAM])
        if pieces != [reply]:
            sent = Sent("")
            for piece in pieces:
                sent = await self.send(chat_id, piece, piece.file.ref if piece.file else None)
            return sent
        as_photos = all(f.as_photo and not (f.ref or "").startswith(AS_DOCUMENT) for f in reply.files)
        if as_photos:
            try:
                return await self._media_group(chat_id, reply, as_photos=True)
            except BadRequest as exc:
                if not _breaks_photo_rules(exc):
                    raise
                log.info("an album is no photos for Telegram (%s): sending them as documents", exc)
        return await self._media_group(chat_id, reply, as_photos=False)

    async def _media_group(self, chat_id: str, reply: Reply, *, as_photos: bool) -> Sent:
        media: list[InputMediaDocument | InputMediaPhoto] = []
        for i, f in enumerate(reply.files):
            caption = reply.text if i == 0 and reply.text else None
            if as_photos:
                photo = f.ref or self._input(f, attach=True)
                media.append(InputMediaPhoto(photo, caption=caption))
            else:
                usable = f.ref if f.ref and (not f.as_photo or f.ref.startswith(AS_DOCUMENT)) else None
                document = usable.removeprefix(AS_DOCUMENT) if usable else self._input(f, attach=True)
                media.append(
                    InputMediaDocument(document, caption=caption, disable_content_type_detection=True)
                )
        result = await self._call(
            "sendMediaGroup", chat_id=int(chat_id), media=media, allow_paid_broadcast=self._paid
        )
        messages = result if isinstance(result, list) else []  # one Message per file
        refs = [_ref_of(m, f, as_photo=as_photos) for m, f in zip(messages, reply.files, strict=False)]
        first = str(messages[0]["message_id"]) if messages else ""
        return Sent(first, file_ref=refs[0] if refs else None, group_refs=tuple(refs[1:]))

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        try:
            await self._call(
                "editMessageText",
                chat_id=int(chat_id),
                message_id=int(message_id),
                text=reply.text[:TEXT_LIMIT],
                reply_markup=_inline(reply),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise _delivery_error(exc) from exc
        except TelegramError as exc:
            raise _delivery_error(exc) from exc

    async def answer_button(self, callback_id: str) -> None:
        await self.bot.answer_callback_query(callback_id)

    async def download(self, file: IncomingFile) -> bytes:
        if file.ref is None:
            raise Rejected("this file has no handle")
        try:
            remote = await self.bot.get_file(file.ref)
            return bytes(await remote.download_as_bytearray())
        except TelegramError as exc:
            raise _delivery_error(exc) from exc

    async def set_commands(self, chat_id: str | None, commands: list[tuple[str, str]]) -> None:
        scope = BotCommandScopeChat(int(chat_id)) if chat_id else BotCommandScopeDefault()
        try:
            await self.bot.set_my_commands([BotCommand(c, d) for c, d in commands], scope=scope)
        except TelegramError as exc:
            raise _delivery_error(exc) from exc

    def message_count(self, reply: Reply) -> int:
        """Sending costs nothing here, but each file of a media group counts against the flood limits (pacing)."""
        return max(1, len(reply.files)) if reply.group else 1

    def invite_link(self, code: str) -> str | None:
        return telegram_link(self.username, code) if self.username else None


# reply_markup as the Bot API's JSON: building PTB's keyboard objects and serialising them cost five times as much,
# on every message the sender sends.
Markup = dict[str, Any]


def _inline(reply: Reply) -> Markup | None:
    if not reply.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in reply.buttons
        ]
    }


def _markup(reply: Reply) -> Markup | None:
    if reply.request_contact:
        return {
            "keyboard": [[{"text": SHARE_PHONE_BUTTON, "request_contact": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if reply.remove_keyboard and not reply.buttons:
        return {"remove_keyboard": True}
    return _inline(reply)


def _ref_of(message: Any, file: OutFile, *, as_photo: bool) -> str | None:
    """The reusable handle of a file in a sent message. A photo that went out as a document says so in its handle
    (AS_DOCUMENT), so later sends skip the doomed sendPhoto."""
    if not isinstance(message, dict):
        return None
    if as_photo:
        return message["photo"][-1]["file_id"] if message.get("photo") else None
    ref = message["document"]["file_id"] if message.get("document") else None
    return f"{AS_DOCUMENT}{ref}" if ref and file.as_photo else ref


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _breaks_photo_rules(exc: BadRequest) -> bool:
    # python-telegram-bot rewrites "Bad Request: PHOTO_INVALID_DIMENSIONS" as "Photo_invalid_dimensions".
    return any(refusal in str(exc).upper() for refusal in PHOTO_REFUSALS)


def _delivery_error(exc: TelegramError) -> Exception:
    if isinstance(exc, RetryAfter):
        return RateLimited(max(1.0, _seconds(exc.retry_after)), str(exc))
    if isinstance(exc, Forbidden):
        return Blocked(str(exc))
    if isinstance(exc, BadRequest):
        return Rejected(str(exc))
    if isinstance(exc, TimedOut | NetworkError):
        return Transient(str(exc))
    return Transient(str(exc))


def to_incoming(update: Update) -> Incoming | None:
    """Map a Telegram update to the neutral event; updates Chibo does not use give None."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message else query.from_user.id
        return Incoming(
            channel=ChannelName.TELEGRAM,
            update_id=str(update.update_id),
            user_id=str(query.from_user.id),
            chat_id=str(chat),
            display_name=query.from_user.full_name,
            date=query.message.date if query.message else datetime.now(UTC),
            button=query.data,
            callback_id=query.id,
        )
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return None
    user = message.from_user
    base: dict[str, Any] = {
        "channel": ChannelName.TELEGRAM,
        "update_id": str(update.update_id),
        "user_id": str(user.id),
        "chat_id": str(message.chat.id),
        "display_name": user.full_name,
        "date": message.date,
    }
    if message.contact is not None:
        own = message.contact.user_id == user.id
        return Incoming(**base, contact_phone=message.contact.phone_number, contact_is_own=own)
    if message.document is not None:
        doc = message.document
        file = IncomingFile("document", doc.file_id, doc.file_name, doc.mime_type, doc.file_size)
        return Incoming(**base, file=file, text=message.caption)
    if message.photo:
        photo = message.photo[-1]
        file = IncomingFile("photo", photo.file_id, None, "image/jpeg", photo.file_size)
        return Incoming(**base, file=file, text=message.caption)
    text = message.text or ""
    if text.startswith("/"):
        head, _, args = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return Incoming(**base, text=text, command=command, args=args.strip())
    if message.text is None:
        return Incoming(**base, file=IncomingFile("unsupported", None))
    return Incoming(**base, text=text)
