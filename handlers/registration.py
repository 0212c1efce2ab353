"""Joining the bot: an invite code (deep link or typed), then the person's phone number, then the account is linked.

The steps are `RegistrationStep`; docs/flows.md draws the flow."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select, update

from bot.core.events import Reply
from bot.services import directives, invites, levels
from bot.services.audit import audit
from bot.services.invites import InviteStatus
from bot.services.outbox import REPLY
from bot.services.phones import normalize_phone
from handlers import menu
from handlers.context import Context, Push
from messages import common
from messages import registration as msg
from storage.models import ChannelAccount, Invite, Role, Unit

log = logging.getLogger(__name__)

FLOW = "register"


class RegistrationStep(StrEnum):
    """Where a registration stands (the value is what the conversation row stores)."""

    CODE = "code"  # no good code yet: the failed tries are counted, any message routes as usual
    PHONE = "phone"  # a good code: waiting for the person's phone number


MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(hours=1)
MAX_PHONE_TRIES = 3  # typed phones that do not match the roster, before she must ask the board

REFUSALS = {
    InviteStatus.UNKNOWN: msg.CODE_UNKNOWN,
    InviteStatus.USED: msg.CODE_USED,
    InviteStatus.EXPIRED: msg.CODE_EXPIRED,
    InviteStatus.REVOKED: msg.CODE_REVOKED,
}


def looks_like_code(text: str | None) -> bool:
    return bool(text) and invites.clean_code(text or "") is not None


async def try_code(ctx: Context, typed: str) -> None:
    """Check an invite code; if good, greet the invitee and ask for their phone number."""
    conv = await ctx.conversation()
    data = dict(conv.data) if conv is not None and conv.flow == FLOW else {}
    if _locked_out(ctx, data):
        ctx.reply(msg.TOO_MANY_TRIES)
        return
    code = invites.clean_code(typed)
    status, invite = (
        (InviteStatus.UNKNOWN, None) if code is None else await invites.check(ctx.session, ctx.clock, code)
    )
    if status is not InviteStatus.OK or invite is None:
        await _count_failure(ctx, data)
        ctx.reply(REFUSALS[status])
        return
    role_held = await ctx.session.scalar(
        select(Role.id).where(
            Role.person_id == invite.person_id, Role.kind == invite.role_kind, _same_unit(invite.unit_id)
        )
    )
    if role_held is None:
        ctx.reply(msg.CODE_REVOKED)
        return
    unit = await ctx.session.get(Unit, invite.unit_id) if invite.unit_id else None
    # The wrong-code count goes on: a valid code (one's own) between guesses must not reset the lockout.
    failures: dict[str, object] = {key: data[key] for key in ("fails", "fail_since") if key in data}
    await ctx.set_state(FLOW, RegistrationStep.PHONE, {**failures, "invite_id": invite.id})
    can_share = ctx.can_share_contact
    ctx.reply(
        msg.greeting(
            invite.person.full_name,
            invite.role_kind,
            unit.name if unit else None,
            can_share_contact=can_share,
        ),
        request_contact=can_share,
    )


async def on_phone_step(ctx: Context) -> None:
    """In the registration flow, waiting for the phone number (a shared contact, or typed where no button exists)."""
    event = ctx.event
    conv = await ctx.conversation()
    assert conv is not None
    if (event.command == "start" and event.args) or (looks_like_code(event.text) and not event.contact_phone):
        await try_code(ctx, event.args if event.command == "start" else event.text or "")
        return
    invite = await ctx.session.get(Invite, conv.data.get("invite_id"))
    if invite is None:
        await ctx.clear_state()
        ctx.reply(common.NOT_REGISTERED)
        return
    phone_given = _phone_given(ctx)
    if phone_given is None:
        return
    status = invites.status_of(invite, ctx.clock.now())
    if status is not InviteStatus.OK:
        await ctx.clear_state()
        ctx.reply(REFUSALS[status], remove_keyboard=True)
        return
    phone = normalize_phone(phone_given)
    if phone is None:
        ctx.reply(msg.PHONE_INVALID, request_contact=ctx.can_share_contact)
        return
    person = invite.person
    if person.phone and person.phone != phone:
        await audit(ctx.session, ctx.clock, "account.phone_mismatch", person_id=person.id, actor=_actor(ctx))
        await _mismatch(ctx, dict(conv.data))
        return
    await _link(ctx, invite, phone)


async def _mismatch(ctx: Context, data: dict[str, object]) -> None:
    """A phone that is not the roster's. A shared contact is the account's own number: only the board can help.
    A typed one may be a slip, so she may type it again a few times; then she needs the board and her code again."""
    if ctx.can_share_contact:
        ctx.reply(msg.PHONE_MISMATCH, remove_keyboard=True)
        return
    tries = int(str(data.get("phone_tries", 0))) + 1
    if tries >= MAX_PHONE_TRIES:
        await ctx.clear_state()
        ctx.reply(msg.PHONE_MISMATCH_LAST)
        return
    await ctx.set_state(FLOW, RegistrationStep.PHONE, {**data, "phone_tries": tries})
    ctx.reply(msg.PHONE_MISMATCH_TYPED.format(left=MAX_PHONE_TRIES - tries))


def _phone_given(ctx: Context) -> str | None:
    """The phone number in this event, or None after telling the person how to give it."""
    event = ctx.event
    can_share = ctx.can_share_contact
    if event.contact_phone:
        if not event.contact_is_own:
            ctx.reply(msg.PHONE_NOT_OWN, request_contact=True)
            return None
        return event.contact_phone
    if not can_share and event.text:
        return event.text
    ctx.reply(msg.PHONE_USE_BUTTON if can_share else msg.PHONE_INVALID, request_contact=can_share)
    return None


async def _link(ctx: Context, invite: Invite, phone: str) -> None:
    event = ctx.event
    now = ctx.clock.now()
    person = invite.person
    if person.phone is None:
        person.phone = phone
    # A new phone or a new account replaces the person's old account on this channel.
    await ctx.session.execute(
        update(ChannelAccount)
        .where(
            ChannelAccount.person_id == person.id,
            ChannelAccount.channel == event.channel,
            ChannelAccount.user_id != event.user_id,
        )
        .values(active=False)
    )
    account = await ctx.session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.channel == event.channel, ChannelAccount.user_id == event.user_id
        )
    )
    if account is None:
        account = ChannelAccount(
            person_id=person.id,
            channel=event.channel,
            user_id=event.user_id,
            chat_id=event.chat_id,
            display_name=event.display_name,
            linked_at=now,
            last_seen_at=now,
            active=True,
        )
        ctx.session.add(account)
    else:
        account.person_id = person.id
        account.chat_id = event.chat_id
        account.display_name = event.display_name
        account.linked_at = now
        account.last_seen_at = now
        account.active = True
    await ctx.session.flush()
    invite.used_at = now
    invite.account_id = account.id
    await ctx.clear_state()
    await audit(
        ctx.session,
        ctx.clock,
        "account.link",
        person_id=person.id,
        actor=_actor(ctx),
        details={"channel": event.channel.value, "role": invite.role_kind},
    )
    unit = await ctx.session.get(Unit, invite.unit_id) if invite.unit_id else None
    roles = list((await ctx.session.scalars(select(Role).where(Role.person_id == person.id))).all())
    ctx.person, ctx.account, ctx.roles = person, account, roles
    ctx.reply(
        msg.linked(person.full_name, invite.role_kind, unit.name if unit else None), remove_keyboard=True
    )
    _refresh_menu(ctx)
    cells = [r.unit_id for r in roles if r.kind == "secretary" and r.unit_id is not None]
    boards = [r.unit_id for r in roles if r.kind == "board" and r.unit_id is not None]
    help_reply = Reply(text=menu.help_for(ctx))
    channel, chat_id = event.channel.value, event.chat_id
    if await directives.catch_up(ctx.session, ctx.clock, cells, channel, chat_id):
        # The directives she missed come right after the welcome, each card with its files; the help comes last,
        # as a row of its own after theirs (the outbox sends a chat's rows one after another, by creation).
        ctx.pushes.append(Push(event.channel.value, event.chat_id, help_reply))
        ctx.after_commit.append(ctx.runtime.sender.wake)
    else:
        ctx.send(help_reply)
    # A board member: the upper directives held for the unit's board, or handed to it before they joined. Their
    # cards are the last rows written, so on Zalo their choices are the last ones offered (typed by number).
    for card in await levels.catch_up(ctx.session, ctx.clock, boards):
        ctx.pushes.append(Push(channel, chat_id, card, kind=REPLY))
    if boards:
        ctx.after_commit.append(ctx.runtime.sender.wake)


def _refresh_menu(ctx: Context) -> None:
    channel = ctx.runtime.channels.get(ctx.event.channel)
    if channel is None:
        return
    ctx.runtime.spawn(channel.set_commands(ctx.event.chat_id, menu.commands_for(ctx)), name="command menu")


def _same_unit(unit_id: int | None) -> ColumnElement[bool]:
    return Role.unit_id == unit_id if unit_id is not None else Role.unit_id.is_(None)


def _actor(ctx: Context) -> str:
    return f"{ctx.event.channel.value}:{ctx.event.user_id}"


def _locked_out(ctx: Context, data: dict[str, object]) -> bool:
    since = data.get("fail_since")
    if not isinstance(since, str) or int(str(data.get("fails", 0))) < MAX_FAILURES:
        return False
    return ctx.clock.now() - datetime.fromisoformat(since) < FAILURE_WINDOW


async def _count_failure(ctx: Context, data: dict[str, object]) -> None:
    now = ctx.clock.now()
    since = data.get("fail_since")
    if not isinstance(since, str) or now - datetime.fromisoformat(since) >= FAILURE_WINDOW:
        data = {"fails": 0, "fail_since": now.isoformat()}
    data["fails"] = int(str(data.get("fails", 0))) + 1
    await ctx.set_state(FLOW, RegistrationStep.CODE, data)


# The steps that take the next message whatever it is (at CODE a message routes as if there were no conversation).
ON_MESSAGE: dict[RegistrationStep, Callable[[Context], Awaitable[None]]] = {
    RegistrationStep.PHONE: on_phone_step
}
