"""Which fields of a directive read from a scan the board should check against the paper.

The rule (docs/flows.md repeats it for the board): a field is to check when
- it is one the bot acts on (number, date of issue, issuer, deadline) and the parser found nothing for it: the
  scan may have lost it; or
- it has a value and one of the words it was read from was doubtful to Tesseract (confidence under
  `ocr.LOW_CONFIDENCE`): the value's own words, or for a date the words it was written in ("ngày 05 tháng 3 năm
  2025") or else its day, month and year numbers. A doubtful word of three letters or more inside a value's word
  counts too (the parser writes "745-CV/ĐUK" where the scan had "745 -CV/ĐUK").
Field keys are those of the preview (`messages.directives.FIELD_LABELS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from bot.services.directive_parser import DirectiveMeta
from bot.services.ocr import fold_word

KEY_FIELDS = ("number", "issued_on", "issuer", "deadline")
_MIN_INNER = 3


def fields_to_check(meta: DirectiveMeta, doubtful: Iterable[str]) -> list[str]:
    """The preview keys of the fields to check, in the preview's order."""
    unsure = {word for word in doubtful if word}
    sources = _sources(meta)
    return [
        key
        for key, words in sources.items()
        if (not words and key in KEY_FIELDS) or (words and _any_doubtful(words, unsure))
    ]


def _sources(meta: DirectiveMeta) -> dict[str, list[str]]:
    signer = " ".join(p for p in (meta.signer_title, meta.signer_name) if p)
    return {
        "number": _words(meta.number),
        "parent_body": _words(meta.parent_body),
        "issuer": _words(meta.issuer),
        "place": _words(meta.place),
        "issued_on": _words(meta.issued_text) or _date_words(meta.issued_on),
        "subject": _words(meta.subject),
        "deadline": _words(meta.deadline_text) or _date_words(meta.deadline),
        "signer": _words(signer),
    }


def _words(text: str | None) -> list[str]:
    return [w for w in (fold_word(part) for part in (text or "").split()) if w]


def _date_words(day: date | None) -> list[str]:
    if day is None:
        return []
    return [str(day.day), f"{day.day:02d}", str(day.month), f"{day.month:02d}", str(day.year)]


def _any_doubtful(words: list[str], unsure: set[str]) -> bool:
    return any(word in unsure or any(len(u) >= _MIN_INNER and u in word for u in unsure) for word in words)
