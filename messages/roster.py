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

PROBLEMS_HEADER = "Không nhập gì cả vì có {count} dòng lỗi. Sửa các dòng sau rồi nhập lại:"
PROBLEM_LINE = "  Dòng {line} ({code}): {reason}"
DONE = "Đã nhập danh sách: {created} đơn vị mới, {updated} đơn vị cập nhật, {unchanged} không đổi."
NOT_IN_FILE = "Lưu ý: {count} đơn vị đã có trong hệ thống nhưng không có trong tệp (giữ nguyên): {codes}"
