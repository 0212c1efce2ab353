"""`/_fake/...` controls of the fake Zalo OA for another process (sandbox, benchmarks), and running it standalone:
create users and make them act, read what they received, inject faults, move the clock, issue a token pair."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.fakes.standalone import serve_until_signalled
from bot.fakes.zalo_oa_auth import JSON

if TYPE_CHECKING:
    from bot.fakes.zalo_oa_server import FakeZaloOA


def add_controls(app: web.Application, fake: FakeZaloOA) -> None:
    async def body(request: web.Request) -> JSON:
        with contextlib.suppress(ValueError):
            data = await request.json()
            if isinstance(data, dict):
                return data
        return {}

    def answer(data: JSON, status: int = 200) -> web.Response:
        return web.json_response(data, status=status, dumps=lambda b: json.dumps(b, ensure_ascii=False))

    async def state(request: web.Request) -> web.Response:
        ledger = fake.rules.ledger
        return answer(
            {
                "ok": True,
                "users": len(fake.users),
                "sent": len(fake.sent),
                "uploads": len(fake.uploads),
                "paid": ledger.paid,
                "renewals": fake.oauth.refreshed,
                "webhook": fake.webhook,
                "now": fake.clock.now().isoformat(),
            }
        )

    async def create_user(request: web.Request) -> web.Response:
        data = await body(request)
        user = fake.user(str(data["user_id"]), str(data.get("display_name") or data["user_id"]))
        return answer({"ok": True, "user_id": user.id})

    async def act(request: web.Request) -> web.Response:
        user = fake.users.get(request.match_info["user_id"])
        if user is None:
            return answer({"ok": False, "description": "unknown user"}, 404)
        data = await body(request)
        actions: dict[str, Callable[[], Awaitable[str]]] = {
            "follow": user.follow,
            "unfollow": user.unfollow,
            "text": lambda: user.send_text(str(data.get("text", ""))),
            "image": lambda: user.send_image(str(data.get("url", ""))),
            "file": lambda: user.send_file(
                str(data.get("url", "")), str(data.get("name", "")), int(data.get("size", 0))
            ),
            "press": lambda: user.press(str(data.get("title", ""))),
            "submit_info": lambda: user.submit_info(str(data.get("phone", ""))),
        }
        action = actions.get(str(data.get("action")))
        if action is None:
            return answer({"ok": False, "description": f"action in {sorted(actions)}"}, 400)
        try:
            return answer({"ok": True, "id": await action()})
        except AssertionError as exc:
            return answer({"ok": False, "description": str(exc)}, 409)

    async def messages(request: web.Request) -> web.Response:
        user = fake.users.get(request.match_info["user_id"])
        if user is None:
            return answer({"ok": False, "description": "unknown user"}, 404)
        shown = [
            {"kind": m.kind, "text": m.text, "quota": m.quota, "buttons": [b.title for b in m.buttons]}
            for m in user.messages
        ]
        return answer({"ok": True, "messages": shown})

    async def faults(request: web.Request) -> web.Response:
        data = await body(request)
        if data.get("fail_next"):
            fake.fail_next(str(data["fail_next"]), int(data.get("status", 500)), int(data.get("count", 1)))
        if data.get("refuse_next"):
            code, message = int(data.get("code", -32)), str(data.get("message", "refused"))
            fake.refuse_next(str(data["refuse_next"]), code, message, int(data.get("count", 1)))
        if "delay" in data:
            fake.set_delay(float(data["delay"]))
        if "rate" in data:
            fake.set_rate(float(data["rate"]) if data["rate"] else None)
        if data.get("expire_access"):
            fake.oauth.expire_access()
        return answer({"ok": True})

    async def clock(request: web.Request) -> web.Response:
        fake.clock.advance(timedelta(seconds=float((await body(request)).get("seconds", 0))))
        return answer({"ok": True, "now": fake.clock.now().isoformat()})

    async def authorize(request: web.Request) -> web.Response:
        access, refresh = fake.authorize()
        return answer({"ok": True, "access_token": access, "refresh_token": refresh})

    async def webhook(request: web.Request) -> web.Response:
        fake.set_webhook((await body(request)).get("url") or None)
        return answer({"ok": True})

    app.router.add_get("/_fake/state", state)
    app.router.add_post("/_fake/users", create_user)
    app.router.add_post("/_fake/users/{user_id}/actions", act)
    app.router.add_get("/_fake/users/{user_id}/messages", messages)
    app.router.add_post("/_fake/faults", faults)
    app.router.add_post("/_fake/clock", clock)
    app.router.add_post("/_fake/authorize", authorize)
    app.router.add_post("/_fake/webhook", webhook)


class _Standalone:
    """The fake with `api_url`, as serve_until_signalled expects of a fake server."""

    def __init__(self, fake: FakeZaloOA) -> None:
        self.fake = fake
        self.api_url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self.fake.start(host, port, setup=lambda app: add_controls(app, self.fake))
        self.api_url = self.fake.url

    async def stop(self) -> None:
        await self.fake.stop()


def main(argv: list[str] | None = None) -> None:
    from bot.fakes.zalo_oa_server import FakeZaloOA

    parser = argparse.ArgumentParser(description="Fake Zalo Official Account API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument(
        "--refresh-grace", action="store_true", help="old refresh token works until the new is used"
    )
    args = parser.parse_args(argv)
    fake = FakeZaloOA(refresh_grace=args.refresh_grace)
    asyncio.run(serve_until_signalled(_Standalone(fake), args.host, args.port))


if __name__ == "__main__":
    main()
