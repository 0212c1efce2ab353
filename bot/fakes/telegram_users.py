"""A simulated Telegram user of the fake Bot API: acts (text, commands, contact, files, button presses)
and sees what the bot sent to their private chat."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bot.fakes.inbox import Inbox
from bot.fakes.telegram_models import JSON, SentMessage
from bot.fakes.telegram_text import command_entities

if TYPE_CHECKING:
    from bot.fakes.telegram_server import FakeTelegram

# Offset for the user_id of a contact that is not the sender's own (a phone-book entry on Telegram).
_OTHER_CONTACT_OFFSET = 7_000_000_000


class FakeUser(Inbox[SentMessage, int]):
    """One person with a private chat with the bot (chat id == user id).

    `messages` keeps every message the bot sent here, in order; edits change them in place and deleted
    ones stay with `deleted=True`, so counts never go down.
    """

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str = "",
        username: str | None = None,
        language_code: str = "vi",
        started: bool = True,
    ) -> None:
        super().__init__()
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started
        self.callback_answers: list[dict] = []
        self.version = 0  # bumped on every new message, edit or callback answer

    # --- identity -------------------------------------------------------------------------------------
    def as_json(self) -> JSON:
        """The User object Telegram puts in `from`."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> JSON:
        """The Chat object of this user's private chat with the bot."""
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # --- actions --------------------------------------------------------------------------------------
    async def send_text(self, text: str) -> int:
        """The user types a message; commands in it get bot_command entities as on Telegram."""
        message = self._message()
        message["text"] = text
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        return await self._send(message)

    async def send_command(self, command: str, args: str = "") -> int:
        """E.g. send_command("/start", "CODE") sends "/start CODE", as a deep link does."""
        command = command if command.startswith("/") else f"/{command}"
        return await self.send_text(f"{command} {args}" if args else command)

    async def share_contact(self, phone: str, own: bool = True) -> int:
        """The user shares a contact: their own (user_id == theirs) or someone else's."""
        contact: JSON = {"phone_number": phone, "first_name": self.first_name}
        if own:
            contact["user_id"] = self.id
            if self.last_name:
                contact["last_name"] = self.last_name
        else:
            contact.update(first_name="Contact", user_id=self.id + _OTHER_CONTACT_OFFSET)
        message = self._message()
        message["contact"] = contact
        return await self._send(message)

    async def send_document(self, filename: str, content: bytes, mime_type: str, caption: str = "") -> int:
        stored = self.server.store_file("document", content, filename, mime_type)
        message = self._message()
        message["document"] = stored.document_json()
        return await self._send(self._with_caption(message, caption))

    async def send_photo(self, content: bytes, caption: str = "", media_group_id: str | None = None) -> int:
        """A photo; with `media_group_id`, one photo of an album (Telegram sends each as an update of its own)."""
        sizes = self.server.store_photo(content)
        message = self._message()
        message["photo"] = [size.photo_size_json() for size in sizes]
        if media_group_id:
            message["media_group_id"] = media_group_id
        return await self._send(self._with_caption(message, caption))

    async def press(self, label_or_data: str, message: SentMessage | None = None) -> int:
        """Tap an inline button (by label or callback_data) on `message` or the newest message showing it."""
        target = message or self._newest_with_button(label_or_data)
        button = next((b for b in target.buttons if label_or_data in (b.label, b.data)), None)
        if button is None or button.data is None:
            raise AssertionError(f"no callback button {label_or_data!r} on {target.summary()}")
        return await self._callback(target, button.data)

    async def press_data(self, data: str) -> int:
        """A forged button press: `data` sent as callback data from the newest message, as a modified client can."""
        return await self._callback(self.last, data)

    async def _callback(self, target: SentMessage, data: str) -> int:
        update_id = self.server.next_update_id()
        query_id = self.server.open_callback_query(self)
        query: JSON = {
            "id": query_id,
            "from": self.as_json(),
            "message": self.server.message_json(target),
            "chat_instance": str(self.id * 7919 % 10**12),
            "data": data,
        }
        self._activate()
        self.server.emit({"update_id": update_id, "callback_query": query}, self.id)
        await asyncio.sleep(0)
        return update_id

    # --- what the user sees ---------------------------------------------------------------------------
    @property
    def last(self) -> SentMessage:
        if not self.messages:
            raise AssertionError(f"the bot sent nothing to user {self.id}")
        return self.messages[-1]

    # --- used by the server ---------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake waiters: a message arrived or changed."""
        self.version += 1
        self.changed()

    def describe(self) -> str:
        if not self.messages:
            return "received nothing"
        lines = "\n  ".join(m.summary() for m in self.messages)
        return f"received {len(self.messages)}:\n  {lines}"

    def _newest_with_button(self, label_or_data: str) -> SentMessage:
        for sent in reversed(self.messages):
            if not sent.deleted and any(label_or_data in (b.label, b.data) for b in sent.buttons):
                return sent
        raise AssertionError(
            f"no message with button {label_or_data!r} for user {self.id}; {self.describe()}"
        )

    def _message(self) -> JSON:
        return {
            "message_id": self.server.next_message_id(self.id),
            "from": self.as_json(),
            "chat": self.chat_json(),
            "date": int(time.time()),
        }

    @staticmethod
    def _with_caption(message: JSON, caption: str) -> JSON:
        if caption:
            message["caption"] = caption
            entities = command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return message

    def _activate(self) -> None:
        """Writing to the bot means the user has started it and has not blocked it."""
        self.started = True
        if self.id in self.server.blocked:
            self.server.unblock(self.id)

    async def _send(self, message: JSON) -> int:
        self._activate()
        update_id = self.server.next_update_id()
        self.server.emit({"update_id": update_id, "message": message}, self.id)
        await asyncio.sleep(0)
        return update_id
