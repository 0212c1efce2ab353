"""The report form's figures over the latest reports in scope: how many reports, sums of number fields, summed
ratios and how often each option of a choice field was chosen, in one SQL pass per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.attendance import PARTS, Attendance
from bot.services.forms import FieldSpec, FieldType, FormSpec
from bot.services.report_data import Aggregates, Ratio
from bot.services.status.scope import Scope
from bot.services.status.sql import JsonValues, dialect, latest_reports


async def form_aggregates(
    session: AsyncSession,
    scope: Scope,
    directive_ids: Sequence[int],
    form: FormSpec | None,
    *,
    cycle: int | None = None,
) -> dict[int, Aggregates]:
    """The form's figures for each directive (all asking the same form): report count, sums of number fields,
    summed ratios, option counts of choice fields and summed attendance parts, over the latest reports in scope.
    One pass: the rows are grouped by directive and chosen options, and the few groups are folded here."""
    if not directive_ids:
        return {}
    fields = form.fields if form is not None else ()
    numbers = [f for f in fields if f.type == FieldType.NUMBER]
    ratios = [f for f in fields if f.type == FieldType.RATIO]
    choices = [f for f in fields if f.type == FieldType.CHOICE]
    attendance = [f for f in fields if f.type == FieldType.ATTENDANCE]
    reports = latest_reports(session, scope, directive_ids, cycle=cycle)
    json = JsonValues(dialect(session), reports.c.v)
    values = [json.number(f.key).label(f"n{i}") for i, f in enumerate(numbers)]
    for i, f in enumerate(ratios):
        values += [json.number(f.key, "attended").label(f"a{i}"), json.number(f.key, "total").label(f"t{i}")]
    for i, f in enumerate(attendance):
        values += [json.number(f.key, part).label(f"p{i}_{part}") for part in _SUMMED]
    options = [json.option(f.key).label(f"o{i}") for i, f in enumerate(choices)]
    inner = select(reports.c.directive_id, *options, *values).subquery()
    keys = [inner.c.directive_id, *(inner.c[f"o{i}"] for i in range(len(choices)))]
    sums = [func.sum(inner.c[column.name]) for column in values]
    rows = await session.execute(select(*keys, func.count(), *sums).group_by(*keys))
    figures = {directive_id: _Figures(numbers, ratios, choices, attendance) for directive_id in directive_ids}
    for row in rows.all():
        figures[row[0]].add(row[1 : 1 + len(choices)], row[1 + len(choices)], row[2 + len(choices) :])
    return {directive_id: figure.aggregates() for directive_id, figure in figures.items()}


class _Figures:
    """Adds up the grouped rows of one directive."""

    def __init__(
        self,
        numbers: Sequence[FieldSpec],
        ratios: Sequence[FieldSpec],
        choices: Sequence[FieldSpec],
        attendance: Sequence[FieldSpec],
    ):
        self.numbers, self.ratios, self.choices, self.attendance = numbers, ratios, choices, attendance
        self.count = 0
        self.sums = [0.0] * (len(numbers) + 2 * len(ratios) + len(_SUMMED) * len(attendance))
        self.options: list[dict[str, int]] = [dict.fromkeys(f.choices, 0) for f in choices]

    def add(self, options: Sequence[Any], count: int, sums: Sequence[Any]) -> None:
        self.count += count
        self.sums = [total + float(value or 0) for total, value in zip(self.sums, sums, strict=True)]
        for counted, option in zip(self.options, options, strict=True):
            if isinstance(option, str) and option.strip():
                counted[option] = counted.get(option, 0) + count

    def aggregates(self) -> Aggregates:
        plain = [_plain(value) for value in self.sums]
        n = len(self.numbers)
        start = n + 2 * len(self.ratios)
        parts = [
            plain[start + len(_SUMMED) * i : start + len(_SUMMED) * (i + 1)]
            for i in range(len(self.attendance))
        ]
        return Aggregates(
            sessions_held=self.count,
            sums={f.key: plain[i] for i, f in enumerate(self.numbers)},
            ratios={f.key: Ratio(plain[n + 2 * i], plain[n + 2 * i + 1]) for i, f in enumerate(self.ratios)},
            choices={f.key: counted for f, counted in zip(self.choices, self.options, strict=True)},
            attendance={f.key: Attendance(*sums) for f, sums in zip(self.attendance, parts, strict=True)},
        )


_SUMMED = PARTS[:5]  # `present` is derived from these, so it is not summed separately


def _plain(value: Any) -> int | float:
    """A SQL sum as an int when it is whole (sums come back as floats or Decimals)."""
    if value is None:
        return 0
    number = float(value)
    return int(number) if number.is_integer() else number
