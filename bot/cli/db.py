"""`chibo db upgrade`, `chibo backup`, `chibo restore`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from messages import cli as msg
from storage import backup
from storage.db import sqlite_path

if TYPE_CHECKING:
    pass

from bot.cli.common import app, console, db_app, plain, settings_or_exit, with_db

# -- db --------------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""

    async def work(_session: AsyncSession, _settings: Settings, _clock: Clock) -> None:
        return None

    with_db(work)
    console.print(msg.DB_UPGRADED, markup=False)


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="The backup file to write")],
) -> None:
    """Copy the SQLite database to OUT, consistently, while the bot may run (PostgreSQL: pg_dump)."""
    database = _sqlite_file_or_exit()
    backup.backup(database, out)
    plain(msg.BACKUP_DONE.format(out=out))


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A file `chibo backup` wrote")],
    force: Annotated[bool, typer.Option(help="Restore even though a running bot uses the database")] = False,
) -> None:
    """Replace the SQLite database with a backup; refused while the bot runs (PostgreSQL: pg_restore)."""
    database = _sqlite_file_or_exit()
    try:
        revision = backup.restore(source, database, force=force)
    except backup.RestoreRefused as exc:
        plain(msg.RESTORE_REFUSED[exc.reason].format(detail=exc.detail))
        raise typer.Exit(2) from None
    plain(msg.RESTORE_DONE.format(source=source, revision=revision))


def _sqlite_file_or_exit() -> Path:
    database = sqlite_path(settings_or_exit().database_url)
    if database is None:
        plain(msg.BACKUP_POSTGRES)
        raise typer.Exit(2)
    if not database.exists():
        plain(msg.BACKUP_NO_DATABASE.format(path=database))
        raise typer.Exit(2)
    return database
