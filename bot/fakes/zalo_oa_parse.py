"""Reading the `message` object of a v3.0 send call the way Zalo validates it, into the fields of an `OaSent`.

Shapes (developers.zalo.me and open-source clients): `{"text": ...}`; `{"text"?, "attachment": {"type":
"template", "payload": {"template_type": "media", "elements": [{"media_type": "image", "attachment_id" | "url"}]}}}`;
`template_type` "button" (`text`, `buttons`) or "list" (`elements`, `buttons`) whose buttons are `{"title", "type":
"oa.query.show" | "oa.query.hide" | "oa.open.url", "payload"}`; "request_user_info" (`elements: [{"title",
"subtitle", "image_url"}]`); `{"attachment": {"type": "file", "payload": {"token"}}}` with a token from the upload.
Limits where the sources are silent are the fake's choices: text 2000 characters, at most 5 buttons, titles of at
most 100 characters, a query payload of at most 1000 characters.
"""

from __future__ import annotations

from typing import Any

from bot.fakes.zalo_oa_auth import OaError
from bot.fakes.zalo_oa_rules import BAD_PARAMETER
from bot.fakes.zalo_oa_users import OaButton, OaUpload

TEXT_LIMIT = 2000
MAX_BUTTONS = 5
TITLE_LIMIT = 100
PAYLOAD_LIMIT = 1000
BUTTON_TYPES = ("oa.query.show", "oa.query.hide", "oa.open.url")


def bad(reason: str) -> OaError:
    return OaError(BAD_PARAMETER, f"Invalid parameter: {reason}")


def parse_message(message: Any, uploads: dict[str, OaUpload]) -> dict[str, Any]:
    """The `OaSent` fields `message` stands for; OaError -100 when Zalo would refuse its shape."""
    if not isinstance(message, dict):
        raise bad("message must be an object")
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT):
        raise bad(f"text must be 1 to {TEXT_LIMIT} characters")
    attachment = message.get("attachment")
    if attachment is None:
        if not text:
            raise bad("message needs a text or an attachment")
        return {"kind": "text", "text": text}
    if not isinstance(attachment, dict):
        raise bad("attachment must be an object")
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        raise bad("attachment.payload must be an object")
    if attachment.get("type") == "file":
        upload = uploads.get(str(payload.get("token", "")))
        if upload is None or upload.kind != "file":
            raise bad("file token is invalid")
        return {"kind": "file", "file": upload, "text": text or ""}
    if attachment.get("type") != "template":
        raise bad("attachment.type must be template or file")
    return _template(payload, text or "", uploads)


def _template(payload: dict[str, Any], text: str, uploads: dict[str, OaUpload]) -> dict[str, Any]:
    kind = payload.get("template_type")
    elements = payload.get("elements")
    if kind == "media":
        element = elements[0] if isinstance(elements, list) and len(elements) == 1 else None
        if not isinstance(element, dict) or element.get("media_type") != "image":
            raise bad("a media template has one element of media_type image")
        ref = element.get("attachment_id") or element.get("url")
        if element.get("attachment_id") and ref not in uploads:
            raise bad("attachment_id is invalid")
        if not isinstance(ref, str) or not ref:
            raise bad("the image needs an attachment_id or a url")
        return {"kind": "image", "image": ref, "text": text}
    if kind == "button":
        body = payload.get("text")
        if not isinstance(body, str) or not 1 <= len(body) <= TEXT_LIMIT:
            raise bad(f"a button template needs a text of 1 to {TEXT_LIMIT} characters")
        return {"kind": "buttons", "text": body, "buttons": _buttons(payload.get("buttons"))}
    if kind == "list":
        if not isinstance(elements, list) or not 1 <= len(elements) <= 5:
            raise bad("a list template has 1 to 5 elements")
        titles = [str(e.get("title", "")) for e in elements if isinstance(e, dict)]
        return {
            "kind": "list",
            "text": "\n".join(titles),
            "buttons": _buttons(payload.get("buttons"), empty=True),
        }
    if kind == "request_user_info":
        element = elements[0] if isinstance(elements, list) and elements else None
        if not isinstance(element, dict) or not element.get("title") or not element.get("subtitle"):
            raise bad("request_user_info needs an element with a title and a subtitle")
        return {"kind": "request_info", "title": str(element["title"]), "subtitle": str(element["subtitle"])}
    raise bad("template_type must be media, button, list or request_user_info")


def _buttons(raw: Any, *, empty: bool = False) -> list[OaButton]:
    if raw is None and empty:
        return []
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BUTTONS:
        raise bad(f"buttons must be a list of 1 to {MAX_BUTTONS}")
    buttons = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad("a button must be an object")
        title, kind, value = item.get("title"), item.get("type"), item.get("payload")
        if not isinstance(title, str) or not 1 <= len(title) <= TITLE_LIMIT:
            raise bad(f"a button title has 1 to {TITLE_LIMIT} characters")
        if kind not in BUTTON_TYPES:
            raise bad(f"a button type is one of {', '.join(BUTTON_TYPES)}")
        if isinstance(value, dict) and kind == "oa.open.url":
            value = value.get("url")
        if not isinstance(value, str) or not 1 <= len(value) <= PAYLOAD_LIMIT:
            raise bad(f"a button payload has 1 to {PAYLOAD_LIMIT} characters")
        buttons.append(OaButton(title, str(kind), value))
    return buttons
