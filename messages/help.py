"""The help text and the command menu descriptions, per role: commands where the channel has a command menu,
else the words to type (Zalo)."""

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
    "baocaolen": "Gửi báo cáo tổng hợp lên cấp trên",
    "layso": "Ghi số báo cáo vào sổ văn bản",
    "web": "Mở trang quản lý trên máy tính",
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

# Where the channel shows no buttons and no command menu, a secretary reads what to type instead.
INTRO_TYPED_SECRETARY = (
    "Đồng chí là Bí thư chi bộ. Khi có văn bản mới, tôi sẽ gửi đến đồng chí kèm đường link tải tài liệu. "
    "Đồng chí trả lời bằng cách gõ chữ, không cần dấu."
)
# And a board member there (the Zalo Bot Platform) sends a directive as text or photos: it passes no files.
INTRO_TYPED_BOARD = (
    "Đồng chí là cán bộ Ban Tuyên giáo. Để gửi văn bản mới, hãy dán nội dung văn bản vào đây, hoặc chụp ảnh "
    "từng trang rồi gửi lần lượt; các bước sau đồng chí chọn bằng cách gõ số. Zalo không chuyển tệp PDF, Word "
    "cho tôi: tệp gửi qua Zalo OA của Chibo, hoặc lệnh «chibo directive send» trên máy tính."
)
COMMANDS_HEADER = "Các lệnh của đồng chí:"
WORDS_HEADER = "Các từ đồng chí có thể gõ:"
BOARD_WORDS_HEADER = "Việc của Ban, đồng chí gõ:"
# The words a secretary types (handlers/classify.py and the report form understand them), in the order she needs.
SECRETARY_WORDS = (
    ("đã nhận", "xác nhận đã nhận văn bản mới nhất"),
    ("báo cáo", "gửi báo cáo kết quả thực hiện"),
    ("sửa", "sửa báo cáo đã gửi"),
    ("văn bản", "danh sách văn bản đã nhận, nhận lại tệp"),
    ("quay lại", "về câu hỏi trước khi đang báo cáo"),
    ("hủy", "dừng việc đang làm"),
    ("trợ giúp", "xem lại hướng dẫn này"),
)
# The board's commands typed as words (messages/common.py WORDS_BOARD), each followed by what it takes.
BOARD_WORDS = (
    ("tình hình [số văn bản]", "tình hình thực hiện văn bản"),
    ("nhắc nhở <số văn bản> [tắt | bật]", "nhắc các chi bộ chưa báo cáo, hoặc tắt, bật nhắc tự động"),
    ("tổng hợp [số văn bản]", "tổng hợp trong ngày, hoặc số liệu một văn bản"),
    ("… theo cấp dưới", "sau «tổng hợp», «xuất», «báo cáo» một văn bản: theo báo cáo của cấp dưới"),
    ("xuất <số văn bản>", "xuất kết quả ra Excel"),
    ("báo cáo word <số văn bản>", "dự thảo báo cáo tổng hợp (Word)"),
    ("lấy số <số văn bản> [số khác]", "ghi số báo cáo vào sổ văn bản"),
    ("trang web", "nhận đường link mở trang quản lý trên máy tính"),
    ("hủy", "dừng việc đang làm"),
    ("trợ giúp", "xem lại hướng dẫn này"),
)
# Commands the typed words above stand for: where there is no command menu, none is shown with a slash.
TYPED_AS_WORDS = frozenset({"help", "huy", "vanban"})
BOARD_TYPED_AS_WORDS = frozenset(
    {"help", "huy", "tinhhinh", "nhacnho", "tonghop", "xuat", "baocao", "layso", "web", "baocaolen"}
)


# A person linked to the bot who leads no unit now (their unit retired at a merge or split, the roster naming
# someone else): told why nothing comes, rather than left without an answer.
NO_ROLE = (
    "Đồng chí hiện không giữ vai trò nào trong Chibo (ví dụ: đơn vị của đồng chí đã hợp nhất hoặc chia tách), nên "
    "bot không gửi văn bản và không nhận báo cáo của đồng chí. Nếu đồng chí vẫn phụ trách một đơn vị, đề nghị Ban "
    "Tuyên giáo ghi tên đồng chí ở dòng của đơn vị đó trong danh sách đơn vị."
)


def help_text(roles: list[str], commands: list[str], *, words: bool = False, buttons: bool = True) -> str:
    """The help for `roles`; `words`: the channel has no command menu, so a secretary reads the words to type;
    `buttons`: the channel shows buttons (else the secretary's introduction speaks of typing, not pressing)."""
    typed = words and "secretary" in roles
    board_typed = words and bool({"board", "admin"} & set(roles))
    typed_intro = {"secretary": INTRO_TYPED_SECRETARY, "board": INTRO_TYPED_BOARD}
    intro = [
        typed_intro[r] if not buttons and r in typed_intro else INTRO[r]
        for r in ("admin", "board", "secretary")
        if r in roles
    ]
    sections = [*intro]
    if typed:
        sections.append(WORDS_HEADER + "\n" + "\n".join(f"«{w}» – {what}" for w, what in SECRETARY_WORDS))
        commands = [c for c in commands if c not in TYPED_AS_WORDS]
    if board_typed:
        sections.append(BOARD_WORDS_HEADER + "\n" + "\n".join(f"«{w}» – {what}" for w, what in BOARD_WORDS))
        commands = [c for c in commands if c not in BOARD_TYPED_AS_WORDS]
    if commands and words:
        commands = []  # no command menu: a slash command is never shown where it cannot be chosen
    if commands:
        lines = [f"/{c} – {COMMAND_DESCRIPTIONS[c]}" for c in commands]
        sections.append(COMMANDS_HEADER + "\n" + "\n".join(lines))
    return "\n\n".join(sections) or NO_ROLE
