"""Zalo OA webhook events: checking their signature and mapping them to the neutral `Incoming`.

Signature: `X-ZEvent-Signature` carries the SHA-256 hex digest of app_id + raw body + timestamp + OA secret key
(goclaw's verifier; the shared notes write it as `mac=<hex>`, so both forms are accepted). Events: `user_send_text`
(`message.text`), `user_send_image` / `user_send_file` (`message.attachments[].payload` with url, name, size),
`user_submit_info` (`info.phone`, `info.name`), `follow` (`follower.id`); a button of a template sends its payload
back as the user's text, and payloads Chibo made start with BUTTON_PREFIX, so they come back as `Incoming.button`.
Other events (seen, reactions, unfollow, the OA's own messages) give None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from bot.core.events import ChannelName, Incoming, IncomingFile

BUTTON_PREFIX = "#chibo:"
_EPOCH_MS_THRESHOLD = 100_000_000_000


def signature_ok(app_id: str, secret_key: str, body: bytes, header: str | None) -> bool:
    """Whether `header` signs `body`: the digest of app_id + body + the body's timestamp + the secret key."""
    if not header or not secret_key:
        return False
    try:
        event = json.loads(body)
    except ValueError:
        return False
    timestamp = event.get("timestamp") if isinstance(event, dict) else None
    if not isinstance(timestamp, str | int) or isinstance(timestamp, bool):
        return False
    raw = app_id.encode() + body + str(timestamp).encode() + secret_key.encode()
    expected = hashlib.sha256(raw).hexdigest()
    given = header.strip().removeprefix("mac=")
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def to_incoming(event: Any) -> Incoming | None:
    if not isinstance(event, dict):
        return None
    name = str(event.get("event_name", ""))
    sender = event.get("follower") if name == "follow" else event.get("sender")
    user_id = sender.get("id") if isinstance(sender, dict) else None
    if not user_id:
        return None
    message = _object(event.get("message"))
    date = _date(event.get("timestamp"))
    base: dict[str, Any] = {
        "channel": ChannelName.ZALO_OA,
        "update_id": str(message.get("msg_id") or f"{name}:{user_id}:{event.get('timestamp')}"),
        "user_id": str(user_id),
        "chat_id": str(user_id),
        "display_name": "",
        "date": date,
    }
    if name == "user_send_text":
        return _text(base, _nfc(message.get("text") or ""))
    if name in ("user_send_image", "user_send_file"):
        return Incoming(
            **base, file=_file(name, message), text=_nfc(message["text"]) if message.get("text") else None
        )
    if name == "user_submit_info":
        info = _object(event.get("info"))
        phone = str(info.get("phone") or "").strip()
        base["display_name"] = _nfc(info.get("name") or "")
        return Incoming(**base, contact_phone=phone or None)
    if name == "follow":
        return Incoming(**base, text="/start", command="start")  # following is how a user starts the OA chat
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(base: dict[str, Any], text: str) -> Incoming:
    if text.startswith(BUTTON_PREFIX):
        return Incoming(**base, button=text.removeprefix(BUTTON_PREFIX))
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        head, _, args = stripped.partition(" ")
        return Incoming(**base, text=text, command=head[1:].lower(), args=args.strip())
    return Incoming(**base, text=text)


def _file(name: str, message: dict[str, Any]) -> IncomingFile:
    attachments = message.get("attachments")
    first = attachments[0] if isinstance(attachments, list) and attachments else {}
    payload = first.get("payload") if isinstance(first, dict) else None
    if not isinstance(payload, dict) or not payload.get("url"):
        return IncomingFile("unsupported", None)
    if name == "user_send_image":
        return IncomingFile("photo", str(payload["url"]), mime="image/jpeg")
    size = str(payload.get("size") or "")
    return IncomingFile(
        "document",
        str(payload["url"]),
        name=_nfc(payload.get("name") or "") or None,
        mime=_mime(str(payload.get("type") or "")),
        size=int(size) if size.isdigit() else None,
    )


def _mime(kind: str) -> str | None:
    known = {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    return known.get(kind.lower().lstrip("."))


def _date(value: Any) -> datetime:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    seconds = number / 1000 if number >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


def _nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text))
