"""Vietnamese texts of the board's view: directive status, missing units, reminders and escalations, the daily
summary, exports, and the refusals of the board commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from messages.formats import format_number, format_percent

# --- Shared renderings ------------------------------------------------------------------------------------


def share(part: int, whole: int) -> str:
    """ "3/5 (60%)" """
    rate = part / whole if whole > 0 else None
    return f"{format_number(part)}/{format_number(whole)} ({format_percent(rate)})"


def days_left(deadline: date | None, today: date) -> str:
    if deadline is None:
        return NO_DEADLINE
    left = (deadline - today).days
    if left > 0:
        return DAYS_LEFT.format(days=left)
    if left == 0:
        return DUE_TODAY
    return OVERDUE_DAYS.format(days=-left)


NO_DEADLINE = "chưa có hạn báo cáo"
# A cell merged since into another (bot/services/status/snapshot.py): its report kept under its own name.
CARRIED_ROW = "{name} (nay là {successor})"
DAYS_LEFT = "còn {days} ngày"
DUE_TODAY = "hạn là hôm nay"
OVERDUE_DAYS = "đã quá hạn {days} ngày"

# The counting noun of a form field in sentences, by field key.
FIELD_UNITS: dict[str, str] = {
    "dang_vien": "đồng chí",
    "quan_chung": "người",
    "so_hoat_dong": "hoạt động",
    "luot_tham_gia": "lượt người",
    "so_tin_bai": "tin, bài",
    "tuong_tac": "lượt",
}

# Free-text fields are sorted into the report's sections by words of their label, compared without diacritics.
HIGHLIGHT_WORDS = ("ket qua", "noi bat", "cach lam", "kinh nghiem")
DIFFICULTY_WORDS = ("kho khan", "han che", "vuong mac", "ton tai")
RECOMMENDATION_WORDS = ("kien nghi", "de xuat", "de nghi")
# In a field asking for both ("Khó khăn, kiến nghị"), a sentence with one of these words is a recommendation.
RECOMMENDATION_SENTENCE_WORDS = ("kien nghi", "de nghi", "de xuat", "mong muon", "mong cap tren", "xin ")

# --- Refusals and lookups ---------------------------------------------------------------------------------

NOT_IN_SCOPE = "Đồng chí chưa được giao phạm vi đơn vị nào. Liên hệ quản trị hệ thống."
NEED_NUMBER = "Đồng chí gõ kèm số văn bản hoặc mã nội bộ, ví dụ: /{command} 747 hoặc /{command} #12"
NOT_FOUND = "Không tìm thấy văn bản nào có số «{query}» trong phạm vi của đồng chí."
NOT_FOUND_HINT = "Các văn bản gần đây: {numbers}. Ví dụ: /{command} {example}"
NOT_FOUND_NONE = "Phạm vi của đồng chí chưa có văn bản nào đã gửi."
AMBIGUOUS = "Có {count} văn bản khớp «{query}». Đồng chí chọn một văn bản:"
CANDIDATE = "{number} ({date}) · {code}"
RECENT = "{number} ({code})"
GONE = "Văn bản này không còn hoặc không thuộc phạm vi của đồng chí."

# --- /tinhhinh ----------------------------------------------------------------------------------------------

LIST_TITLE = "📋 Văn bản đang theo dõi ({count}):"
LIST_LINE = "{index}. {number} ({date}) – {deadline}: đã báo cáo {progress} · {code}"
LIST_DEADLINE = "hạn {date}"
LIST_NO_DEADLINE = "chưa có hạn"
LIST_HINT = "Bấm một văn bản để xem chi tiết, hoặc gõ /tinhhinh 747."
LIST_EMPTY = "Chưa có văn bản nào đang theo dõi trong phạm vi của đồng chí."
LIST_MORE = "… và {count} văn bản khác; gõ /tinhhinh kèm số văn bản để xem."

STATUS_TITLE = "📊 TÌNH HÌNH THỰC HIỆN {kind} SỐ {number} ({code})"
STATUS_SUBJECT = "{subject}"
STATUS_DEADLINE = "Hạn báo cáo: {date} ({left})"
STATUS_NO_DEADLINE = "Hạn báo cáo: chưa có"
STATUS_SCOPE = "Phạm vi: {names}"
STATUS_TARGETED = "Chi bộ được giao: {count}"
# A directive handed down: its figures count the cells under the lower boards' re-issues; its list of missing
# cells (and the reminder button) stays the cells it reached itself.
STATUS_THROUGH_BELOW = "Số liệu gồm cả chi bộ nhận qua {count} văn bản ban hành lại của cấp dưới."
STATUS_DELIVERED = "Đã nhận văn bản: {delivered} · đã bấm «Đã nhận»: {acknowledged}"
STATUS_REPORTED = "✅ Đã báo cáo: {progress} – đúng hạn {on_time}, muộn {late}"
STATUS_NOT_REPORTED = "⏳ Chưa báo cáo: {count}"
STATUS_UNREACHED = "🚫 Chưa kết nối: {unregistered} · chặn bot hoặc lỗi gửi: {blocked}"
STATUS_ESCALATED = "⚠️ Quá hạn trên {days} ngày, đã báo bí thư cấp trên: {count}"
STATUS_FIGURES = "Số liệu từ báo cáo:"
STATUS_BY_SUBTREE = "Theo đơn vị:"
SUBTREE_LINE = "• {name}: {progress}"
SUBTREE_MORE = "• … và {count} đơn vị khác"

MISSING_TITLE = "Chưa báo cáo ({count}) – trang {page}/{pages}:"
MISSING_LINE = "{index}. {unit}{parent} – {secretary}{phone}{state}"
MISSING_PARENT = " ({parent})"
MISSING_PHONE = " ☎ {phone}"
MISSING_NO_SECRETARY = "chưa có bí thư"
MISSING_STATES: dict[str, str] = {
    "acknowledged": " · đã bấm «Đã nhận»",
    "delivered": " · đã nhận, chưa xác nhận",
    "pending": " · đang gửi",
    "blocked": " · đã chặn bot hoặc lỗi gửi",
    "unregistered": " · bí thư chưa kết nối",
}
MISSING_NONE = "🎉 Tất cả chi bộ đã báo cáo."
MISSING_OWN_TITLE = "Chi bộ nhận trực tiếp chưa báo cáo ({count}) – trang {page}/{pages}:"
MISSING_OWN_NONE = "Chi bộ nhận trực tiếp: không còn chi bộ nào chưa báo cáo."
BUTTON_PREVIOUS = "◀️ Trang trước"
BUTTON_NEXT = "Trang sau ▶️"
BUTTON_NUDGE = "🔔 Nhắc chi bộ chưa báo cáo"
BUTTON_EXPORT = "📊 Xuất Excel"
BUTTON_REPORT = "📝 Dự thảo báo cáo"

# Figures of a form, in one line each.
FIGURE_SESSIONS = "• Số báo cáo đã nhận: {count}"
FIGURE_SESSIONS_STUDY = "• Số buổi sinh hoạt đã tổ chức: {count}"
FIGURE_NUMBER = "• {label}: {value}{unit}"
FIGURE_RATIO = "• {label}: {attended}/{total}{unit} ({rate})"
FIGURE_CHOICE = "• {label}: {parts}"

# A rapid report (báo cáo nhanh), pushed to the board as soon as it is stored.
RAPID_TITLE = "🚨 BÁO CÁO NHANH từ {unit} lúc {time}"
RAPID_DIRECTIVE = "Theo văn bản số {number} – {title} (mã {ref})"
RAPID_LINE = "• {label}: {value}"
FIGURE_ATTENDANCE = (
    "• {label}: có mặt {present}/{expected} đồng chí phải dự ({rate}); {official} chính thức, "
    "{probationary} dự bị, {exempt} miễn sinh hoạt (không tính vắng); vắng {excused} có lý do, "
    "{unexcused} không lý do"
)
FIGURE_CHOICE_PART = "{option} {count}"
FIGURE_CHOICE_JOINER = "; "

# --- /nhacnho -----------------------------------------------------------------------------------------------

NUDGE_SENT = "🔔 Đã nhắc {count} chi bộ chưa báo cáo văn bản {number}."
NUDGE_DEFERRED = "🔔 Đã xếp lịch nhắc {count} chi bộ chưa báo cáo văn bản {number}; tin sẽ được gửi lúc {time} (ngoài giờ nghỉ)."
NUDGE_ALREADY = "Đã nhắc hôm nay, không nhắc lại: {count} chi bộ."
NUDGE_UNREACHABLE = "Không nhắc được qua ứng dụng ({count} chi bộ, cần gọi điện):"
NUDGE_UNREACHABLE_LINE = "• {unit} – {secretary}{phone}"
NUDGE_UNREACHABLE_MORE = "• … và {count} chi bộ khác (xem /tinhhinh {number})"
NUDGE_NOTHING = "Tất cả chi bộ trong phạm vi của đồng chí đã báo cáo văn bản {number}, không cần nhắc."
POLICY_OFF = "🔕 Đã tắt nhắc nhở tự động cho văn bản {number}. Gõ /nhacnho {query} bật để bật lại."
POLICY_ON = "🔔 Đã bật lại nhắc nhở tự động cho văn bản {number}."
POLICY_UNKNOWN = "Không có tùy chọn nhắc nhở «{name}». Các tùy chọn: {options}."
POLICY_BAD = "Giá trị «{value}» của tùy chọn nhắc nhở «{name}» không hợp lệ."

# --- Reminders and escalation -------------------------------------------------------------------------------

REMINDER_TITLES: dict[str, str] = {
    "before": "⏰ NHẮC BÁO CÁO: còn {days} ngày đến hạn",
    "due": "⏰ NHẮC BÁO CÁO: hôm nay là hạn báo cáo",
    "overdue": "❗ ĐÔN ĐỐC BÁO CÁO: đã quá hạn {days} ngày",
    "manual": "🔔 BAN TUYÊN GIÁO NHẮC BÁO CÁO",
}
REMINDER_BODY = (
    "{kind} số {number} ngày {date}: {subject}\nHạn báo cáo: {deadline} ({left}).\n{unit} chưa gửi «{form}»."
)
REMINDER_FIELDS = "Cần báo cáo: {fields}."
REMINDER_OPTIONAL = " (không bắt buộc)"
REMINDER_QUICK = "Báo cáo nhanh trong một tin nhắn: {template}"
# A reminder goes to every channel alike: it names the choice without saying how to make it (press or type).
REMINDER_ACTION = "Chọn «📝 Báo cáo» để gửi ngay."
REMINDER_BUTTON = "📝 Báo cáo"
REMINDER_FORM_DEFAULT = "báo cáo kết quả thực hiện"

ESCALATION = (
    "⚠️ ĐỀ NGHỊ ĐÔN ĐỐC: {count} chi bộ trực thuộc {parent} chưa báo cáo {kind} số {number} "
    "(hạn {deadline}, {left}):"
)
ESCALATION_LINE = "• {unit} – {secretary}{phone}"
ESCALATION_ACTION = "Đề nghị đồng chí nhắc các chi bộ báo cáo sớm qua ứng dụng hoặc gửi báo cáo bằng văn bản."

# --- Daily summary ------------------------------------------------------------------------------------------

SUMMARY_TITLE = "🗓 TỔNG HỢP NGÀY {date}"
SUMMARY_SCOPE = "Phạm vi: {names}"
SUMMARY_NONE = "Chưa có văn bản nào đang theo dõi trong phạm vi của đồng chí."
SUMMARY_DIRECTIVE = "{index}. {number} – {subject}"
SUMMARY_DEADLINE = "   Hạn: {date} ({left})"
SUMMARY_PROGRESS = "   Đã báo cáo: {progress}; {change}"
SUMMARY_THROUGH_BELOW = "   Gồm cả chi bộ nhận qua {count} văn bản ban hành lại của cấp dưới."
SUMMARY_CHANGE = "tăng {count} đơn vị so với hôm qua ({before} → {now})"
SUMMARY_NO_CHANGE = "không có báo cáo mới so với hôm qua"
SUMMARY_BREAKDOWN = (
    "   Đúng hạn {on_time} · muộn {late} · chưa báo cáo {missing} · chưa kết nối {unregistered}"
)
SUMMARY_FIGURE = "   {line}"
SUMMARY_QUOTES_TITLE = "💬 Khó khăn, kiến nghị nhận trong ngày:"
SUMMARY_QUOTE = "• {unit} ({number}): “{text}”"
SUMMARY_QUOTES_MORE = "• … và {count} ý kiến khác (xem /baocao)"
SUMMARY_OVERDUE_TITLE = "❗ Chi bộ quá hạn chưa báo cáo:"
SUMMARY_OVERDUE = "• {number} ({left}): {units}"
SUMMARY_OVERDUE_UNIT = "{unit}"
SUMMARY_OVERDUE_ESCALATED = "{unit} (đã báo cấp trên)"
SUMMARY_OVERDUE_MORE = " … và {count} chi bộ khác"
SUMMARY_MORE = "… và {count} văn bản khác; gõ /tinhhinh để xem danh sách."
SUMMARY_CHART = "📈 Tiến độ báo cáo {scope}"
SUMMARY_CHART_BY_DIRECTIVE = "theo văn bản"
SUMMARY_CHART_BY_SUBTREE = "văn bản {number} theo đơn vị"

# --- Exports ------------------------------------------------------------------------------------------------

EXPORT_CAPTION = "📊 Kết quả thực hiện {number}: {reported} chi bộ đã báo cáo."
REPORT_CAPTION = (
    "📝 Dự thảo báo cáo kết quả thực hiện {number}. Đồng chí kiểm tra, chỉnh sửa, điền những chỗ tô vàng (nếu có) "
    "rồi trình ký."
)
# The report's number from the board's document register (sổ văn bản), numbered from 01 each committee term.
NUMBER_PROPOSED = (
    "🔢 Số đề xuất cho báo cáo này: {symbol} (sổ văn bản nhiệm kỳ {term}). Bấm «Lấy số» hoặc gõ "
    "«lấy số {number}» để ghi số này vào sổ; muốn dùng số khác, gõ «lấy số {number} 05» (thay 05 bằng số cần dùng)."
)
BUTTON_TAKE_NUMBER = "🔢 Lấy số {symbol}"
NUMBER_STARTED = "⏳ Đang ghi số báo cáo về văn bản {number} vào sổ…"
NUMBER_RECORDED = "✅ Đã ghi số {symbol} vào sổ văn bản nhiệm kỳ {term}. Dự thảo ở trên đã mang số này."
NUMBER_ALREADY = "Báo cáo này đã có số {symbol} trong sổ; dự thảo ở trên mang số đó."
NUMBER_TAKEN = (
    "Số {symbol} đã dùng cho văn bản khác trong sổ. Gõ «lấy số {number}» để lấy số kế tiếp, "
    "hoặc «lấy số {number} <số khác>»."
)
NUMBER_NO_ISSUER = (
    "Văn bản {number} không có ký hiệu cơ quan ban hành (ví dụ ĐUK), nên chưa ghi được số báo cáo vào sổ. "
    "Đồng chí ghi số trực tiếp trên dự thảo."
)
NUMBER_OUT_OF_RANGE = "Số báo cáo là một số từ 1 đến 9999, ví dụ: «lấy số 747 05»."
EXPORT_STARTED = "⏳ Đang tạo tệp Excel kết quả thực hiện {number}, đồng chí chờ trong giây lát…"
REPORT_STARTED = "⏳ Đang soạn dự thảo báo cáo tổng hợp {number}, đồng chí chờ trong giây lát…"
EXPORT_FAILED = "Chưa tạo được tệp. Đồng chí thử lại sau ít phút."
XLSX_NAME = "ket-qua-{number}-{date}.xlsx"
DOCX_NAME = "du-thao-bao-cao-{number}-{date}.docx"
CHART_NAME = "tien-do-{date}.png"

# --- CLI --------------------------------------------------------------------------------------------------

CLI_WRITTEN = "Đã ghi {path}."
CLI_REGISTER_EMPTY = "Sổ văn bản chưa có số nào. / The register holds no number yet."
CLI_REGISTER_HEADERS = (
    "Số / Number",
    "Nhiệm kỳ / Term",
    "Văn bản / Directive",
    "Ngày ghi / Recorded",
    "Người ghi / By",
)


def join_names(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" và {len(names) - limit} đơn vị khác" if len(names) > limit else "")


def choice_parts(counts: Mapping[str, int]) -> str:
    parts = [
        FIGURE_CHOICE_PART.format(option=option, count=format_number(count))
        for option, count in counts.items()
        if count > 0
    ]
    return FIGURE_CHOICE_JOINER.join(parts)
