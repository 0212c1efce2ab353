"""The Zalo OA adapter against the fake OA, on SQLite and PostgreSQL: sending text, buttons, native files (uploaded
once, then reused), links, images and the phone form; signed webhook events mapped to `Incoming`; errors mapped to
the delivery errors; the rotating token pair renewed under a lock by two instances at once and after a crash."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.zalo_oa import WEBHOOK_PATH, ZaloOaChannel
from bot.channels.zalo_oa_tokens import AuthLost, TokenKeeper
from bot.core.clock import Clock
from bot.core.events import (
    Blocked,
    Button,
    ChannelName,
    Incoming,
    OutFile,
    OutsideWindow,
    RateLimited,
    Rejected,
    Reply,
    Transient,
)
from bot.fakes.zalo_oa_rules import Policy
from bot.fakes.zalo_oa_server import SIGNATURE_HEADER, FakeZaloOA
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.services.files import FileStore
from messages import zalo_oa as msg
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import ZaloOaToken
from tests.conftest import free_port

USER = "7531902468135792468"
PUBLIC = "https://chibo.example.vn"
PDF = "application/pdf"
CHOICES = [[Button("Đã nhận", "ack:747"), Button("Báo cáo", "report:747")]]


def link(file: OutFile) -> str:
    return f"{PUBLIC}/f/{file.sha256}?e=1717000000&s=abc"


class Inbox:
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


@dataclass
class Bot:
    channel: ZaloOaChannel
    inbox: Inbox
    webhook: str
    files: FileStore

    def store(self, data: bytes, name: str, mime: str, *, as_photo: bool = False) -> OutFile:
        return OutFile(self.files.write(data), name, mime, len(data), as_photo)


@pytest.fixture
async def oa(clock: Clock) -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA(clock=clock, policy=Policy(monthly_quota=1), oa_secret_key="oa-webhook-key")
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


def keeper(
    engine: AsyncEngine,
    oa: FakeZaloOA,
    clock: Clock,
    http: aiohttp.ClientSession,
    seed: str | None,
    **kw: object,
) -> TokenKeeper:
    return TokenKeeper(
        make_sessionmaker(engine),
        clock,
        oa_id=oa.oa_id,
        app_id=oa.app_id,
        secret_key=oa.secret_key,
        seed_refresh_token=seed,
        oauth_url=oa.url,
        http=lambda: http,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def bot(
    engine: AsyncEngine, oa: FakeZaloOA, clock: Clock, http: aiohttp.ClientSession, tmp_path: Path
) -> AsyncIterator[Bot]:
    files = FileStore(tmp_path / "files", 50 * 1024 * 1024)
    app = web.Application()
    channel = ZaloOaChannel(
        keeper(engine, oa, clock, http, oa.authorize()[1]),
        app_id=oa.app_id,
        oa_secret_key=oa.oa_secret_key,
        api_url=oa.url,
        files=files,
        public_url=PUBLIC,
        web_app=app,
        link_maker=link,
        price_vnd=55,
    )
    inbox = Inbox()
    await channel.start(inbox)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    oa.set_webhook(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    yield Bot(channel, inbox, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", files)
    await oa.settle()
    await runner.cleanup()
    await channel.close()


@pytest.fixture
async def user(oa: FakeZaloOA, bot: Bot) -> FakeOaUser:
    person = oa.user(USER, "Phạm Văn D")
    await person.follow()
    await bot.inbox.wait(1)
    return person


# --- sending ------------------------------------------------------------------------------------------------
async def test_text_and_buttons_come_back_as_a_button_press(
    bot: Bot, user: FakeOaUser, oa: FakeZaloOA
) -> None:
    sent = await bot.channel.send(USER, Reply(text="Công văn 747-CV/ĐUK mới.", buttons=CHOICES))
    assert (user.last.kind, user.last.text) == ("buttons", "Công văn 747-CV/ĐUK mới.")
    assert [b.title for b in user.last.buttons] == ["Đã nhận", "Báo cáo"]
    assert sent.message_id == user.last.message_id and sent.cost == "free"
    await user.press("Đã nhận")
    pressed = (await bot.inbox.wait(2))[-1]
    assert (pressed.button, pressed.text, pressed.channel) == ("ack:747", None, ChannelName.ZALO_OA)


async def test_many_buttons_and_long_text(bot: Bot, user: FakeOaUser) -> None:
    buttons = [[Button(f"Chi bộ {i}", f"unit:{i}") for i in range(7)]]
    await bot.channel.send(USER, Reply(text="Chọn chi bộ. " * 300, buttons=buttons))
    kinds = [m.kind for m in user.messages]
    assert kinds == ["text", "buttons", "buttons"]
    assert len(user.messages[1].buttons) == 5 and user.messages[2].text == msg.MORE_CHOICES
    assert all(len(m.text) <= 2000 for m in user.messages)


async def test_pdf_is_uploaded_once_then_its_token_reused(bot: Bot, user: FakeOaUser, oa: FakeZaloOA) -> None:
    pdf = bot.store(b"%PDF-1.7 ke hoach", "Kế hoạch 747.pdf", PDF)
    first = await bot.channel.send(USER, Reply(text="Tài liệu sinh hoạt.", file=pdf))
    assert [m.kind for m in user.messages] == ["text", "file"]
    assert user.last.file is not None and user.last.file.data == b"%PDF-1.7 ke hoach"
    assert first.file_ref is not None and first.file_ref.startswith("file:") and len(oa.uploads) == 1
    await bot.channel.send(USER, Reply(file=pdf), file_ref=first.file_ref)
    assert len(oa.uploads) == 1 and user.last.file is user.messages[1].file
    oa.uploads.clear()  # Zalo forgot the token: uploaded again, once
    again = await bot.channel.send(USER, Reply(file=pdf), file_ref=first.file_ref)
    assert len(oa.uploads) == 1 and again.file_ref != first.file_ref


async def test_other_types_and_large_files_go_as_links(bot: Bot, user: FakeOaUser, oa: FakeZaloOA) -> None:
    xlsx = bot.store(b"PK xlsx", "Tổng hợp.xlsx", "application/vnd.ms-excel")
    sent = await bot.channel.send(USER, Reply(text="Bảng tổng hợp.", file=xlsx))
    assert (
        user.last.kind == "text" and link(xlsx) in user.last.text and sent.file_ref == f"link:{xlsx.sha256}"
    )
    big = bot.store(b"%PDF" + b"0" * (5 * 1024 * 1024), "Lớn.pdf", PDF)
    await bot.channel.send(USER, Reply(file=big))
    assert link(big) in user.last.text and oa.uploads == {}
    oa.rules.policy.upload_quota = 0  # upload refused: a link instead
    small = bot.store(b"%PDF small", "Nhỏ.pdf", PDF)
    assert (await bot.channel.send(USER, Reply(file=small))).file_ref == f"link:{small.sha256}"


async def test_image_goes_as_a_media_template(bot: Bot, user: FakeOaUser) -> None:
    jpg = bot.store(b"\xff\xd8jpg", "hoi-nghi.jpg", "image/jpeg", as_photo=True)
    await bot.channel.send(USER, Reply(text="Ảnh hội nghị", file=jpg))
    assert [m.kind for m in user.messages] == ["text", "image"] and user.last.image == link(jpg)


async def test_request_contact_then_submitted_phone(bot: Bot, user: FakeOaUser) -> None:
    await bot.channel.send(USER, Reply(text="Đồng chí xác nhận số điện thoại.", request_contact=True))
    assert user.last.kind == "request_info" and user.last.title == msg.SHARE_PHONE_TITLE
    await user.submit_info("84912345678", "Phạm Văn D")
    shared = (await bot.inbox.wait(2))[-1]
    assert (shared.contact_phone, shared.display_name, shared.user_id) == ("84912345678", "Phạm Văn D", USER)


async def test_costs_outside_the_window(bot: Bot, user: FakeOaUser, oa: FakeZaloOA, clock: Clock) -> None:
    clock.advance(timedelta(hours=49))
    assert (await bot.channel.send(USER, Reply(text="Nhắc báo cáo"))).cost == "quota"
    assert (await bot.channel.send(USER, Reply(text="Nhắc lần hai"))).cost == "paid"
    assert bot.channel.spent_vnd == 55 and bot.channel.costs["purchase_quota"] == 1
    oa.rules.policy.paid = False
    with pytest.raises(OutsideWindow) as closed:
        await bot.channel.send(USER, Reply(text="Nhắc lần ba"))
    assert "-213" in str(closed.value) and closed.value.route_hint == "zns"
    clock.advance(timedelta(days=6))
    with pytest.raises(OutsideWindow, match="-230"):
        await bot.channel.send(USER, Reply(text="Nhắc lần bốn"))


async def test_delivery_errors(bot: Bot, user: FakeOaUser, oa: FakeZaloOA) -> None:
    with pytest.raises(Blocked):
        await bot.channel.send("1111111111111111111", Reply(text="Ai đó"))
    oa.refuse_next("/message/cs", -32, "Request rate limit exceeded")
    with pytest.raises(RateLimited):
        await bot.channel.send(USER, Reply(text="x"))
    oa.fail_next("/message/cs", 502)
    with pytest.raises(Transient):
        await bot.channel.send(USER, Reply(text="x"))
    oa.refuse_next("/message/cs", -999, "Something new")
    with pytest.raises(Rejected, match="-999: Something new") as refused:
        await bot.channel.send(USER, Reply(text="x"))
    assert type(refused.value) is Rejected


# --- events -----------------------------------------------------------------------------------------------
async def test_events_map_to_incoming(bot: Bot, user: FakeOaUser) -> None:
    follow = bot.inbox.events[0]
    assert (follow.command, follow.user_id, follow.chat_id) == ("start", USER, USER)
    msg_id = await user.send_text("/start abc123")
    await user.send_image("https://zalo.example/photo.jpg", "Ảnh")
    await user.send_file("https://zalo.example/bc.docx", "Báo cáo.docx", 2048, "docx")
    text, image, doc = (await bot.inbox.wait(4))[1:]
    assert (text.update_id, text.command, text.args) == (msg_id, "start", "abc123")
    assert image.file is not None and (image.file.kind, image.file.ref, image.text) == (
        "photo",
        "https://zalo.example/photo.jpg",
        "Ảnh",
    )
    assert doc.file is not None and (doc.file.kind, doc.file.name, doc.file.size) == (
        "document",
        "Báo cáo.docx",
        2048,
    )
    assert doc.file.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_webhook_refuses_unsigned_or_wrongly_signed_events(
    bot: Bot, oa: FakeZaloOA, http: aiohttp.ClientSession
) -> None:
    event = {
        "app_id": oa.app_id,
        "event_name": "user_send_text",
        "timestamp": "1712109600000",
        "sender": {"id": USER},
        "recipient": {"id": oa.oa_id},
        "message": {"msg_id": "m1", "text": "giả mạo"},
    }
    body = json.dumps(event).encode()
    good = hashlib.sha256(oa.app_id.encode() + body + b"1712109600000" + b"oa-webhook-key").hexdigest()
    wrong = hashlib.sha256(oa.app_id.encode() + body + b"1712109600000" + b"other-secret").hexdigest()
    for headers in ({}, {SIGNATURE_HEADER: f"mac={wrong}"}, {SIGNATURE_HEADER: f"mac={good[:-1]}0"}):
        async with http.post(bot.webhook, data=body, headers=headers) as resp:
            assert resp.status == 401
    assert bot.inbox.events == []
    for signature in (f"mac={good}", good):  # both forms the sources show
        async with http.post(bot.webhook, data=body, headers={SIGNATURE_HEADER: signature}) as resp:
            assert resp.status == 200
    assert [e.text for e in await bot.inbox.wait(2)] == ["giả mạo", "giả mạo"]


# --- tokens -----------------------------------------------------------------------------------------------
async def test_expired_access_token_is_renewed_and_saved(
    bot: Bot, user: FakeOaUser, oa: FakeZaloOA, engine: AsyncEngine
) -> None:
    await bot.channel.send(USER, Reply(text="Một"))
    assert oa.oauth.refreshed == 1
    oa.oauth.expire_access()  # Zalo says -124: renewed once, then the message goes
    await bot.channel.send(USER, Reply(text="Hai"))
    assert oa.oauth.refreshed == 2 and user.last.text == "Hai"
    async with transaction(make_sessionmaker(engine)) as session:
        row = (await session.scalars(select(ZaloOaToken))).one()
    assert row.renewals == 2 and row.refresh_token in oa.oauth.refresh


async def test_two_instances_renew_at_once_with_one_call(
    db_url: str, oa: FakeZaloOA, clock: Clock, http: aiohttp.ClientSession
) -> None:
    seed = oa.authorize()[1]
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        first, second = (keeper(e, oa, clock, http, seed) for e in engines)
        tokens = await asyncio.gather(first.access_token(), second.access_token())
        assert tokens[0] == tokens[1] and oa.oauth.refreshed == 1 and oa.oauth.refused == 0
        oa.oauth.expire_access()
        renewed = await asyncio.gather(first.renew(stale=tokens[0]), second.renew(stale=tokens[1]))
        assert renewed[0] == renewed[1] != tokens[0]
        assert oa.oauth.refreshed == 2 and oa.oauth.refused == 0 and first.renewals + second.renewals == 2
    finally:
        for engine in engines:
            await engine.dispose()


class SimulatedCrash(Exception):
    """The process dying between Zalo's answer and the commit: the transaction never commits."""


async def crash() -> None:
    raise SimulatedCrash


async def test_crash_between_call_and_save_strict_zalo(
    engine: AsyncEngine, oa: FakeZaloOA, clock: Clock, http: aiohttp.ClientSession
) -> None:
    seed = oa.authorize()[1]
    with pytest.raises(SimulatedCrash):
        await keeper(engine, oa, clock, http, seed, before_save=crash).access_token()
    assert oa.oauth.refreshed == 1  # Zalo rotated; our save was rolled back
    restarted = keeper(engine, oa, clock, http, seed)
    with pytest.raises(AuthLost):  # Transient for the outbox: messages wait
        await restarted.access_token()
    consented = keeper(engine, oa, clock, http, oa.authorize()[1])  # an admin consents; the operator sets it
    token = await consented.access_token()
    assert token in oa.oauth.access
    still_old = keeper(engine, oa, clock, http, seed)  # an instance not yet restarted with the new setting
    assert await still_old.access_token() == token
    again = keeper(engine, oa, clock, http, oa.authorize()[1])
    assert await again.access_token() != token  # a newer configured token replaces the stored pair again


async def test_crash_between_call_and_save_with_refresh_grace(
    engine: AsyncEngine, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with FakeZaloOA(clock=clock, refresh_grace=True, token_shape="wrapped") as oa:
        seed = oa.authorize()[1]
        with pytest.raises(SimulatedCrash):
            await keeper(engine, oa, clock, http, seed, before_save=crash).access_token()
        restarted = keeper(engine, oa, clock, http, seed)
        assert await restarted.access_token() in oa.oauth.access  # the stored token still worked
        clock.advance(timedelta(hours=25))
        assert await restarted.access_token() in oa.oauth.access and oa.oauth.refreshed == 3


async def test_webhook_answers_in_time_while_a_slow_handling_goes_on(bot: Bot, user: FakeOaUser) -> None:
    handled: list[str] = []

    async def slow(event: Incoming) -> None:
        await asyncio.sleep(1.0)
        handled.append(event.update_id)

    bot.channel.answer_within = 0.1
    bot.channel._on_event = slow
    msg_id = await user.send_text("Báo cáo")
    started = asyncio.get_running_loop().time()
    await user.server.settle()
    assert asyncio.get_running_loop().time() - started < 0.8 and user.server.webhook_errors == []
    assert handled == []
    await bot.channel.stop()  # waits for the handling under way
    assert handled == [msg_id]
