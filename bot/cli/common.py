"""What every command shares: the Typer apps, the console, the one-line fault messages, a transaction on a
migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Channel, DeliveryError
from bot.services.forms_store import install_builtin_forms
from messages import cli as msg
from storage.db import make_engine, make_sessionmaker, migrate, transaction

if TYPE_CHECKING:
    pass


app = typer.Typer(
    help="Chibo: directives to party cells and their reports, on Telegram and Zalo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.")
units_app = typer.Typer(help="The roster of units and cell secretaries.")
staff_app = typer.Typer(help="Board staff and administrators.")
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
app.add_typer(staff_app, name="staff")
directive_app = typer.Typer(help="Directives: read one, or send one from the shell.")
app.add_typer(directive_app, name="directive")
forms_app = typer.Typer(help="Report forms: add the board's own form from a YAML file.")
app.add_typer(forms_app, name="forms")
person_app = typer.Typer(help="Personal data of one person (Law 91/2025/QH15): export it, or erase it.")
app.add_typer(person_app, name="person")

console = Console()
T = TypeVar("T")


def main() -> None:
    """The `chibo` command. What the machine around it can break (no network, a database that is away or locked)
    ends the command with one line in each language saying what to check, never a traceback."""
    try:
        app()
    except DeliveryError as exc:
        plain(msg.PLATFORM_UNREACHABLE.format(reason=_reason(exc)))
        raise SystemExit(1) from None
    except (DBAPIError, OSError, TimeoutError) as exc:
        plain(msg.DATABASE_UNAVAILABLE.format(reason=_reason(exc)))
        raise SystemExit(1) from None


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the SQL or the driver's backtrace."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()
    return text[0][:120] if text else type(cause).__name__


class CliError(Exception):
    """A refusal to show the administrator; raising it rolls the command's transaction back."""


def with_db(work: Callable[[AsyncSession, Settings, Clock], Awaitable[T]]) -> T:
    """Run `work` in one transaction on a migrated database, and close everything afterwards."""

    async def runner() -> T:
        settings = Settings()
        engine = make_engine(settings.database_url)
        try:
            await migrate(engine)
            sessions = make_sessionmaker(engine)
            await install_builtin_forms(sessions, Clock())
            async with transaction(sessions) as session:
                return await work(session, settings, Clock())
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except CliError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def plain(text: str) -> None:
    """Print as is: no markup, no colouring, no wrapping (the URL must stay whole)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def settings_or_exit() -> Settings:
    """The settings, or exit code 2 naming each environment variable whose value could not be read (not the value:
    it may be a secret)."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [f"CHIBO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        plain(msg.SETTINGS_INVALID.format(details="\n".join(lines)))
        raise typer.Exit(2) from None


async def built_channels(session: AsyncSession, settings: Settings, clock: Clock) -> dict[str, Channel]:
    """The channels the settings configure, built to read their rules (windows, message counts); never opened."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.runtime import build_channels
    from bot.services.files import FileStore

    sessions = async_sessionmaker(session.bind, expire_on_commit=False)
    return build_channels(settings, FileStore(settings.files_dir, 0), sessions=sessions, clock=clock)
