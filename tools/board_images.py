"""Render the board guide's pictures of its documents into docs/img/, as PNG at 60 dpi: a sample Word report printed
by LibreOffice (its first page, the page with the closing blocks and the last page), the Excel export of a generated
60-cell directive (first and last page) and the progress chart of three open directives, one of them not yet due.

Run from the repository root: `.venv/bin/python -m tools.board_images [--out docs/img]`. Needs LibreOffice
(`soffice`) and poppler-utils (`pdftoppm`).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from bot.services import links  # noqa: E402
from bot.services.charts import build_progress_chart  # noqa: E402
from bot.services.docx_report import build_docx  # noqa: E402
from bot.services.report_data import (  # noqa: E402
    Aggregates,
    Counts,
    DirectiveSummary,
    FieldType,
    FormField,
    Quote,
    Ratio,
    ReportData,
    Signature,
    UnitRow,
    UnitStatus,
)
from bot.services.xlsx_export import build_xlsx  # noqa: E402
from messages import documents as msg  # noqa: E402

FIELDS = (
    FormField("ngay_to_chuc", "Ngày tổ chức", FieldType.DATE),
    FormField("hinh_thuc", "Hình thức", FieldType.CHOICE, options=("Sinh hoạt chuyên đề", "Trực tuyến")),
    FormField("dang_vien", "Số đảng viên tham gia / tổng số đảng viên", FieldType.RATIO),
    FormField("quan_chung", "Số quần chúng tham gia", FieldType.NUMBER),
    FormField("kho_khan", "Khó khăn, vướng mắc", FieldType.TEXT),
)
SENT = datetime(2024, 4, 4, 1, 30, tzinfo=UTC)
DEADLINE = date(2024, 4, 10)
STATES = (
    [UnitStatus.REPORTED] * 6
    + [UnitStatus.REPORTED_LATE] * 2
    + [UnitStatus.ACKNOWLEDGED, UnitStatus.DELIVERED, UnitStatus.UNREGISTERED]
)


def sample_export(cells: int = 60) -> ReportData:
    rng = random.Random(15)
    rows = []
    for i in range(cells):
        state = STATES[i % len(STATES)]
        reported = state in (UnitStatus.REPORTED, UnitStatus.REPORTED_LATE)
        reached = reported or state == UnitStatus.ACKNOWLEDGED
        total = rng.randint(8, 40)
        values: dict[str, object] = {}
        if reported:
            values = {
                "ngay_to_chuc": date(2024, 4, 8),
                "hinh_thuc": rng.choice(FIELDS[1].options),
                "dang_vien": {"attended": rng.randint(total // 2, total), "total": total},
                "quan_chung": rng.randint(0, 20),
                "kho_khan": rng.choice(["Không", "Đảng viên đi làm xa, khó tập trung", "Tài liệu đến muộn"]),
            }
        rows.append(
            UnitRow(
                path=f"Đảng bộ xã số {i // 12 + 1} / Chi bộ thôn {i + 1:02d}",
                name=f"Chi bộ thôn {i + 1:02d}",
                secretary=f"Bí thư thôn {i + 1:02d}",
                phone=f"09120{i:05d}",
                status=state,
                delivered_at=SENT if state != UnitStatus.UNREGISTERED else None,
                acknowledged_at=SENT + timedelta(hours=3) if reached else None,
                reported_at=SENT + timedelta(days=3 if state == UnitStatus.REPORTED else 8)
                if reported
                else None,
                late=state == UnitStatus.REPORTED_LATE,
                versions=1 if reported else 0,
                values=values,
                unit_id=i + 1,
                photos=("0" * 64,) if reported and i % 3 == 0 else (),
            )
        )
    directive = DirectiveSummary(
        number="747-CV/ĐUK",
        issuer_code="ĐUK",
        doc_type="CV",
        issued_on=date(2024, 4, 3),
        subject="Triển khai đợt sinh hoạt chính trị, tư tưởng",
        parent_body="ĐẢNG BỘ TỈNH LAI CHÂU",
        issuer="ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
        place="Lai Châu",
        deadline=DEADLINE,
        form_fields=FIELDS,
        asks_photos=True,
    )
    return ReportData(
        directive, Counts.from_rows(rows), rows, Aggregates.from_rows(FIELDS, rows), date(2024, 4, 12)
    )


REPORT_FIELDS = (
    FormField("hinh_thuc", "Hình thức", FieldType.CHOICE, options=("Chuyên đề", "Thường kỳ")),
    FormField("dang_vien", "Đảng viên tham gia", FieldType.RATIO, unit="đồng chí"),
    FormField("quan_chung", "Quần chúng tham gia", FieldType.NUMBER, unit="người"),
)
REPORT_DIRECTIVE = DirectiveSummary(
    number="747-CV/ĐUK",
    issuer_code="ĐUK",
    doc_type="CV",
    issued_on=date(2026, 1, 12),
    subject="Tổ chức sinh hoạt chính trị, tư tưởng về Quy định 399-QĐ/TW của Ban Bí thư",
    parent_body="ĐẢNG BỘ TỈNH LAI CHÂU",
    issuer="ĐẢNG ỦY CÁC CƠ QUAN ĐẢNG TỈNH",
    place="Lai Châu",
    deadline=date(2026, 2, 10),
    issued_by="Ban Thường vụ Đảng ủy",
    form_fields=REPORT_FIELDS,
)
UNITS = (
    "Chi bộ Văn phòng", "Chi bộ Ban Tổ chức", "Chi bộ Ban Tuyên giáo và Dân vận", "Chi bộ Ủy ban Kiểm tra",
    "Chi bộ Báo Lai Châu", "Chi bộ Trường Chính trị", "Chi bộ Ban Nội chính", "Chi bộ Văn phòng Tỉnh ủy",
    "Chi bộ Ban Bảo vệ sức khỏe", "Chi bộ Nhà khách Tỉnh ủy", "Chi bộ Lưu trữ Tỉnh ủy", "Chi bộ Công đoàn",
)  # fmt: skip
QUOTES = {
    "highlights": ("Tổ chức tọa đàm trực tuyến để đảng viên ở xa cùng tham gia", "Mời báo cáo viên cấp tỉnh về nói chuyện chuyên đề"),
    "difficulties": ("Nhiều đảng viên đi công tác cơ sở nên khó bố trí thời gian chung", "Thiếu tài liệu in cho đảng viên lớn tuổi"),
    "recommendations": ("Đề nghị cấp trên gửi thêm tài liệu in", "Đề nghị tổ chức tập huấn cho bí thư chi bộ mới"),
}  # fmt: skip


def sample_report() -> ReportData:
    rows = tuple(
        UnitRow(
            path=f"Đảng bộ Cơ quan Đảng tỉnh / {name}",
            name=name,
            status=UnitStatus.REPORTED if i < 9 else UnitStatus.DELIVERED,
            values={"hinh_thuc": "Chuyên đề", "dang_vien": Ratio(18 + i, 20 + i), "quan_chung": i}
            if i < 9
            else {},
        )
        for i, name in enumerate(UNITS)
    )
    said = {
        kind: tuple(Quote(UNITS[i], "", text) for i, text in enumerate(texts))
        for kind, texts in QUOTES.items()
    }
    return ReportData(
        directive=REPORT_DIRECTIVE,
        counts=Counts.from_rows(rows),
        rows=rows,
        aggregates=Aggregates.from_rows(REPORT_FIELDS, rows),
        generated_on=date(2026, 2, 11),
        highlights=said["highlights"],
        difficulties=said["difficulties"],
        recommendations=said["recommendations"],
        signature=Signature(authority="T/M BAN THƯỜNG VỤ", title="Phó Bí thư", name="Lò Văn Minh"),
        number="03-BC/ĐUK",
        report_to="Ban Thường vụ Tỉnh ủy",
    )


def _evidence_link(row: UnitRow) -> str:
    expires = datetime(2024, 5, 12, tzinfo=UTC)
    return "https://chibo.example.vn" + links.sign_evidence(b"example", 7, row.unit_id or 0, expires)


def printed(document: bytes, name: str, pick: Callable[[list[str]], dict[str, int]], out: Path) -> list[Path]:
    """`document` printed to PDF by LibreOffice; the pages `pick` chooses by their texts ({file stem: page}), as PNG."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / name
        source.write_bytes(document)
        soffice = shutil.which("soffice") or "soffice"
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        pdf = source.with_suffix(".pdf")
        texts = [page.extract_text() for page in PdfReader(pdf).pages]
        written = []
        for stem, page in pick(texts).items():
            target = out / stem
            pages = ["-f", str(page), "-l", str(page)]
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", *pages, "-singlefile", str(pdf), str(target)], check=True
            )
            written.append(target.with_suffix(".png"))
        return written


def report_pages(out: Path) -> list[Path]:
    def pick(texts: list[str]) -> dict[str, int]:
        closing = next(i for i, text in enumerate(texts) if "VPĐUK" in text) + 1
        return {
            "bt-11-bao-cao-trang-dau": 1,
            "bt-12-bao-cao-trang-ky": closing,
            "bt-13-bao-cao-trang-cuoi": len(texts),
        }

    return printed(build_docx(sample_report()), "bao-cao.docx", pick, out)


def export_pages(out: Path) -> list[Path]:
    def pick(texts: list[str]) -> dict[str, int]:
        return {"bt-09b-excel-trang-dau": 1, "bt-09c-excel-trang-cuoi": len(texts)}

    return printed(build_xlsx(sample_export(), _evidence_link), "ket-qua.xlsx", pick, out)


def chart(out: Path) -> Path:
    rows = [
        ("747-CV/ĐUK", 41, 9, 10, 0),  # past its deadline: the missing are overdue (red)
        ("752-KH/ĐUK", 12, 0, 0, 48),  # not due yet: the missing are grey
        ("760-HD/ĐUK", 3, 0, 0, 57),
    ]
    subtitle = msg.CHART_SUBTITLE_DIRECTIVES.format(directives=3, units=60)
    target = out / "bt-08c-bieu-do-theo-van-ban.png"
    target.write_bytes(build_progress_chart(rows, date(2024, 4, 12), subtitle))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    out = parser.parse_args().out
    for path in (*report_pages(out), *export_pages(out), chart(out)):
        print(path)


if __name__ == "__main__":
    main()
