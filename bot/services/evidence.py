"""A cell's evidence photos for the board: the signed, expiring link to the photo page of its report (put in the
Excel export's rows) and the photos that page shows, read from the latest report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.services import links
from bot.services.forms_store import get_form
from bot.services.report_data import UnitRow
from storage.models import Directive, Report, Unit


def base_url(settings: Settings) -> str:
    """Where people reach the bot's web server: the public URL, else the address it listens on."""
    host = settings.listen_host
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return (settings.public_url or f"http://{reachable}:{settings.listen_port}").rstrip("/")


def link_maker(settings: Settings, now: datetime, directive_id: int) -> Callable[[UnitRow], str | None]:
    """For the rows of one directive's export: the photo page link of a row that has photos, valid for
    CHIBO_LINK_DAYS from `now`."""
    base, secret = base_url(settings), settings.link_secret
    expires = now + timedelta(days=settings.link_days)

    def link(row: UnitRow) -> str | None:
        if not row.photos or row.unit_id is None:
            return None
        return base + links.sign_evidence(secret, row.directive_id or directive_id, row.unit_id, expires)

    return link


def photos_of(values: Mapping[str, object], keys: Sequence[str]) -> tuple[str, ...]:
    """The file hashes a report lists under its photo fields; anything else there is ignored."""
    found: list[str] = []
    for key in keys:
        items = values.get(key)
        if isinstance(items, list):
            found += [item for item in items if isinstance(item, str) and item]
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the photo page shows: whose report, on which directive, and its photos' file hashes."""

    unit_name: str
    number: str
    photos: tuple[str, ...]


async def evidence(session: AsyncSession, directive_id: int, unit_id: int) -> Evidence | None:
    """The photos of the latest report of `unit_id` on `directive_id`; None when there is no such report."""
    directive = await session.get(Directive, directive_id)
    unit = await session.get(Unit, unit_id)
    values = await session.scalar(
        select(Report.values).where(
            Report.directive_id == directive_id, Report.unit_id == unit_id, Report.is_latest.is_(True)
        )
    )
    if directive is None or unit is None or values is None:
        return None
    form = await get_form(session, directive.form_key)
    keys = [spec.key for spec in form.photo_fields] if form is not None else []
    return Evidence(unit.name, directive.number or "", photos_of(values, keys))
