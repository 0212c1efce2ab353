"""Tests of the fake Zalo Bot API server itself: the shapes of its answers and events, limits, faults, delivery."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.fakes.zalo_server import SECRET_HEADER, FakeZalo
from bot.fakes.zalo_users import FakeZaloUser

USER_ID = "e4ea2cd5189df1c3a88c"
ZALO_ID = re.compile(r"[0-9a-f]{20}")
SECRET = "webhook-secret-123"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo(webhook_retry_delay=0.01)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
def user(zalo: FakeZalo) -> FakeZaloUser:
    return zalo.user(USER_ID, "Nguyễn Văn A")


async def call(http: aiohttp.ClientSession, zalo: FakeZalo, method: str, **params: Any) -> tuple[int, dict]:
    async with http.post(f"{zalo.api_url}/bot{zalo.token}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def assert_recent_ms(value: object) -> None:
    assert isinstance(value, int)
    assert abs(value - time.time() * 1000) < 10_000  # milliseconds, not seconds


# --- identity and errors ------------------------------------------------------------------------------
async def test_get_me(zalo: FakeZalo, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, zalo, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"] == {
        "id": "1234567890",
        "account_name": "Chibo Zalo",
        "account_type": "BASIC",
        "can_join_groups": False,
    }


async def test_wrong_token_and_unknown_method(zalo: FakeZalo, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{zalo.api_url}/bot1234567890:WRONG/getMe", json={}) as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body = await call(http, zalo, "sendDocument", chat_id=USER_ID)
    assert status == 404 and body["ok"] is False and body["error_code"] == 404


async def test_get_and_form_requests_are_accepted(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    base = f"{zalo.api_url}/bot{zalo.token}/sendMessage"
    async with http.get(base, params={"chat_id": USER_ID, "text": "qua GET"}) as resp:
        assert (await resp.json())["ok"] is True
    async with http.post(base, data={"chat_id": USER_ID, "text": "qua form"}) as resp:
        assert (await resp.json())["ok"] is True
    assert [m.text for m in user.messages] == ["qua GET", "qua form"]


# --- sending ------------------------------------------------------------------------------------------
async def test_send_message_shape_and_record(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="Xin chào đồng chí")
    assert status == 200 and body["ok"] is True
    result = body["result"]
    assert set(result) == {"message_id", "date"}
    assert isinstance(result["message_id"], str) and ZALO_ID.fullmatch(result["message_id"])
    assert_recent_ms(result["date"])
    assert user.last.text == "Xin chào đồng chí"
    sent = zalo.sent[-1]
    assert (sent.chat_id, sent.message_id, sent.date, sent.kind) == (
        USER_ID,
        result["message_id"],
        result["date"],
        "text",
    )
    assert [c.method for c in zalo.calls] == ["sendMessage"]
    assert zalo.calls[0].params == {"chat_id": USER_ID, "text": "Xin chào đồng chí"}


async def test_text_limit_is_2000(zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="ạ" * 2000)
    assert status == 200 and body["ok"] is True
    for text in ("ạ" * 2001, "", "a" * 1999 + "📎"):  # an emoji counts two UTF-16 units
        status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text=text)
        assert status == 400
        assert body["ok"] is False and body["error_code"] == 400 and "2000" in body["description"]
    assert len(user.messages) == 1
    assert zalo.calls[-1].error_code == 400


async def test_unknown_and_blocked_chats(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, zalo, "sendMessage", chat_id="ffffffffffffffffffff", text="ai đó")
    assert (status, body["error_code"]) == (400, 400) and "chat not found" in body["description"]
    zalo.block(USER_ID)
    status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="còn đó không?")
    assert status == 403 and body == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: the user has blocked the bot",
    }
    status, _ = await call(http, zalo, "sendPhoto", chat_id=USER_ID, photo="https://x.vn/a.jpg")
    assert status == 403
    zalo.unblock(USER_ID)
    status, _ = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="được rồi")
    assert status == 200
    assert [m.text for m in user.messages] == ["được rồi"]


async def test_send_photo(zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession) -> None:
    url = "https://chibo.example.vn/f/abc?e=1&s=x"
    status, body = await call(http, zalo, "sendPhoto", chat_id=USER_ID, photo=url, caption="Ảnh hội nghị")
    assert status == 200 and ZALO_ID.fullmatch(body["result"]["message_id"])
    assert_recent_ms(body["result"]["date"])
    assert (user.last.kind, user.last.photo, user.last.caption, user.last.body) == (
        "photo",
        url,
        "Ảnh hội nghị",
        "Ảnh hội nghị",
    )
    status, body = await call(http, zalo, "sendPhoto", chat_id=USER_ID, photo=url, caption="x" * 2001)
    assert status == 400 and body["ok"] is False
    status, _ = await call(http, zalo, "sendPhoto", chat_id=USER_ID, photo="not a url")
    assert status == 400
    assert len(user.messages) == 1


async def test_sticker_and_chat_action(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, zalo, "sendSticker", chat_id=USER_ID, sticker="0e078a2fb66a5f34067b")
    assert status == 200 and user.last.kind == "sticker"
    status, body = await call(http, zalo, "sendChatAction", chat_id=USER_ID, action="typing")
    assert (status, body) == (200, {"ok": True, "result": True})
    status, _ = await call(http, zalo, "sendChatAction", chat_id=USER_ID, action="dancing")
    assert status == 400
    assert len(zalo.sent) == 1  # a chat action is not a message


# --- faults -------------------------------------------------------------------------------------------
async def test_force_429(zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession) -> None:
    zalo.force_429(2)
    for _ in range(2):
        status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="gửi")
        assert status == 429
        assert body == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    status, _ = await call(http, zalo, "getMe")
    assert status == 200  # only sends are metered
    status, _ = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="gửi")
    assert status == 200
    assert zalo.too_many_requests == 2 and len(user.messages) == 1


async def test_rate_limit() -> None:
    async with FakeZalo(rate=2) as zalo, aiohttp.ClientSession() as http:
        zalo.user(USER_ID, "A")
        answers = [(await call(http, zalo, "sendMessage", chat_id=USER_ID, text=str(i)))[0] for i in range(5)]
        assert answers[:2] == [200, 200]
        assert 429 in answers[2:]
        assert zalo.too_many_requests == answers.count(429)
        await asyncio.sleep(0.6)
        assert (await call(http, zalo, "sendMessage", chat_id=USER_ID, text="sau"))[0] == 200


async def test_fail_next_and_delay(zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession) -> None:
    zalo.fail_next("sendMessage", status=502, description="Bad Gateway")
    status, body = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="một")
    assert (status, body["error_code"], body["description"]) == (502, 502, "Bad Gateway")
    zalo.set_delay(0.2)
    started = time.monotonic()
    status, _ = await call(http, zalo, "sendMessage", chat_id=USER_ID, text="hai")
    assert status == 200 and time.monotonic() - started >= 0.2
    assert [m.text for m in user.messages] == ["hai"]


# --- events by getUpdates -----------------------------------------------------------------------------
async def test_text_event_exact_shape(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    message_id = await user.send_text("Xin chào")
    status, body = await call(http, zalo, "getUpdates", timeout=1)
    assert status == 200 and body["ok"] is True
    event = body["result"]
    assert event["event_name"] == "message.text.received"
    message = event["message"]
    assert message["message_id"] == message_id and ZALO_ID.fullmatch(message_id)
    assert_recent_ms(message["date"])
    assert message["chat"] == {"id": USER_ID, "chat_type": "PRIVATE"}
    assert message["from"] == {"id": USER_ID, "display_name": "Nguyễn Văn A", "is_bot": False}
    assert message["text"] == "Xin chào"
    assert message_id in zalo.delivered


async def test_one_event_per_call_then_408(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    first, second = await user.send_text("một"), await user.send_text("hai")
    got = [(await call(http, zalo, "getUpdates", timeout=1))[1]["result"] for _ in range(2)]
    assert [e["message"]["message_id"] for e in got] == [first, second]
    status, body = await call(http, zalo, "getUpdates", timeout=0.2)
    assert status == 408 and body == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_list_shape() -> None:
    async with FakeZalo(updates_shape="list") as zalo, aiohttp.ClientSession() as http:
        user = zalo.user(USER_ID, "A")
        ids = [await user.send_text("một"), await user.send_text("hai")]
        status, body = await call(http, zalo, "getUpdates", timeout=1)
        assert status == 200 and [e["message"]["message_id"] for e in body["result"]] == ids
        assert (await call(http, zalo, "getUpdates", timeout=0.1))[1] == {"ok": True, "result": []}


async def test_long_polling_waits_for_the_user(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(http, zalo, "getUpdates", timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    await user.send_text("đây")
    status, body = await asyncio.wait_for(poll, 4)  # woken by the message, well before its 5 s
    assert status == 200 and body["result"]["message"]["text"] == "đây"
    assert time.monotonic() - started >= 0.3


async def test_long_poll_times_out(zalo: FakeZalo, http: aiohttp.ClientSession) -> None:
    started = time.monotonic()
    status, _ = await call(http, zalo, "getUpdates", timeout="0.4")  # the docs type it as a string
    # Held for its own 0.4 s, not answered at once nor kept for the default 30 s.
    assert status == 408 and 0.35 <= time.monotonic() - started < 15


async def test_image_sticker_unsupported_events(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession
) -> None:
    await user.send_image("https://photo.zalo.me/abc.jpg", caption="Ảnh buổi sinh hoạt")
    await user.send_image("https://photo.zalo.me/def.jpg")
    await user.send_sticker()
    await user.send_unsupported()
    events = [(await call(http, zalo, "getUpdates", timeout=1))[1]["result"] for _ in range(4)]
    assert [e["event_name"] for e in events] == [
        "message.image.received",
        "message.image.received",
        "message.sticker.received",
        "message.unsupported.received",
    ]
    first, second, sticker, unsupported = (e["message"] for e in events)
    assert (first["photo"], first["caption"]) == ("https://photo.zalo.me/abc.jpg", "Ảnh buổi sinh hoạt")
    assert "caption" not in second
    assert sticker["sticker"]
    assert not {"text", "photo", "caption", "url"} & set(unsupported)  # a PDF comes with no link


# --- webhook ------------------------------------------------------------------------------------------
@dataclass
class Receiver:
    """A stand-in for Chibo's webhook endpoint that records what the fake POSTs."""

    url: str = ""
    status: int = 200
    posts: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: web.Request) -> web.Response:
        rec.posts.append((dict(request.headers), await request.json()))
        rec.arrived.set()
        return web.Response(status=rec.status)

    app = web.Application()
    app.router.add_post("/zalo/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/webhook"
    yield rec
    await runner.cleanup()


async def until(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("shape", ["wrapped", "flat"])
async def test_webhook_delivery_with_secret(shape: str, receiver: Receiver) -> None:
    async with FakeZalo(body_shape=shape) as zalo, aiohttp.ClientSession() as http:
        user = zalo.user(USER_ID, "Nguyễn Văn A")
        status, body = await call(http, zalo, "setWebhook", url=receiver.url, secret_token=SECRET)
        assert status == 200 and body["result"]["url"] == receiver.url
        assert_recent_ms(body["result"]["updated_at"])
        message_id = await user.send_text("qua webhook")
        await zalo.wait_delivered(message_id)
        headers, posted = receiver.posts[0]
        assert headers[SECRET_HEADER] == SECRET
        event = posted["result"] if shape == "wrapped" else posted
        if shape == "wrapped":
            assert posted["ok"] is True
        else:
            assert set(posted) == {"event_name", "message"}
        assert event["event_name"] == "message.text.received"
        assert event["message"]["message_id"] == message_id


async def test_webhook_rules(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    for params in (
        {"url": receiver.url, "secret_token": "short"},
        {"url": receiver.url, "secret_token": "x" * 257},
        {"url": receiver.url},
        {"url": "http://chibo.example.vn/zalo/webhook", "secret_token": SECRET},
    ):
        status, body = await call(http, zalo, "setWebhook", **params)
        assert status == 400 and body["ok"] is False
    assert (await call(http, zalo, "getWebhookInfo"))[1]["result"]["url"] == ""

    waiting = await user.send_text("gửi trước khi có webhook")
    assert (await call(http, zalo, "setWebhook", url=receiver.url, secret_token=SECRET))[0] == 200
    await zalo.wait_delivered(waiting)  # pending events go to the new webhook
    assert (await call(http, zalo, "getWebhookInfo"))[1]["result"]["url"] == receiver.url
    status, body = await call(http, zalo, "getUpdates", timeout=0.1)
    assert status == 409 and body["ok"] is False

    status, body = await call(http, zalo, "deleteWebhook")
    assert status == 200 and body["result"]["url"] == ""
    later = await user.send_text("sau khi xóa webhook")
    status, body = await call(http, zalo, "getUpdates", timeout=1)
    assert status == 200 and body["result"]["message"]["message_id"] == later
    assert len(receiver.posts) == 1


async def test_set_webhook_ends_a_waiting_poll(
    zalo: FakeZalo, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    poll = asyncio.create_task(call(http, zalo, "getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    await call(http, zalo, "setWebhook", url=receiver.url, secret_token=SECRET)
    status, _ = await asyncio.wait_for(poll, 2)
    assert status == 409


async def test_webhook_failure_is_retried_then_recorded(
    zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.status = 500
    await call(http, zalo, "setWebhook", url=receiver.url, secret_token=SECRET)
    message_id = await user.send_text("không tới")
    await until(lambda: len(zalo.webhook_failed) == 1)
    assert len(receiver.posts) == zalo.webhook_retries + 1
    assert message_id not in zalo.delivered
    assert zalo.webhook_errors[-1] == "webhook answered 500"


# --- users ----------------------------------------------------------------------------------------------
async def test_user_waits(zalo: FakeZalo, user: FakeZaloUser, http: aiohttp.ClientSession) -> None:
    async def later(action: Awaitable[Any]) -> None:
        await asyncio.sleep(0.1)
        await action

    task = asyncio.create_task(later(call(http, zalo, "sendMessage", chat_id=USER_ID, text="Đã nhận")))
    messages = await user.wait_for(1, timeout=2)
    assert messages[0].text == "Đã nhận"
    await task
    with pytest.raises(AssertionError, match="expected 2 messages"):
        await user.wait_for(2, timeout=0.1)
    await user.wait_until(lambda msgs: msgs[-1].text == "Đã nhận", timeout=0.1)
    assert zalo.user(USER_ID, "other name") is user


def test_standalone_server_with_controls() -> None:
    cmd = [sys.executable, "-m", "bot.fakes.zalo_server", "--port", "0", "--auto-users"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        api_url = proc.stdout.readline().strip()
        assert api_url.startswith("http://127.0.0.1:")

        async def play() -> None:
            async with aiohttp.ClientSession() as http:
                base = f"{api_url}/bot1234567890:ZALO-TEST-SECRET"
                async with http.post(f"{base}/sendMessage", json={"chat_id": USER_ID, "text": "chào"}) as r:
                    assert (await r.json())["ok"] is True
                async with http.get(f"{api_url}/_fake/users/{USER_ID}/messages") as r:
                    assert [m["text"] for m in (await r.json())["messages"]] == ["chào"]
                action = {"action": "text", "text": "Đã nhận"}
                async with http.post(f"{api_url}/_fake/users/{USER_ID}/actions", json=action) as r:
                    message_id = (await r.json())["message_id"]
                async with http.post(f"{base}/getUpdates", json={"timeout": 1}) as r:
                    assert (await r.json())["result"]["message"]["message_id"] == message_id
                async with http.post(f"{api_url}/_fake/faults", json={"force_429": "many"}) as r:
                    assert r.status == 400
                async with http.post(f"{api_url}/_fake/faults", json={"force_429": 1}) as r:
                    assert r.status == 200
                async with http.post(f"{base}/sendMessage", json={"chat_id": USER_ID, "text": "x"}) as r:
                    assert (r.status, (await r.json())["description"]) == (429, "Quota exceeded")
                async with http.get(f"{api_url}/_fake/state") as r:
                    state = await r.json()
                    assert (state["sent"], state["too_many_requests"], state["users"]) == (1, 1, 1)

        asyncio.run(play())
    finally:
        proc.terminate()
        proc.wait(5)
