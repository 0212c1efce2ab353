"""The roster, board staff and one person's personal data: `chibo units ...`, `chibo staff add`, `chibo person ...`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services import roster, staff
from bot.services.phones import normalize_phone
from messages import cli as msg
from messages import roster as roster_msg
from messages.registration import ROLE_NAMES

if TYPE_CHECKING:
    pass

from bot.cli.common import CliError, console, person_app, staff_app, units_app, with_db

# -- units -----------------------------------------------------------------------------------------------------


@units_app.command("import")
def units_import(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import or update the roster from an .xlsx or .csv file (all or nothing)."""
    try:
        raw = roster.read_table(path)
    except ValueError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(1) from exc

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> roster.ImportResult:
        result = await roster.import_roster(session, clock, raw)
        if not result.ok:
            by_row: dict[tuple[int, str], list[str]] = {}
            for problem in result.problems:
                by_row.setdefault((problem.line, problem.code), []).append(problem.reason)
            lines = [roster_msg.PROBLEMS_HEADER.format(count=len(by_row))]
            lines += [
                roster_msg.PROBLEM_LINE.format(line=line, code=code or "—", reason="; ".join(reasons))
                for (line, code), reasons in by_row.items()
            ]
            raise CliError("\n".join(lines))  # nothing half-imported: the transaction is rolled back
        return result

    result = with_db(work)
    console.print(
        roster_msg.DONE.format(created=result.created, updated=result.updated, unchanged=result.unchanged),
        markup=False,
    )
    if result.changes:
        console.print("\n".join([roster_msg.CHANGES_HEADER, *result.changes]), markup=False)
    if result.not_in_file:
        codes = ", ".join(result.not_in_file[:20]) + ("…" if len(result.not_in_file) > 20 else "")
        console.print(roster_msg.NOT_IN_FILE.format(count=len(result.not_in_file), codes=codes), markup=False)


@units_app.command("list")
def units_list() -> None:
    """The units tree: code, name, cells and their secretaries, retired units marked."""
    from bot.services import units

    async def work(session: AsyncSession, _settings: Settings, _clock: Clock) -> list[units.TreeLine]:
        return await units.tree(session)

    lines = with_db(work)
    if not lines:
        console.print(roster_msg.TREE_EMPTY, markup=False)
        return
    for line in lines:
        notes = [roster_msg.TREE_CELL] if line.is_cell else []
        if line.is_cell:
            notes.append(line.secretary or roster_msg.TREE_NO_SECRETARY)
        if not line.active:
            notes.append(roster_msg.TREE_INACTIVE)
        if line.merged_into:
            notes.append(roster_msg.TREE_MERGED_INTO.format(code=line.merged_into))
        if line.split_into:
            notes.append(roster_msg.TREE_SPLIT_INTO.format(codes=", ".join(line.split_into)))
        suffix = f" ({', '.join(notes)})" if notes else ""
        console.print(f"{'  ' * line.depth}{line.code}  {line.name}{suffix}", markup=False, highlight=False)


@units_app.command("remove")
def units_remove(code: Annotated[str, typer.Argument(help="The unit's code")]) -> None:
    """Remove a unit: deleted if it never took part, retired (kept for past figures) if it has history, refused
    while units are under it."""
    from bot.services import units

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> units.Removed:
        return await units.remove(session, clock, code, actor="cli")

    removed = with_db(work)
    text = {
        units.Removal.UNKNOWN: roster_msg.UNIT_UNKNOWN,
        units.Removal.HAS_CHILDREN: roster_msg.UNIT_HAS_CHILDREN,
        units.Removal.DELETED: roster_msg.UNIT_DELETED,
        units.Removal.RETIRED: roster_msg.UNIT_RETIRED,
    }[removed.outcome]
    console.print(text.format(code=code, count=removed.children), markup=False)
    if removed.outcome in (units.Removal.UNKNOWN, units.Removal.HAS_CHILDREN):
        raise typer.Exit(1)


# -- staff -----------------------------------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="Full name")],
    phone: Annotated[str, typer.Option(help="Mobile phone, e.g. 0912345678")],
    unit: Annotated[str | None, typer.Option(help="Code of the unit whose subtree they oversee")] = None,
    admin: Annotated[bool, typer.Option(help="Administrator over everything")] = False,
) -> None:
    """Add a board staff member (scoped to a unit's subtree) or an administrator."""
    normalized = normalize_phone(phone)
    if normalized is None:
        console.print(msg.BAD_PHONE.format(phone=phone), markup=False)
        raise typer.Exit(1)
    if not admin and not unit:
        console.print(msg.STAFF_NEEDS_UNIT, markup=False)
        raise typer.Exit(1)

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> str:
        try:
            added = await staff.add_staff(
                session, clock, name=name, phone=normalized, unit_code=unit, admin=admin, actor="cli"
            )
        except staff.UnknownUnit as exc:
            raise CliError(msg.UNIT_NOT_FOUND.format(code=exc.code)) from None
        return added.scope.name if added.scope else msg.STAFF_SCOPE_ALL

    scope_name = with_db(work)
    kind = "admin" if admin else "board"
    console.print(
        msg.STAFF_ADDED.format(
            name=name, role=ROLE_NAMES[kind], scope=scope_name, role_kind=kind, phone=normalized
        ),
        markup=False,
    )


# -- person ----------------------------------------------------------------------------------------------------


@person_app.command("export")
def person_export(
    phone: Annotated[str, typer.Argument(help="The person's phone number")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of printing it")] = None,
) -> None:
    """Everything held about a person (roles, accounts, invites, reports, audit entries), as JSON; audited."""
    import json

    from bot.services import personal_data

    normalized = _phone_or_exit(phone)

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> dict[str, Any]:
        person = await personal_data.find_person(session, normalized)
        if person is None:
            raise CliError(msg.PERSON_NOT_FOUND.format(phone=normalized))
        return await personal_data.export_person(session, clock, person, actor="cli")

    text = json.dumps(with_db(work), ensure_ascii=False, indent=2)
    if out is None:
        print(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(msg.PERSON_EXPORTED.format(path=out), markup=False)


@person_app.command("erase")
def person_erase(
    phone: Annotated[str, typer.Argument(help="The person's phone number")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking")] = False,
) -> None:
    """Erase a person's personal data; their reports stay counted, anonymised (no name, text or photos)."""
    from bot.services import personal_data
    from bot.services.files import FileStore

    normalized = _phone_or_exit(phone)
    if not yes and not typer.confirm(msg.PERSON_ERASE_CONFIRM.format(phone=normalized)):
        raise typer.Exit(1)

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> personal_data.Erased:
        person = await personal_data.find_person(session, normalized)
        if person is None:
            raise CliError(msg.PERSON_NOT_FOUND.format(phone=normalized))
        files = FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024)
        return await personal_data.erase_person(session, clock, files, person, actor="cli")

    erased = with_db(work)
    console.print(
        msg.PERSON_ERASED.format(reports=erased.reports, accounts=erased.accounts, photos=erased.photos),
        markup=False,
    )


def _phone_or_exit(phone: str) -> str:
    normalized = normalize_phone(phone)
    if normalized is None:
        console.print(msg.BAD_PHONE.format(phone=phone), markup=False)
        raise typer.Exit(1)
    return normalized
