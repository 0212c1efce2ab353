"""The command table and what /help and the platform menu show for the roles of the person in a context."""

from __future__ import annotations

from handlers.commands import CommandTable
from handlers.context import Context
from messages.help import help_text

TABLE = CommandTable()


def commands_for(ctx: Context) -> list[tuple[str, str]]:
    return TABLE.menu(ctx.role_kinds)


def help_for(ctx: Context) -> str:
    commands = [name for name, _ in commands_for(ctx)]
    return help_text(sorted(ctx.role_kinds), commands, words=not ctx.has_commands, buttons=ctx.has_buttons)


async def show_help(ctx: Context) -> None:
    ctx.reply(help_for(ctx))
