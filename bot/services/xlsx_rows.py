"""The rows of a large worksheet written straight as SpreadsheetML, then put into the workbook openpyxl saved.

openpyxl's write-only sheet spends about 6 µs on each cell (a cell object, its value checks, its style lookup,
one XML element at a time): most of the time of a province's export. The export's rows hold only text, numbers,
dates and a few styles, so `SheetRows` writes them as text (under 2 µs a cell) and `insert_rows` puts them into
each sheet's <sheetData> once openpyxl has saved everything else: the header row, styles, widths, print setup
and the links' relationships."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import TYPE_CHECKING, cast

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.hyperlink import Hyperlink

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

WRAP = "wrap"  # the style of text wrapped onto several lines; any other style name is a number format
LINK_STYLE = "Hyperlink"
WRAPPED = Alignment(wrap_text=True, vertical="top")
_END = b"</sheetData>"


@dataclass(frozen=True, slots=True)
class Link:
    """A cell that opens a web page."""

    text: str
    url: str


Plain = str | int | float | datetime | date
Cell = tuple[Plain | Link, str]  # a value and its style ("" for none)


class SheetRows:
    """The rows below a write-only sheet's header (appended by openpyxl first), as XML text.

    Text must already be free of the characters XML cannot carry. Each style is registered once in the
    workbook's style table through a sample cell, so openpyxl writes it to styles.xml with the rest."""

    def __init__(self, sheet: WriteOnlyWorksheet, columns: int, first_row: int = 2) -> None:
        self._sheet = sheet
        self._refs = [get_column_letter(column + 1) for column in range(columns)]
        self._row = first_row
        self._parts: list[str] = []
        self._styles: dict[str, str] = {}

    def append(self, cells: Sequence[Cell | None], height: float | None = None) -> None:
        row = self._row
        self._row += 1
        out = [f'<row r="{row}" ht="{height}" customHeight="1">' if height else f'<row r="{row}">']
        for column, cell in enumerate(cells):
            if cell is None:
                continue
            value, style = cell
            ref = f"{self._refs[column]}{row}"
            kind = type(value)
            if kind is Link:
                link = cast("Link", value)
                # The sheet's links are written by openpyxl with their relationships after the rows.
                self._sheet._hyperlinks.append(Hyperlink(ref=ref, target=link.url))
                value, style, kind = link.text, LINK_STYLE, str
            attributes = f'r="{ref}"{self._styles.get(style) or self._style(style)}'
            if kind is str:
                text = cast("str", value)
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                out.append(f'<c {attributes} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>')
            elif kind is datetime or kind is date:
                out.append(f"<c {attributes}><v>{to_excel(value)}</v></c>")  # days since Excel's epoch
            else:
                out.append(f"<c {attributes}><v>{value}</v></c>")
        out.append("</row>")
        self._parts.append("".join(out))

    def xml(self) -> bytes:
        return "".join(self._parts).encode()

    def _style(self, style: str) -> str:
        """The cell attribute of a style, registered on first use."""
        if not style:
            return ""
        sample = WriteOnlyCell(self._sheet)
        if style == WRAP:
            sample.alignment = WRAPPED
        elif style == LINK_STYLE:
            sample.style = LINK_STYLE
        else:
            sample.number_format = style
        attribute = self._styles[style] = f' s="{sample.style_id}"'
        return attribute


def _escape(text: str) -> str:
    # Four C-level replaces cost less than one translate() with a table; most texts have none of them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def insert_rows(xlsx: bytes, rows: Mapping[str, bytes]) -> bytes:
    """The workbook with each sheet's rows (by its path in the archive, "xl/worksheets/sheet1.xml") put at the
    end of its <sheetData>."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in rows:
                at = data.rindex(_END)
                data = data[:at] + rows[info.filename] + data[at:]
            target.writestr(info, data)  # keeps the member's name, date and compression
    return out.getvalue()
