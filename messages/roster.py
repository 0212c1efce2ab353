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
TREE_MERGED_INTO = "hợp nhất vào {code}"
TREE_SPLIT_INTO = "đã chia thành {codes}"
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

# chibo units split (and a roster file's «tách từ»): why a split is refused
MERGE_MIXED = (
    "Không hợp nhất được: {cells} là chi bộ, còn đơn vị kia có đơn vị trực thuộc. Chỉ hợp nhất chi bộ với chi bộ "
    "(thành một chi bộ) hoặc đảng bộ với đảng bộ; muốn đưa chi bộ vào một đảng bộ thì dùng «chibo units move». / "
    "Refused: {cells} are cells and the other units have units under them. Merge cells with cells (into a cell) or "
    "committees with committees; to put a cell under a committee, use «chibo units move». (Successor: {into}.)"
)
SPLIT_RETIRED = "{code} đã ngừng hoạt động, không tách được. / {code} is retired: it cannot be split."
SPLIT_TOO_FEW = (
    "Tách {code} cần ít nhất hai đơn vị mới, mã khác nhau (một đơn vị thì dùng đổi tên hoặc hợp nhất). / "
    "Splitting {code} needs two successors at least, with different codes (for one, rename or merge)."
)
SPLIT_NEEDS_NAME = (
    'Đơn vị mới {code} cần tên: --into {code}:"Tên đơn vị". / The new unit {code} needs a name: '
    '--into {code}:"Unit name".'
)
SPLIT_BAD_SUCCESSOR = (
    "{code} không nhận được phần tách từ {unit}: đã ngừng hoạt động hoặc nằm dưới {unit}. / "
    "{code} cannot take part of {unit}: it is retired or under {unit}."
)
SPLIT_NOT_CHILD = "{child} không trực thuộc {code}. / {child} is not under {code}."
SPLIT_NOT_SUCCESSOR = (
    "{child} được xếp vào {successor}, nhưng {successor} không phải đơn vị mới (--into). / "
    "{child} is placed with {successor}, which is not a successor (--into)."
)
SPLIT_UNPLACED = (
    "Chưa xếp các đơn vị trực thuộc {code} sau: {codes}. Mỗi đơn vị phải thuộc một đơn vị mới "
    "(--cells MÃ_MỚI=MÃ,MÃ). / Units under {code} not placed: {codes}. Place each with a successor "
    "(--cells NEW=CODE,CODE)."
)
SPLIT_EMPTY = (
    "{successor} không nhận đơn vị nào của {code}. / {successor} gets none of the units under {code}."
)
SPLIT_BAD_INTO = (
    'Không hiểu «{value}»: viết --into MÃ:"Tên đơn vị" (hoặc chỉ MÃ cho đơn vị đã có). / '
    'Cannot read «{value}»: write --into CODE:"Unit name" (or CODE alone for an existing unit).'
)
SPLIT_BAD_CELLS = "Không hiểu «{value}»: viết --cells MÃ_MỚI=MÃ1,MÃ2. / Cannot read «{value}»: write --cells NEW=CODE1,CODE2."
SPLIT_TWICE = "{child} được xếp hai lần. / {child} is placed twice."
UNITS_SPLIT = (
    "Đã tách {code} thành {into}; cán bộ ban của {code} chuyển sang {main}. Số liệu cũ được giữ và tính cho đơn vị "
    "mới theo nơi các chi bộ đang trực thuộc.\n"
    "Split {code} into {into}; its board staff moved to {main}. Past figures are kept and count for each "
    "successor by where its cells now are."
)
SPLIT_PLACED_LINE = "  {successor}: {children}"

# a roster file's column «Thay đổi» (bot/services/roster_changes.py): what the import changed, both languages
HELD_HANDED = (
    "Đã giao {count} văn bản cấp trên đang chờ cho ban của {code}. / "
    "Handed {count} upper directives held for retired units to the board of {code}."
)
CELL_DIRECTIVES_CARRIED = (
    "{into} nhận {count} văn bản đang mở mà {codes} chưa báo cáo: bí thư của {into} báo cáo thay; báo cáo đã gửi "
    "vẫn giữ tên đơn vị cũ và được tính. / {into} takes over {count} open directives {codes} had not reported on; "
    "reports already made keep their unit's name and count."
)
CELL_DIRECTIVES_SENT = (
    "Đã gửi {count} văn bản đang mở của các chi bộ cũ cho bí thư của {code}. / "
    "Sent {count} open directives of the former cells to the secretary of {code}."
)
SECRETARY_ENDED = (
    "{name} thôi là bí thư của {code} (đơn vị ngừng hoạt động); nếu đồng chí là bí thư của đơn vị mới, ghi tên ở "
    "cột «Bí thư» của đơn vị đó trong tệp danh sách rồi nhập lại tệp. / {name} is no longer secretary of {code} "
    "(retired); if they lead the new unit, name them in its «Bí thư» column of the roster file and import it again."
)
CHANGE_MERGED = "Hợp nhất {codes} vào {into}. / Merged {codes} into {into}."
CHANGE_SPLIT = "Tách {code} thành {into}. / Split {code} into {into}."
CHANGE_RECODED = "{code} đổi thành {into} ({name}). / {code} became {into} ({name})."
CHANGE_RENAMED = "Đổi tên {code}: «{old}» → «{new}». / Renamed {code}: «{old}» → «{new}»."
CHANGE_MOVED = "Chuyển {code} sang trực thuộc {parent}. / Moved {code} under {parent}."
CHANGES_HEADER = "Thay đổi cây đơn vị: / Changes of the units tree:"
# why a file's changes are refused (a problem of its row)
CHANGE_UNKNOWN = (
    "không hiểu cột Thay đổi «{value}»; viết: «sáp nhập vào MÃ», «hợp nhất từ MÃ, MÃ», «tách từ MÃ» hoặc "
    "«đổi tên từ MÃ» / cannot read the change «{value}»"
)
CHANGE_NO_UNIT = "không có đơn vị mã {code} để {what} / no unit {code} to {what_en}"
CHANGE_RETIRED = "{code} đã ngừng hoạt động từ trước / {code} is already retired"
CHANGE_TWO_WAYS = "{code} vừa {first} vừa {second} trong tệp; mỗi đơn vị chỉ một thay đổi / {code} is changed twice in the file"
CHANGE_STILL_LISTED = (
    "{code} sẽ ngừng hoạt động ({what}) nhưng dòng {line} vẫn giữ nó là đơn vị đang hoạt động; xoá dòng đó "
    "hoặc ghi «sáp nhập vào ...» vào cột Thay đổi của dòng đó / {code} retires but row {line} still lists it"
)
CHANGE_UNDER_RETIRED = "mã cấp trên {parent} sẽ ngừng hoạt động ({what}); ghi mã cấp trên là đơn vị mới / parent {parent} retires"
CHANGE_SPLIT_ONE = (
    "chỉ một dòng ghi «tách từ {code}»; tách phải thành hai đơn vị trở lên (một đơn vị thì ghi «đổi tên từ "
    "{code}») / only one row splits {code}"
)
CHANGE_INTO_ITSELF = "đơn vị không thể {what} chính nó / a unit cannot change into itself"
CHANGE_TARGET_CHANGED = (
    "{into} cũng ngừng hoạt động trong tệp này; mỗi lần nhập chỉ một bước thay đổi / {into} retires in this "
    "file too"
)
CHANGE_MERGE_INTO_MISSING = "không có dòng nào cho đơn vị {into} / no row for {into}"
CHANGE_WHAT = {"merge": "sáp nhập", "split": "tách", "recode": "đổi tên"}
CHANGE_SAID = {"merge": "sáp nhập vào {into}", "split": "tách thành {into}", "recode": "đổi thành {into}"}
CHANGE_WHAT_EN = {"merge": "merge", "split": "split", "recode": "rename"}
