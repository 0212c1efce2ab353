"""Unicode normalisation for Vietnamese text: NFC for storage, a diacritic-insensitive fold for matching."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# đ/Đ are letters of their own, not d plus a combining mark, so NFD leaves them intact.
_D_STROKE = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(s: str) -> str:
    """Return `s` in Unicode NFC, the form every stored and displayed text uses."""
    return unicodedata.normalize("NFC", s)


def _drop_invisible(s: str) -> str:
    """Remove combining marks and format characters (zero-width spaces, BOM, soft hyphens)."""
    return "".join(ch for ch in s if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")


def fold(s: str) -> str:
    """Fold `s` for matching: no diacritics, đ→d, case-folded, whitespace collapsed and trimmed.

    "Sinh hoạt  Chuyên ĐỀ" and "sinh hoat chuyen de" fold to the same string, whether the input
    arrived in NFC or NFD (as some phone keyboards send it).
    """
    # Labels, choices and answer words are folded over and over while reports are read; long texts are not kept.
    return _fold_short(s) if len(s) <= _CACHED_LENGTH else _fold(s)


_CACHED_LENGTH = 80


@lru_cache(maxsize=8192)
def _fold_short(s: str) -> str:
    return _fold(s)


def _fold(s: str) -> str:
    decomposed = unicodedata.normalize("NFD", s.casefold())
    bare = _drop_invisible(decomposed).translate(_D_STROKE)
    return " ".join(bare.split())


def is_blank(s: str | None) -> bool:
    """True when `s` is None or holds nothing but whitespace and invisible characters."""
    if s is None:
        return True
    stripped = s.strip()
    if stripped and unicodedata.category(stripped[0]) != "Cf":
        return False  # the usual case, decided by the first visible character without scanning the rest
    return not "".join(ch for ch in stripped if unicodedata.category(ch) != "Cf").strip()


_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def scrub(s: str) -> str:
    """`s` without what no database or platform takes: NUL and other control characters (newline and tab stay)
    and lone surrogates (JSON can carry "\\ud800", UTF-8 cannot). PostgreSQL refuses NUL in text and JSON."""
    return _UNSAFE.sub("", s)


def small_number(s: str, digits: int = 9) -> int | None:
    """`s` as a non-negative integer when it is at most `digits` ASCII digits, else None.

    `str.isdigit` accepts "²" (which `int` refuses) and any length (`int` refuses over 4,300 digits, and a
    database id column overflows far sooner), so typed numbers are read through here.
    """
    return int(s) if 0 < len(s) <= digits and s.isascii() and s.isdigit() else None
