"""The fake Zalo OA's own rules, spoken to over HTTP as the bot would: interaction windows and quotas, access
token expiry and refresh-token rotation, signed webhook events, upload limits, injected faults, the control API."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.core.clock import Clock
from bot.fakes.zalo_oa_control import add_controls
from bot.fakes.zalo_oa_rules import Policy
from bot.fakes.zalo_oa_server import SIGNATURE_HEADER, FakeZaloOA
from bot.fakes.zalo_oa_users import FakeOaUser
from tests.conftest import free_port

USER = "2468013579864213579"
PDF_MIME = "application/pdf"


@pytest.fixture
async def oa(clock: Clock) -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA(
        clock=clock, policy=Policy(monthly_quota=2, per_window=8), oa_secret_key="oa-webhook-key"
    )
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
def token(oa: FakeZaloOA) -> str:
    return oa.authorize()[0]


@pytest.fixture
def user(oa: FakeZaloOA) -> FakeOaUser:
    return oa.user(USER, "Trần Thị B")


class Hook:
    """A webhook receiver that records raw bodies and headers."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers.get(SIGNATURE_HEADER, "")))
        return web.Response(status=self.status)


@pytest.fixture
async def hook(oa: FakeZaloOA) -> AsyncIterator[Hook]:
    receiver = Hook()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    oa.set_webhook(f"http://127.0.0.1:{port}/hook")
    yield receiver
    await runner.cleanup()


async def cs(
    http: aiohttp.ClientSession, oa: FakeZaloOA, token: str, text: str = "Chào đồng chí", route: str = "cs"
) -> Any:
    body = {"recipient": {"user_id": USER}, "message": {"text": text}}
    async with http.post(
        f"{oa.url}/v3.0/oa/message/{route}", json=body, headers={"access_token": token}
    ) as resp:
        assert resp.status == 200
        return await resp.json()


async def upload(
    http: aiohttp.ClientSession, oa: FakeZaloOA, token: str, kind: str, name: str, mime: str, size: int
) -> Any:
    form = aiohttp.FormData()
    form.add_field("file", b"x" * size, filename=name, content_type=mime)
    async with http.post(
        f"{oa.url}/v2.0/oa/upload/{kind}", data=form, headers={"access_token": token}
    ) as resp:
        return await resp.json()


async def renew(http: aiohttp.ClientSession, oa: FakeZaloOA, refresh: str, secret: str | None = None) -> Any:
    form = {"app_id": oa.app_id, "grant_type": "refresh_token", "refresh_token": refresh}
    headers = {"secret_key": secret or oa.secret_key}
    async with http.post(f"{oa.url}/v4/oa/access_token", data=form, headers=headers) as resp:
        return await resp.json()


# --- windows and quotas -------------------------------------------------------------------------------------
async def test_free_replies_within_the_window_then_monthly_quota_then_paid(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, user: FakeOaUser, clock: Clock
) -> None:
    await user.send_text("Xin chào")
    quotas = [(await cs(http, oa, token))["data"]["quota"]["quota_type"] for _ in range(11)]
    assert quotas == ["reply"] * 8 + ["sub_quota"] * 2 + ["purchase_quota"]
    assert oa.rules.ledger.paid == 1 and oa.paid_vnd(55) == 55
    await user.send_text("Đã nhận")  # an interaction opens a new window
    assert (await cs(http, oa, token))["data"]["quota"]["quota_type"] == "reply"
    clock.advance(timedelta(hours=48))
    fresh = oa.authorize()[0]  # the first access token lived 25 hours
    assert (await cs(http, oa, fresh))["data"]["quota"]["quota_type"] == "purchase_quota"


async def test_refusals_outside_the_rules(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, user: FakeOaUser, clock: Clock
) -> None:
    never = await cs(http, oa, token)
    assert never["error"] == -230  # the user never interacted
    await user.follow()
    clock.advance(timedelta(days=3))
    token = oa.authorize()[0]
    oa.rules.policy.paid = False
    oa.rules.policy.monthly_quota = 0
    closed = await cs(http, oa, token)
    assert closed["error"] == -213 and "window" in closed["message"]
    clock.advance(timedelta(days=4))
    token = oa.authorize()[0]
    assert (await cs(http, oa, token))["error"] == -230
    assert user.messages == []
    body = {"recipient": {"user_id": "999"}, "message": {"text": "x"}}
    async with http.post(f"{oa.url}/v3.0/oa/message/cs", json=body, headers={"access_token": token}) as resp:
        assert (await resp.json())["error"] == -201


async def test_promotion_needs_a_follower_not_a_window(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, user: FakeOaUser, clock: Clock
) -> None:
    await user.follow()
    clock.advance(timedelta(days=30))
    token = oa.authorize()[0]
    answer = await cs(http, oa, token, route="promotion")
    assert answer["error"] == 0 and answer["data"]["quota"]["quota_type"] == "promotion"
    await user.unfollow()
    assert (await cs(http, oa, token, route="promotion"))["error"] == -201


async def test_quota_endpoint_reports_the_window(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, user: FakeOaUser
) -> None:
    await user.send_text("Xin chào")
    await cs(http, oa, token)
    headers = {"access_token": token}
    async with http.post(f"{oa.url}/v3.0/oa/quota/message", json={"user_id": USER}, headers=headers) as resp:
        data = (await resp.json())["data"]
    assert data["reply"]["remain"] == 7 and data["sub_quota"]["remain"] == 2


# --- tokens ---------------------------------------------------------------------------------------------------
async def test_access_token_expires_and_refresh_token_rotates(
    oa: FakeZaloOA, http: aiohttp.ClientSession, user: FakeOaUser, clock: Clock
) -> None:
    await user.send_text("Xin chào")
    access, refresh = oa.authorize()
    assert (await cs(http, oa, "not-a-token"))["error"] == -216
    clock.advance(timedelta(hours=25))
    assert (await cs(http, oa, access))["error"] == -124
    assert (await renew(http, oa, refresh, secret="wrong"))["error"] == -14002
    pair = await renew(http, oa, refresh)
    assert set(pair) == {"access_token", "refresh_token", "expires_in"} and pair["expires_in"] == "90000"
    assert (await renew(http, oa, refresh))["error"] == -14014  # the old refresh token stopped working
    assert (await cs(http, oa, pair["access_token"]))["error"] == 0
    again = await renew(http, oa, pair["refresh_token"])
    assert again["refresh_token"] not in (refresh, pair["refresh_token"])


async def test_refresh_grace_keeps_the_old_token_until_the_new_one_is_used(
    clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with FakeZaloOA(clock=clock, refresh_grace=True, token_shape="wrapped") as oa:
        _, first = oa.authorize()
        lost = (await renew(http, oa, first))["data"]  # as if the answer were lost in a crash
        second = (await renew(http, oa, first))["data"]
        assert (await renew(http, oa, lost["refresh_token"]))["error"] == -14014  # replaced by the retry
        third = (await renew(http, oa, second["refresh_token"]))["data"]
        assert (await renew(http, oa, first))["error"] == -14014  # its child was used: the parent died
        assert third["access_token"]


# --- webhook ------------------------------------------------------------------------------------------------
async def test_events_are_signed_and_shaped(oa: FakeZaloOA, hook: Hook, user: FakeOaUser) -> None:
    await user.follow()
    msg_id = await user.send_text("Báo cáo tháng 5")
    await oa.settle()
    assert len(hook.received) == 2
    for body, signature in hook.received:
        event = json.loads(body)
        raw = oa.app_id.encode() + body + event["timestamp"].encode() + b"oa-webhook-key"
        assert signature == "mac=" + hashlib.sha256(raw).hexdigest()
    follow, text = (json.loads(body) for body, _ in hook.received)
    assert follow["event_name"] == "follow" and follow["follower"]["id"] == USER
    assert text["event_name"] == "user_send_text" and text["message"] == {
        "msg_id": msg_id,
        "text": "Báo cáo tháng 5",
    }
    assert text["sender"]["id"] == USER and text["recipient"]["id"] == oa.oa_id


async def test_buttons_and_the_info_form_answer_as_the_user(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, hook: Hook, user: FakeOaUser
) -> None:
    await user.send_text("Xin chào")
    buttons = [{"title": "Đã nhận", "type": "oa.query.hide", "payload": "#ack"}]
    template = {"template_type": "button", "text": "Công văn mới", "buttons": buttons}
    body = {
        "recipient": {"user_id": USER},
        "message": {"attachment": {"type": "template", "payload": template}},
    }
    async with http.post(f"{oa.url}/v3.0/oa/message/cs", json=body, headers={"access_token": token}) as resp:
        assert (await resp.json())["error"] == 0
    await user.press("Đã nhận")
    with pytest.raises(AssertionError, match="never asked"):
        await user.submit_info("0912345678")
    form = {"template_type": "request_user_info", "elements": [{"title": "SĐT", "subtitle": "Xin số"}]}
    body["message"] = {"attachment": {"type": "template", "payload": form}}
    async with http.post(f"{oa.url}/v3.0/oa/message/cs", json=body, headers={"access_token": token}) as resp:
        assert (await resp.json())["error"] == 0
    await user.submit_info("84912345678")
    await oa.settle()
    events = [json.loads(b) for b, _ in hook.received]
    assert events[1]["message"]["text"] == "#ack"
    assert events[2]["event_name"] == "user_submit_info" and events[2]["info"]["phone"] == "84912345678"
    bad = {"template_type": "button", "text": "x", "buttons": buttons * 6}
    body["message"] = {"attachment": {"type": "template", "payload": bad}}
    async with http.post(f"{oa.url}/v3.0/oa/message/cs", json=body, headers={"access_token": token}) as resp:
        assert (await resp.json())["error"] == -100


# --- uploads ---------------------------------------------------------------------------------------------------
async def test_upload_limits(oa: FakeZaloOA, http: aiohttp.ClientSession, token: str) -> None:
    ok = await upload(http, oa, token, "file", "ke-hoach.pdf", PDF_MIME, 1000)
    assert ok["error"] == 0 and ok["data"]["token"] in oa.uploads
    assert (await upload(http, oa, token, "file", "bang.xlsx", "application/vnd.ms-excel", 10))[
        "error"
    ] == -211
    assert (await upload(http, oa, token, "file", "lon.pdf", PDF_MIME, 5 * 1024 * 1024 + 1))["error"] == -210
    assert (await upload(http, oa, token, "image", "anh.png", "image/png", 1024 * 1024 + 1))["error"] == -210
    image = await upload(http, oa, token, "image", "anh.jpg", "image/jpeg", 100)
    assert "attachment_id" in image["data"]
    oa.rules.policy.upload_quota = 2
    assert (await upload(http, oa, token, "file", "nua.pdf", PDF_MIME, 10))["error"] == -212


# --- faults and controls -----------------------------------------------------------------------------------------
async def test_injected_faults(
    oa: FakeZaloOA, http: aiohttp.ClientSession, token: str, user: FakeOaUser
) -> None:
    await user.send_text("Xin chào")
    oa.fail_next("/message/cs", 502)
    async with http.post(f"{oa.url}/v3.0/oa/message/cs", json={}, headers={"access_token": token}) as resp:
        assert resp.status == 502
    oa.refuse_next("/message/cs", -32, "Request rate limit exceeded")
    assert (await cs(http, oa, token))["error"] == -32
    oa.set_rate(1)
    results = [(await cs(http, oa, token))["error"] for _ in range(3)]
    assert results[0] == 0 and -32 in results[1:]
    oa.set_rate(None)
    oa.set_delay(0.2)
    started = asyncio.get_running_loop().time()
    assert (await cs(http, oa, token))["error"] == 0
    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_control_api(oa: FakeZaloOA, http: aiohttp.ClientSession, hook: Hook) -> None:
    fake = FakeZaloOA(clock=oa.clock)
    await fake.start(setup=lambda app: add_controls(app, fake))
    try:
        url = fake.url
        await http.post(f"{url}/_fake/users", json={"user_id": USER, "display_name": "Lê Văn C"})
        await http.post(f"{url}/_fake/webhook", json={"url": oa.webhook})
        async with http.post(
            f"{url}/_fake/users/{USER}/actions", json={"action": "text", "text": "Chào"}
        ) as resp:
            assert (await resp.json())["ok"] is True
        pair = await (await http.post(f"{url}/_fake/authorize")).json()
        await cs(http, fake, pair["access_token"])
        messages = await (await http.get(f"{url}/_fake/users/{USER}/messages")).json()
        assert messages["messages"] == [
            {"kind": "text", "text": "Chào đồng chí", "quota": "reply", "buttons": []}
        ]
        await http.post(f"{url}/_fake/clock", json={"seconds": 8 * 86400})
        assert (await cs(http, fake, pair["access_token"]))["error"] == -124
        state = await (await http.get(f"{url}/_fake/state")).json()
        assert state["sent"] == 1 and state["users"] == 1
        await fake.settle()
        assert json.loads(hook.received[-1][0])["message"]["text"] == "Chào"
    finally:
        await fake.stop()
