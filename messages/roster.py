"""Texts of the roster import, shown to the administrator on the command line."""

from __future__ import annotations

MISSING_CODE = "thiếu mã đơn vị"
MISSING_NAME = "thiếu tên đơn vị"
DUPLICATE_CODE = "mã đơn vị {code} trùng với dòng {first}"
BAD_PHONE = "số điện thoại «{phone}» không đúng định dạng (ví dụ đúng: 0912345678)"
PHONE_WITHOUT_NAME = "có số điện thoại nhưng thiếu họ tên bí thư"
MISSING_PARENT = "không tìm thấy đơn vị cấp trên có mã {parent}"
CYCLE = "vòng lặp cấp trên: {path}"
SELF_PARENT = "đơn vị không thể là cấp trên của chính nó"
MISSING_COLUMNS = (
    "thiếu cột bắt buộc: {columns}. Các cột cần có: mã đơn vị, tên đơn vị, mã cấp trên (có thể trống)."
)
UNREADABLE = "không đọc được tệp: {reason}"
UNSUPPORTED = "chỉ nhận tệp .xlsx hoặc .csv"
EMPTY = "tệp không có dòng dữ liệu nào"
BAD_ENCODING = (
    "không nhận ra bảng mã của tệp CSV (không phải UTF-8, UTF-16 hay Windows-1258); "
    "trong Excel chọn Lưu thành › «CSV UTF-8 (Comma delimited)» rồi nhập lại"
)
TOO_LONG = "{field} dài quá {limit} ký tự"
FIELD_NAMES = {"code": "mã đơn vị", "name": "tên đơn vị", "kind": "loại đơn vị", "secretary": "họ tên bí thư"}

PROBLEMS_HEADER = "Không nhập gì cả vì có {count} dòng lỗi. Sửa các dòng sau rồi nhập lại:"
PROBLEM_LINE = "  Dòng {line} ({code}): {reason}"  # every problem of the row, joined by "; "
DONE = "Đã nhập danh sách: {created} đơn vị mới, {updated} đơn vị cập nhật, {unchanged} không đổi."
NOT_IN_FILE = "Lưu ý: {count} đơn vị đã có trong hệ thống nhưng không có trong tệp (giữ nguyên): {codes}"

# chibo units list / remove (the shell: Vietnamese, then English)
TREE_EMPTY = (
    "Chưa có đơn vị nào; nhập danh sách bằng: chibo units import TỆP / No units yet: chibo units import FILE"
)
TREE_CELL = "chi bộ"
TREE_INACTIVE = "ngừng hoạt động"
TREE_NO_SECRETARY = "chưa có bí thư"
UNIT_UNKNOWN = "Không có đơn vị mã {code}. / No unit has the code {code}."
UNIT_HAS_CHILDREN = (
    "Không xoá {code}: còn {count} đơn vị trực thuộc. Xoá hoặc chuyển các đơn vị đó sang cấp trên khác trước "
    "(sửa cột mã cấp trên trong danh sách rồi nhập lại).\n"
    "{code} not removed: {count} units are under it. Remove them or move them under another parent first."
)
UNIT_DELETED = (
    "Đã xoá {code} (chưa từng nhận văn bản), cùng vai trò bí thư và mã mời của đơn vị.\n"
    "{code} deleted (it never received a directive), with its secretary role and invites."
)
UNIT_RETIRED = (
    "{code} đã có lịch sử (văn bản, báo cáo hoặc cán bộ gắn với đơn vị) nên không xoá hẳn: chuyển sang ngừng "
    "hoạt động, không nhận văn bản mới, vẫn giữ trong số liệu cũ.\n"
    "{code} has history (directives, reports or staff), so it is retired, not deleted: it receives no new "
    "directives and stays in past figures."
)
UNIT_CHANGE_REFUSED = (
    "Không thực hiện được: mã {code} không có, hoặc đơn vị mới cần tên (--name) và các đơn vị hợp nhất phải cùng "
    "cấp trên, hoặc không thể chuyển một đơn vị vào chính nó.\n"
    "Refused: no unit {code}, or a new unit needs --name and the merged units one parent, or a unit cannot move "
    "under itself."
)
UNITS_MERGED = (
    "Đã hợp nhất {codes} vào {into} ({name}); {moved} đơn vị trực thuộc chuyển sang {into}. Số liệu cũ được giữ và "
    "tính cho {into}.\n"
    "Merged {codes} into {into} ({name}); {moved} units moved under {into}. Past figures are kept and count for {into}."
)
UNIT_RENAMED = "Đã đổi tên {code} thành «{name}». / {code} renamed to «{name}»."
UNIT_MOVED = "Đã chuyển {code} sang trực thuộc {parent}. / {code} moved under {parent}."
