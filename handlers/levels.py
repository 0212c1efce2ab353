"""A lower unit's board acting on an upper directive handed to it (bot/services/levels.py): re-issue it as its own
directive (the intake opens on a prefilled draft) or forward it unchanged to its cells. Only a board member whose
scope holds the unit may act, and only once per directive and unit."""

from __future__ import annotations

from bot.services import directives, levels
from bot.services.forms_store import get_form
from handlers import buttons as b
from handlers import directive_intake
from handlers.context import Context
from messages import levels as msg
from storage.models import Directive, Unit


async def on_button(ctx: Context, pressed: b.LevelButton) -> None:
    scope = await directives.scope_units(ctx.session, ctx.roles)
    unit = await ctx.session.get(Unit, pressed.unit_id)
    if unit is None or not any(unit.path.startswith(s.path) for s in scope):
        ctx.reply(msg.NOT_YOURS)
        return
    handed = await levels.handoff(ctx.session, pressed.directive_id, [unit.id])
    upper = await ctx.session.get(Directive, pressed.directive_id)
    if handed is None or upper is None:
        ctx.reply(msg.NOT_YOURS)
        return
    if handed.action != levels.PENDING and handed.acted_at is not None:
        action = msg.ACTIONS[handed.action]
        at = msg.day(handed.acted_at.date())
        ctx.reply(msg.ALREADY.format(number=upper.number or "", unit=unit.name, action=action, at=at))
        return
    if isinstance(pressed, b.ForwardUpper):
        await _forward(ctx, handed, upper, unit)
    else:
        draft = await levels.reissue_draft(
            ctx.session, ctx.clock, handed, created_by=ctx.person.id if ctx.person else None, today=ctx.today
        )
        await ctx.set_state(directive_intake.FLOW, directive_intake.IntakeStep.REVIEW, {"id": draft.id})
        await directive_intake.show_preview(ctx, draft)


async def _forward(ctx: Context, handed: levels.Handoff, upper: Directive, unit: Unit) -> None:
    form = await get_form(ctx.session, upper.form_key)
    actor = f"{ctx.event.channel.value}:{ctx.event.user_id}"
    cells, units = await levels.forward(
        ctx.session, ctx.clock, handed, form, actor=actor, person_id=ctx.person.id if ctx.person else None
    )
    ctx.reply(msg.FORWARDED.format(number=upper.number or "", cells=cells, unit=unit.name))
    if units:
        ctx.reply(msg.HANDED_DOWN.format(units=len(units), names=", ".join(u.name for u in units)))
    ctx.after_commit.append(ctx.runtime.sender.wake)
