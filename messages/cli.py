"""Texts the administrator reads in the terminal."""

from __future__ import annotations

from bot.core.config import Refusal

NO_TOKEN = """\
Chưa cấu hình token Telegram hoặc Zalo. / No Telegram or Zalo token is configured.

Tiếng Việt:
  - Zalo: tạo bot trên Zalo Bot Platform (bot.zaloplatforms.com), chép token dạng <bot_id>:<mã bí mật> và đặt
    CHIBO_ZALO_TOKEN=<token>.
  - Telegram: nhắn cho @BotFather, gõ /newbot và làm theo hướng dẫn; BotFather gửi một token dạng
    123456789:AAE...; đặt CHIBO_TELEGRAM_TOKEN=<token>.
  Đặt biến môi trường (hoặc ghi vào tệp .env, xem .env.example), rồi chạy lại `make run`.

English:
  - Zalo: create a bot on the Zalo Bot Platform (bot.zaloplatforms.com), copy its token <bot_id>:<secret> and set
    CHIBO_ZALO_TOKEN=<token>.
  - Telegram: message @BotFather, send /newbot and follow the steps; BotFather replies with a token like
    123456789:AAE...; set CHIBO_TELEGRAM_TOKEN=<token>.
  Set it in the environment (or in .env, see .env.example) and run `make run` again.
"""

# Why `chibo run` refuses to start; {url}, {port} and {timezone} are the configured values.
REFUSALS: dict[Refusal, str] = {
    Refusal.NO_TOKEN: NO_TOKEN,
    Refusal.NO_WEBHOOK_SECRET: (
        "Có CHIBO_PUBLIC_URL (chế độ webhook) nhưng chưa đặt CHIBO_WEBHOOK_SECRET: ai cũng có thể gửi tin giả tới bot. "
        "Tạo một mã bằng `openssl rand -hex 32` rồi đặt CHIBO_WEBHOOK_SECRET=<mã>.\n"
        "CHIBO_PUBLIC_URL is set (webhook mode) but CHIBO_WEBHOOK_SECRET is not: anyone could post fake updates to "
        "the bot. Make one with `openssl rand -hex 32` and set CHIBO_WEBHOOK_SECRET=<secret>."
    ),
    Refusal.BAD_WEBHOOK_SECRET: (
        "CHIBO_WEBHOOK_SECRET có ký tự Telegram không chấp nhận: chỉ dùng A-Z, a-z, 0-9, _ và -, dài 1 đến 256 ký tự "
        "(ví dụ tạo bằng `openssl rand -hex 32`).\n"
        "CHIBO_WEBHOOK_SECRET has characters Telegram does not accept: use only A-Z, a-z, 0-9, _ and -, 1 to 256 "
        "characters (e.g. made with `openssl rand -hex 32`)."
    ),
    Refusal.PUBLIC_URL_NOT_HTTPS: (
        "CHIBO_PUBLIC_URL «{url}» phải là một địa chỉ HTTPS đầy đủ, ví dụ https://chibo.example.org: Telegram và Zalo "
        "chỉ gọi webhook qua HTTPS.\n"
        "CHIBO_PUBLIC_URL «{url}» must be a full HTTPS address, e.g. https://chibo.example.org: Telegram and Zalo "
        "call webhooks over HTTPS only."
    ),
    Refusal.PUBLIC_URL_BAD_PORT: (
        "CHIBO_PUBLIC_URL dùng cổng {port}, Telegram chỉ gọi webhook qua cổng 443, 80, 88 hoặc 8443. "
        "Đổi cổng trên reverse proxy (CHIBO_LISTEN_PORT có thể giữ nguyên).\n"
        "CHIBO_PUBLIC_URL uses port {port}; Telegram calls webhooks on ports 443, 80, 88 or 8443 only. "
        "Change the reverse proxy's port (CHIBO_LISTEN_PORT may stay as it is)."
    ),
    Refusal.UNKNOWN_TIMEZONE: (
        "Không có múi giờ «{timezone}» (CHIBO_TIMEZONE); dùng tên như Asia/Ho_Chi_Minh.\n"
        "Unknown time zone «{timezone}» (CHIBO_TIMEZONE); use a name like Asia/Ho_Chi_Minh."
    ),
    Refusal.ZALO_NEEDS_PUBLIC_URL: (
        "Có CHIBO_ZALO_TOKEN nhưng chưa đặt CHIBO_PUBLIC_URL: bot Zalo không gửi được tệp, người dùng Zalo nhận "
        "đường link tải tệp từ máy chủ của Chibo, nên máy chủ cần một địa chỉ HTTPS công khai "
        "(xem docs/deploy.md, mục 4).\n"
        "CHIBO_ZALO_TOKEN is set but CHIBO_PUBLIC_URL is not: Zalo bots cannot send files, so Zalo users get links "
        "to download them from Chibo's own server, which needs a public HTTPS address (see docs/deploy.md, part 4)."
    ),
    Refusal.ZALO_OA_NEEDS_PUBLIC_URL: (
        "Đã cấu hình Zalo OA (CHIBO_ZALO_OA_*) nhưng chưa đặt CHIBO_PUBLIC_URL: Zalo OA gửi tin nhắn đến bot qua "
        "webhook, cần một địa chỉ HTTPS công khai (xem docs/deploy.md, mục 4).\n"
        "A Zalo OA is configured (CHIBO_ZALO_OA_*) but CHIBO_PUBLIC_URL is not: the OA pushes messages to the bot's "
        "webhook, which needs a public HTTPS address (see docs/deploy.md, part 4)."
    ),
}
REFUSED = "Chibo không khởi động với cấu hình này. / Chibo will not start with these settings."
SETTINGS_INVALID = (
    "Giá trị cấu hình không hợp lệ; sửa các biến môi trường (hoặc tệp .env) dưới đây rồi chạy lại.\n"
    "Invalid settings; fix these environment variables (or .env) and run again.\n{details}"
)

RUNNING = "Chibo đang chạy ({mode}). Nhấn Ctrl+C để dừng."
MODE_POLLING = "{channel}: polling"
MODE_WEBHOOK = "{channel}: webhook tại {url}"
STOPPED = "Đã dừng Chibo."
DB_UPGRADED = "Cơ sở dữ liệu đã được cập nhật lên phiên bản mới nhất."

BACKUP_DONE = "Đã sao lưu cơ sở dữ liệu vào {out}. / The database was backed up to {out}."
BACKUP_POSTGRES = (
    "`chibo backup` và `chibo restore` chỉ dùng cho SQLite; với PostgreSQL hãy dùng pg_dump và pg_restore "
    "(xem docs/deploy.md).\n"
    "`chibo backup` and `chibo restore` are for SQLite; on PostgreSQL use pg_dump and pg_restore (docs/deploy.md)."
)
BACKUP_NO_DATABASE = "Không có tệp cơ sở dữ liệu {path}. / There is no database file {path}."
RESTORE_DONE = (
    "Đã khôi phục cơ sở dữ liệu từ {source} (phiên bản {revision}). / "
    "The database was restored from {source} (migration {revision})."
)
# Why `chibo restore` refused; {detail} says more when there is more to say.
RESTORE_REFUSED: dict[str, str] = {
    "in_use": (
        "Bot đang chạy và dùng cơ sở dữ liệu này: hãy dừng bot rồi khôi phục, hoặc thêm --force nếu chắc chắn.\n"
        "The bot is running on this database: stop it first, or add --force if you are sure."
    ),
    "not_sqlite": "Tệp này không phải cơ sở dữ liệu SQLite. / This file is not a SQLite database. {detail}",
    "not_chibo": "Tệp này không phải cơ sở dữ liệu của Chibo. / This file is not a Chibo database.",
    "wrong_revision": (
        "Bản sao lưu ở phiên bản cơ sở dữ liệu khác với phiên bản Chibo này: {detail}. Hãy dùng đúng phiên bản "
        "Chibo đã tạo bản sao lưu.\n"
        "The backup is at another database migration than this version of Chibo expects: {detail}. Use the "
        "version of Chibo that made it."
    ),
    "damaged": "Tệp sao lưu bị hỏng (kiểm tra toàn vẹn thất bại). / The backup is damaged (integrity check failed).",
}

UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã {code}."
NO_INVITEES = "Không có ai cần cấp mã mời theo điều kiện đã chọn."
INVITES_ISSUED = "Đã cấp {count} mã mời, hết hạn sau {days} ngày. Mỗi mã chỉ dùng được một lần; mã cũ của cùng người đã bị thu hồi."
INVITES_KEPT = (
    "{count} người đã có mã mời còn hạn nên không cấp lại (mã đã in vẫn dùng được): {names}.\n"
    "Cấp mã mới và thu hồi mã cũ: thêm --replace. Xem ai đang có mã: chibo invite --list.\n"
    "{count} people already hold a valid invite, kept (printed codes still work). "
    "To revoke and re-issue: --replace. To see them: chibo invite --list."
)
NO_VALID_INVITES = "Không ai trong danh sách đang có mã mời còn hạn. / Nobody selected holds a valid invite."
HELD_HEADERS = ("Họ tên", "Số điện thoại", "Đơn vị", "Mã còn hạn đến")
HELD_NOTE = (
    "{count} mã mời còn hạn, chưa dùng. Mã chỉ lưu dạng băm nên không in lại được; cần in lại thì cấp mới bằng "
    "--replace.\n{count} valid unused invites. Codes are stored hashed and cannot be shown again; to re-print, "
    "re-issue with --replace."
)
INVITES_WRITTEN = "Đã ghi danh sách mã mời vào {path}."
QR_WRITTEN = "Đã tạo {count} mã QR trong thư mục {path}."
NO_LINK = "Lưu ý: chưa biết tên bot Telegram nên không tạo được đường link; đặt CHIBO_TELEGRAM_BOT_USERNAME hoặc CHIBO_TELEGRAM_TOKEN."
BAD_FORMAT = "Định dạng đầu ra phải là table, csv hoặc xlsx."
BAD_ROLE = "Vai trò phải là secretary (bí thư chi bộ) hoặc board (cán bộ Ban Tuyên giáo)."

INVITE_HEADERS = [
    "Họ tên",
    "Số điện thoại",
    "Đơn vị",
    "Vai trò",
    "Mã mời",
    "Đường link",
    "Hết hạn",
    "Cách kết nối trên Zalo",
]
ZALO_HOW = "Mở Zalo, {open}, gửi mã {code} rồi gõ số điện thoại của mình"
ZALO_OPEN_LINK = "mở {url} (hoặc quét mã QR của bot)"
ZALO_OPEN_NAME = "tìm bot «{name}»"
ZALO_OPEN_QR = "quét mã QR của bot"
ZALO_QR_WRITTEN = "Mã QR mở bot Zalo: {path}"

STAFF_ADDED = "Đã thêm {name} ({role}) phạm vi {scope}. Cấp mã mời bằng: chibo invite --role {role_kind} --phone {phone}"
STAFF_SCOPE_ALL = "toàn bộ"
STAFF_NEEDS_UNIT = "Cán bộ Ban Tuyên giáo cần có đơn vị phạm vi (--unit MÃ)."
BAD_PHONE = "Số điện thoại «{phone}» không đúng định dạng (ví dụ đúng: 0912345678)."

DIRECTIVE_CLASSIFIED = (
    "Văn bản {name} có độ mật «{grade}»: văn bản mật không được gửi qua ứng dụng nhắn tin. Không gửi.\n"
    "{name} is marked «{grade}» (classified): classified documents are never sent over messengers. Not sent."
)
DIRECTIVE_SCAN_START = (
    "Bản scan {total} trang: đang nhận dạng chữ… / A scan of {total} page(s): reading it with Tesseract…"
)
DIRECTIVE_SCAN_PAGE = "Đã đọc trang {done}/{total} / Page {done} of {total} read"
DIRECTIVE_BAD_DEADLINE = "Hạn báo cáo «{value}» không đúng; dùng dạng ngày/tháng/năm, ví dụ 30/10/2024."
DIRECTIVE_UNKNOWN_UNITS = "Không tìm thấy đơn vị: {codes}"
DIRECTIVE_UNKNOWN_FORM = "Không có mẫu báo cáo «{key}». Các mẫu hiện có: {keys}"
DIRECTIVE_NO_CELLS = "Các đơn vị đã chọn không có chi bộ nào."
DIRECTIVE_QUEUED = (
    "Đã xếp lịch gửi văn bản {number} (mã nội bộ {id}) tới {cells} chi bộ: {reachable} bí thư đã kết nối sẽ nhận "
    "ngay khi bot chạy; {unregistered} chi bộ sẽ nhận khi bí thư kết nối."
)
DIRECTIVE_HANDED = (
    "Chuyển tới ban của {count} đơn vị cấp dưới để ban hành lại hoặc chuyển tiếp: {names}.\n"
    "Handed to the boards of {count} units below, to re-issue or forward: {names}."
)
DIRECTIVE_HELD = (
    "Giữ chờ ban của {count} đơn vị (chưa ai trong ban kết nối), chuyển tới ban khi một đồng chí kết nối: {names}.\n"
    "Held for the boards of {count} units (none of their board has joined), handed to the first who joins: {names}."
)
DIRECTIVE_BYPASSED = (
    "Gửi thẳng tới chi bộ của {count} đơn vị có ban chưa kết nối: {names} (--unstaffed hold để giữ chờ ban).\n"
    "Sent directly to the cells of {count} units whose board has not joined: {names} (--unstaffed hold keeps it for "
    "their board)."
)
FILE_TOO_LARGE = "Tệp {name} quá lớn ({size} MB); giới hạn là {limit} MB (CHIBO_MAX_FILE_MB)."

BOARD_NOT_FOUND = (
    "Không tìm thấy văn bản đã gửi nào có số hoặc mã «{query}». Các văn bản đang theo dõi: {numbers}\n"
    "No sent directive has the number or code «{query}». Directives followed: {numbers}"
)
BOARD_AMBIGUOUS = (
    "Có nhiều văn bản khớp «{query}»: {numbers}. Gõ số đầy đủ hơn hoặc mã nội bộ, ví dụ: chibo status '#12'.\n"
    "Several directives match «{query}»: {numbers}. Give the full number or the internal code, e.g. chibo status '#12'."
)
BOARD_CANDIDATE = "{number} ({date}) {code}"
STATUS_LIST_HINT = (
    "Xem một văn bản: chibo status <số hoặc mã nội bộ>, ví dụ: chibo status 747 hoặc chibo status '#12'.\n"
    "One directive: chibo status <number or internal code>, e.g. chibo status 747 or chibo status '#12'."
)
STATUS_LIST_MORE = (
    "… và {count} văn bản khác: chibo status <số hoặc mã nội bộ> để xem.\n"
    "… and {count} more: chibo status <number or internal code> to see one."
)
DIRECTIVE_PAST_DEADLINE = (
    "Hạn báo cáo {date} đã qua; cho một ngày từ hôm nay trở đi. Không gửi.\n"
    "The report deadline {date} is past; give today or a later day. Not sent."
)
DIRECTIVE_NO_SUBJECT = (
    'Không tìm thấy trích yếu của văn bản; cho bằng --subject "...". Không gửi.\n'
    'The directive\'s subject was not found; give it with --subject "...". Not sent.'
)
DIRECTIVE_SUBJECT_HINT = 'Gợi ý / suggestion: --subject "{hint}"'
DIRECTIVE_FORM_USED = "Mẫu báo cáo / report form: {title} ({key})"
DIRECTIVE_REPEAT = (
    "Văn bản {number} ngày {date} đã được gửi: {codes}. Chọn --repeat add (gửi văn bản đã gửi tới các đơn vị "
    "mới), --repeat replace (đính chính, thay thế) hoặc --repeat new (văn bản khác, gửi riêng); có nhiều văn bản "
    "thì thêm --of <mã>. Không gửi.\n"
    "Directive {number} of {date} was sent already: {codes}. Choose --repeat add (send the one sent to the new "
    "units), --repeat replace (a correction replacing it) or --repeat new (a different directive); when there are "
    "several, add --of <code>. Not sent."
)
DIRECTIVE_REPEAT_NONE = (
    "--repeat {choice}: không có văn bản đã gửi nào trùng số, ngày và cơ quan ban hành{of}. Không gửi.\n"
    "--repeat {choice}: no sent directive has this number, date and issuer{of}. Not sent."
)
DIRECTIVE_ADDED = (
    "Đã xếp lịch gửi văn bản {number} (mã nội bộ {code}) tới {cells} chi bộ chưa nhận ({reachable} bí thư đã kết "
    "nối); báo cáo vẫn chung một văn bản.\n"
    "Directive {number} (internal code {code}) queued for {cells} more cells ({reachable} reachable now); its "
    "reports stay one set."
)
DIRECTIVE_REPLACED = (
    "Bản đính chính {number} (mã nội bộ {code}) thay thế {old}: gửi tới {cells} chi bộ ({reachable} bí thư đã "
    "kết nối); báo cáo đã gửi được tính cho bản đính chính.\n"
    "Correction {number} (internal code {code}) replaces {old}: queued for {cells} cells ({reachable} reachable "
    "now); reports already sent count for the correction."
)
BOARD_NONE = "chưa có"

FORM_ADDED = (
    "Đã thêm mẫu báo cáo «{title}» (mã {key}, {count} mục). Ban Tuyên giáo chọn được mẫu này khi gửi văn bản "
    "(hoặc: chibo directive send ... --form {key}).\nMẫu báo cáo nhanh: {template}"
)
FORM_REPLACED = (
    "Đã cập nhật mẫu báo cáo «{title}» (mã {key}, {count} mục); các báo cáo gửi từ nay theo mẫu mới, "
    "báo cáo đã gửi giữ nguyên.\nMẫu báo cáo nhanh: {template}"
)
FORM_BUILTIN_KEY = (
    "Mã mẫu «{key}» là của một mẫu có sẵn, không thể thay. Hãy đặt mã khác ở khóa key trong tệp, "
    "ví dụ: key: {key}-rieng"
)
FORM_NOT_UTF8 = "Tệp {name} không đọc được dưới dạng UTF-8. Hãy lưu lại tệp với mã hóa UTF-8 rồi chạy lại."

# -- sandbox (`chibo sandbox`, and `chibo run` without a token) ------------------------------------------------

SANDBOX_INSTEAD = (
    "Chưa cấu hình token Zalo hay Telegram: chạy chế độ thử nghiệm (sandbox) với Zalo và Telegram giả lập, "
    "không cần Internet. Để chạy bot thật, đặt CHIBO_ZALO_TOKEN hoặc CHIBO_TELEGRAM_TOKEN (xem .env.example).\n"
    "No Zalo or Telegram token: starting the sandbox (fake Zalo and Telegram, no internet needed). "
    "To run the real bot, set CHIBO_ZALO_TOKEN or CHIBO_TELEGRAM_TOKEN (see .env.example)."
)
SANDBOX_STARTING = "Đang khởi động sandbox… / Starting the sandbox…"
SANDBOX_READY = (
    "Sandbox Chibo đã sẵn sàng / The Chibo sandbox is ready: {url}\n"
    "Mở địa chỉ trên bằng trình duyệt; dữ liệu thử nghiệm nằm ở {data} và được tạo lại mỗi lần chạy. "
    "Nhấn Ctrl+C để dừng."
)
SANDBOX_STOPPED = "Đã dừng sandbox. / The sandbox has stopped."

SANDBOX_NO_BUTTONS = "Zalo không có nút bấm: hãy gõ số thứ tự của lựa chọn."
SANDBOX_NO_SUCH_BUTTON = "Không còn nút này trên tin nhắn; hãy tải lại trang."
SANDBOX_NO_CONTACT = "Zalo không có nút gửi số điện thoại: hãy gõ số điện thoại."
SANDBOX_NO_SAMPLE = "Không có văn bản mẫu này."
SANDBOX_BAD_STEP = "Bước thời gian không hợp lệ."
SANDBOX_UNKNOWN_PERSON = "Không có người này trong sandbox; hãy tải lại trang."
SANDBOX_EMPTY_TEXT = "Tin nhắn đang trống."
SANDBOX_NO_FILE = "Chưa chọn tệp để gửi."
SANDBOX_FILE_TOO_LARGE = "Tệp quá lớn cho sandbox (tối đa {mb} MB)."

# What the machine around the bot can break: one line in each language, then exit code 1.
PLATFORM_UNREACHABLE = (
    "Không kết nối được tới nền tảng nhắn tin ({reason}). Kiểm tra mạng của máy chủ và địa chỉ API, rồi chạy lại.\n"
    "Cannot reach the messaging platform ({reason}). Check the server's network and the API address, then run again."
)
DATABASE_UNAVAILABLE = (
    "Không mở được cơ sở dữ liệu ({reason}). Kiểm tra CHIBO_DATABASE_URL, máy chủ PostgreSQL, hoặc tệp SQLite "
    "đang bị chương trình khác khóa.\n"
    "Cannot open the database ({reason}). Check CHIBO_DATABASE_URL, the PostgreSQL server, or whether another "
    "program holds the SQLite file locked."
)
PERSON_NOT_FOUND = "Không có ai với số điện thoại {phone}. / Nobody has the phone number {phone}."
PERSON_EXPORTED = "Đã ghi dữ liệu cá nhân vào {path}. / Personal data written to {path}."
PERSON_ERASE_CONFIRM = (
    "Xoá dữ liệu cá nhân của người có số {phone}? Báo cáo vẫn được tính nhưng không còn tên, nội dung chữ, ảnh. "
    "/ Erase the personal data of {phone}? Reports stay counted, without name, text or photos."
)
PERSON_ERASED = (
    "Đã xoá dữ liệu cá nhân: {accounts} tài khoản, {photos} ảnh; {reports} báo cáo vẫn được tính, đã ẩn danh.\n"
    "Personal data erased: {accounts} accounts, {photos} photos; {reports} reports still counted, anonymised."
)
DIRECTIVE_BAD_EVERY = (
    "Lịch định kỳ «{value}» không đọc được; ví dụ: --every 'hằng tháng 25', 'hằng quý 31/3', 'hằng năm 15/6 15/12', "
    "'một lần'. Không gửi.\n"
    "The schedule «{value}» cannot be read; e.g. --every 'monthly 25', 'quarterly 31/3', 'yearly 15/6 15/12', "
    "'once'. Not sent."
)
DIRECTIVE_UNKNOWN_CYCLE = (
    "Văn bản không có kỳ «{value}»; kỳ đang mở là kỳ thứ {open}. Gõ nhãn kỳ (ví dụ 11/2026) hoặc số thứ tự kỳ.\n"
    "The directive has no period «{value}»; the open one is number {open}. Give its label (e.g. 11/2026) or number."
)
DIRECTIVE_NO_SCHEDULE = (
    "Văn bản không ghi lịch báo cáo định kỳ; cho lịch bằng --every, ví dụ 'hằng tháng 25'. Không gửi.\n"
    "The document gives no recurring schedule; give one with --every, e.g. 'monthly 25'. Not sent."
)
