"""Tests of the fake Telegram Bot API server itself: raw HTTP answers and python-telegram-bot accepting them."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.fakes import FakeTelegram, FakeUser
from bot.fakes.telegram_server import from_args

USER_ID = 5001


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(webhook_retry_delay=0.05)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
def user(tg: FakeTelegram) -> FakeUser:
    return tg.user(USER_ID, "Nguyễn", "Văn An", "vanan")


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    ptb = Bot(tg.token, base_url=f"{tg.api_url}/bot", base_file_url=f"{tg.api_url}/file/bot")
    async with ptb:
        yield ptb


async def call(
    http: aiohttp.ClientSession, tg: FakeTelegram, method: str, **params: object
) -> tuple[int, dict]:
    """A Bot API call as a JSON body; returns (HTTP status, decoded answer)."""
    async with http.post(f"{tg.api_url}/bot{tg.token}/{method}", json=params) as resp:
        return resp.status, await resp.json()


def png(width: int = 200, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, format="PNG")
    return out.getvalue()


def seconds(value: object) -> float:
    """RetryAfter.retry_after is an int in PTB 22 and a timedelta later."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[union-attr]


def inline(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


# --- protocol basics --------------------------------------------------------------------------------------
async def test_get_me_and_errors_for_wrong_token_and_method(
    tg: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, tg, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["is_bot"] is True and body["result"]["username"] == "chibo_test_bot"
    async with http.get(f"{tg.api_url}/bot999:WRONG/getMe") as resp:
        assert resp.status == 401 and (await resp.json())["description"] == "Unauthorized"
    status, body = await call(http, tg, "sendTelepathy")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, _ = await call(http, tg, "GETME")  # Telegram method names are case-insensitive
    assert status == 200


async def test_ptb_bot_initializes_and_rejects_wrong_token(tg: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "chibo_test_bot" and bot.id == 123456
    wrong = Bot("999:WRONG", base_url=f"{tg.api_url}/bot", base_file_url=f"{tg.api_url}/file/bot")
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_form_query_and_json_bodies_are_all_accepted(
    tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession
) -> None:
    url = f"{tg.api_url}/bot{tg.token}/sendMessage"
    markup = json.dumps({"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]})
    async with http.post(url, data={"chat_id": str(USER_ID), "text": "form", "reply_markup": markup}) as resp:
        assert resp.status == 200
    async with http.get(url, params={"chat_id": str(USER_ID), "text": "query"}) as resp:
        assert resp.status == 200
    status, _ = await call(http, tg, "sendMessage", chat_id=USER_ID, text="json")
    assert status == 200
    assert [m.text for m in user.messages] == ["form", "query", "json"]
    assert user.messages[0].buttons == [("OK", "ok")]
    assert [c.method for c in tg.calls] == ["sendMessage"] * 3 and tg.calls[0].chat_id == USER_ID


async def test_unknown_chat_and_missing_chat_id(
    tg: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")
    status, body = await call(http, tg, "sendMessage", text="hi")
    assert status == 400 and body["description"] == "Bad Request: chat_id is empty"
    assert tg.sent == []


# --- text rules -------------------------------------------------------------------------------------------
async def test_text_length_counts_after_entity_parsing(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    tg.set_limits(None, None)
    await bot.send_message(USER_ID, "a" * 4096)
    await bot.send_message(USER_ID, "<b>" + "ơ" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER_ID, "   \n ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER_ID, "<b></b>", parse_mode="HTML")
    assert len(user.messages) == 2 and user.messages[1].text == "ơ" * 4096


async def test_caption_limit(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    await bot.send_document(USER_ID, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_document(USER_ID, b"x", filename="a.txt", caption="c" * 1025)
    assert [m.caption for m in user.messages] == ["c" * 1024]


async def test_html_is_parsed_into_plain_text_and_utf16_entities(user: FakeUser, bot: Bot) -> None:
    sent = await bot.send_message(
        USER_ID, '👍 <b>Đã nhận</b> &lt;1&gt; <a href="https://example.org/x">link</a>', parse_mode="HTML"
    )
    assert sent.text == "👍 Đã nhận <1> link"
    bold, link = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 7)  # the emoji is 2 UTF-16 units
    assert (link.type, link.url) == ("text_link", "https://example.org/x")
    assert sent.parse_entity(bold) == "Đã nhận"
    assert user.last.raw_text.startswith("👍 <b>")


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<br>line", 'Unsupported start tag "br"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("a < b", "Unsupported start tag"),
    ],
)
async def test_bad_html_is_refused_like_telegram(user: FakeUser, bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)parse entities") as error:
        await bot.send_message(USER_ID, html, parse_mode="HTML")
    assert reason.lower() in error.value.message.lower()  # PTB re-cases Telegram's description
    assert user.messages == []


async def test_markdown_v2_reserved_characters_must_be_escaped(user: FakeUser, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)Character '\.' is reserved"):
        await bot.send_message(USER_ID, "Hạn 15.11", parse_mode="MarkdownV2")
    sent = await bot.send_message(USER_ID, r"*Hạn* 15\.11", parse_mode="MarkdownV2")
    assert sent.text == "Hạn 15.11" and sent.entities[0].type == "bold"


async def test_callback_data_is_limited_to_64_bytes(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    await bot.send_message(USER_ID, "ok", reply_markup=inline("A", "x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER_ID, "too long", reply_markup=inline("B", "đ" * 33))  # 33 chars, 66 bytes
    assert len(user.messages) == 1


async def test_button_rules(tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession) -> None:
    text_only = {"inline_keyboard": [[{"text": "no action"}]]}
    status, body = await call(http, tg, "sendMessage", chat_id=USER_ID, text="x", reply_markup=text_only)
    assert status == 400 and "Text buttons are unallowed" in body["description"]
    local = {"inline_keyboard": [[{"text": "open", "url": "http://localhost:8080/f"}]]}
    status, body = await call(http, tg, "sendMessage", chat_id=USER_ID, text="x", reply_markup=local)
    assert status == 400 and "Wrong HTTP URL" in body["description"]
    status, body = await call(http, tg, "sendMessage", chat_id=USER_ID, text="x", reply_markup="{not json")
    assert status == 400 and "reply keyboard markup" in body["description"]


async def test_reply_keyboard_with_contact_request_and_removal(user: FakeUser, bot: Bot) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Gửi số điện thoại", request_contact=True)]], resize_keyboard=True
    )
    await bot.send_message(USER_ID, "Chia sẻ số", reply_markup=keyboard)
    await bot.send_message(USER_ID, "Cảm ơn", reply_markup=ReplyKeyboardRemove())
    first, second = user.messages
    assert first.request_contact and first.keyboard == ["Gửi số điện thoại"] and not first.removed_keyboard
    assert second.removed_keyboard and not second.request_contact


# --- flood control and faults -----------------------------------------------------------------------------
async def test_per_chat_limit_answers_429_with_retry_after(
    tg: FakeTelegram, user: FakeUser, bot: Bot
) -> None:
    tg.limiter.burst = 2
    tg.set_limits(None, 1.0)
    await bot.send_message(USER_ID, "1")
    await bot.send_message(USER_ID, "2")
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(USER_ID, "3")
    assert seconds(error.value.retry_after) >= 1
    assert tg.too_many_requests == 1 and tg.calls[-1].status == 429
    assert [m.text for m in user.messages] == ["1", "2"]
    await asyncio.sleep(1.05)
    await bot.send_message(USER_ID, "3")
    assert [m.text for m in user.messages] == ["1", "2", "3"]


async def test_429_answer_shape(tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession) -> None:
    tg.force_429(retry_after=7)
    status, body = await call(http, tg, "sendMessage", chat_id=USER_ID, text="x")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


async def test_global_limit_spans_chats_and_can_be_switched_off(tg: FakeTelegram, bot: Bot) -> None:
    for uid in range(1, 91):
        tg.user(uid, f"U{uid}")
    tg.set_limits(30.0, None)
    started = time.monotonic()
    results = await asyncio.gather(
        *(bot.send_message(uid, "x") for uid in range(1, 91)), return_exceptions=True
    )
    elapsed = time.monotonic() - started
    limited = [r for r in results if isinstance(r, RetryAfter)]
    delivered = len(results) - len(limited)
    assert 30 <= delivered <= 30 + 30 * elapsed + 1  # a one-second burst, then 30 msg/s
    assert limited and tg.too_many_requests == len(limited) and len(tg.sent) == delivered
    tg.set_limits(None, None)
    results = await asyncio.gather(*(bot.send_message(1, "y") for _ in range(100)), return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception)]


async def test_force_429_reaches_ptb_as_retry_after(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    tg.force_429(retry_after=3, count=2)
    await bot.get_me()  # not a send: unaffected
    for _ in range(2):
        with pytest.raises(RetryAfter) as error:
            await bot.send_message(USER_ID, "x")
        assert seconds(error.value.retry_after) == 3
    await bot.send_message(USER_ID, "x")
    assert tg.too_many_requests == 2 and len(user.messages) == 1


async def test_force_429_after_lets_calls_through_first(
    tg: FakeTelegram, user: FakeUser, bot: Bot, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{tg.api_url}/_fake/faults", json={"kind": "force_429", "retry_after": 2, "after": 2}
    ) as resp:
        assert resp.status == 200
    await bot.send_message(USER_ID, "1")
    await bot.get_me()  # not a send: neither counted nor failed
    await bot.send_message(USER_ID, "2")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER_ID, "3")
    await bot.send_message(USER_ID, "3")
    assert [m.text for m in user.messages] == ["1", "2", "3"] and tg.too_many_requests == 1


async def test_blocked_user_gets_403_and_bot_sees_my_chat_member(
    tg: FakeTelegram, user: FakeUser, bot: Bot
) -> None:
    tg.block(USER_ID)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER_ID, "x")
    with pytest.raises(Forbidden):
        await bot.send_document(USER_ID, b"x", filename="a.txt")
    (update,) = await bot.get_updates()
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.from_user.id == USER_ID
    await user.send_text("/start")  # writing again means the user unblocked the bot
    await bot.send_message(USER_ID, "back")
    assert [m.text for m in user.messages] == ["back"]


async def test_user_who_never_started_the_bot_cannot_be_messaged(tg: FakeTelegram, bot: Bot) -> None:
    stranger = tg.user(777, "Lạ", started=False)
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(777, "hi")
    await stranger.send_command("/start", "CODE")
    await bot.send_message(777, "hi")
    assert stranger.last.text == "hi"


async def test_fail_next_injects_server_errors(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=502, count=2, description="Bad Gateway")
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(USER_ID, "x")
    await bot.send_message(USER_ID, "x")
    assert [c.status for c in tg.calls[-3:]] == [502, 502, 200] and len(user.messages) == 1


async def test_delay_slows_every_answer(tg: FakeTelegram, bot: Bot) -> None:
    tg.set_delay(0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.3


# --- updates: long polling --------------------------------------------------------------------------------
async def test_long_poll_waits_for_an_update_and_offset_confirms(
    tg: FakeTelegram, user: FakeUser, bot: Bot
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    update_id = await user.send_command("/start", "ABC123")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.update_id == update_id
    message = update.message
    assert message.text == "/start ABC123" and message.chat.type == "private" and message.chat.id == USER_ID
    assert message.from_user.first_name == "Nguyễn" and not message.from_user.is_bot
    assert message.entities[0].type == "bot_command" and message.entities[0].length == len("/start")
    assert (await bot.get_updates(timeout=0))[0].update_id == update_id  # not confirmed yet
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    await tg.wait_delivered(update_id, timeout=1)


async def test_update_ids_increase_and_limit_and_negative_offset(user: FakeUser, bot: Bot) -> None:
    ids = [await user.send_text(f"m{i}") for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["m0", "m1"]
    assert [u.message.text for u in await bot.get_updates(offset=-2)] == ["m3", "m4"]


async def test_allowed_updates_filter_new_updates(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    await bot.send_message(USER_ID, "Chọn", reply_markup=inline("Có", "yes"))
    await bot.get_updates(allowed_updates=["message"])
    await user.press("Có")
    await user.send_text("chữ")
    (update,) = await bot.get_updates()
    assert update.message.text == "chữ"


async def test_second_poller_terminates_the_first_with_409(
    tg: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(call(http, tg, "getUpdates", timeout=1))  # another bot instance
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    assert await second == (200, {"ok": True, "result": []})


async def test_user_actions_produce_ptb_parsable_updates(user: FakeUser, bot: Bot) -> None:
    await user.share_contact("84912345678")
    await user.share_contact("84900000000", own=False)
    await user.send_document("bao-cao.pdf", b"%PDF-1.4 data", "application/pdf", caption="Báo cáo")
    await user.send_photo(png(640, 480), caption="Ảnh")
    own, other, doc, photo = (u.message for u in await bot.get_updates())
    assert own.contact.user_id == USER_ID and own.contact.phone_number == "84912345678"
    assert other.contact.user_id != USER_ID
    assert (
        doc.document.file_name == "bao-cao.pdf" and doc.document.file_size == 13 and doc.caption == "Báo cáo"
    )
    assert doc.document.mime_type == "application/pdf"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480) and photo.photo[0].width <= 90
    assert isinstance(own.date.timestamp(), float) and abs(own.date.timestamp() - time.time()) < 60
    file = await doc.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 data"
    photo_file = await photo.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == png(640, 480)


# --- updates: webhook -------------------------------------------------------------------------------------
PUBLIC_ORIGIN = "https://bot.example.vn"


class WebhookTarget:
    """A tiny bot-side webhook endpoint recording what Telegram posts; can be told to fail first.

    It listens on plain HTTP locally; `url` is its public HTTPS address, which the fake maps to it (the stand-in
    for DNS and the TLS proxy a real deployment has)."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict, str | None]] = []
        self.url = ""
        self.local_origin = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.local_origin = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.url = f"{PUBLIC_ORIGIN}/hook"

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        self.received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(text="ok")


@pytest.fixture
async def hook(tg: FakeTelegram) -> AsyncIterator[WebhookTarget]:
    target = WebhookTarget()
    await target.start()
    tg.expose_webhook_host(PUBLIC_ORIGIN, target.local_origin)
    yield target
    await target.stop()


async def test_webhook_delivery_carries_secret_and_blocks_get_updates(
    tg: FakeTelegram, user: FakeUser, bot: Bot, hook: WebhookTarget
) -> None:
    await user.send_text("chờ sẵn")  # pending before the webhook: delivered once it is set
    assert await bot.set_webhook(hook.url, secret_token="s3cret_TOKEN-1")
    assert tg.webhook == {"url": hook.url, "secret_token": "s3cret_TOKEN-1", "max_connections": 40}
    update_id = await user.send_text("xin chào")
    await tg.wait_delivered(update_id, timeout=3)
    assert [(u["message"]["text"], secret) for u, secret in hook.received] == [
        ("chờ sẵn", "s3cret_TOKEN-1"),
        ("xin chào", "s3cret_TOKEN-1"),
    ]
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == hook.url and info.pending_update_count == 0
    assert await bot.delete_webhook()
    await user.send_text("poll again")
    assert [u.message.text for u in await bot.get_updates()] == ["poll again"]


async def test_webhook_retries_on_errors(
    tg: FakeTelegram, user: FakeUser, bot: Bot, hook: WebhookTarget
) -> None:
    hook.failures = 2
    await bot.set_webhook(hook.url)
    update_id = await user.send_text("retry me")
    await tg.wait_delivered(update_id, timeout=3)
    assert len(hook.received) == 1 and hook.received[0][1] is None
    info = await bot.get_webhook_info()
    assert "500" in info.last_error_message


async def test_webhook_keeps_order_within_a_chat(
    tg: FakeTelegram, user: FakeUser, hook: WebhookTarget, http: aiohttp.ClientSession
) -> None:
    assert await call(http, tg, "setWebhook", url=hook.url) == (
        200,
        {"ok": True, "result": True, "description": "Webhook was set"},
    )
    ids = [await user.send_text(str(i)) for i in range(20)]
    await tg.wait_delivered(ids[-1], timeout=3)
    await asyncio.sleep(0.05)
    assert [u["message"]["text"] for u, _ in hook.received] == [str(i) for i in range(20)]


async def test_set_webhook_rejects_bad_secret(bot: Bot, hook: WebhookTarget) -> None:
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook(hook.url, secret_token="has space")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://bot.example.vn/hook", "bad webhook: An HTTPS URL must be provided for webhook"),
        (
            "https://bot.example.vn:8080/hook",
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        (
            "https://bot.example.vn:99999/hook",
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
    ],
)
async def test_set_webhook_takes_https_on_telegrams_ports_only(
    tg: FakeTelegram, http: aiohttp.ClientSession, url: str, error: str
) -> None:
    status, body = await call(http, tg, "setWebhook", url=url)
    assert (status, body["description"]) == (400, f"Bad Request: {error}")
    assert tg.webhook is None


@pytest.mark.parametrize("port", ["", ":443", ":80", ":88", ":8443"])
async def test_set_webhook_accepts_telegrams_ports(
    tg: FakeTelegram, http: aiohttp.ClientSession, port: str
) -> None:
    assert (await call(http, tg, "setWebhook", url=f"https://bot.example.vn{port}/hook"))[0] == 200


# --- files ------------------------------------------------------------------------------------------------
async def test_upload_once_then_reuse_by_file_id(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    first = await bot.send_document(USER_ID, b"%PDF-1.4 cong van", filename="747-CV.pdf", caption="Công văn")
    again = await bot.send_document(USER_ID, first.document.file_id, caption="Gửi lại")
    assert tg.uploads == 1
    assert again.document.file_id == first.document.file_id and again.document.file_name == "747-CV.pdf"
    assert [m.file_bytes for m in user.messages] == [b"%PDF-1.4 cong van"] * 2
    assert user.messages[1].kind == "document" and user.messages[1].caption == "Gửi lại"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER_ID, "BQACAgUAAxkBAAI-unknown")
    assert tg.uploads == 1


async def test_photo_upload_validation_and_type_mismatch(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER_ID, b"not an image")
    sent = await bot.send_photo(USER_ID, png(), caption="Ảnh")
    assert user.last.kind == "photo" and user.last.file_bytes == png()
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Photo as Document"):
        await bot.send_document(USER_ID, sent.photo[-1].file_id)
    await bot.send_photo(USER_ID, sent.photo[-1].file_id)
    assert tg.uploads == 1


@pytest.mark.parametrize(
    ("size", "error"),
    [
        ((9000, 1001), "PHOTO_INVALID_DIMENSIONS"),  # width + height over 10000
        ((2100, 100), "PHOTO_INVALID_DIMENSIONS"),  # 21:1
        ((100, 2100), "PHOTO_INVALID_DIMENSIONS"),  # 1:21
    ],
)
async def test_photos_breaking_the_photo_rules_are_refused(
    tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession, size: tuple[int, int], error: str
) -> None:
    answer = await _upload(http, tg, "sendPhoto", "photo", "anh.png", png(*size), "image/png")
    assert answer == {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
    assert user.messages == [] and tg.uploads == 0


async def test_photos_at_the_photo_limits_pass(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    await bot.send_photo(USER_ID, png(9000, 1000))  # width + height exactly 10000, ratio 9
    await bot.send_photo(USER_ID, png(2000, 100))  # exactly 20:1
    assert [m.kind for m in user.messages] == ["photo", "photo"] and tg.uploads == 2


async def test_photo_over_10_mb_is_refused_with_telegrams_text(
    tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession
) -> None:
    big = png() + b"\0" * (10 * 1024 * 1024)
    answer = await _upload(http, tg, "sendPhoto", "photo", "big.png", big, "image/png")
    assert answer["description"] == "Bad Request: PHOTO_SAVE_FILE_INVALID"
    assert user.messages == []


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [("bai-hat.mp3", "audio/mpeg", "audio"), ("clip.mp4", "video/mp4", "video")],
)
async def test_send_document_detects_audio_and_video_unless_told_not_to(
    tg: FakeTelegram, user: FakeUser, bot: Bot, http: aiohttp.ClientSession, name: str, mime: str, kind: str
) -> None:
    detected = await _upload_document(http, tg, name, mime)
    assert detected["ok"] and kind in detected["result"] and "document" not in detected["result"]
    assert user.last.kind == kind
    kept = await _upload_document(http, tg, name, mime, disable_content_type_detection="true")
    assert kept["result"]["document"]["mime_type"] == mime and kind not in kept["result"]
    assert user.last.kind == "document"
    again = await bot.send_document(USER_ID, kept["result"]["document"]["file_id"])
    assert again.document is not None and tg.uploads == 2


async def test_a_gif_sent_as_document_becomes_an_animation_with_its_document(
    tg: FakeTelegram, user: FakeUser, bot: Bot, http: aiohttp.ClientSession
) -> None:
    answer = (await _upload_document(http, tg, "hoat-hinh.gif", "image/gif"))["result"]
    assert answer["animation"]["file_id"] == answer["document"]["file_id"]
    message = await bot.send_document(USER_ID, b"GIF89a...", filename="b.gif")  # PTB parses the answer
    assert message.animation is not None and user.last.kind == "animation"


async def _upload_document(
    http: aiohttp.ClientSession, tg: FakeTelegram, name: str, mime: str, **fields: str
) -> dict:
    return await _upload(http, tg, "sendDocument", "document", name, b"\xff\xfb media bytes", mime, **fields)


async def _upload(
    http: aiohttp.ClientSession,
    tg: FakeTelegram,
    method: str,
    field: str,
    name: str,
    content: bytes,
    mime: str,
    **fields: str,
) -> dict:
    """A multipart upload as a client sends it; returns Telegram's decoded answer."""
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER_ID))
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field(field, content, filename=name, content_type=mime)
    async with http.post(f"{tg.api_url}/bot{tg.token}/{method}", data=form) as resp:
        return await resp.json()


async def test_uploads_over_50_mb_are_refused(
    tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER_ID))
    form.add_field("document", b"\0" * (50 * 1024 * 1024 + 1), filename="big.bin")
    async with http.post(f"{tg.api_url}/bot{tg.token}/sendDocument", data=form) as resp:
        assert resp.status == 413 and (await resp.json())["description"] == "Request Entity Too Large"
    assert user.messages == [] and tg.uploads == 0


async def test_get_file_errors_and_download_404(
    tg: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong file_id"):
        await bot.get_file("nope")
    async with http.get(f"{tg.api_url}/file/bot{tg.token}/documents/missing.pdf") as resp:
        assert resp.status == 404


# --- edits and buttons ------------------------------------------------------------------------------------
async def test_press_edit_and_answer_through_ptb(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "Công văn mới", reply_markup=inline("Đã nhận", "ack:747"))
    update_id = await user.press("Đã nhận")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert update.update_id == update_id and query.data == "ack:747" and query.from_user.id == USER_ID
    assert query.message.message_id == sent.message_id and query.chat_instance
    assert await query.answer("Cảm ơn!", show_alert=True)
    assert user.callback_answers == [
        {"callback_query_id": query.id, "text": "Cảm ơn!", "show_alert": True},
    ]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("again")
    edited = await bot.edit_message_text(
        "Công văn mới — đã nhận", chat_id=USER_ID, message_id=sent.message_id
    )
    assert edited.edit_date is not None and edited.reply_markup is None  # no markup given: keyboard removed
    assert user.last.edit_count == 1 and user.last.buttons == [] and len(user.messages) == 1
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Công văn mới — đã nhận", chat_id=USER_ID, message_id=sent.message_id)


async def test_edit_reply_markup_and_missing_message(user: FakeUser, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "Chọn", reply_markup=inline("A", "a"))
    await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=inline("B", "b"))
    assert user.last.buttons == [("B", "b")] and user.last.edit_count == 1
    await user.press("b")
    with pytest.raises(AssertionError, match="no message with button"):
        await user.press("a")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)
    doc = await bot.send_document(USER_ID, b"x", filename="a.txt")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=doc.message_id)
    await bot.edit_message_caption(USER_ID, doc.message_id, caption="Chú thích")
    assert user.last.caption == "Chú thích"


async def test_press_a_specific_older_message(user: FakeUser, bot: Bot) -> None:
    older = await bot.send_message(USER_ID, "1", reply_markup=inline("OK", "one"))
    await bot.send_message(USER_ID, "2", reply_markup=inline("OK", "two"))
    await user.press("OK")
    await user.press("OK", message=user.messages[0])
    first, second = await bot.get_updates()
    assert first.callback_query.data == "two" and second.callback_query.data == "one"
    assert second.callback_query.message.message_id == older.message_id


async def test_wait_for_and_wait_until(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        sent = await bot.send_message(USER_ID, "một", reply_markup=inline("X", "x"))
        await asyncio.sleep(0.05)
        await bot.edit_message_text("hai", chat_id=USER_ID, message_id=sent.message_id)

    task = asyncio.create_task(later())
    messages = await user.wait_for(1, timeout=2)
    assert messages[0].message_id == 1
    await user.wait_until(lambda msgs: msgs[-1].text == "hai", timeout=2)
    await task
    with pytest.raises(AssertionError, match=r"expected 3 messages .* received 1") as error:
        await user.wait_for(3, timeout=0.1)
    assert "'hai'" in str(error.value)
    assert len(await tg.wait_sent(1)) == 1


# --- commands, chat info, misc ----------------------------------------------------------------------------
async def test_commands_per_scope(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    board = [BotCommand("status", "Tình hình báo cáo"), BotCommand("export", "Xuất Excel")]
    await bot.set_my_commands([BotCommand("start", "Bắt đầu")])
    await bot.set_my_commands([BotCommand("baocao", "Gửi báo cáo")], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(board, scope=BotCommandScopeChat(USER_ID))
    assert tg.commands[("default", None)] == [{"command": "start", "description": "Bắt đầu"}]
    assert [c["command"] for c in tg.commands[("chat", USER_ID)]] == ["status", "export"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER_ID))] == [
        "status",
        "export",
    ]
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(USER_ID))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(USER_ID)) == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(board, scope=BotCommandScopeChat(99999))


async def test_get_chat_chat_action_delete_and_auto_users(tg: FakeTelegram, user: FakeUser, bot: Bot) -> None:
    chat = await bot.get_chat(USER_ID)
    assert chat.first_name == "Nguyễn" and chat.username == "vanan"
    assert await bot.send_chat_action(USER_ID, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER_ID, "dancing")
    sent = await bot.send_message(USER_ID, "xoá tôi")
    assert await bot.delete_message(USER_ID, sent.message_id)
    assert user.last.deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)
    tg.auto_users = True
    await bot.send_message(123987, "tự tạo")
    assert tg.users[123987].last.text == "tự tạo"


async def test_control_api_drives_users_from_another_process(tg: FakeTelegram, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=tg.api_url) as http:
        async with http.post("/_fake/users", json={"user_id": 42, "first_name": "Bí thư"}) as resp:
            assert resp.status == 200
        async with http.post(
            "/_fake/users/42/actions", json={"type": "command", "command": "start", "args": "X"}
        ) as resp:
            update_id = (await resp.json())["update_id"]
        (update,) = await bot.get_updates()
        assert update.update_id == update_id and update.message.text == "/start X"
        await bot.send_message(42, "Chào", reply_markup=inline("Đã nhận", "ack"))
        async with http.get("/_fake/users/42/messages") as resp:
            view = await resp.json()
        assert view["messages"][0]["text"] == "Chào" and view["messages"][0]["buttons"] == [
            ["Đã nhận", "ack"]
        ]
        async with http.post("/_fake/faults", json={"kind": "block", "user_id": 42}) as resp:
            assert resp.status == 200
        async with http.get("/_fake/state") as resp:
            assert (await resp.json())["sent"] == 1
    with pytest.raises(Forbidden):
        await bot.send_message(42, "x")


def test_standalone_server_maps_a_public_webhook_host_to_a_local_one() -> None:
    fake, _ = from_args(["--webhook-host", "https://chibo.example.vn:8443=http://127.0.0.1:8080"])
    assert fake.webhook_delivery_url("https://chibo.example.vn:8443/telegram/webhook") == (
        "http://127.0.0.1:8080/telegram/webhook"
    )
    assert fake.webhook_delivery_url("https://other.example.vn/hook") == "https://other.example.vn/hook"


def test_standalone_server_logs_every_send(tmp_path: Path) -> None:
    log = tmp_path / "sends.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "bot.fakes.telegram_server",
        "--port",
        "0",
        "--auto-users",
        "--log",
        str(log),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        api_url = proc.stdout.readline().strip()
        assert api_url.startswith("http://127.0.0.1:")

        async def send() -> None:
            async with aiohttp.ClientSession() as http:
                for text in ("một", "hai"):
                    url = f"{api_url}/bot123456:TEST-TOKEN/sendMessage"
                    async with http.post(url, json={"chat_id": 9001, "text": text}) as resp:
                        assert resp.status == 200

        asyncio.run(send())
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        assert [(x["chat_id"], x["method"], x["text"]) for x in lines] == [
            (9001, "sendMessage", "một"),
            (9001, "sendMessage", "hai"),
        ]
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
