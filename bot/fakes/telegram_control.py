"""HTTP controls of the fake Telegram server under /_fake/: let another process (a benchmark, the browser
sandbox) play users, inject faults and read what the bot sent, without importing the fake."""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.fakes.telegram_http import json_response
from bot.fakes.telegram_models import JSON, SentMessage

if TYPE_CHECKING:
    from bot.fakes.telegram_server import FakeTelegram
    from bot.fakes.telegram_users import FakeUser


def add_routes(app: web.Application, tg: FakeTelegram) -> None:
    control = _Control(tg)
    app.router.add_get("/_fake/state", control.state)
    app.router.add_post("/_fake/limits", control.limits)
    app.router.add_post("/_fake/faults", control.faults)
    app.router.add_post("/_fake/users", control.create_user)
    app.router.add_post("/_fake/users/{user_id}/actions", control.act)
    app.router.add_get("/_fake/users/{user_id}/messages", control.messages)


def _refusal(description: str) -> web.Response:
    return json_response({"ok": False, "description": description}, 400)


class _Control:
    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    async def state(self, request: web.Request) -> web.Response:
        tg = self.tg
        return json_response(
            {
                "ok": True,
                "calls": len(tg.calls),
                "sent": len(tg.sent),
                "too_many_requests": tg.too_many_requests,
                "uploads": tg.uploads,
                "pending_updates": len(tg.box.pending),
                "webhook": tg.webhook,
                "users": len(tg.users),
                "chaos": dict(tg.chaos.counts),
            }
        )

    async def limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        self.tg.set_limits(body.get("global_rate"), body.get("per_chat_rate"))
        return json_response({"ok": True})

    async def faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        kind = body.get("kind")
        tg = self.tg
        try:
            if kind == "fail_next":
                tg.fail_next(
                    body["method"],
                    int(body.get("status", 500)),
                    int(body.get("count", 1)),
                    body.get("description", "Internal Server Error"),
                )
            elif kind == "force_429":
                tg.force_429(
                    int(body.get("retry_after", 1)),
                    int(body.get("count", 1)),
                    body.get("method"),
                    after=int(body.get("after", 0)),
                )
            elif kind == "delay":
                tg.set_delay(float(body.get("seconds", 0)))
            elif kind == "block":
                tg.block(
                    int(body["user_id"]), body.get("description", "Forbidden: bot was blocked by the user")
                )
            elif kind == "unblock":
                tg.unblock(int(body["user_id"]))
            else:
                return _refusal(f"unknown fault kind {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            return _refusal(f"bad fault request: {exc!r}")
        return json_response({"ok": True})

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            user = self.tg.user(
                int(body["user_id"]),
                str(body.get("first_name") or f"User {body['user_id']}"),
                str(body.get("last_name") or ""),
                body.get("username"),
                started=bool(body.get("started", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return _refusal(f"bad user: {exc!r}")
        return json_response({"ok": True, "user": user.as_json()})

    async def act(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return _refusal("unknown user")
        body = await _body(request)
        try:
            update_id = await _perform(user, body)
        except (AssertionError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            return _refusal(f"action failed: {exc}")
        return json_response({"ok": True, "update_id": update_id})

    async def messages(self, request: web.Request) -> web.Response:
        """?version=V&wait=S long-polls until the user's view changes from version V."""
        user = self._user(request)
        if user is None:
            return _refusal("unknown user")
        seen = request.query.get("version")
        wait = min(60.0, float(request.query.get("wait", "0") or 0))
        if seen is not None and wait > 0:
            with contextlib.suppress(AssertionError):  # nothing changed: answer the current view
                await user.wait_until(lambda _: str(user.version) != seen, wait)
        items = [self._view(msg) for msg in user.messages]
        return json_response({"ok": True, "version": user.version, "messages": items})

    def _user(self, request: web.Request) -> FakeUser | None:
        try:
            return self.tg.users.get(int(request.match_info["user_id"]))
        except ValueError:
            return None

    def _view(self, msg: SentMessage) -> JSON:
        view = self.tg.message_json(msg) | {
            "kind": msg.kind,
            "edit_count": msg.edit_count,
            "deleted": msg.deleted,
            "buttons": [[b.label, b.data] for b in msg.buttons],
            "keyboard": msg.keyboard,
            "request_contact": msg.request_contact,
            "removed_keyboard": msg.removed_keyboard,
        }
        if msg.file is not None:
            view["file_url"] = f"/file/bot{self.tg.token}/{msg.file.file_path}"
        return view


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def _perform(user: FakeUser, body: dict[str, Any]) -> int:
    kind = body.get("type")
    if kind == "text":
        return await user.send_text(str(body["text"]))
    if kind == "command":
        return await user.send_command(str(body["command"]), str(body.get("args", "")))
    if kind == "contact":
        return await user.share_contact(str(body["phone"]), bool(body.get("own", True)))
    if kind == "document":
        content = base64.b64decode(body["content_base64"], validate=True)
        mime = str(body.get("mime_type", "application/octet-stream"))
        return await user.send_document(str(body["filename"]), content, mime, str(body.get("caption", "")))
    if kind == "photo":
        content = base64.b64decode(body["content_base64"], validate=True)
        return await user.send_photo(content, str(body.get("caption", "")))
    if kind == "press":
        return await user.press(str(body["label"]))
    raise ValueError(f"unknown action type {kind!r}")
