"""Texts of the upper board's figures on a directive it handed down (bot/services/rollup.py): where they come from,
the summary in chat, the Excel sheets aggregated from the units below, and the words that ask for one source.

The data types are imported for type checking only: messages/ does not depend on the services at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from messages import board as board_msg
from messages import levels as level_msg
from messages.formats import day, format_number
from messages.status import figure_lines

if TYPE_CHECKING:
    from bot.services.report_data import BelowUnit
    from bot.services.rollup import Rollup

# Typed after the directive (compared without diacritics): «xuất 1818 theo cấp dưới», «báo cáo 1818 theo chi bộ».
WORDS_BELOW = ("theo cap duoi", "tu cap duoi")
WORDS_CELLS = ("theo chi bo", "tu chi bo")

# Where the figures come from, in every output: the summary, the Excel's summary sheet, the Word report's body.
SOURCE_LABEL = "Nguồn số liệu"
SOURCE_LINE = "Nguồn số liệu: {source}."
SOURCE_BELOW = "báo cáo của {reported}/{units} đơn vị cấp dưới"
SOURCE_CELLS = "báo cáo trực tiếp của {reported}/{cells} chi bộ (qua các cấp ban hành lại, chuyển tiếp)"

# --- the summary in chat («tổng hợp 1818», «tổng hợp 1818 theo cấp dưới») ---------------------------------------
TITLE = "📊 TỔNG HỢP VĂN BẢN {number}"
CELLS_LINE = "Chi bộ: {targeted} nhận văn bản, {reported} đã báo cáo (đúng hạn {on_time}, muộn {late})"
FIGURES = "Số liệu:"
UNITS_HEAD = "🏛 Đơn vị cấp dưới:"
UNIT_REPORTED = "• {unit} ({action}): báo cáo lên {at}, {when} — {reported}/{cells} chi bộ đã báo cáo"
UNIT_LIVE = "• {unit} ({action}): {reported}/{cells} chi bộ đã báo cáo{up}"
NOT_REPORTED_HEAD = "⏳ Chưa báo cáo lên (tiến độ hiện tại của các chi bộ, không cộng vào số liệu trên):"
UNIT_NOT_REPORTED = "• {unit} ({action}): {reported}/{cells} chi bộ đã báo cáo"
DIRECT_APART = (
    "📨 {cells} chi bộ nhận trực tiếp từ cấp mình (không qua cấp dưới): {reported}/{cells} đã báo cáo, "
    "không cộng vào số liệu trên."
)
UP_DONE = "; đã báo cáo lên {at}"
HINT_BELOW = "Gõ «tổng hợp {short} theo cấp dưới» để tổng hợp từ báo cáo của các đơn vị cấp dưới."
HINT_CELLS = "Gõ «tổng hợp {short} theo chi bộ» để tổng hợp từ báo cáo trực tiếp của các chi bộ."
HINT_FILES = "Excel: «xuất {short}{words}», Word: «báo cáo {short}{words}»."
SUFFIX = {"below": " theo cấp dưới", "cells": " theo chi bộ"}
NOT_HANDED = (
    "Văn bản {number} không chuyển qua ban cấp dưới nào: số liệu là báo cáo trực tiếp của các chi bộ."
)
BUTTON_OTHER = {"below": "🏛 Tổng hợp theo cấp dưới", "cells": "📋 Tổng hợp theo chi bộ"}
BUTTON_EXPORT = "📊 Excel (cùng nguồn)"
BUTTON_REPORT = "📝 Word (cùng nguồn)"
BUTTON_SUMMARY = "📊 Tổng hợp số liệu"

# --- drilling down from the upper status to one unit's cells ------------------------------------------------------
DRILL_HINT = "Gõ «tình hình {short} <mã đơn vị>» để xem các chi bộ của một đơn vị cấp dưới."
DRILL_BUTTON = "🔎 {unit}"
DRILL_HEAD = "🔎 {unit} — {action}"
DRILL_NOT_BELOW = "Đơn vị {code} không nằm trong phạm vi của đồng chí hoặc chưa nhận văn bản {number}."

# --- the Excel workbook aggregated from the units below ------------------------------------------------------------
SHEET_BELOW = "Cấp dưới"
COL_UNIT = "Đơn vị cấp dưới"
COL_ACTION = "Xử lý văn bản"
COL_REPORTED_UP = "Báo cáo lên lúc"
COL_ON_TIME = "Đúng hạn / muộn"
COL_CELLS = "Chi bộ nhận (theo báo cáo)"
COL_CELLS_REPORTED = "Chi bộ đã báo cáo (theo báo cáo)"
COL_CELLS_ON_TIME = "Đúng hạn (theo báo cáo)"
COL_CELLS_LATE = "Muộn (theo báo cáo)"
COL_LIVE = "Tiến độ hiện tại, chưa báo cáo lên (không cộng)"
COL_SESSIONS = "Số báo cáo chi bộ"
COL_PART = "{label}: {part}"
COL_CHOICE = "{label}: {option}"
PART_PRESENT = "có mặt"
PART_EXPECTED = "phải dự"
PART_ATTENDED = "đạt"
PART_TOTAL = "tổng"
NOT_UP = "Chưa báo cáo lên"
NOT_UP_LIVE = "Chưa báo cáo lên (hiện {reported}/{cells} chi bộ đã báo cáo, không cộng vào số liệu)"
SUM_UNITS = "Đơn vị cấp dưới nhận văn bản"
SUM_UNITS_REPORTED = "Đơn vị đã báo cáo lên"
SUM_UNITS_LATE = "Trong đó báo cáo lên muộn"
SUM_CELLS = "Chi bộ nhận văn bản (theo báo cáo cấp dưới)"
SUM_CELLS_REPORTED = "Chi bộ đã báo cáo (theo báo cáo cấp dưới)"
SUM_CELLS_ON_TIME = "Chi bộ báo cáo đúng hạn"
SUM_CELLS_LATE = "Chi bộ báo cáo muộn"


def action_of(action: str, reissues: Sequence[str]) -> str:
    """«ban hành lại, số 12-CV/ĐU» / «chuyển nguyên văn» / «chưa xử lý»."""
    numbers = ", ".join(n for n in reissues if n)
    text = level_msg.ACTIONS.get(action, action)
    return f"{text}, số {numbers}" if numbers else text


def source_line(source: str) -> str:
    return SOURCE_LINE.format(source=source)


def render_summary(rollup: Rollup, short: str) -> str:
    """The upper board's summary in chat: the source, the cells' progress and the form's figures, then each unit
    below (those not reported up apart, with their live progress), and how to ask for the other source."""
    counts = rollup.counts
    lines = [TITLE.format(number=rollup.directive.number or "")]
    if rollup.directive.subject:
        lines.append(rollup.directive.subject)
    lines += [
        source_line(rollup.note),
        "",
        CELLS_LINE.format(
            targeted=format_number(counts.targeted),
            reported=format_number(counts.reported),
            on_time=format_number(counts.reported_on_time),
            late=format_number(counts.reported_late),
        ),
        FIGURES,
        *figure_lines(rollup.form, rollup.aggregates),
        "",
        UNITS_HEAD,
    ]
    below = rollup.source == "below"
    apart = [u for u in rollup.below if below and u.counts is None]
    for unit in rollup.below:
        if unit in apart:
            continue
        lines.append(_unit_line(unit, below=below))
    if apart:
        lines += [NOT_REPORTED_HEAD, *(_not_reported_line(u) for u in apart)]
    if rollup.direct.targeted:
        direct = rollup.direct
        lines.append(
            DIRECT_APART.format(cells=format_number(direct.targeted), reported=format_number(direct.reported))
        )
    lines += ["", (HINT_CELLS if below else HINT_BELOW).format(short=short)]
    lines.append(HINT_FILES.format(short=short, words=SUFFIX[rollup.source]))
    return "\n".join(lines)


def _unit_line(unit: BelowUnit, *, below: bool) -> str:
    if below and unit.counts is not None and unit.reported_at is not None:
        when = level_msg.UP_LATE if unit.late else level_msg.UP_ON_TIME
        return UNIT_REPORTED.format(
            unit=unit.name,
            action=unit.action,
            at=day(unit.reported_at.date()),
            when=when,
            reported=format_number(unit.counts.reported),
            cells=format_number(unit.counts.targeted),
        )
    up = UP_DONE.format(at=day(unit.reported_at.date())) if unit.reported_at else ""
    return UNIT_LIVE.format(
        unit=unit.name,
        action=unit.action,
        reported=format_number(unit.cells_reported),
        cells=format_number(unit.cells),
        up=up,
    )


def _not_reported_line(unit: BelowUnit) -> str:
    return UNIT_NOT_REPORTED.format(
        unit=unit.name,
        action=unit.action,
        reported=format_number(unit.cells_reported),
        cells=format_number(unit.cells),
    )


def choice_text(counts: dict[str, int]) -> str:
    """A unit's option counts in one cell of the Word appendix: «Có 3; Không 1»."""
    return board_msg.choice_parts(counts)
