"""Issue 15, the board's progress chart: it counts units (cells), not directive × cell pairs; a directive whose
deadline is still ahead shows its missing reports in neutral grey, not as failures; it carries its date; and it is
drawn for a phone (narrow picture, large type, horizontal bars, short labels)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import aiohttp
from matplotlib.colors import to_hex
from PIL import Image
from sqlalchemy import select

from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import charts, status, summary
from messages import documents as doc_msg
from storage.models import Person, Role
from tests.support import board_and_secretaries, file_report, send_test_directive, travel_to
from tests.test_zalo_flows import board_member, with_directive
from tests.zalo_fixtures import ZaloWorld, eventually, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

STUDY = {"ngay_to_chuc": "2024-04-08", "hinh_thuc": "Trực tuyến", "quan_chung": 2}


async def _summary_of_board(bot: Runtime) -> summary.Summary:
    async with bot.sessions() as session:
        person = await session.scalar(select(Person).where(Person.phone == "0988000001"))
        assert person is not None
        roles = list((await session.scalars(select(Role).where(Role.person_id == person.id))).all())
        scope = await status.scope_of(session, roles)
        return await summary.build_summary(session, scope, bot.clock.now(), bot.settings.tz)


def _texts(figure: object) -> str:
    return "\n".join(text.get_text() for text in figure.findobj(lambda o: hasattr(o, "get_text")))  # type: ignore[attr-defined]


async def test_the_chart_counts_cells_and_shows_not_yet_due_in_grey(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    await board_and_secretaries(bot, fake_tg)
    travel_to(bot, 2024, 4, 8, 9)
    overdue = await send_test_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    running = await send_test_directive(bot, "745-CV/ĐUK", deadline=date(2024, 4, 30))
    for directive in (overdue, running):
        await file_report(bot, directive, "DUK-SYT-VP", STUDY)
    travel_to(bot, 2024, 4, 12, 17)
    await file_report(bot, overdue, "DUK-BAO", STUDY)  # late
    built = await _summary_of_board(bot)
    assert built.chart_by_directive
    # 5 cells under ĐUK; each directive counts them once: 747 is past its deadline, 745 is not due yet.
    assert sorted(built.chart_rows) == [("745-CV/ĐUK", 1, 0, 0, 4), ("747-CV/ĐUK", 1, 1, 3, 0)]
    assert built.cells == 5

    figure = charts.progress_figure(built.chart_rows, built.day, summary.chart_subtitle(built))
    axes = figure.axes[0]
    bars = {container.get_label(): container for container in axes.containers}
    assert list(bars) == [
        doc_msg.CHART_ON_TIME,
        doc_msg.CHART_LATE,
        doc_msg.CHART_OVERDUE,
        doc_msg.CHART_NOT_DUE,
    ]
    widths = {name: [patch.get_width() for patch in bars[name].patches] for name in bars}
    order = [row[0] for row in built.chart_rows]
    due_745, due_747 = order.index("745-CV/ĐUK"), order.index("747-CV/ĐUK")
    assert widths[doc_msg.CHART_NOT_DUE][due_745] == 80 and widths[doc_msg.CHART_OVERDUE][due_745] == 0
    assert widths[doc_msg.CHART_OVERDUE][due_747] == 60 and widths[doc_msg.CHART_NOT_DUE][due_747] == 0
    assert to_hex(bars[doc_msg.CHART_NOT_DUE].patches[0].get_facecolor()) == "#9e9e9e"  # neutral
    texts = _texts(figure)
    assert "12/4/2024" in texts  # its date
    assert "2 văn bản, 5 chi bộ trong phạm vi" in texts  # cells, not 10 directive × cell pairs
    assert "/10 đơn vị" not in texts and " 2/5" in texts and " 1/5" in texts
    assert not axes.get_yticklabels()  # labels are written above the bars, which keep the full width
    assert min(t.get_fontsize() for t in figure.findobj(lambda o: hasattr(o, "get_fontsize"))) >= 11

    png = await summary.chart(built)
    assert png is not None
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.width == charts.WIDTH_INCHES * charts.DPI <= 1000


async def test_a_single_directive_charts_its_parts_with_their_own_units(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    await board_and_secretaries(bot, fake_tg)
    travel_to(bot, 2024, 4, 8, 9)
    directive = await send_test_directive(bot, deadline=date(2024, 4, 30))
    await file_report(bot, directive, "DUK-STC-VP", STUDY)
    built = await _summary_of_board(bot)
    assert not built.chart_by_directive and summary.chart_subtitle(built) is None
    texts = _texts(charts.progress_figure(built.chart_rows, built.day))
    assert "Đã báo cáo 1/5 đơn vị (20%)" in texts and "08/4/2024" in texts


def test_long_labels_are_shortened_for_a_phone() -> None:
    label = "Đảng bộ Trường Cao đẳng Cộng đồng tỉnh Lai Châu và các đơn vị trực thuộc"
    figure = charts.progress_figure([(label, 1, 0, 0, 3)], date(2024, 4, 8))
    shown = [t.get_text() for t in figure.axes[0].texts if t.get_text().startswith("Đảng bộ")]
    assert shown and len(shown[0]) <= charts.LABEL_CHARS and shown[0].endswith("…")


async def test_the_board_on_zalo_gets_the_chart_as_a_picture(zalo: ZaloWorld) -> None:
    await with_directive(zalo)
    tuyen = await board_member(zalo)
    await tuyen.say("tổng hợp")

    async def picture() -> bytes | None:
        for sent in tuyen.user.messages:
            upload = getattr(sent, "file", None)
            if upload is not None and upload.kind == "image":
                return bytes(upload.data)
            url = getattr(sent, "photo", None) or getattr(sent, "image", None)
            if url and url.startswith("http"):
                async with aiohttp.ClientSession() as http, http.get(zalo.local(url)) as response:
                    return await response.read()
        return None

    png = await eventually(picture, "the chart reached the board member on Zalo")
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.width == charts.WIDTH_INCHES * charts.DPI
