"""Texts of the board's web dashboard and of the chat command that sends its sign-in link. The templates under
bot/web/templates read them as `t.NAME`, so every Vietnamese text the pages show lives here."""

from __future__ import annotations

from messages import board as board_texts

# --- In chat (/web, «trang web») and the CLI ------------------------------------------------------------------

LINK_SENT = (
    "🔗 Đường link đăng nhập trang quản lý (dùng một lần, hết hạn sau {minutes} phút):\n{url}\n"
    "Mở link trên máy tính hoặc điện thoại, rồi bấm «Đăng nhập». Không chuyển link này cho người khác."
)
NOT_STAFF = "Trang quản lý chỉ dành cho cán bộ Ban Tuyên giáo."
CLI_LINK = "Link đăng nhập / sign-in link (một lần, {minutes} phút / single use, {minutes} min): {url}"
CLI_NO_PERSON = "Không tìm thấy người có số điện thoại {phone} / no person with phone {phone}"
CLI_NOT_STAFF = "{name} không phải cán bộ Ban hay quản trị / is not a board member or administrator"

# --- Pages --------------------------------------------------------------------------------------------------

APP_NAME = "Chibo – Trang quản lý của Ban"
SKIP_TO_CONTENT = "Bỏ qua, đến nội dung chính"
NAV_OVERVIEW = "Tổng quan"
SIGN_OUT = "Đăng xuất"
SIGNED_IN_AS = "Đăng nhập: {name}"
SCOPE = "Phạm vi: {names}"

LOGIN_TITLE = "Đăng nhập trang quản lý"
LOGIN_BODY = "Bấm nút dưới đây để đăng nhập bằng đường link đồng chí vừa nhận trong tin nhắn."
LOGIN_BUTTON = "Đăng nhập"
LOGIN_BAD_TITLE = "Link đăng nhập không dùng được"
LOGIN_BAD_BODY = (
    "Link đã được dùng, đã hết hạn hoặc không đúng. Gõ «trang web» (hoặc /web) trong tin nhắn với bot "
    "để nhận link mới."
)
SIGNED_OUT_TITLE = "Đã đăng xuất"
SIGNED_OUT_BODY = "Phiên làm việc đã kết thúc. Gõ «trang web» trong tin nhắn với bot để đăng nhập lại."
NEED_SIGN_IN_TITLE = "Cần đăng nhập"
NEED_SIGN_IN_BODY = "Gõ «trang web» (hoặc /web) trong tin nhắn với bot để nhận đường link đăng nhập."
FORBIDDEN_TITLE = "Không thực hiện được"
FORBIDDEN_BODY = "Phiên làm việc không hợp lệ hoặc trang đã mở quá lâu. Hãy tải lại trang rồi thử lại."
NOT_FOUND_TITLE = "Không tìm thấy"
NOT_FOUND_BODY = "Văn bản này không có hoặc không thuộc phạm vi của đồng chí."

OVERVIEW_TITLE = "Văn bản đang theo dõi"
OVERVIEW_EMPTY = "Chưa có văn bản nào đang theo dõi trong phạm vi của đồng chí."
DEADLINE = "Hạn báo cáo: {date}"
NO_DEADLINE = "không có hạn"
OPEN = "Xem chi tiết"
LEVELS_TITLE = "Theo từng đơn vị"
COL_UNIT = "Đơn vị"
COL_TARGETED = "Số chi bộ"
COL_REPORT_RATE = "Tỷ lệ báo cáo"
COL_ON_TIME_RATE = "Tỷ lệ đúng hạn"

# The progress bars: each figure out of the cells targeted.
BAR_DELIVERED = "Đã nhận được"
BAR_ACKNOWLEDGED = "Đã xác nhận"
BAR_ON_TIME = "Báo cáo đúng hạn"
BAR_LATE = "Báo cáo muộn"
BAR_MISSING = "Chưa báo cáo"
BAR_VALUE = "{count}/{total} ({percent})"

DIRECTIVE_TITLE = "Văn bản {number}"
DOWNLOADS = "Tải về"
DOWNLOAD_XLSX = "Tải Excel"
DOWNLOAD_DOCX = "Tải dự thảo báo cáo (Word)"
UNITS_TITLE = "Các chi bộ"
UNITS_OWN_TITLE = "Chi bộ nhận trực tiếp từ cấp mình"
FILTER_LABEL = "Lọc theo trạng thái"
FILTER_ALL = "Tất cả"
FILTER_MISSING = "Chưa báo cáo"
FILTER_BUTTON = "Lọc"
COL_PATH = "Chi bộ"
COL_SECRETARY = "Bí thư"
COL_PHONE = "Điện thoại"
COL_STATUS = "Trạng thái"
COL_REPORTED_AT = "Báo cáo lúc"
COL_VERSIONS = "Số lần gửi"
COL_PHOTOS = "Ảnh"
SHOWN = "Hiện {shown}/{total} chi bộ."
# Reports of cells merged since into another (bot/services/cell_targets.py), listed after the cells as in the Excel.
MERGED_SHOWN = (
    "Kèm {count} báo cáo của chi bộ đã hợp nhất vào chi bộ khác, ghi «(nay là …)» ở cuối bảng; không tính thêm vào số "
    "chi bộ (như tệp Excel)."
)
MORE_PAGES = "Trang sau"
PREVIOUS_PAGE = "Trang trước"
PAGE = "Trang {page}/{pages}"
NO_SECRETARY = "(chưa có bí thư)"
LATE_TITLE = "Chi bộ chưa báo cáo ({count})"
LATE_NONE = "Tất cả chi bộ trong phạm vi đã báo cáo."
LATE_OWN_TITLE = "Chi bộ nhận trực tiếp chưa báo cáo ({count})"
LATE_OWN_NONE = "Chi bộ nhận trực tiếp: không còn chi bộ nào chưa báo cáo."
NUDGE_BUTTON = "Nhắc tất cả chi bộ chưa báo cáo"
NUDGE_SENT = "Đã gửi nhắc nhở tới {count} chi bộ."
NUDGE_DEFERRED = "Đã xếp {count} tin nhắc, sẽ gửi lúc {time} (ngoài giờ yên tĩnh)."
NUDGE_ALREADY = "{count} chi bộ đã được nhắc hôm nay."
NUDGE_UNREACHABLE = "{count} chi bộ không nhắn được qua bot, cần gọi điện."
NUDGE_NOTHING = "Không còn chi bộ nào phải nhắc."

# --- Review -------------------------------------------------------------------------------------------------

RETURNED_TO_SECRETARY = (
    "↩️ Ban Tuyên giáo đề nghị {unit} sửa lại báo cáo văn bản {number}.\n"
    "Ý kiến của đồng chí {reviewer}: {comment}\n"
    "Gõ «sửa» để sửa báo cáo và gửi lại."
)
COL_REVIEW = "Duyệt"
COL_PROXY = "nhập hộ"
REPORT_TITLE = "Báo cáo của {unit} – văn bản {number}"
REPORT_VERSION = "Lần gửi {version} – {time}"
REPORT_BY_PROXY = "Nhập hộ bởi {name} lúc {time}"
REPORT_NONE = "Chi bộ chưa gửi báo cáo."
REVIEW_STATE = "Tình trạng duyệt: {state}"
REVIEW_COMMENT_SHOWN = "Ý kiến khi trả lại: {comment}"
ACCEPT_BUTTON = "Duyệt báo cáo"
RETURN_BUTTON = "Trả lại để sửa"
RETURN_COMMENT_LABEL = "Ý kiến gửi bí thư (bắt buộc khi trả lại)"
RETURN_NEEDS_COMMENT = "Hãy ghi ý kiến để bí thư biết cần sửa gì."
ACCEPTED_DONE = "Đã duyệt báo cáo."
RETURNED_DONE = "Đã trả lại báo cáo, bí thư sẽ nhận ý kiến qua tin nhắn."
FIELD = "Nội dung"
VALUE = "Trả lời"
PHOTOS = "Ảnh minh chứng"
OPEN_REPORT = "Xem"

# --- Entry by proxy ---------------------------------------------------------------------------------------------

PROXY_LINK = "Nhập hộ"
PROXY_TITLE = "Nhập hộ báo cáo của {unit} – văn bản {number}"
PROXY_BODY = (
    "Ghi lại báo cáo bí thư chi bộ đã đọc qua điện thoại. Báo cáo được đánh dấu «nhập hộ» kèm tên đồng chí "
    "và thời điểm nhập, và được tính như báo cáo khác."
)
PROXY_SUBMIT = "Lưu báo cáo"
PROXY_REFUSED = "Có câu trả lời chưa hợp lệ, xem ghi chú dưới từng ô."
PROXY_DONE = "Đã lưu báo cáo nhập hộ."
OPTIONAL = "(không bắt buộc)"

# --- The day's summary ----------------------------------------------------------------------------------------

SUMMARY_LINK = "Tổng hợp trong ngày"
SUMMARY_CHART_ALT = "Biểu đồ tiến độ báo cáo các văn bản đang theo dõi"

# --- Sending a directive from the browser -------------------------------------------------------------------------

SEND_LINK = "Gửi văn bản mới"
UPLOAD_TITLE = "Gửi văn bản mới"
UPLOAD_BODY = "Chọn tệp văn bản (DOCX, PDF hoặc ảnh chụp, bản quét). Tôi đọc văn bản rồi cho đồng chí xem lại trước khi gửi."
UPLOAD_LABEL = "Tệp văn bản"
UPLOAD_BUTTON = "Đọc văn bản"
UPLOAD_MISSING = "Đồng chí chưa chọn tệp."
PREVIEW_TITLE = "Kiểm tra văn bản trước khi gửi"
PREVIEW_FIELDS = {
    "number": "Số ký hiệu",
    "subject": "Trích yếu",
    "issuer": "Cơ quan ban hành",
    "parent_body": "Cơ quan cấp trên",
}
PREVIEW_READ = "Bot đọc được"
DEADLINE_LABEL = "Hạn báo cáo (xác nhận)"
FORM_LABEL = "Mẫu báo cáo"
UNITS_LEGEND = "Gửi tới (các chi bộ trong đơn vị được chọn)"
UNIT_OPTION = "{name} ({count} chi bộ)"
SEND_BUTTON = "Gửi văn bản"
CHECK_BUTTON = "Xem trước cách gửi"  # the outlook (directly, through the boards below, cost) without sending
OUTLOOK_TITLE = "Cách gửi dự kiến"
SEND_NEEDS_DEADLINE = "Hãy nhập hạn báo cáo."
SEND_DEADLINE_PASSED = "Hạn báo cáo đã qua; hãy chọn một ngày từ hôm nay trở đi."
SEND_NEEDS_FORM = "Hãy chọn mẫu báo cáo."
SEND_NEEDS_UNITS = "Hãy chọn ít nhất một đơn vị có chi bộ."
UNIT_CODES_LABEL = (
    "Hoặc nhập mã đơn vị, chi bộ ở cấp dưới (cách nhau bởi dấu phẩy), ví dụ: DUK-SYT-BV, DUK-BAO"
)
SEND_UNKNOWN_CODES = (
    "Không tìm thấy mã đơn vị trong phạm vi của đồng chí: {codes}. Kiểm tra lại mã rồi gửi lại."
)
PHOTOS_LINK = "Xem {count} ảnh minh chứng của lần gửi mới nhất"

SESSIONS_LINK = "Phiên đăng nhập"
SESSIONS_TITLE = "Các phiên đăng nhập đang mở"
SESSIONS_BODY = (
    "Các trình duyệt đang đăng nhập bằng tài khoản của đồng chí. Nếu có phiên lạ, hãy kết thúc nó."
)
SESSION_BROWSER = "Trình duyệt"
SESSION_STARTED = "Đăng nhập lúc"
SESSION_LAST_SEEN = "Dùng lần cuối"
SESSION_THIS = "(trình duyệt này)"
SESSION_UNKNOWN_BROWSER = "Không rõ"
SESSION_END = "Kết thúc phiên này"
SESSIONS_END_OTHERS = "Kết thúc mọi phiên khác"
SESSION_ENDED = "Đã kết thúc phiên đó."
OTHERS_ENDED = "Đã kết thúc {count} phiên khác."
PROGRESS_TITLE = "Tiến độ"

# --- A directive handed down: the whole family's figures, the units below, the drill-down, the two sources -----

THROUGH_BELOW = board_texts.STATUS_THROUGH_BELOW  # the chat's line, word for word
BELOW_TITLE = "Đơn vị cấp dưới"
COL_BELOW_UNIT = "Đơn vị"
COL_BELOW_ACTION = "Ban cấp dưới xử lý"
COL_BELOW_CELLS = "Chi bộ đã báo cáo"
COL_BELOW_UP = "Báo cáo lên cấp trên"
BELOW_ACTED = "{action} ngày {date}"
BELOW_REISSUE = "Văn bản {number}, hạn {deadline}"
BELOW_MERGED = "hợp nhất từ {names}"
BELOW_CELLS = "{reported}/{cells}"
BELOW_UP_DONE = "Đã nhận ngày {date}, {when}"
BELOW_UP_NOT_YET = "Chưa báo cáo lên"
BELOW_OPEN = "Xem các chi bộ"
DRILL_TITLE = "{unit} – văn bản {number}"
DRILL_BACK = "Quay lại văn bản {number}"
DRILL_PENDING = "Ban của đơn vị chưa ban hành lại hay chuyển văn bản tới các chi bộ."
DRILL_SOURCE = "Văn bản {number} – hạn báo cáo: {deadline}"
DOWNLOADS_SOURCES = "Số liệu của văn bản này có thể tổng hợp theo hai nguồn; tệp tải về ghi rõ nguồn số liệu."
DOWNLOAD_FROM = {
    "below": "theo báo cáo của đơn vị cấp dưới",
    "cells": "theo báo cáo trực tiếp của các chi bộ",
}
DOWNLOAD_DEFAULT = "(mặc định)"
