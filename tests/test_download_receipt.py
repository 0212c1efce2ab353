"""A receipt means a person: a signed file link sent on Zalo opens a small page; only its download button serves
the file and counts as the cell having received the directive. HEAD requests, link previews, crawlers and the page
itself never count; images Zalo fetches to show are served without counting; bad links are still refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import func, select

from bot.core.events import ChannelName, Reply
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from bot.web.downloads import is_automated
from storage.db import transaction
from storage.models import DirectiveTarget, Download
from tests.test_directives import broadcast_747
from tests.test_zalo import link_in, zalo_secretary

PHONE = "Mozilla/5.0 (Linux; Android 10; SM-A105F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari"
ZALO_WEBVIEW = PHONE + " Zalo android/12100678 ZaloTheme/light ZaloLanguage/vn"
PREVIEWS = (
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Zalo-Link-Preview/1.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "TelegramBot (like TwitterBot)",
    "",
)


async def counts(bot: Runtime) -> tuple[int, int]:
    """(downloads recorded, cells counted as having received)."""
    async with transaction(bot.sessions) as session:
        downloads = await session.scalar(select(func.count()).select_from(Download)) or 0
        received = await session.scalar(
            select(func.count()).where(DirectiveTarget.acknowledged_at.is_not(None))
        )
    return downloads, received or 0


async def file_link(bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo) -> str:
    board, lan = await zalo_secretary(bot, fake_tg, fake_zalo)
    await broadcast_747(bot, board)
    await lan.wait_until(lambda ms: any("Tải tệp: 747-CV-DUK.docx" in m.text for m in ms))
    return link_in(next(m for m in lan.messages if "Tải tệp" in m.text).text)


def test_who_counts_as_a_person() -> None:
    assert all(is_automated(ua) for ua in PREVIEWS)
    assert not is_automated(PHONE) and not is_automated(ZALO_WEBVIEW)


async def test_only_the_download_button_counts_and_only_once(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    url = await file_link(bot, fake_tg, fake_zalo)
    async with aiohttp.ClientSession() as http:
        async with http.head(url, headers={"User-Agent": PHONE}) as response:
            assert response.status == 200
        for agent in (*PREVIEWS, PHONE):
            async with http.get(url, headers={"User-Agent": agent}) as response:
                assert response.status == 200 and response.content_type == "text/html"
                page = await response.text()
            assert "747-CV-DUK.docx" in page and "Tải xuống" in page and 'method="post"' in page
            assert " KB" in page or " MB" in page  # the size, so a weak connection knows what it takes
        for agent in PREVIEWS:  # a program pressing the button gets the file but is no receipt
            async with http.post(url, headers={"User-Agent": agent}) as response:
                assert response.status == 200 and (await response.read())[:2] == b"PK"
        assert await counts(bot) == (0, 0)

        async with http.post(url, headers={"User-Agent": ZALO_WEBVIEW}) as response:
            assert response.status == 200
            assert "attachment" in response.headers["Content-Disposition"]
            assert (await response.read())[:2] == b"PK"  # the DOCX itself
        assert await counts(bot) == (1, 1)
        async with http.post(url, headers={"User-Agent": PHONE}) as response:
            assert response.status == 200
        assert await counts(bot) == (1, 1)  # pressed again: still one receipt


async def test_tampered_and_expired_links_are_refused_on_every_method(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    url = await file_link(bot, fake_tg, fake_zalo)
    parts = urlsplit(url)
    tampered = url.replace(parts.path, parts.path[:-1] + ("0" if parts.path[-1] != "0" else "1"))
    async with aiohttp.ClientSession(headers={"User-Agent": PHONE}) as http:
        for method in ("GET", "POST"):
            async with http.request(method, tampered) as response:
                assert response.status == 403 and "không hợp lệ" in await response.text()
        bot.clock.advance(timedelta(days=31))
        for method in ("GET", "POST"):
            async with http.request(method, url) as response:
                assert response.status == 410 and "hết hạn" in await response.text()
    assert await counts(bot) == (0, 0)


async def test_a_photo_zalo_fetches_itself_is_served_without_counting(
    bot: Runtime, fake_tg: FakeTelegram, fake_zalo: FakeZalo
) -> None:
    url = await file_link(bot, fake_tg, fake_zalo)
    query = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 200
    async with transaction(bot.sessions) as session:
        photo = await bot.files.save(session, bot.clock, jpeg, "hop-chi-bo.jpg", "image/jpeg")
    photo = replace(photo, directive_id=int(query["d"]), unit_id=int(query["u"]))
    await bot.channels[ChannelName.ZALO].send("f00dcafe", Reply(text="Ảnh buổi sinh hoạt", file=photo))
    sent = [m for m in fake_zalo.sent if m.kind == "photo"]
    assert sent, "the photo went out by URL"
    async with aiohttp.ClientSession() as http:
        for method in ("HEAD", "GET"):
            async with http.request(method, sent[-1].photo) as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
        async with http.get(sent[-1].photo) as response:
            assert await response.read() == jpeg
    assert await counts(bot) == (0, 0)
