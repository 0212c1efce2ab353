"""What a cell secretary does with a directive: acknowledge it, list their directives, get the files again."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.events import Button
from bot.services import directives
from bot.services.forms_store import get_form
from bot.services.outbox import enqueue
from handlers.context import Context
from messages import directives as msg
from messages.formats import moment
from storage.models import Directive, DirectiveTarget, Unit

LIST_LIMIT = 10


def secretary_units(ctx: Context) -> list[int]:
    return [r.unit_id for r in ctx.roles if r.kind == "secretary" and r.unit_id is not None]


async def target_of(ctx: Context, directive_id: int) -> DirectiveTarget | None:
    units = secretary_units(ctx)
    if not units:
        return None
    return await ctx.session.scalar(
        select(DirectiveTarget).where(
            DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id.in_(units)
        )
    )


async def acknowledge(ctx: Context, directive_id: int) -> None:
    target = await target_of(ctx, directive_id)
    directive = await ctx.session.get(Directive, directive_id)
    if target is None or directive is None:
        ctx.reply(msg.NOT_A_TARGET)
        return
    number = directive.number or ""
    if target.acknowledged_at is not None:
        ctx.reply(msg.ACK_ALREADY.format(number=number, time=moment(target.acknowledged_at, ctx.settings.tz)))
        return
    target.acknowledged_at = ctx.clock.now()
    ctx.reply(msg.ACK_RECORDED.format(number=number, time=moment(target.acknowledged_at, ctx.settings.tz)))


async def list_directives(ctx: Context) -> None:
    units = secretary_units(ctx)
    rows = (
        await ctx.session.execute(
            select(Directive, DirectiveTarget)
            .join(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
            .where(DirectiveTarget.unit_id.in_(units), Directive.status.in_(("sending", "sent")))
            .order_by(Directive.sent_at.desc(), Directive.id.desc())
            .limit(LIST_LIMIT)
        )
    ).all()
    if not rows:
        ctx.reply(msg.LIST_EMPTY)
        return
    lines = [msg.LIST_TITLE]
    buttons = []
    for i, (directive, target) in enumerate(rows, start=1):
        status = (
            msg.LIST_REPORTED if target.reported_at else (msg.LIST_ACKED if target.acknowledged_at else "")
        )
        subject = directive.subject or ""
        lines.append(
            msg.LIST_LINE.format(
                i=i,
                number=directive.number or "",
                date=msg.day(directive.issued_on),
                subject=subject,
                status=status,
            )
        )
        buttons.append(
            [Button(msg.BUTTON_RESEND.format(number=f"{i}. {directive.number or ''}"), f"vb:{directive.id}")]
        )
    lines.append(msg.LIST_HINT if ctx.has_buttons else msg.LIST_HINT_TYPED)
    ctx.reply("\n".join(lines), buttons, listed=True)


async def resend(ctx: Context, directive_id: int) -> None:
    target = await target_of(ctx, directive_id)
    directive = await ctx.session.get(Directive, directive_id)
    if target is None or directive is None:
        ctx.reply(msg.NOT_A_TARGET)
        return
    cell = await ctx.session.get(Unit, target.unit_id)
    files = await directives.files_of(ctx.session, directive_id, cell.path if cell else None)
    form = await get_form(ctx.session, directive.form_key)
    ctx.reply(msg.RESENDING.format(number=directive.number or ""))
    enqueue(
        ctx.session,
        ctx.clock,
        ctx.event.channel,
        ctx.event.chat_id,
        directives.card_parts(directive, files, form),
        kind="resend",
        directive_id=directive_id,
        unit_id=target.unit_id,
    )
    ctx.after_commit.append(ctx.runtime.sender.wake)


async def latest_target(ctx: Context, *, unacknowledged: bool = False, reported: bool = False) -> int | None:
    """The newest directive sent to the secretary's cell(s), optionally only unacknowledged or reported ones."""
    query = (
        select(DirectiveTarget.directive_id)
        .join(Directive, Directive.id == DirectiveTarget.directive_id)
        .where(DirectiveTarget.unit_id.in_(secretary_units(ctx)), Directive.status.in_(("sending", "sent")))
        .order_by(Directive.sent_at.desc(), Directive.id.desc())
        .limit(1)
    )
    if unacknowledged:
        query = query.where(DirectiveTarget.acknowledged_at.is_(None))
    if reported:
        query = query.where(DirectiveTarget.reported_at.is_not(None))
    return await ctx.session.scalar(query)
