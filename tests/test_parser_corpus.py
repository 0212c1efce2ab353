"""The directive parser on the corpus of tests/corpus (structures of real public directives, see its README), each
document read as text, as a DOCX (two-column header as a table, subject over several paragraphs) and as a PDF
(hard-wrapped lines), through `extract_text` the way the bot reads an upload; and the board's view of it from the
CLI. The expected fields of each document, null where the document does not say, are in its JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.parser_corpus import CORPUS_DIR, FORMATS, current_parser, differences, load_corpus
from bot.cli import app

CORPUS = load_corpus()


def test_the_corpus_is_varied() -> None:
    kinds = {doc.expected["doc_type"] for doc in CORPUS}
    issuers = " ".join(str(doc.expected["issuer"]) + str(doc.expected["parent_body"]) for doc in CORPUS)
    assert len(CORPUS) >= 12
    assert {"CV", "KH", "HD", "TB", "KL"} <= kinds
    for level in ("TỈNH ỦY", "HUYỆN ỦY", "ĐẢNG ỦY XÃ", "ĐẢNG ỦY KHỐI", "BAN TUYÊN GIÁO"):
        assert level in issuers
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(doc.name in readme for doc in CORPUS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("doc", CORPUS, ids=[doc.name for doc in CORPUS])
def test_corpus_document_reads_right(doc, fmt: str) -> None:  # type: ignore[no-untyped-def]
    assert differences(current_parser, doc, fmt) == {}


def test_the_board_sees_which_deadline_is_for_the_report(cli: CliRunner) -> None:
    path = CORPUS_DIR / "03-cv-dang-uy-khoi-date-between.txt"

    shown = cli.invoke(app, ["directive", "parse", str(path)])
    data = json.loads(cli.invoke(app, ["directive", "parse", str(path), "--json"]).output)

    assert "Hạn báo cáo: 05/11/2025 ⚠️ chưa xác nhận; hạn hoàn thành công việc: 01/11/2025" in shown.output
    assert data["version"] == 2 and data["deadline"] == "2025-11-05"
    assert [(d["date"], d["kind"]) for d in data["deadlines"]] == [
        ("2025-11-01", "completion"),
        ("2025-11-05", "report"),
    ]


def test_a_completion_deadline_alone_leaves_the_report_deadline_missing(
    cli: CliRunner, tmp_path: Path
) -> None:
    source = (CORPUS_DIR / "03-cv-dang-uy-khoi-date-between.txt").read_text(encoding="utf-8")
    path = tmp_path / "completion-only.txt"
    path.write_text(source.split("Các đảng bộ, chi bộ cơ sở tổng hợp")[0] + "Nơi nhận:\n", encoding="utf-8")

    shown = cli.invoke(app, ["directive", "parse", str(path)]).output
    data = json.loads(cli.invoke(app, ["directive", "parse", str(path), "--json"]).output)

    assert "Hạn báo cáo: — chưa tìm thấy; hạn hoàn thành công việc: 01/11/2025" in shown
    assert data["deadline"] is None and "deadline" in data["missing"]
