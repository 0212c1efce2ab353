"""The router: hands an event to its handler by the kind `classify` gives it (who sent it, what it is and where
their conversation is), and a pressed button to the handler of its decoded action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from handlers import (
    board,
    buttons,
    directive_intake,
    level_files,
    levels,
    menu,
    registration,
    reports,
    secretary,
    web_link,
)
from handlers.classify import EventKind, board_command, classify
from handlers.commands import BOARD, EVERYONE, SECRETARY
from handlers.context import Context
from handlers.report_state import FLOW as REPORT_FLOW
from messages import common
from messages import registration as registration_msg
from messages import reports as report_msg

Handler = Callable[[Context], Awaitable[None]]


async def cancel(ctx: Context) -> None:
    await ctx.clear_state()
    ctx.reply(common.for_channel(common.CANCELLED, commands=ctx.has_commands), remove_keyboard=True)


menu.TABLE.add("vanban", SECRETARY, secretary.list_directives)
menu.TABLE.add("huy", EVERYONE, cancel)
menu.TABLE.add("help", EVERYONE, menu.show_help)
menu.TABLE.add("tinhhinh", BOARD, board.tinhhinh)
menu.TABLE.add("nhacnho", BOARD, board.nhacnho)
menu.TABLE.add("tonghop", BOARD, board.tonghop)
menu.TABLE.add("xuat", BOARD, board.xuat)
menu.TABLE.add("baocao", BOARD, board.baocao)
menu.TABLE.add("layso", BOARD, board.layso)
menu.TABLE.add("web", BOARD, web_link.web)
menu.TABLE.add("baocaolen", BOARD, levels.baocaolen)


async def route(ctx: Context) -> None:
    await ROUTES[classify(ctx, await ctx.conversation())](ctx)


async def _command(ctx: Context) -> None:
    name = ctx.event.command
    assert name is not None
    if name == "start":
        assert ctx.person is not None
        hint = common.HELP_BY_COMMAND if ctx.has_commands else common.HELP_BY_WORD
        ctx.reply(registration_msg.welcome_back(ctx.person.full_name, hint))
        return
    command = menu.TABLE.get(name, ctx.role_kinds)
    if command is None:
        ctx.reply(common.for_channel(common.UNKNOWN_COMMAND, commands=ctx.has_commands))
        return
    await command.handler(ctx)


async def _board_word(ctx: Context) -> None:
    """A board command typed by its words: run as the command it names, with what follows as its arguments."""
    typed = board_command(ctx.event.text or "")
    assert typed is not None
    name, args = typed
    ctx.event = replace(ctx.event, command=name, args=args)
    await _command(ctx)
    conv = await ctx.conversation()
    if (
        conv is not None and conv.flow == REPORT_FLOW
    ):  # a secretary on the board too (classify): her report waits
        ctx.reply(report_msg.REPORT_KEPT)


async def _button(ctx: Context) -> None:
    data = ctx.event.button
    pressed = buttons.decode(data) if data is not None else None
    if pressed is None:
        ctx.reply(
            common.for_channel(common.BUTTON_UNKNOWN, commands=ctx.has_commands)
        )  # forged, or from a version of the bot that made other buttons
    elif isinstance(pressed, buttons.SecretaryButton) and ctx.has_role(*SECRETARY):
        await _secretary_button(ctx, pressed)
    elif isinstance(pressed, buttons.BoardButton) and ctx.has_role(*BOARD):
        await board.on_button(ctx, pressed)
    elif isinstance(pressed, buttons.IntakeButton) and ctx.has_role(*BOARD):
        await directive_intake.on_button(ctx, pressed)
    elif isinstance(pressed, buttons.LevelButton) and ctx.has_role(*BOARD):
        await levels.on_button(ctx, pressed)
    else:
        ctx.reply(common.for_channel(common.NOT_UNDERSTOOD, commands=ctx.has_commands))


async def _secretary_button(ctx: Context, pressed: buttons.SecretaryButton) -> None:
    if isinstance(pressed, buttons.Acknowledge):
        await secretary.acknowledge(ctx, pressed.directive_id)
    elif isinstance(pressed, buttons.ResendDirective):
        await secretary.resend(ctx, pressed.directive_id)
    elif isinstance(pressed, buttons.OpenReport):
        await reports.open_report(ctx, pressed.directive_id)
    elif isinstance(pressed, buttons.ReportButton):
        await reports.on_button(ctx, pressed)


async def _registration_step(ctx: Context) -> None:
    conv = await ctx.conversation()
    assert conv is not None
    await registration.ON_MESSAGE[registration.RegistrationStep(conv.step)](ctx)


async def _new_directive(ctx: Context) -> None:
    if ctx.event.file is not None:
        await directive_intake.on_file(ctx)
    else:
        await directive_intake.on_pasted_text(ctx)


async def _acknowledge_latest(ctx: Context) -> None:
    directive_id = await secretary.latest_target(ctx, unacknowledged=True)
    if directive_id is None:
        ctx.reply(common.NOTHING_TO_ACK)
    else:
        await secretary.acknowledge(ctx, directive_id)


async def _edit_latest(ctx: Context) -> None:
    directive_id = await secretary.latest_target(ctx, reported=True)
    if directive_id is None:
        ctx.reply(common.NOTHING_TO_EDIT)
    else:
        await reports.open_report(ctx, directive_id)


async def _free_message(ctx: Context) -> None:
    if not await reports.on_free_message(ctx):
        ctx.reply(common.for_channel(common.NOT_UNDERSTOOD, commands=ctx.has_commands))


async def _not_understood(ctx: Context) -> None:
    ctx.reply(common.for_channel(common.NOT_UNDERSTOOD, commands=ctx.has_commands))


def _answer(text: str) -> Handler:
    async def answer(ctx: Context) -> None:
        ctx.reply(text)

    return answer


ROUTES: dict[EventKind, Handler] = {
    EventKind.REGISTRATION_STEP: _registration_step,
    EventKind.INVITE_LINK: lambda ctx: registration.try_code(ctx, ctx.event.args),
    EventKind.STRANGER: _answer(common.NOT_REGISTERED),
    EventKind.TYPED_CODE: lambda ctx: registration.try_code(ctx, ctx.event.text or ""),
    EventKind.COMMAND: _command,
    EventKind.BUTTON: _button,
    EventKind.REPORT_FLOW: reports.on_message,
    EventKind.UNSUPPORTED_FILE: directive_intake.on_unsupported_file,
    EventKind.DIRECTIVE_FLOW: directive_intake.on_message,
    EventKind.LEVEL_FILES_FLOW: level_files.on_message,
    EventKind.NEW_DIRECTIVE: _new_directive,
    EventKind.HELP_WORD: menu.show_help,
    EventKind.CANCEL_WORD: cancel,
    EventKind.LIST_WORD: secretary.list_directives,
    EventKind.ACK_WORD: _acknowledge_latest,
    EventKind.EDIT_WORD: _edit_latest,
    EventKind.BOARD_WORD: _board_word,
    EventKind.FREE_MESSAGE: _free_message,
    EventKind.NOT_UNDERSTOOD: _not_understood,
}
