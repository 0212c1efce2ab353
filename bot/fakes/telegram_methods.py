"""The Bot API methods of the fake server, with Telegram's validation, limits and answer shapes.

Each `api_<methodName>` takes the coerced parameters and returns the `result` of the answer, or raises
ApiError. State lives in FakeTelegram (telegram_server.py).
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.fakes.telegram_http import MAX_UPLOAD
from bot.fakes.telegram_models import (
    JSON,
    ApiError,
    SentMessage,
    StoredFile,
    Upload,
    bad_request,
    inline_buttons,
    reply_keyboard_labels,
    wants_contact,
)
from bot.fakes.telegram_text import check_length, parse_text
from bot.fakes.telegram_updates import update_kind

if TYPE_CHECKING:
    from bot.fakes.telegram_server import FakeTelegram

MAX_PHOTO = 10 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000  # width + height
MAX_PHOTO_RATIO = 20
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
# What Telegram makes of a document upload unless disable_content_type_detection is set.
DETECTED_KINDS = {
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "video/mp4": "video",
    "image/gif": "animation",
}
MAX_DOWNLOAD = 20 * 1024 * 1024
# sendMediaGroup: 2 to 10 items; documents (and audios) only with their own kind, photos and videos together.
MEDIA_GROUP_SIZES = range(2, 11)
MEDIA_GROUP_KINDS = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}
MAX_CALLBACK_ANSWER = 200
RATE_LIMITED = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPES_WITH_CHAT = frozenset({"chat", "chat_administrators", "chat_member"})
_SCOPES = _SCOPES_WITH_CHAT | {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BotApi:
    """Handlers of the Bot API methods the fake speaks, working on the server's state."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    def handlers(self) -> dict[str, tuple[str, Callable[[JSON], Any], bool]]:
        """Lower-case method name -> (canonical name, handler, counts against flood limits)."""
        names = [name.removeprefix("api_") for name in dir(self) if name.startswith("api_")]
        return {n.lower(): (n, getattr(self, f"api_{n}"), n.lower() in RATE_LIMITED) for n in names}

    # --- identity and updates -------------------------------------------------------------------------
    def api_getMe(self, p: JSON) -> JSON:
        return self.tg.bot_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def api_getUpdates(self, p: JSON) -> list[JSON]:
        if self.tg.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        self.tg.box.set_allowed(p.get("allowed_updates"))
        limit = min(100, max(1, p.get("limit") or 100))
        return await self.tg.box.poll(p.get("offset"), limit, max(0, p.get("timeout") or 0))

    def api_setWebhook(self, p: JSON) -> bool:
        url = p.get("url") or ""
        if not url:
            return self.api_deleteWebhook(p)
        _check_webhook_url(url)
        secret = p.get("secret_token") or None
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.get("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self.tg.box.set_allowed(p.get("allowed_updates"))
        self.tg.box.terminate("terminated by setWebhook request")
        self.tg.webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self.tg.sender.configure(self.tg.webhook_delivery_url(url), secret, max_connections)
        waiting = self.tg.box.take_all()
        if not p.get("drop_pending_updates"):
            for update in waiting:
                self.tg.sender.submit(update, _update_chat(update))
        return True

    def api_deleteWebhook(self, p: JSON) -> bool:
        self.tg.webhook = None
        self.tg.sender.configure(None, None)
        if p.get("drop_pending_updates"):
            self.tg.box.take_all()
        return True

    def api_getWebhookInfo(self, p: JSON) -> JSON:
        info: JSON = {
            "url": self.tg.webhook["url"] if self.tg.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.tg.sender.in_flight if self.tg.webhook else len(self.tg.box.pending),
            "allowed_updates": sorted(self.tg.box.allowed),
        }
        if self.tg.webhook:
            info.update(max_connections=self.tg.webhook["max_connections"], ip_address="127.0.0.1")
        if self.tg.sender.last_error_date:
            info.update(
                last_error_date=self.tg.sender.last_error_date,
                last_error_message=self.tg.sender.last_error_message,
            )
        return info

    # --- sending --------------------------------------------------------------------------------------
    def api_sendMessage(self, p: JSON) -> JSON:
        user = self.tg.target(p)
        plain, entities = parse_text(_string(p.get("text")), p.get("parse_mode"), p.get("entities"))
        check_length(plain, caption=False)
        markup = _markup(p.get("reply_markup"))
        reply_to = self._reply_to(user.id, p)
        self.tg.admit(user.id)
        msg = self._new_message(user.id, "text", "sendMessage", markup, reply_to)
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = (
            plain,
            _string(p.get("text")),
            p.get("parse_mode"),
            entities,
        )
        return self.tg.record_sent(msg)

    def api_sendDocument(self, p: JSON) -> JSON:
        return self._send_file(p, "document", "sendDocument")

    def api_sendPhoto(self, p: JSON) -> JSON:
        return self._send_file(p, "photo", "sendPhoto")

    def api_sendChatAction(self, p: JSON) -> bool:
        self.tg.target(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def api_sendMediaGroup(self, p: JSON) -> list[JSON]:
        """An album: each item a message of its own sharing a media_group_id, answered as an array of them. It has
        no reply_markup (Telegram ignores one), and every item counts against the overall flood limit; in the chat
        the album arrives as one burst (the fake's reading: one message against the per-chat limit)."""
        user = self.tg.target(p)
        media = p.get("media")
        if media is None or media == "":
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
            raise bad_request("can't parse media JSON object")
        if len(media) not in MEDIA_GROUP_SIZES:  # the fake's wording: Telegram's is not published
            raise bad_request("media group must include 2-10 items")
        kinds = [item.get("type") for item in media]
        if any(kind not in MEDIA_GROUP_KINDS for kind in kinds):
            raise bad_request("can't parse InputMedia: media type is invalid")
        if len({MEDIA_GROUP_KINDS[kind] for kind in kinds}) > 1:  # the fake's wording, likewise
            raise bad_request("documents and audios can be grouped only with media of the same type")
        items = []
        for number, item in enumerate(media, start=1):
            try:
                items.append(self._group_item(p, item))
            except ApiError as exc:  # Telegram names the item that failed
                reason = exc.description.removeprefix("Bad Request: ")
                raise bad_request(
                    f'failed to send message #{number} with the error message "{reason}"'
                ) from exc
        reply_to = self._reply_to(user.id, p)
        self.tg.admit(user.id, len(items))
        group_id = self.tg.next_media_group_id()
        sent = []
        for (kind, caption, source), item in zip(items, media, strict=True):
            msg = self._new_message(user.id, kind, "sendMediaGroup", None, reply_to)
            msg.media_group_id = group_id
            self._fill_file(msg, caption, source, item)
            sent.append(self.tg.record_sent(msg))
        return sent

    def _group_item(
        self, p: JSON, item: JSON
    ) -> tuple[str, tuple[str, list[JSON], str], Upload | StoredFile]:
        kind = str(item["type"])
        caption, entities = parse_text(
            _string(item.get("caption")), item.get("parse_mode"), item.get("caption_entities")
        )
        check_length(caption, caption=True)
        source = self._file_source({kind: item.get("media"), **_attached(p, item)}, kind)
        return kind, (caption, entities, _string(item.get("caption"))), source

    def _send_file(self, p: JSON, kind: str, method: str) -> JSON:
        user = self.tg.target(p)
        caption, entities = parse_text(
            _string(p.get("caption")), p.get("parse_mode"), p.get("caption_entities")
        )
        check_length(caption, caption=True)
        markup = _markup(p.get("reply_markup"))
        source = self._file_source(p, kind)
        reply_to = self._reply_to(user.id, p)
        self.tg.admit(user.id)
        msg = self._new_message(user.id, kind, method, markup, reply_to)
        self._fill_file(msg, (caption, entities, _string(p.get("caption"))), source, p)
        return self.tg.record_sent(msg)

    def _fill_file(
        self, msg: SentMessage, caption: tuple[str, list[JSON], str], source: Upload | StoredFile, p: JSON
    ) -> None:
        """The caption and file of a sent message, storing an upload as Telegram does."""
        kind = msg.kind
        msg.text, msg.entities, msg.raw_text = caption
        msg.parse_mode = p.get("parse_mode")
        if isinstance(source, Upload):
            self.tg.uploads += 1
            if kind == "photo":
                msg.photo = self.tg.store_photo(source.content)
            else:
                mime = _mime(source)
                if not p.get("disable_content_type_detection"):
                    msg.kind = DETECTED_KINDS.get(mime, kind)
                msg.file = self.tg.store_file(msg.kind, source.content, source.filename, mime)
        elif kind == "photo":
            msg.photo = self.tg.photo_sizes.get(source.file_id, [source])
        else:
            msg.file = source
        if msg.photo:
            msg.file = msg.photo[-1]

    def _file_source(self, p: JSON, kind: str) -> Upload | StoredFile:
        value = p.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            return self._check_upload(value, kind)
        if not value or not isinstance(value, str):
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self.tg.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    def _check_upload(self, upload: Upload, kind: str) -> Upload:
        self.tg.upload_attempts += 1
        if not upload.content:
            raise bad_request("file must be non-empty")
        if len(upload.content) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo":
            _check_photo(len(upload.content), self.tg.image_size(upload.content))
        return upload

    def _reply_to(self, chat_id: int, p: JSON) -> int | None:
        params = p.get("reply_parameters") or {}
        message_id = params.get("message_id") if isinstance(params, dict) else None
        message_id = message_id or p.get("reply_to_message_id")
        if not message_id:
            return None
        allow = p.get("allow_sending_without_reply") or (
            isinstance(params, dict) and params.get("allow_sending_without_reply")
        )
        if message_id >= self.tg.message_counters.get(chat_id, 1) and not allow:
            raise bad_request("message to be replied not found")
        return message_id

    def _new_message(
        self, chat_id: int, kind: str, method: str, markup: JSON | None, reply_to: int | None
    ) -> SentMessage:
        msg = SentMessage(self.tg.next_message_id(chat_id), chat_id, int(time.time()), kind, method)
        msg.reply_markup, msg.buttons = markup, inline_buttons(markup)
        msg.keyboard, msg.request_contact = reply_keyboard_labels(markup), wants_contact(markup)
        msg.removed_keyboard = bool(markup and markup.get("remove_keyboard"))
        msg.reply_to_message_id = reply_to
        return msg

    # --- editing --------------------------------------------------------------------------------------
    def api_editMessageText(self, p: JSON) -> JSON:
        user = self.tg.target(p)
        msg = self._editable(user.id, p)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        plain, entities = parse_text(_string(p.get("text")), p.get("parse_mode"), p.get("entities"))
        check_length(plain, caption=False)
        markup = _inline_markup(p.get("reply_markup"))
        if (plain, entities, markup) == (msg.text, msg.entities, _current_inline(msg)):
            raise bad_request(NOT_MODIFIED)
        self.tg.admit(user.id)
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = (
            plain,
            _string(p.get("text")),
            p.get("parse_mode"),
            entities,
        )
        return self._edited(msg, markup)

    def api_editMessageCaption(self, p: JSON) -> JSON:
        user = self.tg.target(p)
        msg = self._editable(user.id, p)
        if msg.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        caption, entities = parse_text(
            _string(p.get("caption")), p.get("parse_mode"), p.get("caption_entities")
        )
        check_length(caption, caption=True)
        markup = _inline_markup(p.get("reply_markup"))
        if (caption, entities, markup) == (msg.text, msg.entities, _current_inline(msg)):
            raise bad_request(NOT_MODIFIED)
        self.tg.admit(user.id)
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = (
            caption,
            _string(p.get("caption")),
            p.get("parse_mode"),
            entities,
        )
        return self._edited(msg, markup)

    def api_editMessageReplyMarkup(self, p: JSON) -> JSON:
        user = self.tg.target(p)
        msg = self._editable(user.id, p)
        markup = _inline_markup(p.get("reply_markup"))
        if markup == _current_inline(msg):
            raise bad_request(NOT_MODIFIED)
        self.tg.admit(user.id)
        return self._edited(msg, markup)

    def api_deleteMessage(self, p: JSON) -> bool:
        user = self.tg.target(p)
        msg = self.tg.bot_messages.get((user.id, _int(p.get("message_id")) or 0))
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        msg.deleted = True
        self.tg.users[user.id].notify()
        return True

    def _editable(self, chat_id: int, p: JSON) -> SentMessage:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        if not p.get("message_id"):
            raise bad_request("message identifier is not specified")
        msg = self.tg.bot_messages.get((chat_id, p["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request("message to edit not found")
        return msg

    def _edited(self, msg: SentMessage, markup: JSON | None) -> JSON:
        msg.set_inline_markup(markup)
        msg.edit_count += 1
        msg.edit_date = int(time.time())
        self.tg.users[msg.chat_id].notify()
        return self.tg.message_json(msg)

    # --- buttons, commands, files ---------------------------------------------------------------------
    def api_answerCallbackQuery(self, p: JSON) -> bool:
        query_id = _string(p.get("callback_query_id"))
        opened = self.tg.callback_queries.pop(query_id, None)
        if opened is None or time.monotonic() - opened[1] > self.tg.callback_ttl:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(_string(p.get("text"))) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        user = opened[0]
        answer = {k: p[k] for k in ("text", "show_alert", "url", "cache_time") if k in p}
        user.callback_answers.append({"callback_query_id": query_id, **answer})
        user.notify()
        return True

    def api_setMyCommands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        cleaned = [_command(c) for c in commands]
        self._command_store(p)[self._scope_key(p.get("scope"))] = cleaned
        return True

    def api_getMyCommands(self, p: JSON) -> list[JSON]:
        return list(self._command_store(p).get(self._scope_key(p.get("scope")), []))

    def api_deleteMyCommands(self, p: JSON) -> bool:
        self._command_store(p).pop(self._scope_key(p.get("scope")), None)
        return True

    def _command_store(self, p: JSON) -> dict[tuple[str, int | None], list[JSON]]:
        language = _string(p.get("language_code"))
        return self.tg.commands if not language else self.tg.commands_by_language.setdefault(language, {})

    def _scope_key(self, scope: Any) -> tuple[str, int | None]:
        scope = scope or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("wrong scope type specified")
        if scope["type"] not in _SCOPES_WITH_CHAT:
            return scope["type"], None
        chat_id = scope.get("chat_id")
        if chat_id not in self.tg.users:
            raise bad_request("chat not found")
        return scope["type"], chat_id

    def api_getFile(self, p: JSON) -> JSON:
        stored = self.tg.files.get(_string(p.get("file_id")))
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.file_json()

    def api_getChat(self, p: JSON) -> JSON:
        chat_id = p.get("chat_id")
        user = self.tg.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad_request("chat not found")
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return user.chat_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }


def _attached(p: JSON, item: JSON) -> JSON:
    """The multipart field an item's attach://name points at, so the item reads like a single send's parameters."""
    media = item.get("media")
    if isinstance(media, str) and media.startswith("attach://"):
        name = media.removeprefix("attach://")
        return {name: p.get(name)} if name in p else {}
    return {}


def _check_photo(size: int, dimensions: tuple[int, int] | None) -> None:
    """sendPhoto's rules: at most 10 MB, width + height at most 10000, sides at most 20 times each other."""
    if size > MAX_PHOTO:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    if dimensions is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = dimensions
    if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * max(1, min(width, height)):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")


def _check_webhook_url(url: str) -> None:
    """Telegram posts updates only over HTTPS, and only to ports 443, 80, 88 and 8443."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parts.port or 443
    except ValueError:
        port = 0
    if port not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def _int(value: Any) -> int | None:
    """An integer parameter, sent as a JSON number or as text (form posts)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _string(value: Any) -> str:
    return "" if value is None else str(value)


def _mime(upload: Upload) -> str:
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"


def _update_chat(update: JSON) -> int | None:
    body = update[update_kind(update)]
    chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
    return chat.get("id")


def _current_inline(msg: SentMessage) -> JSON | None:
    return msg.reply_markup if msg.inline_keyboard is not None else None


def _command(item: Any) -> JSON:
    if not isinstance(item, dict) or not _COMMAND_RE.fullmatch(_string(item.get("command"))):
        raise bad_request("BOT_COMMAND_INVALID")
    description = _string(item.get("description"))
    if not 1 <= len(description) <= 256:
        raise bad_request(
            "command description is empty" if not description else "command description is too long"
        )
    return {"command": item["command"], "description": description}


def _inline_markup(raw: Any) -> JSON | None:
    markup = _markup(raw)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _markup(raw: Any) -> JSON | None:
    """Validate reply_markup as Telegram does; returns the markup or None."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        for button in _rows(raw["inline_keyboard"], "inline keyboard"):
            _check_inline_button(button)
    elif "keyboard" in raw:
        for button in _rows(raw["keyboard"], "keyboard"):
            if not isinstance(button, str | dict) or (isinstance(button, dict) and not button.get("text")):
                raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    elif not (raw.get("remove_keyboard") or raw.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return raw


def _rows(rows: Any, what: str) -> list[Any]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{what}" of the markup must be an Array of Arrays')
    return [button for row in rows for button in row]


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not any(action in button for action in _INLINE_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None:
        _check_button_url(_string(url))


def _check_button_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or host == "localhost" or "." not in host:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
