"""Vietnamese texts for report forms: answer refusals, quick-reply problems and form-file validation errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# --- rendering helpers ------------------------------------------------------------------------------------


def numbered_options(choices: Sequence[str], only: Iterable[int] | None = None) -> str:
    """One option per line, numbered from 1 as a secretary would type them back; `only` keeps some indexes."""
    keep = set(range(len(choices))) if only is None else set(only)
    return "\n".join(f"{index + 1}. {choice}" for index, choice in enumerate(choices) if index in keep)


# --- answers to a single field ----------------------------------------------------------------------------

REQUIRED_EMPTY = "Mục “{label}” là bắt buộc, đồng chí chưa nhập nội dung."
REQUIRED_NO_SKIP = "Mục “{label}” là bắt buộc, không thể bỏ qua."
REQUIRED_NUMBER_HINT = " Nếu không có, hãy nhập 0."

PHOTO_EXPECTED_OPTIONAL = "Mục “{label}” cần ảnh. Hãy gửi ảnh chụp, hoặc gõ “bỏ qua” nếu không có ảnh."
PHOTO_EXPECTED_REQUIRED = "Mục “{label}” cần ảnh. Hãy gửi ảnh chụp thay cho tin nhắn chữ."

DATE_UNREADABLE = (
    "Chưa hiểu ngày “{text}”. Hãy nhập ngày/tháng hoặc ngày/tháng/năm, ví dụ 15/4, 15/4/2024, "
    "hoặc gõ “hôm nay”, “hôm qua”."
)
DATE_BAD_MONTH = (
    "Tháng {month} không hợp lệ: tháng chỉ từ 1 đến 12. Hãy nhập ngày trước, tháng sau, ví dụ 15/4."
)
DATE_BAD_DAY = "Ngày {day} không hợp lệ: ngày chỉ từ 1 đến 31. Hãy nhập ngày trước, tháng sau, ví dụ 15/4."
DATE_NOT_IN_MONTH = "Ngày {day}/{month}/{year} không có thật: tháng {month}/{year} chỉ có {days} ngày."
DATE_BAD_YEAR = "Năm {year} không hợp lệ. Hãy ghi năm đủ 4 chữ số, ví dụ 15/4/2024."
DATE_TOO_LATE = "Ngày {date} chưa tới. Chỉ nhận ngày từ {start} đến {end}; hãy kiểm tra lại ngày, tháng, năm."
DATE_TOO_EARLY = "Ngày {date} đã quá xa. Chỉ nhận ngày từ {start} đến {end}; hãy kiểm tra lại năm."

NUMBER_NEGATIVE = "Số lượng không được âm. Hãy nhập một số từ 0 trở lên, ví dụ 12."
NUMBER_DECIMAL = (
    "Số lượng phải là số nguyên, không có phần lẻ. Dấu chấm chỉ dùng để tách hàng nghìn, ví dụ 1.234."
)
NUMBER_WORDS = "Hãy nhập bằng chữ số, ví dụ 12 hoặc 1.234, không viết bằng chữ."
NUMBER_UNREADABLE = "Chưa hiểu số “{text}”. Chỉ nhập một con số, ví dụ 12 hoặc 1.234."
NUMBER_HUGE = "Số quá lớn, hãy kiểm tra lại. Chỉ nhận số đến {max}."
NUMBER_TOO_SMALL = "Số {value} nhỏ hơn mức tối thiểu: mục “{label}” cần từ {min} trở lên."
NUMBER_TOO_LARGE = "Số {value} lớn hơn mức tối đa: mục “{label}” chỉ nhận đến {max}. Hãy kiểm tra lại."

RATIO_UNREADABLE = "Chưa hiểu “{text}”. Hãy nhập số tham gia/tổng số, ví dụ 25/30 hoặc 25 trên 30."
RATIO_ONE_NUMBER = "Cần đủ hai số: số tham gia và tổng số, ví dụ 25/30."
RATIO_ZERO_TOTAL = "Tổng số phải lớn hơn 0, ví dụ 25/30."
RATIO_OVER = (
    "Số tham gia ({attended}) không thể lớn hơn tổng số ({total}). "
    "Hãy nhập số tham gia trước, tổng số sau, ví dụ 25/30."
)

ATTENDANCE_EXAMPLE = "25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do, vắng 0 không lý do"
ATTENDANCE_PARTS = {
    "official": "đảng viên chính thức",
    "probationary": "đảng viên dự bị",
    "exempt": "miễn sinh hoạt",
    "excused": "vắng có lý do",
    "unexcused": "vắng không lý do",
    "present": "có mặt",
    "total": "tổng số đảng viên",
}
ATTENDANCE_UNREADABLE = (
    "Chưa hiểu “{text}”. Hãy ghi từng số kèm tên, cách nhau bằng dấu phẩy, ví dụ: " + ATTENDANCE_EXAMPLE + "."
)
ATTENDANCE_EMPTY = "Chưa có số nào. Hãy ghi số đảng viên theo mẫu: " + ATTENDANCE_EXAMPLE + "."
ATTENDANCE_ABSENT_REASON = (
    "Vắng {count}: có lý do hay không lý do? Hãy ghi rõ, ví dụ “vắng {count} có lý do” "
    "hoặc “vắng {count} không lý do”."
)
ATTENDANCE_TWICE = "Số “{part}” được ghi hai lần. Mỗi mục chỉ ghi một số."
ATTENDANCE_HUGE = "Số {value} quá lớn, hãy kiểm tra lại."
ATTENDANCE_NO_MEMBERS = (
    "Cần số đảng viên chính thức (hoặc tổng số đảng viên), ví dụ: " + ATTENDANCE_EXAMPLE + "."
)
ATTENDANCE_TOTAL_SMALL = "Tổng số {total} đảng viên nhỏ hơn số dự bị ({probationary}). Hãy kiểm tra lại."
ATTENDANCE_TOTAL_MISMATCH = (
    "Không khớp: tổng số {total} đảng viên, nhưng {official} chính thức + {probationary} dự bị = {sum}. "
    "Hãy kiểm tra lại."
)
ATTENDANCE_EXEMPT_OVER = "Số miễn sinh hoạt ({exempt}) lớn hơn số đảng viên ({members}). Hãy kiểm tra lại."
ATTENDANCE_ABSENT_OVER = (
    "Không khớp: vắng {absent} đồng chí, nhưng chỉ có {expected} đồng chí phải dự "
    "(đảng viên trừ người miễn sinh hoạt). Hãy kiểm tra lại."
)
ATTENDANCE_PRESENT_MISMATCH = (
    "Không khớp: ghi có mặt {said}, nhưng {members} đảng viên − {exempt} miễn sinh hoạt − {absent} vắng "
    "= {present} có mặt. Hãy kiểm tra lại các số."
)

CHOICE_UNKNOWN = "Chưa rõ “{text}” là lựa chọn nào. Hãy gõ số thứ tự hoặc tên một lựa chọn:\n{options}"
CHOICE_AMBIGUOUS = "“{text}” khớp với nhiều lựa chọn. Hãy gõ số thứ tự hoặc tên đầy đủ hơn:\n{options}"
CHOICE_BAD_NUMBER = "Không có lựa chọn số {number}. Hãy gõ số từ 1 đến {count}:\n{options}"
CHOICE_TOO_SHORT = "“{text}” quá ngắn để nhận ra lựa chọn. Hãy gõ số thứ tự hoặc tên lựa chọn:\n{options}"

TEXT_TOO_LONG = "Nội dung dài {length} ký tự, quá mức {max} ký tự cho phép. Hãy rút gọn rồi gửi lại."

# --- one-message (quick) reports --------------------------------------------------------------------------

QUICK_EMPTY = "Tin nhắn trống. Hãy gửi báo cáo trong một tin nhắn theo mẫu:\n{template}"
QUICK_NO_ANSWERS = (
    "Tin nhắn mới có số văn bản {number}, chưa có nội dung báo cáo. Hãy gửi theo mẫu:\n{template}"
)
QUICK_TOO_MANY = (
    "Tin nhắn có {parts} phần nhưng mẫu chỉ có {fields} mục. Hãy tách các mục bằng dấu chấm phẩy (;) "
    "theo đúng mẫu; trong nội dung, dùng dấu phẩy thay cho dấu chấm phẩy:\n{template}"
)
QUICK_DIRECTIVE_UNKNOWN = "Không tìm thấy văn bản số “{ref}” trong các văn bản đang chờ báo cáo."
QUICK_DIRECTIVE_PENDING = " Các văn bản đang chờ: {numbers}."
QUICK_DIRECTIVE_AMBIGUOUS = (
    "Số “{ref}” khớp với nhiều văn bản: {numbers}. Hãy ghi đủ số ký hiệu, ví dụ {example}."
)
QUICK_MISSING_HEADER = "Còn thiếu:"
QUICK_INVALID_HEADER = "Chưa hợp lệ:"
QUICK_ISSUE_LINE = "• {label}: {message}"
QUICK_MISSING_LINE = "• {label}"


def quick_problems(missing_labels: Iterable[str], invalid: Iterable[tuple[str, str]]) -> str:
    """List what a quick report still lacks and which answers were refused, one item a line."""
    lines: list[str] = []
    missing = list(missing_labels)
    refused = list(invalid)
    if refused:
        lines.append(QUICK_INVALID_HEADER)
        lines.extend(QUICK_ISSUE_LINE.format(label=label, message=message) for label, message in refused)
    if missing:
        lines.append(QUICK_MISSING_HEADER)
        lines.extend(QUICK_MISSING_LINE.format(label=label) for label in missing)
    return "\n".join(lines)


# --- custom form files (chibo forms add FILE) -------------------------------------------------------------

FORM_ERRORS_HEADER = "Mẫu báo cáo chưa hợp lệ ({count} lỗi):"
FORM_ERROR_LINE = "• {path}: {message}"
FORM_ERROR_LINE_AT = "• {path} (dòng {line}): {message}"
FORM_ROOT_PATH = "(toàn tệp)"

YAML_SYNTAX = (
    "Tệp YAML sai cú pháp ở dòng {line}, cột {column}. Hãy kiểm tra thụt lề, dấu hai chấm và dấu nháy."
)
YAML_SYNTAX_NO_MARK = "Tệp YAML sai cú pháp. Hãy kiểm tra thụt lề, dấu hai chấm và dấu nháy."
YAML_TOO_LARGE = "Tệp quá lớn ({size} ký tự); một mẫu báo cáo chỉ cần vài trăm dòng là đủ."
YAML_NOT_MAPPING = "Nội dung phải là một mẫu báo cáo gồm các khóa key, title và fields."

UNKNOWN_OPTION = "Khóa “{name}” không được hỗ trợ. Các khóa dùng được: {allowed}."
NOT_TEXT = "Phải là một dòng chữ."
TEXT_BLANK = "Không được để trống."
TOO_LONG = "Quá dài: tối đa {max} ký tự."
NOT_BOOL = "Phải là true (bắt buộc) hoặc false (không bắt buộc)."
NOT_INT = "Phải là một số nguyên, ví dụ 100."

FORM_KEY_MISSING = "Thiếu mã mẫu (key), ví dụ: key: sinh-hoat-chuyen-de"
FORM_KEY_BAD = (
    "Mã mẫu “{value}” không hợp lệ: chỉ dùng chữ thường không dấu, chữ số, dấu - hoặc _, "
    "tối đa 40 ký tự, ví dụ sinh-hoat-chuyen-de."
)
FORM_TITLE_MISSING = "Thiếu tiêu đề mẫu (title), ví dụ: title: Báo cáo kết quả sinh hoạt chuyên đề"
FIELDS_MISSING = "Thiếu danh sách mục (fields)."
FIELDS_NOT_LIST = "“fields” phải là danh sách, mỗi mục bắt đầu bằng dấu gạch ngang (-)."
FIELDS_EMPTY = "Mẫu cần ít nhất một mục."
FIELDS_TOO_MANY = "Mẫu có {count} mục, tối đa {max} mục."
FIELDS_ONLY_PHOTOS = "Mẫu cần ít nhất một mục không phải ảnh để bí thư trả lời bằng tin nhắn."

FIELD_NOT_MAPPING = "Mỗi mục phải gồm các khóa key, label và type."
FIELD_KEY_MISSING = "Thiếu mã mục (key), ví dụ: key: ngay_to_chuc"
FIELD_KEY_BAD = (
    "Mã mục “{value}” không hợp lệ: bắt đầu bằng chữ thường không dấu, chỉ gồm chữ a-z, chữ số và dấu _, "
    "tối đa 40 ký tự, ví dụ ngay_to_chuc."
)
FIELD_KEY_DUPLICATE = "Mã mục “{value}” bị trùng với {other}."
FIELD_LABEL_MISSING = "Thiếu tên mục (label), ví dụ: label: Ngày tổ chức"
FIELD_TYPE_MISSING = "Thiếu kiểu mục (type). Các kiểu dùng được: {types}."
FIELD_TYPE_UNKNOWN = "Kiểu “{value}” không có. Các kiểu dùng được: {types}."
OPTION_WRONG_TYPE = "Khóa “{name}” chỉ dùng cho mục kiểu {types}."

CHOICES_MISSING = "Mục kiểu choice cần danh sách lựa chọn (choices), ít nhất {min} lựa chọn."
CHOICES_NOT_LIST = "“choices” phải là danh sách, mỗi lựa chọn một dòng bắt đầu bằng dấu gạch ngang (-)."
CHOICES_TOO_FEW = "Cần ít nhất {min} lựa chọn."
CHOICES_TOO_MANY = "Có {count} lựa chọn, tối đa {max} lựa chọn."
CHOICE_NOT_TEXT = 'Lựa chọn phải là chữ. Nếu là có/không, hãy đặt trong dấu nháy, ví dụ "Không".'
CHOICE_ONLY_DIGITS = "Lựa chọn không được chỉ gồm chữ số, vì bí thư gõ số để chọn theo thứ tự."
CHOICE_DUPLICATE = "Lựa chọn “{value}” trùng với {other} (không tính dấu và chữ hoa)."

BOUND_MIN_GT_MAX = "min ({min}) lớn hơn max ({max})."
NUMBER_BOUND_NEGATIVE = "Số lượng không âm nên min và max phải từ 0 trở lên."
NUMBER_BOUND_HUGE = "Quá lớn: tối đa {max}."
DATE_BOUND_RANGE = (
    "Với mục ngày, min và max là số ngày tính từ hôm nay (âm là trước hôm nay), từ {low} đến {high}."
)
MAX_LENGTH_RANGE = "max_length phải từ 1 đến {max}."

# Typed instead of an answer to an optional question (compared without diacritics); "không có" is also a real
# answer ("none") to a required text question.
WORDS_SKIP = frozenset({"bo qua", "-", "khong co"})
SKIP_TYPED = "bỏ qua"  # what the «⏭ Bỏ qua» button stands for
