"""Texts of the levels: an upper directive reaching a lower unit's board, re-issuing or forwarding it, and the
upper board's view of the units below."""

from __future__ import annotations

from datetime import date

from messages import formats

HANDED = (
    "📥 VĂN BẢN CẤP TRÊN gửi {unit}: {kind} số {number} ngày {date} của {issuer}\n{subject}\n"
    "Hạn báo cáo của cấp trên: {deadline}."
)
HANDED_ASK = (
    "Đồng chí ban hành lại cho các chi bộ (số, ngày và hạn của cấp mình, hạn không muộn hơn hạn cấp trên) "
    "hoặc chuyển nguyên văn."
)
# A correction of an upper directive (a repeat's «đính chính»), to the boards below that received the old one.
CORRECTION_HEAD = "✏️ ĐÍNH CHÍNH: văn bản này thay thế văn bản {old} cấp trên đã gửi trước."
CORRECTED_FORWARDED = (
    "Đơn vị đã chuyển nguyên văn văn bản cũ: bản đính chính đã được chuyển tới các chi bộ của đơn vị."
)
CORRECTED_REISSUED = (
    "Đơn vị đã ban hành lại văn bản cũ bằng văn bản số {number}: đồng chí xem lại và đính chính văn bản của "
    "đơn vị nếu cần (gửi lại văn bản {number} với cùng số, ngày, chọn «đính chính»)."
)
# More cells for an upper directive a board below had already forwarded or re-issued (a repeat's «thêm chi bộ»).
MORE_CELLS = (
    "📨 Cấp trên gửi thêm văn bản {number} cho {cells} chi bộ của {unit}: đã gửi tới các chi bộ này {what}."
)
MORE_FORWARDED = "nguyên văn, như đơn vị đã chuyển"
MORE_REISSUED = "văn bản {number} đơn vị đã ban hành lại"
HANDED_FILES = "Kèm {count} tệp."
BUTTON_REISSUE = "📝 Ban hành lại"
BUTTON_FORWARD = "➡️ Chuyển nguyên văn"
BUTTON_FORWARD_FILES = "📎 Chuyển kèm tài liệu của đơn vị"
# The first line of a re-issued directive: which upper document it carries out.
IMPLEMENTS = "Thực hiện {kind} số {number} ngày {date} của {issuer}"
UPPER_DEADLINE = "⏳ Hạn báo cáo của cấp trên: {date}. Hạn của cấp mình không được muộn hơn."
DEADLINE_AFTER_UPPER = (
    "Hạn {date} muộn hơn hạn của cấp trên ({upper}). Đồng chí gõ một ngày không muộn hơn {upper}."
)
FORWARDED = "➡️ Đã chuyển nguyên văn {number} tới {cells} chi bộ của {unit}."
ALREADY = "Văn bản {number} đã được {unit} {action} lúc {at}."
NOT_YOURS = "Văn bản này không gửi tới đơn vị của đồng chí."
ON_CORRECTION = (
    "ℹ️ Văn bản {number} trên tin này đã được cấp trên đính chính: bot thực hiện theo bản đính chính "
    "(tin «ĐÍNH CHÍNH» gửi sau)."
)
HANDED_DOWN = "📨 Chuyển tới ban của {units} đơn vị cấp dưới để ban hành lại hoặc chuyển tiếp: {names}."
ACTIONS = {
    "reissued": "ban hành lại",
    "forwarded": "chuyển nguyên văn",
    "pending": "chưa xử lý",
    "held": "đang giữ chờ ban của đơn vị tham gia Chibo",
}
BELOW_HEAD = "🏛 Cấp dưới:"
BELOW_LINE = "• {unit}: {action}{when}{reissue} — {reported}/{cells} chi bộ đã báo cáo{up}"
BELOW_WHEN = " ({at})"
BELOW_MERGED = " (hợp nhất từ {names})"
BELOW_SPLIT = " (từ {name}, đã chia thành {names})"
NOW_PART_OF = "{unit} (từ {old})"  # a unit merged or split since, named by the one that acts for it
BELOW_REISSUE = ", số {number}, hạn {deadline}"


def issuer_of(parent_body: str | None, issuer: str | None) -> str:
    """Who issued the upper document, as the line «Thực hiện ...» names it."""
    return " ".join(p for p in (issuer, parent_body) if p) or formats.NO_VALUE


def day(value: date | None) -> str:
    return formats.day(value)


# --- reporting upward («báo cáo lên») ---------------------------------------------------------------------------
UP_NOTHING = "Đơn vị của đồng chí chưa nhận văn bản cấp trên nào cần báo cáo lên."
UP_WHICH = (
    "Đồng chí gõ «báo cáo lên» kèm số văn bản cấp trên, ví dụ «báo cáo lên {example}». Đang chờ: {numbers}."
)
UP_NOT_ACTED = (
    "Văn bản {number} chưa được ban hành lại hoặc chuyển tới các chi bộ, nên chưa có gì để báo cáo lên."
)
UP_CONFIRM = (
    "📤 Báo cáo lên của {unit} về văn bản {number} (hạn cấp trên {deadline}): {reported}/{cells} chi bộ đã báo "
    "cáo. Dự thảo Word tổng hợp từ báo cáo các chi bộ sẽ được gửi cho đồng chí xem trước. "
    "Bấm «Gửi lên cấp trên» để gửi cho ban cấp trên."
)
BUTTON_SEND_UP = "📤 Gửi lên cấp trên"
UP_READY = "Dự thảo đã đúng thì gửi lên cấp trên:"
UP_RECEIVED = (
    "📥 BÁO CÁO CẤP DƯỚI: {unit} báo cáo về văn bản {number} ({when}). {reported}/{cells} chi bộ đã báo cáo."
)
UP_SENT = "✅ Đã gửi báo cáo lên cấp trên về văn bản {number} ({when})."
UP_ON_TIME = "đúng hạn"
UP_LATE = "muộn hạn"
BELOW_REPORTED = "; báo cáo lên {at}, {when}"
BELOW_NOT_REPORTED = "; chưa báo cáo lên"

# --- reminders and escalation along the chain (bot/services/level_reminders.py) ----------------------------------
REMIND_ACT = (
    "⏰ Văn bản cấp trên {number} gửi {unit} chưa được ban hành lại hoặc chuyển tới các chi bộ (hạn báo cáo của "
    "cấp trên {deadline}). Đồng chí chọn ban hành lại hoặc chuyển nguyên văn."
)
REMIND_REPORT = (
    "⏰ Hạn báo cáo lên cấp trên về văn bản {number} là {deadline}. Gõ «báo cáo lên {number}» để xem và gửi báo "
    "cáo tổng hợp của {unit}."
)
ESCALATE_NOT_ACTED = (
    "⚠️ {unit} chưa ban hành lại hoặc chuyển văn bản {number} tới các chi bộ; hạn {deadline} đã qua."
)
ESCALATE_NOT_REPORTED = "⚠️ {unit} chưa báo cáo lên về văn bản {number}; hạn {deadline} đã qua."

# --- units below whose board staff has not joined (the upper board's choice when sending) ------------------------
ASK_UNSTAFFED = (
    "Ban của {count} đơn vị cấp dưới chưa có ai tham gia Chibo: {names}.\n"
    "Gửi thẳng tới các chi bộ của các đơn vị này, hay giữ lại chờ ban của đơn vị tham gia (khi một đồng chí trong "
    "ban tham gia, văn bản được chuyển tới ban để ban hành lại hoặc chuyển tiếp)?"
)
BUTTON_UNSTAFFED_DIRECT = "📨 Gửi thẳng tới chi bộ"
BUTTON_UNSTAFFED_HOLD = "⏸ Giữ chờ ban đơn vị"
HELD_DOWN = (
    "⏸ Giữ chờ ban của {units} đơn vị (chưa có ai trong ban tham gia Chibo): {names}. Khi một đồng chí trong ban "
    "tham gia, văn bản được chuyển tới đồng chí ấy."
)
BYPASSED = "📨 Gửi thẳng tới các chi bộ của {units} đơn vị có ban chưa tham gia Chibo: {names}."


def sent_down(handed: list[str], held: list[str], bypassed: list[str]) -> list[str]:
    """Which units below got the directive how: through their board, held for it, or in their cells directly."""
    lines = []
    if handed:
        lines.append(HANDED_DOWN.format(units=len(handed), names=", ".join(handed)))
    if held:
        lines.append(HELD_DOWN.format(units=len(held), names=", ".join(held)))
    if bypassed:
        lines.append(BYPASSED.format(units=len(bypassed), names=", ".join(bypassed)))
    return lines


# --- how a send's cells go: directly, through the boards below, held (before and after sending) ------------------
ROUTE_DIRECT = "gửi trực tiếp tới {cells} chi bộ"
ROUTE_HANDED = "{cells} chi bộ nhận qua ban của {boards} đơn vị cấp dưới (ban hành lại hoặc chuyển tiếp)"
ROUTE_WAITING = "{cells} chi bộ thuộc {units} đơn vị có ban chưa tham gia Chibo: gửi thẳng hoặc giữ chờ ban, đồng chí chọn khi gửi"
ROUTE_HELD = "{cells} chi bộ giữ chờ ban của {units} đơn vị"


def route(
    direct: int, handed: int, boards: int, waiting: int = 0, waiting_units: int = 0, held: bool = False
) -> str:
    """ "🧭 Gửi trực tiếp tới 2 chi bộ; 4 chi bộ nhận qua ban của 2 đơn vị cấp dưới (...)." """
    parts = [ROUTE_DIRECT.format(cells=direct)]
    if handed:
        parts.append(ROUTE_HANDED.format(cells=handed, boards=boards))
    if waiting:
        template = ROUTE_HELD if held else ROUTE_WAITING
        parts.append(template.format(cells=waiting, units=waiting_units))
    text = "; ".join(parts)
    return f"🧭 {text[0].upper()}{text[1:]}."


# --- a lower board adding its own files before forwarding ----------------------------------------------------------
ASK_FILES = (
    "📎 Đồng chí gửi các tệp của {unit} (văn bản, hướng dẫn) để chuyển kèm văn bản {number} tới các chi bộ{how}. "
    "Gửi xong, bấm hoặc gõ «Xong» để chuyển đi; gõ «hủy» để thôi."
)
ASK_FILES_HOW = {
    "zalo": ": trên Zalo gửi được ảnh chụp tài liệu, hoặc dán nội dung văn bản",
    "zalo_oa": ": tệp Word, PDF hoặc ảnh",
    "telegram": ": tệp Word, PDF hoặc ảnh",
}
FILE_TAKEN = "📎 Đã nhận «{name}» ({count} tệp của đơn vị). Gửi tiếp, hoặc bấm «Xong» để chuyển đi."
BUTTON_FILES_DONE = "✅ Xong"
FILES_NUDGE = "Đồng chí gửi tệp hoặc ảnh để chuyển kèm, bấm «Xong» để chuyển đi, hoặc gõ «hủy» để thôi."
FILES_UNSUPPORTED = (
    "Zalo không chuyển tệp PDF, Word cho tôi. Đồng chí chụp ảnh từng trang tài liệu rồi gửi, hoặc dán nội dung vào "
    "một tin nhắn; gửi hết thì bấm «Xong»."
)
FILES_CANCELLED = "Đã thôi chuyển kèm tài liệu. Văn bản {number} chưa được chuyển."
FORWARDED_FILES = "Kèm {count} tệp của đơn vị: {names}."
# A pasted text kept as a file for the cells (where only photos and text can be sent, the Zalo Bot Platform).
NOTE_NAME = "van-ban-cua-don-vi-{n}.txt"
