"""What kind of event this is, for whom: the one classification the router dispatches on and the batch lane
filters with, so the two cannot drift apart.

`classify` is pure: it reads the event, the sender's roles and their conversation (flow and step), and queries
nothing. The order of the checks is the order of precedence (a registration in progress first, a free message
last).
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.core.textnorm import fold
from handlers import directive_intake, level_files, registration
from handlers.commands import BOARD, SECRETARY
from handlers.context import Context
from handlers.report_state import FLOW as REPORT_FLOW
from handlers.report_state import asks_to_report
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
    LEVEL_FILES_FLOW = "level_files_flow"  # a lower board adding its files to an upper directive it forwards
    NEW_DIRECTIVE = "new_directive"  # a board member sending a document or pasting a long text
    HELP_WORD = "help_word"  # the words that stand for buttons and commands where there are none (Zalo)
    CANCEL_WORD = "cancel_word"
    LIST_WORD = "list_word"
    ACK_WORD = "ack_word"
    EDIT_WORD = "edit_word"
    BOARD_WORD = (
        "board_word"  # a board command typed by its words ("tình hình 747"), for channels without a menu
    )
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
        if board and names_directive(event.text or ""):
            # Someone both on the board and a secretary, with her cell's report half done, typing «báo cáo 747»
            # (the board guide's words for the Word draft) or «tình hình 747» means the board's command: no
            # answer to a report question is a board word followed by a directive number. Her draft stays where
            # it was (the board's commands never touch the conversation) and the router reminds her of it.
            return EventKind.BOARD_WORD
        return EventKind.REPORT_FLOW
    if flow == level_files.FLOW and board:
        return EventKind.LEVEL_FILES_FLOW  # what Zalo did not pass included: that flow says what it takes
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
        if asks_to_report(word):
            return EventKind.FREE_MESSAGE  # a secretary's "báo cáo" is her own report, even on the board too
    if board and board_command(event.text or "") is not None:
        return EventKind.BOARD_WORD
    return EventKind.FREE_MESSAGE if secretary else EventKind.NOT_UNDERSTOOD


_DIRECTIVE_NUMBER = re.compile(r"\d+([-/]\S*)?")  # "747", "747-CV/ĐUK": how a board word names a directive
_UNIT_CODE = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)+")  # «tình hình 747 X-TP»
# What may follow the number in a board command: a period («kỳ 04/2024», «kỳ 6 tháng đầu năm 2026», «quý II»),
# a source («theo cấp dưới», «từ chi bộ»), «tắt»/«bật». An answer to a report question has other words.
_COMMAND_TAIL = frozenset(
    [
        "ky",
        "ki",
        "theo",
        "tu",
        "cap",
        "duoi",
        "chi",
        "bo",
        "tat",
        "bat",
        "thang",
        "dau",
        "cuoi",
        "nam",
        "quy",
        "i",
        "ii",
        "iii",
        "iv",
    ]
)


def names_directive(text: str) -> bool:
    """Whether `text` is a board word followed by a directive's number and nothing but a board command's words
    («báo cáo 747», «xuất 747-CV/ĐUK kỳ 04/2024», «tình hình 747 X-TP»); «tình hình 12 đảng viên ...» is not."""
    typed = board_command(text)
    args = typed[1].split() if typed is not None else []
    if not args or _DIRECTIVE_NUMBER.fullmatch(args[0]) is None:
        return False
    return all(
        any(c.isdigit() for c in word) or _UNIT_CODE.fullmatch(word) or fold(word) in _COMMAND_TAIL
        for word in args[1:]
    )


def typed_word(text: str) -> str:
    return " ".join(fold(text).strip(" .!").split())


_BOARD_LEADS = sorted(
    common.WORDS_BOARD, key=lambda lead: -len(lead.split())
)  # "bao cao word" before "bao cao"
_BOARD_ARGS_MAX = 40  # what follows a board word names a directive, maybe "tắt"/"bật": never a long text


def board_command(text: str) -> tuple[str, str] | None:
    """The board command `text` types by its words, with what follows them: ("tinhhinh", "747"), else None."""
    words = text.split()
    folded = typed_word(text).split()
    for lead in _BOARD_LEADS:
        size = len(lead.split())
        if folded[:size] == lead.split():
            args = " ".join(words[size:]).strip(" .!")
            if len(args) <= _BOARD_ARGS_MAX and ";" not in args and "\n" not in text.strip():
                return common.WORDS_BOARD[lead], args
            return None
    return None
