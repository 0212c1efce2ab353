"""The fake Bot API's sendMediaGroup: answer shape, Telegram's limits and wording, file_id reuse, flood counting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InputMediaDocument, InputMediaPhoto
from telegram.error import BadRequest

from bot.fakes import FakeTelegram, FakeUser
from tests.test_fake_telegram import USER_ID, call, png


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.internal_errors == []


@pytest.fixture
def user(tg: FakeTelegram) -> FakeUser:
    return tg.user(USER_ID, "Nguyễn", "Văn An")


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    ptb = Bot(tg.token, base_url=f"{tg.api_url}/bot", base_file_url=f"{tg.api_url}/file/bot")
    async with ptb:
        yield ptb


def documents(*names: str) -> list[InputMediaDocument]:
    return [InputMediaDocument(f"%PDF {name}".encode(), filename=name) for name in names]


async def test_an_album_is_one_message_per_file_answered_as_an_array(
    tg: FakeTelegram, user: FakeUser, bot: Bot
) -> None:
    media = documents("ke-hoach.pdf", "phu-luc.pdf")
    media[0] = InputMediaDocument(media[0].media, caption="Công văn 747", filename="ke-hoach.pdf")
    sent = await bot.send_media_group(USER_ID, media)
    assert [m.document.file_name for m in sent] == ["ke-hoach.pdf", "phu-luc.pdf"]  # type: ignore[union-attr]
    assert sent[0].caption == "Công văn 747" and sent[1].caption is None
    assert sent[0].media_group_id and sent[0].media_group_id == sent[1].media_group_id
    assert [m.message_id for m in sent] == [1, 2] and len(user.messages) == 2
    assert tg.uploads == 2
    # Re-sent by file_id, an album keeps the names of the uploads and costs no upload.
    again = await bot.send_media_group(
        USER_ID,
        [InputMediaDocument(m.document.file_id) for m in sent],  # type: ignore[union-attr]
    )
    assert [m.document.file_name for m in again] == ["ke-hoach.pdf", "phu-luc.pdf"]  # type: ignore[union-attr]
    assert again[0].media_group_id != sent[0].media_group_id and tg.uploads == 2


async def test_album_sizes_kinds_and_item_errors(
    tg: FakeTelegram, user: FakeUser, bot: Bot, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, tg, "sendMediaGroup", chat_id=USER_ID)
    assert (status, body["description"]) == (400, 'Bad Request: parameter "media" is required')
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER_ID, documents("a.pdf"))
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER_ID, documents(*(f"{i}.pdf" for i in range(11))))
    with pytest.raises(BadRequest, match="same type"):  # documents go only with documents
        await bot.send_media_group(USER_ID, [*documents("a.pdf"), InputMediaPhoto(png())])
    photos = await bot.send_media_group(USER_ID, [InputMediaPhoto(png()), InputMediaPhoto(png(300, 200))])
    assert all(m.photo for m in photos)
    status, body = await call(
        http,
        tg,
        "sendMediaGroup",
        chat_id=USER_ID,
        media=[{"type": "document", "media": "BQACAgUAAxkBAAI-unknown"}] * 2,
    )
    assert status == 400
    assert body["description"] == (
        'Bad Request: failed to send message #1 with the error message "wrong file identifier/HTTP URL specified"'
    )
    assert len(user.messages) == 2  # only the photo album went out


async def test_reply_markup_on_an_album_is_ignored_as_by_telegram(
    tg: FakeTelegram, user: FakeUser, http: aiohttp.ClientSession
) -> None:
    doc = tg.store_file("document", b"%PDF", "a.pdf", "application/pdf")
    keyboard = {"inline_keyboard": [[{"text": "Đã nhận", "callback_data": "ack:1"}]]}
    status, body = await call(
        http,
        tg,
        "sendMediaGroup",
        chat_id=USER_ID,
        media=[{"type": "document", "media": doc.file_id}] * 2,
        reply_markup=keyboard,
    )
    assert status == 200 and all("reply_markup" not in m for m in body["result"])
    assert not any(m.buttons for m in user.messages)


async def test_every_item_counts_against_the_overall_flood_limit(
    tg: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    for uid in range(1, 7):
        tg.user(uid, f"U{uid}")
    doc = tg.store_file("document", b"%PDF", "a.pdf", "application/pdf")
    album = [{"type": "document", "media": doc.file_id}] * 10
    tg.set_limits(30.0, 1.0)  # an album is one message against the per-chat limit: each chat gets its album
    started = time.monotonic()
    answers = await asyncio.gather(
        *(call(http, tg, "sendMediaGroup", chat_id=uid, media=album) for uid in range(1, 7))
    )
    elapsed = time.monotonic() - started
    refused = [body for status, body in answers if status == 429]
    assert refused and all(body["parameters"]["retry_after"] >= 1 for body in refused)
    assert 30 <= len(tg.sent) <= 30 + 30 * elapsed + 10  # a second's worth of 30 messages, then 30 msg/s
    assert len(tg.sent) % 10 == 0  # an album goes whole or not at all
