"""Render pages of a sample Word report for the board's guide: the first page, the page with the closing blocks and
the last page, as PNG files in docs/img/ (LibreOffice makes the PDF, poppler's pdftoppm the images).

Run from the repository root: `.venv/bin/python -m tools.report_pages [--out docs/img]`. Needs soffice and pdftoppm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

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

FIELDS = (
    FormField("hinh_thuc", "Hình thức", FieldType.CHOICE, options=("Chuyên đề", "Thường kỳ")),
    FormField("dang_vien", "Đảng viên tham gia", FieldType.RATIO, unit="đồng chí"),
    FormField("quan_chung", "Quần chúng tham gia", FieldType.NUMBER, unit="người"),
)
DIRECTIVE = DirectiveSummary(
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
    form_fields=FIELDS,
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


def sample() -> ReportData:
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
        directive=DIRECTIVE,
        counts=Counts.from_rows(rows),
        rows=rows,
        aggregates=Aggregates.from_rows(FIELDS, rows),
        generated_on=date(2026, 2, 11),
        highlights=said["highlights"],
        difficulties=said["difficulties"],
        recommendations=said["recommendations"],
        signature=Signature(authority="T/M BAN THƯỜNG VỤ", title="Phó Bí thư", name="Lò Văn Minh"),
        number="03-BC/ĐUK",
        report_to="Ban Thường vụ Tỉnh ủy",
    )


def render(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "bao-cao.docx"
        source.write_bytes(build_docx(sample()))
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", folder, str(source)], check=True
        )
        pdf = source.with_suffix(".pdf")
        pages = [page.extract_text() for page in PdfReader(pdf).pages]
        closing = next(i for i, text in enumerate(pages) if "VPĐUK" in text) + 1
        wanted = {
            "bt-11-bao-cao-trang-dau": 1,
            "bt-12-bao-cao-trang-ky": closing,
            "bt-13-bao-cao-trang-cuoi": len(pages),
        }
        written = []
        for name, page in wanted.items():
            stem = out / name
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
                    str(stem),
                ],
                check=True,
            )
            written.append(stem.with_suffix(".png"))
        return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    for path in render(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
