"""Vietnamese texts of the board's documents (Excel export, Word report draft, progress chart) and the
Vietnamese renderings of numbers, percents and dates they use."""

from __future__ import annotations

from datetime import date

from messages.forms import ATTENDANCE_PARTS

# --- Renderings -------------------------------------------------------------------------------------------


def _party_day_month(day: date) -> tuple[str, str]:
    # Party and state texts pad days below 10 and the months January and February: 03/4, 18/01.
    return f"{day.day:02d}", f"{day.month:02d}" if day.month < 3 else str(day.month)


def party_date(day: date) -> str:
    """A date as Party texts write it inline: 03/4/2024, 18/01/2018, 25/12/2024."""
    dd, mm = _party_day_month(day)
    return f"{dd}/{mm}/{day.year}"


def party_place_date(place: str, day: date) -> str:
    """The place-and-date line of the document header: "Lai Châu, ngày 03 tháng 4 năm 2024"."""
    dd, mm = _party_day_month(day)
    return f"{place}, ngày {dd} tháng {mm} năm {day.year}"


# --- Shared vocabulary -------------------------------------------------------------------------------------

STATUS_LABELS: dict[str, str] = {
    "reported": "Đã báo cáo",
    "reported_late": "Báo cáo muộn",
    "acknowledged": "Đã nhận, chưa báo cáo",
    "delivered": "Đã gửi, chưa xác nhận",
    "pending": "Đang chờ gửi",
    "blocked": "Đã chặn tin nhắn",
    "unregistered": "Chưa đăng ký nhận tin",
}

DOC_TYPE_NAMES: dict[str, str] = {
    "CV": "Công văn",
    "KH": "Kế hoạch",
    "HD": "Hướng dẫn",
    "CT": "Chỉ thị",
    "NQ": "Nghị quyết",
    "KL": "Kết luận",
    "TB": "Thông báo",
    "QĐ": "Quyết định",
    "QĐI": "Quy định",
    "BC": "Báo cáo",
    "TTR": "Tờ trình",
    "CTR": "Chương trình",
    "ĐA": "Đề án",
    "QC": "Quy chế",
}
DOC_TYPE_FALLBACK = "Văn bản"


# The board's review of a report (bot.services.review), in the Excel export and the web dashboard.
REVIEW_LABELS: dict[str, str] = {"received": "Đã nhận", "accepted": "Đã duyệt", "returned": "Trả lại để sửa"}
COL_REVIEW = "Duyệt báo cáo"
COL_PROXY = "Ban nhập hộ"
PROXY_YES = "Có"


def review_label(review: str) -> str:
    """ "accepted" -> "Đã duyệt"; no report at all -> ""."""
    return REVIEW_LABELS.get(review, "")


def status_label(status: str) -> str:
    """Vietnamese label of a unit status code; an unknown code is shown as it is."""
    return STATUS_LABELS.get(str(status), str(status))


def doc_type_name(code: str) -> str:
    """ "CV" -> "Công văn"; an unknown type code -> "Văn bản"."""
    return DOC_TYPE_NAMES.get(code.strip().upper(), DOC_TYPE_FALLBACK)


# Answers secretaries type into free-text fields to mean "nothing to say"; compared without diacritics.
EMPTY_ANSWERS = frozenset(
    {
        "",
        "k",
        "ko",
        "kg",
        "khong",
        "khong a",
        "khong co",
        "khong co gi",
        "khong co y kien",
        "khong co kien nghi",
        "khong co de xuat",
        "khong co kien nghi de xuat",
        "khong co kho khan",
        "khong co han che",
        "khong kho khan",
        "khong kien nghi",
        "chua co",
        "binh thuong",
        "none",
        "0",
    }
)

# --- Excel export ------------------------------------------------------------------------------------------

SHEET_DETAIL = "Chi tiết"
SHEET_SUMMARY = "Tổng hợp"

COL_UNIT = "Đơn vị"
COL_SECRETARY = "Bí thư"
COL_PHONE = "Số điện thoại"
COL_STATUS = "Tình trạng"
COL_DELIVERED_AT = "Thời điểm nhận"
COL_ACKNOWLEDGED_AT = "Thời điểm xác nhận"
COL_REPORTED_AT = "Thời điểm báo cáo"
COL_LATE = "Báo cáo muộn"
COL_VERSIONS = "Số lần gửi báo cáo"
COL_RATIO_ATTENDED = "{label} – tham gia"
COL_RATIO_TOTAL = "{label} – tổng số"
COL_ATTENDANCE = "{label} – {part}"
COL_ATTENDANCE_RATE = "{label} – tỷ lệ có mặt (không tính miễn sinh hoạt)"
ATTENDANCE_COLUMNS = {key: name for key, name in ATTENDANCE_PARTS.items() if key != "total"}
LATE_YES = "Có"
COL_EVIDENCE = "Ảnh minh chứng"
EVIDENCE_LINK_TEXT = "Xem {count} ảnh"

SUMMARY_HEADERS = ("Chỉ tiêu", "Giá trị", "Tỷ lệ")
SUM_DIRECTIVE = "Văn bản"
SUM_DIRECTIVE_VALUE = "{doc_type} số {number}"
SUM_DIRECTIVE_DATED = "{doc_type} số {number} ngày {date}"
SUM_SUBJECT = "Trích yếu"
SUM_DEADLINE = "Hạn báo cáo"
SUM_GENERATED_ON = "Ngày tổng hợp"
SUM_TARGETED = "Số đơn vị được giao"
SUM_DELIVERED = "Đã nhận văn bản"
SUM_ACKNOWLEDGED = "Đã xác nhận"
SUM_REPORTED = "Đã báo cáo"
SUM_ON_TIME = "– Đúng hạn"
SUM_LATE = "– Muộn"
SUM_NOT_REPORTED = "Chưa báo cáo"
SUM_NOT_REPORTED_OVERDUE = "Chưa báo cáo (đã quá hạn)"
SUM_NOT_REPORTED_NOT_DUE = "Chưa báo cáo (chưa đến hạn)"
SUM_BLOCKED = "Đã chặn tin nhắn"
SUM_UNREGISTERED = "Chưa đăng ký nhận tin"
SUM_SESSIONS = "Số buổi sinh hoạt đã tổ chức"
SUM_RATIO_ATTENDED = "{label}: tham gia"
SUM_RATIO_TOTAL = "{label}: tổng số"
SUM_CHOICE = "{label}: {option}"
SUM_ATTENDANCE = "{label}: {part}"
ATTENDANCE_EXPECTED = "phải dự (không tính miễn sinh hoạt)"

# --- Word report draft -------------------------------------------------------------------------------------

PARTY_TITLE = "ĐẢNG CỘNG SẢN VIỆT NAM"
ISSUER_STAR = "*"
# Party numbers carry no colon after "Số"; without a number from the register the clerk writes it into the gap.
REPORT_NUMBER = "Số {number}"
REPORT_NUMBER_GAP = "       -BC/{issuer_code}"
REPORT_TITLE = "BÁO CÁO"
SUBJECT_RULE = "-----"

REFERENCE = "{doc_type} số {number}"
REFERENCE_DATE = " ngày {date}"
REFERENCE_ISSUER = " của {issued_by}"
REFERENCE_SUBJECT = " về {subject}"
REPORT_SUBJECT = "Kết quả triển khai thực hiện {reference}"
INTRO = "Thực hiện {reference}, kết quả triển khai thực hiện tính đến ngày {date} như sau:"

SECTION_DEPLOYMENT = "I. TÌNH HÌNH TRIỂN KHAI"
SECTION_RESULTS = "II. KẾT QUẢ"
SECTION_DIFFICULTIES = "III. HẠN CHẾ, KHÓ KHĂN"
SECTION_RECOMMENDATIONS = "IV. KIẾN NGHỊ, ĐỀ XUẤT"

DEPLOY_NO_TARGETS = "Chưa có đơn vị nào được giao thực hiện văn bản."
DEPLOY_SENT = (
    "Văn bản được triển khai đến {targeted} đơn vị; {delivered} đơn vị đã nhận được (đạt {delivered_rate}), "
    "trong đó {acknowledged} đơn vị đã xác nhận."
)
DEPLOY_REPORTED = (
    "Có {reported}/{targeted} đơn vị đã báo cáo kết quả, đạt {rate}; trong đó {on_time} đơn vị báo cáo "
    "đúng hạn, {late} đơn vị báo cáo muộn. Còn {not_reported} đơn vị chưa báo cáo."
)
DEPLOY_ALL_REPORTED = (
    "Tất cả {targeted} đơn vị đã báo cáo kết quả; trong đó {on_time} đơn vị báo cáo đúng hạn, "
    "{late} đơn vị báo cáo muộn."
)
DEPLOY_UNREGISTERED = "{count} đơn vị chưa đăng ký nhận tin"
DEPLOY_BLOCKED = "{count} đơn vị đã chặn tin nhắn"
DEPLOY_UNREACHED = "Có {parts} nên chưa nhận được văn bản qua ứng dụng, cần gửi bằng hình thức khác."
DEPLOY_UNREACHED_JOINER = " và "
DEPLOY_DEADLINE = "Hạn báo cáo: {date}."

RESULTS_INTRO = "Tổng hợp từ {count} báo cáo của các đơn vị, kết quả cụ thể như sau:"
RESULTS_NONE = "Chưa có đơn vị nào gửi báo cáo kết quả."
RESULTS_SESSIONS = "- Số buổi sinh hoạt đã tổ chức: {count} buổi."
RESULTS_NUMBER = "- {label}: {value}{unit}."
RESULTS_RATIO = "- {label}: {attended}/{total}{unit}, đạt {rate}."
RESULTS_RATIO_NO_RATE = "- {label}: {attended}/{total}{unit}."
RESULTS_ATTENDANCE = (
    "- {label}: {present}/{expected} đồng chí phải dự có mặt, đạt {rate} (tổng số {members} đảng viên, gồm "
    "{official} chính thức, {probationary} dự bị; {exempt} đồng chí miễn sinh hoạt không tính vào số phải dự); "
    "vắng {excused} có lý do, {unexcused} không lý do."
)
RESULTS_CHOICE = "- {label}: {parts}."
RESULTS_CHOICE_PART = "{option} ({count} đơn vị)"
RESULTS_CHOICE_JOINER = "; "
RESULTS_HIGHLIGHTS = "Một số cách làm hay, điểm nổi bật:"

QUOTE_UNITS_JOINER = ", "
QUOTE_SEPARATOR = ": "
QUOTE_TEXT = "“{text}”"
QUOTE_BULLET = "- "
QUOTE_FIELD = "{label}:"
NO_DIFFICULTIES = "Các đơn vị chưa phản ánh hạn chế, khó khăn."
NO_RECOMMENDATIONS = "Các đơn vị chưa có kiến nghị, đề xuất."

RECIPIENTS_TITLE = "Nơi nhận:"
RECIPIENT_REPORT_TO = "- {body} (để báo cáo),"
RECIPIENT_LINE = "- {name},"
RECIPIENT_ARCHIVE = "- Lưu {archive}."
# What the settings left empty, highlighted in the draft for the board to fill before signing.
RECIPIENT_PLACEHOLDER = "[Cấp ủy cấp trên]"
SIGNER_TITLE_PLACEHOLDER = "[CHỨC VỤ NGƯỜI KÝ]"
SIGNER_NAME_PLACEHOLDER = "[Họ và tên người ký]"

APPENDIX_TITLE = "PHỤ LỤC"
APPENDIX_SUBTITLE = "Kết quả báo cáo của các đơn vị"
APPENDIX_ATTACHED = "(Kèm theo Báo cáo số {number})"
APPENDIX_COL_INDEX = "STT"
APPENDIX_COL_UNIT = "Đơn vị"
APPENDIX_COL_STATUS = "Tình trạng"
APPENDIX_NO_UNITS = "Không có đơn vị nào."
NOT_REPORTED_TITLE = "Danh sách đơn vị chưa báo cáo ({count} đơn vị)"
NOT_REPORTED_LINE = "{index}. {unit} – {status}"
ALL_UNITS_REPORTED = "Tất cả các đơn vị đã báo cáo."
DOCX_TITLE_PROPERTY = "Báo cáo kết quả triển khai thực hiện {number}"

# --- Progress chart ----------------------------------------------------------------------------------------

CHART_TITLE = "Tiến độ báo cáo"
CHART_TITLE_DATED = "Tiến độ báo cáo ngày {date}"
CHART_SUBTITLE = "Đã báo cáo {reported}/{total} đơn vị ({rate})"
CHART_SUBTITLE_DIRECTIVES = "{directives} văn bản, {units} chi bộ trong phạm vi"
CHART_ON_TIME = "Đúng hạn"
CHART_LATE = "Muộn"
CHART_OVERDUE = "Quá hạn"
CHART_NOT_DUE = "Chưa đến hạn"
CHART_AXIS = "Tỷ lệ đơn vị của từng nhóm"
CHART_NO_DATA = "Chưa có dữ liệu để vẽ biểu đồ"
CHART_OTHERS = "Khác ({count} đơn vị)"

# Who signs a draft when neither the settings nor the directive say.
DEFAULT_SIGNER_AUTHORITY = "T/M BAN THƯỜNG VỤ"
