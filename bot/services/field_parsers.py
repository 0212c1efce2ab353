"""Turn a secretary's typed answer to one report field into a JSON-ready value, a skip, or a refusal.

Matching forgives missing diacritics, case and NFD input; every refusal carries a short Vietnamese
message saying what to type instead. Nothing here raises on user input.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.textnorm import fold, is_blank, nfc
from bot.services.attendance import Unreadable, read_attendance
from bot.services.forms import MAX_NUMBER, FieldSpec, FieldType
from messages import forms as msg
from messages.formats import format_date, format_number

JsonValue = str | int | dict[str, int]


@dataclass(frozen=True, slots=True)
class Ok:
    """An accepted answer; `value` is JSON-serialisable (dates as ISO strings)."""

    value: JsonValue


@dataclass(frozen=True, slots=True)
class Skipped:
    """An optional field the secretary chose not to answer."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """An answer that cannot be accepted, with the Vietnamese message to send back."""

    message: str


ParseResult = Ok | Skipped | Refusal

_DASHES = "-–—‐‑−"  # hyphen, en/em dashes and minus all reach us from phone keyboards
_NONE_WORD = "khong co"  # a real answer ("none") to a required text question, not a skip
_TRAILING_PUNCT = ".,;!?…"
_QUOTE_LIMIT = 40
_MAX_DIGITS = len(str(MAX_NUMBER))


def parse_field(spec: FieldSpec, text: str, today: date) -> ParseResult:
    """Parse `text` as the answer to `spec`; `today` anchors relative and year-less dates."""
    clean = _sanitize(text)
    if spec.type is FieldType.CHOICE and (exact := _exact_choice(spec, clean)) is not None:
        return Ok(exact)  # before skip words, so a choice literally named "Không có" stays selectable
    if is_blank(clean):
        return Skipped() if not spec.required else _refuse(msg.REQUIRED_EMPTY, label=spec.label)
    if is_skip_word(clean):
        skipped = _skip(spec, clean)
        if skipped is not None:
            return skipped
    return _PARSERS[spec.type](spec, clean, today)


def is_skip_word(text: str) -> bool:
    """True for the words that skip an optional question: "bỏ qua", "-", "không có" (any case, any accents)."""
    return _skip_key(text) in msg.WORDS_SKIP


def _skip(spec: FieldSpec, text: str) -> ParseResult | None:
    """Skipped for optional fields; a refusal for required ones, except "không có" as a text answer."""
    if not spec.required:
        return Skipped()
    if spec.type is FieldType.TEXT and _skip_key(text) == _NONE_WORD:
        return None
    hint = msg.REQUIRED_NUMBER_HINT if spec.type is FieldType.NUMBER else ""
    return Refusal(nfc(msg.REQUIRED_NO_SKIP.format(label=spec.label) + hint))


def _skip_key(text: str) -> str:
    key = fold(text).rstrip(_TRAILING_PUNCT).rstrip()
    return "-" if key and all(ch in _DASHES for ch in key) else key


def _sanitize(text: str) -> str:
    """NFC, Windows/old-Mac line ends unified, control characters and lone surrogates removed.

    PostgreSQL refuses NUL in text and JSON, and nothing typed on a phone needs other control characters.
    """
    if not isinstance(text, str):
        return ""
    unified = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in unified if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def _refuse(template: str, **values: object) -> Refusal:
    return Refusal(nfc(template.format(**values)))


def _quote(text: str) -> str:
    """The user's own words, shortened, for echoing inside a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _QUOTE_LIMIT else flat[: _QUOTE_LIMIT - 1].rstrip() + "…"


def _compact(text: str) -> str:
    """Folded text with compatibility forms (full-width digits, ①) unified and edge punctuation dropped."""
    folded = fold(unicodedata.normalize("NFKC", text))
    return folded.rstrip(_TRAILING_PUNCT).rstrip()


# --- dates ------------------------------------------------------------------------------------------------

_RELATIVE_DAYS = {"hom nay": 0, "hom qua": -1, "hom kia": -2}
_DATE_PREFIX = re.compile(r"(?:vao\s+)?ngay\s*:?\s*(?=[0-9]|hom\b)")
_DMY = re.compile(r"([0-9]{1,2})\s*([/.-])\s*([0-9]{1,2})(?:\s*\2\s*([0-9]+))?")
_DMY_WORDS = re.compile(r"([0-9]{1,2})\s*thang\s*([0-9]{1,2})(?:\s*(?:nam|,|/)?\s*([0-9]+))?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def _parse_date(spec: FieldSpec, text: str, today: date) -> ParseResult:
    compact = _DATE_PREFIX.sub("", _compact(text), count=1)
    if compact in _RELATIVE_DAYS:
        return _check_window(spec, _shift(today, _RELATIVE_DAYS[compact]), today)
    parts = _date_parts(compact)
    if parts is None:
        return _refuse(msg.DATE_UNREADABLE, text=_quote(text))
    day, month, year_text = parts
    if not 1 <= month <= 12:
        return _refuse(msg.DATE_BAD_MONTH, month=month)
    if not 1 <= day <= 31:
        return _refuse(msg.DATE_BAD_DAY, day=day)
    if year_text is None:
        return _date_without_year(spec, day, month, today)
    year = _full_year(year_text)
    if year is None:
        return _refuse(msg.DATE_BAD_YEAR, year=year_text)
    days_in_month = calendar.monthrange(year, month)[1]
    if day > days_in_month:
        return _refuse(msg.DATE_NOT_IN_MONTH, day=day, month=month, year=year, days=days_in_month)
    return _check_window(spec, date(year, month, day), today)


def _date_parts(compact: str) -> tuple[int, int, str | None] | None:
    """(day, month, year as typed or None) from the accepted shapes."""
    if match := _ISO_DATE.fullmatch(compact):
        return int(match[3]), int(match[2]), match[1]
    if match := _DMY.fullmatch(compact):
        return int(match[1]), int(match[3]), match[4]
    if match := _DMY_WORDS.fullmatch(compact):
        return int(match[1]), int(match[2]), match[3]
    return None


def _full_year(text: str) -> int | None:
    if len(text) == 2:
        return 2000 + int(text)
    if len(text) == 4 and 1 <= int(text) <= 9999:
        return int(text)
    return None


NEAR_FUTURE_DAYS = 30  # a day/month this close ahead is a typo to refuse, not last year's date


def _date_without_year(spec: FieldSpec, day: int, month: int, today: date) -> ParseResult:
    """The day/month in whichever of last, this or next year lies nearest today (28/12 typed in January).

    Taking the nearest, rather than any year that fits, keeps "25/4" typed on 20/4 a refused future
    date instead of silently turning it into last year's.
    """
    candidates = [
        date(year, month, day)
        for year in (today.year, today.year - 1, today.year + 1)
        if 1 <= year <= 9999 and day <= calendar.monthrange(year, month)[1]
    ]
    if not candidates:
        days = calendar.monthrange(today.year, month)[1]
        return _refuse(msg.DATE_NOT_IN_MONTH, day=day, month=month, year=today.year, days=days)
    nearest = min(candidates, key=lambda candidate: abs((candidate - today).days))
    earliest, latest = _window(spec, today)
    if nearest > latest and (nearest - today).days > NEAR_FUTURE_DAYS:
        # "15/4" typed in November means last April, not one five months ahead: take the nearest that fits.
        fitting = [c for c in candidates if earliest <= c <= latest]
        if fitting:
            nearest = min(fitting, key=lambda candidate: abs((candidate - today).days))
    return _check_window(spec, nearest, today)


def _check_window(spec: FieldSpec, value: date | None, today: date) -> ParseResult:
    start, end = _window(spec, today)
    bounds = {"start": format_date(start), "end": format_date(end)}
    if value is None:
        return _refuse(msg.DATE_TOO_EARLY, date=format_date(start), **bounds)
    if value > end:
        return _refuse(msg.DATE_TOO_LATE, date=format_date(value), **bounds)
    if value < start:
        return _refuse(msg.DATE_TOO_EARLY, date=format_date(value), **bounds)
    return Ok(value.isoformat())


def _window(spec: FieldSpec, today: date) -> tuple[date, date]:
    low, high = spec.date_window
    return _shift(today, low) or date.min, _shift(today, high) or date.max


def _shift(day: date, days: int) -> date | None:
    """`day` moved by `days`, or None past the calendar's ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


# --- counts -----------------------------------------------------------------------------------------------

# Words secretaries add after a count ("12 người", "5 tin bài"); folded, longest first so they strip whole.
_UNITS = sorted(
    (
        "nguoi",
        "dong chi",
        "d/c",
        "dc",
        "luot",
        "luot nguoi",
        "tin",
        "bai",
        "tin bai",
        "tin, bai",
        "hoat dong",
        "buoi",
        "cuoc",
        "lan",
        "dang vien",
        "dv",
        "quan chung",
        "luot tuong tac",
        "tuong tac",
        "luot thich",
    ),
    key=len,
    reverse=True,
)
_UNIT_SUFFIX = re.compile(r"(.*[0-9])\s*(?:" + "|".join(re.escape(unit) for unit in _UNITS) + r")")
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}([. ])[0-9]{3}(?:\1[0-9]{3})*")
_DECIMAL = re.compile(r"[0-9]+(?:\s*[.,]\s*[0-9]+)+")
_NEGATIVE = re.compile("[" + re.escape(_DASHES) + r"]\s*[0-9].*")
_ANY_DIGIT = re.compile(r"[0-9]")
_RATIO_SEPARATOR = re.compile(
    r"\s*(?:/|\btren tong so\b|\btrong tong so\b|\btrong so\b|\btren\b|\btrong\b)\s*"
)


def _parse_number(spec: FieldSpec, text: str, today: date) -> ParseResult:
    value = _read_count(_strip_unit(_compact(text)), text)
    if isinstance(value, Refusal):
        return value
    if spec.min is not None and value < spec.min:
        return _refuse(
            msg.NUMBER_TOO_SMALL,
            value=format_number(value),
            label=spec.label,
            min=format_number(spec.min),
        )
    if spec.max is not None and value > spec.max:
        return _refuse(
            msg.NUMBER_TOO_LARGE,
            value=format_number(value),
            label=spec.label,
            max=format_number(spec.max),
        )
    return Ok(value)


def _strip_unit(compact: str) -> str:
    match = _UNIT_SUFFIX.fullmatch(compact)
    return match[1].strip() if match else compact


def _read_count(compact: str, original: str) -> int | Refusal:
    """A non-negative whole number written plainly or with Vietnamese grouping (1.234 or 1 234)."""
    if _PLAIN.fullmatch(compact):
        digits = compact
    elif _GROUPED.fullmatch(compact):
        digits = re.sub(r"[. ]", "", compact)
    elif _NEGATIVE.fullmatch(compact):
        return _refuse(msg.NUMBER_NEGATIVE)
    elif _DECIMAL.fullmatch(compact):
        return _refuse(msg.NUMBER_DECIMAL)
    elif _ANY_DIGIT.search(compact):
        return _refuse(msg.NUMBER_UNREADABLE, text=_quote(original))
    else:
        return _refuse(msg.NUMBER_WORDS)
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS or int(significant or "0") > MAX_NUMBER:
        return _refuse(msg.NUMBER_HUGE, max=format_number(MAX_NUMBER))
    return int(significant or "0")


def _parse_ratio(spec: FieldSpec, text: str, today: date) -> ParseResult:
    compact = _strip_unit(_compact(text))
    sides = _RATIO_SEPARATOR.split(compact)
    if len(sides) == 1:
        single = _read_count(compact, text)
        return single if isinstance(single, Refusal) else _refuse(msg.RATIO_ONE_NUMBER)
    if len(sides) != 2 or not all(sides):
        return _refuse(msg.RATIO_UNREADABLE, text=_quote(text))
    attended = _read_count(_strip_unit(sides[0]), text)
    if isinstance(attended, Refusal):
        return attended
    total = _read_count(_strip_unit(sides[1]), text)
    if isinstance(total, Refusal):
        return total
    if total == 0:
        return _refuse(msg.RATIO_ZERO_TOTAL)
    if attended > total:
        return _refuse(msg.RATIO_OVER, attended=format_number(attended), total=format_number(total))
    return Ok({"attended": attended, "total": total})


def _parse_attendance(spec: FieldSpec, text: str, today: date) -> ParseResult:
    read = read_attendance(text)
    return Refusal(nfc(read.message)) if isinstance(read, Unreadable) else Ok(read.to_json())


# --- choices ----------------------------------------------------------------------------------------------

_CHOICE_NUMBER = re.compile(r"(?:so\s*|muc\s*)?([0-9]{1,4})\s*[.)]?")
_MIN_PARTIAL = 2


def _choice_key(text: str) -> str:
    return fold(text).rstrip(_TRAILING_PUNCT).rstrip()


def _exact_choice(spec: FieldSpec, text: str) -> str | None:
    key = _choice_key(text)
    return next((choice for choice in spec.choices if fold(choice) == key), None) if key else None


def _parse_choice(spec: FieldSpec, text: str, today: date) -> ParseResult:
    key = _compact(text)
    options = msg.numbered_options(spec.choices)
    if number := _CHOICE_NUMBER.fullmatch(key):
        index = int(number[1]) - 1
        if 0 <= index < len(spec.choices):
            return Ok(spec.choices[index])
        return _refuse(msg.CHOICE_BAD_NUMBER, number=number[1], count=len(spec.choices), options=options)
    if sum(ch.isalnum() for ch in key) < _MIN_PARTIAL:
        return _refuse(msg.CHOICE_TOO_SHORT, text=_quote(text), options=options)
    folded = [fold(choice) for choice in spec.choices]
    word_start = re.compile(r"(?:^|[\s/(,-])" + re.escape(key))
    for matches in (
        [i for i, choice in enumerate(folded) if word_start.search(choice)],
        [i for i, choice in enumerate(folded) if key in choice],
    ):
        if len(matches) == 1:
            return Ok(spec.choices[matches[0]])
        if matches:
            shown = msg.numbered_options(spec.choices, only=matches)
            return _refuse(msg.CHOICE_AMBIGUOUS, text=_quote(text), options=shown)
    return _refuse(msg.CHOICE_UNKNOWN, text=_quote(text), options=options)


# --- free text and photos ---------------------------------------------------------------------------------


def _parse_text(spec: FieldSpec, text: str, today: date) -> ParseResult:
    value = text.strip()
    if len(value) > spec.text_limit:
        return _refuse(
            msg.TEXT_TOO_LONG, length=format_number(len(value)), max=format_number(spec.text_limit)
        )
    return Ok(value)


def _parse_photo(spec: FieldSpec, text: str, today: date) -> ParseResult:
    template = msg.PHOTO_EXPECTED_REQUIRED if spec.required else msg.PHOTO_EXPECTED_OPTIONAL
    return _refuse(template, label=spec.label)


_PARSERS = {
    FieldType.DATE: _parse_date,
    FieldType.NUMBER: _parse_number,
    FieldType.RATIO: _parse_ratio,
    FieldType.ATTENDANCE: _parse_attendance,
    FieldType.CHOICE: _parse_choice,
    FieldType.TEXT: _parse_text,
    FieldType.PHOTO: _parse_photo,
}
