"""Reading Bot API requests the way Telegram does: query string, JSON, form or multipart, values coerced."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.fakes.telegram_models import JSON, ApiError, Upload, bad_request

MAX_UPLOAD = 50 * 1024 * 1024
# The HTTP layer reads a bit more than the Bot API allows, so oversized uploads get Telegram's own 413.
MAX_BODY = MAX_UPLOAD + 4 * 1024 * 1024

_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "cache_time",
        "max_connections",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "from_chat_id",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "scope",
        "commands",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "show_caption_above_media",
        "has_spoiler",
        "disable_content_type_detection",
    }
)
_CHAT_ID_RE = re.compile(r"-?\d{1,20}")
_TRUE = frozenset({"true", "1", "yes", "on"})


def json_response(body: JSON, status: int = 200) -> web.Response:
    try:
        data = json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate (a forged or broken client's text) travels as a \u escape
        data = json.dumps(body).encode()
    return web.Response(body=data, status=status, content_type="application/json")


def error_response(error: ApiError) -> web.Response:
    return json_response(error.as_json(), error.status)


async def read_params(request: web.Request) -> JSON:
    """All parameters of a Bot API call, from the query string and any body Telegram accepts."""
    params: JSON = dict(request.query)
    ctype = request.content_type
    try:
        if ctype == "application/json":
            body = await request.read()
            if body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise bad_request("parameters must be a JSON object")
                params.update(data)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str | bytes | bytearray) else _upload(value)
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "Request Entity Too Large") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("can't parse request body") from exc
    return {key: _coerce(key, value) for key, value in params.items()}


def loggable(params: JSON) -> JSON:
    """Parameters as kept in Call records: uploads shown by name and size, not bytes."""
    if not any(isinstance(v, Upload) for v in params.values()):
        return params
    return {
        k: f"<upload {v.filename} {len(v.content)} bytes>" if isinstance(v, Upload) else v
        for k, v in params.items()
    }


def _upload(field: web.FileField) -> Upload:
    content = field.file.read()
    return Upload(field.filename or "file", content, field.content_type or "application/octet-stream")


def _coerce(key: str, value: Any) -> Any:
    """Form values are strings; Telegram reads numbers, booleans and JSON objects out of them."""
    if not isinstance(value, str):
        return value
    if key == "chat_id":
        return int(value) if _CHAT_ID_RE.fullmatch(value) else value
    if key == "timeout":  # an integer for Telegram, but clients send floats and Telegram copes
        try:
            return float(value)
        except ValueError:
            raise bad_request("invalid timeout specified") from None
    if key in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None
    if key in _BOOL_PARAMS:
        return value.lower() in _TRUE
    if key in _JSON_PARAMS and value:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if key == "reply_markup" else key
            raise bad_request(f"can't parse {what} JSON object") from None
    return value
