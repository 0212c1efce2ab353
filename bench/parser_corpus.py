"""The directive parser against the corpus in tests/corpus: per field and per format (text, DOCX, PDF), how many
documents it reads right, wrong, misses or invents a value for.

Each corpus document is a source text (`NN-name.txt`) and the fields a careful reader takes from it
(`NN-name.json`, null where the document does not say). The DOCX and PDF versions are built here from the
same source, with the structure real files have: a block whose lines hold a tab is a two-column table (header,
signature), the other lines are paragraphs (a blank line starts a new one). Both are read back through
`extract_text`, then parsed.

`python -m bench parser_corpus` prints the figures of the current parser and, when git can show it, of the
parser before issue 14 (`BEFORE_COMMIT`). `python -m bench.parser_corpus --old PATH` compares with any other
copy of the parser module.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import io
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
from fpdf import FPDF

from bot.services import directive_parser
from bot.services.document_text import extract_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "tests" / "corpus"
# The parser as it was before the corpus was written (issue 14), for the "before" figures.
BEFORE_COMMIT = "e24713c"
_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path(__import__("matplotlib").get_data_path()) / "fonts" / "ttf",
)
FORMATS = ("text", "docx", "pdf")
OUTCOMES = ("right", "wrong", "missed", "invented")
SCALAR_FIELDS = tuple(
    name for name in directive_parser.TRACKED_FIELDS if name != "body"
)  # the body is scored by body_start
FIELDS = (*SCALAR_FIELDS, "cited", "materials", "deadlines", "body_start")


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    name: str
    source: str
    expected: dict[str, Any]


def load_corpus(directory: Path = CORPUS_DIR) -> list[CorpusDocument]:
    return [
        CorpusDocument(
            path.stem,
            path.read_text(encoding="utf-8"),
            json.loads(path.with_suffix(".json").read_text(encoding="utf-8")),
        )
        for path in sorted(directory.glob("*.txt"))
    ]


# --- Building DOCX and PDF from a source text ------------------------------------------------------------------


def _blocks(source: str) -> Iterator[tuple[list[str], list[str] | None]]:
    """(lines, None) for a paragraph; (left column, right column) for a block laid out as a two-column table."""
    block: list[str] = []
    for line in [*source.split("\n"), ""]:
        if line.strip():
            block.append(line)
            continue
        if not block:
            continue
        if any("\t" in item for item in block):
            cells = [item.split("\t", 1) if "\t" in item else [item, ""] for item in block]
            yield [c[0] for c in cells if c[0].strip()], [c[1] for c in cells if c[1].strip()]
        else:
            yield block, None
        block = []


def build_docx(source: str) -> bytes:
    """Two-column blocks as a borderless table, one cell paragraph per line; other blocks one paragraph each."""
    document = docx.Document()
    for lines, right in _blocks(source):
        if right is None:
            paragraph = document.add_paragraph()
            for i, line in enumerate(lines):
                if i:
                    paragraph.add_run().add_break()
                paragraph.add_run(line)
            continue
        table = document.add_table(rows=1, cols=2)
        for cell, cell_lines in zip(table.rows[0].cells, (lines, right), strict=True):
            if cell_lines:
                cell.paragraphs[0].text = cell_lines[0]
            for line in cell_lines[1:]:
                cell.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _font() -> Path:
    return next(d / "DejaVuSans.ttf" for d in _FONT_DIRS if (d / "DejaVuSans.ttf").exists())


def build_pdf(source: str) -> bytes:
    """Paragraphs wrapped at the page width (as a PDF's text comes out: hard-wrapped), two-column blocks side
    by side."""
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(_font()))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    for lines, right in _blocks(source):
        if right is None:
            pdf.multi_cell(0, 6, "\n".join(lines), new_x="LMARGIN", new_y="NEXT")
        else:
            top = pdf.get_y()
            pdf.multi_cell(half, 6, "\n".join(lines), align="C", new_x="RIGHT", new_y="TOP")
            pdf.multi_cell(half, 6, "\n".join(right), align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(max(pdf.get_y(), top + 6 * max(len(lines), len(right))))
        pdf.ln(3)
    return bytes(pdf.output())


@functools.lru_cache(maxsize=128)
def document_text(source: str, fmt: str) -> str:
    """The text the bot would read from the document in format `fmt`."""
    if fmt == "text":
        extracted = extract_text(source.encode("utf-8"), "directive.txt")
    elif fmt == "docx":
        extracted = extract_text(build_docx(source), "directive.docx")
    else:
        extracted = extract_text(build_pdf(source), "directive.pdf")
    if extracted.text is None:
        raise ValueError(f"{fmt}: {extracted.refusal}")
    return extracted.text


# --- Comparing -----------------------------------------------------------------------------------------------


def _collapse(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def found_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The compared fields from a parser's `to_json()`; fields an older parser lacks are None."""
    out: dict[str, Any] = {name: _collapse(data.get(name)) for name in SCALAR_FIELDS}
    out["cited"] = [[c["number"], c.get("kind"), c.get("date")] for c in data.get("cited") or []]
    out["materials"] = [_collapse(m) for m in data.get("materials") or []]
    out["deadlines"] = [
        [d.get("date"), d.get("kind"), d.get("recurring")] for d in data.get("deadlines") or []
    ]
    out["body_start"] = _collapse(data.get("body"))
    return out


def expected_fields(expected: dict[str, Any]) -> dict[str, Any]:
    out = found_fields(expected)
    out["body_start"] = expected.get("body_start")
    return out


def outcome(field: str, want: Any, got: Any) -> str:
    if field == "body_start" and want and got:
        got = got[: len(want)]
    if want in (None, []):
        return "right" if got in (None, []) else "invented"
    if got in (None, []):
        return "missed"
    return "right" if want == got else "wrong"


Parse = Callable[[str], dict[str, Any]]


def score(parse: Parse, corpus: list[CorpusDocument]) -> dict[str, dict[str, Counter[str]]]:
    """{format: {field: Counter(outcome)}} over the corpus."""
    table: dict[str, dict[str, Counter[str]]] = {fmt: {f: Counter() for f in FIELDS} for fmt in FORMATS}
    for doc in corpus:
        want = expected_fields(doc.expected)
        for fmt in FORMATS:
            got = found_fields(parse(document_text(doc.source, fmt)))
            for name in FIELDS:
                table[fmt][name][outcome(name, want[name], got[name])] += 1
    return table


def differences(parse: Parse, doc: CorpusDocument, fmt: str) -> dict[str, tuple[Any, Any]]:
    """{field: (expected, found)} for every field read wrong, missed or invented (for tests and debugging)."""
    want = expected_fields(doc.expected)
    got = found_fields(parse(document_text(doc.source, fmt)))
    return {
        name: (want[name], got[name]) for name in FIELDS if outcome(name, want[name], got[name]) != "right"
    }


def parser_of(module: ModuleType) -> Parse:
    return lambda text: module.parse_directive(text).to_json()


def current_parser(text: str) -> dict[str, Any]:
    return directive_parser.parse_directive(text).to_json()


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("old_directive_parser", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def before_parser() -> ModuleType | None:
    """The parser at BEFORE_COMMIT, if this is a git checkout that has it."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE_COMMIT}:bot/services/directive_parser.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "directive_parser_before.py"
    path.write_text(source, encoding="utf-8")
    return load_module(path)


def rows(table: dict[str, dict[str, Counter[str]]]) -> list[str]:
    """One line per field: right/wrong/missed/invented for each format, then the totals."""
    head = f"{'field':<17}" + "".join(f"{fmt + ' R/W/M/I':>18}" for fmt in FORMATS)
    lines = [head]
    for name in (*FIELDS, "TOTAL"):
        cells = []
        for fmt in FORMATS:
            counts = sum(table[fmt].values(), Counter()) if name == "TOTAL" else table[fmt][name]
            cells.append("/".join(str(counts[o]) for o in OUTCOMES))
        lines.append(f"{name:<17}" + "".join(f"{cell:>18}" for cell in cells))
    return lines


def report(old: ModuleType | None) -> dict[str, Any]:
    corpus = load_corpus()
    expected = [expected_fields(doc.expected)[name] for doc in corpus for name in FIELDS]
    figures: dict[str, Any] = {
        "documents": len(corpus),
        "cells": "right/wrong/missed/invented (right counts a null read as null too)",
        "values to find, per format": sum(1 for value in expected if value not in (None, [])),
        "nulls to keep, per format": sum(1 for value in expected if value in (None, [])),
    }
    runs: list[tuple[str, Parse]] = []
    if old is not None:
        runs.append((f"before ({BEFORE_COMMIT})", parser_of(old)))
    runs.append(("after (this tree)", current_parser))
    for title, parse in runs:
        figures[title] = {line[:17].strip() or "-": line[17:] for line in rows(score(parse, corpus))}
    return figures


async def section(_pg: str | None) -> dict[str, Any]:
    return report(before_parser())


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--old", type=Path, help="another copy of directive_parser.py to compare with")
    args = cli.parse_args()
    old_module = load_module(args.old) if args.old else before_parser()
    for key, value in report(old_module).items():
        if isinstance(value, dict):
            print(key)
            for field, cells in value.items():
                print(f"  {field:<17}{cells}")
        else:
            print(f"{key}: {value}")
