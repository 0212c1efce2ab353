"""The router: decides which handler gets an event, from who sent it, what it is and where their conversation is."""

from __future__ import annotations

from bot.context import Context
from handlers import menu, registration
from handlers.commands import EVERYONE
from messages import common

menu.TABLE.add("help", EVERYONE, menu.show_help)


async def cancel(ctx: Context) -> None:
    await ctx.clear_state()
    ctx.reply(common.CANCELLED, remove_keyboard=True)


menu.TABLE.add("huy", EVERYONE, cancel)


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
    if registration.looks_like_code(event.text):
        await registration.try_code(ctx, event.text or "")
        return
    ctx.reply(common.NOT_UNDERSTOOD)


async def _command(ctx: Context, name: str) -> None:
    if name == "start":
        ctx.reply(menu.help_for(ctx))
        return
    command = menu.TABLE.get(name, ctx.role_kinds)
    if command is None:
        ctx.reply(common.UNKNOWN_COMMAND)
        return
    await command.handler(ctx)
