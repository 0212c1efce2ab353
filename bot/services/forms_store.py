"""Report forms in the database: the built-in ones installed at start, custom ones added from YAML."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.services.forms import BUILTIN_FORMS, FormErrors, FormSpec, form_from_dict, form_to_dict
from storage.models import FormDef

log = logging.getLogger(__name__)

DEFAULT_FORM = "sinh-hoat-chinh-tri"


async def install_builtin_forms(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """Insert or refresh the built-in forms, so an upgrade that changes one takes effect. A board's own form that
    already holds a new built-in's key is kept: its reports were made against it."""
    async with sessions() as session, session.begin():
        for form in BUILTIN_FORMS.values():
            row = await session.get(FormDef, form.key)
            spec = form_to_dict(form)
            if row is None:
                session.add(
                    FormDef(key=form.key, title=form.title, spec=spec, builtin=True, created_at=clock.now())
                )
            elif not row.builtin:
                log.warning("built-in form %s not installed: a custom form already has its key", form.key)
            elif row.spec != spec or row.title != form.title:
                row.spec, row.title = spec, form.title


async def save_form(session: AsyncSession, clock: Clock, form: FormSpec) -> bool:
    """Add or replace a custom form; returns False when the key belongs to a built-in form."""
    row = await session.get(FormDef, form.key)
    if row is not None and row.builtin:
        return False
    if row is None:
        session.add(
            FormDef(
                key=form.key, title=form.title, spec=form_to_dict(form), builtin=False, created_at=clock.now()
            )
        )
    else:
        row.title, row.spec = form.title, form_to_dict(form)
    return True


async def list_forms(session: AsyncSession) -> list[FormDef]:
    return list(
        (await session.scalars(select(FormDef).order_by(FormDef.builtin.desc(), FormDef.title))).all()
    )


_parsed: dict[str, tuple[dict[str, Any], FormSpec | None]] = {}


async def get_form(session: AsyncSession, key: str | None) -> FormSpec | None:
    row = await session.get(FormDef, key or DEFAULT_FORM)
    if row is None:
        return BUILTIN_FORMS.get(key or DEFAULT_FORM)
    cached = _parsed.get(row.key)
    if cached is not None and cached[0] == row.spec:  # validating a spec costs more than the query
        return cached[1]
    form = form_from_dict(row.spec)
    result = None if isinstance(form, FormErrors) else form
    _parsed[row.key] = (row.spec, result)
    return result
