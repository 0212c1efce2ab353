"""Reports through the fake Telegram, as a secretary types and taps: the guided form with every kind of bad answer,
skip, back and cancel; one-message reports (complete, missing, invalid, prefixed); choosing the directive; photos;
edits as new versions; late reports; a restart in the middle of a form; and duplicate updates."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta

from PIL import Image
from sqlalchemy import func, select

from bot.core.events import Button, ChannelName, Incoming
from bot.fakes.telegram_models import SentMessage
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.fakes.zalo_server import FakeZalo
from bot.fakes.zalo_users import FakeZaloUser, ZaloSent, zalo_id
from bot.runtime import Runtime
from bot.services import directives
from bot.services.forms import FormSpec, load_form_yaml
from bot.services.forms_store import get_form, save_form
from bot.services.reports import OPEN_STATUSES, is_late, new_ref
from handlers.reports import _typed_button
from storage.db import transaction
from storage.models import Conversation, Directive, DirectiveTarget, Report, StoredFile, Unit
from tests.conftest import Restartable
from tests.support import board_and_secretaries, load_roster, register, register_zalo

CUC = "0912000003"  # Trần Thị Cúc, Chi bộ Văn phòng Sở Tài chính (Telegram user 801)
DUNG = "0912000004"  # Lê Văn Dũng, Chi bộ Phòng Ngân sách (802)
CUC_CELL = "DUK-STC-VP"
REF = re.compile(r"Mã biên nhận: (BC-[2-9A-HJ-NP-Z]{4})\b")
QUICK = "1/4; chuyên đề; 25/30; 12; Tốt; Không"
QUICK_VALUES = {
    "ngay_to_chuc": "2024-04-01",
    "hinh_thuc": "Sinh hoạt chuyên đề",
    "dang_vien": {"attended": 25, "total": 30},
    "quan_chung": 12,
    "ket_qua": "Tốt",
    "kho_khan": "Không",
}


# -- helpers ------------------------------------------------------------------------------------------------------


async def queue_directive(
    runtime: Runtime,
    number: str,
    *,
    deadline: date | None = date(2024, 4, 10),
    form_key: str = "sinh-hoat-chinh-tri",
    units: tuple[str, ...] = ("DUK",),
    subject: str = "Sinh hoạt chính trị, tư tưởng",
) -> int:
    """Send a directive to every cell under `units` the way the board's "Gửi" does, without the intake dialogue."""
    async with transaction(runtime.sessions) as session:
        scope = list((await session.scalars(select(Unit).where(Unit.code.in_(units)))).all())
        cells = await directives.cells_under(session, scope)
        directive = Directive(
            status="draft",
            created_at=runtime.clock.now(),
            number=number,
            subject=subject,
            issued_on=date(2024, 4, 3),
            deadline=deadline,
            form_key=form_key,
            meta={},
        )
        session.add(directive)
        await session.flush()
        await directives.queue_broadcast(
            session, runtime.clock, directive, cells, await get_form(session, form_key), actor="test"
        )
        directive_id = directive.id
    runtime.sender.wake()
    return directive_id


async def card_for(user: FakeUser, number: str) -> SentMessage:
    def has_card(messages: list[SentMessage]) -> bool:
        return any(m.text.startswith("📄 VĂN BẢN MỚI") and number in m.text for m in messages)

    await user.wait_until(has_card)
    return next(m for m in user.messages if m.text.startswith("📄 VĂN BẢN MỚI") and number in m.text)


async def answer(user: FakeUser, action: Awaitable[int], needle: str) -> SentMessage:
    """Do `action` and return the first new message containing `needle`."""
    before = len(user.messages)
    await action
    await user.wait_until(lambda ms: any(needle in m.text for m in ms[before:]))
    return next(m for m in user.messages[before:] if needle in m.text)


def labels(message: SentMessage) -> list[str]:
    return [b.label for b in message.buttons]


def jpeg(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


async def reports_of(runtime: Runtime, directive_id: int | None = None) -> list[Report]:
    async with transaction(runtime.sessions) as session:
        query = select(Report).order_by(Report.directive_id, Report.unit_id, Report.version)
        if directive_id is not None:
            query = query.where(Report.directive_id == directive_id)
        return list((await session.scalars(query)).all())


async def target_of(runtime: Runtime, directive_id: int, unit_code: str) -> DirectiveTarget:
    async with transaction(runtime.sessions) as session:
        target = await session.scalar(
            select(DirectiveTarget)
            .join(Unit, Unit.id == DirectiveTarget.unit_id)
            .where(DirectiveTarget.directive_id == directive_id, Unit.code == unit_code)
        )
        assert target is not None
        return target


async def one_secretary(
    runtime: Runtime, fake: FakeTelegram, phone: str = CUC, user_id: int = 801
) -> FakeUser:
    await load_roster(runtime)
    user = fake.user(user_id, "Cúc")
    await register(runtime, user, phone)
    return user


# -- the guided form ------------------------------------------------------------------------------------------------


async def test_guided_report_with_bad_answers_back_skip_photo_and_receipt(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    cuc = secretaries[CUC]
    card = await card_for(cuc, "747-CV/ĐUK")
    assert "Báo cáo nhanh trong một tin nhắn: ngày; hình thức; số ĐV dự/tổng số" in card.text

    first = await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/7: Ngày tổ chức")
    assert "Báo cáo kết quả sinh hoạt chính trị, tư tưởng" in first.text
    assert "Văn bản 747-CV/ĐUK – Chi bộ Văn phòng Sở Tài chính" in first.text
    assert labels(first) == ["⬅️ Quay lại", "✖️ Hủy"]

    bad_date = await answer(cuc, cuc.send_text("32/4"), "Mục 1/7")
    assert bad_date.text.startswith("Ngày 32 không hợp lệ")
    future = await answer(cuc, cuc.send_text("15/4"), "Mục 1/7")
    assert future.text.startswith("Ngày 15/04/2024 chưa tới")

    choice = await answer(cuc, cuc.send_text("hôm qua"), "Mục 2/7: Hình thức")
    assert labels(choice)[:5] == [
        "Sinh hoạt chi bộ thường kỳ",
        "Sinh hoạt chuyên đề",
        "Hội nghị / tọa đàm",
        "Trực tuyến",
        "Khác",
    ]
    bad_choice = await answer(cuc, cuc.send_text("họp mặt"), "Mục 2/7")
    assert bad_choice.text.startswith("Chưa rõ “họp mặt” là lựa chọn nào")
    bad_number = await answer(cuc, cuc.send_text("9"), "Mục 2/7")
    assert bad_number.text.startswith("Không có lựa chọn số 9")

    await answer(cuc, cuc.send_text("2"), "Mục 3/7: Số đảng viên tham gia / tổng số đảng viên")
    over = await answer(cuc, cuc.send_text("30/25"), "Mục 3/7")
    assert over.text.startswith("Số tham gia (30) không thể lớn hơn tổng số (25)")
    await answer(cuc, cuc.send_text("25 trên 30"), "Mục 4/7: Số quần chúng tham gia (không bắt buộc)")
    words = await answer(cuc, cuc.send_text("mười hai"), "Mục 4/7")
    assert words.text.startswith("Hãy nhập bằng chữ số")

    back = await answer(cuc, cuc.send_text("quay lại"), "Mục 3/7")
    assert "Đang ghi: 25/30" in back.text
    await answer(cuc, cuc.send_text("26/30"), "Mục 4/7")
    await answer(cuc, cuc.press("⏭ Bỏ qua"), "Mục 5/7: Kết quả nổi bật")
    await answer(cuc, cuc.press("⬅️ Quay lại"), "Mục 4/7")
    await answer(cuc, cuc.send_text("bo qua"), "Mục 5/7")
    await answer(cuc, cuc.send_text("Đảng viên nắm chắc nội dung"), "Mục 6/7: Khó khăn, kiến nghị")
    photo_step = await answer(cuc, cuc.send_text("Không có"), "Mục 7/7: Ảnh minh chứng")
    assert "⏭ Bỏ qua" in labels(photo_step)
    not_photo = await answer(cuc, cuc.send_text("ảnh đây"), "Mục 7/7")
    assert not_photo.text.startswith("Mục “Ảnh minh chứng” cần ảnh")
    got_photo = await answer(cuc, cuc.send_photo(jpeg()), "Đã nhận 1 ảnh")
    assert "✅ Xong (1 ảnh)" in labels(got_photo)

    summary = await answer(cuc, cuc.press("✅ Xong (1 ảnh)"), "📋 Báo cáo văn bản 747-CV/ĐUK")
    for line in (
        "1. Ngày tổ chức: 02/04/2024",
        "2. Hình thức: Sinh hoạt chuyên đề",
        "3. Số đảng viên tham gia / tổng số đảng viên: 26/30",
        "4. Số quần chúng tham gia: (bỏ qua)",
        "5. Kết quả nổi bật: Đảng viên nắm chắc nội dung",
        "6. Khó khăn, kiến nghị: (bỏ qua)",
        "7. Ảnh minh chứng: 1 ảnh",
    ):
        assert line in summary.text
    assert labels(summary) == ["📤 Gửi", "✏️ Sửa", "⬅️ Quay lại", "✖️ Hủy"]
    assert await reports_of(bot) == [], "nothing is saved before Gửi"

    receipt = await answer(cuc, cuc.press("📤 Gửi"), "✅ Đã nhận báo cáo văn bản 747-CV/ĐUK")
    ref = REF.search(receipt.text)
    assert ref is not None, receipt.text
    assert "Chi bộ Văn phòng Sở Tài chính lúc 09:00 03/04/2024" in receipt.text
    assert "nộp muộn" not in receipt.text
    assert labels(receipt) == ["✏️ Sửa báo cáo"]

    (report,) = await reports_of(bot)
    photos = report.values.pop("anh")
    assert report.values == {
        "ngay_to_chuc": "2024-04-02",
        "hinh_thuc": "Sinh hoạt chuyên đề",
        "dang_vien": {"attended": 26, "total": 30},
        "ket_qua": "Đảng viên nắm chắc nội dung",
    }
    assert report.ref == ref[1] and report.version == 1 and report.is_latest and not report.late
    assert report.channel == "telegram" and report.directive_id == directive_id
    (sha,) = photos
    assert bot.files.read(sha) == jpeg()
    async with transaction(bot.sessions) as session:
        assert await session.get(StoredFile, sha) is not None
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
    target = await target_of(bot, directive_id, CUC_CELL)
    assert target.reported_at == report.submitted_at and target.late is False


async def test_required_answers_long_text_and_cancel(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "12-KH/ĐUK", form_key="tuyen-truyen")
    await card_for(cuc, "12-KH/ĐUK")
    first = await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/6: Số hoạt động đã tổ chức")
    assert "⏭ Bỏ qua" not in labels(first), "required fields offer no skip"

    skip = await answer(cuc, cuc.send_text("bỏ qua"), "Mục 1/6")
    assert skip.text.startswith("Mục “Số hoạt động đã tổ chức” là bắt buộc, không thể bỏ qua. Nếu không có")
    negative = await answer(cuc, cuc.send_text("-3"), "Mục 1/6")
    assert negative.text.startswith("Số lượng không được âm")
    decimal = await answer(cuc, cuc.send_text("2,5"), "Mục 1/6")
    assert decimal.text.startswith("Số lượng phải là số nguyên")
    await answer(cuc, cuc.send_text("3 buổi"), "Mục 2/6: Số lượt người tham gia")
    await answer(cuc, cuc.send_text("1.234"), "Mục 3/6")
    await answer(cuc, cuc.send_text("5"), "Mục 4/6: Lượt tương tác trên mạng xã hội (không bắt buộc)")
    await answer(cuc, cuc.send_text("-"), "Mục 5/6: Kết quả nổi bật")
    too_long = await answer(cuc, cuc.send_text("x" * 501), "Mục 5/6")
    assert too_long.text.startswith("Nội dung dài 501 ký tự, quá mức 500 ký tự")

    cancelled = await answer(cuc, cuc.send_text("Hủy"), "Đã hủy")
    assert "Báo cáo đã gửi trước đó" not in cancelled.text
    assert await reports_of(bot) == []
    async with transaction(bot.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
    after = await answer(cuc, cuc.send_text("Kết quả tốt"), "Tôi chưa hiểu tin nhắn này")
    assert after.text.startswith("Tôi chưa hiểu")


async def test_stale_buttons_and_first_question_back(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/7")
    first_back = await answer(cuc, cuc.press("⬅️ Quay lại"), "Mục 1/7")
    assert first_back.text.startswith("Đây là mục đầu tiên")
    choice = await answer(cuc, cuc.send_text("hôm nay"), "Mục 2/7")
    await answer(cuc, cuc.press("Trực tuyến"), "Mục 3/7")
    stale = await answer(cuc, cuc.press("Khác", message=choice), "Mục 3/7")
    assert stale.text.startswith("Nút này thuộc một câu hỏi trước")
    resumed = await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 3/7")
    assert resumed.text.startswith("Đồng chí đang báo cáo dở văn bản 747-CV/ĐUK")


async def test_a_whole_report_sent_in_the_middle_of_the_form_is_taken(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/7")
    await answer(cuc, cuc.send_text("hôm nay"), "Mục 2/7")
    await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    (report,) = await reports_of(bot)
    assert report.values == QUICK_VALUES
    gone = await answer(cuc, cuc.press("⬅️ Quay lại"), "Phiên báo cáo này đã kết thúc")
    assert labels(gone) == []


# -- one-message reports ------------------------------------------------------------------------------------------


async def test_quick_report_complete_gets_a_receipt(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    receipt = await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    assert receipt.text.startswith("✅ Đã nhận báo cáo văn bản 747-CV/ĐUK của Chi bộ Văn phòng Sở Tài chính")
    assert "1. Ngày tổ chức: 01/04/2024" in receipt.text
    assert "3. Số đảng viên tham gia / tổng số đảng viên: 25/30" in receipt.text
    assert "7. Ảnh minh chứng: (bỏ qua)" in receipt.text
    (report,) = await reports_of(bot, directive_id)
    assert report.values == QUICK_VALUES
    assert REF.search(receipt.text)[1] == report.ref  # type: ignore[index]


async def test_quick_report_with_missing_fields_asks_only_those(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    understood = await answer(cuc, cuc.send_text("1/4\nsinh hoat chuyen de"), "Tôi đã hiểu")
    assert "1. Ngày tổ chức: 01/04/2024" in understood.text
    assert "2. Hình thức: Sinh hoạt chuyên đề" in understood.text
    assert "Còn thiếu:\n• Số đảng viên tham gia / tổng số đảng viên" in understood.text
    assert "Số quần chúng" not in understood.text, "optional fields left out are not asked"
    await cuc.wait_until(lambda ms: "Mục 1/1: Số đảng viên" in ms[-1].text)
    summary = await answer(cuc, cuc.send_text("20/22"), "📋 Báo cáo văn bản")
    assert "4. Số quần chúng tham gia: (bỏ qua)" in summary.text
    await answer(cuc, cuc.press("📤 Gửi"), "Mã biên nhận")
    (report,) = await reports_of(bot)
    assert report.values == {
        "ngay_to_chuc": "2024-04-01",
        "hinh_thuc": "Sinh hoạt chuyên đề",
        "dang_vien": {"attended": 20, "total": 22},
    }


async def test_quick_report_with_invalid_fields_asks_them_again(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    understood = await answer(cuc, cuc.send_text("15/4; họp mặt; 31/30; 12; Tốt; Không"), "Chưa hợp lệ:")
    assert "4. Số quần chúng tham gia: 12" in understood.text
    assert "• Ngày tổ chức: Ngày 15/04/2024 chưa tới" in understood.text
    assert "• Hình thức: Chưa rõ “họp mặt”" in understood.text
    assert "• Số đảng viên tham gia / tổng số đảng viên: Số tham gia (31)" in understood.text
    await cuc.wait_until(lambda ms: "Mục 1/3: Ngày tổ chức" in ms[-1].text)
    await answer(cuc, cuc.send_text("1/4"), "Mục 2/3: Hình thức")
    await answer(cuc, cuc.send_text("hoi nghi"), "Mục 3/3")
    await answer(cuc, cuc.send_text("28/30"), "📋 Báo cáo văn bản")
    await answer(cuc, cuc.send_text("gửi"), "Mã biên nhận")
    (report,) = await reports_of(bot)
    assert report.values == {
        **QUICK_VALUES,
        "hinh_thuc": "Hội nghị / tọa đàm",
        "dang_vien": {"attended": 28, "total": 30},
    }


async def test_two_open_directives_choose_or_prefix(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    first = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    bot.clock.advance(timedelta(minutes=5))
    second = await queue_directive(bot, "748-CV/ĐUK", form_key="tuyen-truyen", subject="Tuyên truyền kỷ niệm")
    await card_for(cuc, "748-CV/ĐUK")

    prompt = await answer(cuc, cuc.send_text(QUICK), "Đồng chí có 2 văn bản đang chờ báo cáo")
    assert "1. 748-CV/ĐUK (03/04/2024) – Tuyên truyền kỷ niệm" in prompt.text
    assert "2. 747-CV/ĐUK (03/04/2024)" in prompt.text
    assert labels(prompt) == ["1. 748-CV/ĐUK", "2. 747-CV/ĐUK", "✖️ Hủy"]
    receipt = await answer(cuc, cuc.send_text("2"), "Mã biên nhận")
    assert "văn bản 747-CV/ĐUK" in receipt.text
    (report,) = await reports_of(bot, first)
    assert report.values == QUICK_VALUES

    receipt = await answer(cuc, cuc.send_text("748: 3; 120; 4; bỏ qua; Tốt; Không"), "Mã biên nhận")
    assert "văn bản 748-CV/ĐUK" in receipt.text
    (report,) = await reports_of(bot, second)
    assert report.values == {
        "so_hoat_dong": 3,
        "luot_tham_gia": 120,
        "so_tin_bai": 4,
        "ket_qua": "Tốt",
        "kho_khan": "Không",
    }

    prompt = await answer(cuc, cuc.send_text("báo cáo"), "Đồng chí có 2 văn bản")
    assert "– đã báo cáo" in prompt.text
    summary = await answer(cuc, cuc.press("1. 748-CV/ĐUK"), "📋 Báo cáo văn bản 748-CV/ĐUK")
    assert summary.text.startswith("Chi bộ đã gửi báo cáo văn bản 748-CV/ĐUK lúc")


async def test_a_secretary_text_that_is_no_report_is_not_understood(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    for text in ("xin chào", "Cảm ơn Ban", "15/4"):
        reply = await answer(cuc, cuc.send_text(text), "Tôi chưa hiểu")
        assert reply.text.startswith("Tôi chưa hiểu tin nhắn này")
    assert await reports_of(bot) == []


async def test_unknown_directive_number_is_explained(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    reply = await answer(cuc, cuc.send_text("999-CV/ĐUK: " + QUICK), "Không tìm thấy văn bản số")
    assert "Các văn bản đang chờ: 747-CV/ĐUK" in reply.text
    assert await reports_of(bot) == []


# -- edits, versions, late reports --------------------------------------------------------------------------------


async def test_edit_makes_a_new_version_and_keeps_the_old(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")

    bot.clock.advance(timedelta(hours=2))
    existing = await answer(cuc, cuc.press("✏️ Sửa báo cáo"), "📋 Báo cáo văn bản 747-CV/ĐUK")
    assert "Chi bộ đã gửi báo cáo văn bản 747-CV/ĐUK lúc 09:00 03/04/2024" in existing.text
    assert labels(existing)[:2] == ["📤 Gửi lại", "✏️ Sửa"]
    pick = await answer(cuc, cuc.press("✏️ Sửa"), "Chọn mục cần sửa")
    assert labels(pick)[2] == "3. Số đảng viên tham gia / tổng số đảng viên"
    asked = await answer(cuc, cuc.press("3. Số đảng viên tham gia / tổng số đảng viên"), "Đang ghi: 25/30")
    assert "Mục 1/1" in asked.text
    summary = await answer(cuc, cuc.send_text("28/30"), "📋 Báo cáo văn bản")
    assert "3. Số đảng viên tham gia / tổng số đảng viên: 28/30" in summary.text
    receipt = await answer(cuc, cuc.press("📤 Gửi lại"), "Mã biên nhận")
    assert "Đây là bản thứ 2" in receipt.text
    assert "lúc 11:00 03/04/2024" in receipt.text

    receipt = await answer(cuc, cuc.send_text("747: " + QUICK.replace("Tốt", "Rất tốt")), "Mã biên nhận")
    assert "Đây là bản thứ 3" in receipt.text

    versions = await reports_of(bot, directive_id)
    assert [r.version for r in versions] == [1, 2, 3]
    assert [r.is_latest for r in versions] == [False, False, True]
    assert versions[0].values == QUICK_VALUES
    assert versions[1].values == {**QUICK_VALUES, "dang_vien": {"attended": 28, "total": 30}}
    assert versions[2].values == {**QUICK_VALUES, "ket_qua": "Rất tốt"}
    assert len({r.ref for r in versions}) == 3
    target = await target_of(bot, directive_id, CUC_CELL)
    assert target.reported_at == versions[2].submitted_at


async def test_cancelling_an_edit_keeps_the_sent_report(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    receipt = await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    await answer(cuc, cuc.press("✏️ Sửa báo cáo"), "📋 Báo cáo văn bản")
    cancelled = await answer(cuc, cuc.press("✖️ Hủy"), "Đã hủy")
    assert f"(mã {REF.search(receipt.text)[1]}) vẫn giữ nguyên" in cancelled.text  # type: ignore[index]
    assert len(await reports_of(bot)) == 1


async def test_a_report_after_the_deadline_is_accepted_and_marked_late(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK", deadline=date(2024, 4, 10))
    await card_for(cuc, "747-CV/ĐUK")
    bot.clock.advance(timedelta(days=8))  # 11/04/2024 09:00 in Hà Nội
    receipt = await answer(cuc, cuc.send_text("5/4; chuyên đề; 25/30"), "Mã biên nhận")
    assert "⚠️ Hạn báo cáo là 10/04/2024; báo cáo này được ghi nhận là nộp muộn." in receipt.text
    (report,) = await reports_of(bot, directive_id)
    assert report.late
    target = await target_of(bot, directive_id, CUC_CELL)
    assert target.late and target.reported_at == report.submitted_at


def test_late_means_after_the_deadline_day_in_local_time() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    directive = Directive(deadline=date(2024, 4, 10))
    last_minute = datetime(2024, 4, 10, 16, 59, tzinfo=UTC)  # 23:59 in Hà Nội
    next_morning = datetime(2024, 4, 10, 17, 0, tzinfo=UTC)  # 00:00 on the 11th in Hà Nội
    assert not is_late(directive, last_minute, tz)
    assert is_late(directive, next_morning, tz)
    assert not is_late(Directive(deadline=None), next_morning + timedelta(days=400), tz)


def test_receipt_references_are_short_and_readable() -> None:
    refs = {new_ref() for _ in range(200)}
    assert all(re.fullmatch(r"BC-[2-9A-HJ-NP-Z]{4}", ref) for ref in refs)
    assert len(refs) > 190, "references are random, not a counter"


# -- photos ---------------------------------------------------------------------------------------------------------


async def test_photos_after_a_report_become_a_new_version(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.send_text(QUICK), "Mã biên nhận")
    first = await answer(cuc, cuc.send_photo(jpeg("red")), "Bấm “Gửi” để cập nhật báo cáo")
    assert "7. Ảnh minh chứng: 1 ảnh" in first.text
    second = await answer(cuc, cuc.send_photo(jpeg("blue")), "tổng 2 ảnh")
    assert labels(second)[0] == "📤 Gửi lại"
    await answer(cuc, cuc.press("📤 Gửi lại"), "Mã biên nhận")
    latest = (await reports_of(bot, directive_id))[-1]
    assert latest.version == 2 and len(latest.values["anh"]) == 2
    assert {k: v for k, v in latest.values.items() if k != "anh"} == QUICK_VALUES

    # A later text resend keeps the evidence.
    await answer(cuc, cuc.send_text(QUICK), "Đây là bản thứ 3")
    assert (await reports_of(bot, directive_id))[-1].values["anh"] == latest.values["anh"]


async def test_a_photo_first_starts_the_form_with_it(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.send_photo(jpeg()), "Mục 1/7: Ngày tổ chức")
    for text, next_question in (
        ("hôm nay", "Mục 2/7"),
        ("1", "Mục 3/7"),
        ("20/20", "Mục 4/7"),
        ("0", "Mục 5/7"),
        ("bỏ qua", "Mục 6/7"),
        ("bỏ qua", "Mục 7/7"),
    ):
        asked = await answer(cuc, cuc.send_text(text), next_question)
    assert "Đã nhận 1 ảnh" in asked.text
    summary = await answer(cuc, cuc.send_text("xong"), "📋 Báo cáo")
    assert "7. Ảnh minh chứng: 1 ảnh" in summary.text


async def test_a_photo_with_a_one_message_report_as_caption(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    receipt = await answer(cuc, cuc.send_photo(jpeg(), caption=QUICK), "Mã biên nhận")
    assert "7. Ảnh minh chứng: 1 ảnh" in receipt.text
    (report,) = await reports_of(bot)
    assert len(report.values.pop("anh")) == 1 and report.values == QUICK_VALUES


HOC_TAP = """\
key: hoc-tap
title: Báo cáo học tập nghị quyết
fields:
  - {key: ngay, label: Ngày học tập, type: date}
  - {key: hinh_thuc, label: Hình thức, type: choice, choices: [Trực tiếp, Trực tuyến]}
  - {key: anh, label: Ảnh buổi học, type: photo}
"""


async def test_a_custom_form_with_a_required_photo(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    form = load_form_yaml(HOC_TAP)
    assert isinstance(form, FormSpec)
    async with transaction(bot.sessions) as session:
        assert await save_form(session, bot.clock, form)
    await queue_directive(bot, "30-KH/ĐUK", form_key="hoc-tap")
    card = await card_for(cuc, "30-KH/ĐUK")
    assert "Báo cáo nhanh trong một tin nhắn: ngày học tập; hình thức" in card.text

    understood = await answer(cuc, cuc.send_text("hôm nay; truc tuyen"), "Còn thiếu:")
    assert "• Ảnh buổi học" in understood.text
    await cuc.wait_until(lambda ms: "Mục 1/1: Ảnh buổi học" in ms[-1].text)
    for text in ("xong", "bỏ qua"):
        refused = await answer(cuc, cuc.send_text(text), "Mục 1/1")
        assert refused.text.startswith("Mục “Ảnh buổi học” cần ảnh. Hãy gửi ảnh chụp thay cho tin nhắn chữ.")
        assert "⏭ Bỏ qua" not in labels(refused)
    await answer(cuc, cuc.send_photo(jpeg()), "Đã nhận 1 ảnh")
    summary = await answer(cuc, cuc.press("✅ Xong (1 ảnh)"), "📋 Báo cáo văn bản 30-KH/ĐUK")
    assert "2. Hình thức: Trực tuyến" in summary.text and "3. Ảnh buổi học: 1 ảnh" in summary.text
    await answer(cuc, cuc.send_text("Gửi"), "Mã biên nhận")
    (report,) = await reports_of(bot)
    assert report.values["ngay"] == "2024-04-03" and len(report.values["anh"]) == 1


# -- durability ---------------------------------------------------------------------------------------------------


async def test_a_restart_and_a_day_of_silence_in_the_middle_of_a_form(
    restartable: Restartable, fake_tg: FakeTelegram
) -> None:
    bot = await restartable.start()
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/7")
    await answer(cuc, cuc.send_text("hôm nay"), "Mục 2/7")
    await answer(cuc, cuc.send_text("chuyen de"), "Mục 3/7")

    bot = await restartable.restart()
    bot.clock.advance(timedelta(days=1))
    await answer(cuc, cuc.send_text("25/30"), "Mục 4/7")
    await answer(cuc, cuc.send_text("quay lại"), "Đang ghi: 25/30")
    await answer(cuc, cuc.send_text("25/30"), "Mục 4/7")
    for text in ("12", "Tốt", "Không"):
        await answer(cuc, cuc.send_text(text), "Mục")
    await cuc.wait_until(lambda ms: "Mục 7/7" in ms[-1].text)
    summary = await answer(cuc, cuc.send_text("bỏ qua"), "📋 Báo cáo")
    assert "1. Ngày tổ chức: 03/04/2024" in summary.text
    await answer(cuc, cuc.press("📤 Gửi"), "Mã biên nhận")
    (report,) = await reports_of(bot)
    assert report.values == {**QUICK_VALUES, "ngay_to_chuc": "2024-04-03"}


async def test_the_same_quick_report_update_twice_makes_one_version(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    cuc = await one_secretary(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    event = Incoming(
        channel=ChannelName.TELEGRAM,
        update_id="7001",
        user_id=str(cuc.id),
        chat_id=str(cuc.id),
        display_name="Cúc",
        date=bot.clock.now(),
        text=QUICK,
    )
    await bot.dispatcher.handle(event)
    await bot.dispatcher.handle(event)
    await bot.sender.idle()
    await cuc.wait_until(lambda ms: any("Mã biên nhận" in m.text for m in ms))
    assert len(await reports_of(bot)) == 1
    assert sum("Mã biên nhận" in m.text for m in cuc.messages) == 1


async def test_a_closed_directive_takes_no_more_reports(bot: Runtime, fake_tg: FakeTelegram) -> None:
    cuc = await one_secretary(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    await card_for(cuc, "747-CV/ĐUK")
    await answer(cuc, cuc.press("📝 Báo cáo"), "Mục 1/7")
    async with transaction(bot.sessions) as session:
        directive = await session.get(Directive, directive_id)
        assert directive is not None
        directive.status = "closed"
    assert "closed" not in OPEN_STATUSES
    closed = await answer(cuc, cuc.send_text("hôm nay"), "không còn nhận báo cáo")
    assert closed.text == "Văn bản 747-CV/ĐUK không còn nhận báo cáo."
    await answer(cuc, cuc.press("📝 Báo cáo"), "không còn nhận báo cáo")
    assert await reports_of(bot) == []


# -- typed buttons (Zalo shows buttons as a numbered list) ----------------------------------------------------------


def test_typed_buttons_by_words_and_by_number_where_buttons_are_numbered() -> None:
    rows = [[Button("Trực tuyến", "rc:1:k:0")], [Button("⬅️ Quay lại", "rb:1"), Button("✖️ Hủy", "rx")]]
    assert _typed_button("quay lai", rows, by_number=False) == "rb:1"
    assert _typed_button("  HỦY. ", rows, by_number=False) == "rx"
    assert _typed_button("3", rows, by_number=True) == "rx"
    assert _typed_button("3", rows, by_number=False) is None
    assert _typed_button("4", rows, by_number=True) is None
    assert _typed_button("gửi", rows, by_number=True) is None


async def zalo_answer(user: FakeZaloUser, action: Awaitable[str], needle: str) -> ZaloSent:
    before = len(user.messages)
    await action
    await user.wait_until(lambda ms: any(needle in m.body for m in ms[before:]))
    return next(m for m in user.messages[before:] if needle in m.body)


async def bot_conversation_flow(bot: Runtime) -> str | None:
    async with transaction(bot.sessions) as session:
        return await session.scalar(select(Conversation.flow))


async def test_a_zalo_secretary_answers_by_typing_numbers_and_words(
    bot: Runtime, fake_zalo: FakeZalo
) -> None:
    await load_roster(bot)
    cuc = fake_zalo.user(zalo_id(), "Cúc")
    await register_zalo(bot, cuc, CUC)
    await queue_directive(bot, "747-CV/ĐUK")
    await cuc.wait_until(lambda ms: any("VĂN BẢN MỚI" in m.body for m in ms))
    assert "2. 📝 Báo cáo" in cuc.messages[-1].body

    await zalo_answer(cuc, cuc.send_text("2"), "Mục 1/7: Ngày tổ chức")
    choice = await zalo_answer(cuc, cuc.send_text("hom qua"), "Mục 2/7: Hình thức")
    assert "2. Sinh hoạt chuyên đề" in choice.body and "6." not in choice.body  # no numbered navigation
    assert "“quay lại”" in choice.body and "bấm" not in choice.body.lower()
    ratio = await zalo_answer(cuc, cuc.send_text("2"), "Mục 3/7")
    assert "1." not in ratio.body and "“hủy”" in ratio.body, "a ratio question offers no numbered choices"
    await cuc.send_text("2")  # at the ratio question a number is an answer, never "2. Hủy"
    await cuc.wait_until(lambda ms: "Mục 3/7" in ms[-1].body and ms[-1] is not ratio)
    assert (await bot_conversation_flow(bot)) == "report"
    number = await zalo_answer(cuc, cuc.send_text("25/30"), "Mục 4/7")
    assert "Quay lại" not in number.body.replace("quay lại", ""), (
        "a number question offers no numbered buttons"
    )
    await zalo_answer(cuc, cuc.send_text("2"), "Mục 5/7")
    await zalo_answer(cuc, cuc.send_text("quay lai"), "Đang ghi: 2")
    await zalo_answer(cuc, cuc.send_text("3"), "Mục 5/7")
    await zalo_answer(cuc, cuc.send_text("bo qua"), "Mục 6/7")
    await zalo_answer(cuc, cuc.send_text("Khong co"), "Mục 7/7")
    summary = await zalo_answer(cuc, cuc.send_text("bo qua"), "📋 Báo cáo văn bản 747-CV/ĐUK")
    assert "📤 Gửi" not in summary.body and "Gõ “gửi”" in summary.body  # words, not numbers
    receipt = await zalo_answer(cuc, cuc.send_text("gui"), "Mã biên nhận")
    assert "gõ “sửa”" in receipt.body and "bấm" not in receipt.body.lower()
    (report,) = await reports_of(bot)
    assert report.channel == "zalo"
    assert report.values == {
        "ngay_to_chuc": "2024-04-02",
        "hinh_thuc": "Sinh hoạt chuyên đề",
        "dang_vien": {"attended": 25, "total": 30},
        "quan_chung": 3,
    }
