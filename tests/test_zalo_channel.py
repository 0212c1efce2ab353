"""The Zalo adapter against the fake Zalo server: sending (splitting, choices, files as links, photos), error
mapping, and events arriving by polling and by webhook as neutral `Incoming`s."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from bot.channels.zalo import DEFAULT_RETRY_AFTER, SECRET_HEADER, WEBHOOK_PATH, ZaloChannel, to_incoming
from bot.core.events import (
    Blocked,
    Button,
    ChannelName,
    Incoming,
    IncomingFile,
    OutFile,
    RateLimited,
    Rejected,
    Reply,
    Transient,
)
from bot.fakes.zalo_server import FakeZalo
from bot.fakes.zalo_users import FakeZaloUser
from messages.render import numbered_choices

USER_ID = "e4ea2cd5189df1c3a88c"
SECRET = "zalo-webhook-secret"
PUBLIC = "https://chibo.example.vn"
PDF = OutFile(hashlib.sha256(b"pdf").hexdigest(), "Kế hoạch 747.pdf", "application/pdf", 1_300_000)
JPG = OutFile(hashlib.sha256(b"jpg").hexdigest(), "hoi-nghi.jpg", "image/jpeg", 80_000, as_photo=True)
CHOICES = [[Button("Đã nhận", "ack:1"), Button("Báo cáo", "report:1")]]


def link(file: OutFile) -> str:
    return f"{PUBLIC}/f/{file.sha256}?e=1717000000&s=abc"


class Inbox:
    """Collects what the adapter hands to the bot."""

    def __init__(self) -> None:
        self.events: list[Incoming] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: Incoming) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait(self, count: int, timeout: float = 5.0) -> list[Incoming]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo()
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
def user(zalo: FakeZalo) -> FakeZaloUser:
    return zalo.user(USER_ID, "Nguyễn Văn A")


@pytest.fixture
async def channel(zalo: FakeZalo) -> AsyncIterator[ZaloChannel]:
    adapter = ZaloChannel(zalo.token, zalo.api_url, link_maker=link, poll_timeout=1)
    yield adapter
    await adapter.stop()


@pytest.fixture
async def polling(channel: ZaloChannel) -> Inbox:
    inbox = Inbox()
    await channel.start(inbox)
    return inbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vietnamese_text(length: int) -> str:
    """Report-like prose dense with Vietnamese-grouped numbers (1.234.567), dates and symbols."""
    rng = random.Random(747)
    words = [
        "Chi bộ",
        "đã",
        "tổ chức",
        "sinh hoạt",
        "chuyên đề",
        "với",
        "đảng viên",
        "tham gia,",
        "đạt",
        "tỷ lệ",
    ]
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        parts.append(rng.choice(words))
        if rng.random() < 0.4:
            parts.append(f"{rng.randint(1, 999)}.{rng.randint(0, 999):03d}.{rng.randint(0, 999):03d}")
        if rng.random() < 0.1:
            parts.append("ngày 15/11/2024 theo Công văn 747-CV/ĐUK.")
        if rng.random() < 0.05:
            parts[-1] += "\n"
    return " ".join(parts)[:length].rstrip()


def tokens(text: str) -> list[str]:
    return text.split()


# --- sending ----------------------------------------------------------------------------------------------
async def test_long_text_is_split_at_2000_never_inside_a_word_or_number(
    channel: ZaloChannel, user: FakeZaloUser
) -> None:
    text = vietnamese_text(5000)
    assert len(text) >= 4990 and re.search(r"\d{1,3}\.\d{3}\.\d{3}", text)
    sent = await channel.send(USER_ID, Reply(text=text))
    chunks = [m.text for m in user.messages]
    assert len(chunks) == 3
    assert all(len(c) <= 2000 for c in chunks)
    assert [t for c in chunks for t in tokens(c)] == tokens(text)  # every word and number whole, in order
    assert sent.message_id == user.last.message_id and sent.file_ref is None


async def test_choices_are_appended_to_the_last_chunk(channel: ZaloChannel, user: FakeZaloUser) -> None:
    listing, mapping = numbered_choices(CHOICES)
    assert mapping == {"1": "ack:1", "2": "report:1"}
    await channel.send(USER_ID, Reply(text="Công văn 747-CV/ĐUK mới.", buttons=CHOICES))
    assert [m.text for m in user.messages] == [f"Công văn 747-CV/ĐUK mới.\n\n{listing}"]
    assert user.last.text.endswith("1. Đã nhận\n2. Báo cáo\nTrả lời 1 hoặc 2.")

    long_text = vietnamese_text(4500)
    await channel.send(USER_ID, Reply(text=long_text, buttons=CHOICES))
    later = [m.text for m in user.messages[1:]]
    assert later[-1].endswith(listing) and all(len(c) <= 2000 for c in later)
    assert listing not in "".join(later[:-1])


async def test_text_full_of_emoji_fits_zalo_counting(channel: ZaloChannel, user: FakeZaloUser) -> None:
    text = " ".join(["📌 Nội dung", "✅ 1.234.567 lượt"] * 140)  # emoji count two UTF-16 units each
    await channel.send(USER_ID, Reply(text=text))
    chunks = [m.text for m in user.messages]
    assert len(chunks) >= 2 and [t for c in chunks for t in tokens(c)] == tokens(text)


async def test_file_goes_as_a_link(channel: ZaloChannel, user: FakeZaloUser) -> None:
    sent = await channel.send(USER_ID, Reply(text="Tài liệu sinh hoạt tháng 5.", file=PDF, buttons=CHOICES))
    assert len(user.messages) == 1
    body = user.last.text
    assert body.startswith("Tài liệu sinh hoạt tháng 5.")
    assert f"📎 Tải tệp: Kế hoạch 747.pdf (1,2 MB)\n{link(PDF)}" in body
    assert body.endswith(numbered_choices(CHOICES)[0])
    assert sent.file_ref == f"link:{PDF.sha256}"
    # a file_ref from an earlier send changes nothing: links are minted afresh
    await channel.send(USER_ID, Reply(file=PDF), file_ref=sent.file_ref)
    assert user.last.text == f"📎 Tải tệp: Kế hoạch 747.pdf (1,2 MB)\n{link(PDF)}"


async def test_photo_goes_by_send_photo(channel: ZaloChannel, zalo: FakeZalo, user: FakeZaloUser) -> None:
    sent = await channel.send(USER_ID, Reply(text="Ảnh hội nghị", file=JPG))
    assert (user.last.kind, user.last.photo, user.last.caption) == ("photo", link(JPG), "Ảnh hội nghị")
    assert sent.message_id == user.last.message_id
    assert zalo.calls[-1].method == "sendPhoto"

    long_text = vietnamese_text(2500)
    await channel.send(USER_ID, Reply(text=long_text, file=JPG, buttons=CHOICES))
    kinds = [m.kind for m in user.messages[1:]]
    assert kinds == ["text", "text", "photo"]
    assert user.last.caption == numbered_choices(CHOICES)[0]
    assert [t for m in user.messages[1:3] for t in tokens(m.text)] == tokens(long_text)


async def test_photo_without_text_has_no_caption(
    channel: ZaloChannel, zalo: FakeZalo, user: FakeZaloUser
) -> None:
    await channel.send(USER_ID, Reply(file=JPG))
    assert user.last.kind == "photo" and user.last.caption == ""
    assert "caption" not in zalo.calls[-1].params


async def test_edit_sends_anew_and_noops(channel: ZaloChannel, user: FakeZaloUser) -> None:
    await channel.send(USER_ID, Reply(text="Bản cũ"))
    await channel.edit(USER_ID, user.last.message_id, Reply(text="Bản mới", buttons=CHOICES))
    assert [m.text.split("\n")[0] for m in user.messages] == ["Bản cũ", "Bản mới"]
    assert user.last.text.endswith("Trả lời 1 hoặc 2.")
    await channel.answer_button("anything")
    await channel.set_commands(None, [("help", "Trợ giúp")])
    assert channel.invite_link("ABCDE-FGHJK") is None
    assert (channel.name, channel.can_share_contact, channel.has_buttons) == (ChannelName.ZALO, False, False)


async def test_empty_reply_and_missing_link_maker_are_rejected(zalo: FakeZalo, user: FakeZaloUser) -> None:
    adapter = ZaloChannel(zalo.token, zalo.api_url)
    try:
        with pytest.raises(Rejected):
            await adapter.send(USER_ID, Reply(text="  "))
        with pytest.raises(Rejected):
            await adapter.send(USER_ID, Reply(text="Tệp", file=PDF))
        with pytest.raises(Rejected):
            await adapter.send(USER_ID, Reply(text="Ảnh " * 600, file=JPG))  # nothing half-sent
        assert user.messages == [] and zalo.calls == []
    finally:
        await adapter.stop()


# --- error mapping ----------------------------------------------------------------------------------------
async def test_quota_exceeded_is_rate_limited(
    channel: ZaloChannel, zalo: FakeZalo, user: FakeZaloUser
) -> None:
    zalo.force_429(1)
    with pytest.raises(RateLimited) as caught:
        await channel.send(USER_ID, Reply(text="một"))
    assert caught.value.retry_after == DEFAULT_RETRY_AFTER
    await channel.send(USER_ID, Reply(text="một"))
    assert [m.text for m in user.messages] == ["một"]


async def test_blocked_rejected_transient(channel: ZaloChannel, zalo: FakeZalo, user: FakeZaloUser) -> None:
    with pytest.raises(Rejected, match="chat not found"):
        await channel.send("ffffffffffffffffffff", Reply(text="ai?"))
    zalo.fail_next("sendMessage", status=500)
    with pytest.raises(Transient):
        await channel.send(USER_ID, Reply(text="lỗi máy chủ"))
    zalo.block(USER_ID)
    with pytest.raises(Blocked):
        await channel.send(USER_ID, Reply(text="đã chặn"))
    with pytest.raises(Blocked):
        await channel.send(USER_ID, Reply(text="ảnh", file=JPG))
    assert user.messages == []


async def test_timeout_and_unreachable_are_transient(zalo: FakeZalo, user: FakeZaloUser) -> None:
    slow = ZaloChannel(zalo.token, zalo.api_url, request_timeout=0.2)
    gone = ZaloChannel(zalo.token, f"http://127.0.0.1:{free_port()}")
    try:
        zalo.set_delay(1.0)
        with pytest.raises(Transient):
            await slow.send(USER_ID, Reply(text="chậm"))
        with pytest.raises(Transient):
            await gone.send(USER_ID, Reply(text="không tới"))
    finally:
        await slow.stop()
        await gone.stop()


@pytest.fixture
async def odd_server() -> AsyncIterator[str]:
    """A server that answers like a broken proxy in front of Zalo, and serves a user's photo."""

    async def proxy_error(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    async def quota_page(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down")

    async def photo(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8\xffJPEGDATA", content_type="image/jpeg")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_post("/proxy/bot{token}/{method}", proxy_error)
    app.router.add_post("/quota/bot{token}/{method}", quota_page)
    app.router.add_get("/photo.jpg", photo)
    app.router.add_get("/gone.jpg", missing)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_non_json_answers_are_mapped_by_status(odd_server: str) -> None:
    proxy = ZaloChannel("1:x", f"{odd_server}/proxy")
    quota = ZaloChannel("1:x", f"{odd_server}/quota")
    try:
        with pytest.raises(Transient):
            await proxy.send(USER_ID, Reply(text="một"))
        with pytest.raises(RateLimited):
            await quota.send(USER_ID, Reply(text="một"))
    finally:
        await proxy.stop()
        await quota.stop()


async def test_download_fetches_the_photo_url(odd_server: str) -> None:
    adapter = ZaloChannel("1:x", odd_server)
    try:
        data = await adapter.download(IncomingFile("photo", f"{odd_server}/photo.jpg", mime="image/jpeg"))
        assert data == b"\xff\xd8\xffJPEGDATA"
        with pytest.raises(Rejected):
            await adapter.download(IncomingFile("photo", f"{odd_server}/gone.jpg"))
        with pytest.raises(Rejected):
            await adapter.download(IncomingFile("unsupported", None))
    finally:
        await adapter.stop()


# --- receiving by polling ---------------------------------------------------------------------------------
async def test_polling_delivers_text_and_commands(polling: Inbox, zalo: FakeZalo, user: FakeZaloUser) -> None:
    first = await user.send_text("Xin chào")
    second = await user.send_text("/Start  ABCDE-FGHJK ")
    events = await polling.wait(2)
    hello, start = events
    assert hello.channel is ChannelName.ZALO
    assert (hello.update_id, hello.user_id, hello.chat_id) == (first, USER_ID, USER_ID)
    assert hello.display_name == "Nguyễn Văn A"
    assert (hello.text, hello.command, hello.file) == ("Xin chào", None, None)
    assert hello.date.tzinfo is not None and hello.date.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert abs((datetime.now(UTC) - hello.date).total_seconds()) < 10
    assert (start.update_id, start.command, start.args) == (second, "start", "ABCDE-FGHJK")
    assert [c.method for c in zalo.calls[:2]] == ["getMe", "deleteWebhook"]


async def test_polling_maps_images_stickers_and_unsupported(polling: Inbox, user: FakeZaloUser) -> None:
    await user.send_image("https://photo.zalo.me/abc.jpg", caption="Ảnh buổi sinh hoạt")
    await user.send_sticker()
    await user.send_unsupported()
    image, sticker, unsupported = await polling.wait(3)
    assert image.file == IncomingFile("photo", "https://photo.zalo.me/abc.jpg", mime="image/jpeg")
    assert image.text == "Ảnh buổi sinh hoạt"
    assert sticker.text is None and sticker.file == IncomingFile("unsupported", None)
    assert unsupported.text is None and unsupported.file == IncomingFile("unsupported", None)


async def test_polling_survives_server_errors_and_handler_errors(
    channel: ZaloChannel, zalo: FakeZalo, user: FakeZaloUser
) -> None:
    inbox = Inbox()

    async def fragile(event: Incoming) -> None:
        await inbox(event)
        if event.text == "hỏng":
            raise RuntimeError("handler bug")

    zalo.fail_next("getUpdates", status=500)
    await channel.start(fragile)
    await user.send_text("hỏng")
    await user.send_text("vẫn chạy")
    assert [e.text for e in await inbox.wait(2)] == ["hỏng", "vẫn chạy"]
    assert any(c.method == "getUpdates" and c.error_code == 500 for c in zalo.calls)


async def test_polling_accepts_list_results() -> None:
    async with FakeZalo(updates_shape="list") as zalo:
        user = zalo.user(USER_ID, "A")
        adapter = ZaloChannel(zalo.token, zalo.api_url, poll_timeout=1)
        inbox = Inbox()
        try:
            await user.send_text("một")
            await user.send_text("hai")
            await adapter.start(inbox)
            assert [e.text for e in await inbox.wait(2)] == ["một", "hai"]
        finally:
            await adapter.stop()


# --- receiving by webhook ---------------------------------------------------------------------------------
@pytest.fixture
async def hooked(zalo: FakeZalo) -> AsyncIterator[tuple[ZaloChannel, Inbox, str]]:
    port = free_port()
    app = web.Application()
    adapter = ZaloChannel(
        zalo.token, zalo.api_url, public_url=f"http://127.0.0.1:{port}", webhook_secret=SECRET, web_app=app
    )
    inbox = Inbox()
    await adapter.start(inbox)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield adapter, inbox, f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    await adapter.stop()
    await runner.cleanup()


@pytest.mark.parametrize("shape", ["wrapped", "flat"])
async def test_webhook_delivers_both_body_shapes(
    shape: str, zalo: FakeZalo, user: FakeZaloUser, hooked: tuple[ZaloChannel, Inbox, str]
) -> None:
    _, inbox, url = hooked
    assert zalo.webhook is not None and (zalo.webhook.url, zalo.webhook.secret) == (url, SECRET)
    zalo.body_shape = shape
    message_id = await user.send_image("https://photo.zalo.me/x.jpg")
    await zalo.wait_delivered(message_id)
    (event,) = await inbox.wait(1)
    assert (event.update_id, event.file) == (
        message_id,
        IncomingFile("photo", "https://photo.zalo.me/x.jpg", mime="image/jpeg"),
    )


async def test_webhook_refuses_a_bad_secret(
    user: FakeZaloUser, hooked: tuple[ZaloChannel, Inbox, str]
) -> None:
    _, inbox, url = hooked
    event = user.event("message.text.received", {"text": "giả mạo"})
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong-secret"}, {SECRET_HEADER: SECRET + "x"}):
            async with http.post(url, json=event, headers=headers) as resp:
                assert resp.status == 403
        async with http.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 400
        assert inbox.events == []
        async with http.post(url, json=event, headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 200
    assert [e.text for e in inbox.events] == ["giả mạo"]


async def test_short_or_missing_secret_is_made_usable(zalo: FakeZalo) -> None:
    for given in (None, "short"):
        adapter = ZaloChannel(
            zalo.token, zalo.api_url, public_url=PUBLIC, webhook_secret=given, web_app=web.Application()
        )
        try:
            await adapter.start(Inbox())
            assert zalo.webhook is not None and 8 <= len(zalo.webhook.secret) <= 256
            assert zalo.webhook.url == f"{PUBLIC}{WEBHOOK_PATH}"
        finally:
            await adapter.stop()


# --- mapping odd events -----------------------------------------------------------------------------------
def event(**message: object) -> dict:
    base: dict = {
        "message_id": "16f6366b3f02645a3d15",
        "date": 1766619597466,
        "chat": {"id": USER_ID, "chat_type": "PRIVATE"},
        "from": {"id": USER_ID, "display_name": "Nguyễn Văn A", "is_bot": False},
        "text": "Xin chào",
    }
    base.update(message)
    return {"event_name": "message.text.received", "message": base}


def test_date_is_milliseconds() -> None:
    mapped = to_incoming(event())
    assert mapped is not None
    assert mapped.date == datetime(2025, 12, 24, 23, 39, 57, 466000, tzinfo=UTC)
    assert to_incoming(event(date=1766619597)).date == datetime(2025, 12, 24, 23, 39, 57, tzinfo=UTC)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {"event_name": "message.text.received"},
        event(chat={"id": "g1", "chat_type": "GROUP"}),
        event(**{"from": {"id": "b1", "display_name": "Bot", "is_bot": True}}),
        event(**{"from": "nobody"}),
    ],
)
def test_events_chibo_does_not_use_give_none(raw: object) -> None:
    assert to_incoming(raw) is None


def test_lenient_mapping() -> None:
    nfd = "Nguye\u0302\u0303n"  # NFD from some keyboards
    mapped = to_incoming(event(text=nfd, date="junk", **{"from": {"id": USER_ID, "first_name": "A"}}))
    assert mapped is not None and mapped.text == "Nguyễn" and mapped.display_name == "A"
    assert abs((datetime.now(UTC) - mapped.date).total_seconds()) < 10
    slash = to_incoming(event(text="/ hello"))
    assert slash is not None and slash.command is None and slash.text == "/ hello"
    future = to_incoming(
        {"event_name": "message.video.received", "message": event()["message"] | {"text": None}}
    )
    assert future is not None and future.file == IncomingFile("unsupported", None)
