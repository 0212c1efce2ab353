"""What the report form says at each step: the question, the summary, the list of answers to change, and the
receipt once the report is saved. Each prompt first stores the draft at its step, so the next message finds it."""

from __future__ import annotations

from typing import Any

from bot.core.events import Button, Reply
from bot.services import rapid
from bot.services.forms import FieldSpec, FieldType, FormSpec
from bot.services.reports import save_report
from handlers import buttons as b
from handlers.context import Context, Push
from handlers.report_state import FLOW, Item, ReportStep, unit_suffix
from messages import reports as msg
from messages.formats import day, moment
from storage.models import Report


def numbered(ctx: Context) -> bool:
    """True on channels without buttons, where choices arrive as a numbered list answered by number."""
    return not ctx.has_buttons


def said(ctx: Context, pressed: str, typed: str) -> str:
    """The text for the channel: `pressed` speaks of buttons, `typed` of the words to type where there are none."""
    return typed if numbered(ctx) else pressed


def value_lines(form: FormSpec, values: dict[str, Any], *, only_given: bool = False) -> list[str]:
    items = [
        (index, spec.label, spec.type.value, values.get(spec.key))
        for index, spec in enumerate(form.fields, start=1)
        if not only_given or spec.key in values
    ]
    return msg.value_lines(items)


def missing_required(form: FormSpec, values: dict[str, Any]) -> list[FieldSpec]:
    return [spec for spec in form.fields if spec.required and values.get(spec.key) in (None, "", [])]


# -- ReportStep.ASK -------------------------------------------------------------------------------------------------


async def ask(ctx: Context, item: Item, *lead: str) -> None:
    """Store the draft at its current question and ask it, after any `lead` lines (a refusal, a notice)."""
    await ctx.set_state(FLOW, ReportStep.ASK, item.draft.to_data())
    spec = item.spec
    assert spec is not None
    draft = item.draft
    lines = [*lead]
    optional = "" if spec.required else msg.OPTIONAL_MARK
    lines.append(
        msg.QUESTION.format(index=draft.pos + 1, count=len(draft.queue), label=spec.label, optional=optional)
    )
    if spec.hint:
        lines.append(msg.HINT_LINE.format(hint=spec.hint))
    value = draft.values.get(spec.key)
    if spec.type is FieldType.PHOTO:
        count = len(value or [])
        if count:
            lines.append(said(ctx, msg.PHOTO_RECEIVED, msg.PHOTO_RECEIVED_TYPED).format(count=count))
        elif spec.required:
            lines.append(msg.PHOTO_PROMPT)
        else:
            lines.append(said(ctx, msg.PHOTO_PROMPT_SKIP, msg.PHOTO_PROMPT_SKIP_TYPED))
    else:
        if value is not None:
            lines.append(msg.CURRENT_VALUE.format(value=msg.render_value(spec.type.value, value)))
        if spec.type is FieldType.CHOICE:
            lines.append(said(ctx, msg.CHOICES_PROMPT, msg.CHOICES_PROMPT_TYPED))
        elif not spec.required and (not spec.hint or numbered(ctx)):
            lines.append(msg.SKIP_HINT)
    if numbered(ctx):
        # Without buttons, numbers pick only a choice field's options; going back or stopping is a word, so "2"
        # or "25/30" typed at a number or ratio question is always its answer. The options come last.
        lines.insert(len(lines) - 1 if spec.type is FieldType.CHOICE else len(lines), msg.TYPED_NAV_HINT)
        ctx.reply("\n".join(lines), choice_buttons(item, spec))
        return
    ctx.reply("\n".join(lines), ask_buttons(item, spec))


def choice_buttons(item: Item, spec: FieldSpec) -> list[list[Button]]:
    d = item.directive_id
    return [[Button(choice, b.PickChoice(d, spec.key, i).encode())] for i, choice in enumerate(spec.choices)]


def ask_buttons(item: Item, spec: FieldSpec) -> list[list[Button]]:
    d = item.directive_id
    rows = choice_buttons(item, spec)
    nav = [Button(msg.BUTTON_BACK, b.Back(d).encode())]
    photos = item.draft.values.get(spec.key) or []
    if spec.type is FieldType.PHOTO and photos:
        nav.append(
            Button(msg.BUTTON_PHOTOS_DONE.format(count=len(photos)), b.PhotosDone(d, spec.key).encode())
        )
    elif not spec.required:
        nav.append(Button(msg.BUTTON_SKIP, b.SkipField(d, spec.key).encode()))
    nav.append(Button(msg.BUTTON_CANCEL, b.CancelReport().encode()))
    rows.append(nav)
    return rows


# -- ReportStep.SUMMARY ---------------------------------------------------------------------------------------------


async def to_summary(ctx: Context, item: Item, *lead: str) -> None:
    """The summary, unless a required answer is still missing: then ask for those first."""
    missing = missing_required(item.form, item.draft.values)
    if missing:
        item.draft.queue, item.draft.pos, item.draft.to_summary = [s.key for s in missing], 0, False
        labels = ", ".join(s.label for s in missing)
        await ask(ctx, item, *lead, msg.REQUIRED_LEFT.format(labels=labels))
        return
    await summary(ctx, item, *lead)


def summary_buttons(item: Item) -> list[list[Button]]:
    d = item.directive_id
    send = msg.BUTTON_RESEND if item.open.reported else msg.BUTTON_SEND
    return [
        [Button(send, b.SendReport(d).encode()), Button(msg.BUTTON_EDIT, b.EditReport(d).encode())],
        [Button(msg.BUTTON_BACK, b.Back(d).encode()), Button(msg.BUTTON_CANCEL, b.CancelReport().encode())],
    ]


async def summary(ctx: Context, item: Item, *lead: str, short: bool = False) -> None:
    """Every answer, with "Gửi" and "Sửa"; `short` only repeats the buttons after a notice (e.g. a photo)."""
    await ctx.set_state(FLOW, ReportStep.SUMMARY, item.draft.to_data())
    lines = [*lead]
    if not short:
        lines.append(msg.SUMMARY_TITLE.format(number=item.number, unit=unit_suffix(item.open)))
        lines.extend(value_lines(item.form, item.draft.values))
        lines.append(said(ctx, msg.SUMMARY_HINT, msg.SUMMARY_HINT_TYPED))
    elif numbered(ctx):
        lines.append(msg.SUMMARY_HINT_TYPED)
    # Without buttons: "gửi", "sửa", "quay lại", "hủy" are typed words (reports._summary_typed), no numbers.
    ctx.reply("\n".join(lines), [] if numbered(ctx) else summary_buttons(item))


# -- ReportStep.PICK ------------------------------------------------------------------------------------------------


def pick_buttons(item: Item) -> list[list[Button]]:
    d = item.directive_id
    rows = [
        [Button(msg.BUTTON_FIELD.format(index=index, label=spec.label), b.EditField(d, spec.key).encode())]
        for index, spec in enumerate(item.form.fields, start=1)
    ]
    rows.append(
        [Button(msg.BUTTON_BACK, b.Back(d).encode()), Button(msg.BUTTON_CANCEL, b.CancelReport().encode())]
    )
    return rows


async def pick(ctx: Context, item: Item, *lead: str) -> None:
    await ctx.set_state(FLOW, ReportStep.PICK, item.draft.to_data())
    if not numbered(ctx):
        ctx.reply("\n".join([*lead, msg.PICK]), pick_buttons(item))
        return
    # Without buttons the fields are listed once, numbered; only they are picked by number (no "1. 1. Ngày").
    fields = [
        msg.PICK_LINE.format(index=index, label=spec.label)
        for index, spec in enumerate(item.form.fields, start=1)
    ]
    text = "\n".join([*lead, msg.PICK_TYPED, *fields, msg.PICK_NAV_TYPED])
    ctx.reply(text, pick_buttons(item)[:-1], listed=True)


async def reprompt(ctx: Context, step: ReportStep, item: Item, *lead: str) -> None:
    """Say again what the step asks, after `lead` (a notice or a refusal)."""
    if step is ReportStep.ASK:
        await ask(ctx, item, *lead)
    elif step is ReportStep.SUMMARY:
        await summary(ctx, item, *lead)
    else:
        await pick(ctx, item, *lead)


# -- sending ------------------------------------------------------------------------------------------------------


async def submit(ctx: Context, item: Item) -> None:
    """Save the draft as the cell's newest report version and send the receipt."""
    if missing_required(item.form, item.draft.values):
        await to_summary(ctx, item)
        return
    report = await save_report(
        ctx.session,
        ctx.clock,
        ctx.settings.tz,
        directive=item.open.directive,
        unit_id=item.draft.unit_id,
        values=item.draft.values,
        person_id=ctx.person.id if ctx.person else None,
        channel=str(ctx.event.channel),
    )
    await ctx.clear_state()
    send_receipt(ctx, item, report)
    await push_if_rapid(ctx, item, report)


async def push_if_rapid(ctx: Context, item: Item, report: Report) -> None:
    """A report on a rapid form goes to the board members over the cell now, not with the daily summary."""
    if not item.form.rapid:
        return
    text = rapid.notice(
        item.form, item.open.directive, item.open.unit_name, report, item.draft.values, ctx.settings.tz
    )
    for person in await rapid.recipients(ctx.session, report.unit_id):
        ctx.pushes.append(Push(person.channel, person.chat_id, Reply(text=text), kind=rapid.KIND))


def send_receipt(ctx: Context, item: Item, report: Report) -> None:
    directive = item.open.directive
    lines = [
        msg.RECEIPT.format(
            number=item.number,
            unit=item.open.unit_name,
            time=moment(report.submitted_at, ctx.settings.tz),
            ref=report.ref,
        )
    ]
    if report.version > 1:
        lines.append(msg.RECEIPT_VERSION.format(version=report.version))
    if report.late:
        lines.append(msg.RECEIPT_LATE.format(deadline=day(directive.deadline)))
    lines.append(msg.RECEIPT_CONTENT)
    lines.extend(value_lines(item.form, item.draft.values))
    if numbered(ctx):  # "sửa" is typed; a lone numbered choice would take the next "1" for itself
        lines.append(msg.RECEIPT_EDIT_HINT_TYPED)
        ctx.reply("\n".join(lines))
        return
    lines.append(msg.RECEIPT_EDIT_HINT)
    ctx.reply("\n".join(lines), [[Button(msg.BUTTON_EDIT_REPORT, b.OpenReport(directive.id).encode())]])
