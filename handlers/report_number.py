"""The report's number in chat: the Word draft shows the number the register proposes and offers to take it; the
board takes it (the button, or typing «lấy số 747», on Zalo too) or types another («lấy số 747 05»), and gets the
draft again carrying the recorded number. Runs after the event's commit, in transactions of its own, because the
register settles a race between two members with a failed insert (bot/services/doc_register.py)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Button, Reply
from bot.core.host import Host
from bot.services import board_files, cycles, doc_register, report_draft, status
from bot.services.report_data import ReportData
from handlers import buttons as b
from messages import board as msg
from storage.models import Directive

log = logging.getLogger(__name__)

# "747 05", "747-CV/ĐUK số 5": a directive, then the report number the board wants (1 to 4 digits) last.
_CHOSEN = re.compile(r"^(?P<query>.+?)\s+(?:s[oố]\s+)?(?P<number>\d{1,4})$", re.IGNORECASE)


def split_args(args: str) -> tuple[str, int | None]:
    """The directive the words name, and the number typed after it (None: take the proposed one)."""
    found = _CHOSEN.match(args.strip())
    if found is None:
        return args.strip(), None
    return found["query"], int(found["number"])


@dataclass(frozen=True)
class Draft:
    """A built draft: the file, and the messages that follow it (the number to confirm, or what went wrong)."""

    file: board_files.BoardFile | None
    after: list[Reply]
    data: ReportData | None = None  # the figures the draft was built from (a report upward keeps them)


async def build_draft(
    runtime: Host,
    scope: status.Scope,
    directive_id: int,
    today: date,
    cycle: int | None = None,
    source: str | None = None,
    also: Sequence[int] = (),
) -> Draft:
    """The draft with the register's number; when that number is only proposed, the offer to take it. `cycle`:
    a recurring directive's period (None: the last closed one); `source`: where a directive handed down to units
    below is aggregated from (None: the default, see bot/services/rollup.py); `also`: the other directives the report
    answers for (a report upward after a merge)."""
    async with runtime.sessions() as session:
        directive = await _directive(session, directive_id)
        period = await cycles.cycle(session, directive, cycle) if cycle else None
        data, numbered = await report_draft.draft(
            session, scope, directive, today, runtime.settings, period, source, also
        )
    built = await asyncio.to_thread(board_files.render, board_files.DOCX, data, directive, today)
    if numbered is None or numbered.recorded:
        return Draft(built, [], data)
    return Draft(built, [_offer(directive, numbered)], data)


async def take_number(
    runtime: Host, scope: status.Scope, directive_id: int, today: date, actor: str, number: int | None
) -> Draft:
    """Record the report's number (the proposed one, or `number`), then the draft that carries it."""
    async with runtime.sessions() as session:
        directive = await _directive(session, directive_id)
    key = report_draft.register_key(directive, runtime.settings, today)
    if not key.issuer_code:
        return Draft(None, [Reply(text=msg.NUMBER_NO_ISSUER.format(number=directive.number or ""))])
    if number is not None and not 1 <= number <= doc_register.MAX_NUMBER:
        return Draft(None, [Reply(text=msg.NUMBER_OUT_OF_RANGE)])
    outcome = await doc_register.record(
        runtime.sessions, runtime.clock, key, directive_id, actor=actor, number=number
    )
    if isinstance(outcome, doc_register.Taken):
        text = msg.NUMBER_TAKEN.format(
            symbol=doc_register.symbol(outcome.number, key.doc_type, key.issuer_code),
            number=_short(directive),
        )
        return Draft(None, [Reply(text=text)])
    draft = await build_draft(runtime, scope, directive_id, today)
    note = msg.NUMBER_RECORDED.format(symbol=outcome.text, term=outcome.key.term)
    if number is not None and outcome.number != number:
        note = msg.NUMBER_ALREADY.format(symbol=outcome.text)
    return Draft(draft.file, [Reply(text=note)])


def _offer(directive: Directive, numbered: doc_register.Numbered) -> Reply:
    text = msg.NUMBER_PROPOSED.format(symbol=numbered.text, term=numbered.key.term, number=_short(directive))
    button = Button(msg.BUTTON_TAKE_NUMBER.format(symbol=numbered.text), b.TakeNumber(directive.id).encode())
    return Reply(text=text, buttons=[[button]])


def _short(directive: Directive) -> str:
    """What to type after «lấy số» to name the directive: its leading digits, else its whole number."""
    number = directive.number or str(directive.id)
    digits = re.match(r"\d+", number)
    return digits.group() if digits else number


async def _directive(session: AsyncSession, directive_id: int) -> Directive:
    directive = await session.get(Directive, directive_id)
    if directive is None:
        raise LookupError(directive_id)
    return directive
