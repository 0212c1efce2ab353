"""The /help text and the command menu descriptions, per role."""

from __future__ import annotations

COMMAND_DESCRIPTIONS: dict[str, str] = {
    "help": "Hướng dẫn sử dụng",
    "huy": "Hủy thao tác đang làm",
    "vanban": "Danh sách văn bản đã nhận, gửi lại tệp",
    "tinhhinh": "Tình hình thực hiện văn bản",
    "nhacnho": "Nhắc các chi bộ chưa báo cáo",
    "tonghop": "Tổng hợp kết quả trong ngày",
    "xuat": "Xuất kết quả ra Excel",
    "baocao": "Dự thảo báo cáo tổng hợp (Word)",
}

INTRO = {
    "secretary": (
        "Đồng chí là Bí thư chi bộ. Khi có văn bản mới, tôi sẽ gửi đến đồng chí kèm tài liệu. "
        "Bấm «Đã nhận» khi đã nhận, bấm «Báo cáo» để gửi kết quả thực hiện."
    ),
    "board": (
        "Đồng chí là cán bộ Ban Tuyên giáo. Để gửi văn bản mới, hãy gửi tệp DOCX hoặc PDF của văn bản "
        "(hoặc dán nội dung) vào đây, kèm các tài liệu gửi kèm."
    ),
    "admin": "Đồng chí là quản trị hệ thống, có quyền như cán bộ Ban Tuyên giáo trên toàn bộ đơn vị.",
}

COMMANDS_HEADER = "Các lệnh của đồng chí:"


def help_text(roles: list[str], commands: list[str]) -> str:
    intro = [INTRO[r] for r in ("admin", "board", "secretary") if r in roles]
    lines = [f"/{c} – {COMMAND_DESCRIPTIONS[c]}" for c in commands]
    return "\n\n".join([*intro, COMMANDS_HEADER + "\n" + "\n".join(lines)])
