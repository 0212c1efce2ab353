"""Render the board guide's pictures of the Excel export and the progress chart into docs/img/: the export of a
generated 60-cell directive printed by LibreOffice (first and last page, as PNG at 60 dpi) and the chart of three
open directives, one of them not yet due.

Run from the repository root: `.venv/bin/python -m tools.board_images [--out docs/img]`. Needs LibreOffice
(`soffice`) and poppler-utils (`pdftoppm`, `pdfinfo`).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.services import links  # noqa: E402
from bot.services.charts import build_progress_chart  # noqa: E402
from bot.services.report_data import (  # noqa: E402
    Aggregates,
    Counts,
    DirectiveSummary,
    FieldType,
    FormField,
    ReportData,
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


def _evidence_link(row: UnitRow) -> str:
    expires = datetime(2024, 5, 12, tzinfo=UTC)
    return "https://chibo.example.vn" + links.sign_evidence(b"example", 7, row.unit_id or 0, expires)


def export_pages(out: Path) -> tuple[Path, Path]:
    """The export printed to PDF by LibreOffice; its first and last page as PNG."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ket-qua.xlsx"
        source.write_bytes(build_xlsx(sample_export(), _evidence_link))
        soffice = shutil.which("soffice") or "soffice"
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        pdf = Path(tmp) / "ket-qua.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
        first, last = out / "bt-09b-excel-trang-dau", out / "bt-09c-excel-trang-cuoi"
        for page, target in ((1, first), (pages, last)):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(pdf),
                    str(target),
                ],
                check=True,
            )
    return first.with_suffix(".png"), last.with_suffix(".png")


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
    for path in (*export_pages(out), chart(out)):
        print(path)


if __name__ == "__main__":
    main()
