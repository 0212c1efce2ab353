"""Meeting attendance as a cell's minutes count it, and reading a secretary's typed answer into it.

Members are official (chính thức) or probationary (dự bị); members exempted from meetings (miễn sinh hoạt) are
left out of the denominator, so the rate is present / (official + probationary - exempted) and an exempted member
is never counted absent. Absences are with or without a reason. The secretary types the parts in any order
("25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do"); the number present is derived, and when the secretary also
gives it (or the total of members) it must agree with the parts, or the answer is refused saying what does not
add up. A stored answer is the JSON of `Attendance.to_json` (the parts plus the derived `present`, kept so SQL can
sum it like the others).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.textnorm import fold
from messages import forms as msg
from messages.formats import format_number

PARTS = ("official", "probationary", "exempt", "excused", "unexcused", "present")
MAX_MEMBERS = 100_000  # far above any cell or committee; a bigger figure is a typo


@dataclass(frozen=True, slots=True)
class Attendance:
    """The parts of one meeting's attendance (or their sums over many reports)."""

    official: int | float = 0
    probationary: int | float = 0
    exempt: int | float = 0
    excused: int | float = 0
    unexcused: int | float = 0

    @property
    def members(self) -> int | float:
        return self.official + self.probationary

    @property
    def expected(self) -> int | float:
        """Members expected at the meeting: everyone but the exempted."""
        return self.members - self.exempt

    @property
    def absent(self) -> int | float:
        return self.excused + self.unexcused

    @property
    def present(self) -> int | float:
        return self.expected - self.absent

    @property
    def rate(self) -> float | None:
        """Share of the expected members who attended; None when nobody was expected."""
        return self.present / self.expected if self.expected > 0 else None

    def to_json(self) -> dict[str, int]:
        values = (self.official, self.probationary, self.exempt, self.excused, self.unexcused, self.present)
        return {part: int(value) for part, value in zip(PARTS, values, strict=True)}

    def __add__(self, other: Attendance) -> Attendance:
        return Attendance(
            self.official + other.official,
            self.probationary + other.probationary,
            self.exempt + other.exempt,
            self.excused + other.excused,
            self.unexcused + other.unexcused,
        )


def as_attendance(value: object) -> Attendance | None:
    """The stored mapping (or an Attendance) as an Attendance; None for anything else. `present` is derived."""
    if isinstance(value, Attendance):
        return value
    if not isinstance(value, Mapping) or "official" not in value:
        return None
    parts: list[int | float] = []
    for part in PARTS[:5]:
        number = value.get(part, 0)
        if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
            return None
        parts.append(number)
    return Attendance(*parts)


# --- reading a typed answer -------------------------------------------------------------------------------

# Folded words naming each part, most specific first ("vắng không lý do" before "vắng", "dự bị" before "dự").
_WORDS: tuple[tuple[str, str], ...] = (
    ("unexcused", r"khong (?:co )?(?:ly do|ld|phep)|k(?:o|hg)? (?:ly do|ld|phep)|kld|kp"),
    ("excused", r"co (?:ly do|ld|phep)|cld|cp"),
    ("exempt", r"mien(?: sinh hoat| sh)?"),
    ("probationary", r"du bi|dvdb|db"),
    ("official", r"chinh thuc|dvct|ct"),
    ("present", r"co mat|tham du|tham gia|hoc tap|du|hien dien"),
    ("total", r"tong(?: so)?|dang vien|dv|ca chi bo"),
    ("absent", r"vang(?: mat)?"),
)
_PATTERNS = tuple((part, re.compile(r"(?:^|\s)(?:" + words + r")(?:$|\s)")) for part, words in _WORDS)
_SEPARATORS = re.compile(r"[,;\n+]|\s(?:va|con)\s")
_NUMBER = re.compile(r"[0-9]+")
_NOISE = re.compile(r"[:=()\-.]|\b(?:dong chi|d/c|dc|nguoi|so|la|gom)\b")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A typed attendance that cannot be taken, with the Vietnamese reason and what to type."""

    message: str


def read_attendance(text: str) -> Attendance | Unreadable:
    """Read "25 chính thức, 3 dự bị, 2 miễn, vắng 1 có lý do" (any order, any accents) and check the sums."""
    found: dict[str, int] = {}
    for piece in _pieces(text):
        part = _part_of(piece)
        number = _NUMBER.search(piece)
        if part is None or number is None:
            return Unreadable(msg.ATTENDANCE_UNREADABLE.format(text=piece.strip()))
        if part == "absent":
            return Unreadable(msg.ATTENDANCE_ABSENT_REASON.format(count=number[0]))
        if part in found:
            return Unreadable(msg.ATTENDANCE_TWICE.format(part=msg.ATTENDANCE_PARTS[part]))
        value = int(number[0])
        if value > MAX_MEMBERS:
            return Unreadable(msg.ATTENDANCE_HUGE.format(value=format_number(value)))
        found[part] = value
    if not found:
        return Unreadable(msg.ATTENDANCE_EMPTY)
    return _checked(found)


def _pieces(text: str) -> list[str]:
    """The answer cut into pieces of one number each: at commas and "và", then before a second number."""
    folded = fold(unicodedata.normalize("NFKC", text))
    pieces: list[str] = []
    for segment in _SEPARATORS.split(folded):
        segment = " ".join(_NOISE.sub(" ", segment).split())
        if not segment:
            continue
        if len(_NUMBER.findall(segment)) <= 1:
            pieces.append(segment)
            continue
        # "25 chinh thuc 3 du bi": number first, so each number takes the words after it.
        starts_with_number = segment[0].isdigit()
        splitter = r"(?=\s[0-9])" if starts_with_number else r"(?<=[0-9])\s"
        pieces.extend(piece.strip() for piece in re.split(splitter, segment) if piece.strip())
    return pieces


def _part_of(piece: str) -> str | None:
    words = " ".join(_NUMBER.sub(" ", piece).split())
    return next((part for part, pattern in _PATTERNS if pattern.search(words)), None)


def _checked(found: dict[str, int]) -> Attendance | Unreadable:
    """The parts as an Attendance once they add up; otherwise what does not, in Vietnamese."""
    n = format_number
    official, probationary = found.get("official"), found.get("probationary", 0)
    total = found.get("total")
    if official is None:
        if total is None:
            return Unreadable(msg.ATTENDANCE_NO_MEMBERS)
        if probationary > total:
            return Unreadable(msg.ATTENDANCE_TOTAL_SMALL.format(total=n(total), probationary=n(probationary)))
        official = total - probationary
    elif total is not None and total != official + probationary:
        return Unreadable(
            msg.ATTENDANCE_TOTAL_MISMATCH.format(
                total=n(total),
                official=n(official),
                probationary=n(probationary),
                sum=n(official + probationary),
            )
        )
    result = Attendance(
        official, probationary, found.get("exempt", 0), found.get("excused", 0), found.get("unexcused", 0)
    )
    if result.members <= 0:
        return Unreadable(msg.ATTENDANCE_NO_MEMBERS)
    if result.exempt > result.members:
        return Unreadable(
            msg.ATTENDANCE_EXEMPT_OVER.format(exempt=n(result.exempt), members=n(result.members))
        )
    if result.absent > result.expected:
        return Unreadable(
            msg.ATTENDANCE_ABSENT_OVER.format(absent=n(result.absent), expected=n(result.expected))
        )
    said = found.get("present")
    if said is not None and said != result.present:
        return Unreadable(
            msg.ATTENDANCE_PRESENT_MISMATCH.format(
                said=n(said),
                members=n(result.members),
                exempt=n(result.exempt),
                absent=n(result.absent),
                present=n(result.present),
            )
        )
    return result
