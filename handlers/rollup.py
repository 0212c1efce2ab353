"""The upper board on a directive it handed down (bot/services/rollup.py): the summary in chat from the cells or
from the units below («tổng hợp 1818», «tổng hợp 1818 theo cấp dưới»), the buttons the upper status adds (the
summary, one unit's cells), and the drill-down to one unit below («tình hình 1818 X-TP», or its button: a
numbered choice on the Zalo Bot Platform), shown with the same status rendering as /tinhhinh. The Excel and Word
files with a source are built by handlers/board.py's file job."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.core.events import Button
from bot.services import reminders, rollup, status, upward
from handlers import buttons as b
from handlers.context import Context
from messages import rollup as msg
from storage.models import Directive, Unit

DEFAULT = "default"  # a button's source when the service is to choose (`rollup.default_source`)
DRILL_SHOWN = 5  # units below offered as buttons; the others by typing their code


def short(directive: Directive) -> str:
    """What to type to name the directive: its leading digits, else its whole number."""
    number = directive.number or str(directive.id)
    digits = re.match(r"\d+", number)
    return digits.group() if digits else number


async def summary(ctx: Context, scope: status.Scope, directive: Directive, source: str | None) -> None:
    figures = await rollup.rollup(ctx.session, scope, directive, source)
    if figures is None:
        ctx.reply(msg.NOT_HANDED.format(number=directive.number or ""))
        return
    other = rollup.CELLS if figures.source == rollup.BELOW else rollup.BELOW
    buttons = [
        [Button(msg.BUTTON_OTHER[other], b.FromSource(directive.id, "text", other).encode())],
        [
            Button(msg.BUTTON_EXPORT, b.FromSource(directive.id, "xlsx", figures.source).encode()),
            Button(msg.BUTTON_REPORT, b.FromSource(directive.id, "docx", figures.source).encode()),
        ],
    ]
    ctx.reply(msg.render_summary(figures, short(directive)), buttons)


def status_extras(
    scope: status.Scope, directive: Directive, rows: list[upward.Below]
) -> tuple[str, list[list[Button]]]:
    """What the upper status adds for a directive handed down: how to drill down, the summary button and a
    button per unit below (the first few)."""
    inside = rollup.inside(rows, scope)
    if not inside:
        return "", []
    buttons = [[Button(msg.BUTTON_SUMMARY, b.FromSource(directive.id, "text", DEFAULT).encode())]]
    buttons += [
        [Button(msg.DRILL_BUTTON.format(unit=row.unit.name), b.DrillDown(directive.id, row.unit.id).encode())]
        for row in inside[:DRILL_SHOWN]
    ]
    return msg.DRILL_HINT.format(short=short(directive)), buttons


async def typed_unit(ctx: Context, scope: status.Scope, args: str) -> tuple[str, Unit | None]:
    """«1818 X-TP»: the directive's words and the unit whose code ends them (None when the last word is not the
    code of a unit in scope)."""
    words = args.split()
    if len(words) < 2:
        return args, None
    unit = await ctx.session.scalar(select(Unit).where(func.upper(Unit.code) == words[-1].upper()))
    if unit is None or not (scope.everything or any(unit.path.startswith(r.path) for r in scope.roots)):
        return args, None
    return " ".join(words[:-1]), unit


async def drill(ctx: Context, scope: status.Scope, directive: Directive, unit: Unit) -> None:
    """The cells of one unit below: the status of its re-issue (or of the directive it forwarded) within it."""
    found = await rollup.drill(ctx.session, scope, directive, unit.id)
    if found is None:
        ctx.reply(msg.DRILL_NOT_BELOW.format(code=unit.code or unit.name, number=directive.number or ""))
        return
    row = found.row
    action = msg.action_of(row.action, [d.number or "" for d in row.reissues])
    texts = [msg.DRILL_HEAD.format(unit=row.unit.name, action=action)]
    for source in found.sources:
        view = await status.status_view(ctx.session, found.within, source)
        after = reminders.policy_of(source).escalate_after_days
        texts.append(status.render_status(view, found.within, ctx.today, escalate_after=after))
    ctx.reply("\n\n".join(texts))
