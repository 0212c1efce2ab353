"""A cell secretary's report on a directive: guided one question at a time (the form walk), or in one message,
then a summary, a receipt with a reference, and edits that become new versions.

Every choice is offered as a button and also accepted typed (its number or its words without diacritics), because
on Zalo buttons become numbered text. The steps are `ReportStep` (handlers/report_state.py, where the draft is
stored); what the bot says at each is in handlers/report_prompts.py, the choice of directive in
handlers/report_choice.py, evidence photos in handlers/report_photos.py, and the reading of a one-message report in
bot/services/quick_pick.py. docs/flows.md draws the flow.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable

from bot.core.events import Button
from bot.core.textnorm import fold, small_number
from bot.services.field_parsers import Ok, ParseResult, Refusal, Skipped, is_skip_word, parse_field
from bot.services.forms import FieldType, FormSpec
from bot.services.quick_pick import MAX_PHOTOS, add_photos, quick_values, read_quick, typed_answers
from bot.services.quick_reply import QuickParse, parse_quick_reply
from bot.services.reports import OpenTarget, latest_report, open_target, open_targets
from handlers import buttons as b
from handlers.context import Context
from handlers.report_choice import Pending, choose, open_numbers, typed_choice
from handlers.report_photos import is_image, photo_count, store_photo
from handlers.report_prompts import (
    ask,
    ask_buttons,
    missing_required,
    numbered,
    pick,
    pick_buttons,
    reprompt,
    submit,
    summary,
    summary_buttons,
    to_summary,
    value_lines,
)
from handlers.report_state import (
    FLOW,
    FORM_STEPS,
    Draft,
    Item,
    ReportStep,
    asks_to_report,
    form_of,
    forms_of,
    load,
    report_step,
    unit_suffix,
    word,
)
from handlers.secretary import secretary_units, target_of
from messages import forms as forms_msg
from messages import reports as msg
from messages.directives import NOT_A_TARGET
from messages.formats import moment
from storage.models import Directive

_LEADING_SYMBOLS = re.compile(r"^[^\w]+")

ASK, SUMMARY, PICK, CHOOSE = ReportStep.ASK, ReportStep.SUMMARY, ReportStep.PICK, ReportStep.CHOOSE

# -- entry points -----------------------------------------------------------------------------------------------


async def open_report(ctx: Context, directive_id: int) -> None:
    """The "📝 Báo cáo" button of a directive card (also "✏️ Sửa báo cáo" on a receipt)."""
    cands = await open_targets(ctx.session, secretary_units(ctx), directive_id=directive_id)
    if not cands:
        directive = await ctx.session.get(Directive, directive_id)
        if directive is None or await target_of(ctx, directive_id) is None:
            ctx.reply(NOT_A_TARGET)
        else:
            ctx.reply(msg.NOT_OPEN.format(number=directive.number or msg.NO_NUMBER))
        return
    if len(cands) > 1:
        await choose(ctx, cands)
        return
    await _begin(ctx, cands[0])


async def on_free_message(ctx: Context) -> bool:
    """A secretary's message outside any flow: "báo cáo", a one-message report, or a photo. False if none."""
    event = ctx.event
    if event.file is not None:
        if not is_image(event.file):
            return False
        await _photo_outside_flow(ctx)
        return True
    text = event.text or ""
    if not text.strip():
        return False
    if asks_to_report(text):
        await _open_any(ctx)
        return True
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        if ";" in text:
            ctx.reply(msg.NO_OPEN)
            return True
        return False
    return await _quick(ctx, cands, text, [])


async def on_message(ctx: Context) -> None:
    """Text or a photo from a secretary whose conversation is in the report flow."""
    if await report_step(ctx) is CHOOSE:
        await _choose_typed(ctx)
        return
    loaded = await load(ctx)
    if loaded is None:
        return
    step, item = loaded
    event = ctx.event
    if event.file is not None:
        await _photo_in_flow(ctx, step, item)
        return
    text = event.text or ""
    typed = word(text)
    if typed in msg.WORDS_CANCEL:
        await _cancel(ctx)
    elif typed in msg.WORDS_BACK:
        await _back(ctx, step, item)
    elif not text.strip():
        await reprompt(ctx, step, item, msg.UNSUPPORTED)
    elif not await _whole_report(ctx, step, item, text):
        await ON_TEXT[step](ctx, item, text)


async def on_button(ctx: Context, pressed: b.ReportButton) -> None:
    """A report button pressed (handlers/buttons.py lists them)."""
    if isinstance(pressed, b.CancelReport):
        await _cancel(ctx)
        return
    if isinstance(pressed, b.PickDirective):
        await _on_choose(ctx, pressed.directive_id, pressed.unit_id)
        return
    loaded = await load(ctx)
    if loaded is None:
        return
    step, item = loaded
    await _act(ctx, step, item, pressed)


# -- the form walk: one question at a time ------------------------------------------------------------------------


async def _answer(ctx: Context, item: Item, text: str) -> None:
    """A typed answer to the current question."""
    spec = item.spec
    assert spec is not None
    if spec.type in (FieldType.CHOICE, FieldType.PHOTO):
        pressed = _typed_press(ctx, text, ask_buttons(item, spec))
        if pressed is not None:
            await _act(ctx, ASK, item, pressed)
            return
    if spec.type is FieldType.PHOTO and (word(text) in msg.WORDS_DONE or is_skip_word(text)):
        await _photos_done(ctx, item)
        return
    await _accept(ctx, item, parse_field(spec, text, ctx.today))


async def _accept(ctx: Context, item: Item, result: ParseResult) -> None:
    spec = item.spec
    assert spec is not None
    if isinstance(result, Refusal):
        await ask(ctx, item, result.message)
        return
    if isinstance(result, Ok):
        item.draft.values[spec.key] = result.value
    elif isinstance(result, Skipped) and spec.type is not FieldType.PHOTO:
        item.draft.values.pop(spec.key, None)
    await _advance(ctx, item)


async def _photos_done(ctx: Context, item: Item) -> None:
    spec = item.spec
    assert spec is not None
    if spec.required and not item.draft.values.get(spec.key):
        await ask(ctx, item, forms_msg.PHOTO_EXPECTED_REQUIRED.format(label=spec.label))
        return
    await _advance(ctx, item)


async def _advance(ctx: Context, item: Item) -> None:
    draft = item.draft
    if not draft.to_summary and draft.pos + 1 < len(draft.queue):
        draft.pos += 1
        await ask(ctx, item)
        return
    await to_summary(ctx, item)


async def _back(ctx: Context, step: ReportStep, item: Item) -> None:
    draft = item.draft
    if step is ASK:
        if draft.to_summary:
            draft.to_summary = False
            await summary(ctx, item)
        elif draft.pos == 0:
            await ask(ctx, item, msg.FIRST_QUESTION)
        else:
            draft.pos -= 1
            await ask(ctx, item)
    elif step is SUMMARY:
        if draft.queue:
            draft.pos = len(draft.queue) - 1
            await ask(ctx, item)
        else:
            await pick(ctx, item)
    else:
        await summary(ctx, item)


async def _summary_typed(ctx: Context, item: Item, text: str) -> None:
    typed = word(text)
    if typed in msg.WORDS_SEND:
        await submit(ctx, item)
    elif typed in msg.WORDS_EDIT:
        await pick(ctx, item)
    elif (pressed := _typed_press(ctx, text, summary_buttons(item))) is not None:
        await _act(ctx, SUMMARY, item, pressed)
    else:
        await summary(ctx, item, msg.SUMMARY_NUDGE)


async def _pick_typed(ctx: Context, item: Item, text: str) -> None:
    typed = word(text).rstrip(").")
    fields = item.form.fields
    spec = next((s for s in fields if typed in (fold(s.label), fold(s.short_label))), None)
    number = small_number(typed)
    if spec is None and number is not None and 1 <= number <= len(fields):
        spec = fields[number - 1]  # the fields are numbered in the list on every channel
    if spec is not None:
        await _act(ctx, PICK, item, b.EditField(item.directive_id, spec.key))
    elif (pressed := _typed_press(ctx, text, pick_buttons(item))) is not None:
        await _act(ctx, PICK, item, pressed)
    else:
        await pick(ctx, item)


TextHandler = Callable[[Context, Item, str], Awaitable[None]]
# What a typed message does at each step that holds a draft; at ReportStep.CHOOSE it answers `report_choice.choose`.
ON_TEXT: dict[ReportStep, TextHandler] = {ASK: _answer, SUMMARY: _summary_typed, PICK: _pick_typed}


# -- buttons, pressed or typed ----------------------------------------------------------------------------------


def _typed_button(text: str, buttons: list[list[Button]], *, by_number: bool) -> str | None:
    """The button a typed answer stands for: its words, or (`by_number`) its place in the numbered list."""
    flat = [button for row in buttons for button in row]
    key = word(text).rstrip(").")
    number = small_number(key)
    if number is not None or key.isdigit():  # a number too long to be one is no label either
        index = (number or 0) - 1
        return flat[index].data if by_number and 0 <= index < len(flat) else None
    for button in flat:
        if key and fold(_LEADING_SYMBOLS.sub("", button.label)) == key:
            return button.data
    return None


def _typed_press(ctx: Context, text: str, buttons: list[list[Button]]) -> b.ReportButton | None:
    data = _typed_button(text, buttons, by_number=numbered(ctx))
    pressed = b.decode(data) if data is not None else None
    return pressed if isinstance(pressed, b.ReportButton) else None


async def _act(ctx: Context, step: ReportStep, item: Item, pressed: b.ReportButton) -> None:
    """Carry out a report button for the draft loaded from the conversation."""
    if isinstance(pressed, b.CancelReport):
        await _cancel(ctx)
    elif not isinstance(pressed, b.DraftButton) or pressed.directive_id != item.directive_id:
        await reprompt(ctx, step, item, msg.STALE_BUTTON)
    elif isinstance(pressed, b.Back):
        await _back(ctx, step, item)
    elif isinstance(pressed, b.PickChoice | b.SkipField | b.PhotosDone):
        await _field_button(ctx, step, item, pressed)
    elif isinstance(pressed, b.SendReport) and step is SUMMARY:
        await submit(ctx, item)
    elif isinstance(pressed, b.EditReport) and step is SUMMARY:
        await pick(ctx, item)
    elif isinstance(pressed, b.EditField) and step in (SUMMARY, PICK) and item.form.field(pressed.key):
        item.draft.queue, item.draft.pos, item.draft.to_summary = [pressed.key], 0, True
        await ask(ctx, item)
    else:
        await reprompt(ctx, step, item, msg.STALE_BUTTON)


async def _field_button(
    ctx: Context, step: ReportStep, item: Item, pressed: b.PickChoice | b.SkipField | b.PhotosDone
) -> None:
    spec = item.spec
    if step is not ASK or spec is None or pressed.key != spec.key:
        await reprompt(ctx, step, item, msg.STALE_BUTTON)
    elif isinstance(pressed, b.PickChoice):
        if pressed.index < len(spec.choices):
            await _accept(ctx, item, Ok(spec.choices[pressed.index]))
        else:
            await reprompt(ctx, step, item, msg.STALE_BUTTON)
    elif isinstance(pressed, b.SkipField):
        # The same rule as typing "bỏ qua": a required field refuses with its own message.
        await _accept(ctx, item, parse_field(spec, forms_msg.SKIP_TYPED, ctx.today))
    else:
        await _photos_done(ctx, item)


def added_summary(ctx: Context) -> str:
    return msg.PHOTO_ADDED_SUMMARY if ctx.has_buttons else msg.PHOTO_ADDED_SUMMARY_TYPED


async def _cancel(ctx: Context) -> None:
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW:
        ctx.reply(
            msg.SESSION_GONE if ctx.has_buttons else msg.SESSION_GONE_TYPED
        )  # an old "Hủy" button must not end some other flow
        return
    draft = Draft.from_data(conv.data)
    await ctx.clear_state()
    lines = [msg.CANCELLED if ctx.has_buttons else msg.CANCELLED_TYPED]
    if draft is not None:
        kept = await latest_report(ctx.session, draft.directive_id, draft.unit_id)
        if kept is not None:
            lines.append(msg.CANCELLED_KEPT.format(ref=kept.ref))
    ctx.reply("\n".join(lines))


# -- starting a report ------------------------------------------------------------------------------------------


async def _open_any(ctx: Context) -> None:
    """ "báo cáo" typed outside a flow: the one directive waiting for a report, or a choice."""
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        ctx.reply(msg.NO_OPEN)
        return
    preferred = [c for c in cands if not c.reported] or cands
    if len(preferred) > 1:
        await choose(ctx, preferred)
        return
    await _begin(ctx, preferred[0])


async def _begin(ctx: Context, opened: OpenTarget, photos: list[str] | None = None) -> None:
    """Open the report of a cell on a directive: resume a draft, show the sent report for editing, or start."""
    photos = photos or []
    form = await form_of(ctx, opened.directive)
    conv = await ctx.conversation()
    step = await report_step(ctx)
    if conv is not None and step in FORM_STEPS:
        draft = Draft.from_data(conv.data)
        if draft is not None and (draft.directive_id, draft.unit_id) == (
            opened.directive.id,
            opened.target.unit_id,
        ):
            item = Item(draft, opened, form)
            add_photos(form, draft.values, photos)
            await reprompt(ctx, step, item, msg.RESUME.format(number=item.number))
            return
    latest = await latest_report(ctx.session, opened.directive.id, opened.target.unit_id)
    draft = Draft(opened.directive.id, opened.target.unit_id)
    item = Item(draft, opened, form)
    if latest is not None:
        draft.values = copy.deepcopy(latest.values)
        lead = [
            msg.EXISTING.format(
                number=item.number, time=moment(latest.submitted_at, ctx.settings.tz), ref=latest.ref
            )
        ]
        if add_photos(form, draft.values, photos):
            lead.append(added_summary(ctx).format(count=photo_count(form, draft.values)))
        await summary(ctx, item, *lead)
        return
    add_photos(form, draft.values, photos)
    draft.queue = [spec.key for spec in form.fields]
    start = msg.START.format(
        title=form.title, number=item.number, unit=unit_suffix(opened), count=len(form.fields)
    )
    await ask(ctx, item, start)


# -- the answer to "which directive?" (ReportStep.CHOOSE) ---------------------------------------------------------


async def _on_choose(ctx: Context, directive_id: int, unit_id: int) -> None:
    if unit_id not in secretary_units(ctx):
        ctx.reply(msg.SESSION_GONE if ctx.has_buttons else msg.SESSION_GONE_TYPED)
        return
    pending = Pending()
    if await report_step(ctx) is CHOOSE:
        conv = await ctx.conversation()
        assert conv is not None
        pending = Pending.from_data(conv.data)
        await ctx.clear_state()
    opened = await open_target(ctx.session, directive_id, unit_id)
    if opened is None:
        directive = await ctx.session.get(Directive, directive_id)
        ctx.reply(msg.NOT_OPEN.format(number=(directive.number if directive else None) or msg.NO_NUMBER))
        return
    if pending.text is not None:
        numbers = await open_numbers(ctx)
        form = await form_of(ctx, opened.directive)
        parsed = parse_quick_reply(form, pending.text, ctx.today, numbers)
        await _apply_quick(ctx, opened, form, parsed, pending.photos)
        return
    await _begin(ctx, opened, pending.photos)


async def _choose_typed(ctx: Context) -> None:
    """An answer typed (or a photo sent) while the bot asks which directive a report is for."""
    conv = await ctx.conversation()
    pending = Pending.from_data(conv.data if conv is not None else None)
    cands = await open_targets(ctx.session, secretary_units(ctx))
    offered = [c for pair in pending.options for c in cands if (c.directive.id, c.target.unit_id) == pair]
    text, photos = pending.text, pending.photos
    file = ctx.event.file
    if file is not None:
        lead = []
        if not is_image(file):
            lead.append(msg.NOT_A_PHOTO)
        elif (sha := await store_photo(ctx)) is not None:
            photos = [*photos, sha]
        await choose(ctx, offered, text=text, photos=photos, lead=lead)
        return
    typed = word(ctx.event.text or "").rstrip(").")
    if typed in msg.WORDS_CANCEL:
        await _cancel(ctx)
        return
    chosen = typed_choice(typed, offered)
    if chosen is not None:
        await _on_choose(ctx, chosen.directive.id, chosen.target.unit_id)
        return
    if await on_free_message(ctx):
        return  # a new report or "báo cáo": it replaced the question
    await choose(ctx, offered, text=text, photos=photos, lead=[msg.CHOOSE_AGAIN])


# -- one-message reports ----------------------------------------------------------------------------------------


async def _quick(ctx: Context, cands: list[OpenTarget], text: str, photos: list[str]) -> bool:
    """Read `text` as a one-message report on one of `cands`; False when it does not look like one."""
    pick_ = read_quick(cands, await forms_of(ctx, cands), text, ctx.today)
    if pick_ is None:
        return False
    if len(pick_.targets) > 1:
        await choose(ctx, pick_.targets, text=text, photos=photos)
    else:
        await _apply_quick(ctx, pick_.targets[0], pick_.form, pick_.parsed, photos)
    return True


async def _apply_quick(
    ctx: Context, opened: OpenTarget, form: FormSpec, parsed: QuickParse, photos: list[str]
) -> None:
    """Save a complete one-message report at once; otherwise say what was understood and ask the rest."""
    if parsed.refusal is not None:
        ctx.reply(parsed.refusal)
        return
    latest = await latest_report(ctx.session, opened.directive.id, opened.target.unit_id)
    values, queue = quick_values(form, parsed, latest, photos)
    item = Item(Draft(opened.directive.id, opened.target.unit_id, values), opened, form)
    if not queue:
        await submit(ctx, item)
        return
    lines = []
    if parsed.values:
        lines.append(msg.QUICK_UNDERSTOOD.format(number=item.number))
        lines.extend(value_lines(form, parsed.values, only_given=True))
    else:
        lines.append(msg.QUICK_NOTHING.format(number=item.number))
    missing_photos = {s.key for s in form.photo_fields if s.required and not values.get(s.key)}
    missing_labels = [spec.label for spec in form.fields if spec.key in set(parsed.missing) | missing_photos]
    lines.append(forms_msg.quick_problems(missing_labels, [(i.label, i.message) for i in parsed.invalid]))
    lines.append(msg.QUICK_FOLLOW_UP.format(count=len(queue)))
    ctx.reply("\n".join(lines))
    item.draft.queue = queue
    await ask(ctx, item)


async def _whole_report(ctx: Context, step: ReportStep, item: Item, text: str) -> bool:
    """A complete one-message report sent in the middle of a form replaces the form's answers and is sent."""
    if ";" not in text and "\n" not in text.strip():
        return False
    if step is ASK and item.spec is not None and item.spec.type is FieldType.TEXT:
        return False  # several lines are a fine answer to a text question
    number = item.open.directive.number
    parsed = parse_quick_reply(item.form, text, ctx.today, [number] if number else [])
    if not parsed.complete or len(parsed.values) < 2 or typed_answers(item.form, parsed) < 1:
        return False
    values = dict(parsed.values)
    for spec in item.form.photo_fields:
        if item.draft.values.get(spec.key):
            values[spec.key] = item.draft.values[spec.key]
    item.draft.values = values
    if missing_required(item.form, values):
        return False
    await submit(ctx, item)
    return True


# -- evidence photos --------------------------------------------------------------------------------------------


async def _photo_outside_flow(ctx: Context) -> None:
    """Evidence photos sent on their own (or with a one-message report as caption)."""
    cands = await open_targets(ctx.session, secretary_units(ctx))
    if not cands:
        ctx.reply(msg.NO_OPEN)
        return
    sha = await store_photo(ctx)
    if sha is None:
        return
    caption = ctx.event.text or ""
    if caption.strip() and await _quick(ctx, cands, caption, [sha]):
        return
    preferred = [c for c in cands if not c.reported] or cands
    if len(preferred) > 1:
        await choose(ctx, preferred, photos=[sha])
        return
    await _begin(ctx, preferred[0], [sha])


async def _photo_in_flow(ctx: Context, step: ReportStep, item: Item) -> None:
    file = ctx.event.file
    assert file is not None
    if not is_image(file):
        await reprompt(ctx, step, item, msg.NOT_A_PHOTO if file.kind == "document" else msg.UNSUPPORTED)
        return
    current = item.spec
    spec = (
        current
        if step is ASK and current is not None and current.type is FieldType.PHOTO
        else next(iter(item.form.photo_fields), None)
    )
    if spec is None:
        await reprompt(ctx, step, item, msg.PHOTO_NO_FIELD.format(number=item.number))
        return
    if len(item.draft.values.get(spec.key) or []) >= MAX_PHOTOS:
        await reprompt(ctx, step, item, msg.PHOTO_TOO_MANY.format(max=MAX_PHOTOS))
        return
    sha = await store_photo(ctx)
    if sha is None:
        return
    add_photos(item.form, item.draft.values, [sha], spec.key)
    count = len(item.draft.values[spec.key])
    if step is ASK and current is spec:
        await ask(ctx, item)
    elif step is SUMMARY:
        await summary(ctx, item, added_summary(ctx).format(count=count), short=True)
    else:
        await reprompt(ctx, step, item, msg.PHOTO_ADDED.format(count=count))
