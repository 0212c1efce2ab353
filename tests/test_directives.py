"""Directive intake and broadcast through the fake Telegram: preview, corrections, deadline, form, audience, send,
progress, acknowledgement, /vanban, failures, and the cells that join late."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import func, select, update

from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from bot.services import directives
from bot.services.directive_parser import parse_directive
from bot.services.forms_store import DEFAULT_FORM, get_form
from storage.db import transaction
from storage.models import Directive, DirectiveStatus, DirectiveTarget, Unit
from tests.conftest import Restartable
from tests.support import (
    DOCX_MIME,
    board_and_secretaries,
    docx_bytes,
    load_roster,
    register,
    sample,
)


async def send_747(board, secretaries_expected: int = 3) -> None:  # type: ignore[no-untyped-def]
    await board.send_document("747-CV-DUK.docx", docx_bytes(sample("directive-747-CV-DUK.txt")), DOCX_MIME)


async def preview_of(board) -> str:  # type: ignore[no-untyped-def]
    await board.wait_until(lambda ms: any(m.text.startswith("📄 Văn bản tôi đọc được") for m in ms))
    return [m for m in board.messages if m.text.startswith("📄 Văn bản tôi đọc được")][-1].text


async def until(user, text: str, wait: float = 5.0):  # type: ignore[no-untyped-def]
    await user.wait_until(lambda ms: any(text in m.text for m in ms), timeout=wait)
    return [m for m in user.messages if text in m.text][-1]


async def test_board_sends_a_directive_end_to_end(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    await send_747(board)
    preview = await preview_of(board)
    assert "747-CV/ĐUK" in preview
    assert "03/04/2024" in preview
    assert "30/10/2024 (hằng năm) ⚠️ chưa xác nhận" in preview
    assert "Lai Châu" in preview
    assert "747-CV-DUK.docx" in preview

    await board.press("✏️ Trích yếu")
    await until(board, "Gõ trích yếu")
    await board.send_text("Sinh hoạt chính trị, tư tưởng về hai tác phẩm của Tổng Bí thư")
    await until(board, "Đã sửa Trích yếu")
    await board.send_document("tai-lieu-1.pdf", b"%PDF-1.4 material", "application/pdf")
    await until(board, "Đã thêm tài liệu: tai-lieu-1.pdf")
    await until(
        board, "Tệp sẽ gửi kèm (2)"
    )  # the preview as it is now: one shown before the file is out of date

    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "cần có hạn báo cáo đã xác nhận")
    await board.press("✅ Xác nhận hạn 30/10/2024")
    await until(board, "Đã xác nhận hạn báo cáo 30/10/2024")
    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "Chọn mẫu báo cáo")
    await board.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await until(board, "Chọn nơi nhận")
    await board.press("🌐 Tất cả chi bộ trong phạm vi")
    summary = await until(board, "Sẽ gửi tới 5 chi bộ")
    assert "(3 bí thư đã kết nối)" in summary.text and "2 chi bộ có bí thư chưa kết nối" in summary.text
    assert "Telegram: 3 bí thư, miễn phí." in summary.text  # the forecast: no windows, nothing to pay
    await board.press("📤 Gửi ngay")
    await until(board, "Đã xếp lịch gửi văn bản 747-CV/ĐUK tới 5 chi bộ")

    for user in secretaries.values():
        await user.wait_until(lambda ms: len([m for m in ms if m.kind == "document"]) == 2)
        # Two messages: the card as the caption of the first file, with the buttons; then the other file.
        files = [m for m in user.messages if m.kind == "document"]
        card = files[0]
        assert card.caption is not None and card.caption.startswith("📄 VĂN BẢN MỚI")
        assert "Công văn số 747-CV/ĐUK ngày 03/04/2024" in card.text
        assert "Sinh hoạt chính trị, tư tưởng về hai tác phẩm" in card.text
        assert "Hạn báo cáo: 30/10/2024" in card.text
        assert [f.file_name for f in files] == ["747-CV-DUK.docx", "tai-lieu-1.pdf"]
        assert [b.label for b in card.buttons] == ["✅ Đã nhận", "📝 Báo cáo"] and not files[1].buttons
        assert user.messages[-2:] == files  # registration before: the directive took two messages
    assert fake_tg.uploads == 2  # each file uploaded once, then re-sent by file_id

    final = await until(board, "Đã gửi xong văn bản 747-CV/ĐUK: 3/5", wait=10)
    assert "Chi bộ Bệnh viện Đa khoa tỉnh – Vũ Thị Lan: bí thư chưa kết nối" in final.text
    assert "Chi bộ Báo Lai Châu – Đỗ Văn Minh: bí thư chưa kết nối" in final.text
    progress = next(m for m in board.messages if m.text.startswith("📤 Đang gửi"))
    assert "Đã gửi: 3/5" in progress.text and "Chưa kết nối: 2" in progress.text


async def broadcast_747(bot: Runtime, board) -> None:  # type: ignore[no-untyped-def]
    await send_747(board)
    await preview_of(board)
    await board.press("✅ Xác nhận hạn 30/10/2024")
    await until(board, "Đã xác nhận hạn")
    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "Chọn mẫu báo cáo")
    await board.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await until(board, "Chọn nơi nhận")
    await board.press("🌐 Tất cả chi bộ trong phạm vi")
    await until(board, "Sẽ gửi tới")
    await board.press("📤 Gửi ngay")
    await until(board, "Đã xếp lịch gửi")


async def test_acknowledgement_is_recorded_once(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    await broadcast_747(bot, board)
    user = secretaries["0912000003"]
    await user.wait_until(lambda ms: any(m.buttons for m in ms if m.kind == "document"))
    await user.press("✅ Đã nhận")
    first = await until(user, "Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK")
    await user.press("✅ Đã nhận")
    await until(user, "đã xác nhận nhận văn bản 747-CV/ĐUK lúc")
    assert "16:00 03/04/2024" not in first.text  # times are shown in Hà Nội time
    async with transaction(bot.sessions) as session:
        acked = await session.scalar(select(func.count()).where(DirectiveTarget.acknowledged_at.is_not(None)))
    assert acked == 1
    assert user.callback_answers, "button presses are answered so the phone stops spinning"


async def test_vanban_lists_newest_first_and_resends_files(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    await broadcast_747(bot, board)
    user = secretaries["0912000004"]
    await user.wait_until(lambda ms: any(m.buttons for m in ms if m.kind == "document"))
    await user.send_command("/vanban")
    listing = await until(user, "Văn bản đã nhận")
    assert "1. 747-CV/ĐUK (03/04/2024)" in listing.text
    before = len([m for m in user.messages if m.kind == "document"])
    await user.press("1. 747-CV/ĐUK")
    await user.wait_until(lambda ms: len([m for m in ms if m.kind == "document"]) == before + 1)


async def test_blocked_and_failing_chats_are_reported(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    fake_tg.block(801)
    fake_tg.fail_next("sendDocument", status=502, count=1)
    await broadcast_747(bot, board)
    # The 502 is retried a minute later (the delivery retry schedule), on the moved clock.
    for _ in range(100):
        if any("Đã gửi xong văn bản 747-CV/ĐUK" in m.text for m in board.messages):
            break
        bot.clock.advance(timedelta(seconds=61))
        bot.sender.wake()
        await asyncio.sleep(0.1)
    final = await until(board, "Đã gửi xong văn bản 747-CV/ĐUK", wait=15)
    assert "Chi bộ Văn phòng Sở Tài chính – Trần Thị Cúc: bí thư đã chặn bot" in final.text
    assert "2/5" in final.text
    async with transaction(bot.sessions) as session:
        rows = dict(
            (
                await session.execute(
                    select(DirectiveTarget.delivery, func.count()).group_by(DirectiveTarget.delivery)
                )
            ).all()
        )
    assert rows == {"sent": 2, "blocked": 1, "unregistered": 2}


async def test_a_cell_that_joins_later_gets_the_directive(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await broadcast_747(bot, board)
    await until(board, "Đã gửi xong", wait=10)
    late = fake_tg.user(804, "Lan")
    await register(bot, late, "0912000007")
    await late.wait_until(lambda ms: any(m.text.startswith("📄 VĂN BẢN MỚI") for m in ms))


async def test_pasted_directive_without_subject_or_dated_deadline(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await board.send_text(sample("directive-745-CV-DUK.txt"))
    preview = await preview_of(board)
    assert "745-CV/ĐUK" in preview
    assert "Trích yếu: — chưa tìm thấy" in preview
    assert "01/05/2024 – 07/05/2024" in preview
    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "cần có hạn báo cáo đã xác nhận")
    await board.press("✏️ Hạn báo cáo")
    await until(board, "Gõ hạn báo cáo")
    await board.send_text("31/2/2024")
    await until(board, "Ngày chưa đúng")
    await board.send_text("10/5/2024")
    await until(board, "Đã sửa Hạn báo cáo")
    await until(board, "• Hạn báo cáo: 10/05/2024 ✅")


async def test_unreadable_and_oversized_files_are_refused(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await board.send_document("scan.pdf", b"not a pdf at all", "application/pdf")
    await until(board, "Tệp scan.pdf bị hỏng nên tôi không đọc được")
    bot.settings.max_file_mb = 1
    await board.send_document("big.docx", b"x" * (1024 * 1024 + 10), DOCX_MIME)
    await until(board, "Tệp big.docx quá lớn")
    async with transaction(bot.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Directive)) == 0


async def test_audience_is_limited_to_the_board_members_scope(bot: Runtime, fake_tg: FakeTelegram) -> None:
    board, _ = await board_and_secretaries(bot, fake_tg)
    await send_747(board)
    await preview_of(board)
    await board.press("✅ Xác nhận hạn 30/10/2024")
    await until(board, "Đã xác nhận hạn")
    await board.press("➡️ Tiếp tục: chọn nơi nhận")
    await until(board, "Chọn mẫu báo cáo")
    await board.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    await until(board, "Chọn nơi nhận")
    await board.press("⌨️ Nhập mã đơn vị")
    await until(board, "Gõ mã các đơn vị nhận")
    await board.send_text("DUK-SYT, X-TP-B1")
    await until(board, "ngoài phạm vi của đồng chí: X-TP-B1")
    await board.send_text("DUK-SYT")
    await until(board, "Sẽ gửi tới 2 chi bộ")
    await board.press("☑️ Đảng bộ Sở Y tế (2)")
    await until(board, "Chưa chọn chi bộ nào")


async def test_a_long_text_from_a_secretary_is_not_taken_for_a_directive(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    user = secretaries["0912000006"]
    await user.send_text("x" * 300)
    await until(user, "Tôi chưa hiểu tin nhắn này")


async def directive_status(bot: Runtime, directive_id: int) -> str | None:
    async with bot.sessions() as session:
        return await session.scalar(select(Directive.status).where(Directive.id == directive_id))


async def queue_as_the_shell_does(bot: Runtime, units: list[str]) -> tuple[int, str]:
    """What `chibo directive send` does, through the same services; returns the id and the status at queueing."""
    async with transaction(bot.sessions) as session:
        meta = parse_directive(sample("directive-747-CV-DUK.txt"))
        draft = await directives.new_draft(session, bot.clock, meta, form_key=DEFAULT_FORM)
        directives.confirm_deadline(draft, date(2030, 10, 30))
        scope = list((await session.scalars(select(Unit).where(Unit.code.in_(units)))).all())
        cells = await directives.cells_under(session, scope)
        form = await get_form(session, DEFAULT_FORM)
        await directives.queue_broadcast(session, bot.clock, draft, cells, form, actor="cli")
        return draft.id, draft.status


async def test_a_directive_queued_from_the_shell_ends_sent_once_delivered(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    """No progress watcher follows a directive queued from the shell: the sender's record of the deliveries alone
    moves it to sent, once every cell's delivery is finished (delivered, blocked or unregistered)."""
    board, secretaries = await board_and_secretaries(bot, fake_tg)
    fake_tg.block(801)
    directive_id, queued = await queue_as_the_shell_does(bot, ["DUK"])
    assert queued == DirectiveStatus.SENDING
    for user in secretaries.values():
        if user.id != 801:
            await user.wait_until(lambda ms: any(m.text.startswith("📄 VĂN BẢN MỚI") for m in ms))
    await bot.sender.idle()
    assert await directive_status(bot, directive_id) == DirectiveStatus.SENT
    async with bot.sessions() as session:
        deliveries = await directives.delivery_counts(session, directive_id)
    assert deliveries == {"sent": 2, "blocked": 1, "unregistered": 2}
    assert not [m for m in board.messages if "Đã gửi xong" in m.text]  # nobody watched this broadcast


async def test_a_directive_nobody_can_receive_is_sent_at_once(bot: Runtime) -> None:
    await load_roster(bot)
    directive_id, queued = await queue_as_the_shell_does(bot, ["DUK"])
    assert queued == DirectiveStatus.SENT
    assert await directive_status(bot, directive_id) == DirectiveStatus.SENT


async def test_a_directive_left_sending_is_settled_when_the_bot_starts(
    restartable: Restartable, fake_tg: FakeTelegram
) -> None:
    """Directives an older version left sending although every delivery had finished end sent at the next start."""
    bot = await restartable.start()
    await load_roster(bot)
    directive_id, _ = await queue_as_the_shell_does(bot, ["DUK"])
    async with transaction(bot.sessions) as session:  # as the version without `settle` left it
        await session.execute(
            update(Directive).where(Directive.id == directive_id).values(status=DirectiveStatus.SENDING)
        )
    bot = await restartable.restart()
    assert await directive_status(bot, directive_id) == DirectiveStatus.SENT
