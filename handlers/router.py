"""The router: decides which handler gets an event, from who sent it, what it is and where their conversation is."""

from __future__ import annotations

from bot.context import Context
from handlers import directive_intake, menu, registration, secretary
from handlers.commands import BOARD, EVERYONE, SECRETARY
from messages import common
from messages import registration as registration_msg


async def cancel(ctx: Context) -> None:
    await ctx.clear_state()
    ctx.reply(common.CANCELLED, remove_keyboard=True)


menu.TABLE.add("vanban", SECRETARY, secretary.list_directives)
menu.TABLE.add("huy", EVERYONE, cancel)
menu.TABLE.add("help", EVERYONE, menu.show_help)


async def route(ctx: Context) -> None:
    event = ctx.event
    conv = await ctx.conversation()
    if conv is not None and conv.flow == registration.FLOW and conv.step == "phone":
        await registration.on_phone_step(ctx)
        return
    if event.command == "start" and event.args:
        await registration.try_code(ctx, event.args)
        return
    if ctx.person is None:
        if registration.looks_like_code(event.text) and not event.command:
            await registration.try_code(ctx, event.text or "")
        else:
            ctx.reply(common.NOT_REGISTERED)
        return
    if event.command is not None:
        await _command(ctx, event.command)
        return
    if event.button is not None:
        await _button(ctx, event.button)
        return
    if conv is not None and conv.flow == directive_intake.FLOW and ctx.has_role(*BOARD):
        if event.file is not None:
            await directive_intake.on_file(ctx)
        else:
            await directive_intake.on_text(ctx)
        return
    if ctx.has_role(*BOARD) and directive_intake.wants_new_directive(ctx):
        if event.file is not None:
            await directive_intake.on_file(ctx)
        else:
            await directive_intake.on_pasted_text(ctx)
        return
    if registration.looks_like_code(event.text):
        await registration.try_code(ctx, event.text or "")
        return
    ctx.reply(common.NOT_UNDERSTOOD)


async def _command(ctx: Context, name: str) -> None:
    if name == "start":
        assert ctx.person is not None
        ctx.reply(registration_msg.welcome_back(ctx.person.full_name))
        return
    command = menu.TABLE.get(name, ctx.role_kinds)
    if command is None:
        ctx.reply(common.UNKNOWN_COMMAND)
        return
    await command.handler(ctx)


async def _button(ctx: Context, data: str) -> None:
    action, _, arg = data.partition(":")
    if action in ("ack", "rep", "vb") and arg.isdigit() and ctx.has_role(*SECRETARY):
        directive_id = int(arg)
        if action == "ack":
            await secretary.acknowledge(ctx, directive_id)
        elif action == "vb":
            await secretary.resend(ctx, directive_id)
        else:
            await secretary.open_report(ctx, directive_id)
        return
    if action.startswith("d") and ctx.has_role(*BOARD):
        await directive_intake.on_button(ctx, data)
        return
    ctx.reply(common.NOT_UNDERSTOOD)
