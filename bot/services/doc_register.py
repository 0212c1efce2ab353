"""The board's document register (sổ đăng ký văn bản đi): the number each report it issues takes.

Party rules (Hướng dẫn 36-HD/VPTW, 1.3.1) number the documents of one issuer from 01 for each document type within
one committee term. A key is therefore (issuer code, type, term); the term is a label the deployment configures
(`CHIBO_PARTY_TERM`). The draft proposes the next free number; the number is taken only when the board confirms it,
in a transaction of its own, and the unique key decides between two members confirming at the same moment: the
loser takes the next number instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from storage.db import transaction
from storage.models import DocumentNumber

log = logging.getLogger(__name__)

REPORT = "BC"  # Báo cáo, in the type codes of Quy định 399-QĐ/TW
TERM_YEARS = 5
MAX_NUMBER = 9999
_ATTEMPTS = 20


def term_of(configured: str, day: date) -> str:
    """The committee term a document dated `day` is numbered in: the configured label, or else the five-year span
    that holds the day ("2025-2030"; grassroots congresses open each term in the years divisible by five)."""
    if configured.strip():
        return configured.strip()
    start = day.year - day.year % TERM_YEARS
    return f"{start}-{start + TERM_YEARS}"


def symbol(number: int, doc_type: str, issuer_code: str) -> str:
    """ "03-BC/ĐUK": numbers below 10 take a leading zero, as the Party's examples write them."""
    return f"{number:02d}-{doc_type}/{issuer_code}"


@dataclass(frozen=True, slots=True)
class Key:
    issuer_code: str
    doc_type: str
    term: str


@dataclass(frozen=True, slots=True)
class Numbered:
    """The register's answer for a directive's report: its number, and whether it is recorded or only proposed."""

    key: Key
    number: int
    recorded: bool

    @property
    def text(self) -> str:
        return symbol(self.number, self.key.doc_type, self.key.issuer_code)


@dataclass(frozen=True, slots=True)
class Taken:
    """The number the board typed belongs to another document already."""

    key: Key
    number: int
    directive_id: int | None


async def recorded_for(session: AsyncSession, directive_id: int, doc_type: str) -> DocumentNumber | None:
    """The number already recorded for the report on this directive, if any."""
    return await session.scalar(
        select(DocumentNumber)
        .where(DocumentNumber.directive_id == directive_id, DocumentNumber.doc_type == doc_type)
        .order_by(DocumentNumber.id)
        .limit(1)
    )


async def next_number(session: AsyncSession, key: Key) -> int:
    highest = await session.scalar(
        select(func.max(DocumentNumber.number)).where(
            DocumentNumber.issuer_code == key.issuer_code,
            DocumentNumber.doc_type == key.doc_type,
            DocumentNumber.term == key.term,
        )
    )
    return (highest or 0) + 1


async def for_draft(session: AsyncSession, key: Key, directive_id: int) -> Numbered:
    """The number a draft shows: the one recorded for this directive, or the next free one, proposed."""
    existing = await recorded_for(session, directive_id, key.doc_type)
    if existing is not None:
        return Numbered(_key_of(existing), existing.number, recorded=True)
    return Numbered(key, await next_number(session, key), recorded=False)


async def record(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    key: Key,
    directive_id: int,
    *,
    actor: str,
    number: int | None = None,
) -> Numbered | Taken:
    """Take a number for the directive's report: `number` if the board typed one, else the next free one. A
    directive keeps the number it already has. Each attempt is its own transaction, so a lost race is retried."""
    for _ in range(_ATTEMPTS):
        try:
            async with transaction(sessions) as session:
                existing = await recorded_for(session, directive_id, key.doc_type)
                if existing is not None:
                    return Numbered(_key_of(existing), existing.number, recorded=True)
                chosen = number if number is not None else await next_number(session, key)
                if number is not None and (holder := await _holder(session, key, number)) is not None:
                    return Taken(key, number, holder.directive_id)
                session.add(
                    DocumentNumber(
                        issuer_code=key.issuer_code,
                        doc_type=key.doc_type,
                        term=key.term,
                        number=chosen,
                        directive_id=directive_id,
                        recorded_at=clock.now(),
                        recorded_by=actor,
                    )
                )
            return Numbered(key, chosen, recorded=True)
        except IntegrityError:
            log.info("number %s of %s taken meanwhile; trying again", number, key)
            if number is not None:
                async with sessions() as session:
                    holder = await _holder(session, key, number)
                return Taken(key, number, holder.directive_id if holder else None)
    raise RuntimeError(f"no free number for {key} after {_ATTEMPTS} attempts")


async def _holder(session: AsyncSession, key: Key, number: int) -> DocumentNumber | None:
    return await session.scalar(
        select(DocumentNumber).where(
            DocumentNumber.issuer_code == key.issuer_code,
            DocumentNumber.doc_type == key.doc_type,
            DocumentNumber.term == key.term,
            DocumentNumber.number == number,
        )
    )


async def entries(session: AsyncSession, term: str | None = None) -> list[DocumentNumber]:
    """The register, in order of symbol, type, term and number; only one term's when `term` is given."""
    query = select(DocumentNumber).order_by(
        DocumentNumber.issuer_code, DocumentNumber.doc_type, DocumentNumber.term, DocumentNumber.number
    )
    if term:
        query = query.where(DocumentNumber.term == term)
    return list((await session.scalars(query)).all())


def _key_of(row: DocumentNumber) -> Key:
    return Key(row.issuer_code, row.doc_type, row.term)
