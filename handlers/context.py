"""What a handler gets for one incoming event: who sent it, a database session, and ways to answer.

Answers are collected here and written to the outbox in the same transaction as the handler's other writes, so
an answer is never lost and never sent for work that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Button, Incoming, Reply
from bot.core.host import Host
from storage.models import ChannelAccount, Conversation, Person, Role


@dataclass
class Push:
    """A message to someone other than the sender of the event (e.g. a board member told of a report)."""

    channel: str
    chat_id: str
    reply: Reply
    kind: str = "notice"


@dataclass
class Context:
    event: Incoming
    session: AsyncSession
    runtime: Host  # the running bot, as far as a handler may use it
    account: ChannelAccount | None = None
    person: Person | None = None
    roles: list[Role] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _conversation: Conversation | None = None
    _conversation_loaded: bool = False

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def today(self) -> date:
        """Today where the users are."""
        return self.clock.today(self.settings.tz)

    # -- where ---------------------------------------------------------------------------------------------

    @property
    def has_buttons(self) -> bool:
        """Whether the event's channel shows buttons (else choices are numbered and typed)."""
        channel = self.runtime.channels.get(self.event.channel)
        return channel.has_buttons if channel is not None else True

    @property
    def has_commands(self) -> bool:
        """Whether the event's channel has slash commands with a menu (else texts name the words to type)."""
        channel = self.runtime.channels.get(self.event.channel)
        return channel.has_commands if channel is not None else True

    @property
    def can_share_contact(self) -> bool:
        channel = self.runtime.channels.get(self.event.channel)
        return channel.can_share_contact if channel is not None else False

    # -- who ----------------------------------------------------------------------------------------------

    def has_role(self, *kinds: str) -> bool:
        return any(r.kind in kinds for r in self.roles)

    @property
    def role_kinds(self) -> set[str]:
        return {r.kind for r in self.roles}

    # -- answering ----------------------------------------------------------------------------------------

    def reply(
        self,
        text: str,
        buttons: list[list[Button]] | None = None,
        *,
        request_contact: bool = False,
        remove_keyboard: bool = False,
        listed: bool = False,
    ) -> None:
        self.replies.append(
            Reply(
                text=text,
                buttons=buttons or [],
                request_contact=request_contact,
                remove_keyboard=remove_keyboard,
                listed=listed,
            )
        )

    def send(self, reply: Reply) -> None:
        self.replies.append(reply)

    # -- conversation state -------------------------------------------------------------------------------

    async def conversation(self) -> Conversation | None:
        if not self._conversation_loaded:
            self._conversation = await self.session.scalar(
                select(Conversation).where(
                    Conversation.channel == self.event.channel, Conversation.user_id == self.event.user_id
                )
            )
            self._conversation_loaded = True
        return self._conversation

    def set_no_conversation(self) -> None:
        """The caller checked (for many events at once) that this user has no conversation row."""
        self._conversation, self._conversation_loaded = None, True

    async def set_state(self, flow: str, step: str = "", data: dict[str, Any] | None = None) -> Conversation:
        conv = await self.conversation()
        now = self.clock.now()
        if conv is None:
            conv = Conversation(
                channel=self.event.channel, user_id=self.event.user_id, flow=flow, updated_at=now
            )
            self.session.add(conv)
            self._conversation = conv
        conv.flow = flow
        conv.step = step
        conv.data = dict(data or {})
        conv.updated_at = now
        return conv

    async def clear_state(self) -> None:
        if self._conversation_loaded and self._conversation is None:
            return
        await self.session.execute(
            delete(Conversation).where(
                Conversation.channel == self.event.channel, Conversation.user_id == self.event.user_id
            )
        )
        self._conversation = None
        self._conversation_loaded = True
