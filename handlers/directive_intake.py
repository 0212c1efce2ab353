"""The board's intake of a new directive: file or pasted text → parsed draft → corrections → deadline → report
form → audience → send. Every step is stored in the conversation, so a restart loses nothing."""

from __future__ import annotations

import mimetypes
import re
from datetime import date

from bot.core.events import Button
from bot.core.textnorm import fold
from bot.services import directives
from bot.services.directive_parser import parse_directive
from bot.services.document_text import extract_text
from bot.services.field_parsers import Ok, parse_field
from bot.services.files import FileTooLarge
from bot.services.forms import FieldSpec, FieldType
from bot.services.forms_store import DEFAULT_FORM, get_form, list_forms
from handlers.context import Context
from messages import common
from messages import directives as msg
from storage.models import Directive, Unit

FLOW = "directive"
MIN_TEXT = 200
MAX_UNIT_BUTTONS = 24
_ANY_DATE = FieldSpec(key="date", label="date", type=FieldType.DATE, min=-3660, max=3660)
_PERIOD_SPLIT = re.compile(r"\s*(?:-|–|—|đến|den)\s*", re.IGNORECASE)
_CODE_SPLIT = re.compile(r"[\s,;]+")
TEXT_FIELDS = ("parent_body", "issuer", "place", "subject")
META_TEXT_FIELDS = ("recipients", "signer")
LIST_FIELDS = ("cited", "materials")


def wants_new_directive(ctx: Context) -> bool:
    """A board member sending a document, or pasting a long text, outside any flow."""
    event = ctx.event
    if event.file is not None and event.file.kind == "document":
        return True
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
    channel = ctx.runtime.channels[event.channel]
    try:
        data = await channel.download(event.file)
    except Exception:
        ctx.reply(msg.FILE_DOWNLOAD_FAILED.format(name=name))
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
        ctx.reply(msg.FILE_ADDED.format(name=name))
        await show_preview(ctx, draft)
        return
    if event.file.kind != "document":
        ctx.reply(common.NOT_UNDERSTOOD)
        return
    extracted = extract_text(data, name)
    if extracted.text is None:
        reason = msg.UNREADABLE_REASONS.get(str(extracted.refusal), str(extracted.refusal))
        ctx.reply(msg.FILE_UNREADABLE.format(name=name, reason=reason))
        return
    draft = await _new_draft(ctx, extracted.text)
    await directives.attach(ctx.session, draft.id, stored)
    await show_preview(ctx, draft)


async def on_pasted_text(ctx: Context) -> None:
    text = ctx.event.text or ""
    if len(text.strip()) < MIN_TEXT:
        ctx.reply(msg.TEXT_TOO_SHORT)
        return
    draft = await _new_draft(ctx, text)
    await show_preview(ctx, draft)


async def _new_draft(ctx: Context, text: str) -> Directive:
    assert ctx.person is not None
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    meta = parse_directive(text, today=today)
    scope = await directives.scope_units(ctx.session, ctx.roles)
    draft = Directive(
        status="draft",
        created_by=ctx.person.id,
        unit_id=scope[0].id if scope else None,
        created_at=ctx.clock.now(),
        form_key=DEFAULT_FORM,
    )
    directives.apply_meta(draft, meta)
    ctx.session.add(draft)
    await ctx.session.flush()
    await ctx.set_state(FLOW, "review", {"id": draft.id})
    return draft


async def _current(ctx: Context) -> Directive | None:
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW:
        return None
    draft = await ctx.session.get(Directive, conv.data.get("id"))
    return draft if draft is not None and draft.status == "draft" else None


# -- preview and corrections --------------------------------------------------------------------------------------


async def show_preview(ctx: Context, draft: Directive) -> None:
    files = await directives.files_of(ctx.session, draft.id)
    form = await get_form(ctx.session, draft.form_key)
    text = msg.preview(
        directives.preview_fields(draft), [f.name for f in files], form.title if form else None
    )
    edits = [
        Button(msg.BUTTON_EDIT.format(label=label), f"de:{key}") for key, label in msg.FIELD_LABELS.items()
    ]
    rows = [edits[i : i + 3] for i in range(0, len(edits), 3)]
    if draft.deadline and not (draft.meta or {}).get("deadline_confirmed"):
        rows.append([Button(msg.BUTTON_CONFIRM_DEADLINE.format(date=msg.day(draft.deadline)), "dc")])
    rows.append([Button(msg.BUTTON_NEXT, "dn")])
    rows.append([Button(msg.BUTTON_CANCEL, "dx")])
    ctx.reply(text, rows)


async def on_button(ctx: Context, data: str) -> None:
    draft = await _current(ctx)
    if draft is None:
        ctx.reply(msg.DRAFT_GONE)
        return
    conv = await ctx.conversation()
    assert conv is not None
    state = dict(conv.data)
    action, _, arg = data.partition(":")
    if action == "de" and arg in msg.FIELD_LABELS:
        await ctx.set_state(FLOW, f"edit:{arg}", state)
        ctx.reply(msg.ASK_EDIT.format(prompt=msg.EDIT_PROMPTS[arg]))
    elif action == "dc":
        await _confirm_deadline(ctx, draft)
    elif action == "dn":
        await _ask_form(ctx, draft, state)
    elif action == "df":
        await _choose_form(ctx, draft, state, arg)
    elif action == "da":
        state.update(all=True, picked=[])
        await _show_audience(ctx, draft, state)
    elif action == "dt" and arg.isdigit():
        picked = set(state.get("picked", []))
        picked ^= {int(arg)}
        state.update(all=False, picked=sorted(picked))
        await _show_audience(ctx, draft, state)
    elif action == "dk":
        await ctx.set_state(FLOW, "codes", state)
        ctx.reply(msg.ASK_CODES)
    elif action == "ds":
        await _send(ctx, draft, state)
    elif action == "db":
        await ctx.set_state(FLOW, "review", state)
        await show_preview(ctx, draft)
    elif action == "dx":
        draft.status = "cancelled"
        await ctx.clear_state()
        ctx.reply(msg.CANCELLED)


async def on_text(ctx: Context) -> None:
    """Text while a draft is open: the value of a field being corrected, unit codes, or a nudge to the buttons."""
    conv = await ctx.conversation()
    draft = await _current(ctx)
    if conv is None or draft is None:
        await ctx.clear_state()
        ctx.reply(msg.DRAFT_GONE)
        return
    text = (ctx.event.text or "").strip()
    state = dict(conv.data)
    if conv.step.startswith("edit:"):
        field = conv.step.removeprefix("edit:")
        if fold(text) in ("huy", "thoi"):
            await ctx.set_state(FLOW, "review", state)
            await show_preview(ctx, draft)
            return
        if await _apply_edit(ctx, draft, field, text):
            await ctx.set_state(FLOW, "review", state)
            ctx.reply(msg.EDIT_SAVED.format(label=msg.FIELD_LABELS[field]))
            await show_preview(ctx, draft)
        return
    if conv.step == "codes":
        await _take_codes(ctx, draft, state, text)
        return
    if conv.step == "audience":
        await _show_audience(ctx, draft, state)
        return
    await show_preview(ctx, draft)


async def _apply_edit(ctx: Context, draft: Directive, field: str, text: str) -> bool:
    prompt = msg.EDIT_PROMPTS[field]
    if not text:
        ctx.reply(msg.EDIT_EMPTY.format(prompt=prompt))
        return False
    meta = dict(draft.meta or {})
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    if field in ("issued_on", "deadline"):
        parsed = parse_field(_ANY_DATE, text, today)
        if not isinstance(parsed, Ok):
            ctx.reply(msg.EDIT_BAD_DATE.format(prompt=prompt))
            return False
        value = date.fromisoformat(parsed.value)
        if field == "deadline":
            if value < today:
                ctx.reply(msg.DEADLINE_IN_PAST.format(date=msg.day(value)))
                return False
            draft.deadline = value
            meta.update(deadline_confirmed=True, deadline_recurring=None, deadline_at_period_end=False)
        else:
            draft.issued_on = value
    elif field == "period":
        parts = [p for p in _PERIOD_SPLIT.split(text.removeprefix("từ").strip()) if p]
        dates = [parse_field(_ANY_DATE, p, today) for p in parts]
        if len(dates) != 2 or not all(isinstance(d, Ok) for d in dates):
            ctx.reply(msg.EDIT_BAD_PERIOD.format(prompt=prompt))
            return False
        draft.period_start, draft.period_end = sorted(date.fromisoformat(d.value) for d in dates)  # type: ignore[union-attr]
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
    draft.meta = meta
    return True


async def _confirm_deadline(ctx: Context, draft: Directive) -> None:
    today = ctx.clock.now().astimezone(ctx.settings.tz).date()
    if draft.deadline is None:
        ctx.reply(msg.NEED_DEADLINE)
        return
    if draft.deadline < today:
        ctx.reply(msg.DEADLINE_IN_PAST.format(date=msg.day(draft.deadline)))
        return
    draft.meta = {**(draft.meta or {}), "deadline_confirmed": True}
    ctx.reply(msg.DEADLINE_CONFIRMED_TEXT.format(date=msg.day(draft.deadline)))
    await show_preview(ctx, draft)


# -- form and audience ------------------------------------------------------------------------------------------


async def _ask_form(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    if draft.deadline is None or not (draft.meta or {}).get("deadline_confirmed"):
        ctx.reply(msg.NEED_DEADLINE)
        await show_preview(ctx, draft)
        return
    forms = await list_forms(ctx.session)
    await ctx.set_state(FLOW, "form", state)
    ctx.reply(msg.ASK_FORM, [[Button(f.title, f"df:{f.key}")] for f in forms])


async def _choose_form(ctx: Context, draft: Directive, state: dict[str, object], key: str) -> None:
    form = await get_form(ctx.session, key)
    if form is None:
        await _ask_form(ctx, draft, state)
        return
    draft.form_key = form.key
    ctx.reply(msg.FORM_CHOSEN.format(title=form.title))
    state.setdefault("all", False)
    state.setdefault("picked", [])
    await _show_audience(ctx, draft, state)


async def _selected_cells(ctx: Context, state: dict[str, object], scope: list[Unit]) -> list[int]:
    if state.get("all"):
        return await directives.cells_under(ctx.session, scope)
    picked_ids = [int(i) for i in state.get("picked", [])]  # type: ignore[attr-defined]
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
    await ctx.set_state(FLOW, "audience", state)
    cells = await _selected_cells(ctx, state, scope)
    picked = set(state.get("picked", []))  # type: ignore[arg-type]
    rows = [[Button(msg.BUTTON_ALL_CELLS, "da")]]
    options: list[tuple[Unit, int]] = []
    for root in scope:
        options.extend(await directives.children_with_cell_counts(ctx.session, root) or [(root, 0)])
    for unit, count in options[:MAX_UNIT_BUTTONS]:
        label = msg.BUTTON_PICKED if unit.id in picked else msg.BUTTON_UNPICKED
        rows.append([Button(label.format(name=unit.name, cells=count), f"dt:{unit.id}")])
    rows.append([Button(msg.BUTTON_TYPE_CODES, "dk")])
    if cells:
        rows.append([Button(msg.BUTTON_SEND, "ds")])
    rows.append([Button(msg.BUTTON_BACK, "db")])
    if cells:
        p = await directives.plan(ctx.session, cells)
        text = msg.AUDIENCE_SUMMARY.format(cells=p.cells, people=p.reachable, unregistered=p.unregistered)
    else:
        text = msg.AUDIENCE_EMPTY
    ctx.reply(f"{msg.ASK_AUDIENCE}\n\n{text}", rows)


async def _take_codes(ctx: Context, draft: Directive, state: dict[str, object], text: str) -> None:
    codes = [c for c in _CODE_SPLIT.split(text) if c]
    scope = await directives.scope_units(ctx.session, ctx.roles)
    units, unknown = await directives.units_by_codes(ctx.session, codes, scope)
    if unknown or not units:
        ctx.reply(msg.CODES_UNKNOWN.format(codes=", ".join(unknown) or text))
        return
    state.update(all=False, picked=sorted({u.id for u in units}))
    await _show_audience(ctx, draft, state)


async def _send(ctx: Context, draft: Directive, state: dict[str, object]) -> None:
    scope = await directives.scope_units(ctx.session, ctx.roles)
    cells = await _selected_cells(ctx, state, scope)
    if not cells:
        ctx.reply(msg.AUDIENCE_EMPTY)
        return
    form = await get_form(ctx.session, draft.form_key)
    plan = await directives.queue_broadcast(
        ctx.session,
        ctx.clock,
        draft,
        cells,
        form,
        actor=f"{ctx.event.channel.value}:{ctx.event.user_id}",
        person_id=ctx.person.id if ctx.person else None,
    )
    await ctx.clear_state()
    ctx.reply(msg.QUEUED.format(number=draft.number or "", cells=plan.cells))
    directive_id, channel, chat_id = draft.id, ctx.event.channel.value, ctx.event.chat_id
    ctx.after_commit.append(lambda: ctx.runtime.progress.watch(directive_id, channel, chat_id))
    ctx.after_commit.append(ctx.runtime.sender.wake)


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
