"""The repository stands alone: its code, tests, benchmarks and tools name no path outside it, its documents link
only to files inside it, and it holds no symbolic link (a fresh clone with nothing beside it runs `make test`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.support import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
CODE = ("bot", "handlers", "storage", "messages", "tests", "bench", "tools")
TOP_FILES = ("Makefile", "pyproject.toml", "README.md", ".env.example")
SKIPPED = {
    ".git",
    ".venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "data",
    "chibo.egg-info",
}
# A sibling directory the samples once came from, a checkout's absolute place, or climbing above the root from a
# module one level down (for tests/x.py, parents[1] is the root).
OUTSIDE = re.compile(r"\.\./shared|/work/(?:shared|main|wt)\b|\.parents\[[2-9]\]")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_files() -> list[Path]:
    """Every file and directory of the repository but tool caches, the virtualenv and generated data."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        here = Path(folder)
        found += [here / d for d in dirs]
        found += [here / f for f in sorted(files) if not f.endswith((".pyc", ".png", ".jpg", ".db"))]
    return found


def test_no_file_names_a_path_outside_the_repository() -> None:
    sources = [p for p in repository_files() if p.is_file() and p.relative_to(ROOT).parts[0] in CODE]
    sources += [ROOT / name for name in TOP_FILES if (ROOT / name).exists()]
    assert len(sources) > 50
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_sample_directives_are_in_the_repository() -> None:
    assert SAMPLES.resolve().is_relative_to(ROOT)
    assert sorted(p.name for p in SAMPLES.glob("directive-*.txt")) == [
        "directive-745-CV-DUK.txt",
        "directive-747-CV-DUK.txt",
    ]


def test_documents_link_only_to_files_inside_the_repository() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(SAMPLES.glob("*.md"))]
    checked = 0
    for document in documents:
        for target in MARKDOWN_LINK.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or a heading of the same page
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{document.name} links outside: {target}"
            assert path.exists(), f"{document.name} links to a missing file: {target}"
            checked += 1
    assert checked > 10


def test_the_repository_holds_no_symbolic_link() -> None:
    assert [p.relative_to(ROOT) for p in repository_files() if p.is_symlink()] == []
