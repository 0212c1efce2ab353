"""Changes of the units tree with history: `chibo units merge A B --into C [--name ...]`, `chibo units split A
--into B:"Tên" --into C:"Tên" --cells B=X,Y --cells C=Z [--main C]`, `chibo units rename`, `chibo units move`
(bot/services/unit_changes.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CliError, console, units_app, with_db
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services import roster_changes, unit_changes
from messages import roster as msg


def _refused(exc: unit_changes.TreeChangeError) -> CliError:
    return CliError(exc.reason or msg.UNIT_CHANGE_REFUSED.format(code=str(exc)))


@units_app.command("merge")
def units_merge(
    codes: Annotated[list[str], typer.Argument(help="Codes of the units merged")],
    into: Annotated[str, typer.Option(help="Code of the successor (created beside them when new)")],
    name: Annotated[str | None, typer.Option(help="Name of the successor, when it is new")] = None,
) -> None:
    """Merge units into a successor (cells into a cell, committees into a committee); their history counts toward it."""

    async def work(
        session: AsyncSession, _settings: Settings, clock: Clock
    ) -> tuple[unit_changes.Merged, list[str]]:
        try:
            merged = await unit_changes.merge(session, clock, codes, into, name=name, actor="cli")
        except unit_changes.TreeChangeError as exc:
            raise _refused(exc) from None
        after = await roster_changes.settle(session, clock, merged.ended, roster_changes.carried_to(merged))
        return merged, after

    merged, after = with_db(work)
    text = msg.UNITS_MERGED.format(
        codes=", ".join(codes), into=into, name=merged.into.name, moved=merged.moved
    )
    console.print("\n".join([text, *roster_changes.carried_lines(merged), *after]), markup=False)


@units_app.command("split")
def units_split(
    code: Annotated[str, typer.Argument(help="Code of the unit split")],
    into: Annotated[
        list[str],
        typer.Option(help='A successor: CODE:"Name" when new, CODE alone when it exists; once per successor'),
    ],
    cells: Annotated[
        list[str] | None,
        typer.Option(help="NEW=CODE,CODE: the units under it that go to that successor; every one placed"),
    ] = None,
    main: Annotated[
        str | None, typer.Option(help="The successor its board staff joins (default: the first --into)")
    ] = None,
) -> None:
    """Split a unit into several; its history counts toward each by where its cells now are."""

    async def work(
        session: AsyncSession, _settings: Settings, clock: Clock
    ) -> tuple[unit_changes.Divided, list[str]]:
        successors = [_successor(value) for value in into]
        if main is not None:
            if main not in [c for c, _ in successors]:
                raise CliError(msg.SPLIT_NOT_SUCCESSOR.format(child="--main", successor=main))
            successors.sort(key=lambda s: s[0] != main)  # the main successor first
        placed = _placed(cells or [])
        try:
            divided = await unit_changes.split(session, clock, code, successors, placed, actor="cli")
        except unit_changes.TreeChangeError as exc:
            raise _refused(exc) from None
        after = await roster_changes.settle(session, clock, divided.ended, roster_changes.carried_to(divided))
        return divided, after

    done, after = with_db(work)
    names = ", ".join(f"{u.code} ({u.name})" for u in done.into)
    lines = [msg.UNITS_SPLIT.format(code=code, into=names, main=done.into[0].code)]
    for unit in done.into:
        children = sorted(c for c, s in done.placed.items() if s == unit.code)
        if children:
            lines.append(msg.SPLIT_PLACED_LINE.format(successor=unit.code, children=", ".join(children)))
    console.print("\n".join(lines + roster_changes.carried_lines(done) + after), markup=False)


def _successor(value: str) -> tuple[str, str | None]:
    code, _, name = value.partition(":")
    if not code.strip() or (value.count(":") and not name.strip()):
        raise CliError(msg.SPLIT_BAD_INTO.format(value=value))
    return code.strip(), name.strip() or None


def _placed(values: list[str]) -> dict[str, str]:
    placed: dict[str, str] = {}
    for value in values:
        successor, _, children = value.partition("=")
        codes = [c.strip() for c in children.split(",") if c.strip()]
        if not successor.strip() or not codes:
            raise CliError(msg.SPLIT_BAD_CELLS.format(value=value))
        for child in codes:
            if child in placed:
                raise CliError(msg.SPLIT_TWICE.format(child=child))
            placed[child] = successor.strip()
    return placed


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
