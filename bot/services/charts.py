"""Progress chart for the board: one horizontal 100% stacked bar per group (a directive, or a part of the scope),
split into reported on time, late, overdue (missing past the deadline) and not yet due, which is grey: a report
that is not due yet is no failure. The chart carries its date, and is drawn with matplotlib's Agg canvas into PNG
bytes sized for a phone: a narrow figure, large type, each group's short label written above its bar so the
bars keep the full width.

matplotlib is imported when a chart is drawn, not with this module: it adds about 27 MB to the bot's memory, and
most days the bot draws no chart at all."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING, Any

from messages import documents as msg
from messages.formats import format_number, format_percent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# label, reported on time, reported late, not reported past the deadline, not reported and not yet due. The
# last part may be left out (a row of four counts has nothing "not yet due").
ProgressRow = tuple[str, int, int, int, int]
Parts = tuple[int, int, int, int]

MAX_BARS = 15
LABEL_CHARS = 34  # one line above the bar at phone width
WIDTH_INCHES = 4.8  # 960 px: a phone shows the picture at full width without shrinking the type much
BAR_INCHES = 0.62  # the bar and its label line
FRAME_INCHES = 2.5
DPI = 200
COLORS = ("#2e7d32", "#f9a825", "#c62828", "#9e9e9e")  # on time, late, overdue, not yet due (neutral grey)
PERCENT_TICKS = (0, 50, 100)
ANNOTATION_ROOM = 0.3  # share of the axis right of 100% kept for the "17/27" counts
BAR_HEIGHT = 0.5

# Scoped to each drawing, so the chart never changes matplotlib settings for the rest of the process.
_STYLE: Any = {  # matplotlib types its keys as literals; these are checked by the chart tests
    "font.family": "DejaVu Sans",
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def build_progress_chart(
    rows: Sequence[Sequence[object]], day: date | None = None, subtitle: str | None = None
) -> bytes:
    """The PNG of `progress_figure`."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with mpl.rc_context(_STYLE):
        figure = progress_figure(rows, day, subtitle)
        buffer = BytesIO()
        FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def progress_figure(
    rows: Sequence[Sequence[object]], day: date | None = None, subtitle: str | None = None
) -> Figure:
    """One 100% stacked bar per row, so small and large groups compare at a glance, with the units reported
    ("17/27") beside each bar. Past MAX_BARS rows the smallest are folded into one "Khác" bar. The title carries
    `day`; `subtitle` replaces the default one (units reported of all the rows' units), for rows whose units
    overlap, such as one row per directive.

    Negative or non-numeric counts are read as 0, so a bad row never stops the chart.
    """
    import matplotlib as mpl

    clean = [_clean_row(row) for row in rows]
    with mpl.rc_context(_STYLE):
        if not clean:
            return _draw_empty(day)
        folded = fold_rows(clean, MAX_BARS)
        return _draw(folded, _title(day), subtitle if subtitle is not None else _subtitle(folded))


def fold_rows(given: Sequence[Sequence[object]], limit: int = MAX_BARS) -> list[ProgressRow]:
    """At most `limit` rows: the `limit` - 1 largest (by units, in the given order), then one
    "Khác (n đơn vị)" row summing the others. Fewer rows come back unchanged (counts cleaned)."""
    rows = [_clean_row(row) for row in given]
    if len(rows) <= limit:
        return list(rows)
    by_size = sorted(range(len(rows)), key=lambda i: _total(rows[i]), reverse=True)
    kept = sorted(by_size[: limit - 1])
    rest = [rows[i] for i in by_size[limit - 1 :]]
    others = msg.CHART_OTHERS.format(count=format_number(len(rest)))
    on_time, late, overdue, not_due = (sum(_parts(row)[part] for row in rest) for part in range(4))
    return [*(rows[i] for i in kept), (others, on_time, late, overdue, not_due)]


def shares(row: ProgressRow) -> tuple[float, float, float, float]:
    """The row's four parts as percentages of its units (all 0 for a row without units)."""
    total = _total(row)
    on_time, late, overdue, not_due = (100 * part / total if total else 0.0 for part in _parts(row))
    return on_time, late, overdue, not_due


def _draw(rows: Sequence[ProgressRow], title: str, subtitle: str) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(WIDTH_INCHES, FRAME_INCHES + BAR_INCHES * len(rows)), dpi=DPI, layout="constrained"
    )
    axes = figure.add_subplot()
    positions = list(range(len(rows)))
    left = [0.0] * len(rows)
    names = (msg.CHART_ON_TIME, msg.CHART_LATE, msg.CHART_OVERDUE, msg.CHART_NOT_DUE)
    row_shares = [shares(row) for row in rows]
    for part, (name, color) in enumerate(zip(names, COLORS, strict=True)):
        widths = [share[part] for share in row_shares]
        axes.barh(positions, widths, left=left, color=color, label=name, height=BAR_HEIGHT)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for position, row in zip(positions, rows, strict=True):
        axes.text(0, position - BAR_HEIGHT / 2 - 0.04, _short(row[0]), va="bottom", fontsize=12)
        counts = f" {format_number(row[1] + row[2])}/{format_number(_total(row))}"
        axes.text(100, position, counts, va="center", fontsize=12, fontweight="bold")
    axes.set_yticks([])
    axes.spines["left"].set_visible(False)
    axes.set_ylim(len(rows) - 0.5, -1.0)  # first row on top, room above it for its label
    axes.set_xlim(0, 100 * (1 + ANNOTATION_ROOM))
    axes.set_xticks(PERCENT_TICKS, [f"{tick}%" for tick in PERCENT_TICKS])
    axes.set_xlabel(msg.CHART_AXIS, fontsize=11)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False, fontsize=12)
    figure.suptitle(f"{title}\n{subtitle}", fontsize=13, fontweight="bold", wrap=True)
    return figure


def _draw_empty(day: date | None) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, FRAME_INCHES + 1), dpi=DPI)
    figure.suptitle(_title(day), fontsize=13, fontweight="bold")
    figure.text(0.5, 0.45, msg.CHART_NO_DATA, ha="center", va="center", fontsize=13, color="#555555")
    return figure


def _title(day: date | None) -> str:
    return msg.CHART_TITLE_DATED.format(date=msg.party_date(day)) if day is not None else msg.CHART_TITLE


def _subtitle(rows: Sequence[ProgressRow]) -> str:
    reported = sum(row[1] + row[2] for row in rows)
    total = sum(_total(row) for row in rows)
    rate = format_percent(reported / total if total else None)
    return msg.CHART_SUBTITLE.format(reported=format_number(reported), total=format_number(total), rate=rate)


def _parts(row: ProgressRow) -> Parts:
    """On time, late, overdue, not yet due."""
    return row[1], row[2], row[3], row[4]


def _total(row: ProgressRow) -> int:
    return sum(_parts(row))


def _clean_row(row: Sequence[object]) -> ProgressRow:
    label = str(row[0]) if len(row) > 0 and row[0] is not None else ""
    counts = [_count(row[i]) if len(row) > i else 0 for i in (1, 2, 3, 4)]
    return (" ".join(label.split()), counts[0], counts[1], counts[2], counts[3])


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) and value > 0 else 0


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"
