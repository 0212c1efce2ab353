"""The `chibo` command line: run the bot, upgrade the database, import the roster, issue invites, add staff."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import logs
from bot.core.clock import Clock
from bot.core.config import Settings, public_port, refusals, wants_production
from bot.core.events import Channel, ChannelName, DeliveryError
from bot.services import invites as invite_service
from bot.services import roster, staff
from bot.services.audit import EXPORT_DOCX, EXPORT_XLSX, VIEW_STATUS, audit, audit_view
from bot.services.forms_store import install_builtin_forms
from bot.services.phones import normalize_phone
from messages import cli as msg
from messages import roster as roster_msg
from messages.registration import ROLE_NAMES
from storage import backup
from storage.db import make_engine, make_sessionmaker, migrate, sqlite_path, transaction
from storage.models import Unit

if TYPE_CHECKING:
    from bot.services.reading import ReadResult

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
        _plain(msg.PLATFORM_UNREACHABLE.format(reason=_reason(exc)))
        raise SystemExit(1) from None
    except (DBAPIError, OSError, TimeoutError) as exc:
        _plain(msg.DATABASE_UNAVAILABLE.format(reason=_reason(exc)))
        raise SystemExit(1) from None


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the SQL or the driver's backtrace."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()
    return text[0][:120] if text else type(cause).__name__


class CliError(Exception):
    """A refusal to show the administrator; raising it rolls the command's transaction back."""


def _with_db(work: Callable[[AsyncSession, Settings, Clock], Awaitable[T]]) -> T:
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


# -- run -------------------------------------------------------------------------------------------------------


@app.command()
def run() -> None:
    """Run the bot: Zalo and/or Telegram, polling or webhook (CHIBO_PUBLIC_URL); the sandbox if nothing is set."""
    settings = _settings_or_exit()
    if not wants_production(settings):
        _plain(msg.SANDBOX_INSTEAD)
        _run_sandbox("127.0.0.1", 8000)
        return
    # A server configured for production but missing or misconfiguring something must fail loudly, now.
    refused = refusals(settings)
    if refused:
        _plain(msg.REFUSED)
        port = public_port(settings.public_url)
        for refusal in refused:
            text = msg.REFUSALS[refusal].format(
                url=settings.public_url, port=port, timezone=settings.timezone
            )
            _plain("\n" + text)
        raise typer.Exit(2)
    logs.configure(settings.log_format)
    asyncio.run(_serve(settings))


def _settings_or_exit() -> Settings:
    """The settings, or exit code 2 naming each environment variable whose value could not be read (not the value:
    it may be a secret)."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [f"CHIBO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        _plain(msg.SETTINGS_INVALID.format(details="\n".join(lines)))
        raise typer.Exit(2) from None


def _mode(settings: Settings) -> str:
    """Which platforms the bot serves and how, e.g. "Zalo: webhook tại https://…"."""
    names = [
        name
        for name, token in (("Zalo", settings.zalo_token), ("Telegram", settings.telegram_token))
        if token
    ]
    if settings.public_url:
        return ", ".join(msg.MODE_WEBHOOK.format(channel=n, url=settings.public_url) for n in names)
    return ", ".join(msg.MODE_POLLING.format(channel=n) for n in names)


async def _serve(settings: Settings) -> None:
    from bot.runtime import Runtime, settle_memory

    runtime = Runtime.build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
    except (
        BaseException
    ):  # e.g. no network: release what started (connections, the web port) before saying so
        with contextlib.suppress(Exception):
            await runtime.stop()
        raise
    settle_memory()
    console.print(msg.RUNNING.format(mode=_mode(settings)), markup=False)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        console.print(msg.STOPPED, markup=False)


# -- db --------------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""

    async def work(_session: AsyncSession, _settings: Settings, _clock: Clock) -> None:
        return None

    _with_db(work)
    console.print(msg.DB_UPGRADED, markup=False)


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="The backup file to write")],
) -> None:
    """Copy the SQLite database to OUT, consistently, while the bot may run (PostgreSQL: pg_dump)."""
    database = _sqlite_file_or_exit()
    backup.backup(database, out)
    _plain(msg.BACKUP_DONE.format(out=out))


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
        _plain(msg.RESTORE_REFUSED[exc.reason].format(detail=exc.detail))
        raise typer.Exit(2) from None
    _plain(msg.RESTORE_DONE.format(source=source, revision=revision))


def _sqlite_file_or_exit() -> Path:
    database = sqlite_path(_settings_or_exit().database_url)
    if database is None:
        _plain(msg.BACKUP_POSTGRES)
        raise typer.Exit(2)
    if not database.exists():
        _plain(msg.BACKUP_NO_DATABASE.format(path=database))
        raise typer.Exit(2)
    return database


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

    result = _with_db(work)
    console.print(
        roster_msg.DONE.format(created=result.created, updated=result.updated, unchanged=result.unchanged),
        markup=False,
    )
    if result.not_in_file:
        codes = ", ".join(result.not_in_file[:20]) + ("…" if len(result.not_in_file) > 20 else "")
        console.print(roster_msg.NOT_IN_FILE.format(count=len(result.not_in_file), codes=codes), markup=False)


@units_app.command("list")
def units_list() -> None:
    """The units tree: code, name, cells and their secretaries, retired units marked."""
    from bot.services import units

    async def work(session: AsyncSession, _settings: Settings, _clock: Clock) -> list[units.TreeLine]:
        return await units.tree(session)

    lines = _with_db(work)
    if not lines:
        console.print(roster_msg.TREE_EMPTY, markup=False)
        return
    for line in lines:
        notes = [roster_msg.TREE_CELL] if line.is_cell else []
        if line.is_cell:
            notes.append(line.secretary or roster_msg.TREE_NO_SECRETARY)
        if not line.active:
            notes.append(roster_msg.TREE_INACTIVE)
        suffix = f" ({', '.join(notes)})" if notes else ""
        console.print(f"{'  ' * line.depth}{line.code}  {line.name}{suffix}", markup=False, highlight=False)


@units_app.command("remove")
def units_remove(code: Annotated[str, typer.Argument(help="The unit's code")]) -> None:
    """Remove a unit: deleted if it never took part, retired (kept for past figures) if it has history, refused
    while units are under it."""
    from bot.services import units

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> units.Removed:
        return await units.remove(session, clock, code, actor="cli")

    removed = _with_db(work)
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

    scope_name = _with_db(work)
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

    text = json.dumps(_with_db(work), ensure_ascii=False, indent=2)
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

    erased = _with_db(work)
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


# -- invite ----------------------------------------------------------------------------------------------------


@app.command()
def invite(
    unit: Annotated[str | None, typer.Option(help="Only this unit")] = None,
    subtree: Annotated[str | None, typer.Option(help="Every unit under this one (included)")] = None,
    pending: Annotated[bool, typer.Option(help="Only people who have not joined yet")] = False,
    role: Annotated[str, typer.Option(help="secretary, board or admin")] = "secretary",
    phone: Annotated[str | None, typer.Option(help="Only the person with this phone")] = None,
    days: Annotated[int | None, typer.Option(help="Days until the invites expire")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or xlsx")] = "table",
    out: Annotated[Path | None, typer.Option(help="File to write (csv/xlsx)")] = None,
    qr: Annotated[Path | None, typer.Option(help="Folder to write one QR-code PNG per invite")] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="Show who holds a valid unused invite; issue nothing")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Also re-issue for people holding a valid invite, revoking it")
    ] = False,
) -> None:
    """Issue invites to people without a valid one (--replace: to them too, revoking theirs); --list shows them."""
    if fmt not in ("table", "csv", "xlsx"):
        console.print(msg.BAD_FORMAT, markup=False)
        raise typer.Exit(2)
    if role not in ("secretary", "board", "admin"):
        console.print(msg.BAD_ROLE, markup=False)
        raise typer.Exit(2)
    wanted_phone = normalize_phone(phone) if phone else None

    async def selected(session: AsyncSession, clock: Clock) -> tuple[list[Any], dict[int, Any]]:
        """The people the options select, and the valid unused invite each already holds."""
        for code in filter(None, (unit, subtree)):
            if await session.scalar(select(Unit.id).where(Unit.code == code)) is None:
                raise CliError(msg.UNIT_NOT_FOUND.format(code=code))
        people = await invite_service.invitees(
            session, role_kind=role, unit_code=unit, subtree_code=subtree, pending_only=pending
        )
        if phone:
            people = [(p, u) for p, u in people if p.phone == wanted_phone]
        return people, await invite_service.open_invites(session, clock, people, role)

    if list_only:

        async def listing(session: AsyncSession, settings: Settings, clock: Clock) -> list[list[str]]:
            return _held_rows(*await selected(session, clock), settings)

        _print_held(_with_db(listing))
        return

    async def work(
        session: AsyncSession, settings: Settings, clock: Clock
    ) -> tuple[list[Any], int, Callable[[str], str | None], list[Any]]:
        people, held = await selected(session, clock)
        # Printed codes stay valid: someone holding one is skipped unless --replace asks to revoke it.
        kept = [] if replace else [p for p, _ in people if p.id in held]
        people = [(p, u) for p, u in people if replace or p.id not in held]
        valid_days = days or settings.invite_days
        issued = [await invite_service.issue(session, clock, p, role, u, valid_days) for p, u in people]
        return issued, valid_days, await _invite_linker(settings), kept

    issued, valid_days, linker, kept = _with_db(work)
    if kept:
        names = ", ".join(p.full_name for p in kept[:10]) + ("…" if len(kept) > 10 else "")
        console.print(msg.INVITES_KEPT.format(count=len(kept), names=names), markup=False)
    if not issued:
        console.print(msg.NO_INVITEES, markup=False)
        return
    settings = Settings()
    zalo = _zalo_how(settings)
    rows = [[*_invite_row(i, linker(i.code), settings), zalo.format(code=i.display_code)] for i in issued]
    if fmt == "table":
        _print_table(rows, zalo)
    else:
        target = out or Path(f"invites.{fmt}")
        (_write_csv if fmt == "csv" else _write_xlsx)(target, rows)
        console.print(msg.INVITES_WRITTEN.format(path=target), markup=False)
    if qr is not None:
        _write_qr(qr, issued, rows)
        bot_qr = _write_zalo_qr(qr, settings)
        if bot_qr is not None:
            console.print(msg.ZALO_QR_WRITTEN.format(path=bot_qr), markup=False)
        console.print(msg.QR_WRITTEN.format(count=len(rows), path=qr), markup=False)
    console.print(msg.INVITES_ISSUED.format(count=len(issued), days=valid_days), markup=False)
    if not any(row[5] for row in rows) and (
        settings.telegram_token or not settings.zalo_token
    ):  # Zalo needs none
        console.print(msg.NO_LINK, markup=False)


async def _built_channels(session: AsyncSession, settings: Settings, clock: Clock) -> dict[str, Channel]:
    """The channels the settings configure, built to read their rules (windows, message counts); never opened."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.runtime import build_channels
    from bot.services.files import FileStore

    sessions = async_sessionmaker(session.bind, expire_on_commit=False)
    return build_channels(settings, FileStore(settings.files_dir, 0), sessions=sessions, clock=clock)


def _held_rows(people: list[tuple[Any, Any]], held: dict[int, Any], settings: Settings) -> list[list[str]]:
    return [
        [
            person.full_name,
            person.phone or "",
            unit.name if unit else "",
            held[person.id].expires_at.astimezone(settings.tz).strftime("%d/%m/%Y"),
        ]
        for person, unit in people
        if person.id in held
    ]


def _print_held(rows: list[list[str]]) -> None:
    if not rows:
        console.print(msg.NO_VALID_INVITES, markup=False)
        return
    table = Table(*msg.HELD_HEADERS)
    for row in rows:
        table.add_row(*row)
    Console(width=max(160, console.width)).print(table)
    console.print(msg.HELD_NOTE.format(count=len(rows)), markup=False)


async def _invite_linker(settings: Settings) -> Callable[[str], str | None]:
    """The deep link of an invite code: from the bot's name when configured, else as the Telegram channel makes it
    once it has asked Telegram for the name. No link (None) without Telegram or when Telegram cannot be reached."""
    from bot.runtime import build_channels
    from bot.services.files import FileStore

    username = settings.telegram_bot_username
    if username:
        return lambda code: invite_service.telegram_link(username, code)
    channel = build_channels(settings, FileStore(settings.files_dir, 0)).get(ChannelName.TELEGRAM)
    if channel is None:
        return lambda _code: None
    try:
        with contextlib.suppress(Exception):  # the invites are still worth having without their links
            await channel.open()
    finally:
        await channel.close()
    return channel.invite_link


def _invite_row(issued: invite_service.Issued, link: str | None, settings: Settings) -> list[str]:
    unit = issued.unit.name if issued.unit else ""
    return [
        issued.person.full_name,
        issued.person.phone or "",
        unit,
        ROLE_NAMES[issued.role_kind],
        issued.display_code,
        link or "",
        issued.expires_at.astimezone(settings.tz).strftime("%d/%m/%Y"),
    ]


def _print_table(rows: list[list[str]], zalo_how: str) -> None:
    """The invites without the long Zalo column, whose instructions are printed once underneath."""
    table = Table(*msg.INVITE_HEADERS[:-1])
    for row in rows:
        table.add_row(*row[:-1])
    wide = Console(width=max(200, console.width))
    wide.print(table)
    wide.print(msg.INVITE_HEADERS[-1] + ": " + zalo_how.format(code="…"), markup=False)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # BOM so Excel opens Vietnamese correctly
        writer = csv.writer(f)
        writer.writerow(msg.INVITE_HEADERS)
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.append(msg.INVITE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for i, header in enumerate(msg.INVITE_HEADERS):
        width = max(len(header), *(len(r[i]) for r in rows)) + 2
        sheet.column_dimensions[chr(ord("A") + i)].width = min(width, 60)
    sheet.freeze_panes = "A2"
    book.save(path)


def _write_qr(folder: Path, issued: list[invite_service.Issued], rows: list[list[str]]) -> None:
    from bot.services.invite_cards import card_png

    folder.mkdir(parents=True, exist_ok=True)
    for item, row in zip(issued, rows, strict=True):
        content = row[5] or item.display_code
        unit = item.unit.name if item.unit else None
        png = card_png(content, item.person.full_name, unit, item.display_code)
        (folder / f"{item.code}.png").write_bytes(png)


def _zalo_how(settings: Settings) -> str:
    """The Zalo instructions of an invite, with `{code}` left to fill: Zalo bots have no deep links."""
    if settings.zalo_bot_url:
        where = msg.ZALO_OPEN_LINK.format(url=settings.zalo_bot_url)
    elif settings.zalo_bot_name:
        where = msg.ZALO_OPEN_NAME.format(name=settings.zalo_bot_name)
    else:
        where = msg.ZALO_OPEN_QR
    return msg.ZALO_HOW.replace("{open}", where)


def _write_zalo_qr(folder: Path, settings: Settings) -> Path | None:
    """One QR code that opens the Zalo bot, to print beside the invite codes."""
    if not settings.zalo_bot_url:
        return None
    import qrcode

    path = folder / "zalo-bot.png"
    qrcode.make(settings.zalo_bot_url).save(path)
    return path


# -- directive -------------------------------------------------------------------------------------------------


async def _read_directive(path: Path, today: date | None = None) -> ReadResult:
    """The directive read in a bounded worker (`bot.services.reading`); a CliError when it cannot be sent."""
    from bot.services.reading import Refusal, read_document
    from bot.services.secrecy import secrecy_grade

    read = await read_document(await asyncio.to_thread(path.read_bytes), path.name, today=today)
    if isinstance(read, Refusal):
        raise CliError(read.message)
    grade = secrecy_grade(read.text)
    if grade is not None:
        raise CliError(msg.DIRECTIVE_CLASSIFIED.format(name=path.name, grade=grade))
    return read


@directive_app.command("parse")
def directive_parse(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="DOCX, text-based PDF or .txt")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metadata as JSON (docs/directive-json.md)")
    ] = False,
) -> None:
    """Print what Chibo reads from a directive: number, dates, subject, deadline, cited documents..."""
    import json

    from bot.services import directives
    from messages.directives import preview
    from storage.models import Directive

    try:
        meta = asyncio.run(_read_directive(path)).meta
    except CliError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(meta.to_json(), ensure_ascii=False, indent=2))
        return
    draft = Directive()
    directives.apply_meta(draft, meta)
    console.print(preview(directives.preview_fields(draft), [path.name], None), markup=False)


@directive_app.command("send")
def directive_send(
    paths: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="The directive, then its materials")
    ],
    deadline: Annotated[str, typer.Option(help="Report deadline, dd/mm/yyyy")],
    to: Annotated[list[str], typer.Option(help="Unit code; every cell under it receives it (repeatable)")],
    form: Annotated[str | None, typer.Option(help="Report form key")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject, when the document has none")] = None,
) -> None:
    """Queue a directive for every cell under the given units; the running bot sends it."""
    import mimetypes
    from datetime import datetime

    from bot.services import directives, reach
    from bot.services.files import FileStore, FileTooLarge
    from bot.services.forms_store import DEFAULT_FORM, get_form, list_forms

    try:
        due = datetime.strptime(deadline.strip(), "%d/%m/%Y").date()
    except ValueError:
        console.print(msg.DIRECTIVE_BAD_DEADLINE.format(value=deadline), markup=False)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> str:
        # Read before any write: a refused file leaves nothing behind.
        read = await _read_directive(paths[0], clock.today(settings.tz))
        chosen = await get_form(session, form or DEFAULT_FORM)
        if chosen is None:
            keys = ", ".join(f.key for f in await list_forms(session))
            raise CliError(msg.DIRECTIVE_UNKNOWN_FORM.format(key=form, keys=keys))
        units = list((await session.scalars(select(Unit).where(Unit.code.in_(to)))).all())
        unknown = sorted(set(to) - {u.code for u in units})
        if unknown:
            raise CliError(msg.DIRECTIVE_UNKNOWN_UNITS.format(codes=", ".join(unknown)))
        cells = await directives.cells_under(session, units)
        if not cells:
            raise CliError(msg.DIRECTIVE_NO_CELLS)
        store = FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024)
        draft = await directives.new_draft(session, clock, read.meta, form_key=chosen.key)
        directives.confirm_deadline(draft, due)
        if subject:
            draft.subject = subject
        for path in paths:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            try:
                stored = await store.save(session, clock, path.read_bytes(), path.name, mime)
            except FileTooLarge as exc:
                size = round(exc.size / 1048576, 1)
                raise CliError(
                    msg.FILE_TOO_LARGE.format(name=path.name, size=size, limit=settings.max_file_mb)
                ) from exc
            await directives.attach(session, draft.id, stored)
        channels = await _built_channels(session, settings, clock)
        forecast = await reach.forecast_broadcast(session, clock, channels, draft, cells, chosen)
        plan = await directives.queue_broadcast(session, clock, draft, cells, chosen, actor="cli")
        queued = msg.DIRECTIVE_QUEUED.format(
            number=draft.number or "",
            id=draft.id,
            cells=plan.cells,
            reachable=plan.reachable,
            unregistered=plan.unregistered,
        )
        return "\n".join(line for line in (queued, reach.describe(forecast)) if line)

    console.print(_with_db(work), markup=False)


# -- the board's view: status, Excel export, Word draft --------------------------------------------------------


async def _named_directive(session: AsyncSession, clock: Clock, tz: Any, number: str) -> tuple[Any, Any]:
    """The whole-tree scope and the one sent directive `number` names, or a refusal listing the candidates."""
    from bot.services import status

    scope = await status.whole_scope(session)
    lookup = await status.find_directive(session, scope, number, clock.today(tz))
    if lookup.found is not None:
        return scope, lookup.found
    if lookup.matches:
        numbers = ", ".join(d.number or "" for d in lookup.matches)
        raise CliError(msg.BOARD_AMBIGUOUS.format(query=number, numbers=numbers))
    recent = ", ".join(d.number or "" for d in lookup.recent[:10]) or msg.BOARD_NONE
    raise CliError(msg.BOARD_NOT_FOUND.format(query=number, numbers=recent))


@app.command("status")
def board_status(
    number: Annotated[
        str | None, typer.Argument(help="Directive number, or any unambiguous part of it")
    ] = None,
) -> None:
    """Open directives and their progress; with a number, that directive's status and every missing unit."""
    from bot.services import reminders, status

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> str:
        today = clock.today(settings.tz)
        if number is None:
            scope = await status.whole_scope(session)
            directives = await status.open_directives(session, scope, today)
            counts = await status.counts_by_directive(session, scope, [d.id for d in directives])
            return status.render_list(directives, counts, shown=len(directives) or 1)
        scope, directive = await _named_directive(session, clock, settings.tz, number)
        await audit_view(session, clock, VIEW_STATUS, directive_id=directive.id, units=None, actor="cli")
        view = await status.status_view(session, scope, directive, per_page=1_000_000)
        after = reminders.policy_of(directive).escalate_after_days
        return status.render_status(view, scope, today, escalate_after=after, subtrees_shown=1_000)

    console.print(_with_db(work), markup=False, highlight=False)


def _write_board_file(number: str, out: Path | None, kind: str) -> None:
    from bot.services import board_files, status
    from messages import board as board_msg

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> board_files.BoardFile:
        scope, directive = await _named_directive(session, clock, settings.tz, number)
        action = EXPORT_XLSX if kind == "xlsx" else EXPORT_DOCX
        await audit_view(session, clock, action, directive_id=directive.id, units=None, actor="cli")
        today = clock.today(settings.tz)
        data = await status.report_data(session, scope, directive, today, settings.timezone)
        return board_files.render(kind, data, directive, today)

    built = _with_db(work)
    target = out or Path(built.name)
    target.write_bytes(built.content)
    console.print(board_msg.CLI_WRITTEN.format(path=target), markup=False, highlight=False)


@app.command("export")
def board_export(
    number: Annotated[str, typer.Argument(help="Directive number, or any unambiguous part of it")],
    out: Annotated[Path | None, typer.Option(help="The .xlsx file to write")] = None,
) -> None:
    """Write the Excel export of a directive: one row per target unit, and the aggregates."""
    _write_board_file(number, out, "xlsx")


@app.command("report")
def board_report(
    number: Annotated[str, typer.Argument(help="Directive number, or any unambiguous part of it")],
    out: Annotated[Path | None, typer.Option(help="The .docx file to write")] = None,
) -> None:
    """Write the Word draft of the aggregated report on a directive, in the Party's document format."""
    _write_board_file(number, out, "docx")


# -- forms -----------------------------------------------------------------------------------------------------

forms_app = typer.Typer(help="Report forms: add the board's own form from a YAML file.")
app.add_typer(forms_app, name="forms")


@forms_app.command("add")
def forms_add(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The form as a YAML file")],
) -> None:
    """Add a custom report form, or replace one added before; built-in forms cannot be replaced."""
    from bot.services.forms import BUILTIN_FORMS, FormErrors, load_form_yaml
    from bot.services.forms_store import save_form
    from storage.models import FormDef

    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Windows Notepad is not part of the YAML
    except UnicodeDecodeError:
        console.print(msg.FORM_NOT_UTF8.format(name=path.name), markup=False)
        raise typer.Exit(1) from None
    form = load_form_yaml(text)
    if isinstance(form, FormErrors):
        console.print(form.render(), markup=False)
        raise typer.Exit(1)
    if form.key in BUILTIN_FORMS:
        console.print(msg.FORM_BUILTIN_KEY.format(key=form.key), markup=False)
        raise typer.Exit(1)

    async def work(session: AsyncSession, _settings: Settings, clock: Clock) -> bool:
        existed = await session.get(FormDef, form.key) is not None
        if not await save_form(session, clock, form):
            raise CliError(msg.FORM_BUILTIN_KEY.format(key=form.key))
        await audit(session, clock, "form.add", actor="cli", details={"key": form.key, "replaced": existed})
        return existed

    replaced = _with_db(work)
    done = msg.FORM_REPLACED if replaced else msg.FORM_ADDED
    console.print(
        done.format(title=form.title, key=form.key, count=len(form.fields), template=form.quick_template()),
        markup=False,
    )


# -- sandbox ---------------------------------------------------------------------------------------------------


@app.command("sandbox")
def sandbox(
    port: Annotated[int, typer.Option(help="Port of the sandbox's web page")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 to open it to the network)")
    ] = "127.0.0.1",
) -> None:
    """Try Chibo without a token: the bot against fake Telegram and Zalo, a demo province, a web chat page."""
    _run_sandbox(host, port)


def _plain(text: str) -> None:
    """Print as is: no markup, no colouring, no wrapping (the URL must stay whole)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _run_sandbox(host: str, port: int) -> None:
    from bot.sandbox.app import DEFAULT_DIR, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _plain(msg.SANDBOX_STARTING)

    def ready(url: str) -> None:
        _plain(msg.SANDBOX_READY.format(url=url, data=DEFAULT_DIR))

    asyncio.run(serve(host, port, ready))
    _plain(msg.SANDBOX_STOPPED)


if __name__ == "__main__":
    main()
