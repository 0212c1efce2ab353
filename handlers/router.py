"""The router: decides which handler gets an event, from who sent it, what it is and where their conversation is."""

from __future__ import annotations

from bot.core.textnorm import fold
from handlers import board, directive_intake, menu, registration, reports, secretary
from handlers.commands import BOARD, EVERYONE, SECRETARY
from handlers.context import Context
from messages import common
from messages import registration as registration_msg


async def cancel(ctx: Context) -> None:
    await ctx.clear_state()
    ctx.reply(common.CANCELLED, remove_keyboard=True)


menu.TABLE.add("vanban", SECRETARY, secretary.list_directives)
menu.TABLE.add("huy", EVERYONE, cancel)
menu.TABLE.add("help", EVERYONE, menu.show_help)
menu.TABLE.add("tinhhinh", BOARD, board.tinhhinh)
menu.TABLE.add("nhacnho", BOARD, board.nhacnho)
menu.TABLE.add("tonghop", BOARD, board.tonghop)
menu.TABLE.add("xuat", BOARD, board.xuat)
menu.TABLE.add("baocao", BOARD, board.baocao)
# On channels without buttons (Zalo) the board reads; what sends to many cells stays on Telegram and the CLI.
ACTING_BOARD_COMMANDS = frozenset({"nhacnho"})


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
    if conv is not None and conv.flow == reports.FLOW and ctx.has_role(*SECRETARY):
        await reports.on_message(ctx)
        return
    if event.file is not None and event.file.kind == "unsupported":
        ctx.reply(common.UNSUPPORTED_FILE)
        return
    if conv is not None and conv.flow == directive_intake.FLOW and ctx.has_role(*BOARD):
        if event.file is not None:
            await directive_intake.on_file(ctx)
        else:
            await directive_intake.on_text(ctx)
        return
    if ctx.has_role(*BOARD) and directive_intake.wants_new_directive(ctx):
        if not ctx.has_buttons:
            ctx.reply(common.BOARD_USE_TELEGRAM)
            return
        if event.file is not None:
            await directive_intake.on_file(ctx)
        else:
            await directive_intake.on_pasted_text(ctx)
        return
    if registration.looks_like_code(event.text):
        await registration.try_code(ctx, event.text or "")
        return
    if await _typed_word(ctx):
        return
    if ctx.has_role(*SECRETARY) and await reports.on_free_message(ctx):
        return
    ctx.reply(common.NOT_UNDERSTOOD)


def reaches_free_message(ctx: Context) -> bool:
    """Whether `route` hands this event of a secretary with no conversation open straight to
    `reports.on_free_message`: the condition of the batch lane (handlers/quick_reports.py), kept beside `route` so
    the two cannot drift apart."""
    event = ctx.event
    return (
        ctx.person is not None
        and ctx.role_kinds == SECRETARY  # a board member's text may be a directive to send
        and event.command is None
        and event.button is None
        and event.file is None
        and not registration.looks_like_code(event.text)
        and _word_of(event.text or "") not in TYPED_WORDS
    )


TYPED_WORDS = frozenset(
    common.WORDS_HELP + common.WORDS_CANCEL + common.WORDS_LIST + common.WORDS_ACK + common.WORDS_EDIT
)


def _word_of(text: str) -> str:
    return " ".join(fold(text).strip(" .!").split())


async def _typed_word(ctx: Context) -> bool:
    """The words that stand for buttons and commands where there are none (Zalo), on every channel alike."""
    word = _word_of(ctx.event.text or "")
    if word in common.WORDS_HELP:
        await menu.show_help(ctx)
    elif word in common.WORDS_CANCEL:
        await cancel(ctx)
    elif ctx.has_role(*SECRETARY) and word in common.WORDS_LIST:
        await secretary.list_directives(ctx)
    elif ctx.has_role(*SECRETARY) and word in common.WORDS_ACK:
        directive_id = await secretary.latest_target(ctx, unacknowledged=True)
        if directive_id is None:
            ctx.reply(common.NOTHING_TO_ACK)
        else:
            await secretary.acknowledge(ctx, directive_id)
    elif ctx.has_role(*SECRETARY) and word in common.WORDS_EDIT:
        directive_id = await secretary.latest_target(ctx, reported=True)
        if directive_id is None:
            ctx.reply(common.NOTHING_TO_EDIT)
        else:
            await reports.open_report(ctx, directive_id)
    else:
        return False
    return True


async def _command(ctx: Context, name: str) -> None:
    if name == "start":
        assert ctx.person is not None
        ctx.reply(registration_msg.welcome_back(ctx.person.full_name))
        return
    command = menu.TABLE.get(name, ctx.role_kinds)
    if command is None:
        ctx.reply(common.UNKNOWN_COMMAND)
        return
    if name in ACTING_BOARD_COMMANDS and not ctx.has_buttons:
        ctx.reply(common.BOARD_USE_TELEGRAM)
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
            await reports.open_report(ctx, directive_id)
        return
    if action in reports.BUTTONS and ctx.has_role(*SECRETARY):
        await reports.on_button(ctx, action, arg)
        return
    if action in board.BUTTONS and ctx.has_role(*BOARD):
        await board.on_button(ctx, data)
        return
    if action.startswith("d") and ctx.has_role(*BOARD):
        await directive_intake.on_button(ctx, data)
        return
    ctx.reply(common.NOT_UNDERSTOOD)
