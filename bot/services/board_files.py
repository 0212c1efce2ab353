"""The board's files on one directive: the Excel export and the Word draft of the aggregated report, built, named
and captioned the same way whether the bot sends them (/xuat, /baocao) or the command line writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services import status
from bot.services.docx_report import build_docx
from bot.services.report_data import ReportData
from bot.services.xlsx_export import EvidenceLink, build_xlsx
from messages import board as msg
from storage.models import Directive

XLSX = "xlsx"
DOCX = "docx"
MIMES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class BoardFile:
    content: bytes
    name: str
    mime: str
    caption: str


def render(
    kind: str, data: ReportData, directive: Directive, today: date, evidence_link: EvidenceLink | None = None
) -> BoardFile:
    """Build the file (seconds for a province: callers on the event loop run it in a thread). The Excel rows
    link to their evidence photos through `evidence_link` (see `evidence.link_maker`)."""
    slug, day, number = status.file_slug(directive), today.strftime("%Y%m%d"), directive.number or ""
    if kind == XLSX:
        caption = msg.EXPORT_CAPTION.format(number=number, reported=data.counts.reported)
        return BoardFile(
            build_xlsx(data, evidence_link), msg.XLSX_NAME.format(number=slug, date=day), MIMES[XLSX], caption
        )
    caption = msg.REPORT_CAPTION.format(number=number)
    return BoardFile(build_docx(data), msg.DOCX_NAME.format(number=slug, date=day), MIMES[DOCX], caption)
