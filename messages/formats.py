"""How numbers, dates and times are written for Vietnamese readers: the one set of formatters every text uses.

Numbers take Vietnamese grouping and a decimal comma (1.234.567; 83,3%); dates are dd/mm/yyyy; times are in the
users' time zone.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.attendance import Attendance

NO_VALUE = "—"
_VIETNAMESE_SEPARATORS = str.maketrans({",": ".", ".": ","})


def format_number(value: float, decimals: int = 1) -> str:
    """1234567 -> "1.234.567"; 1234.5 -> "1.234,5" (Vietnamese grouping and decimal comma)."""
    number = round(value, decimals) if isinstance(value, float) else value
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    text = f"{number:,}" if isinstance(number, int) else f"{number:,.{decimals}f}".rstrip("0").rstrip(".")
    return text.translate(_VIETNAMESE_SEPARATORS)


def format_percent(rate: float | None) -> str:
    """0.8333 -> "83,3%"; 1.0 -> "100%"; None (no denominator) -> "—"."""
    if rate is None:
        return NO_VALUE
    return f"{format_number(round(rate * 100, 1))}%"


def attendance_figures(attendance: Attendance) -> dict[str, str]:
    """An attendance's parts written for a text template: present of those expected, its rate, and each part."""
    parts = ("present", "expected", "members", "official", "probationary", "exempt", "excused", "unexcused")
    return {name: format_number(getattr(attendance, name)) for name in parts} | {
        "rate": format_percent(attendance.rate)
    }


def format_date(value: date) -> str:
    """dd/mm/yyyy, the way Vietnamese documents write dates."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def day(value: date | None, missing: str = NO_VALUE) -> str:
    """A date, or `missing` when there is none."""
    return format_date(value) if value else missing


def moment(value: datetime, tz: tzinfo) -> str:
    """ "14:05 03/04/2024" in the users' time zone."""
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def directive_code(directive_id: int) -> str:
    """A directive's internal code, shown wherever two directives could share a number: "#12" (its id).
    `bot.services.directive_numbers.parse_code` reads it back."""
    return f"#{directive_id}"
