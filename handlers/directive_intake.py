"""The board's intake of a new directive: file or pasted text → parsed draft → corrections → deadline → report
form → audience → send (→ what it is, when a directive with its number, issuer and date was sent already). Every
step (`IntakeStep`) is stored in the conversation, so a restart loses nothing; each message's buttons name the draft
and its revision (changed with the draft or its audience), so a press on a message shown before a change is answered
as out of date. On a channel without buttons (the Zalo Bot Platform) the same buttons go out as numbered choices
and a typed number comes back as their press (bot/services/choices.py), so this one flow serves every channel. A
photo sent while a draft read from photos is at its preview is one more page of it: all pages are read again.
docs/flows.md draws the flow."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from datetime import date
from enum import StrEnum

from bot.core.events import Button, ChannelName, DeliveryError, OutFile
from bot.core.limits import LIMITS
from bot.core.textnorm import fold
from bot.services import cycles, directives, levels, reach, repeats, status
from bot.services.directive_parser import DirectiveMeta, parse_directive
from bot.services.field_parsers import Ok, parse_field
from bot.services.files import FileTooLarge
from bot.services.forms import FieldSpec, FieldType
from bot.services.forms_store import DEFAULT_FORM, get_form, list_forms
from bot.services.reading import (
    MAX_SCAN_PAGES,
    ReadResult,
    Refusal,
    read_document,
    read_pasted_text,
    read_photos,
)
from bot.services.secrecy import secrecy_grade
from handlers import buttons as b
from handlers.commands import BOARD, SECRETARY
from handlers.context import Context
from handlers.scan_progress import progress_for
from messages import common, scans
from messages import cycles as cycle_msg
from messages import directives as msg
from messages import levels as level_msg
from messages.formats import directive_code
from messages.render import numbered_choices
from storage.models import Directive, Unit

log = logging.getLogger(__name__)

FLOW = "directive"
MIN_TEXT = 200
MAX_UNIT_BUTTONS = 24
MAX_REPEATS_SHOWN = 3
_ANY_DATE = FieldSpec(key="date", label="date", type=FieldType.DATE, min=-3660, max=3660)
_PERIOD_SPLIT = re.compile(r"\s*(?:-|–|—|đến|den)\s*", re.IGNORECASE)
TEXT_FIELDS = ("parent_body", "issuer", "place", "subject")
LIST_FIELDS = ("cited", "materials")


class IntakeStep(StrEnum):
    """Where the preparation of a directive stands (the value is what the conversation row stores)."""

    REVIEW = "review"  # the parsed draft, with a button per field to correct
    EDIT = "edit"  # waiting for the corrected value of one field (the state's "field")
    FORM = "form"  # choosing the report form
    AUDIENCE = "audience"  # choosing the cells
    CODES = "codes"  # waiting for typed unit codes
    REPEAT = "repeat"  # one with this number, issuer and date was sent: more cells, a correction, or new?
    UNSTAFFED = "unstaffed"  # units below whose board has not joined: their cells directly, or held for it?


def wants_new_directive(ctx: Context) -> bool:
    """A board member sending a document or a photo (a scan of the paper), or pasting a long text, outside any
    flow. A photo from someone who is a secretary too is taken for her report's (handlers/reports.py)."""
    event = ctx.event
    if event.file is not None and event.file.kind == "document":
        return True
    if event.file is not None and event.file.kind == "photo":
        return not ctx.has_role(*SECRETARY)
    return event.text is not None and len(event.text) >= MIN_TEXT and event.command is None


# -- entry -------------------------------------------------------------------------------------------------------


async def on_file(ctx: Context) -> None:
    """A document or photo from a board member: a new draft, or one more attachment to the current draft."""
    event = ctx.event
    assert event.file is not None
    draft = await _current(ctx)
    name = event.file.name or ("anh.jpg" if event.file.kind == "photo" else "tai-lieu")
    limit = ctx.settings.max_file_mb
    if event.file.size and event.file.size > limit * 1024 * 1024:
        ctx.reply(msg.FILE_TOO_LARGE.format(name=name, size=round(event.file.size / 1048576, 1), limit=limit))
        return
    pages = await _scan_photos(ctx, draft) if draft is not None and event.file.kind == "photo" else None
    if pages is not None and len(pages) >= MAX_SCAN_PAGES:
        ctx.reply(msg.PAGE_CAP.format(pages=MAX_SCAN_PAGES))
        return
    channel = ctx.runtime.channels[event.channel]
    try:
        data = await channel.download(event.file)
    except DeliveryError as exc:
        log.warning("could not download %s from %s: %s", event.file.kind, event.channel, exc)
        ctx.reply(msg.FILE_DOWNLOAD_FAILED.format(name=name))
        return
    if draft is not None and pages is not None:
        await _add_page(ctx, draft, pages, data, name)
        return
    read: ReadResult | None = None
    if draft is None and event.file.kind in ("document", "photo"):
        # Read (in a bounded worker) before anything is written, so a refused file leaves nothing behind.
        tesseract, progress = ctx.settings.tesseract_cmd, progress_for(ctx, name)
        reading = read_document(
            data, name, event.file.mime, today=ctx.today, tesseract=tesseract, on_progress=progress
        )
        read = await _read(ctx, await reading)
        if read is None:
            return
    try:
        stored = await ctx.runtime.files.save(
            ctx.session, ctx.clock, data, name, event.file.mime or _mime(name)
        )
    except FileTooLarge as exc:
        ctx.reply(msg.FILE_TOO_LARGE.format(name=name, size=round(exc.size / 1048576, 1), limit=limit))
        return
    if draft is not None:
        await directives.attach(ctx.session, draft.id, stored)
        _touch(draft)
        ctx.reply(msg.FILE_ADDED.format(name=name))
        await show_preview(ctx, draft)
        return
    if read is None:
        ctx.reply(common.for_channel(common.NOT_UNDERSTOOD, commands=ctx.has_commands))
        return
    draft = await _new_draft(ctx, read.meta)
    if read.scan is not None:  # the preview says so, and which fields to check (bot.services.scan_check)
        draft.meta = {**(draft.meta or {}), "scan": dataclasses.asdict(read.scan)}
    await directives.attach(ctx.session, draft.id, stored)
    await show_preview(ctx, draft)


async def on_unsupported_file(ctx: Context) -> None:
    """Something the platform did not pass on: from a board member on the Zalo Bot Platform, most likely the PDF
    or Word file of a directive, so they are told the ways that work there."""
    from_zalo_board = ctx.event.channel == ChannelName.ZALO and ctx.has_role(*BOARD)
    ctx.reply(msg.FILE_NOT_RECEIVED if from_zalo_board else common.UNSUPPORTED_FILE)


async def _scan_photos(ctx: Context, draft: Directive) -> list[OutFile] | None:
    """The photographed pages of a draft read from photos and shown in its preview, to which a photo is one more
    page; None when a photo is an attachment to it (a draft from text or a file, or one past its preview)."""
    conv = await ctx.conversation()
    if conv is None or conv.step != IntakeStep.REVIEW or not (draft.meta or {}).get("scan"):
        return None
    files = await directives.files_of(ctx.session, draft.id)
    return files if files and all(f.as_photo for f in files) else None


async def _add_page(ctx: Context, draft: Directive, pages: list[OutFile], data: bytes, name: str) -> None:
    """One more page of a directive photographed page by page: every page is read again, as one scan, and the
    draft is what that read finds (a page that cannot be read leaves the draft as it was)."""
    store = ctx.runtime.files
    photos = [await asyncio.to_thread(store.read, f.sha256) for f in pages]
    reading = read_photos(
        [*photos, data],
        name,
        today=ctx.today,
        tesseract=ctx.settings.tesseract_cmd,
        on_progress=progress_for(ctx, name),
    )
    read = await _read(ctx, await reading)
    if read is None:
        return
    try:
        stored = await store.save(ctx.session, ctx.clock, data, name, _mime(name))
    except FileTooLarge as exc:
        limit = ctx.settings.max_file_mb
        ctx.reply(msg.FILE_TOO_LARGE.format(name=name, size=round(exc.size / 1048576, 1), limit=limit))
        return
    await directives.attach(ctx.session, draft.id, stored)
    rev = _rev(draft)
    directives.apply_meta(draft, read.meta)
    draft.meta = {
        **(draft.meta or {}),
        "rev": rev,
        "scan": dataclasses.asdict(read.scan) if read.scan else {},
    }
    _touch(draft)
    ctx.reply(msg.PAGE_ADDED.format(pages=len(pages) + 1))
    await show_preview(ctx, draft)


async def on_pasted_text(ctx: Context) -> None:
    text = ctx.event.text or ""
    if len(text.strip()) < MIN_TEXT:
        ctx.reply(msg.TEXT_TOO_SHORT)
        return
    read = await _read(ctx, await read_pasted_text(text, today=ctx.today))
    if read is not None:
        draft = await _new_draft(ctx, read.meta)
        await show_preview(ctx, draft)


async def _read(ctx: Context, read: ReadResult | Refusal) -> ReadResult | None:
    """The directive read, or None after telling the board member why it cannot be taken (unreadable, classified)."""
    if isinstance(read, Refusal):
        ctx.reply(read.message)
        return None
    grade = secrecy_grade(read.text)
    if grade is not None:
        ctx.reply(msg.CLASSIFIED.format(grade=grade))
        return None
    return read


async def _new_draft(ctx: Context, meta: DirectiveMeta) -> Directive:
    assert ctx.person is not None
    scope = await directives.scope_units(ctx.session, ctx.roles)
    draft = await directives.new_draft(
        ctx.session,
        ctx.clock,
        meta,
        form_key=DEFAULT_FORM,
        created_by=ctx.person.id,
        unit_id=scope[0].id if scope else None,
    )
    await ctx.set_state(FLOW, IntakeStep.REVIEW, {"id": draft.id})
    return draft


async def _current(ctx: Context) -> Directive | None:
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW:
        return None
    draft = await ctx.session.get(Directive, conv.data.get("id"))
    return draft if draft is not None and draft.status == "draft" else None


# -- preview and corrections --------------------------------------------------------------------------------------


def _rev(draft: Directive) -> int:
    return int((draft.meta or {}).get("rev", 0))


def _day(draft: Directive) -> int | None:
    return int(draft.deadline.strftime("%Y%m%d")) if draft.deadline else None


def _touch(draft: Directive) -> None:
    """The draft (or what it will be sent to) changed: the buttons of every message shown before are out of date."""
    draft.meta = {**(draft.meta or {}), "rev": _rev(draft) + 1}


def _hint(draft: Directive) -> str | None:
    """The parser's guess at the subject, offered (never used) while the draft has none."""
    hint = (draft.meta or {}).get("subject_hint")
    return hint if isinstance(hint, str) and hint and not draft.subject else None


async def show_preview(ctx: Context, draft: Directive) -> None:
    files = await directives.files_of(ctx.session, draft.id)
    form = await get_form(ctx.session, draft.form_key)
    hint = _hint(draft)
    text = msg.preview(
        directives.preview_fields(draft),
        [f.name for f in files],
        form.title if form else None,
        code=directive_code(draft.id),
        subject_hint=hint,
    )
    scan_note = scans.preview_note((draft.meta or {}).get("scan"), msg.FIELD_LABELS)
    if scan_note:
        text = f"{scan_note}\n\n{text}"
    if upper := levels.upper_deadline(
        draft
    ):  # a re-issue: what it carries out, and the deadline it may not pass
        implements = (draft.meta or {}).get("implements") or ""
        text = f"{implements}\n{level_msg.UPPER_DEADLINE.format(date=msg.day(upper))}\n\n{text}"
    at = (draft.id, _rev(draft))
    edits = [
        Button(msg.BUTTON_EDIT.format(label=label), b.CorrectField(*at, key).encode())
        for key, label in msg.FIELD_LABELS.items()
    ]
    rows = [edits[i : i + 3] for i in range(0, len(edits), 3)]
    if hint:
        rows.append([Button(msg.BUTTON_USE_HINT, b.UseSubjectHint(*at).encode())])
    if draft.deadline and not (draft.meta or {}).get("deadline_confirmed"):
        label = msg.BUTTON_CONFIRM_DEADLINE.format(date=msg.day(draft.deadline))
        rows.append([Button(label, b.ConfirmDeadline(*at, _day(draft) or 0).encode())])
    rows.append([Button(msg.BUTTON_NEXT, b.ToForm(*at).encode())])
    rows.append([Button(msg.BUTTON_CANCEL, b.CancelDraft(*at).encode())])
    ctx.reply(text, rows)


async def on_button(ctx: Context, pressed: b.IntakeButton) -> None:
    """A button of the draft the board member has open."""
    draft = await _current(ctx)
    if draft is None:
        ctx.reply(msg.DRAFT_GONE)
        return
    conv = await ctx.conversation()
    assert conv is not None
    state = dict(conv.data)
    if (
        pressed.draft_id != draft.id
        or (pressed.exact and pressed.rev != _rev(draft))
        or (isinstance(pressed, b.ConfirmDeadline) and pressed.day != _day(draft))
    ):
        ctx.reply(msg.STALE)
        await _show_current(ctx, draft, state, conv.step)
        return
    state.pop("field", None)
    match pressed:
        case b.CorrectField(field=field) if field in msg.FIELD_LABELS:
            await ctx.set_state(FLOW, IntakeStep.EDIT, {**state, "field": field})
            ctx.reply(msg.ASK_EDIT.format(prompt=msg.EDIT_PROMPTS[field]))
        case b.ConfirmDeadline():
            await _confirm_deadline(ctx, draft)
        case b.UseSubjectHint():
            await _use_hint(ctx, draft, state)
        case b.ToForm():
            await _ask_form(ctx, draft, state)
        case b.ChooseForm(key=key):
            await _choose_form(ctx, draft, state, key)
        case b.AllCells():
            state.update(all=True, picked=[])
            _touch(draft)
            await _show_audience(ctx, draft, state)
        case b.ToggleUnit(unit_id=unit_id):
            state.update(all=False, picked=sorted(set(_picked(state)) ^ {unit_id}))
            _touch(draft)
            await _show_audience(ctx, draft, state)
        case b.TypeCodes():
            await ctx.set_state(FLOW, IntakeStep.CODES, state)
            ctx.reply(msg.ASK_CODES)
        case b.SendDirective():
            await _send(ctx, draft, state)
        case b.RepeatAdd(directive_id=existing):
            await _send(ctx, draft, state, repeats.Repeat.ADD, existing)
        case b.RepeatReplace(directive_id=existing):
            await _send(ctx, draft, state, repeats.Repeat.REPLACE, existing)
        case b.RepeatNew():
            await _send(ctx, draft, state, repeats.Repeat.NEW)
        case b.SendUnstaffed(how=how) if levels.choice_of(how) is not None:
            # Asked only on the way to a new directive: the repeat choice, if any, was «new».
            await _send(ctx, draft, state, repeats.Repeat.NEW, unstaffed=levels.choice_of(how))
        case b.BackToPreview():
            await _back_to_preview(ctx, draft, state)
        case b.CancelDraft():
            await _cancel(ctx, draft)
        case _:
            ctx.reply(common.for_channel(common.BUTTON_UNKNOWN, commands=ctx.has_commands))


async def on_message(ctx: Context) -> None:
    """A file or text from a board member whose conversation is in this flow."""
    if ctx.event.file is not None:
        await on_file(ctx)
    else:
        await on_text(ctx)


async def on_text(ctx: Context) -> None:
    """Text while a draft is open: the value of a field being corrected, unit codes, or a nudge to the buttons."""
    conv = await ctx.conversation()
    draft = await _current(ctx)
    if conv is None or draft is None:
        await ctx.clear_state()
        ctx.reply(msg.DRAFT_GONE)
        return
    step = IntakeStep(conv.step) if conv.step in _STEPS else IntakeStep.REVIEW
    text = (ctx.event.text or "").strip()
    if step is not IntakeStep.EDIT and " ".join(fold(text).strip(" .!").split()) in common.WORDS_CANCEL:
        await _cancel(ctx, draft)  # «hủy» typed, where there is no button to press (Zalo)
        return
    await ON_TEXT[step](ctx, draft, dict(conv.data), text)


async def _cancel(ctx: Context, draft: Directive) -> None:
    directives.cancel(draft)
    await ctx.clear_state()
    ctx.reply(msg.CANCELLED)


async def _show_current(ctx: Context, draft: Directive, state: dict[str, object], step: str) -> None:
    """The message the draft's current step shows, with buttons that act on the draft as it is now."""
    if step == IntakeStep.FORM:
        await _ask_form(ctx, draft, state)
    elif step in (IntakeStep.AUDIENCE, IntakeStep.CODES, IntakeStep.REPEAT, IntakeStep.UNSTAFFED):
        await _show_audience(ctx, draft, state)
    else:
        await show_preview(ctx, draft)


async def _back_to_preview(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    await ctx.set_state(FLOW, IntakeStep.REVIEW, state)
    await show_preview(ctx, draft)


async def _take_edit(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    field = state.pop("field", None)
    if not isinstance(field, str) or field not in msg.FIELD_LABELS or fold(text) in common.WORDS_KEEP:
        await _back_to_preview(ctx, draft, state)
        return
    if await _apply_edit(ctx, draft, field, text):
        _touch(draft)
        await ctx.set_state(FLOW, IntakeStep.REVIEW, state)
        ctx.reply(msg.EDIT_SAVED.format(label=msg.FIELD_LABELS[field]))
        await show_preview(ctx, draft)


async def _nudge_preview(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    await show_preview(ctx, draft)


async def _nudge_audience(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    await _show_audience(ctx, draft, state)


def _picked(state: dict[str, object]) -> list[int]:
    picked = state.get("picked")
    return [i for i in picked if isinstance(i, int)] if isinstance(picked, list) else []


async def _apply_edit(ctx: Context, draft: Directive, field: str, text: str) -> bool:
    prompt = msg.EDIT_PROMPTS[field]
    if not text:
        ctx.reply(msg.EDIT_EMPTY.format(prompt=prompt))
        return False
    meta = dict(draft.meta or {})
    today = ctx.today
    if field in ("issued_on", "deadline"):
        parsed = parse_field(_ANY_DATE, text, today)
        if not isinstance(parsed, Ok):
            ctx.reply(msg.EDIT_BAD_DATE.format(prompt=prompt))
            return False
        value = date.fromisoformat(str(parsed.value))
        if field == "deadline":
            if directives.deadline_passed(value, today):
                ctx.reply(msg.DEADLINE_IN_PAST.format(date=msg.day(value)))
                return False
            if _after_upper(ctx, draft, value):
                return False
            draft.deadline = value
            meta.update(deadline_confirmed=True, deadline_recurring=None, deadline_at_period_end=False)
        else:
            draft.issued_on = value
    elif field == "schedule":
        typed = cycles.parse(text)
        chosen = cycles.chosen(draft, typed) if typed is not None else None
        if typed is None or (typed is cycles.AS_WRITTEN and chosen is None):
            ctx.reply(cycle_msg.BAD.format(text=text))
            return False
        meta["schedule"] = chosen.to_json() if chosen else None
        if (
            chosen is not None and draft.deadline is None
        ):  # the schedule's next date, for the board to confirm
            draft.deadline = chosen.next_after(today)
    elif field == "period":
        parts = [p for p in _PERIOD_SPLIT.split(text.removeprefix("từ").strip()) if p]
        parsed_dates = [parse_field(_ANY_DATE, p, today) for p in parts]
        dates = sorted(date.fromisoformat(str(d.value)) for d in parsed_dates if isinstance(d, Ok))
        if len(parts) != 2 or len(dates) != 2:
            ctx.reply(msg.EDIT_BAD_PERIOD.format(prompt=prompt))
            return False
        draft.period_start, draft.period_end = dates
    elif field == "number":
        parsed_number = parse_directive(f"Số {text}")
        draft.number = parsed_number.number or text
        draft.doc_type = parsed_number.doc_type or draft.doc_type
        draft.issuer_code = parsed_number.issuer_code or draft.issuer_code
    elif field in TEXT_FIELDS:
        setattr(draft, field, text)
    elif field in LIST_FIELDS:
        meta[field] = [line.strip(" -•") for line in text.splitlines() if line.strip(" -•")]
    else:
        meta[field] = text
    if isinstance(meta.get("scan"), dict):  # a field the board corrected is checked
        meta["scan"] = {**meta["scan"], "check": [k for k in meta["scan"].get("check", []) if k != field]}
    draft.meta = meta
    return True


async def _confirm_deadline(ctx: Context, draft: Directive) -> None:
    today = ctx.today
    if draft.deadline is None:
        ctx.reply(msg.NEED_DEADLINE)
        return
    if directives.deadline_passed(draft.deadline, today):
        ctx.reply(msg.DEADLINE_IN_PAST.format(date=msg.day(draft.deadline)))
        return
    if _after_upper(ctx, draft, draft.deadline):
        return
    directives.confirm_deadline(draft, draft.deadline)
    _touch(draft)
    ctx.reply(msg.DEADLINE_CONFIRMED_TEXT.format(date=msg.day(draft.deadline)))
    await show_preview(ctx, draft)


def _after_upper(ctx: Context, draft: Directive, deadline: date) -> bool:
    """A re-issue's deadline later than the upper directive's is refused, saying by when."""
    if not levels.after_upper(draft, deadline):
        return False
    upper = msg.day(levels.upper_deadline(draft))
    ctx.reply(level_msg.DEADLINE_AFTER_UPPER.format(date=msg.day(deadline), upper=upper))
    return True


async def _use_hint(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    hint = _hint(draft)
    if hint:
        draft.subject = hint
        _touch(draft)
        ctx.reply(msg.HINT_TAKEN)
    await _back_to_preview(ctx, draft, state)


# -- form and audience ------------------------------------------------------------------------------------------


def _not_ready(draft: Directive) -> str | None:
    """What the draft still lacks before it may go out: a confirmed deadline, a subject the board gave."""
    if draft.deadline is None or not (draft.meta or {}).get("deadline_confirmed"):
        return msg.NEED_DEADLINE
    if not draft.subject:
        return msg.NEED_SUBJECT_HINT if _hint(draft) else msg.NEED_SUBJECT
    return None


async def _ask_form(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    lacking = _not_ready(draft)
    if lacking:
        ctx.reply(lacking)
        await _back_to_preview(ctx, draft, state)
        return
    forms = await list_forms(ctx.session)
    await ctx.set_state(FLOW, IntakeStep.FORM, state)
    at = (draft.id, _rev(draft))
    ctx.reply(msg.ASK_FORM, [[Button(f.title, b.ChooseForm(*at, f.key).encode())] for f in forms])


async def _choose_form(ctx: Context, draft: Directive, state: dict[str, object], key: str) -> None:
    form = await get_form(ctx.session, key)
    if form is None:
        await _ask_form(ctx, draft, state)
        return
    draft.form_key = form.key
    _touch(draft)
    ctx.reply(msg.FORM_CHOSEN.format(title=form.title))
    state.setdefault("all", False)
    state.setdefault("picked", [])
    await _show_audience(ctx, draft, state)


async def _selected_cells(ctx: Context, state: dict[str, object], scope: list[Unit]) -> list[int]:
    if state.get("all"):
        return await directives.cells_under(ctx.session, scope)
    picked_ids = _picked(state)
    if not picked_ids:
        return []
    picked = [u for u in [await ctx.session.get(Unit, i) for i in picked_ids] if u is not None]
    allowed = [u for u in picked if any(u.path.startswith(s.path) for s in scope)]
    return await directives.cells_under(ctx.session, allowed)


async def _show_audience(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    scope = await directives.scope_units(ctx.session, ctx.roles)
    if not scope:
        ctx.reply(msg.NOT_IN_SCOPE)
        return
    await ctx.set_state(FLOW, IntakeStep.AUDIENCE, state)
    cells = await _selected_cells(ctx, state, scope)
    picked = set(_picked(state))
    at = (draft.id, _rev(draft))
    rows = [[Button(msg.BUTTON_ALL_CELLS, b.AllCells(*at).encode())]]
    options: list[tuple[Unit, int]] = []
    for root in scope:
        options.extend(await directives.children_with_cell_counts(ctx.session, root) or [(root, 0)])
    units = []
    for unit, count in options[:MAX_UNIT_BUTTONS]:
        label = msg.BUTTON_PICKED if unit.id in picked else msg.BUTTON_UNPICKED
        units.append([Button(label.format(name=unit.name, cells=count), b.ToggleUnit(*at, unit.id).encode())])
    tail = [[Button(msg.BUTTON_TYPE_CODES, b.TypeCodes(*at).encode())]]
    if cells:
        tail.append([Button(msg.BUTTON_SEND, b.SendDirective(*at).encode())])
    tail.append([Button(msg.BUTTON_BACK, b.BackToPreview(*at).encode())])
    rows = _fitting(ctx, rows, units, tail)
    if cells:
        form = await get_form(ctx.session, draft.form_key)
        channels = ctx.runtime.channels
        seen = await reach.outlook(ctx.session, ctx.clock, channels, draft, cells, form)
        text = reach.describe_outlook(seen)
    else:
        text = msg.AUDIENCE_EMPTY
    ctx.reply(f"{msg.ASK_AUDIENCE}\n\n{text}", rows)


def _fitting(
    ctx: Context, head: list[list[Button]], middle: list[list[Button]], tail: list[list[Button]]
) -> list[list[Button]]:
    """`head + middle + tail`, with as few of `middle`'s last rows left out as it takes for the choices, typed as
    numbers where there are no buttons, to fit one message (Zalo's 2,000 characters); the rest are reached by
    typing their codes (`tail` offers it)."""
    limit = LIMITS.get(ctx.event.channel)
    if ctx.has_buttons or limit is None:
        return head + middle + tail
    while middle and len(numbered_choices(head + middle + tail)[0]) > limit.text:
        middle = middle[:-1]
    return head + middle + tail


async def _take_codes(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    codes = directives.split_codes(text)
    scope = await directives.scope_units(ctx.session, ctx.roles)
    units, unknown = await directives.units_by_codes(ctx.session, codes, scope)
    if unknown or not units:
        ctx.reply(msg.CODES_UNKNOWN.format(codes=", ".join(unknown) or text))
        return
    state.update(all=False, picked=sorted({u.id for u in units}))
    _touch(draft)
    await _show_audience(ctx, draft, state)


async def _send(
    ctx: Context,
    draft: Directive,
    state: dict[str, object],
    repeat: repeats.Repeat | None = None,
    existing_id: int | None = None,
    unstaffed: levels.Unstaffed | None = None,
) -> None:
    """Send the draft to the chosen cells; when it repeats a directive already sent, only as the board chose; when
    units below among them have board staff none of whom has joined, only once the board chose what they get."""
    scope = await directives.scope_units(ctx.session, ctx.roles)
    cells = await _selected_cells(ctx, state, scope)
    if not cells:
        ctx.reply(msg.AUDIENCE_EMPTY)
        return
    lacking = _not_ready(draft)
    if lacking:  # a button of an earlier message cannot skip what the preview asks for
        ctx.reply(lacking)
        await _back_to_preview(ctx, draft, state)
        return
    earlier = await status.repeats_of(ctx.session, await status.scope_of(ctx.session, ctx.roles), draft)
    existing = next((d for d in earlier if d.id == existing_id), None)
    if (repeat is None and earlier) or (
        repeat in (repeats.Repeat.ADD, repeats.Repeat.REPLACE) and not existing
    ):
        await _ask_repeat(ctx, draft, state, earlier)
        return
    choice = (repeat, existing) if repeat is not None and existing is not None else None
    if repeats.broadcasts(choice) and unstaffed is None:
        waiting = await levels.unstaffed(ctx.session, draft, cells)
        if waiting:
            await _ask_unstaffed(ctx, draft, state, waiting)
            return
    form = await get_form(ctx.session, draft.form_key)
    actor = f"{ctx.event.channel.value}:{ctx.event.user_id}"
    person_id = ctx.person.id if ctx.person else None
    down, watched = await repeats.send_as(
        ctx.session,
        ctx.clock,
        draft,
        cells,
        form,
        choice,
        actor=actor,
        person_id=person_id,
        unstaffed=unstaffed or levels.Unstaffed.DIRECT,
    )
    plan = down.plan
    if existing is not None and repeat is repeats.Repeat.ADD:
        code, number = directive_code(existing.id), existing.number or ""
        done = msg.ADDED if plan.cells else msg.ADDED_NONE
        said = done.format(number=number, code=code, cells=plan.cells)
    elif existing is not None and repeat is repeats.Repeat.REPLACE:
        old = directive_code(existing.id)
        code = directive_code(draft.id)
        said = msg.REPLACED.format(number=draft.number or "", code=code, cells=plan.cells, old=old)
    else:
        said = msg.QUEUED.format(number=draft.number or "", cells=plan.cells, code=directive_code(draft.id))
    how = reach.describe_route(down.route) if down.route is not None else ""
    ctx.reply(f"{said}\n{how}" if how else said)
    names = [[u.name for u in units] for units in (down.handed, down.held, down.bypassed)]
    for line in level_msg.sent_down(*names):  # more cells or a correction go down the levels too
        ctx.reply(line)
    await ctx.clear_state()
    if plan.cells:
        directive_id, channel, chat_id = watched.id, ctx.event.channel.value, ctx.event.chat_id
        ctx.after_commit.append(lambda: ctx.runtime.progress.watch(directive_id, channel, chat_id))
        ctx.after_commit.append(ctx.runtime.sender.wake)


async def _ask_unstaffed(
    ctx: Context, draft: Directive, state: dict[str, object], waiting: list[Unit]
) -> None:
    """Units below whose board staff has not joined: their cells directly, or held for their board?"""
    await ctx.set_state(FLOW, IntakeStep.UNSTAFFED, state)
    at = (draft.id, _rev(draft))
    names = ", ".join(u.name for u in waiting)
    rows = [
        [Button(level_msg.BUTTON_UNSTAFFED_DIRECT, b.SendUnstaffed(*at, levels.Unstaffed.DIRECT).encode())],
        [Button(level_msg.BUTTON_UNSTAFFED_HOLD, b.SendUnstaffed(*at, levels.Unstaffed.HOLD).encode())],
        [Button(msg.BUTTON_BACK, b.BackToPreview(*at).encode())],
    ]
    ctx.reply(level_msg.ASK_UNSTAFFED.format(count=len(waiting), names=names), rows)


async def _nudge_unstaffed(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    await _send(ctx, draft, state, repeats.Repeat.NEW)


async def _ask_repeat(
    ctx: Context, draft: Directive, state: dict[str, object], repeats: list[Directive]
) -> None:
    """The directives this draft repeats, and the three things it can be: more cells, a correction, a new one."""
    if not repeats:  # what it repeated was replaced meanwhile: nothing to choose any more
        await _show_audience(ctx, draft, state)
        return
    await ctx.set_state(FLOW, IntakeStep.REPEAT, state)
    shown = repeats[:MAX_REPEATS_SHOWN]
    counts = await status.counts_by_directive(
        ctx.session, await status.scope_of(ctx.session, ctx.roles), [d.id for d in shown]
    )
    lines = [
        msg.REPEAT_FOUND.format(number=draft.number or "", date=msg.day(draft.issued_on), count=len(repeats))
    ]
    at = (draft.id, _rev(draft))
    rows: list[list[Button]] = []
    for d in shown:
        code, c = directive_code(d.id), counts[d.id]
        sent = msg.day(d.sent_at.astimezone(ctx.settings.tz).date()) if d.sent_at else msg.MISSING
        lines.append(msg.REPEAT_LINE.format(code=code, sent=sent, cells=c.targeted, reported=c.reported))
        rows.append([Button(msg.BUTTON_REPEAT_ADD.format(code=code), b.RepeatAdd(*at, d.id).encode())])
        rows.append(
            [Button(msg.BUTTON_REPEAT_REPLACE.format(code=code), b.RepeatReplace(*at, d.id).encode())]
        )
    rows.append([Button(msg.BUTTON_REPEAT_NEW, b.RepeatNew(*at).encode())])
    rows.append([Button(msg.BUTTON_BACK, b.BackToPreview(*at).encode())])
    ctx.reply("\n".join(lines), rows)


async def _nudge_repeat(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    await _send(ctx, draft, state)


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


TextHandler = Callable[[Context, Directive, dict[str, object], str], Awaitable[None]]
_STEPS = frozenset(IntakeStep)
# What a typed message does at each step (a button moves between them: see `on_button`).
ON_TEXT: dict[IntakeStep, TextHandler] = {
    IntakeStep.REVIEW: _nudge_preview,
    IntakeStep.EDIT: _take_edit,
    IntakeStep.FORM: _nudge_preview,
    IntakeStep.AUDIENCE: _nudge_audience,
    IntakeStep.CODES: _take_codes,
    IntakeStep.REPEAT: _nudge_repeat,
    IntakeStep.UNSTAFFED: _nudge_unstaffed,
}
