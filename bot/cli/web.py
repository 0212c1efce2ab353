"""`chibo web-link PHONE`: print a one-time sign-in link to the board's web dashboard for a board member or an
administrator (for one who cannot use the chat, or to try the dashboard)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, app, plain, with_db
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services import evidence, web_access
from bot.services.phones import normalize_phone
from messages import web as msg
from storage.models import Person


@app.command("web-link")
def web_link(phone: str) -> None:
    """Print a one-time sign-in link to the web dashboard for the board member with this phone."""

    async def issue(session: AsyncSession, settings: Settings, clock: Clock) -> str:
        wanted = normalize_phone(phone) or phone
        person = await session.scalar(select(Person).where(Person.phone == wanted))
        if person is None:
            raise CliError(msg.CLI_NO_PERSON.format(phone=phone))
        url = await web_access.issue_link(session, clock, person, evidence.base_url(settings), "cli")
        if url is None:
            raise CliError(msg.CLI_NOT_STAFF.format(name=person.full_name))
        return url

    plain(msg.CLI_LINK.format(minutes=web_access.LINK_MINUTES, url=with_db(issue)))
