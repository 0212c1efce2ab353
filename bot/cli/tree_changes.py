"""Changes of the units tree with history: `chibo units merge A B --into C [--name ...]`, `chibo units rename`,
`chibo units move` (bot/services/unit_changes.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, console, units_app, with_db
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services import unit_changes
from messages import roster as msg


def _refused(exc: unit_changes.TreeChangeError) -> CliError:
    return CliError(msg.UNIT_CHANGE_REFUSED.format(code=str(exc)))


@units_app.command("merge")
def units_merge(
    codes: Annotated[list[str], typer.Argument(help="Codes of the units merged")],
    into: Annotated[str, typer.Option(help="Code of the successor (created beside them when new)")],
    name: Annotated[str | None, typer.Option(help="Name of the successor, when it is new")] = None,
) -> None:
    """Merge units into a successor; their history counts toward it."""

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> unit_changes.Merged:
        try:
            return await unit_changes.merge(session, clock, codes, into, name=name, actor="cli")
        except unit_changes.TreeChangeError as exc:
            raise _refused(exc) from None

    merged = with_db(work)
    text = msg.UNITS_MERGED.format(
        codes=", ".join(codes), into=into, name=merged.into.name, moved=merged.moved
    )
    console.print(text, markup=False)


@units_app.command("rename")
def units_rename(
    code: Annotated[str, typer.Argument(help="The unit's code")],
    name: Annotated[str, typer.Argument(help="Its new name")],
) -> None:
    """Rename a unit (the old name stays in the audit log)."""

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> None:
        try:
            await unit_changes.rename(session, clock, code, name, actor="cli")
        except unit_changes.TreeChangeError as exc:
            raise _refused(exc) from None

    with_db(work)
    console.print(msg.UNIT_RENAMED.format(code=code, name=name), markup=False)


@units_app.command("move")
def units_move(
    code: Annotated[str, typer.Argument(help="The unit's code")],
    to: Annotated[str, typer.Option(help="Code of its new parent")],
) -> None:
    """Move a unit (and everything under it) under another parent."""

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> None:
        try:
            await unit_changes.move(session, clock, code, to, actor="cli")
        except unit_changes.TreeChangeError as exc:
            raise _refused(exc) from None

    with_db(work)
    console.print(msg.UNIT_MOVED.format(code=code, parent=to), markup=False)
