"""Take the guides' screenshots from the sandbox: drive its page in headless Chromium through a board member's (on the
Zalo OA, typing the board's words as a Zalo user does) and secretaries' day, and save one PNG of the phone per step
into docs/img/ (the names the guides embed).

Run from the repository root: `.venv/bin/python -m tools.screenshots [--out docs/img]`. Needs Debian's chromium
and chromium-driver, Selenium (dev extra), and for readable emoji the fonts-noto-color-emoji package.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python tools/screenshots.py` works as well as `python -m tools.screenshots`
    sys.path.insert(0, str(ROOT))

from messages import directives as directive_msg  # noqa: E402
from tools.browser import Browser, SandboxThread, missing  # noqa: E402

BOARD = "Nguyễn Thị Tuyên"  # Zalo OA: uploads the DOCX, presses buttons, types the words («tình hình»)
CUC = "Trần Thị Cúc"  # Telegram: the directive's card and its two buttons
MINH = "Đỗ Văn Minh"  # Zalo OA, reports step by step with the OA's buttons and a photo
KHANH = "Hoàng Văn Khánh"  # Zalo OA: the directive as a native file, "Đã nhận" as a template button; one-message report
LAN = "Vũ Thị Lan"  # Zalo Bot Platform, gets the board's reminder and the deadline reminders
PAO = "Lò Văn Páo"  # Zalo Bot Platform
HANG = "Nguyễn Thu Hằng"  # Telegram, joins during the session
MAI = "Lù Thị Mai"  # Zalo Bot Platform, joins during the session
SAN_DUNG = "Sần Thị Dung"  # Zalo OA, joins during the session through the OA's phone form
QUICK = "2/4; chuyên đề; 18/20; 5; Đảng viên nắm chắc nội dung hai tác phẩm; Không"


class Shots:
    """The sandbox in a browser, and where each screenshot goes."""

    def __init__(self, browser: Browser, out: Path) -> None:
        self.b = browser
        self.out = out
        self.taken: list[Path] = []

    def phone(self, name: str, focus: str | None = None) -> None:
        path = self.out / name
        self.b.screenshot_phone(path, focus=focus)
        self._keep(path)

    def page(self, name: str) -> None:
        path = self.out / name
        self.b.screenshot_page(path)
        self._keep(path)

    def _keep(self, path: Path) -> None:
        """A flat interface needs no more than 256 colours: a third of the size in the repository."""
        from PIL import Image

        with Image.open(path) as image:
            flat = image.convert("RGB").quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        flat.save(path, optimize=True)
        self.taken.append(path)


def board_sends(s: Shots) -> None:
    b = s.b
    b.pick(BOARD)
    s.phone("bt-01-ket-noi.png")
    b.send_sample("747")
    b.wait_bot("Văn bản tôi đọc được")
    s.phone("bt-02-xem-truoc.png", focus="Văn bản tôi đọc được")
    b.press("✅ Xác nhận hạn 30/10/2024")
    b.wait_bot("Đã xác nhận hạn báo cáo")
    b.press("➡️ Tiếp tục: chọn nơi nhận")
    b.wait_bot("Chọn mẫu báo cáo")
    s.phone("bt-03-mau-bao-cao.png", focus="Chọn mẫu báo cáo")
    b.press("Báo cáo kết quả sinh hoạt chính trị, tư tưởng")
    b.wait_bot("Chọn nơi nhận")
    b.press("🌐 Tất cả chi bộ trong phạm vi")
    b.wait_bot("Sẽ gửi tới")
    s.phone("bt-04-noi-nhan.png", focus="Sẽ gửi tới")
    b.press("📤 Gửi ngay")
    b.wait_bot("chưa có ai tham gia Chibo")
    b.press("📨 Gửi thẳng tới chi bộ")
    b.wait_bot("Đã gửi xong", timeout=30)
    s.phone("bt-05-tien-do.png")
    s.page("sandbox.png")


def secretary_reports(s: Shots, photo: Path) -> None:
    b = s.b
    b.pick(CUC)
    b.wait_bot("VĂN BẢN MỚI")
    s.phone("bithu-03-van-ban-moi.png")
    b.press("✅ Đã nhận")
    b.wait_bot("Đã ghi nhận đồng chí đã nhận")
    s.phone("bithu-04-da-nhan.png")

    b.pick(MINH)
    b.wait(lambda: "747-CV-DUK.docx" in b.file_names(), "the directive as a native OA file")
    b.press(directive_msg.BUTTON_REPORT)
    b.wait_bot("Mục 1/7")
    b.type("hôm qua")
    b.wait_bot("Mục 2/7")
    s.phone("bithu-05-tung-buoc.png", focus="Mục 2/7")
    b.press("Sinh hoạt chuyên đề")
    b.wait_bot("Mục 3/7")
    b.type("25/30")
    b.wait_bot("Mục 4/7")
    b.type("12")
    b.wait_bot("Mục 5/7")
    b.type("Đảng viên nắm chắc nội dung, liên hệ với nhiệm vụ của cơ quan")
    b.wait_bot("Mục 6/7")
    b.type("Không")
    b.wait_bot("Mục 7/7")
    b.send_photo(photo)
    b.press("✅ Xong (1 ảnh)")
    b.wait_bot("📋 Báo cáo văn bản")
    s.phone("bithu-06-tom-tat.png", focus="📋 Báo cáo văn bản")
    b.press("📤 Gửi")
    b.wait_bot("Mã biên nhận")
    s.phone("bithu-07-bien-nhan.png", focus="Mã biên nhận")
    b.type("văn bản")  # what a secretary types on Zalo; /vanban on Telegram
    b.wait_bot("Văn bản đã nhận")
    s.phone("bithu-10-vanban.png", focus="Văn bản đã nhận")

    b.pick(KHANH)
    b.wait(lambda: "747-CV-DUK.docx" in b.file_names(), "the directive as a native OA file")
    s.phone("bithu-03b-oa-van-ban.png", focus="747-CV-DUK.docx")
    seen = len(b.bot_texts())
    b.press(directive_msg.BUTTON_ACK)
    b.wait_bot("Đã ghi nhận đồng chí đã nhận", after=seen)
    s.phone("bithu-04b-oa-da-nhan.png")
    b.type(QUICK)
    b.wait_bot("Mã biên nhận")
    s.phone("bithu-08-bao-cao-nhanh.png", focus="Mã biên nhận")

    b.pick(PAO)
    b.wait_bot("Trả lời 1 hoặc 2")
    s.phone("bithu-09-zalo.png", focus="Trả lời 1 hoặc 2")
    b.type("1")
    b.wait_bot("Đã ghi nhận đồng chí đã nhận")
    s.phone("bithu-09b-zalo-da-nhan.png")


def people_join(s: Shots) -> None:
    b = s.b
    b.pick(HANG)
    b.type(b.invite_code(HANG))
    b.wait_bot("Gửi số điện thoại")
    b.wait(lambda: b.driver.find_element("id", "keyboard").is_displayed(), "the share-my-number button")
    s.phone("bithu-01-ket-noi-telegram.png")
    b.share_contact()
    b.wait_bot("VĂN BẢN MỚI")
    s.phone("bithu-01b-da-ket-noi.png", focus="Đã kết nối thành công")

    b.pick(MAI)
    b.type(b.invite_code(MAI))
    b.wait_bot("gõ số điện thoại")
    b.type("0912000014")
    b.wait_bot("Đã kết nối thành công")
    s.phone("bithu-02-ket-noi-zalo.png", focus="Đã kết nối thành công")

    b.pick(SAN_DUNG)
    b.type(b.invite_code(SAN_DUNG))
    b.wait(lambda: b.css(".info-form .form-submit"), "the OA's phone form")
    s.phone("bithu-02b-oa-ket-noi.png")
    b.submit_form()
    b.wait_bot("Đã kết nối thành công")
    s.phone("bithu-02c-oa-da-ket-noi.png", focus="Đã kết nối thành công")


def board_follows_up(s: Shots) -> None:
    b = s.b
    b.pick(BOARD)
    seen = len(b.bot_texts())
    b.type("tình hình")  # on Zalo a command is typed as words; /tinhhinh is Telegram's
    b.wait_bot("Văn bản đang theo dõi", after=seen)
    b.press("747-CV/ĐUK (03/04/2024) · #1")  # the sandbox's one directive, with its internal code
    b.wait_bot("TÌNH HÌNH THỰC HIỆN")
    s.phone("bt-06-tinhhinh.png", focus="TÌNH HÌNH THỰC HIỆN")
    b.press("🔔 Nhắc chi bộ chưa báo cáo")
    b.wait_bot("Đã nhắc")
    s.phone("bt-07-nhacnho.png", focus="Đã nhắc")

    b.pick(LAN)
    b.wait_bot("NHẮC BÁO CÁO")
    s.phone("bithu-11-nhac.png", focus="NHẮC BÁO CÁO")

    b.pick(BOARD)
    b.travel("summary")
    b.wait_bot("TỔNG HỢP NGÀY")
    b.wait(
        lambda: b.driver.execute_script(
            "const i = document.querySelector('.msg.bot.kind-photo img'); return i && i.complete && i.naturalWidth"
        ),
        "the summary's chart, loaded",
    )
    s.phone("bt-08-tonghop.png", focus="TỔNG HỢP NGÀY")
    s.phone("bt-08b-bieu-do.png")  # the newest message: on the OA the chart follows its caption's own message
    seen = len(b.bot_texts())
    b.type("xuất 747")
    b.wait_bot("Kết quả thực hiện 747-CV/ĐUK", after=seen)
    b.type("báo cáo 747")
    b.wait_bot("Dự thảo báo cáo kết quả", after=seen)
    b.wait(
        lambda: any(n.startswith("du-thao-bao-cao-747") for n in b.file_names()), "the draft as a native file"
    )
    s.phone("bt-09-xuat-baocao.png", focus="du-thao-bao-cao-747")  # from the Excel's link to the Word file


def reminders_and_escalation(s: Shots) -> None:
    """Directive 745 has no dated deadline: the board types one two days ahead, then time passes."""
    b = s.b
    b.pick(BOARD)
    seen = len(b.bot_texts())
    b.send_sample("745")
    b.wait_bot("Văn bản tôi đọc được", after=seen)
    b.press("✏️ Hạn báo cáo")
    b.wait_bot("Gõ hạn báo cáo")
    b.type("05/04/2024")
    b.wait_bot("Đã sửa Hạn báo cáo")
    b.press("✏️ Trích yếu")
    b.wait_bot("Gõ trích yếu")
    b.type("Đẩy mạnh tuyên truyền Kỷ niệm 70 năm Chiến thắng Điện Biên Phủ")
    b.wait_bot("Đã sửa Trích yếu")
    s.phone("bt-10-sua-han.png", focus="Đã sửa Trích yếu")
    b.press("➡️ Tiếp tục: chọn nơi nhận")
    b.wait_bot("Chọn mẫu báo cáo", after=seen)
    b.press("Báo cáo kết quả tuyên truyền")
    b.wait_bot("Chọn nơi nhận", after=seen)
    b.press("🌐 Tất cả chi bộ trong phạm vi")
    b.wait_bot("Sẽ gửi tới", after=seen)
    b.press("📤 Gửi ngay")
    b.wait_bot("chưa có ai tham gia Chibo", after=seen)
    b.press("📨 Gửi thẳng tới chi bộ")
    b.wait_bot("Đã gửi xong văn bản 745-CV/ĐUK", timeout=30)

    b.travel("morning")  # 04/04 08:00: one day before the deadline
    b.pick(LAN)
    b.wait_bot("NHẮC BÁO CÁO: còn 1 ngày")
    s.phone("bithu-12-nhac-han.png", focus="NHẮC BÁO CÁO: còn 1 ngày")
    b.travel("week")  # 11/04 08:00: six days late
    b.wait_bot("ĐÔN ĐỐC BÁO CÁO")
    s.phone("bithu-13-don-doc.png", focus="ĐÔN ĐỐC BÁO CÁO")
    b.pick("Phạm Thị Hoa")  # secretary of the đảng ủy phường above Lan's cell
    b.wait_bot("ĐỀ NGHỊ ĐÔN ĐỐC")
    s.phone("bithu-14-de-nghi-don-doc.png", focus="ĐỀ NGHỊ ĐÔN ĐỐC")


def evidence_photo(folder: Path) -> Path:
    """A small stand-in for a photo of the meeting."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 320), (214, 228, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 200, 440, 290), fill=(150, 40, 40))
    draw.rectangle((180, 60, 300, 170), fill=(240, 200, 60))
    path = folder / "anh-minh-chung.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    reason = missing()
    if reason is not None:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="chibo-shots-") as scratch:
        server = SandboxThread(Path(scratch) / "sandbox")
        url = server.start()
        browser = Browser(url, width=1280, height=1000)
        try:
            browser.open()
            shots = Shots(browser, args.out)
            board_sends(shots)
            secretary_reports(shots, evidence_photo(Path(scratch)))
            people_join(shots)
            board_follows_up(shots)
            reminders_and_escalation(shots)
        finally:
            browser.close()
            server.stop()
    for path in shots.taken:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
