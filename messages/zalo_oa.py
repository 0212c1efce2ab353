"""Texts only the Zalo OA adapter shows: the form that asks for the user's phone number, and the line above extra
choices when a message offers more buttons than one Zalo template holds."""

from __future__ import annotations

SHARE_PHONE_TITLE = "Xác nhận số điện thoại"
SHARE_PHONE_SUBTITLE = "Đồng chí bấm vào đây để gửi số điện thoại đã đăng ký Zalo cho trợ lý."
MORE_CHOICES = "Các lựa chọn khác:"
CHOOSE = "Đồng chí chọn:"
