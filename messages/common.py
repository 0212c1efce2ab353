"""Texts shared by every flow: errors, the not-registered answer, generic words."""

from __future__ import annotations

from bot.core.events import Reply

INTERNAL_ERROR = (
    "Xin lỗi, hệ thống vừa gặp lỗi khi xử lý tin nhắn của đồng chí. Đồng chí vui lòng gửi lại sau ít phút."
)

NOT_REGISTERED = (
    "Chào đồng chí! Đây là trợ lý nhận văn bản và báo cáo của Ban Tuyên giáo.\n"
    "Đồng chí chưa được kết nối. Để tham gia, hãy mở đường link mời hoặc gõ mã mời "
    "(ví dụ: ABCDE-FGHJK) mà Ban Tuyên giáo đã gửi cho đồng chí.\n"
    "Nếu chưa có mã, đồng chí vui lòng liên hệ Ban Tuyên giáo cấp trên."
)

# Texts that send people to the help end in {help}: the command where the channel has a command menu, else the word
# to type (`for_channel`), so a Zalo user never reads a slash command.
HELP_BY_COMMAND = "Gõ /help"
HELP_BY_WORD = "Gõ «trợ giúp»"

UNKNOWN_COMMAND = "Lệnh này không có hoặc đồng chí không có quyền dùng. {help} để xem các lệnh của đồng chí."

NOT_UNDERSTOOD = "Tôi chưa hiểu tin nhắn này. {help} để xem các việc đồng chí có thể làm."

BUTTON_UNKNOWN = "Nút này không còn dùng được. {help} để xem các việc đồng chí có thể làm."

CANCELLED = "Đã hủy. {help} để xem các việc đồng chí có thể làm."


def for_channel(text: str, *, commands: bool) -> str:
    """`text` with its {help} filled in for a channel with (`commands`) or without a command menu."""
    return text.format(help=HELP_BY_COMMAND if commands else HELP_BY_WORD)


def reply(text: str) -> Reply:
    return Reply(text=text)


UNSUPPORTED_FILE = (
    "Tôi chỉ nhận được tin nhắn chữ và ảnh. Đồng chí vui lòng gửi ảnh, hoặc gõ nội dung cần báo cáo bằng chữ."
)

# Words typed instead of buttons or commands (compared without diacritics or case), e.g. on Zalo.
WORDS_ACK = ("da nhan", "nhan roi", "da nhan van ban")
WORDS_HELP = ("tro giup", "giup", "huong dan", "help")
WORDS_CANCEL = ("huy", "huy bo")
WORDS_LIST = ("van ban", "vanban", "danh sach van ban")
WORDS_EDIT = ("sua", "sua bao cao", "sua lai")
WORDS_SWITCH_OFF = ("tat", "off")  # after «nhắc nhở 747»: reminders off
WORDS_SWITCH_ON = ("bat", "on")
WORDS_KEEP = ("huy", "thoi")  # typed instead of a corrected value in a directive's preview: keep the value
# The board's commands typed as words, each followed by what the command takes ("tình hình 747", "nhắc nhở 747 tắt").
WORDS_BOARD: dict[str, str] = {
    "tinh hinh": "tinhhinh",
    "tinhhinh": "tinhhinh",
    "nhac nho": "nhacnho",
    "nhacnho": "nhacnho",
    "tong hop": "tonghop",
    "tonghop": "tonghop",
    "xuat": "xuat",
    "xuat excel": "xuat",
    "bao cao": "baocao",
    "baocao": "baocao",
    "bao cao word": "baocao",
    "du thao bao cao": "baocao",
    "lay so": "layso",
    "layso": "layso",
    "web": "web",
    "trang web": "web",
    "bao cao len": "baocaolen",
    "baocaolen": "baocaolen",
}
NOTHING_TO_ACK = "Đồng chí đã xác nhận nhận tất cả văn bản. Gõ «văn bản» để xem danh sách."
NOTHING_TO_EDIT = "Chi bộ của đồng chí chưa gửi báo cáo nào để sửa. Gõ «báo cáo» để báo cáo."
