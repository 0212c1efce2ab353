"""Issue 15, the board's Excel export as people use it: it prints on A4 landscape one page wide with the header
repeated; every total of its summary sheet can be recomputed from its rows, on generated data with every state a
cell can be in; and a row with evidence photos links to the bot's signed photo page, opened through the real web
server by a board member on Zalo."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader
from sqlalchemy import select, update

from bot.runtime import Runtime
from bot.services import audit, board_files, evidence, status, xlsx_export
from bot.services.files import FileStore
from bot.services.report_data import (
    Aggregates,
    Counts,
    DirectiveSummary,
    FieldType,
    FormField,
    ReportData,
    UnitRow,
    UnitStatus,
)
from bot.services.xlsx_export import build_xlsx
from messages import documents as doc_msg
from storage.db import transaction
from storage.models import AuditEntry, Directive, DirectiveTarget, Unit
from tests.support import (
    SOFFICE,
    file_report,
    load_roster,
    send_test_directive,
    shown_width,
    to_pdf,
    travel_to,
)
from tests.test_zalo_flows import board_member, with_directive
from tests.zalo_fixtures import ZaloWorld, zalo

__all__ = ["zalo"]  # the fixture, imported for pytest

DEADLINE = date(2024, 4, 10)
CELLS = 18
# What each generated cell does, by its index modulo the number of states.
STATES = (
    "pending",
    "delivered",
    "acknowledged",
    "on_time",
    "on_time_unacknowledged",  # a report without pressing "acknowledge" first: issue 15's 4-versus-2
    "late",
    "late_unacknowledged",
    "blocked",
    "unregistered",
)


def _roster(path: Path) -> Path:
    lines = ["Mã đơn vị,Tên đơn vị,Mã cấp trên,Loại,Bí thư,Điện thoại", "GEN,Đảng bộ Khối thử,,Đảng bộ,,"]
    for part in (1, 2):
        lines.append(f"GEN-{part},Đảng bộ cơ sở số {part},GEN,Đảng bộ cơ sở,,")
    for i in range(CELLS):
        phone = f"0913{i:06d}"
        lines.append(f"GEN-{i % 2 + 1}-{i},Chi bộ số {i:02d},GEN-{i % 2 + 1},Chi bộ,Bí thư số {i},{phone}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _values(i: int) -> dict[str, object]:
    return {
        "ngay_to_chuc": "2024-04-08",
        "hinh_thuc": ("Sinh hoạt chuyên đề", "Trực tuyến")[i % 2],
        "dang_vien": {"attended": 10 + i, "total": 20 + i},
        "quan_chung": i,
        "kho_khan": "Không",
    }


async def _generated(bot: Runtime, tmp_path: Path, deadline: date) -> int:
    """A directive to CELLS generated cells, each put in one of STATES through the same writes the bot makes."""
    await load_roster(bot, _roster(tmp_path / "roster.csv"))
    travel_to(bot, 2024, 4, 4, 8)
    directive_id = await send_test_directive(bot, "900-CV/ĐUK", deadline=deadline, units=("GEN",))
    await bot.sender.idle()
    async with transaction(bot.sessions) as session:
        cells = (await session.scalars(select(Unit).where(Unit.code.like("GEN-_-%")))).all()
        codes = {int(cell.code.rsplit("-", 1)[1]): cell for cell in cells}
        now = bot.clock.now()
        for i, cell in codes.items():
            state = STATES[i % len(STATES)]
            delivery = {"pending": "pending", "blocked": "blocked", "unregistered": "unregistered"}.get(
                state, "sent"
            )
            await session.execute(
                update(DirectiveTarget)
                .where(DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == cell.id)
                .values(
                    delivery=delivery,
                    delivered_at=now if delivery == "sent" else None,
                    acknowledged_at=now + timedelta(hours=1)
                    if state in ("acknowledged", "on_time", "late")
                    else None,
                )
            )
    reporting = sorted(
        i for i in range(CELLS) if STATES[i % len(STATES)] in ("on_time", "on_time_unacknowledged")
    )
    for i in reporting:
        await file_report(bot, directive_id, f"GEN-{i % 2 + 1}-{i}", _values(i))
    travel_to(bot, 2024, 4, 12, 9)  # after DEADLINE: these reports are late
    for i in range(CELLS):
        if STATES[i % len(STATES)] in ("late", "late_unacknowledged"):
            await file_report(bot, directive_id, f"GEN-{i % 2 + 1}-{i}", _values(i))
    return directive_id


async def _export(bot: Runtime, directive_id: int) -> Any:
    async with bot.sessions() as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        scope = await status.whole_scope(session)
        today = bot.clock.today(bot.settings.tz)
        data = await status.report_data(session, scope, directive, today, bot.settings.timezone)
    built = board_files.render("xlsx", data, directive, today)
    return load_workbook(BytesIO(built.content))


def _detail(book: Any) -> list[dict[str, Any]]:
    sheet = book[doc_msg.SHEET_DETAIL]
    headers = [cell.value for cell in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _summary(book: Any) -> dict[str, tuple[Any, Any]]:
    sheet = book[doc_msg.SHEET_SUMMARY]
    return {row[0]: (row[1], row[2]) for row in sheet.iter_rows(min_row=2, values_only=True)}


def _expected_totals(
    rows: list[dict[str, Any]], not_reported_label: str, options: set[str]
) -> dict[str, int | float]:
    """Every total the summary sheet shows, counted from the detail rows as a reader with a filter would."""

    def filled(column: str) -> int:
        return sum(1 for row in rows if row[column] is not None)

    def status_is(code: str) -> int:
        return sum(1 for row in rows if row[doc_msg.COL_STATUS] == doc_msg.status_label(code))

    reported = [row for row in rows if row[doc_msg.COL_REPORTED_AT] is not None]
    late = sum(1 for row in rows if row[doc_msg.COL_LATE] == doc_msg.LATE_YES)
    attended = "Số đảng viên tham gia / tổng số đảng viên"
    totals: dict[str, int | float] = {
        doc_msg.SUM_TARGETED: len(rows),
        doc_msg.SUM_DELIVERED: filled(doc_msg.COL_DELIVERED_AT),
        doc_msg.SUM_ACKNOWLEDGED: filled(doc_msg.COL_ACKNOWLEDGED_AT),
        doc_msg.SUM_REPORTED: len(reported),
        doc_msg.SUM_ON_TIME: len(reported) - late,
        doc_msg.SUM_LATE: late,
        not_reported_label: len(rows) - len(reported),
        doc_msg.SUM_BLOCKED: status_is("blocked"),
        doc_msg.SUM_UNREGISTERED: status_is("unregistered"),
        doc_msg.SUM_SESSIONS: len(reported),
        doc_msg.SUM_RATIO_ATTENDED.format(label=attended): sum(
            row[doc_msg.COL_RATIO_ATTENDED.format(label=attended)] or 0 for row in rows
        ),
        doc_msg.SUM_RATIO_TOTAL.format(label=attended): sum(
            row[doc_msg.COL_RATIO_TOTAL.format(label=attended)] or 0 for row in rows
        ),
    }
    number_label = next(key for key in rows[0] if key.startswith("Số quần chúng"))
    totals[number_label] = sum(row[number_label] or 0 for row in reported)
    choice = next(key for key in rows[0] if key.startswith("Hình thức"))
    for option in options | {row[choice] for row in reported}:  # the form's options, chosen or not
        totals[doc_msg.SUM_CHOICE.format(label=choice, option=option)] = sum(
            1 for row in reported if row[choice] == option
        )
    return totals


@pytest.mark.parametrize(
    ("deadline", "not_reported_label"),
    [
        (DEADLINE, doc_msg.SUM_NOT_REPORTED_OVERDUE),
        (date(2024, 5, 30), doc_msg.SUM_NOT_REPORTED_NOT_DUE),
    ],
    ids=["overdue", "not-yet-due"],
)
async def test_every_total_of_the_summary_sheet_is_recomputed_from_the_rows(
    bot: Runtime, tmp_path: Path, deadline: date, not_reported_label: str
) -> None:
    directive_id = await _generated(bot, tmp_path, deadline)
    book = await _export(bot, directive_id)
    rows, summary = _detail(book), _summary(book)
    assert len(rows) == CELLS
    shown_states = {row[doc_msg.COL_STATUS] for row in rows}
    states = set(UnitStatus) - ({UnitStatus.REPORTED_LATE} if deadline > date(2024, 4, 12) else set())
    assert {doc_msg.status_label(s.value) for s in states} <= shown_states  # every state is in the data
    # Issue 15: every row counted as acknowledged shows when, a report being the latest acknowledgement.
    for row in rows:
        if row[doc_msg.COL_REPORTED_AT] is not None:
            assert row[doc_msg.COL_ACKNOWLEDGED_AT] is not None and row[doc_msg.COL_DELIVERED_AT] is not None
    options = {label.split(": ", 1)[1] for label in summary if label.startswith("Hình thức: ")}
    expected = _expected_totals(rows, not_reported_label, options)
    for label, total in expected.items():
        assert label in summary, (label, sorted(summary))
        assert summary[label][0] == total, (label, summary[label], total)
    targeted = len(rows)
    for label in (doc_msg.SUM_DELIVERED, doc_msg.SUM_ACKNOWLEDGED, doc_msg.SUM_REPORTED, not_reported_label):
        assert summary[label][1] == pytest.approx(expected[label] / targeted)
    # Every count line of the sheet was checked: none is left unexplained.
    counted = {label for label, (value, _) in summary.items() if isinstance(value, int | float)}
    assert counted <= set(expected), counted - set(expected)


# --- Printing ------------------------------------------------------------------------------------------------

FIELDS = (
    FormField("ngay", "Ngày tổ chức", FieldType.DATE),
    FormField("hinh_thuc", "Hình thức", FieldType.CHOICE, options=("Chuyên đề", "Thường kỳ")),
    FormField("dang_vien", "Đảng viên tham gia", FieldType.RATIO),
    FormField("ngoai_dang", "Người ngoài Đảng", FieldType.NUMBER),
    FormField("ket_qua", "Kết quả nổi bật", FieldType.TEXT),
    FormField("kho_khan", "Khó khăn, vướng mắc", FieldType.TEXT),
)


def _printable(count: int) -> ReportData:
    rows = [
        UnitRow(
            path=f"Đảng bộ Sở số {i // 10} / Chi bộ Phòng nghiệp vụ số {i}",
            name=f"Chi bộ Phòng nghiệp vụ số {i}",
            secretary=f"Nguyễn Văn Bí Thư {i}",
            phone="0912345678",
            status=UnitStatus.REPORTED,
            values={
                "ngay": date(2024, 4, 8),
                "hinh_thuc": "Chuyên đề",
                "dang_vien": {"attended": 18, "total": 20},
                "ngoai_dang": 5,
                "ket_qua": "Tổ chức nghiêm túc, đúng hướng dẫn, đảng viên tham gia thảo luận sôi nổi " * 2,
                "kho_khan": "Đảng viên đi làm xa, khó tập trung đầy đủ",
            },
        )
        for i in range(count)
    ]
    directive = DirectiveSummary(
        "747-CV/ĐUK", "ĐUK", "CV", date(2024, 4, 3), "Sinh hoạt chính trị", "", "", "", form_fields=FIELDS
    )
    return ReportData(
        directive, Counts.from_rows(rows), rows, Aggregates.from_rows(FIELDS, rows), date(2024, 4, 11)
    )


def _print_setup_of(sheet: Worksheet, widest: int) -> None:
    setup = sheet.page_setup
    assert setup.orientation == "landscape"
    assert str(setup.paperSize) == "9"  # A4
    assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0)  # 1 page wide is the default, left unwritten
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_title_rows == "$1:$1"
    widths = [shown_width(dim.width) for dim in sheet.column_dimensions.values() if dim.width]
    assert widths and max(widths) <= widest


def test_both_sheets_print_on_a4_landscape_one_page_wide_with_the_header_repeated() -> None:
    book = load_workbook(BytesIO(build_xlsx(_printable(30))))
    _print_setup_of(book[doc_msg.SHEET_DETAIL], xlsx_export.MAX_WIDTH)
    _print_setup_of(book[doc_msg.SHEET_SUMMARY], xlsx_export.SUMMARY_MAX_WIDTH)
    detail = book[doc_msg.SHEET_DETAIL]
    column = [cell.value for cell in detail[1]].index("Kết quả nổi bật") + 1
    long_text = detail.cell(2, column)
    assert long_text.value.startswith("Tổ chức nghiêm túc") and long_text.alignment.wrap_text
    # The row is as tall as its wrapped lines (LibreOffice would not grow it and the lines would overlap).
    assert (detail.row_dimensions[2].height or 0) >= 4 * xlsx_export.LINE_POINTS


@pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) missing: pages not counted")
def test_libreoffice_prints_a_known_export_on_few_landscape_pages(tmp_path: Path) -> None:
    source = tmp_path / "ket-qua.xlsx"
    source.write_bytes(build_xlsx(_printable(40)))
    [pdf] = to_pdf([source], tmp_path, timeout=180)
    printed = PdfReader(pdf).pages
    pages = len(printed)
    box = printed[0].mediabox
    turned = printed[0].rotation % 180 == 90
    assert (box.height > box.width) if turned else (box.width > box.height)  # landscape
    # 40 rows of 15 columns: all columns on one page across, the rows on a few pages, the summary on one.
    assert 2 <= pages <= 5, pages


# --- Evidence photos ------------------------------------------------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101008d0a2db40000000049454e44ae426082"
)


async def _report_with_photo(world: ZaloWorld, directive_id: int) -> str:
    runtime = world.runtime
    settings = runtime.settings
    async with transaction(runtime.sessions) as session:
        store = FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024)
        stored = await store.save(session, runtime.clock, PNG, "anh-minh-chung.png", "image/png")
    await file_report(runtime, directive_id, "DUK-SYT-BV", {"quan_chung": 3, "anh": [stored.sha256]})
    return stored.sha256


async def _exported_links(world: ZaloWorld) -> list[str]:
    """The board member on Zalo asks for the export, downloads it from its link and reads the rows' links."""
    tuyen = await board_member(world)
    await tuyen.say("xuất 747")
    await tuyen.wait_until(lambda ms: any(".xlsx" in (m.file_name or "") or ".xlsx" in m.text for m in ms))
    got = next(m for m in tuyen.messages if ".xlsx" in (m.file_name or "") or ".xlsx" in m.text)
    assert got.links, tuyen.describe()
    headers = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Zalo"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.local(got.links[0]), headers=headers) as response,
    ):
        assert response.status == 200
        content = await response.read()
    sheet = load_workbook(BytesIO(content))[doc_msg.SHEET_DETAIL]
    headers_row = [cell.value for cell in sheet[1]]
    column = headers_row.index(doc_msg.COL_EVIDENCE)
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    linked = [cell for cell in cells if cell.hyperlink is not None]
    assert [cell.value for cell in linked] == [doc_msg.EVIDENCE_LINK_TEXT.format(count=1)]
    return [cell.hyperlink.target for cell in linked]


async def test_a_row_links_to_its_evidence_photo_on_a_signed_page(zalo: ZaloWorld) -> None:
    _, directive_id = await with_directive(zalo)
    await _report_with_photo(zalo, directive_id)
    [link] = await _exported_links(zalo)
    assert link.startswith(zalo.runtime.settings.public_url or "")
    async with aiohttp.ClientSession() as http:
        async with http.get(zalo.local(link)) as page:
            assert page.status == 200
            html = await page.text()
        assert "Chi bộ Bệnh viện Đa khoa tỉnh" in html and "747-CV/ĐUK" in html
        [src] = re.findall(r'<img src="([^"]+)"', html)
        base = zalo.local(link).split("/anh/")[0]
        async with http.get(base + src.replace("&amp;", "&")) as photo:
            assert photo.status == 200 and photo.content_type == "image/png"
            assert await photo.read() == PNG
        # Without a genuine signature neither the page nor the photo is shown.
        forged = re.sub(r"s=[^&]+", "s=AAAAAAAAAAAAAAAAAAAAAAAA", zalo.local(link))
        for url in (forged, forged.replace("?", "/0?"), zalo.local(link).split("?")[0] + "/0"):
            async with http.get(url) as refused:
                assert refused.status == 403, url
                assert "không đúng hoặc đã bị sửa" in await refused.text()
        other_unit = re.sub(r"/anh/(\d+)/(\d+)", lambda m: f"/anh/{m[1]}/{int(m[2]) + 1}", zalo.local(link))
        async with http.get(other_unit) as refused:
            assert refused.status == 403
    async with zalo.runtime.sessions() as session:
        views = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == audit.VIEW_EVIDENCE))
        ).all()
    assert len(views) == 1 and views[0].details["directive"] == directive_id
    zalo.runtime.clock.advance(timedelta(days=zalo.runtime.settings.link_days, minutes=1))
    async with aiohttp.ClientSession() as http, http.get(zalo.local(link)) as expired:
        assert expired.status == 410


async def test_evidence_links_are_only_made_for_rows_with_photos(zalo: ZaloWorld) -> None:
    settings = zalo.runtime.settings
    link = evidence.link_maker(settings, zalo.runtime.clock.now(), 7)
    assert link(UnitRow("a", "a", unit_id=3)) is None
    made = link(UnitRow("a", "a", unit_id=3, photos=("f" * 64,)))
    assert made is not None and made.startswith(f"{settings.public_url}/anh/7/3?e=")


def test_a_form_without_photos_gets_no_evidence_column() -> None:
    def link(_row: UnitRow) -> str:
        return "https://chibo.example.vn/anh/1/1?e=1&s=x"

    data = _printable(2)
    without = load_workbook(BytesIO(build_xlsx(data, link)))[doc_msg.SHEET_DETAIL]
    assert doc_msg.COL_EVIDENCE not in [cell.value for cell in without[1]]
    asking = replace(data, directive=replace(data.directive, asks_photos=True))
    with_column = load_workbook(BytesIO(build_xlsx(asking, link)))[doc_msg.SHEET_DETAIL]
    assert [cell.value for cell in with_column[1]][-1] == doc_msg.COL_EVIDENCE
