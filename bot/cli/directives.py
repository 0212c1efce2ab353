"""Directives and the board's files from the shell: `chibo directive parse|send`, `chibo status`, `chibo export`,
`chibo report`, `chibo forms add`."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import built_channels
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services.audit import EXPORT_DOCX, EXPORT_XLSX, VIEW_STATUS, audit, audit_view
from messages import cli as msg
from storage.models import Unit

if TYPE_CHECKING:
    from bot.services.reading import ReadResult

from bot.cli.common import CliError, app, console, directive_app, forms_app, with_db

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
        channels = await built_channels(session, settings, clock)
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

    console.print(with_db(work), markup=False)


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

    console.print(with_db(work), markup=False, highlight=False)


def _write_board_file(number: str, out: Path | None, kind: str) -> None:
    from bot.services import board_files, evidence, status
    from messages import board as board_msg

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> board_files.BoardFile:
        scope, directive = await _named_directive(session, clock, settings.tz, number)
        action = EXPORT_XLSX if kind == "xlsx" else EXPORT_DOCX
        await audit_view(session, clock, action, directive_id=directive.id, units=None, actor="cli")
        today = clock.today(settings.tz)
        data = await status.report_data(session, scope, directive, today, settings.timezone)
        link = evidence.link_maker(settings, clock.now(), directive.id)
        return board_files.render(kind, data, directive, today, link)

    built = with_db(work)
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

    replaced = with_db(work)
    done = msg.FORM_REPLACED if replaced else msg.FORM_ADDED
    console.print(
        done.format(title=form.title, key=form.key, count=len(form.fields), template=form.quick_template()),
        markup=False,
    )
