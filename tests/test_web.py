"""The board's web dashboard, driven over HTTP the way a browser does (the headless Chromium test is in
tests/test_web_browser.py): a board member types «trang web» on Zalo, opens the one-time link, signs in, sees the
overview and the directive's page, nudges the missing cells (the secretary gets the reminder on Zalo), downloads
Excel and Word, and signs out. The access test tries every page and action as anonymous, as a secretary, as a board
member of another subtree and with a used or expired link or session."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.services import web_access
from messages import directives as msg_directives
from messages import documents
from messages import web as msg
from messages.formats import format_percent
from storage.db import transaction
from storage.models import (
    AuditEntry,
    Directive,
    DirectiveStatus,
    DirectiveTarget,
    Person,
    Report,
    Unit,
    WebSession,
)
from tests.levels_support import CAMPAIGN_REISSUE, UPPER, campaign, docx_text, xlsx_summary
from tests.support import (
    DOCX_MIME,
    add_staff,
    docx_bytes,
    file_report,
    load_roster,
    sample,
    send_test_directive,
)
from tests.zalo_fixtures import BOT_PLATFORM, ZaloPerson, ZaloWorld, eventually, zalo

BOARD_PHONE, OTHER_BOARD_PHONE, CUC_PHONE = "0988000001", "0988000002", "0912000003"
PAGES = (
    "/web/",
    "/web/tong-hop",
    "/web/gui",
    "/web/phien",
    "/web/van-ban/{id}",
    "/web/van-ban/{id}/tien-do",
    "/web/van-ban/{id}/excel",
    "/web/van-ban/{id}/word",
    "/web/van-ban/{id}/chi-bo/{unit}/nhap-ho",
)
ACTIONS = (
    "/web/van-ban/{id}/nhac",
    "/web/gui/{id}",
    "/web/van-ban/{id}/chi-bo/{unit}/duyet",
    "/web/van-ban/{id}/chi-bo/{unit}/nhap-ho",
    "/web/dang-xuat",
)
XLSX_MAGIC = b"PK"

__all__ = ["zalo"]  # the fixture, imported for pytest

pytestmark = pytest.mark.parametrize("zalo", [BOT_PLATFORM], indirect=True)


class Browser:
    """An HTTP client keeping the session cookie by hand (the cookie is Secure: the public URL is https, and the
    test reaches the bot's own port over http, as the reverse proxy does)."""

    def __init__(self, world: ZaloWorld, http: aiohttp.ClientSession, agent: str = "") -> None:
        self.world, self.http, self.cookie, self.agent = world, http, "", agent

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.world.port}{path}"

    async def get(self, path: str) -> tuple[int, str, bytes]:
        async with self.http.get(self.url(path), headers=self._headers(), allow_redirects=False) as r:
            body = await r.read()
            return r.status, r.headers.get("Content-Type", ""), body

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(
            self.url(path), data=data, headers=self._headers(), allow_redirects=False
        ) as r:
            return r.status, await r.text()

    async def post_to(self, path: str, data: dict[str, str]) -> str:
        """Post a form that answers with a redirect: where it leads."""
        async with self.http.post(
            self.url(path), data=data, headers=self._headers(), allow_redirects=False
        ) as r:
            assert r.status == 303, await r.text()
            return r.headers["Location"]

    async def sign_in(self, link: str) -> aiohttp.ClientResponse:
        local = self.world.local(link)
        token = re.search(r"[?&]t=([^&\s]+)", local)
        assert token is not None, link
        async with self.http.get(local) as page:
            assert page.status == 200, await page.text()
            assert msg.LOGIN_BUTTON in await page.text()
        async with self.http.post(
            self.url(web_access.LOGIN_PATH),
            data={"t": token.group(1)},
            headers=self._headers(),
            allow_redirects=False,
        ) as r:
            await r.read()
            if r.status == 303:
                morsel = r.cookies["chibo_web"]
                self.cookie = morsel.value
            return r

    async def csrf(self) -> str:
        _, _, body = await self.get("/web/")
        found = re.search(rb'name="csrf" value="([^"]+)"', body)
        assert found is not None
        return found.group(1).decode()

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.agent} if self.agent else {}
        return headers | ({"Cookie": f"chibo_web={self.cookie}"} if self.cookie else {})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def _people(zalo: ZaloWorld) -> tuple[ZaloPerson, ZaloPerson, ZaloPerson]:
    """The example roster; a board member of the bloc committee (ĐUK), one of a commune (X-TP), both on Zalo,
    and the secretary of a ĐUK cell on Zalo."""
    runtime = zalo.runtime
    await load_roster(runtime)
    await add_staff(runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    await add_staff(runtime, "Giàng Thị Dua", OTHER_BOARD_PHONE, "X-TP")
    board, other, cuc = (
        zalo.person("z-board", "Tuyên"),
        zalo.person("z-other", "Dua"),
        zalo.person("z-cuc", "Cúc"),
    )
    await board.join(BOARD_PHONE, "board")
    await other.join(OTHER_BOARD_PHONE, "board")
    await cuc.join(CUC_PHONE)
    return board, other, cuc


async def _link(person: ZaloPerson) -> str:
    answer = await person.say("trang web")
    assert answer.links, answer.text
    return answer.links[0]


async def test_board_member_signs_in_from_zalo_follows_a_directive_and_nudges(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    board, _, cuc = await _people(zalo)
    directive_id = await send_test_directive(zalo.runtime)
    await cuc.wait_for_text("747")
    link = await _link(board)
    browser = Browser(zalo, http)

    signed = await browser.sign_in(link)
    assert signed.status == 303 and signed.headers["Location"] == "/web/"
    cookie = signed.cookies["chibo_web"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"

    status, _, body = await browser.get("/web/")
    page = body.decode()
    assert status == 200 and "747-CV/ĐUK" in page and "Nguyễn Thị Tuyên" in page
    assert msg.BAR_MISSING in page and "0/5" in page  # five ĐUK cells, none reported

    status, _, body = await browser.get(f"/web/van-ban/{directive_id}")
    page = body.decode()
    assert status == 200
    assert "Chi bộ Văn phòng Sở Tài chính" in page and "Trần Thị Cúc" in page and "0912000003" in page
    assert 'aria-live="polite"' in page and f'data-refresh="/web/van-ban/{directive_id}/tien-do"' in page
    status, _, body = await browser.get(f"/web/van-ban/{directive_id}?loc=reported")
    assert "Trần Thị Cúc" not in re.sub(
        r"(?s)<section aria-labelledby=\"late\">.*?</section>", "", body.decode()
    )

    # The nudge: refused without the form's token, then the same reminder /nhacnho sends reaches the secretary.
    status, _ = await browser.post(f"/web/van-ban/{directive_id}/nhac", {})
    assert status == 403
    before = len(cuc.messages)
    status, text = await browser.post(f"/web/van-ban/{directive_id}/nhac", {"csrf": await browser.csrf()})
    assert status == 200 and msg.NUDGE_SENT.split("{")[0] in text
    await cuc.wait_until(lambda ms: len(ms) > before and "747" in ms[-1].text)

    status, _, body = await browser.get("/web/tong-hop")
    assert status == 200 and "747-CV/ĐUK" in body.decode() and b"/web/tong-hop/bieu-do.png" in body
    status, kind, body = await browser.get("/web/tong-hop/bieu-do.png")
    assert status == 200 and kind == "image/png" and body.startswith(b"\x89PNG")
    status, kind, body = await browser.get(f"/web/van-ban/{directive_id}/excel")
    assert status == 200 and "spreadsheetml" in kind and body.startswith(XLSX_MAGIC)
    status, kind, body = await browser.get(f"/web/van-ban/{directive_id}/word")
    assert status == 200 and "wordprocessingml" in kind and body.startswith(XLSX_MAGIC)

    async with transaction(zalo.runtime.sessions) as session:
        actions = set(
            (await session.scalars(select(AuditEntry.action).where(AuditEntry.actor.like("web:%")))).all()
        )
    assert {
        "web.signed_in",
        "reports.view_status",
        "web.nudge",
        "reports.export_xlsx",
        "reports.export_docx",
    } <= actions

    # The progress block alone, as the page fetches it every few seconds: it follows a report as it arrives.
    status, _, body = await browser.get(f"/web/van-ban/{directive_id}/tien-do")
    assert status == 200 and b"<html" not in body and msg.BAR_ON_TIME in body.decode()
    assert msg.BAR_VALUE.format(count=0, total=5, percent="0%") in body.decode()
    await cuc.say(QUICK)
    status, _, body = await browser.get(f"/web/van-ban/{directive_id}/tien-do")
    assert status == 200 and msg.BAR_VALUE.format(count=1, total=5, percent="20%") in body.decode()

    status, _ = await browser.post("/web/dang-xuat", {"csrf": await browser.csrf()})
    assert status == 200
    status, _, _ = await browser.get("/web/")
    assert status == 401


async def test_every_page_and_action_checks_who_asks(zalo: ZaloWorld, http: aiohttp.ClientSession) -> None:
    board, other, cuc = await _people(zalo)
    directive_id = await send_test_directive(zalo.runtime)
    await cuc.say(QUICK)  # a report to review
    async with transaction(zalo.runtime.sessions) as session:
        unit = await session.scalar(select(Unit.id).where(Unit.code == "DUK-STC-VP"))
    paths = [p.format(id=directive_id, unit=unit) for p in PAGES]
    actions = [p.format(id=directive_id, unit=unit) for p in ACTIONS]
    report_page = f"/web/van-ban/{directive_id}/chi-bo/{unit}"

    drill_page = f"/web/van-ban/{directive_id}/cap-duoi/{unit}"  # a unit below (none here: 404 to all)

    anonymous = Browser(zalo, http)
    for path in [*paths, report_page, drill_page]:
        assert (await anonymous.get(path))[0] == 401, path
    for path in actions:
        assert (await anonymous.post(path, {"csrf": "x"}))[0] == 401, path
    assert (await anonymous.get(web_access.LOGIN_PATH + "?t=forged"))[0] == 410
    assert (await anonymous.post(web_access.LOGIN_PATH, {"t": "forged"}))[0] == 410

    # A secretary gets no link: the command is the board's.
    answer = await cuc.say("trang web")
    assert not answer.links

    # A board member of another subtree: the overview lists nothing of ĐUK, its directive is not found.
    stranger = Browser(zalo, http)
    assert (await stranger.sign_in(await _link(other))).status == 303
    status, _, body = await stranger.get("/web/")
    assert status == 200 and "747-CV/ĐUK" not in body.decode() and msg.OVERVIEW_EMPTY in body.decode()
    status, _, body = await stranger.get("/web/tong-hop")
    assert status == 200 and "747-CV/ĐUK" not in body.decode()
    for path in [*paths[4:], report_page, drill_page]:
        assert (await stranger.get(path))[0] == 404, path
    csrf = await stranger.csrf()
    for path in actions[:-1]:
        assert (await stranger.post(path, {"csrf": csrf, "action": "accept"}))[0] == 404, path
    assert (await stranger.get("/web/van-ban/999999"))[0] == 404
    assert (await stranger.get("/web/van-ban/abc"))[0] == 404

    # The owner sees everything; a link works once; a CSRF token of another session is refused.
    owner = Browser(zalo, http)
    link = await _link(board)
    assert (await owner.sign_in(link)).status == 303
    for path in [*paths, report_page]:
        assert (await owner.get(path))[0] == 200, path
    again = Browser(zalo, http)
    async with http.get(zalo.local(link)) as page:
        assert page.status == 410
    for path in actions:
        assert (await owner.post(path, {"csrf": csrf, "action": "accept"}))[0] == 403, path

    # A link past its minutes, and a session past its hours, open nothing.
    late = await _link(board)
    zalo.runtime.clock.advance(timedelta(minutes=web_access.LINK_MINUTES + 1))
    token = re.search(r"t=(\S+)", late)
    assert token is not None
    assert (await again.post(web_access.LOGIN_PATH, {"t": token.group(1)}))[0] == 410
    zalo.runtime.clock.advance(timedelta(hours=web_access.SESSION_HOURS))
    assert (await owner.get("/web/"))[0] == 401
    async with transaction(zalo.runtime.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 2


async def test_board_member_sees_and_ends_their_sessions(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    board, other, _ = await _people(zalo)
    laptop = Browser(zalo, http, "Firefox trên máy tính")
    phone = Browser(zalo, http, "Chrome trên điện thoại")
    tablet = Browser(zalo, http, "Safari trên máy tính bảng")
    stranger = Browser(zalo, http, "Trình duyệt của người khác")
    for browser, person in ((laptop, board), (phone, board), (tablet, board), (stranger, other)):
        assert (await browser.sign_in(await _link(person))).status == 303
    zalo.runtime.clock.advance(timedelta(minutes=5))
    assert (await phone.get("/web/"))[0] == 200  # last seen moves on

    status, _, body = await laptop.get("/web/phien")
    page = body.decode()
    assert status == 200 and "Firefox trên máy tính" in page and msg.SESSION_THIS in page
    assert "Chrome trên điện thoại" in page and "Safari" in page and "người khác" not in page
    assert page.index("Chrome") < page.index("Safari")  # the most recently used first
    async with transaction(zalo.runtime.sessions) as session:
        ids = {s.user_agent: s.id for s in (await session.scalars(select(WebSession))).all() if s.user_agent}
    csrf = await laptop.csrf()

    # Ending another browser's session: refused without the form's token and for a session not one's own.
    assert (await laptop.post(f"/web/phien/{ids['Chrome trên điện thoại']}/ket-thuc", {}))[0] == 403
    status, _ = await laptop.post(f"/web/phien/{ids['Trình duyệt của người khác']}/ket-thuc", {"csrf": csrf})
    assert status == 404 and (await stranger.get("/web/"))[0] == 200
    status, text = await laptop.post(f"/web/phien/{ids['Chrome trên điện thoại']}/ket-thuc", {"csrf": csrf})
    assert status == 200 and msg.SESSION_ENDED in text and "Chrome" not in text
    assert (await phone.get("/web/"))[0] == 401

    # Every other session at once, then this one.
    assert (await phone.sign_in(await _link(board))).status == 303
    status, text = await laptop.post("/web/phien/khac/ket-thuc", {"csrf": csrf})
    assert status == 200 and msg.OTHERS_ENDED.format(count=2) in text
    assert (await phone.get("/web/"))[0] == 401 and (await tablet.get("/web/"))[0] == 401
    assert (await laptop.get("/web/"))[0] == 200 and (await stranger.get("/web/"))[0] == 200
    status, _ = await laptop.post(f"/web/phien/{ids['Firefox trên máy tính']}/ket-thuc", {"csrf": csrf})
    assert status == 200 and (await laptop.get("/web/"))[0] == 401
    async with transaction(zalo.runtime.sessions) as session:
        actions = list((await session.scalars(select(AuditEntry.action))).all())
    assert actions.count(web_access.SESSION_ENDED) == 2 and actions.count(web_access.OTHERS_ENDED) == 1


async def test_cli_prints_a_link_for_board_staff_only(
    zalo: ZaloWorld, http: aiohttp.ClientSession, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app

    await _people(zalo)
    monkeypatch.setenv("CHIBO_DATABASE_URL", db_url)
    monkeypatch.setenv("CHIBO_DATA_DIR", str(zalo.runtime.settings.data_dir))
    monkeypatch.setenv("CHIBO_PUBLIC_URL", "https://chibo.example.vn")
    for name in ("CHIBO_TELEGRAM_TOKEN", "CHIBO_ZALO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    refused = await asyncio.to_thread(runner.invoke, app, ["web-link", CUC_PHONE])
    assert refused.exit_code == 1 and "Trần Thị Cúc" in refused.output
    printed = await asyncio.to_thread(runner.invoke, app, ["web-link", BOARD_PHONE])
    assert printed.exit_code == 0, printed.output
    link = re.search(r"https://\S+", printed.output)
    assert link is not None
    assert (await Browser(zalo, http).sign_in(link.group())).status == 303


QUICK = "1/4; chuyên đề; 25/30; 12; Tốt; Không"  # a one-message report, as a secretary types it


async def test_board_returns_a_report_the_secretary_corrects_in_chat_then_accepts_it(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    board, _, cuc = await _people(zalo)
    directive_id = await send_test_directive(zalo.runtime)
    await cuc.wait_for_text("747")
    await cuc.say(QUICK)
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303

    # The cell's row links to its report, shown as received.
    _, _, body = await browser.get(f"/web/van-ban/{directive_id}")
    found = re.search(
        rb'href="(/web/van-ban/\d+/chi-bo/(\d+))">' + documents.review_label("received").encode(), body
    )
    assert found is not None, body.decode()[-3000:]
    report_path = found.group(1).decode()
    _, _, body = await browser.get(report_path)
    assert "25" in body.decode() and "30" in body.decode()

    csrf = await browser.csrf()
    status, text = await browser.post(
        report_path + "/duyet", {"csrf": csrf, "action": "return", "comment": ""}
    )
    assert status == 400 and msg.RETURN_NEEDS_COMMENT in text
    before = len(cuc.messages)
    comment = "Số đảng viên dự họp phải là 28/30"
    status, text = await browser.post(
        report_path + "/duyet", {"csrf": csrf, "action": "return", "comment": comment}
    )
    assert status == 200 and documents.review_label("returned") in text
    returned = await cuc.wait_for_text(comment)
    assert "sửa" in returned.text and len(cuc.messages) > before

    # The secretary corrects it the usual way; the new version arrives as received, not yet reviewed.
    await cuc.say("sửa")
    await cuc.say("sửa")
    await cuc.say("3")
    await cuc.say("28/30")
    await cuc.say("gửi")

    async def corrected() -> bool:
        async with transaction(zalo.runtime.sessions) as session:
            latest = await session.scalar(
                select(Report).where(Report.directive_id == directive_id, Report.is_latest.is_(True))
            )
        return latest is not None and latest.version == 2 and latest.review is None

    await eventually(corrected, "the corrected version is stored")
    _, _, body = await browser.get(report_path)
    page = body.decode()
    assert documents.review_label("received") in page and comment in page  # the old version keeps its comment

    status, text = await browser.post(report_path + "/duyet", {"csrf": csrf, "action": "accept"})
    assert status == 200 and msg.ACCEPTED_DONE in text
    _, _, workbook = await browser.get(f"/web/van-ban/{directive_id}/excel")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[0]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert documents.COL_REVIEW in cells and documents.review_label("accepted") in cells


ANSWERS = {"date": "01/04/2024", "ratio": "25/30", "number": "12", "text": "Tốt"}


async def test_board_member_enters_a_report_by_proxy(zalo: ZaloWorld, http: aiohttp.ClientSession) -> None:
    from bot.services.forms_store import get_form

    board, _, _ = await _people(zalo)
    directive_id = await send_test_directive(zalo.runtime)
    async with transaction(zalo.runtime.sessions) as session:
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "DUK-STC-NS"))
        form = await get_form(session, "sinh-hoat-chinh-tri")
    assert form is not None and unit_id is not None
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    _, _, body = await browser.get(f"/web/van-ban/{directive_id}")
    path = f"/web/van-ban/{directive_id}/chi-bo/{unit_id}/nhap-ho"
    assert path.encode() in body  # the missing cell's row offers it
    status, _, body = await browser.get(path)
    assert status == 200 and "Chi bộ Phòng Ngân sách" in body.decode()

    answers = {
        spec.key: spec.choices[0] if spec.choices else ANSWERS.get(str(spec.type), "")
        for spec in form.fields
        if spec.type != "photo"
    }
    csrf = await browser.csrf()
    ratio = next(spec.key for spec in form.fields if spec.type == "ratio")
    status, text = await browser.post(path, {"csrf": csrf, **answers, ratio: "31/30"})
    assert status == 400 and msg.PROXY_REFUSED in text and 'aria-invalid="true"' in text
    status, text = await browser.post(path, {**answers, "csrf": "forged"})
    assert status == 403
    status, text = await browser.post(path, {"csrf": csrf, **answers})
    assert status == 200 and msg.PROXY_DONE in text and "Nguyễn Thị Tuyên" in text

    async with transaction(zalo.runtime.sessions) as session:
        report = await session.scalar(select(Report).where(Report.unit_id == unit_id))
        board_id = await session.scalar(select(Person.id).where(Person.phone == BOARD_PHONE))
    assert report is not None and report.channel == "web" and report.person_id == board_id
    assert report.values[ratio] == {"attended": 25, "total": 30}
    _, _, body = await browser.get("/web/")
    assert "1/5" in body.decode()  # counted like any other report
    _, _, workbook = await browser.get(f"/web/van-ban/{directive_id}/excel")
    cells = [
        str(c.value)
        for row in openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[0].iter_rows()
        for c in row
    ]
    assert documents.COL_PROXY in cells and documents.PROXY_YES in cells


async def test_board_member_sends_a_directive_from_the_browser(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    board, _, cuc = await _people(zalo)
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    csrf = await browser.csrf()

    preview = await _upload_747(browser, http, csrf)
    status, _, body = await browser.get(preview)
    page = body.decode()
    assert status == 200 and "747-CV/ĐUK" in page and 'type="date"' in page
    async with transaction(zalo.runtime.sessions) as session:
        duk = await session.scalar(select(Unit.id).where(Unit.code == "DUK"))
    form = {"csrf": csrf, "number": "747-CV/ĐUK", "form": "sinh-hoat-chinh-tri", "unit": str(duk)}
    status, text = await browser.post(preview, {**form, "deadline": "2024-04-01"})
    assert status == 400 and msg.SEND_DEADLINE_PASSED in text
    status, text = await browser.post(preview, {**form, "deadline": "2024-04-10", "unit": "999999"})
    assert status == 400 and msg.SEND_NEEDS_UNITS in text
    status, _ = await browser.post(preview, {**form, "deadline": "2024-04-10"})
    assert status == 303
    await cuc.wait_for_text("747")  # the directive reaches the secretary on Zalo
    async with transaction(zalo.runtime.sessions) as session:
        directive = await session.scalar(select(Directive).where(Directive.number == "747-CV/ĐUK"))
    assert (
        directive is not None
        and directive.deadline == date(2024, 4, 10)
        and directive.form_key == "sinh-hoat-chinh-tri"
    )
    status, _, body = await browser.get(f"/web/van-ban/{directive.id}")
    assert status == 200 and "Trần Thị Cúc" in body.decode()
    assert (await browser.post(preview, {**form, "deadline": "2024-04-10"}))[
        0
    ] == 404  # sent: no longer a draft


async def _upload_747(browser: Browser, http: aiohttp.ClientSession, csrf: str) -> str:
    """Upload sample 747 from the browser; the preview's address."""
    upload = aiohttp.FormData()
    upload.add_field("csrf", csrf)
    upload.add_field(
        "file", docx_bytes(sample("directive-747-CV-DUK.txt")), filename="747.docx", content_type=DOCX_MIME
    )
    async with http.post(
        browser.url("/web/gui"), data=upload, headers=browser._headers(), allow_redirects=False
    ) as r:
        assert r.status == 303, await r.text()
        return r.headers["Location"]


async def test_cells_deeper_in_the_tree_are_picked_by_their_codes(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    board, _, cuc = await _people(zalo)
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    csrf = await browser.csrf()
    preview = await _upload_747(browser, http, csrf)
    form = {"csrf": csrf, "number": "747-CV/ĐUK", "form": "sinh-hoat-chinh-tri", "deadline": "2024-04-10"}
    status, text = await browser.post(preview, {**form, "codes": "DUK-STC-VP, KHONG-CO"})
    assert status == 400 and msg.SEND_UNKNOWN_CODES.format(codes="KHONG-CO") in text
    assert 'value="DUK-STC-VP, KHONG-CO"' in text  # what was typed is kept
    status, _ = await browser.post(preview, {**form, "codes": "DUK-STC-VP"})
    assert status == 303
    await cuc.wait_for_text("747")
    async with transaction(zalo.runtime.sessions) as session:
        targeted = (
            await session.scalars(
                select(Unit.code)
                .join(DirectiveTarget, DirectiveTarget.unit_id == Unit.id)
                .join(Directive, Directive.id == DirectiveTarget.directive_id)
                .where(Directive.number == "747-CV/ĐUK")
            )
        ).all()
    assert targeted == ["DUK-STC-VP"]  # that one cell, nothing else under Sở Tài chính


async def test_sending_747_again_from_the_browser_asks_what_it_is(
    zalo: ZaloWorld, http: aiohttp.ClientSession
) -> None:
    """The chat's repeat rule in the browser: the same number, issuer and date asks; each choice does what the
    chat's button does (more cells for the earlier one, a correction replacing it, a separate directive)."""
    board, _, cuc = await _people(zalo)
    first = await send_test_directive(zalo.runtime)
    await cuc.wait_for_text("747")
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    csrf = await browser.csrf()
    async with transaction(zalo.runtime.sessions) as session:
        duk = await session.scalar(select(Unit.id).where(Unit.code == "DUK"))
    form = {
        "csrf": csrf,
        "number": "747-CV/ĐUK",
        "form": "sinh-hoat-chinh-tri",
        "unit": str(duk),
        "deadline": "2024-04-10",
    }
    asked = msg_directives.REPEAT_FOUND.split("{")[0]

    async def status_of(directive_id: int) -> DirectiveStatus:
        async with transaction(zalo.runtime.sessions) as session:
            found = await session.get(Directive, directive_id)
            assert found is not None
            return DirectiveStatus(found.status)

    # Sending asks, keeps what was typed, and a choice naming no earlier directive asks again.
    preview = await _upload_747(browser, http, csrf)
    status, text = await browser.post(preview, form)
    assert status == 200 and asked in text and f'value="add:{first}"' in text and 'value="new"' in text
    assert f'value="{duk}" checked' in text and 'value="2024-04-10"' in text
    status, text = await browser.post(preview, {**form, "repeat": "add:999999"})
    assert status == 200 and asked in text
    draft = int(preview.rsplit("/", 1)[1])
    assert await status_of(draft) == DirectiveStatus.DRAFT

    # More cells for the earlier one: the draft is dropped, the browser follows the earlier directive.
    status, _ = await browser.post(preview, {**form, "repeat": f"add:{first}"})
    assert status == 303 and await status_of(draft) == DirectiveStatus.CANCELLED
    async with http.post(
        browser.url(preview), data={**form, "repeat": "new"}, headers=browser._headers()
    ) as r:
        assert r.status == 404  # no longer a draft

    # A correction: it replaces the earlier one, whose reports count for it.
    preview = await _upload_747(browser, http, csrf)
    correction = int(preview.rsplit("/", 1)[1])
    async with http.post(
        browser.url(preview),
        data={**form, "repeat": f"replace:{first}"},
        headers=browser._headers(),
        allow_redirects=False,
    ) as r:
        assert r.status == 303 and r.headers["Location"] == f"/web/van-ban/{correction}"
    assert await status_of(first) == DirectiveStatus.REPLACED
    assert await status_of(correction) in (DirectiveStatus.SENDING, DirectiveStatus.SENT)

    # A different directive sharing the number: both stay.
    preview = await _upload_747(browser, http, csrf)
    status, text = await browser.post(preview, form)
    assert status == 200 and f'value="replace:{correction}"' in text and f"add:{first}" not in text
    separate = int(preview.rsplit("/", 1)[1])
    status, _ = await browser.post(preview, {**form, "repeat": "new"})
    assert status == 303
    assert await status_of(correction) in (DirectiveStatus.SENDING, DirectiveStatus.SENT)
    assert await status_of(separate) in (DirectiveStatus.SENDING, DirectiveStatus.SENT)
    async with transaction(zalo.runtime.sessions) as session:
        actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert {"directive.add_cells", "directive.replace"} <= actions


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


async def test_a_report_page_opens_its_evidence_photos(zalo: ZaloWorld, http: aiohttp.ClientSession) -> None:
    board, _, _ = await _people(zalo)
    directive_id = await send_test_directive(zalo.runtime)
    async with transaction(zalo.runtime.sessions) as session:
        stored = await zalo.runtime.files.save(session, zalo.runtime.clock, PNG, "anh.png", "image/png")
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == "DUK-SYT-BV"))
    await file_report(zalo.runtime, directive_id, "DUK-SYT-BV", {"quan_chung": 3, "anh": [stored.sha256]})
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(board))).status == 303
    _, _, body = await browser.get(f"/web/van-ban/{directive_id}/chi-bo/{unit_id}")
    found = re.search(rb'href="([^"]+)" id="photos">', body)
    assert found is not None and msg.PHOTOS_LINK.format(count=1).encode() in body
    status, _, page = await browser.get(found.group(1).decode().replace("&amp;", "&"))
    assert status == 200 and "Chi bộ Bệnh viện Đa khoa tỉnh" in page.decode()


def _rows(page: str, table: str) -> list[str]:
    """The rows of the page's table of class `table`, each as its text."""
    found = re.search(rf'(?s)<table class="{table}">.*?</table>', page)
    assert found is not None, page
    rows = re.findall(r"(?s)<tr[^>]*>(.*?)</tr>", found.group())[1:]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


async def _family_progress(zalo: ZaloWorld, numbers: tuple[str, ...]) -> tuple[int, int]:
    """What the cells reported, straight from their targets: how many cells the directives numbered `numbers`
    reached, and how many of them reported."""
    async with transaction(zalo.runtime.sessions) as session:
        found = (
            await session.execute(
                select(func.count(), func.count(DirectiveTarget.reported_at))
                .join(Directive, Directive.id == DirectiveTarget.directive_id)
                .where(Directive.number.in_(numbers))
            )
        ).one()
    return found[0], found[1]


async def test_the_upper_board_follows_a_directive_handed_down_unit_by_unit(
    zalo: ZaloWorld, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """Issue 16 on the web: the province's 747, re-issued by Tân Phong (two of its three cells reported, it
    reported up) and forwarded by Nậm Cuổi (its one cell reported, no report up)."""
    province, _, nam_cuoi_board = await campaign(zalo, tmp_path)
    browser = Browser(zalo, http)
    assert (await browser.sign_in(await _link(province))).status == 303
    async with transaction(zalo.runtime.sessions) as session:
        ids = dict((await session.execute(select(Directive.number, Directive.id))).all())
        units = dict((await session.execute(select(Unit.code, Unit.id))).all())
    upper, reissue = ids[UPPER], ids[CAMPAIGN_REISSUE]
    cells, reported = await _family_progress(zalo, (UPPER, CAMPAIGN_REISSUE))
    assert (cells, reported) == (4, 3)
    missing_bar = msg.BAR_VALUE.format(
        count=cells - reported, total=cells, percent=format_percent((cells - reported) / cells)
    )
    through = msg.THROUGH_BELOW.format(count=1)

    # The overview: one card for 747 counting every cell under it; the re-issue is not a card of its own.
    status, _, body = await browser.get("/web/")
    page = body.decode()
    assert status == 200 and UPPER in page and CAMPAIGN_REISSUE not in page
    assert missing_bar in page and through in page

    # The directive's page: the family's figures, the progress block alike; the missing list is its own cells.
    status, _, body = await browser.get(f"/web/van-ban/{upper}")
    page = body.decode()
    assert status == 200 and missing_bar in page and through in page
    assert msg.LATE_OWN_NONE in page and "Chi bộ Trường Tiểu học Tân Phong" not in page
    _, _, body = await browser.get(f"/web/van-ban/{upper}/tien-do")
    assert missing_bar in body.decode()

    # A row per unit below: what its board did, its cells' progress, its report upward; each opens its cells.
    below = _rows(page, "below")
    tan_phong = next(row for row in below if row.startswith("Đảng ủy xã Tân Phong"))
    nam_cuoi = next(row for row in below if row.startswith("Đảng ủy xã Nậm Cuổi"))
    assert len(below) == 2
    assert "ban hành lại ngày" in tan_phong and f"Văn bản {CAMPAIGN_REISSUE}, hạn 08/04/2024" in tan_phong
    assert " 2/3 " in tan_phong and "Đã nhận ngày" in tan_phong and tan_phong.endswith("đúng hạn")
    assert "chuyển nguyên văn ngày" in nam_cuoi and " 1/1 " in nam_cuoi
    assert nam_cuoi.endswith(msg.BELOW_UP_NOT_YET)
    for code in ("X-TP", "X-NC"):
        assert f'href="/web/van-ban/{upper}/cap-duoi/{units[code]}"' in page

    # Tân Phong drilled down: its re-issue's three cells and their state, each report one click away.
    status, _, body = await browser.get(f"/web/van-ban/{upper}/cap-duoi/{units['X-TP']}")
    page = body.decode()
    assert status == 200 and CAMPAIGN_REISSUE in page and "Đã nhận ngày" in page
    assert msg.BAR_VALUE.format(count=2, total=3, percent=format_percent(2 / 3)) in page
    rows = _rows(page, "units")
    names = ("Chi bộ bản Tả Phìn", "Chi bộ bản Sin Suối Hồ", "Chi bộ Trường Tiểu học Tân Phong")
    state = {name: row for name in names for row in rows if row.startswith(name)}
    assert len(rows) == len(state) == 3, rows
    done = documents.status_label("reported")
    assert done in state[names[0]] and done in state[names[1]] and done not in state[names[2]], rows
    for code in ("X-TP-B1", "X-TP-B2"):
        assert f'href="/web/van-ban/{reissue}/chi-bo/{units[code]}"' in page
    assert f'href="/web/van-ban/{reissue}/chi-bo/{units["X-TP-TH"]}/nhap-ho"' in page  # not reported
    assert "Nậm Cuổi" not in page
    status, _, body = await browser.get(f"/web/van-ban/{reissue}/chi-bo/{units['X-TP-B1']}")
    assert status == 200 and "Chi bộ bản Tả Phìn" in body.decode()
    # Nậm Cuổi: the forwarded directive within it; a unit it was not handed to is no unit below.
    status, _, body = await browser.get(f"/web/van-ban/{upper}/cap-duoi/{units['X-NC']}")
    page = body.decode()
    assert status == 200 and "Chi bộ bản Nậm Cuổi" in page and CAMPAIGN_REISSUE not in page
    assert msg.BELOW_UP_NOT_YET in page
    assert (await browser.get(f"/web/van-ban/{upper}/cap-duoi/{units['DUK-BAO']}"))[0] == 404

    # Nậm Cuổi's board sees 747 (forwarded to its cell), but Tân Phong is no unit below it.
    neighbour = Browser(zalo, http)
    assert (await neighbour.sign_in(await _link(nam_cuoi_board))).status == 303
    assert (await neighbour.get(f"/web/van-ban/{upper}"))[0] == 200
    assert (await neighbour.get(f"/web/van-ban/{upper}/cap-duoi/{units['X-TP']}"))[0] == 404

    # The downloads offer both sources, and each file says which it was built from.
    for source in ("cap-duoi", "chi-bo"):
        for kind in ("excel", "word"):
            assert (
                f'href="/web/van-ban/{upper}/{kind}?nguon={source}"'
                in (await browser.get(f"/web/van-ban/{upper}"))[2].decode()
            )
    _, _, content = await browser.get(f"/web/van-ban/{upper}/excel?nguon=cap-duoi")
    assert xlsx_summary(content)["Nguồn số liệu"] == "báo cáo của 1/2 đơn vị cấp dưới"
    _, _, content = await browser.get(f"/web/van-ban/{upper}/excel?nguon=chi-bo")
    assert xlsx_summary(content)["Nguồn số liệu"].startswith(
        f"báo cáo trực tiếp của {reported}/{cells} chi bộ"
    )
    _, _, content = await browser.get(f"/web/van-ban/{upper}/word?nguon=cap-duoi")
    assert "Nguồn số liệu: báo cáo của 1/2 đơn vị cấp dưới" in docx_text(content)
    _, _, content = await browser.get(f"/web/van-ban/{upper}/word")  # the default: from the cells
    assert f"Nguồn số liệu: báo cáo trực tiếp của {reported}/{cells} chi bộ" in docx_text(content)
