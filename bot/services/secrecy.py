"""Recognise a classified directive (a document carrying a secrecy grade, "độ mật") so it is never broadcast.

State secrets go only through the channels the law on protecting state secrets allows, never over consumer
messengers, so the bot refuses such a document instead of sending it. The grade ("Mật", "Tối mật", "Tuyệt mật")
is stamped in the header: on a line of its own, as a column of the header table (the extracted text puts the
columns of a row on one line, separated by tabs or runs of spaces), or as "Độ mật: ..." next to the number. Only
the header is looked at, and only a whole segment counts: "bí mật" or "mật khẩu" in the body is not a grade.
"""

from __future__ import annotations

import re

from bot.core.textnorm import nfc

# Directive headers (issuer, number, place and date, subject) fit well within this many non-empty lines.
HEADER_LINES = 20
GRADES = ("TUYỆT MẬT", "TỐI MẬT", "MẬT")
_SEGMENTS = re.compile(r"\t|\s{2,}|\|")
_WRAPPING = " \"'“”«»()[]*-–—:."
_LABELLED = re.compile(r"^(?:ĐỘ\s+MẬT|MỨC\s+ĐỘ\s+MẬT)\s*[:：]?\s*(.+)$")


def secrecy_grade(text: str) -> str | None:
    """The secrecy grade stamped in the header of `text` ("Mật", "Tối mật", "Tuyệt mật"), or None."""
    header = [line for line in (nfc(raw).strip() for raw in text[:8000].splitlines()) if line]
    for line in header[:HEADER_LINES]:
        for segment in _SEGMENTS.split(line):
            grade = _grade_of(segment)
            if grade is not None:
                return grade
    return None


def _grade_of(segment: str) -> str | None:
    stamp = " ".join(segment.strip(_WRAPPING).upper().split())
    labelled = _LABELLED.match(stamp)
    if labelled:
        stamp = labelled.group(1).strip(_WRAPPING)
    if stamp in GRADES:
        return stamp.capitalize()
    return None
