"""Texts of joining the bot with an invite: greeting, phone check, the reasons a code is refused."""

from __future__ import annotations

ROLE_NAMES = {
    "secretary": "Bí thư",
    "board": "Cán bộ Ban Tuyên giáo",
    "admin": "Quản trị hệ thống",
}

CODE_UNKNOWN = (
    "Mã mời không đúng. Đồng chí kiểm tra lại mã (10 ký tự, ví dụ ABCDE-FGHJK) "
    "hoặc liên hệ Ban Tuyên giáo để được cấp mã mới."
)
CODE_USED = "Mã mời này đã được sử dụng. Nếu đồng chí đổi điện thoại hoặc tài khoản, hãy xin Ban Tuyên giáo một mã mới."
CODE_EXPIRED = "Mã mời này đã hết hạn. Đồng chí vui lòng liên hệ Ban Tuyên giáo để được cấp mã mới."
CODE_REVOKED = "Mã mời này đã bị thay bằng một mã mới hơn. Đồng chí hãy dùng mã mới nhất Ban Tuyên giáo gửi."
TOO_MANY_TRIES = (
    "Đồng chí đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau 1 giờ hoặc liên hệ Ban Tuyên giáo."
)

SHARE_PHONE_BUTTON = "📱 Gửi số điện thoại"
PHONE_NOT_OWN = "Đồng chí vui lòng gửi số điện thoại của chính mình bằng nút «📱 Gửi số điện thoại» bên dưới."
PHONE_USE_BUTTON = "Đồng chí vui lòng bấm nút «📱 Gửi số điện thoại» bên dưới để xác nhận số điện thoại."
PHONE_INVALID = "Số điện thoại chưa đúng. Đồng chí gõ lại số điện thoại di động của mình, ví dụ 0912345678."
PHONE_MISMATCH = (
    "Số điện thoại này không khớp với số trong danh sách của Ban Tuyên giáo. "
    "Đồng chí vui lòng liên hệ Ban Tuyên giáo để cập nhật số, rồi dùng lại mã mời."
)
PHONE_MISMATCH_TYPED = (
    "Số điện thoại này không khớp với số trong danh sách của Ban Tuyên giáo. "
    "Nếu gõ nhầm, đồng chí gõ lại số điện thoại (còn {left} lần thử). "
    "Nếu đồng chí đã đổi số, hãy liên hệ Ban Tuyên giáo để cập nhật số, rồi gõ lại mã mời."
)
PHONE_MISMATCH_LAST = (
    "Số điện thoại vẫn không khớp với số trong danh sách của Ban Tuyên giáo. "
    "Đồng chí vui lòng liên hệ Ban Tuyên giáo để cập nhật số, rồi gõ lại mã mời."
)


def greeting(name: str, role: str, unit: str | None, *, can_share_contact: bool) -> str:
    where = f" – {unit}" if unit else ""
    ask = (
        "Để hoàn tất, đồng chí vui lòng bấm nút «📱 Gửi số điện thoại» bên dưới để xác nhận số điện thoại."
        if can_share_contact
        else "Để hoàn tất, đồng chí vui lòng gõ số điện thoại di động của mình (ví dụ 0912345678)."
    )
    return f"Chào đồng chí {name}!\nĐồng chí được mời tham gia với vai trò {ROLE_NAMES[role]}{where}.\n{ask}"


def linked(name: str, role: str, unit: str | None) -> str:
    where = f" của {unit}" if unit else ""
    return (
        f"✅ Đã kết nối thành công. Chào mừng đồng chí {name}, {ROLE_NAMES[role]}{where}.\n"
        "Từ nay đồng chí sẽ nhận văn bản và gửi báo cáo tại đây."
    )


def welcome_back(name: str, help_hint: str) -> str:
    """`help_hint` says how to reach the help on this channel ("Gõ /help", "Gõ «trợ giúp»")."""
    return f"Chào đồng chí {name}! Đồng chí đã được kết nối. {help_hint} để xem các việc có thể làm."
