"""Vietnamese texts of a cell's report: the guided questions, the summary, the receipt, and every refusal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from messages.formats import format_date, format_number, format_percent

# --- buttons ----------------------------------------------------------------------------------------------

BUTTON_BACK = "⬅️ Quay lại"
BUTTON_SKIP = "⏭ Bỏ qua"
BUTTON_CANCEL = "✖️ Hủy"
BUTTON_PHOTOS_DONE = "✅ Xong ({count} ảnh)"
BUTTON_SEND = "📤 Gửi"
BUTTON_RESEND = "📤 Gửi lại"
BUTTON_EDIT = "✏️ Sửa"
BUTTON_EDIT_REPORT = "✏️ Sửa báo cáo"
BUTTON_FIELD = "{index}. {label}"
BUTTON_DIRECTIVE = "{index}. {number}"
BUTTON_DIRECTIVE_UNIT = "{index}. {number} – {unit}"

# What a secretary may type instead of pressing a button (compared without diacritics or case).
WORDS_REPORT = ("bao cao", "bao cao ket qua", "gui bao cao")
WORDS_BACK = ("quay lai", "tro lai", "lui lai", "lui", "quay lai buoc truoc", "cau truoc")
WORDS_CANCEL = ("huy", "huy bo", "huy bao cao", "thoi", "dung lai")
WORDS_DONE = ("xong", "da xong", "het", "het anh", "du roi", "du anh")
WORDS_SEND = ("gui", "gui di", "gui lai", "gui bao cao", "dong y", "ok", "dung roi")
WORDS_EDIT = ("sua", "sua lai", "sua bao cao", "chinh sua")

# --- starting, resuming, asking ---------------------------------------------------------------------------

START = (
    "📝 {title}\n"
    "Văn bản {number}{unit}. Tôi sẽ hỏi {count} mục, mỗi lần một mục. "
    "Gõ “quay lại” để sửa mục trước, “hủy” để dừng. Phần đã trả lời được giữ lại nếu mất sóng."
)
UNIT_SUFFIX = " – {unit}"
# A secretary on the board too typed a board word with a directive number mid-report (handlers/classify.py).
REPORT_KEPT = "📝 Báo cáo đang làm dở của chi bộ vẫn được giữ: đồng chí trả lời tiếp mục đang hỏi, hoặc gõ “hủy” để dừng."
RESUME = "Đồng chí đang báo cáo dở văn bản {number}. Tiếp tục từ mục đang hỏi:"
QUESTION = "Mục {index}/{count}: {label}{optional}"
OPTIONAL_MARK = " (không bắt buộc)"
HINT_LINE = "({hint})"
CURRENT_VALUE = "Đang ghi: {value}"
CHOICES_PROMPT = "Bấm một lựa chọn hoặc gõ số thứ tự:"
SKIP_HINT = "Gõ “bỏ qua” nếu không có."
PHOTO_PROMPT = "Gửi ảnh chụp làm minh chứng (có thể gửi nhiều ảnh)."
PHOTO_PROMPT_SKIP = "Gửi ảnh chụp làm minh chứng (có thể gửi nhiều ảnh), hoặc bấm “Bỏ qua” nếu không có."
PHOTO_RECEIVED = "Đã nhận {count} ảnh. Gửi thêm ảnh, hoặc bấm “Xong” để sang bước tiếp."
TYPED_NAV_HINT = "Gõ “quay lại” để về mục trước, “hủy” để dừng."
# Where the channel has no buttons, choices that are not answers are words, never numbers: a number typed at a
# question is always its answer.
CHOICES_PROMPT_TYPED = "Gõ số thứ tự của lựa chọn:"
SKIP_HINT_TYPED = "Gõ “bỏ qua” nếu không có."
PHOTO_PROMPT_SKIP_TYPED = "Gửi ảnh chụp làm minh chứng (có thể gửi nhiều ảnh), hoặc gõ “bỏ qua” nếu không có."
PHOTO_RECEIVED_TYPED = "Đã nhận {count} ảnh. Gửi thêm ảnh, hoặc gõ “xong” để sang bước tiếp."
FIRST_QUESTION = "Đây là mục đầu tiên, không có mục nào trước đó."
STALE_BUTTON = "Nút này thuộc một câu hỏi trước. Câu hỏi hiện tại:"
UNSUPPORTED = "Tôi chỉ đọc được tin nhắn chữ và ảnh."

# --- the summary and editing ------------------------------------------------------------------------------

SUMMARY_TITLE = "📋 Báo cáo văn bản {number}{unit}:"
SUMMARY_LINE = "{index}. {label}: {value}"
SUMMARY_HINT = "Bấm “Gửi” để gửi báo cáo, hoặc “Sửa” để sửa một mục."
SUMMARY_HINT_TYPED = (
    "Gõ “gửi” để gửi báo cáo, “sửa” để sửa một mục, “quay lại” để về mục trước, “hủy” để dừng."
)
SUMMARY_NUDGE = "Báo cáo chưa được gửi."
EXISTING = (
    "Chi bộ đã gửi báo cáo văn bản {number} lúc {time} (mã {ref}). Đồng chí có thể sửa rồi gửi lại: "
    "bản mới sẽ thay bản cũ, bản cũ vẫn được lưu."
)
PICK = "Chọn mục cần sửa (bấm hoặc gõ số thứ tự):"
PICK_TYPED = "Chọn mục cần sửa, gõ số thứ tự:"
PICK_LINE = "{index}. {label}"
PICK_NAV_TYPED = "Gõ “quay lại” để về bản tóm tắt, “hủy” để dừng."
VALUE_SKIPPED = "(bỏ qua)"
VALUE_PHOTOS = "{count} ảnh"
VALUE_RATIO = "{attended}/{total}"
VALUE_ATTENDANCE = (
    "{official} chính thức, {probationary} dự bị, {exempt} miễn sinh hoạt, vắng {excused} có lý do, "
    "{unexcused} không lý do – có mặt {present}/{expected} ({rate})"
)
ATTENDANCE_KEYS = ("official", "probationary", "exempt", "excused", "unexcused")
VALUE_TEXT_LIMIT = 300

# --- quick (one-message) reports --------------------------------------------------------------------------

QUICK_UNDERSTOOD = "Tôi đã hiểu báo cáo văn bản {number}:"
QUICK_NOTHING = "Tôi chưa đọc được mục nào trong tin nhắn cho văn bản {number}."
QUICK_FOLLOW_UP = "Tôi sẽ hỏi lần lượt {count} mục còn lại."

# --- choosing the directive -------------------------------------------------------------------------------

CHOOSE = "Đồng chí có {count} văn bản đang chờ báo cáo. Báo cáo này cho văn bản nào? Bấm hoặc gõ số thứ tự:"
CHOOSE_TYPED = "Đồng chí có {count} văn bản đang chờ báo cáo. Báo cáo này cho văn bản nào? Gõ số thứ tự:"
CANCEL_HINT_TYPED = "Gõ “hủy” để dừng."
CHOOSE_LINE = "{index}. {number} ({date}) – {subject}{status}"
CHOOSE_LINE_UNIT = "{index}. {number} – {unit}{status}"
CHOOSE_REPORTED = " – đã báo cáo"
CHOOSE_TIP = "Lần sau có thể ghi số văn bản ở đầu tin nhắn, ví dụ: {example}"
CHOOSE_AGAIN = "Chưa rõ đồng chí chọn văn bản nào."
NO_NUMBER = "(chưa có số)"

# --- receipt ----------------------------------------------------------------------------------------------

RECEIPT = "✅ Đã nhận báo cáo văn bản {number} của {unit} lúc {time}.\nMã biên nhận: {ref}"
RECEIPT_VERSION = "Đây là bản thứ {version}, thay cho bản trước (các bản trước vẫn được lưu)."
RECEIPT_LATE = "⚠️ Hạn báo cáo là {deadline}; báo cáo này được ghi nhận là nộp muộn."
RECEIPT_CONTENT = "Nội dung đã ghi:"
RECEIPT_EDIT_HINT = "Nếu cần sửa, bấm “Sửa báo cáo” hoặc gửi lại cả báo cáo trong một tin nhắn."
RECEIPT_EDIT_HINT_TYPED = "Nếu cần sửa, gõ “sửa” hoặc gửi lại cả báo cáo trong một tin nhắn."

# --- refusals and endings ---------------------------------------------------------------------------------

NO_OPEN = "Hiện không có văn bản nào đang chờ chi bộ của đồng chí báo cáo."
NOT_OPEN = "Văn bản {number} không còn nhận báo cáo."
SESSION_GONE = (
    "Phiên báo cáo này đã kết thúc. Bấm “📝 Báo cáo” trên văn bản, hoặc gõ “báo cáo”, để bắt đầu lại."
)
SESSION_GONE_TYPED = "Phiên báo cáo này đã kết thúc. Gõ “báo cáo” để bắt đầu lại."
CANCELLED = "Đã hủy, chưa gửi gì thêm. Bấm “📝 Báo cáo” trên văn bản, hoặc gõ “báo cáo”, khi cần báo cáo lại."
CANCELLED_TYPED = "Đã hủy, chưa gửi gì thêm. Gõ “báo cáo” khi cần báo cáo lại."
CANCELLED_KEPT = "Báo cáo đã gửi trước đó (mã {ref}) vẫn giữ nguyên."
REQUIRED_LEFT = "Còn mục bắt buộc chưa trả lời: {labels}."
PHOTO_ADDED = "📷 Đã nhận ảnh (tổng {count} ảnh), sẽ gửi kèm báo cáo."
PHOTO_ADDED_SUMMARY = "📷 Đã thêm ảnh (tổng {count} ảnh). Bấm “Gửi” để cập nhật báo cáo."
PHOTO_ADDED_SUMMARY_TYPED = "📷 Đã thêm ảnh (tổng {count} ảnh). Gõ “gửi” để cập nhật báo cáo."
PHOTO_NO_FIELD = "Mẫu báo cáo của văn bản {number} không có mục ảnh, nên ảnh này chưa được lưu."
PHOTO_TOO_MANY = "Mỗi báo cáo nhận tối đa {max} ảnh; ảnh này chưa được lưu."
PHOTO_DOWNLOAD_FAILED = "Không tải được ảnh, có thể do đường truyền yếu. Đồng chí vui lòng gửi lại ảnh."
PHOTO_TOO_LARGE = "Ảnh quá lớn ({size} MB); giới hạn là {limit} MB. Hãy gửi ảnh nhỏ hơn."
NOT_A_PHOTO = "Chỉ nhận ảnh làm minh chứng. Hãy gửi ảnh chụp, không gửi tệp tài liệu."


# --- rendering --------------------------------------------------------------------------------------------


def render_value(kind: str, value: Any) -> str:
    """A stored answer of a field of type `kind` as the secretary reads it back: dd/mm/yyyy, 1.234, 25/30, 3 ảnh."""
    if value is None or value == [] or value == "":
        return VALUE_SKIPPED
    if kind == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if kind == "number" and isinstance(value, int):
        return format_number(value)
    if kind == "ratio" and isinstance(value, Mapping):
        return VALUE_RATIO.format(
            attended=format_number(int(value.get("attended", 0))),
            total=format_number(int(value.get("total", 0))),
        )
    if kind == "attendance" and isinstance(value, Mapping):
        return attendance_text(value)
    if kind == "photo" and isinstance(value, list):
        return VALUE_PHOTOS.format(count=len(value))
    text = " ".join(str(value).split())
    return text if len(text) <= VALUE_TEXT_LIMIT else text[: VALUE_TEXT_LIMIT - 1].rstrip() + "…"


def attendance_text(value: Mapping[str, Any]) -> str:
    """ "25 chính thức, 3 dự bị, miễn 2, vắng 1 có lý do, 0 không lý do – có mặt 25/26 (96,2%)" """
    parts = {key: int(value.get(key) or 0) for key in ATTENDANCE_KEYS}
    present = int(value.get("present") or 0)  # derived when the answer was read (bot.services.attendance)
    expected = present + parts["excused"] + parts["unexcused"]
    return VALUE_ATTENDANCE.format(
        **{key: format_number(number) for key, number in parts.items()},
        present=format_number(present),
        expected=format_number(expected),
        rate=format_percent(present / expected if expected > 0 else None),
    )


def value_lines(items: Sequence[tuple[int, str, str, Any]]) -> list[str]:
    """Numbered summary lines from (number, label, field type, stored answer)."""
    return [
        SUMMARY_LINE.format(index=index, label=label, value=render_value(kind, value))
        for index, label, kind, value in items
    ]
