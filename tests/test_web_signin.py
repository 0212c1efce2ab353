"""Signing in to the board's web dashboard from each chat product other than the Zalo Bot Platform (driven in
tests/test_web.py): /web on Telegram and «trang web» on the Zalo Official Account give a one-time link that opens
a session showing the member's overview; a secretary gets no link."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from messages import web as msg
from tests.support import add_staff, load_roster, register
from tests.test_web import Browser, _link, _people
from tests.zalo_fixtures import OA, ZaloWorld, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

BOARD_PHONE, SECRETARY_PHONE = "0988000001", "0912000003"


async def test_board_member_signs_in_from_telegram(
    bot: Runtime, fake_tg: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    await load_roster(bot)
    await add_staff(bot, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    board, cuc = fake_tg.user(901, "Tuyên"), fake_tg.user(902, "Cúc")
    await register(bot, board, BOARD_PHONE, role="board")
    await register(bot, cuc, SECRETARY_PHONE)

    before = len(cuc.messages)
    await cuc.send_command("/web")
    assert "/web/dang-nhap" not in (await cuc.wait_for(before + 1))[-1].text  # the command is the board's

    before = len(board.messages)
    await board.send_command("/web")
    answer = (await board.wait_for(before + 1))[-1].text
    found = re.search(r"http://\S+/web/dang-nhap\?t=(\S+)", answer)
    assert found is not None, answer
    async with http.get(found.group(0)) as page:
        assert page.status == 200 and msg.LOGIN_BUTTON in await page.text()
    base = found.group(0).split("/web/")[0]
    async with http.post(f"{base}/web/dang-nhap", data={"t": found.group(1)}, allow_redirects=False) as r:
        assert r.status == 303
        cookie = r.cookies["chibo_web"].value
    async with http.get(f"{base}/web/", headers={"Cookie": f"chibo_web={cookie}"}) as page:
        assert page.status == 200 and "Nguyễn Thị Tuyên" in await page.text()


@pytest.mark.parametrize("zalo", [OA], indirect=True)
async def test_board_member_signs_in_from_the_zalo_oa(zalo: ZaloWorld, http: aiohttp.ClientSession) -> None:
    board, _, cuc = await _people(zalo)
    assert not (await cuc.say("trang web")).links
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    status, _, body = await browser.get("/web/")
    assert status == 200 and "Nguyễn Thị Tuyên" in body.decode()
