"""The sandbox driven through its JSON API the way its page does: the demo province joins at start (mostly on Zalo,
both the Zalo Bot Platform and a Zalo Official Account), the board member on the Zalo OA sends sample 747 to every
cell and plays the rest of her day there by buttons and typed words (status, nudge, summary and its chart, Excel,
Word, the dashboard's link), a Telegram secretary acknowledges and reports in one line, a Zalo Bot secretary opens
the download link, an OA secretary joins with the OA's phone form, gets the DOCX as a native file and acknowledges
with the template button, a person who had not joined joins from the page, and time travel moves the clock and
brings the daily summary."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.sandbox.app import Sandbox
from messages import directives as directive_msg
from messages import web as web_msg
from storage.db import transaction
from storage.models import DirectiveTarget, Unit

JSON = dict[str, Any]
BOARD = "Nguyễn Thị Tuyên"  # the province's board member, on the Zalo OA
CUC = "Trần Thị Cúc"  # Chi bộ Sở Tài chính, on Telegram
PAO = "Lò Văn Páo"  # Chi bộ bản Tả Phìn, on Zalo
HANG = "Nguyễn Thu Hằng"  # Chi bộ Công ty Điện lực, on Telegram, not joined at start
DUNG = "Sần Thị Dung"  # Chi bộ Trường THCS Đoàn Kết, on the Zalo OA, not joined at start
KHANH = "Hoàng Văn Khánh"  # Chi bộ Sở Y tế, on the Zalo OA
QUICK = "1/4; chuyên đề; 25/30; 12; Tốt; Không"


class Page:
    """What the page does: read the state, long-poll a chat, act as a person."""

    def __init__(self, http: aiohttp.ClientSession, url: str, sandbox: Sandbox) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.sandbox = sandbox  # only to read the database, never to act

    async def state(self) -> JSON:
        async with self.http.get(f"{self.url}/api/state") as resp:
            assert resp.status == 200
            return await resp.json()

    async def key(self, name: str) -> str:
        return next(p["key"] for p in (await self.state())["people"] if p["name"] == name)

    async def chat(self, key: str, since: int | None = None) -> JSON:
        query = f"?since={since}" if since is not None else ""
        async with self.http.get(f"{self.url}/api/chat/{key}{query}") as resp:
            assert resp.status == 200
            return await resp.json()

    async def post(self, path: str, body: JSON | None = None, status: int = 200) -> JSON:
        async with self.http.post(f"{self.url}{path}", json=body or {}) as resp:
            assert resp.status == status, await resp.text()
            return await resp.json()

    async def until(self, key: str, found: Callable[[JSON], bool], seconds: float = 15.0) -> JSON:
        """Long-poll the chat until an entry satisfies `found`; return that entry."""
        deadline = time.monotonic() + seconds
        chat = await self.chat(key)
        while True:
            hit = next((e for e in reversed(chat["entries"]) if found(e)), None)
            if hit is not None:
                return hit
            assert time.monotonic() < deadline, [e.get("text", "")[:80] for e in chat["entries"]]
            chat = await self.chat(key, since=chat["version"])

    async def text_appears(self, key: str, needle: str, seconds: float = 15.0) -> JSON:
        return await self.until(key, lambda e: e["side"] == "bot" and needle in e["text"], seconds)

    async def press(self, key: str, label: str) -> None:
        """Tap the newest button with this label, as the page does (message id + callback data)."""
        entry = await self.until(
            key, lambda e: any(b["label"] == label for row in e.get("buttons", []) for b in row)
        )
        data = next(b["data"] for row in entry["buttons"] for b in row if b["label"] == label)
        chat = await self.post(f"/api/chat/{key}/press", {"id": entry["id"], "data": data})
        assert any(e["side"] == "me" and e["kind"] == "press" and e["text"] == label for e in chat["entries"])

    async def say(self, key: str, text: str) -> JSON:
        return await self.post(f"/api/chat/{key}/text", {"text": text})


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    sandbox = Sandbox(tmp_path / "sandbox")
    url = await sandbox.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        yield Page(http, url, sandbox)
    await sandbox.stop()


async def broadcast_747(page: Page, board: str, *, unlinked: int = 3) -> None:
    chat = await page.post(f"/api/chat/{board}/sample", {"sample": "747"})
    sent = [e for e in chat["entries"] if e["side"] == "me" and e["kind"] == "document"]
    assert sent and sent[-1]["file_name"] == "747-CV-DUK.docx"
    preview = await page.text_appears(board, "📄 Văn bản tôi đọc được")
    assert "747-CV/ĐUK" in preview["text"] and "30/10/2024" in preview["text"]
    await page.press(board, "✅ Xác nhận hạn 30/10/2024")
    await page.text_appears(board, "Đã xác nhận hạn báo cáo 30/10/2024")
    await page.press(board, "➡️ Tiếp tục: chọn nơi nhận")
    await page.text_appears(board, "Chọn mẫu báo cáo")
    await page.press(board, "Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await page.text_appears(board, "Chọn nơi nhận")
    await page.press(board, "🌐 Tất cả chi bộ trong phạm vi")
    # Tân Phong's 4 cells (Lù Thị Mai's, not linked, among them) are counted apart until the board chose.
    plan = await page.text_appears(
        board, "Gửi trực tiếp tới 9 chi bộ; 4 chi bộ thuộc 1 đơn vị có ban chưa tham gia Chibo"
    )
    assert f"{unlinked - 1} chi bộ có bí thư chưa kết nối" in plan["text"], plan["text"]
    await page.press(board, "📤 Gửi ngay")
    # The demo commune Tân Phong has board staff on the roster, none joined: the board is asked first.
    await page.text_appears(board, "chưa có ai tham gia Chibo: Đảng ủy xã Tân Phong")
    await page.press(board, "📨 Gửi thẳng tới chi bộ")
    await page.text_appears(board, "Đã xếp lịch gửi văn bản 747-CV/ĐUK tới 13 chi bộ")


async def test_demo_province_is_seeded_and_joined(page: Page) -> None:
    state = await page.state()
    people = state["people"]
    assert people[0]["name"] == BOARD and people[0]["role"] == "board" and people[0]["linked"]
    assert people[0]["platform"] == "zalo_oa"  # Zalo first: the board's guide pictures show the OA
    assert len(people) == 18
    commune = [p for p in people if p["role"] == "board" and p["name"] == "Giàng Thị Xuân"]
    assert commune and not commune[0]["linked"]  # a commune board: the second level, joining when she wants
    waiting = {p["name"]: p for p in people if not p["linked"]}
    assert set(waiting) == {HANG, "Lù Thị Mai", DUNG, "Giàng Thị Xuân"}
    assert all(len(p["invite_code"]) == 11 for p in waiting.values())
    secretaries = [p["platform"] for p in people if p["role"] == "secretary"]
    linked_secretaries = {p["platform"] for p in people if p["linked"] and p["role"] == "secretary"}
    assert linked_secretaries == {"telegram", "zalo", "zalo_oa"}  # Telegram still shows, as the alternative
    zalo = sum(platform in ("zalo", "zalo_oa") for platform in secretaries)
    assert zalo > len(secretaries) / 2 and secretaries.count("zalo_oa") >= 3  # Zalo first, both products
    first = next(p for p in people if p["key"] == state["first"])
    assert first["role"] == "secretary" and first["platform"].startswith("zalo") and first["linked"]
    assert state["now_text"].endswith("03/04/2024")
    for person in people:
        if person["linked"]:
            chat = await page.chat(person["key"])
            assert any("Đã kết nối thành công" in e["text"] for e in chat["entries"] if e["side"] == "bot")
            mine = [e["text"] for e in chat["entries"] if e["side"] == "me" and e["kind"] == "text"]
            assert mine[0] in ("/start", person["invite_code"] or mine[0])


async def test_board_sends_747_secretary_acknowledges_and_reports(page: Page) -> None:
    board, cuc = await page.key(BOARD), await page.key(CUC)
    await broadcast_747(page, board)

    card = await page.text_appears(cuc, "📄 VĂN BẢN MỚI")
    assert "747-CV/ĐUK" in card["text"]
    document = await page.until(cuc, lambda e: e["kind"] == "document" and e["side"] == "bot")
    async with page.http.get(page.url + document["file"]["url"]) as resp:
        assert resp.status == 200
        # The DOCX the board member sent, as the secretary downloads it.
        assert (await resp.read())[:2] == b"PK"
    await page.press(cuc, "✅ Đã nhận")
    await page.text_appears(cuc, "Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK")
    await page.say(cuc, QUICK)
    receipt = await page.text_appears(cuc, "Mã biên nhận")
    assert "747-CV/ĐUK" in receipt["text"]

    final = await page.text_appears(board, "Đã gửi xong văn bản 747-CV/ĐUK: 10/13", seconds=30)
    assert "Lù Thị Mai: bí thư chưa kết nối" in final["text"]
    await page.say(board, "/tinhhinh")
    status = await page.until(
        board, lambda e: e["side"] == "bot" and e["index"] > final["index"] and "747-CV/ĐUK" in e["text"]
    )
    assert "1/13" in status["text"], status["text"]  # one cell has reported


async def test_the_board_plays_her_day_on_the_oa_by_buttons_and_words(page: Page) -> None:
    """After the broadcast: «tình hình 747» and its nudge button, the daily summary with its chart, «xuất 747» (a
    link: the OA sends only PDF and Word natively), «báo cáo 747» (a native DOCX), «trang web» (a sign-in link)."""
    board, khanh = await page.key(BOARD), await page.key(KHANH)
    await broadcast_747(page, board)
    await page.press(khanh, directive_msg.BUTTON_ACK)
    await page.say(khanh, QUICK)
    await page.text_appears(khanh, "Mã biên nhận")

    await page.say(board, "tình hình 747")
    status = await page.text_appears(board, "TÌNH HÌNH THỰC HIỆN")
    assert "Đã báo cáo: 1/13" in status["text"], status["text"]
    await page.press(board, "🔔 Nhắc chi bộ chưa báo cáo")
    await page.text_appears(board, "Đã nhắc")

    await page.post("/api/time", {"step": "summary"})
    daily = await page.text_appears(board, "TỔNG HỢP NGÀY 03/04/2024")
    await page.until(board, lambda e: e["kind"] == "photo" and e["index"] > daily["index"])  # the chart

    await page.say(board, "xuất 747")
    excel = await page.until(
        board, lambda e: e["side"] == "bot" and ".xlsx" in e["text"] and "/f/" in e["text"]
    )
    path = excel["text"][excel["text"].index("/f/") :].split()[0]
    async with page.http.post(page.url + path) as resp:  # the link page's download button
        assert resp.status == 200 and (await resp.read())[:2] == b"PK"
    await page.say(board, "báo cáo 747")
    word = await page.until(board, lambda e: e["side"] == "bot" and e["kind"] == "document")
    assert word["file"]["name"].startswith("du-thao-bao-cao-747") and "/f/" not in word["text"]  # native

    await page.say(board, "trang web")
    link = await page.text_appears(board, "Đường link đăng nhập trang quản lý")
    url = next(w for w in link["text"].split() if "/web/" in w)
    async with page.http.get(url) as landing:
        assert landing.status == 200 and web_msg.LOGIN_BUTTON in await landing.text()


async def test_zalo_secretary_gets_numbered_choices_and_a_working_link(page: Page) -> None:
    board, pao = await page.key(BOARD), await page.key(PAO)
    await broadcast_747(page, board)
    card = await page.text_appears(pao, "📄 VĂN BẢN MỚI")
    assert card["buttons"] == []
    link = await page.until(pao, lambda e: "/f/" in e["text"])
    path = link["text"][link["text"].index("/f/") :].split()[0]
    assert path.startswith("/f/"), "download links are rewritten to go through the sandbox page"
    browser = {"User-Agent": "Mozilla/5.0 (Linux; Android 10) Mobile Safari"}
    async with page.http.get(page.url + path, headers=browser) as resp:
        assert resp.status == 200
        assert "Tải xuống" in await resp.text()  # the link's page, with its download button
    async with page.http.post(page.url + path, headers=browser) as resp:  # the button, through the sandbox
        assert resp.status == 200
        assert (await resp.read())[:2] == b"PK"
    choices = await page.until(pao, lambda e: "1. ✅ Đã nhận" in e["text"])
    assert "2. 📝 Báo cáo" in choices["text"]
    refused = await page.post(f"/api/chat/{pao}/press", {"id": 1, "data": "x"}, status=400)
    assert "Zalo không có nút bấm" in refused["error"]


async def acknowledged(page: Page, unit_code: str) -> bool:
    async with transaction(page.sandbox.runtime.sessions) as session:
        when = await session.scalar(
            select(DirectiveTarget.acknowledged_at)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(Unit.code == unit_code)
        )
    return when is not None


async def test_oa_secretary_joins_with_the_form_gets_a_native_file_and_acknowledges(page: Page) -> None:
    dung = next(p for p in (await page.state())["people"] if p["name"] == DUNG)
    key = dung["key"]
    assert dung["platform"] == "zalo_oa" and not dung["linked"]
    await page.say(key, dung["invite_code"])
    form = await page.until(key, lambda e: e["side"] == "bot" and "form" in e)
    assert form["form"]["title"] and form["form"]["subtitle"]
    chat = await page.post(f"/api/chat/{key}/contact")
    assert (chat["entries"][-1]["kind"], chat["entries"][-1]["text"]) == ("contact", dung["phone"])
    await page.text_appears(key, "Đã kết nối thành công")
    assert next(p for p in (await page.state())["people"] if p["key"] == key)["linked"]

    await broadcast_747(page, await page.key(BOARD), unlinked=2)
    card = await page.until(
        key,
        lambda e: any(b["label"] == directive_msg.BUTTON_ACK for row in e.get("buttons", []) for b in row),
    )
    assert card["kind"] == "text" and card["text"]
    assert card["time"].endswith("03/04")  # the sandbox's day, not the real one
    await page.text_appears(key, "747-CV/ĐUK")
    document = await page.until(key, lambda e: e["side"] == "bot" and e["kind"] == "document")
    assert document["file"]["name"] == "747-CV-DUK.docx" and "/f/" not in document["text"]  # native, no link
    async with page.http.get(page.url + document["file"]["url"]) as resp:
        assert resp.status == 200 and (await resp.read())[:2] == b"PK"
    assert not await acknowledged(page, "P-DK-TH")  # a native file opened tells the bot nothing
    await page.press(key, directive_msg.BUTTON_ACK)
    deadline = time.monotonic() + 15
    while not await acknowledged(page, "P-DK-TH"):
        assert time.monotonic() < deadline, "the template button did not record the acknowledgement"
        await page.chat(key, since=(await page.chat(key))["version"])


async def test_oa_buttons_and_forms_are_refused_when_stale(page: Page) -> None:
    khanh = await page.key(KHANH)
    refused = await page.post(f"/api/chat/{khanh}/press", {"id": "nope", "data": "x"}, status=400)
    assert refused["error"]
    dung = next(p for p in (await page.state())["people"] if p["name"] == DUNG)
    refused = await page.post(f"/api/chat/{dung['key']}/contact", status=400)  # the OA never asked her
    assert refused["error"]


def jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(page: Page, key: str, name: str, content: bytes, mime: str, *, as_photo: bool) -> JSON:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type=mime)
    if as_photo:
        form.add_field("as_photo", "1")
    async with page.http.post(f"{page.url}/api/chat/{key}/file", data=form) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_files_sent_from_the_page_reach_the_bot(page: Page) -> None:
    board, pao = await page.key(BOARD), await page.key(PAO)
    await broadcast_747(page, board)
    await page.text_appears(pao, "Trả lời 1 hoặc 2")
    chat = await upload(page, pao, "scan.pdf", b"%PDF-1.4 scan", "application/pdf", as_photo=False)
    mine = chat["entries"][-1]
    assert (mine["side"], mine["kind"], mine["file_name"]) == ("me", "document", "scan.pdf")
    await page.text_appears(pao, "Tôi chỉ nhận được tin nhắn chữ và ảnh")  # what Zalo lets a bot see of a PDF

    chat = await upload(page, pao, "hop-chi-bo.jpg", jpeg(), "image/jpeg", as_photo=True)
    photo_url = chat["entries"][-1]["url"]
    async with page.http.get(page.url + photo_url) as resp:
        assert resp.status == 200 and resp.content_type == "image/jpeg"
    # The bot fetched the photo from the URL Zalo gave it (this server) and began the report with it.
    started = await page.text_appears(pao, "Mục 1/7")
    chat = await page.chat(pao)
    assert not any("Không tải được ảnh" in e["text"] for e in chat["entries"] if e["side"] == "bot")
    assert started["index"] > 0


async def test_a_person_joins_from_the_page(page: Page) -> None:
    state = await page.state()
    hang = next(p for p in state["people"] if p["name"] == HANG)
    await page.say(hang["key"], hang["invite_code"])
    await page.until(hang["key"], lambda e: e["side"] == "bot")
    chat = await page.chat(hang["key"])
    assert chat["keyboard"] == {"labels": ["📱 Gửi số điện thoại"], "request_contact": True}
    await page.post(f"/api/chat/{hang['key']}/contact")
    await page.text_appears(hang["key"], "Đã kết nối thành công")
    chat = await page.chat(hang["key"])
    assert {c["command"] for c in chat["commands"]} >= {"help", "vanban"}
    state = await page.state()
    assert next(p for p in state["people"] if p["name"] == HANG)["linked"]


async def test_time_travel_moves_the_clock_and_brings_the_daily_summary(page: Page) -> None:
    board = await page.key(BOARD)
    await broadcast_747(page, board)
    moved = await page.post("/api/time", {"step": "hour"})
    assert moved["now_text"].startswith("10:00")
    summary = await page.post("/api/time", {"step": "summary"})
    assert summary["now_text"] == "17:00 03/04/2024"
    daily = await page.text_appears(board, "TỔNG HỢP NGÀY 03/04/2024")
    assert daily["time"] == "17:00 03/04"  # shown at the sandbox time it was sent, not the real time
    later = await page.post("/api/time", {"step": "day"})
    assert later["now_text"] == "17:00 04/04/2024"
    bad = await page.post("/api/time", {"step": "yesterday"}, status=400)
    assert bad["error"]


async def test_unknown_people_and_empty_messages_are_refused(page: Page) -> None:
    missing = await page.post("/api/chat/telegram-1/text", {"text": "xin chào"}, status=404)
    assert "Không có người này" in missing["error"]
    board = await page.key(BOARD)
    empty = await page.post(f"/api/chat/{board}/text", {"text": "  "}, status=400)
    assert "trống" in empty["error"]


def test_chibo_run_without_a_token_starts_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from bot.cli import run as cli

    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("CHIBO_TELEGRAM_TOKEN", "CHIBO_ZALO_TOKEN", "CHIBO_ZALO_OA_APP_ID", "CHIBO_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    started: list[tuple[str, int]] = []
    monkeypatch.setattr(cli, "_run_sandbox", lambda host, port: started.append((host, port)))
    result = CliRunner().invoke(cli.app, ["run"])
    assert result.exit_code == 0, result.output
    assert started == [("127.0.0.1", 8000)]
    assert "sandbox" in result.output and "CHIBO_TELEGRAM_TOKEN" in result.output

    result = CliRunner().invoke(cli.app, ["sandbox", "--port", "8123", "--host", "0.0.0.0"])
    assert result.exit_code == 0 and started[-1] == ("0.0.0.0", 8123)

    # A server set up for production (here: a public URL) that lost its token refuses instead.
    monkeypatch.setenv("CHIBO_PUBLIC_URL", "https://chibo.example.org")
    result = CliRunner().invoke(cli.app, ["run"])
    assert result.exit_code == 2 and len(started) == 2
    assert "@BotFather" in result.output


def test_oa_images_and_files_are_shown_with_their_sandbox_links() -> None:
    """An OA image (by URL: the bot's signed link; or by attachment id) and a native file, as the page gets them."""
    from zoneinfo import ZoneInfo

    from bot.core.clock import Clock
    from bot.fakes.telegram_server import FakeTelegram
    from bot.fakes.zalo_oa_server import FakeZaloOA
    from bot.fakes.zalo_oa_users import OaSent, OaUpload
    from bot.sandbox import demo
    from bot.sandbox.chat import Persona, Render, TimeLine

    clock = Clock.starting_at(demo.START_LOCAL)
    user = FakeZaloOA(clock=clock).user("1", "Sần Thị Dung")
    date = int(clock.now().timestamp() * 1000)
    upload = OaUpload("tok", "file", "747-CV-DUK.docx", demo.DOCX_MIME, b"PK..")
    for sent in (
        OaSent("1", "a", date, "cs", "reply", "image", image="http://127.0.0.1:9/f/abc"),
        OaSent("1", "b", date, "cs", "reply", "image", image="attachment-7"),
        OaSent("1", "c", date, "cs", "reply", "file", file=upload),
    ):
        user.receive(sent)
    person = demo.DemoPerson(
        "Sần Thị Dung", "0912000017", "secretary", "X", "Chi bộ X", "zalo_oa", True, "A-B"
    )
    render = Render(
        ZoneInfo("Asia/Ho_Chi_Minh"),
        TimeLine(clock),
        FakeTelegram(),
        lambda url: url.removeprefix("http://127.0.0.1:9"),
        lambda token: f"/api/oa-files/{token}",
    )
    entries = render.chat(Persona(person, user))["entries"]
    assert [(e["kind"], e["file"]["url"]) for e in entries] == [
        ("photo", "/f/abc"),
        ("photo", "/api/oa-files/attachment-7"),
        ("document", "/api/oa-files/tok"),
    ]
    assert entries[2]["file"]["name"] == "747-CV-DUK.docx" and entries[2]["time"] == "09:00 03/04"


async def test_the_board_opens_the_dashboard_from_the_page(page: Page) -> None:
    """The page's «Trang quản lý» button: a one-time link issued for that board member signs in to the
    dashboard, which shows their directives; a secretary is refused; the link works once."""
    board, cuc = await page.key(BOARD), await page.key(CUC)
    await broadcast_747(page, board)
    refused = await page.post(f"/api/chat/{cuc}/dashboard", status=400)
    assert refused["error"] == web_msg.NOT_STAFF

    url = (await page.post(f"/api/chat/{board}/dashboard"))["url"]
    token = url.split("?t=", 1)[1]
    async with page.http.get(url) as landing:
        assert landing.status == 200 and web_msg.LOGIN_BUTTON in await landing.text()
    login = url.split("?", 1)[0]
    async with page.http.post(login, data={"t": token}, allow_redirects=False) as signed:
        assert signed.status == 303
        cookie = signed.cookies["chibo_web"].value  # by hand: aiohttp's jar keeps none for an IP address
    base = url.split("/web/", 1)[0]
    async with page.http.get(f"{base}/web/", headers={"Cookie": f"chibo_web={cookie}"}) as overview:
        text = await overview.text()
        assert overview.status == 200 and "747-CV/ĐUK" in text and BOARD in text
    async with page.http.post(login, data={"t": token}) as again:
        assert again.status == 410
