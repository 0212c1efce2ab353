"""Texts the administrator reads in the terminal."""

from __future__ import annotations

NO_TOKEN = """\
Chưa cấu hình token Telegram. / No Telegram token is configured.

Tiếng Việt:
  1. Mở Telegram, nhắn cho @BotFather, gõ /newbot và làm theo hướng dẫn để tạo bot.
  2. BotFather sẽ gửi một token dạng 123456789:AAE...; chép token đó.
  3. Đặt biến môi trường CHIBO_TELEGRAM_TOKEN=<token> (hoặc ghi vào tệp .env, xem .env.example), rồi chạy lại `make run`.

English:
  1. In Telegram, message @BotFather, send /newbot and follow the steps to create a bot.
  2. BotFather replies with a token like 123456789:AAE...; copy it.
  3. Set CHIBO_TELEGRAM_TOKEN=<token> in the environment (or in .env, see .env.example) and run `make run` again.
"""

RUNNING = "Chibo đang chạy ({mode}). Nhấn Ctrl+C để dừng."
MODE_POLLING = "Telegram: polling"
MODE_WEBHOOK = "Telegram: webhook tại {url}"
STOPPED = "Đã dừng Chibo."
DB_UPGRADED = "Cơ sở dữ liệu đã được cập nhật lên phiên bản mới nhất."

UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã {code}."
NO_INVITEES = "Không có ai cần cấp mã mời theo điều kiện đã chọn."
INVITES_ISSUED = "Đã cấp {count} mã mời, hết hạn sau {days} ngày. Mỗi mã chỉ dùng được một lần; mã cũ của cùng người đã bị thu hồi."
INVITES_WRITTEN = "Đã ghi danh sách mã mời vào {path}."
QR_WRITTEN = "Đã tạo {count} mã QR trong thư mục {path}."
NO_LINK = "Lưu ý: chưa biết tên bot Telegram nên không tạo được đường link; đặt CHIBO_TELEGRAM_BOT_USERNAME hoặc CHIBO_TELEGRAM_TOKEN."
BAD_FORMAT = "Định dạng đầu ra phải là table, csv hoặc xlsx."
BAD_ROLE = "Vai trò phải là secretary (bí thư chi bộ) hoặc board (cán bộ Ban Tuyên giáo)."

INVITE_HEADERS = ["Họ tên", "Số điện thoại", "Đơn vị", "Vai trò", "Mã mời", "Đường link", "Hết hạn"]

STAFF_ADDED = "Đã thêm {name} ({role}) phạm vi {scope}. Cấp mã mời bằng: chibo invite --role {role_kind} --phone {phone}"
STAFF_SCOPE_ALL = "toàn bộ"
STAFF_NEEDS_UNIT = "Cán bộ Ban Tuyên giáo cần có đơn vị phạm vi (--unit MÃ)."
BAD_PHONE = "Số điện thoại «{phone}» không đúng định dạng (ví dụ đúng: 0912345678)."

DIRECTIVE_UNREADABLE = "Không đọc được văn bản trong tệp {name}: {reason}"
DIRECTIVE_BAD_DEADLINE = "Hạn báo cáo «{value}» không đúng; dùng dạng ngày/tháng/năm, ví dụ 30/10/2024."
DIRECTIVE_UNKNOWN_UNITS = "Không tìm thấy đơn vị: {codes}"
DIRECTIVE_UNKNOWN_FORM = "Không có mẫu báo cáo «{key}». Các mẫu hiện có: {keys}"
DIRECTIVE_NO_CELLS = "Các đơn vị đã chọn không có chi bộ nào."
DIRECTIVE_QUEUED = (
    "Đã xếp lịch gửi văn bản {number} (mã nội bộ {id}) tới {cells} chi bộ: {reachable} bí thư đã kết nối sẽ nhận "
    "ngay khi bot chạy; {unregistered} chi bộ sẽ nhận khi bí thư kết nối."
)
FILE_TOO_LARGE = "Tệp {name} quá lớn ({size} MB); giới hạn là {limit} MB (CHIBO_MAX_FILE_MB)."
