"""One-message reports from many cells handled together: the batch lane of the dispatcher.

Near a deadline hundreds of secretaries send their one-line report within minutes. On its own each report costs a
dozen statements; here every event waiting at that moment that may be one is read in one transaction: identities,
conversations, open directives and previous versions are loaded for all of them at once, and the complete reports
are saved and receipted together. Anything else (a question, a partial report, a choice between directives,
someone in the middle of a form) is left to the ordinary route, which handles it exactly as it always does.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, tuple_

from bot.core.events import ChannelName, Incoming
from bot.services.choices import last_offered, typed_choice
from bot.services.quick_pick import quick_values, read_quick
from bot.services.reports import NewReport, OpenTarget, latest_reports, open_targets, save_reports
from handlers.classify import EventKind, classify
from handlers.context import Context
from handlers.lane import BatchLane
from handlers.report_prompts import push_if_rapid, send_receipt
from handlers.report_state import Draft, Item, asks_to_report, forms_of
from handlers.secretary import secretary_units
from storage.models import Conversation


def may_be_report(event: Incoming) -> bool:
    """Before any query: plain text that may hold two parts or more (";", lines, or commas: quick_reply reads
    which); a report with one answer goes the ordinary way."""
    text = event.text or ""
    return (
        event.command is None
        and event.button is None
        and event.file is None
        and event.contact_phone is None
        and (";" in text or "," in text or "\n" in text.strip())
    )


async def handle_batch(ctxs: list[Context]) -> list[bool]:
    """Save and receipt the complete one-message reports among `ctxs` (events seen for the first time: the
    dispatcher recorded them); for each event, whether it was handled."""
    plans = await _plan(await _free_messages(ctxs))
    if plans:
        ctx0 = ctxs[0]
        submitted = [
            NewReport(
                item.open.directive,
                item.draft.unit_id,
                item.draft.values,
                ctx.person.id if ctx.person else None,
                str(ctx.event.channel),
            )
            for ctx, item in plans
        ]
        reports = await save_reports(ctx0.session, ctx0.clock, ctx0.settings.tz, submitted)
        for (ctx, item), report in zip(plans, reports, strict=True):
            send_receipt(ctx, item, report)
            await push_if_rapid(ctx, item, report)
    handled = {id(ctx) for ctx, _ in plans}
    return [id(ctx) in handled for ctx in ctxs]


LANE = BatchLane(accepts=may_be_report, handle=handle_batch)


async def _free_messages(ctxs: list[Context]) -> list[Context]:
    """The events the router would hand to `reports.on_free_message`, from secretaries of exactly one cell.
    Each is classified as if its sender had no conversation; those who have one are left out next."""
    ctxs = [
        ctx
        for ctx in ctxs
        if classify(ctx, None) is EventKind.FREE_MESSAGE
        and len(secretary_units(ctx)) == 1
        and (ctx.event.text or "").strip()
        and not asks_to_report(ctx.event.text or "")
    ]
    if not ctxs:
        return []
    session = ctxs[0].session
    pairs = {(ctx.event.channel.value, ctx.event.user_id) for ctx in ctxs}
    in_flow = select(Conversation.channel, Conversation.user_id).where(
        tuple_(Conversation.channel, Conversation.user_id).in_(pairs)
    )
    busy = {(channel, user) for channel, user in await session.execute(in_flow)}
    ctxs = [ctx for ctx in ctxs if (ctx.event.channel.value, ctx.event.user_id) not in busy]
    for ctx in ctxs:
        ctx.set_no_conversation()
    return await _without_typed_choices(ctxs)


async def _without_typed_choices(ctxs: list[Context]) -> list[Context]:
    """Where buttons are numbered text (Zalo), leave out the events whose text picks one of the choices last
    offered: the ordinary route takes them as the button pressed."""
    by_channel: dict[ChannelName, list[Context]] = defaultdict(list)
    for ctx in ctxs:
        if not ctx.has_buttons:
            by_channel[ctx.event.channel].append(ctx)
    picked: set[int] = set()
    for channel, group in by_channel.items():
        offered = await last_offered(group[0].session, channel, [ctx.event.chat_id for ctx in group])
        picked |= {
            id(ctx)
            for ctx in group
            if typed_choice(ctx.event, offered.get(ctx.event.chat_id, [])) is not ctx.event
        }
    return [ctx for ctx in ctxs if id(ctx) not in picked]


async def _plan(ctxs: list[Context]) -> list[tuple[Context, Item]]:
    """The complete reports among the free messages, each on the one open directive it names or fits."""
    if not ctxs:
        return []
    session = ctxs[0].session
    by_unit: dict[int, list[OpenTarget]] = defaultdict(list)
    for opened in await open_targets(session, list({secretary_units(ctx)[0] for ctx in ctxs})):
        by_unit[opened.target.unit_id].append(opened)  # in the order open_targets gives one cell
    forms = await forms_of(ctxs[0], [opened for cands in by_unit.values() for opened in cands])
    picks = []
    for ctx in ctxs:
        cands = by_unit.get(secretary_units(ctx)[0], [])
        if not cands:
            continue
        their_forms = {c.directive.form_key: forms[c.directive.form_key] for c in cands}
        pick = read_quick(cands, their_forms, ctx.event.text or "", ctx.today)
        if pick is not None and len(pick.targets) == 1 and pick.parsed.refusal is None:
            picks.append((ctx, pick))
    latest = await latest_reports(
        session, [(p.targets[0].directive.id, p.targets[0].target.unit_id) for _, p in picks]
    )
    plans = []
    for ctx, pick in picks:
        opened = pick.targets[0]
        key = (opened.directive.id, opened.target.unit_id)
        values, still_to_ask = quick_values(pick.form, pick.parsed, latest.get(key), [])
        if not still_to_ask:
            plans.append((ctx, Item(Draft(key[0], key[1], values), opened, pick.form)))
    return plans
