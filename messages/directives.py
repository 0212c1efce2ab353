"""Texts of directive intake (the board's preview and choices), the card a cell receives, sending progress, and
the secretary's list of directives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from messages import formats
from messages.documents import DOC_TYPE_NAMES

MISSING = "— chưa tìm thấy"

FIELD_LABELS: dict[str, str] = {
    "number": "Số, ký hiệu",
    "parent_body": "Cơ quan cấp trên",
    "issuer": "Cơ quan ban hành",
    "place": "Địa danh",
    "issued_on": "Ngày ban hành",
    "subject": "Trích yếu",
    "recipients": "Kính gửi",
    "cited": "Căn cứ, văn bản liên quan",
    "materials": "Tài liệu kèm theo",
    "period": "Thời gian cao điểm",
    "deadline": "Hạn báo cáo",
    "schedule": "Định kỳ báo cáo",
    "signer": "Người ký",
}

EDIT_PROMPTS: dict[str, str] = {
    "number": "Gõ số, ký hiệu đúng của văn bản, ví dụ: 747-CV/ĐUK",
    "parent_body": "Gõ tên cơ quan cấp trên, ví dụ: ĐẢNG BỘ TỈNH LAI CHÂU",
    "issuer": "Gõ tên cơ quan ban hành, ví dụ: ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
    "place": "Gõ địa danh, ví dụ: Lai Châu",
    "issued_on": "Gõ ngày ban hành, ví dụ: 03/4/2024",
    "subject": "Gõ trích yếu (nội dung chính) của văn bản.",
    "recipients": "Gõ nơi nhận (Kính gửi), ví dụ: Các chi, đảng bộ cơ sở",
    "cited": "Gõ các văn bản căn cứ, mỗi văn bản một dòng, ví dụ: Công văn 1787-CV/TU ngày 01/3/2024",
    "materials": "Gõ các tài liệu kèm theo, mỗi tài liệu một dòng.",
    "period": "Gõ thời gian cao điểm dạng «từ ngày - đến ngày», ví dụ: 01/5/2024 - 07/5/2024",
    "deadline": "Gõ hạn báo cáo, ví dụ: 30/10/2024",
    "schedule": "Gõ lịch báo cáo định kỳ, ví dụ: «hằng tháng 25», «hằng quý 31/3», «hằng năm 15/6 15/12», "
    "hoặc «một lần» nếu chỉ báo cáo một lần",
    "signer": "Gõ người ký, ví dụ: Phó Bí thư Lý Công Hà",
}

PREVIEW_TITLE = "📄 Văn bản tôi đọc được — đồng chí kiểm tra và sửa nếu cần:"
PREVIEW_FILES = "Tệp sẽ gửi kèm ({count}): {names}"
PREVIEW_NO_FILES = "Chưa có tệp gửi kèm. Đồng chí có thể gửi thêm tài liệu vào đây."
PREVIEW_FORM = "Mẫu báo cáo: {title}"
PREVIEW_CODE = "Mã nội bộ: {code}"
PREVIEW_SUBJECT_HINT = "💡 Gợi ý trích yếu (chưa dùng): «{hint}»"
DEADLINE_AT_PERIOD_END = "khi kết thúc đợt (đồng chí cần xác nhận một ngày cụ thể)"
DEADLINE_YEARLY = "{date} (hằng năm)"
DEADLINE_COMPLETION = "; hạn hoàn thành công việc: {dates}"
DEADLINE_UNCONFIRMED = " ⚠️ chưa xác nhận"
DEADLINE_CONFIRMED = " ✅"

BUTTON_EDIT = "✏️ {label}"
BUTTON_CONFIRM_DEADLINE = "✅ Xác nhận hạn {date}"
BUTTON_NEXT = "➡️ Tiếp tục: chọn nơi nhận"
BUTTON_CANCEL = "❌ Hủy văn bản này"
BUTTON_USE_HINT = "💡 Dùng trích yếu gợi ý"
BUTTON_ALL_CELLS = "🌐 Tất cả chi bộ trong phạm vi"
BUTTON_TYPE_CODES = "⌨️ Nhập mã đơn vị"
BUTTON_SEND = "📤 Gửi ngay"
BUTTON_BACK = "⬅️ Quay lại xem văn bản"
BUTTON_PICKED = "☑️ {name} ({cells})"
BUTTON_UNPICKED = "⬜ {name} ({cells})"

ASK_EDIT = "{prompt}\n(Gõ «hủy» để thôi sửa.)"
EDIT_BAD_DATE = "Ngày chưa đúng. {prompt}"
EDIT_BAD_PERIOD = "Thời gian chưa đúng. {prompt}"
EDIT_EMPTY = "Nội dung trống. {prompt}"
EDIT_SAVED = "Đã sửa {label}."
DEADLINE_CONFIRMED_TEXT = "Đã xác nhận hạn báo cáo {date}."
NEED_DEADLINE = (
    "Văn bản cần có hạn báo cáo đã xác nhận trước khi gửi. Chọn «✅ Xác nhận hạn» hoặc «✏️ Hạn báo cáo»."
)
DEADLINE_IN_PAST = "Hạn báo cáo {date} đã qua. Đồng chí gõ một ngày từ hôm nay trở đi."
NEED_SUBJECT = "Văn bản chưa có trích yếu. Đồng chí chọn «✏️ Trích yếu» để gõ."
NEED_SUBJECT_HINT = "Văn bản chưa có trích yếu. Đồng chí chọn «✏️ Trích yếu» để gõ, hoặc «💡 Dùng trích yếu gợi ý» nếu gợi ý đúng."
HINT_TAKEN = "Đã dùng trích yếu gợi ý."
STALE = "Nút đó thuộc một tin cũ, văn bản nháp đã thay đổi từ đó. Đồng chí xem và bấm trên tin hiện tại:"

REPEAT_FOUND = (
    "⚠️ Văn bản số {number} ngày {date} đã được gửi trước đây ({count} văn bản). "
    "Để không có hai văn bản trùng số, đồng chí chọn:"
)
REPEAT_LINE = "• {code}: gửi {sent} tới {cells} chi bộ, đã báo cáo {reported}"
BUTTON_REPEAT_ADD = "➕ Gửi thêm {code} tới chi bộ đã chọn"
BUTTON_REPEAT_REPLACE = "♻️ Đính chính, thay thế {code}"
BUTTON_REPEAT_NEW = "🆕 Là văn bản khác, gửi riêng"
ADDED = "📤 Đã xếp lịch gửi văn bản {number} ({code}) tới {cells} chi bộ chưa nhận; báo cáo vẫn chung một văn bản."
ADDED_NONE = "Các chi bộ đã chọn đều đã nhận văn bản {number} ({code}); không gửi thêm gì."
REPLACED = (
    "📤 Đã xếp lịch gửi bản đính chính {number} ({code}) tới {cells} chi bộ. Văn bản cũ {old} thôi theo dõi; "
    "báo cáo các chi bộ đã gửi được giữ và tính cho bản đính chính."
)

ASK_FORM = "Chọn mẫu báo cáo các chi bộ sẽ gửi lên cho văn bản này:"
FORM_CHOSEN = "Mẫu báo cáo: {title}."

ASK_AUDIENCE = (
    "Chọn nơi nhận: «Tất cả chi bộ», hoặc từng đơn vị để chọn/bỏ chọn (gửi tới mọi chi bộ trực thuộc), "
    "hoặc «Nhập mã đơn vị» để gõ danh sách mã."
)
ASK_CODES = "Gõ mã các đơn vị nhận, cách nhau bởi dấu phẩy hoặc xuống dòng, ví dụ: DUK-STC, DUK-SYT-BV"
CODES_UNKNOWN = "Không tìm thấy hoặc ngoài phạm vi của đồng chí: {codes}. Đồng chí gõ lại mã đúng."
AUDIENCE_SUMMARY = (
    "Sẽ gửi tới {cells} chi bộ ({people} bí thư đã kết nối). "
    "{unregistered} chi bộ có bí thư chưa kết nối: sẽ nhận văn bản ngay khi kết nối."
)
CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "zalo_oa": "Zalo OA"}
AUDIENCE_DIRECT = (
    "Chi bộ nhận trực tiếp: {people} bí thư đã kết nối; {unregistered} chi bộ có bí thư chưa kết nối sẽ nhận văn bản "
    "ngay khi kết nối."
)
FORECAST_HEAD = "Dự kiến chi phí gửi:"
FORECAST_FREE_CHANNEL = "• {channel}: {count} bí thư, miễn phí."
FORECAST_CHANNEL = (
    "• {channel}: {free} bí thư miễn phí (đã tương tác trong 48 giờ) · {quota} dùng hạn mức tin của tháng · "
    "{paid} tin trả phí (khoảng {vnd} đồng) · chưa gửi được lúc này: {silent} quá 7 ngày không tương tác, "
    "{not_following} đã bỏ quan tâm OA."
)
FORECAST_HELD_HINT = (
    "Văn bản tới những bí thư chưa gửi được lúc này được giữ lại và tự động gửi ngay khi họ nhắn cho OA."
)
AUDIENCE_EMPTY = "Chưa chọn chi bộ nào. Đồng chí chọn ít nhất một đơn vị."
NOT_IN_SCOPE = "Đồng chí chưa được giao phạm vi đơn vị nào. Liên hệ quản trị hệ thống."

QUEUED = "📤 Đã xếp lịch gửi văn bản {number} tới {cells} chi bộ. Mã nội bộ: {code}."
CANCELLED = "Đã hủy văn bản nháp."
DRAFT_GONE = "Văn bản nháp này không còn. Đồng chí gửi lại tệp văn bản để bắt đầu."

FILE_ADDED = "📎 Đã thêm tài liệu: {name}"
PAGE_ADDED = "📄 Đã thêm trang {pages}. Tôi đã đọc lại cả {pages} trang của văn bản."
PAGE_CAP = (
    "Văn bản nháp đã đủ {pages} trang ảnh, tôi không nhận thêm trang. Đồng chí sửa các mục trên văn bản nháp, "
    "hoặc gửi tệp PDF qua Zalo OA của Chibo hay lệnh «chibo directive send» trên máy tính."
)
FILE_NOT_RECEIVED = (
    "Zalo không chuyển tệp PDF, Word cho tôi. Để gửi văn bản mới, đồng chí chọn một cách:\n"
    "• Dán nội dung văn bản vào một tin nhắn;\n"
    "• Chụp ảnh từng trang rồi gửi lần lượt từng ảnh;\n"
    "• Gửi tệp qua Zalo OA của Chibo, hoặc lệnh «chibo directive send» trên máy tính."
)
FILE_TOO_LARGE = (
    "Tệp {name} quá lớn ({size} MB). Chỉ nhận tệp tối đa {limit} MB; đồng chí nén hoặc chia nhỏ rồi gửi lại."
)
CLASSIFIED = (
    "⛔ Văn bản này có độ mật «{grade}». Văn bản mật không được gửi qua Zalo, Telegram hay ứng dụng nhắn tin "
    "nào; tôi không nhận và không lưu văn bản này. Đồng chí chuyển văn bản theo đường văn thư mật của cơ quan."
)
FILE_DOWNLOAD_FAILED = "Không tải được tệp {name} từ máy chủ Telegram. Đồng chí gửi lại giúp."
TEXT_TOO_SHORT = "Nội dung quá ngắn để là một văn bản. Đồng chí gửi tệp DOCX/PDF hoặc dán toàn văn."

PROGRESS = (
    "📤 Đang gửi văn bản {number}\n"
    "Đã gửi: {sent}/{total}\n"
    "Lỗi: {failed} · Chặn bot: {blocked} · Chờ bí thư nhắn lại: {held} · Chưa kết nối: {unregistered}\n"
    "Còn lại khoảng: {eta}"
)
FINAL = "✅ Đã gửi xong văn bản {number}: {sent}/{total} chi bộ đã nhận."
FINAL_PROBLEMS = "Chưa gửi được tới {count} chi bộ:"
FINAL_LINE = "• {unit} – {secretary}: {reason}"
FINAL_COSTS = (
    "Chi phí: {free} tin miễn phí · {quota} tin dùng hạn mức tháng · {paid} tin trả phí (khoảng {vnd} đồng)."
)
REASONS = {
    "blocked": "bí thư đã chặn bot hoặc bỏ quan tâm OA",
    "held": "chưa nhắn được vì bí thư lâu không tương tác với OA; văn bản được giữ và sẽ tự gửi khi bí thư nhắn lại",
    "failed": "lỗi gửi ({error})",
    "unregistered": "bí thư chưa kết nối",
    "no_secretary": "chưa có bí thư trong danh sách",
}
NO_NAME = "chưa có tên"

# -- the secretary's side ------------------------------------------------------------------------------------

CARD = "📄 VĂN BẢN MỚI: {kind} số {number} ngày {date}\n{subject}"
CARD_CORRECTION = (
    "♻️ ĐÍNH CHÍNH: văn bản này thay thế văn bản {number} đã gửi trước đây. "
    "Báo cáo chi bộ đã gửi vẫn được giữ; nếu cần, đồng chí sửa báo cáo theo bản đính chính."
)
CARD_DEADLINE = "⏰ Hạn báo cáo: {deadline}"
CARD_PERIOD = "📅 Thời gian cao điểm: {start} – {end}"
# The card goes to every channel alike, so it names the choices without saying how to make them (press or type).
CARD_TODO = "Việc cần làm: tổ chức thực hiện; chọn «Đã nhận» khi đã nhận văn bản và «Báo cáo» để gửi kết quả."
CARD_QUICK = "Báo cáo nhanh trong một tin nhắn: {template}"
CARD_FILES = "Tài liệu kèm theo: {count} tệp (ở các tin tiếp theo)."
BUTTON_ACK = "✅ Đã nhận"
BUTTON_REPORT = "📝 Báo cáo"
ACK_RECORDED = "✅ Đã ghi nhận đồng chí đã nhận văn bản {number} lúc {time}."
ACK_ALREADY = "Đồng chí đã xác nhận nhận văn bản {number} lúc {time} rồi."
NOT_A_TARGET = "Văn bản này không gửi tới chi bộ của đồng chí."

LIST_TITLE = "📚 Văn bản đã nhận (mới nhất trước):"
LIST_LINE = "{i}. {number} ({date}) – {subject}{status}"
LIST_REPORTED = " ✅ đã báo cáo"
LIST_ACKED = " · đã nhận"
LIST_EMPTY = "Chi bộ của đồng chí chưa nhận văn bản nào."
LIST_HINT = "Bấm một văn bản để nhận lại tệp."
LIST_HINT_TYPED = "Gõ số thứ tự của văn bản để nhận lại tệp."
BUTTON_RESEND = "{number}"
RESENDING = "Đang gửi lại văn bản {number} và tài liệu kèm theo."

KINDS = DOC_TYPE_NAMES
KIND_DEFAULT = "Văn bản"


def day(value: date | None) -> str:
    return formats.day(value, MISSING)


def eta(seconds: float | None) -> str:
    if seconds is None:
        return "đang tính"
    if seconds < 60:
        return f"{max(1, round(seconds))} giây"
    return f"{round(seconds / 60)} phút"


def preview(
    fields: Mapping[str, str | None],
    files: Sequence[str],
    form_title: str | None,
    *,
    code: str | None = None,
    subject_hint: str | None = None,
) -> str:
    lines = [PREVIEW_TITLE]
    for key, label in FIELD_LABELS.items():
        lines.append(f"• {label}: {fields.get(key) or MISSING}")
        if key == "subject" and subject_hint and not fields.get(key):
            lines.append(PREVIEW_SUBJECT_HINT.format(hint=subject_hint))
    lines.append(
        PREVIEW_FILES.format(count=len(files), names=", ".join(files)) if files else PREVIEW_NO_FILES
    )
    if form_title:
        lines.append(PREVIEW_FORM.format(title=form_title))
    if code:
        lines.append(PREVIEW_CODE.format(code=code))
    return "\n".join(lines)


CITED_DATE = "ngày {date}"  # after a cited document's number in the preview


def money(vnd: int) -> str:
    """An amount of đồng: 12.345."""
    return formats.format_number(vnd)
