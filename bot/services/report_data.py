"""The neutral input of the board's documents: a frozen snapshot of one directive's delivery and reports.

The builders (`xlsx_export`, `docx_report`) read only these dataclasses, so they know nothing of the database;
storage fills them from SQL aggregates. `Counts.from_rows` and `Aggregates.from_rows` compute the same figures
in Python for small data sets and tests.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.core.textnorm import fold
from bot.services.attendance import Attendance, as_attendance
from bot.services.forms import FieldType  # the form engine's field kinds, re-exported for the builders
from messages.documents import DEFAULT_SIGNER_AUTHORITY, EMPTY_ANSWERS

__all__ = [
    "Aggregates",
    "Attendance",
    "BelowUnit",
    "Counts",
    "DirectiveSummary",
    "FieldType",
    "FieldValue",
    "FormField",
    "Quote",
    "Ratio",
    "ReportData",
    "Signature",
    "UnitRow",
    "UnitStatus",
    "as_attendance",
    "as_date",
    "as_number",
    "as_options",
    "as_ratio",
    "is_quotable",
]


class UnitStatus(StrEnum):
    """Where one target unit stands for the directive, best first."""

    REPORTED = "reported"
    REPORTED_LATE = "reported_late"
    ACKNOWLEDGED = "acknowledged"
    DELIVERED = "delivered"
    PENDING = "pending"
    BLOCKED = "blocked"
    UNREGISTERED = "unregistered"


PROXY_CHANNEL = "web"  # a report's channel when a board member entered it for the cell on the web dashboard

REPORTED_STATUSES = frozenset({UnitStatus.REPORTED, UnitStatus.REPORTED_LATE})
ACKNOWLEDGED_STATUSES = REPORTED_STATUSES | {UnitStatus.ACKNOWLEDGED}
DELIVERED_STATUSES = ACKNOWLEDGED_STATUSES | {UnitStatus.DELIVERED}


@dataclass(frozen=True, slots=True)
class FormField:
    """One question of the report form. `unit` is the counting noun used in sentences ("đồng chí", "người")."""

    key: str
    label: str
    type: FieldType
    unit: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ratio:
    """A part of a whole, e.g. 45 of 50 party members attended; `rate` is None when the whole is not positive."""

    attended: int | float
    total: int | float

    @property
    def rate(self) -> float | None:
        return self.attended / self.total if self.total > 0 else None


# A report value as the builders accept it: typed (date, Ratio, tuple of options) or as stored in a report's
# JSON (ISO date string, {"attended": n, "total": m}, list of options).
FieldValue = (
    str | int | float | Decimal | date | datetime | Ratio | Mapping[str, object] | Sequence[str] | None
)


@dataclass(frozen=True, slots=True)
class DirectiveSummary:
    """The directive being reported on, as its own header reads, plus the report form it asks for.

    `doc_type` is the type code of the number ("CV", "KH", "HD"); `issued_by` is the authority in running text
    ("Ban Thường vụ Đảng ủy Khối"), used in "... của <issued_by> về <subject>".
    """

    number: str
    issuer_code: str
    doc_type: str
    issued_on: date | None
    subject: str
    parent_body: str
    issuer: str
    place: str
    deadline: date | None = None
    issued_by: str = ""
    form_title: str = ""
    form_fields: tuple[FormField, ...] = ()
    asks_photos: bool = False  # the form asks for evidence photos (kept out of `form_fields`)


@dataclass(frozen=True, slots=True)
class Counts:
    """How far the directive got. Counts are cumulative: a unit that reported also counts as delivered and
    acknowledged. `blocked` and `unregistered` are the units it could not reach through the bot."""

    targeted: int = 0
    delivered: int = 0
    acknowledged: int = 0
    reported_on_time: int = 0
    reported_late: int = 0
    not_reported: int = 0
    blocked: int = 0
    unregistered: int = 0

    @property
    def reported(self) -> int:
        return self.reported_on_time + self.reported_late

    @property
    def report_rate(self) -> float | None:
        return _share(self.reported, self.targeted)

    @property
    def delivery_rate(self) -> float | None:
        return _share(self.delivered, self.targeted)

    @property
    def acknowledge_rate(self) -> float | None:
        return _share(self.acknowledged, self.targeted)

    @classmethod
    def from_rows(cls, rows: Iterable[UnitRow]) -> Counts:
        """Counts of a list of unit rows (the SQL path computes the same with GROUP BY status); a cell merged since
        is counted in its successor's row, not its own."""
        by_status = Counter(_status_of(row.status) for row in rows if not row.carried)
        targeted = sum(by_status.values())
        reported = sum(by_status[s] for s in REPORTED_STATUSES)
        return cls(
            targeted=targeted,
            delivered=sum(by_status[s] for s in DELIVERED_STATUSES),
            acknowledged=sum(by_status[s] for s in ACKNOWLEDGED_STATUSES),
            reported_on_time=by_status[UnitStatus.REPORTED],
            reported_late=by_status[UnitStatus.REPORTED_LATE],
            not_reported=targeted - reported,
            blocked=by_status[UnitStatus.BLOCKED],
            unregistered=by_status[UnitStatus.UNREGISTERED],
        )


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One target unit: who leads it, how far it got, and the values of its latest report (by field key).

    A report acknowledges the directive and an acknowledgement shows it arrived, so a unit counted as
    acknowledged (or delivered) always carries that time: the snapshot fills a missing one from the later step.
    `photos` are the file hashes of the report's evidence photos."""

    path: str
    name: str
    secretary: str = ""
    phone: str = ""
    status: UnitStatus | str = UnitStatus.PENDING
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    reported_at: datetime | None = None
    late: bool = False
    versions: int = 0
    values: Mapping[str, FieldValue] = field(default_factory=dict)
    unit_id: int | None = None
    photos: tuple[str, ...] = ()
    review: str = ""  # the board's review of the latest report: received, accepted, returned; "" without one
    by_proxy: bool = False  # the latest report was entered by a board member on the web dashboard
    directive_id: int | None = (
        None  # the directive reported on, when not the one the export is of (a re-issue)
    )
    # A cell merged since into one that stands for it (bot/services/cell_targets.py): its report, under its own
    # name, counts in the figures; the successor's row counts it as a target.
    carried: bool = False

    @property
    def has_reported(self) -> bool:
        return _status_of(self.status) in REPORTED_STATUSES


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Figures over all reports: sums of number fields, summed ratios, option counts of choice fields, and the
    attendance fields' parts summed (so the rate leaves exempted members out, as each report does)."""

    sessions_held: int = 0
    sums: Mapping[str, int | float] = field(default_factory=dict)
    ratios: Mapping[str, Ratio] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    attendance: Mapping[str, Attendance] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, fields: Sequence[FormField], rows: Iterable[UnitRow]) -> Aggregates:
        """Aggregates of the reported rows; values of the wrong kind are skipped, never fatal."""
        reported = [row for row in rows if row.has_reported]
        sums: dict[str, int | float] = {}
        ratios: dict[str, Ratio] = {}
        choices: dict[str, dict[str, int]] = {}
        attendance: dict[str, Attendance] = {}
        for form_field in fields:
            values = [row.values.get(form_field.key) for row in reported]
            if form_field.type == FieldType.NUMBER:
                sums[form_field.key] = sum(n for n in map(as_number, values) if n is not None)
            elif form_field.type == FieldType.RATIO:
                ratios[form_field.key] = _sum_ratios(values)
            elif form_field.type == FieldType.CHOICE:
                choices[form_field.key] = _count_options(form_field.options, values)
            elif form_field.type == FieldType.ATTENDANCE:
                attendance[form_field.key] = sum(filter(None, map(as_attendance, values)), Attendance())
        return cls(
            sessions_held=len(reported), sums=sums, ratios=ratios, choices=choices, attendance=attendance
        )


def add_counts(items: Iterable[Counts]) -> Counts:
    """Counts added up (the directives of one family, the units below that reported up)."""
    names = [f.name for f in fields(Counts)]
    total = dict.fromkeys(names, 0)
    for counts in items:
        for name in names:
            total[name] += getattr(counts, name)
    return Counts(**total)


def add_aggregates(items: Iterable[Aggregates]) -> Aggregates:
    held = 0
    sums: dict[str, int | float] = {}
    ratios: dict[str, Ratio] = {}
    choices: dict[str, dict[str, int]] = {}
    attendance: dict[str, Attendance] = {}
    for a in items:
        held += a.sessions_held
        for key, value in a.sums.items():
            sums[key] = sums.get(key, 0) + value
        for key, ratio in a.ratios.items():
            before = ratios.get(key, Ratio(0, 0))
            ratios[key] = Ratio(before.attended + ratio.attended, before.total + ratio.total)
        for key, counted in a.choices.items():
            into = choices.setdefault(key, {})
            for option, count in counted.items():
                into[option] = into.get(option, 0) + count
        for key, parts in a.attendance.items():
            attendance[key] = attendance.get(key, Attendance()) + parts
    return Aggregates(held, sums, ratios, choices, attendance)


@dataclass(frozen=True, slots=True)
class BelowUnit:
    """One unit below, as the upper board's documents show it when they add up the intermediate reports: what its
    board did with the directive, its report upward (when, late or not) with the figures that report carried, or,
    when it has not reported up, only its cells' live progress (`cells`, `cells_reported`), never added in."""

    name: str
    action: str
    reported_at: datetime | None = None
    late: bool = False
    counts: Counts | None = None  # the report upward's figures; None: not reported up
    aggregates: Aggregates | None = None
    cells: int = 0
    cells_reported: int = 0


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence a unit wrote in a free-text field, quoted in the report with its author."""

    unit_name: str
    field_label: str
    text: str


@dataclass(frozen=True, slots=True)
class Signature:
    """Who signs the draft: the authority line ("T/M BAN THƯỜNG VỤ", "K/T BÍ THƯ"), then the signer's position
    and name; an empty position or name is printed as a placeholder for the board to fill."""

    authority: str = DEFAULT_SIGNER_AUTHORITY
    title: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the board's documents show for one directive on one day.

    `number` is the report's own number ("03-BC/ĐUK"), proposed or recorded by the register; empty leaves a gap for
    the clerk. `report_to` is the upper body the report goes to ("để báo cáo"), `recipients` further "Nơi nhận"
    lines; `archive` is who keeps the file copy ("VPĐUK"), by default "VP" + the issuer code. Aware datetimes are
    shown in `timezone`; naive ones are taken as local.
    """

    directive: DirectiveSummary
    counts: Counts
    rows: Sequence[UnitRow]
    aggregates: Aggregates
    generated_on: date
    highlights: Sequence[Quote] = ()
    difficulties: Sequence[Quote] = ()
    recommendations: Sequence[Quote] = ()
    signature: Signature = Signature()
    number: str = ""
    report_to: str = ""
    recipients: Sequence[str] = ()
    archive: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    # Where the figures come from, on a directive handed down to units below (bot.services.rollup): «báo cáo của
    # 2/3 đơn vị cấp dưới» or «báo cáo trực tiếp của 120 chi bộ»; "" for a directive that went straight to cells.
    source: str = ""
    below: Sequence[BelowUnit] = ()  # aggregated from the intermediate reports: one per unit below

    @property
    def archive_label(self) -> str:
        return self.archive or f"VP{self.directive.issuer_code}"


def as_number(value: object) -> int | float | None:
    """The value as a finite int or float, or None when it is not a number (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def as_ratio(value: object) -> Ratio | None:
    """A Ratio, or the {"attended", "total"} mapping a report stores, as a Ratio of numbers; else None."""
    parts: tuple[object, object]
    if isinstance(value, Ratio):
        parts = (value.attended, value.total)
    elif isinstance(value, Mapping):
        parts = (value.get("attended"), value.get("total"))
    else:
        return None
    attended, total = as_number(parts[0]), as_number(parts[1])
    return Ratio(attended, total) if attended is not None and total is not None else None


def as_date(value: object) -> date | None:
    """A date (or datetime), or the ISO string a report stores, as a date; else None."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def as_options(value: object) -> tuple[str, ...]:
    """The chosen option(s) of a choice field: one string, or a tuple or list of them (JSON gives lists)."""
    items = value if isinstance(value, tuple | list) else (value,)
    return tuple(item.strip() for item in items if isinstance(item, str) and item.strip())


# A quote in a Party report is a sentence, not a word: "Tốt", "ok" or "Tot" say nothing an upper body can use.
QUOTE_MIN_WORDS = 3
QUOTE_MIN_LETTERS = 10


def is_quotable(text: str) -> bool:
    """Whether an answer is worth quoting in the report: not a "nothing to say" answer, at least a few words with
    enough letters, and written with Vietnamese diacritics (text typed without them reads as careless in a Party
    document whose every other line has them)."""
    words = text.split()
    folded = fold(text)
    if folded.strip(" .,;:!-") in EMPTY_ANSWERS or len(words) < QUOTE_MIN_WORDS:
        return False
    if sum(ch.isalpha() for ch in text) < QUOTE_MIN_LETTERS:
        return False
    return _has_diacritics(text)


def _has_diacritics(text: str) -> bool:
    return "đ" in text.lower() or any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", text))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _status_of(status: UnitStatus | str) -> UnitStatus | str:
    try:
        return UnitStatus(status)
    except ValueError:
        return status


def _sum_ratios(values: Iterable[FieldValue]) -> Ratio:
    attended: int | float = 0
    total: int | float = 0
    for ratio in filter(None, map(as_ratio, values)):
        attended += ratio.attended
        total += ratio.total
    return Ratio(attended, total)


def _count_options(options: Sequence[str], values: Iterable[FieldValue]) -> dict[str, int]:
    counts = dict.fromkeys(options, 0)
    for value in values:
        for option in as_options(value):
            counts[option] = counts.get(option, 0) + 1
    return counts
