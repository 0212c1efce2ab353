"""Matching a directive number someone typed ("747", "747-CV", "747 – CV/ĐUK", "cv/đuk") with the stored ones.

The one matcher behind the board's commands, the secretary's choice of a directive and the prefix of a
one-message report. Diacritics, case, spaces and the kind of dash never matter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from bot.core.textnorm import fold

K = TypeVar("K")

_DASHES = re.compile("[" + re.escape("–—‐‑−") + "]")
_SPACES = re.compile(r"\s+")
_FIRST_DIGITS = re.compile(r"[0-9]+")
# A directive's internal code ("#12", its id): what tells apart two directives sharing a number.
_CODE = re.compile(r"\s*#\s*([0-9]{1,18})\s*")


def parse_code(text: str) -> int | None:
    """The directive id an internal code names ("#12", "# 12"), or None when the text is not a code."""
    found = _CODE.fullmatch(text)
    return int(found.group(1)) if found else None


def normalize_number(text: str) -> str:
    """ "747 – CV/ĐUK" -> "747-cv/duk": how a typed number is compared with a stored one."""
    return _SPACES.sub("", _DASHES.sub("-", fold(text)))


def segments(number: str) -> tuple[str, ...]:
    """ "747 – CV/ĐUK" -> ("747", "cv", "duk"), from its first digits on; () when it has no digits."""
    canon = normalize_number(number)
    start = _FIRST_DIGITS.search(canon)
    if start is None:
        return ()
    pieces = [piece for piece in re.split(r"[-/]", canon[start.start() :]) if piece]
    pieces[0] = pieces[0].lstrip("0") or "0"
    return tuple(pieces)


def same_number(said: tuple[str, ...], known: tuple[str, ...]) -> bool:
    """Same sequence number, and the typed type/issuer parts appear in order in the known number."""
    if not said or not known or said[0] != known[0]:
        return False
    remaining = iter(known[1:])
    return all(piece in remaining for piece in said[1:])


def match_number(query: str, numbers: Mapping[K, str], *, loose: bool = False) -> list[K]:
    """Keys whose number the query names: the exact number if one is, else every number with the same sequence
    number and the typed parts in order ("747" or "747-CV" for "747-CV/ĐUK"). With `loose` (a board member
    looking something up), a query that names none of them may also be any part of a number ("cv/đuk")."""
    wanted = normalize_number(query)
    if not wanted:
        return []
    normalized = {key: normalize_number(number) for key, number in numbers.items()}
    exact = [key for key, number in normalized.items() if number == wanted]
    if exact:
        return exact
    said = segments(query)
    same = [key for key, number in numbers.items() if same_number(said, segments(number))]
    if same or not loose:
        return same
    return [key for key, number in normalized.items() if wanted in number]
