"""What kind of event this is, for whom: the one classification the router dispatches on and the batch lane
filters with, so the two cannot drift apart.

`classify` is pure: it reads the event, the sender's roles and their conversation (flow and step), and queries
nothing. The order of the checks is the order of precedence (a registration in progress first, a free message
last).
"""

from __future__ import annotations

from enum import StrEnum

from bot.core.textnorm import fold
from handlers import directive_intake, registration
from handlers.commands import BOARD, SECRETARY
from handlers.context import Context
from handlers.report_state import FLOW as REPORT_FLOW
from messages import common
from storage.models import Conversation


class EventKind(StrEnum):
    REGISTRATION_STEP = "registration_step"  # e.g. the phone number asked after an invite code
    INVITE_LINK = "invite_link"  # /start <code> from a deep link
    STRANGER = "stranger"  # not registered, and no code
    TYPED_CODE = "typed_code"  # an invite code typed
    COMMAND = "command"
    BUTTON = "button"
    REPORT_FLOW = "report_flow"  # a secretary in the middle of a report
    UNSUPPORTED_FILE = "unsupported_file"
    DIRECTIVE_FLOW = "directive_flow"  # a board member preparing a directive
    NEW_DIRECTIVE = "new_directive"  # a board member sending a document or pasting a long text
    HELP_WORD = "help_word"  # the words that stand for buttons and commands where there are none (Zalo)
    CANCEL_WORD = "cancel_word"
    LIST_WORD = "list_word"
    ACK_WORD = "ack_word"
    EDIT_WORD = "edit_word"
    FREE_MESSAGE = "free_message"  # a secretary's text or photo outside any flow: maybe a one-message report
    NOT_UNDERSTOOD = "not_understood"


_SECRETARY_WORDS = (
    (common.WORDS_LIST, EventKind.LIST_WORD),
    (common.WORDS_ACK, EventKind.ACK_WORD),
    (common.WORDS_EDIT, EventKind.EDIT_WORD),
)


def classify(ctx: Context, conv: Conversation | None) -> EventKind:
    """The kind of `ctx.event` given the sender's conversation `conv` (None when they have none)."""
    event = ctx.event
    flow = conv.flow if conv is not None else None
    if flow == registration.FLOW and conv is not None and conv.step in registration.ON_MESSAGE:
        return EventKind.REGISTRATION_STEP
    if event.command == "start" and event.args:
        return EventKind.INVITE_LINK
    if ctx.person is None:
        if registration.looks_like_code(event.text) and not event.command:
            return EventKind.TYPED_CODE
        return EventKind.STRANGER
    if event.command is not None:
        return EventKind.COMMAND
    if event.button is not None:
        return EventKind.BUTTON
    secretary, board = ctx.has_role(*SECRETARY), ctx.has_role(*BOARD)
    if flow == REPORT_FLOW and secretary:
        return EventKind.REPORT_FLOW
    if event.file is not None and event.file.kind == "unsupported":
        return EventKind.UNSUPPORTED_FILE
    if flow == directive_intake.FLOW and board:
        return EventKind.DIRECTIVE_FLOW
    if board and directive_intake.wants_new_directive(ctx):
        return EventKind.NEW_DIRECTIVE
    if registration.looks_like_code(event.text):
        return EventKind.TYPED_CODE
    word = typed_word(event.text or "")
    if word in common.WORDS_HELP:
        return EventKind.HELP_WORD
    if word in common.WORDS_CANCEL:
        return EventKind.CANCEL_WORD
    if secretary:
        for words, kind in _SECRETARY_WORDS:
            if word in words:
                return kind
        return EventKind.FREE_MESSAGE
    return EventKind.NOT_UNDERSTOOD


def typed_word(text: str) -> str:
    return " ".join(fold(text).strip(" .!").split())
