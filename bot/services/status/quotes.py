"""Notable free-text answers: the latest reports' answers to the form's text fields, sorted into the report's
sections (highlights, difficulties, recommendations) by the words of the field's label, empty ones dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.textnorm import fold
from bot.services.forms import FieldType, FormSpec
from bot.services.report_data import Quote
from bot.services.status.scope import Scope
from bot.services.status.sql import JsonValues, dialect, latest_reports
from messages import board as msg
from messages.documents import EMPTY_ANSWERS
from storage.models import Report, Unit

QUOTE_SCAN = 400  # free-text answers read per query; empty ones ("không có") are dropped afterwards
QUOTE_LIMIT = 40


@dataclass(frozen=True, slots=True)
class Said:
    """One quoted answer, the section it belongs to and the directive it answers."""

    directive_id: int
    kind: str  # "highlights" | "difficulties" | "recommendations"
    quote: Quote


def of_kind(said: Iterable[Said], kind: str) -> list[Quote]:
    return [item.quote for item in said if item.kind == kind]


def text_field_roles(form: FormSpec | None) -> dict[str, set[str]]:
    """Which report sections each free-text field feeds: highlights, difficulties, recommendations."""
    roles: dict[str, set[str]] = {}
    for f in form.fields if form is not None else ():
        if f.type != FieldType.TEXT:
            continue
        label = fold(f.label)
        kinds = set()
        if any(word in label for word in msg.HIGHLIGHT_WORDS):
            kinds.add("highlights")
        if any(word in label for word in msg.DIFFICULTY_WORDS):
            kinds.add("difficulties")
        if any(word in label for word in msg.RECOMMENDATION_WORDS):
            kinds.add("recommendations")
        if kinds:
            roles[f.key] = kinds
    return roles


_SENTENCES = re.compile(r"(?<=[.;!?\n])\s+")


def sort_answer(text: str, kinds: set[str]) -> dict[str, str]:
    """Split an answer between the sections its field feeds; in a "khó khăn, kiến nghị" field, sentences asking
    for something are recommendations and the rest difficulties."""
    clean = " ".join(text.split())
    if fold(clean).strip(" .,;:!-") in EMPTY_ANSWERS:
        return {}
    if kinds != {"difficulties", "recommendations"}:
        return {kind: clean for kind in kinds}
    parts: dict[str, list[str]] = {"difficulties": [], "recommendations": []}
    for sentence in _SENTENCES.split(text.strip()):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        asks = any(word in fold(sentence) for word in msg.RECOMMENDATION_SENTENCE_WORDS)
        parts["recommendations" if asks else "difficulties"].append(sentence)
    return {kind: " ".join(sentences) for kind, sentences in parts.items() if sentences}


async def quotes(
    session: AsyncSession,
    scope: Scope,
    directive_ids: Sequence[int],
    form: FormSpec | None,
    *,
    since: datetime | None = None,
    limit: int = QUOTE_LIMIT,
    cycle: int | None = None,
) -> list[Said]:
    """Free-text answers of the latest reports (newest first), sorted into the report's sections; at most
    `limit` per section. With `since`, only answers sent since then and not already in the previous version."""
    roles = text_field_roles(form)
    if not directive_ids or not roles or form is None:
        return []
    reports = latest_reports(session, scope, directive_ids, since=since, cycle=cycle)
    sql_dialect = dialect(session)
    json = JsonValues(sql_dialect, reports.c.v)
    previous = aliased(Report)
    before = JsonValues(
        sql_dialect, cast(previous.values, JSONB) if sql_dialect == "postgresql" else previous.values
    )
    labels = {f.key: f.label for f in form.fields}
    found: list[Said] = []
    taken: dict[str, int] = defaultdict(int)
    for key, kinds in roles.items():
        answer = json.text(key)
        query = (
            select(reports.c.directive_id, Unit.name, answer)
            .select_from(reports)
            .join(Unit, Unit.id == reports.c.unit_id)
            .where(answer.is_not(None), func.length(func.trim(answer)) > 1)
            .order_by(reports.c.submitted_at.desc())
            .limit(QUOTE_SCAN)
        )
        if since is not None:
            said_before = before.text(key)
            query = query.outerjoin(
                previous,
                and_(
                    previous.directive_id == reports.c.directive_id,
                    previous.unit_id == reports.c.unit_id,
                    previous.version == reports.c.version - 1,
                ),
            ).where(or_(said_before.is_(None), said_before != answer))
        for directive_id, unit_name, text in (await session.execute(query)).all():
            for kind, part in sort_answer(text, kinds).items():
                if taken[kind] < limit:
                    taken[kind] += 1
                    found.append(Said(directive_id, kind, Quote(unit_name, labels.get(key, key), part)))
    return found
