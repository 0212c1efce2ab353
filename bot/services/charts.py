"""Progress chart for the board: one horizontal stacked bar per unit group (reported on time, late, not yet),
drawn with matplotlib's Agg canvas into PNG bytes sized to be read on a phone.

matplotlib is imported when a chart is drawn, not with this module: it adds about 27 MB to the bot's memory, and
most days the bot draws no chart at all."""

from __future__ import annotations

import math
from collections.abc import Sequence
from io import BytesIO
from typing import TYPE_CHECKING, Any

from messages import documents as msg
from messages.formats import format_number, format_percent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ProgressRow = tuple[str, int, int, int]  # label, reported on time, reported late, not reported

MAX_BARS = 15
LABEL_CHARS = 30
WIDTH_INCHES = 6.4
BAR_INCHES = 0.42
FRAME_INCHES = 1.9
DPI = 150
COLORS = ("#2e7d32", "#f9a825", "#c62828")
PERCENT_TICKS = (0, 25, 50, 75, 100)
ANNOTATION_ROOM = 0.22  # share of the axis right of 100% kept for the "17/27" counts

# Scoped to each drawing, so the chart never changes matplotlib settings for the rest of the process.
_STYLE: Any = {  # matplotlib types its keys as literals; these are checked by the chart tests
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def build_progress_chart(rows: Sequence[ProgressRow]) -> bytes:
    """A PNG with one 100% stacked bar per row, so small and large groups compare at a glance; the counts
    ("17/27") are written beside each bar. Past MAX_BARS rows the smallest are folded into one "Khác" bar.

    Each row is (label, reported on time, reported late, not reported); the three parts are disjoint.
    Negative or non-numeric counts are read as 0, so a bad row never stops the chart.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    clean = [_clean_row(row) for row in rows]
    with mpl.rc_context(_STYLE):
        figure = _draw(fold_rows(clean, MAX_BARS)) if clean else _draw_empty()
        buffer = BytesIO()
        FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def fold_rows(rows: Sequence[ProgressRow], limit: int = MAX_BARS) -> list[ProgressRow]:
    """At most `limit` rows: the `limit` - 1 largest (by units, in the given order), then one
    "Khác (n đơn vị)" row summing the others. Fewer rows come back unchanged."""
    if len(rows) <= limit:
        return list(rows)
    by_size = sorted(range(len(rows)), key=lambda i: _total(rows[i]), reverse=True)
    kept = sorted(by_size[: limit - 1])
    rest = [rows[i] for i in by_size[limit - 1 :]]
    others = msg.CHART_OTHERS.format(count=format_number(len(rest)))
    on_time, late, missing = (sum(_parts(row)[part] for row in rest) for part in range(3))
    return [*(rows[i] for i in kept), (others, on_time, late, missing)]


def _draw(rows: Sequence[ProgressRow]) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(WIDTH_INCHES, FRAME_INCHES + BAR_INCHES * len(rows)), dpi=DPI, layout="constrained"
    )
    axes = figure.add_subplot()
    positions = list(range(len(rows)))
    left = [0.0] * len(rows)
    names = (msg.CHART_ON_TIME, msg.CHART_LATE, msg.CHART_NOT_REPORTED)
    for part, (name, color) in enumerate(zip(names, COLORS, strict=True), start=1):
        shares = [100 * _parts(row)[part - 1] / _total(row) if _total(row) else 0.0 for row in rows]
        axes.barh(positions, shares, left=left, color=color, label=name, height=0.7)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for position, row in zip(positions, rows, strict=True):
        counts = f" {format_number(row[1] + row[2])}/{format_number(_total(row))}"
        axes.text(100, position, counts, va="center", fontsize=10)
    axes.set_yticks(positions, [_short(row[0]) for row in rows])
    axes.invert_yaxis()  # first row on top, as the caller listed them
    axes.set_xlim(0, 100 * (1 + ANNOTATION_ROOM))
    axes.set_xticks(PERCENT_TICKS, [f"{tick}%" for tick in PERCENT_TICKS])
    axes.set_xlabel(msg.CHART_AXIS)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False, fontsize=10)
    figure.suptitle(_title(rows), fontsize=13, fontweight="bold")
    return figure


def _draw_empty() -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, FRAME_INCHES + 1), dpi=DPI)
    figure.suptitle(msg.CHART_TITLE, fontsize=13, fontweight="bold")
    figure.text(0.5, 0.45, msg.CHART_NO_DATA, ha="center", va="center", fontsize=12, color="#555555")
    return figure


def _title(rows: Sequence[ProgressRow]) -> str:
    reported = sum(row[1] + row[2] for row in rows)
    total = sum(_total(row) for row in rows)
    rate = format_percent(reported / total if total else None)
    subtitle = msg.CHART_SUBTITLE.format(
        reported=format_number(reported), total=format_number(total), rate=rate
    )
    return f"{msg.CHART_TITLE}\n{subtitle}"


def _parts(row: ProgressRow) -> tuple[int, int, int]:
    """On time, late, not reported."""
    return row[1], row[2], row[3]


def _total(row: ProgressRow) -> int:
    return row[1] + row[2] + row[3]


def _clean_row(row: Sequence[object]) -> ProgressRow:
    label = str(row[0]) if len(row) > 0 and row[0] is not None else ""
    counts = [_count(row[i]) if len(row) > i else 0 for i in (1, 2, 3)]
    return (" ".join(label.split()), counts[0], counts[1], counts[2])


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) and value > 0 else 0


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"
