"""Directives and the board's files from the shell: `chibo directive parse|send`, `chibo status`, `chibo export`,
`chibo report`, `chibo forms add`."""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import built_channels
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.services.audit import EXPORT_DOCX, EXPORT_XLSX, VIEW_STATUS, audit, audit_view
from bot.services.directive_numbers import parse_code
from bot.services.levels import Unstaffed
from bot.services.repeats import Repeat
from messages import cli as msg
from messages.formats import day, directive_code
from storage.models import Directive, Unit

if TYPE_CHECKING:
    from bot.services.reading import ReadResult

from bot.cli.common import CliError, app, console, directive_app, forms_app, with_db

# -- directive -------------------------------------------------------------------------------------------------


async def _read_directive(path: Path, tesseract: str, today: date | None = None) -> ReadResult:
    """The directive read in a bounded worker (`bot.services.reading`), a scan with the `tesseract` command; a
    CliError when it cannot be sent."""
    from bot.services.reading import Refusal, read_document
    from bot.services.secrecy import secrecy_grade

    data = await asyncio.to_thread(path.read_bytes)
    read = await read_document(data, path.name, today=today, tesseract=tesseract, on_progress=_scan_progress)
    if isinstance(read, Refusal):
        raise CliError(read.message)
    grade = secrecy_grade(read.text)
    if grade is not None:
        raise CliError(msg.DIRECTIVE_CLASSIFIED.format(name=path.name, grade=grade))
    return read


async def _scan_progress(done: int, total: int) -> None:
    # On stderr: `parse --json` keeps its output for the JSON alone.
    line = msg.DIRECTIVE_SCAN_START if done == 0 else msg.DIRECTIVE_SCAN_PAGE
    typer.echo(line.format(done=done, total=total), err=True)


@directive_app.command("parse")
def directive_parse(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="DOCX, PDF (text or scan), .txt, or a photo (JPEG, PNG)"
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metadata as JSON (docs/directive-json.md)")
    ] = False,
) -> None:
    """Print what Chibo reads from a directive: number, dates, subject, deadline, cited documents..."""
    import dataclasses
    import json

    from bot.cli.common import settings_or_exit
    from bot.services import directives
    from messages.directives import FIELD_LABELS, preview
    from messages.scans import preview_note
    from storage.models import Directive

    try:
        read = asyncio.run(_read_directive(path, settings_or_exit().tesseract_cmd))
    except CliError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(read.meta.to_json(), ensure_ascii=False, indent=2))
        return
    draft = Directive()
    directives.apply_meta(draft, read.meta)
    if read.scan is not None:
        note = preview_note(dataclasses.asdict(read.scan), FIELD_LABELS)
        console.print(f"{note}\n", markup=False)
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
    repeat: Annotated[
        Repeat | None,
        typer.Option(
            help="When a directive with this number, issuer and date was sent: add (send that one to these units), "
            "replace (a correction replacing it) or new (a different directive)"
        ),
    ] = None,
    of: Annotated[
        str | None, typer.Option("--of", help="The internal code (#12) of the directive --repeat is about")
    ] = None,
    unstaffed: Annotated[
        Unstaffed,
        typer.Option(
            help="Units below whose board staff is on the roster but none has joined: direct (their cells get it "
            "now) or hold (kept for their board, handed to the first member who joins)"
        ),
    ] = Unstaffed.DIRECT,
    every: Annotated[
        str | None,
        typer.Option(
            help="A recurring report, --deadline being the first period's: 'monthly 25', 'quarterly 31/3', "
            "'yearly 15/6 15/12' (or 'hằng tháng 25' ...), or 'document' for the document's own "
            "(chibo directive read shows it). Default: a one-off report"
        ),
    ] = None,
) -> None:
    """Queue a directive for every cell under the given units, as a board's send does: the cells under a unit
    below whose board has joined go to that board to re-issue or forward; the running bot sends it."""
    import mimetypes
    from datetime import datetime

    from bot.services import cycles, directives, reach, repeats, status
    from bot.services.files import FileStore, FileTooLarge
    from bot.services.forms_store import DEFAULT_FORM, get_form, list_forms

    try:
        due = datetime.strptime(deadline.strip(), "%d/%m/%Y").date()
    except ValueError:
        console.print(msg.DIRECTIVE_BAD_DEADLINE.format(value=deadline), markup=False)
        raise typer.Exit(2) from None

    schedule = cycles.parse(every) if every is not None else None
    if every is not None and schedule is None:
        console.print(msg.DIRECTIVE_BAD_EVERY.format(value=every), markup=False)
        raise typer.Exit(2)

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> str:
        # Read before any write: a refused file leaves nothing behind.
        today = clock.today(settings.tz)
        if directives.deadline_passed(due, today):
            raise CliError(msg.DIRECTIVE_PAST_DEADLINE.format(date=due.strftime("%d/%m/%Y")))
        read = await _read_directive(paths[0], settings.tesseract_cmd, today)
        if not (subject or read.meta.subject):
            hint = read.meta.subject_hint
            lines = [msg.DIRECTIVE_NO_SUBJECT, msg.DIRECTIVE_SUBJECT_HINT.format(hint=hint) if hint else ""]
            raise CliError("\n".join(line for line in lines if line))
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
        if schedule is not None:
            picked = cycles.chosen(draft, schedule)
            if schedule is cycles.AS_WRITTEN and picked is None:
                raise CliError(msg.DIRECTIVE_NO_SCHEDULE)
            cycles.set_schedule(draft, picked)
        if subject:
            draft.subject = subject
        # Before any file is stored: a refused repeat leaves nothing behind.
        existing = _repeated(await status.repeats_of(session, await status.whole_scope(session), draft))
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
        # Before the send queues anything; of the cells it reaches directly (a board below reaches the others).
        seen = await reach.outlook(session, clock, channels, draft, cells, chosen, unstaffed)
        choice = (repeat, existing) if existing is not None and repeat is not None else None
        down, carrier = await repeats.send_as(
            session, clock, draft, cells, chosen, choice, actor="cli", unstaffed=unstaffed
        )
        plan = down.plan
        if carrier is not draft:  # cells added to the directive already sent, with its own form
            used = await get_form(session, carrier.form_key) or chosen
            done = msg.DIRECTIVE_ADDED.format(
                number=carrier.number or "",
                code=directive_code(carrier.id),
                cells=plan.cells,
                reachable=plan.reachable,
            )
        elif existing is not None and repeat is Repeat.REPLACE:
            used = chosen
            done = msg.DIRECTIVE_REPLACED.format(
                number=draft.number or "",
                code=directive_code(draft.id),
                old=directive_code(existing.id),
                cells=plan.cells,
                reachable=plan.reachable,
            )
        else:
            used = chosen
            done = msg.DIRECTIVE_QUEUED.format(
                number=draft.number or "",
                id=directive_code(draft.id),
                cells=plan.cells,
                reachable=plan.reachable,
                unregistered=plan.unregistered,
            )
        form_used = msg.DIRECTIVE_FORM_USED.format(title=used.title, key=used.key)
        below = [
            template.format(count=len(units), names=", ".join(u.name for u in units))
            for template, units in (
                (msg.DIRECTIVE_HANDED, down.handed),
                (msg.DIRECTIVE_HELD, down.held),
                (msg.DIRECTIVE_BYPASSED, down.bypassed),
            )
            if units
        ]
        how = reach.describe_route(down.route) if down.route is not None else ""
        cost = reach.describe(seen.forecast) if seen.forecast is not None else ""
        return "\n".join(line for line in (done, how, *below, form_used, cost) if line)

    def _repeated(repeats: list[Directive]) -> Directive | None:
        """The sent directive --repeat acts on; refuses to go on when the choice is missing or names none."""
        if not repeats:
            if repeat in (Repeat.ADD, Repeat.REPLACE):
                raise CliError(
                    msg.DIRECTIVE_REPEAT_NONE.format(choice=repeat.value, of=f" ({of})" if of else "")
                )
            return None
        wanted = parse_code(of) if of else None
        named = [d for d in repeats if d.id == wanted] if of else repeats
        if repeat is Repeat.NEW:
            return None
        if repeat is None or len(named) != 1:
            first = repeats[0]
            codes = ", ".join(_candidate(d) for d in repeats)
            if repeat is not None and not named:
                raise CliError(msg.DIRECTIVE_REPEAT_NONE.format(choice=repeat.value, of=f" ({of})"))
            raise CliError(
                msg.DIRECTIVE_REPEAT.format(
                    number=first.number or "",
                    date=day(first.issued_on),
                    codes=codes,
                )
            )
        return named[0]

    console.print(with_db(work), markup=False)


# -- the board's view: status, Excel export, Word draft --------------------------------------------------------


def _candidate(directive: Directive) -> str:
    """ "747-CV/ĐUK (03/04/2024) #12": a directive told apart from any other with its number."""
    return msg.BOARD_CANDIDATE.format(
        number=directive.number or "", date=day(directive.issued_on, "—"), code=directive_code(directive.id)
    )


async def _named_directive(session: AsyncSession, clock: Clock, tz: Any, number: str) -> tuple[Any, Any]:
    """The whole-tree scope and the one sent directive `number` names, or a refusal listing the candidates."""
    from bot.services import status

    scope = await status.whole_scope(session)
    lookup = await status.find_directive(session, scope, number, clock.today(tz))
    if lookup.found is not None:
        return scope, lookup.found
    if lookup.matches:
        numbers = ", ".join(_candidate(d) for d in lookup.matches)
        raise CliError(msg.BOARD_AMBIGUOUS.format(query=number, numbers=numbers))
    recent = ", ".join(_candidate(d) for d in lookup.recent[:10]) or msg.BOARD_NONE
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
            return status.render_list(
                directives,
                counts,
                shown=len(directives) or 1,
                hint=msg.STATUS_LIST_HINT,
                more=msg.STATUS_LIST_MORE,
            )
        scope, directive = await _named_directive(session, clock, settings.tz, number)
        await audit_view(session, clock, VIEW_STATUS, directive_id=directive.id, units=None, actor="cli")
        view = await status.status_view(session, scope, directive, per_page=1_000_000)
        after = reminders.policy_of(directive).escalate_after_days
        return status.render_status(view, scope, today, escalate_after=after, subtrees_shown=1_000)

    console.print(with_db(work), markup=False, highlight=False)


def _write_board_file(
    number: str, out: Path | None, kind: str, cycle: str | None = None, source: str | None = None
) -> None:
    from bot.services import board_files, cycles, evidence, report_draft, rollup
    from messages import board as board_msg

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> board_files.BoardFile:
        scope, directive = await _named_directive(session, clock, settings.tz, number)
        period = await cycles.find_by_label(session, directive, cycle) if cycle else None
        if cycle and period is None:
            raise CliError(msg.DIRECTIVE_UNKNOWN_CYCLE.format(value=cycle, open=directive.cycle))
        action = EXPORT_XLSX if kind == "xlsx" else EXPORT_DOCX
        await audit_view(session, clock, action, directive_id=directive.id, units=None, actor="cli")
        today = clock.today(settings.tz)
        if kind == board_files.DOCX:  # with the register's number (recorded, or the next one proposed)
            data, _ = await report_draft.draft(session, scope, directive, today, settings, period, source)
        else:
            data = await rollup.report_data(
                session, scope, directive, today, settings.timezone, source=source, period=period
            )
        link = evidence.link_maker(settings, clock.now(), directive.id)
        return board_files.render(kind, data, directive, today, link)

    built = with_db(work)
    target = out or Path(built.name)
    target.write_bytes(built.content)
    console.print(board_msg.CLI_WRITTEN.format(path=target), markup=False, highlight=False)


CYCLE_HELP = "A recurring directive's period: its label ('11/2026', 'kỳ 11/2026') or number"
FROM_HELP = (
    "A directive handed down to units below: aggregate from their reports upward ('below') or from every cell's "
    "report ('cells'); default: cells until every unit below has reported up"
)


class From(StrEnum):
    cells = "cells"
    below = "below"


@app.command("export")
def board_export(
    number: Annotated[str, typer.Argument(help="Directive number, or any unambiguous part of it")],
    out: Annotated[Path | None, typer.Option(help="The .xlsx file to write")] = None,
    cycle: Annotated[str | None, typer.Option(help=CYCLE_HELP + " (default: the open one)")] = None,
    source: Annotated[From | None, typer.Option("--from", help=FROM_HELP)] = None,
) -> None:
    """Write the Excel export of a directive: one row per target unit, and the aggregates."""
    _write_board_file(number, out, "xlsx", cycle, source.value if source else None)


@app.command("report")
def board_report(
    number: Annotated[str, typer.Argument(help="Directive number, or any unambiguous part of it")],
    out: Annotated[Path | None, typer.Option(help="The .docx file to write")] = None,
    cycle: Annotated[str | None, typer.Option(help=CYCLE_HELP + " (default: the last closed one)")] = None,
    source: Annotated[From | None, typer.Option("--from", help=FROM_HELP)] = None,
) -> None:
    """Write the Word draft of the aggregated report on a directive, in the Party's document format."""
    _write_board_file(number, out, "docx", cycle, source.value if source else None)


@app.command("register")
def board_register(
    term: Annotated[str | None, typer.Option(help="Only this committee term, e.g. 2025-2030")] = None,
) -> None:
    """List the document register: the numbers the board took for its reports, by symbol, type and term."""
    from rich.table import Table

    from bot.services import doc_register
    from messages import board as board_msg
    from storage.models import Directive

    async def work(session: AsyncSession, settings: Settings, clock: Clock) -> list[tuple[str, ...]]:
        rows = await doc_register.entries(session, term)
        ids = {row.directive_id for row in rows if row.directive_id is not None}
        found = await session.execute(select(Directive.id, Directive.number).where(Directive.id.in_(ids)))
        numbers: dict[int | None, str | None] = {directive_id: number for directive_id, number in found.all()}
        return [
            (
                doc_register.symbol(row.number, row.doc_type, row.issuer_code),
                row.term,
                numbers.get(row.directive_id) or "",
                row.recorded_at.astimezone(settings.tz).strftime("%d/%m/%Y %H:%M"),
                row.recorded_by,
            )
            for row in rows
        ]

    rows = with_db(work)
    if not rows:
        console.print(board_msg.CLI_REGISTER_EMPTY, markup=False)
        return
    table = Table(*board_msg.CLI_REGISTER_HEADERS)
    for row in rows:
        table.add_row(*row)
    console.print(table)


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
