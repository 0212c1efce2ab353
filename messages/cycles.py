"""Texts about recurring directives: the period labels ("kỳ 11/2026"), the schedule as the board reads it, and
the prompt and refusals of the schedule the board types."""

from __future__ import annotations

from datetime import date

ROMAN_QUARTERS = ("I", "II", "III", "IV")

MONTHLY = "ngày {day} hằng tháng"
YEARLY = "hằng năm, trước ngày {dates}"
QUARTERLY = "hằng quý, trước ngày {dates}"
SCHEDULE_LINE = "🔁 Định kỳ: {schedule}"

LABEL_MONTH = "kỳ {month:02d}/{year}"
LABEL_YEAR = "kỳ năm {year}"
LABEL_HALF_FIRST = "kỳ 6 tháng đầu năm {year}"
LABEL_QUARTER = "kỳ quý {quarter}/{year}"
LABEL_DEADLINE = "kỳ hạn {date}"
LABELLED = "{subject} ({label})"
STATUS_CYCLE = "Kỳ đang mở: {label}"
UNKNOWN_PERIOD = (
    "Văn bản {number} không có kỳ «{period}». Gõ tên kỳ sau số văn bản, ví dụ «xuất 747 kỳ 10/2026», hoặc bỏ "
    "phần kỳ để lấy kỳ mặc định."
)

BAD = (
    "Chưa đọc được lịch «{text}». Gõ ví dụ «hằng tháng 25», «hằng quý 31/3», «hằng năm 15/6 15/12», "
    "hoặc «một lần»."
)
ONE_OFF_FIELD = "không (báo cáo một lần)"
CONFIRMED_FIELD = "{schedule} ✅"
PROPOSED_FIELD = (
    "văn bản ghi {schedule} ⚠️ chưa áp dụng: chọn sửa mục này và gõ «định kỳ» để mỗi kỳ báo cáo một lần"
)


def day_month(month: int, day: int) -> str:
    return f"{day:02d}/{month:02d}"


def half(year: int, first: bool) -> str:
    return LABEL_HALF_FIRST.format(year=year) if first else LABEL_YEAR.format(year=year)


def deadline_label(deadline: date) -> str:
    return LABEL_DEADLINE.format(date=deadline.strftime("%d/%m/%Y"))
