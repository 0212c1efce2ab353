"""Issue 14: fewer messages per cell, and each directive's files under the names the board gave them.

A one-file directive is one message per cell on Telegram (the card as the file's caption, with the buttons) and on
the Zalo Bot Platform (the card, the link and the choices in one text); two on the Zalo OA (the card with its
buttons as one template, the file natively). Several files travel as a Telegram media group, resumed at the group
when a 429 stops it. Two directives attaching the same bytes under different names reach the cells under each
directive's own name, on every channel. Directives are queued through the services, as `chibo directive send`
does; what the cells receive and press goes through the fakes."""

from __future__ import annotations

import dataclasses
from datetime import date

import aiohttp
from sqlalchemy import select

from bot.core.events import Button, ChannelName, OutFile, Reply
from bot.core.limits import LIMITS
from bot.fakes import FakeTelegram, FakeUser
from bot.runtime import Runtime
from bot.services import directives
from bot.services.directive_parser import parse_directive
from bot.services.files import FileStore
from bot.services.forms_store import get_form
from messages.render import split_long
from storage.db import transaction
from storage.models import DirectiveTarget, Unit
from tests.support import board_and_secretaries, load_roster, sample
from tests.zalo_fixtures import OA, ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

EXPORT = b"PK\x03\x04 an old export's bytes, attached again later as a template"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n a small annex, equal bytes under two names"
LAN_PHONE = "0912000007"  # Vũ Thị Lan, secretary of a cell under ĐUK


async def queue(runtime: Runtime, number: str, files: list[tuple[str, bytes, str]]) -> int:
    """Sample 747 numbered `number` with these files, queued for every cell under ĐUK."""
    settings = runtime.settings
    store = FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024)
    async with transaction(runtime.sessions) as session:
        meta = parse_directive(sample("directive-747-CV-DUK.txt"))
        draft = await directives.new_draft(session, runtime.clock, meta, form_key="sinh-hoat-chinh-tri")
        draft.number = number
        directives.confirm_deadline(draft, date(2024, 4, 10))
        for name, data, mime in files:
            await directives.attach(
                session, draft.id, await store.save(session, runtime.clock, data, name, mime)
            )
        scope = list((await session.scalars(select(Unit).where(Unit.code == "DUK"))).all())
        form = await get_form(session, "sinh-hoat-chinh-tri")
        cells = await directives.cells_under(session, scope)
        await directives.queue_broadcast(session, runtime.clock, draft, cells, form, actor="test")
        directive_id = draft.id
    runtime.sender.wake()
    return directive_id


async def delivered(runtime: Runtime, directive_id: int) -> bool:
    async with transaction(runtime.sessions) as session:
        rows = await session.scalars(
            select(DirectiveTarget.delivery).where(DirectiveTarget.directive_id == directive_id)
        )
        return "pending" not in set(rows.all())


def documents(user: FakeUser) -> list[str | None]:
    return [m.file_name for m in user.messages if m.kind == "document"]


# -- Telegram -------------------------------------------------------------------------------------------------------


async def test_a_one_file_directive_is_one_message_per_cell_and_its_buttons_work(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    before = {user.id: len(user.messages) for user in secretaries.values()}
    directive_id = await queue(bot, "801-CV/ĐUK", [("ke-hoach.pdf", PDF, "application/pdf")])
    await eventually(lambda: delivered(bot, directive_id), "the directive is delivered")
    for user in secretaries.values():
        (message,) = user.messages[before[user.id] :]
        assert message.kind == "document" and message.file_name == "ke-hoach.pdf"
        assert message.text.startswith("📄 VĂN BẢN MỚI") and "801-CV/ĐUK" in message.text
        assert [b.label for b in message.buttons] == ["✅ Đã nhận", "📝 Báo cáo"]
    assert fake_tg.uploads == 1
    user = next(iter(secretaries.values()))
    await user.press("✅ Đã nhận")  # the buttons on the file's caption answer as on a card of their own
    await user.wait_until(lambda ms: "Đã ghi nhận đồng chí đã nhận văn bản 801-CV/ĐUK" in ms[-1].text)
    await user.press("📝 Báo cáo")
    await user.wait_until(lambda ms: any("Mục 1/7: Ngày tổ chức" in m.text for m in ms))


async def test_several_files_go_as_a_media_group_resumed_at_the_group_after_a_429(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    files = [(f"phu-luc-{i}.pdf", PDF + bytes([i]), "application/pdf") for i in range(1, 4)]
    fake_tg.force_429(retry_after=1, count=1, method="sendMediaGroup")  # the first album is refused once
    directive_id = await queue(bot, "802-CV/ĐUK", files)
    await eventually(lambda: delivered(bot, directive_id), "the directive is delivered", timeout=15)
    for user in secretaries.values():
        cards = [m for m in user.messages if m.text.startswith("📄 VĂN BẢN MỚI")]
        assert (
            len(cards) == 1 and cards[0].file_name == "phu-luc-1.pdf" and cards[0].buttons
        )  # not sent again
        assert documents(user) == ["phu-luc-1.pdf", "phu-luc-2.pdf", "phu-luc-3.pdf"]
        album = [m for m in user.messages if m.media_group_id]
        assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    groups = [c for c in fake_tg.calls if c.method == "sendMediaGroup"]
    assert [c.status for c in groups].count(429) == 1 and len(groups) == len(secretaries) + 1
    assert fake_tg.uploads == 3  # each file uploaded once, the album's too, then re-sent by file_id


async def test_equal_bytes_keep_each_directives_name_on_telegram(bot: Runtime, fake_tg: FakeTelegram) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    first = await queue(bot, "803-CV/ĐUK", [("bao-cao-2023.xlsx", EXPORT, XLSX)])
    await eventually(lambda: delivered(bot, first), "the first directive is delivered")
    second = await queue(bot, "804-CV/ĐUK", [("phu-luc-mau.xlsx", EXPORT, XLSX)])
    await eventually(lambda: delivered(bot, second), "the second directive is delivered")
    for user in secretaries.values():
        assert documents(user) == ["bao-cao-2023.xlsx", "phu-luc-mau.xlsx"]
        assert user.messages[-1].file_bytes == EXPORT and "804-CV/ĐUK" in user.messages[-1].text
    assert fake_tg.uploads == 2  # once per name, not once per cell


# -- Zalo ----------------------------------------------------------------------------------------------------------


async def test_a_one_file_directive_on_zalo_and_equal_bytes_under_two_names(zalo: ZaloWorld) -> None:
    await load_roster(zalo.runtime)
    lan = zalo.person("lan-zalo-1", "Vũ Thị Lan")
    await lan.join(LAN_PHONE)
    before = len(lan.messages)
    first = await queue(zalo.runtime, "805-CV/ĐUK", [("bao-cao-cu.pdf", PDF, "application/pdf")])
    await eventually(lambda: delivered(zalo.runtime, first), "the first directive is delivered")
    await lan.settle()
    received = lan.messages[before:]
    if zalo.product == OA:  # the card with its buttons as one template, then the file natively
        assert len(received) == 2 and "805-CV/ĐUK" in received[0].text
        assert received[1].file_name == "bao-cao-cu.pdf"
    else:  # one text: the card, the file's link and the typed choices
        (message,) = received
        assert "805-CV/ĐUK" in message.text and "bao-cao-cu.pdf" in message.text and len(message.links) == 1
        assert "Đã nhận" in message.text

    before = len(lan.messages)
    second = await queue(zalo.runtime, "806-CV/ĐUK", [("phu-luc-mau.pdf", PDF, "application/pdf")])
    await eventually(lambda: delivered(zalo.runtime, second), "the second directive is delivered")
    await lan.settle()
    received = lan.messages[before:]
    assert not any("bao-cao-cu.pdf" in m.text or m.file_name == "bao-cao-cu.pdf" for m in received)
    if zalo.product == OA:
        assert [m.file_name for m in received] == [None, "phu-luc-mau.pdf"]
    else:
        (message,) = received
        assert "phu-luc-mau.pdf" in message.text
        # The page behind the link names the file as this directive does.
        async with aiohttp.ClientSession() as http, http.get(zalo.local(message.links[0])) as response:
            assert response.status == 200 and "phu-luc-mau.pdf" in await response.text()
    await lan.tap("Đã nhận")

    async def acknowledged() -> bool:  # Lan's is the only account: the one receipt of the directive is hers
        async with transaction(zalo.runtime.sessions) as session:
            receipts = await session.scalars(
                select(DirectiveTarget.unit_id).where(
                    DirectiveTarget.directive_id == second, DirectiveTarget.acknowledged_at.is_not(None)
                )
            )
            return len(receipts.all()) == 1

    await eventually(acknowledged, "the receipt is recorded")


# -- the layout itself: a pure function --------------------------------------------------------------------------


def test_the_layout_groups_files_by_kind_ten_at_most_and_keeps_buttons_off_groups() -> None:
    telegram = LIMITS[ChannelName.TELEGRAM]
    choices = [[Button("✅ Đã nhận", "ack:1")]]
    pdfs = [OutFile(f"{i:064x}", f"{i}.pdf", "application/pdf", 10) for i in range(12)]
    photo = OutFile("f" * 64, "anh.png", "image/png", 10, as_photo=True)
    card = Reply(text="Công văn", buttons=choices, file=pdfs[0], group=[*pdfs[1:], photo])
    assert (
        split_long([card], telegram)
        == [
            Reply(text="Công văn", buttons=choices, file=pdfs[0]),  # the card as a caption, with the buttons
            Reply(file=pdfs[1], group=pdfs[2:11]),  # ten documents: one album
            Reply(file=pdfs[11]),
            Reply(file=photo),  # a photo never joins documents
        ]
    )
    long = dataclasses.replace(card, text="Nội dung dài. " * 300, group=pdfs[1:3])  # over 4,096: two texts
    pieces = split_long([long], telegram)
    assert [p.buttons for p in pieces] == [[], choices, []]  # the buttons on the text's last piece
    assert pieces[-1] == Reply(file=pdfs[0], group=pdfs[1:3])
    plain = Reply(text="Tài liệu", file=pdfs[0], group=pdfs[1:3])  # no buttons: one album with the caption
    assert split_long([plain], telegram) == [plain]
    assert split_long([card], LIMITS[ChannelName.ZALO]) == [card]  # the Zalo adapter lays it out
