"""The board's files on one directive: the Excel export and the Word draft of the aggregated report, built, named
and captioned the same way whether the bot sends them (/xuat, /baocao) or the command line writes them. A directive
aggregated from the reports of the units below it (bot.services.rollup) gets a workbook of those units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services import status
from bot.services.docx_report import build_docx
from bot.services.report_data import ReportData
from bot.services.rollup_xlsx import build_rollup_xlsx
from bot.services.xlsx_export import EvidenceLink, build_xlsx
from messages import board as msg
from messages import rollup as rollup_msg
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
        caption = msg.EXPORT_CAPTION.format(number=number, reported=data.counts.reported) + _source(data)
        # Aggregated from the intermediate reports: one row per unit below, not per cell.
        content = build_rollup_xlsx(data) if data.below else build_xlsx(data, evidence_link)
        return BoardFile(content, msg.XLSX_NAME.format(number=slug, date=day), MIMES[XLSX], caption)
    caption = msg.REPORT_CAPTION.format(number=number) + _source(data)
    return BoardFile(build_docx(data), msg.DOCX_NAME.format(number=slug, date=day), MIMES[DOCX], caption)


def _source(data: ReportData) -> str:
    return "\n" + rollup_msg.source_line(data.source) if data.source else ""
