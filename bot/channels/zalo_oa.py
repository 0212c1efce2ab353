"""The Zalo Official Account adapter: OA API v3.0 calls over aiohttp, events by signed webhook, neutral model.

What the OA can do and the Zalo Bot Platform cannot, used here: buttons (a "button" template whose `oa.query.hide`
buttons send their payload back as the user's text; payloads start with BUTTON_PREFIX so they come back as
`Incoming.button`), files sent natively (PDF, DOC, DOCX up to `file_max` bytes: uploaded once, the token returned
as `Sent.file_ref` for the outbox to reuse), and a form that shares the user's phone number (`request_user_info`,
answered by a `user_submit_info` event, `can_share_contact`).

Choices this adapter makes:
- every message goes by the consultation route (`/v3.0/oa/message/cs`); Zalo decides what it costs, and
  `Sent.cost` reports the dearest quota any part of the message used ("reply" is free, "sub_quota" the package's
  monthly quota, "purchase_quota" a paid message, counted in `spent_vnd` at `price_vnd`), `Sent.paid` how many
  parts were paid; `windows` describes these rules to the domain (forecasts, holding what may not go);
- an image goes as a media template by URL (a signed link): uploaded images live 7 days on Zalo's side, so a
  stored attachment_id would go stale; a file Zalo will not take (type, size, upload quota) goes as a link too;
- a file token Zalo no longer knows is uploaded again once (the outbox keeps the old one; that costs one upload);
- the text of a message comes first, then its attachment; buttons ride on the last part of the text, five per
  template (Zalo's limit as the fake reads it), more in further templates;
- OA events have no long polling: without a public URL and a web app the adapter cannot receive events.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.downloads import read_at_most
from bot.channels.zalo_oa_api import OaApi, ZaloOaError, delivery_error
from bot.channels.zalo_oa_events import BUTTON_PREFIX, signature_ok, to_incoming
from bot.channels.zalo_oa_tokens import TokenKeeper
from bot.core.events import (
    Button,
    ChannelName,
    Cost,
    Incoming,
    IncomingFile,
    IncomingHandler,
    NotStored,
    OutFile,
    Rejected,
    Reply,
    Sent,
    Transient,
    WindowRules,
)
from bot.services.files import FileStore
from messages import zalo_oa as msg
from messages.render import split_text
from messages.zalo import file_link

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo-oa/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT_LIMIT = 2000
BUTTONS_PER_TEMPLATE = 5
FILE_MAX = 5 * 1024 * 1024
NATIVE_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
MAX_DOWNLOAD = 50 * 1024 * 1024
COST_ORDER = ("reply", "promotion", "sub_quota", "transaction", "purchase_quota")  # cheapest first
COSTS = {
    "reply": Cost.FREE,
    "promotion": Cost.QUOTA,
    "sub_quota": Cost.QUOTA,
    "transaction": Cost.PAID,
    "purchase_quota": Cost.PAID,
}
# Consultation messages, as integrators cite them (docs/zalo-oa-api.md): free 48 h after the user's last
# interaction, about 8 per window; none after 7 days of silence.
FREE_HOURS, FREE_PER_WINDOW, HARD_LIMIT_DAYS = 48, 8, 7
FILE_REF = "file:"
LINK_REF = "link:"


class ZaloOaChannel:
    name = ChannelName.ZALO_OA
    has_buttons = True
    has_commands = False  # an OA's menu is set in its admin page, not by the bot
    can_share_contact = True

    def __init__(
        self,
        tokens: TokenKeeper,
        *,
        app_id: str,
        oa_secret_key: str,  # signs webhooks: the OA's secret key, which one guide says is not the app's
        api_url: str,
        files: FileStore | None = None,
        public_url: str | None = None,
        web_app: web.Application | None = None,
        link_maker: Callable[[OutFile], str] | None = None,
        price_vnd: int = 0,
        monthly_quota: int = 1000,
        file_max: int = FILE_MAX,
        retry_after: float = 60.0,  # -32 is a per-minute limit
        answer_within: float = 1.5,  # seconds; Zalo wants the webhook's 200 within 2
    ) -> None:
        self.tokens = tokens
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key
        self.files = files
        self.public_url = public_url
        self.web_app = web_app
        self.link_maker = link_maker
        self.price_vnd = price_vnd
        self.windows: WindowRules | None = WindowRules(
            free_hours=FREE_HOURS,
            free_per_window=FREE_PER_WINDOW,
            hard_limit_days=HARD_LIMIT_DAYS,
            monthly_quota=monthly_quota,
            price_vnd=price_vnd,
        )
        self.file_max = file_max
        self.retry_after = retry_after
        self.answer_within = answer_within
        self._handling: set[asyncio.Task[None]] = set()
        self.api = OaApi(api_url, tokens, self.http)
        self.costs: Counter[str] = Counter()
        self.spent_vnd = 0
        self._session: aiohttp.ClientSession | None = None
        self._on_event: IncomingHandler | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Send-only use (the command line): the connection pool opens on the first call."""

    async def start(self, on_event: IncomingHandler) -> None:
        self._on_event = on_event
        if self.web_app is None or not self.public_url:
            log.warning(
                "Zalo OA has no long polling: set CHIBO_PUBLIC_URL to receive events at %s", WEBHOOK_PATH
            )
            return
        self.web_app.router.add_post(WEBHOOK_PATH, self.webhook)
        try:  # say at start, not at the first send, that the OA cannot be reached
            await self.tokens.access_token()
        except Transient as exc:
            log.warning(
                "Zalo OA token unavailable at start (%s); messages wait in the outbox until it is", exc
            )

    async def stop(self) -> None:
        """Stop taking events; those being handled finish first."""
        self._on_event = None
        await asyncio.gather(*self._handling, return_exceptions=True)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def webhook(self, request: web.Request) -> web.Response:
        """Zalo's POST of one event: refused (401) unless signed with the OA secret key. Zalo wants its 200 within
        2 seconds or it retries for hours and may switch the webhook off, so a slow handling goes on after the
        answer (`answer_within`); a retry of an event already handled is recognised by its update id."""
        body = await request.read()
        if not signature_ok(self.app_id, self.oa_secret_key, body, request.headers.get(SIGNATURE_HEADER)):
            return web.Response(status=401)
        try:
            incoming = to_incoming(json.loads(body))
        except ValueError:
            return web.Response(status=400)
        if incoming is not None and self._on_event is not None:
            task = asyncio.create_task(self._dispatch(self._on_event, incoming))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
            await asyncio.wait({task}, timeout=self.answer_within)
        return web.json_response({"error": 0})

    async def _dispatch(self, on_event: IncomingHandler, incoming: Incoming) -> None:
        backoff = 1.0
        while True:
            try:
                await on_event(incoming)
                return
            except NotStored as exc:
                # Answered already (Zalo OA wants an answer within seconds): keep it here until it is stored.
                log.warning(
                    "Zalo OA event %s not stored (%s), again in %.0fs", incoming.update_id, exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:  # one bad event must not fail the others
                log.exception("handling Zalo OA event %s failed", incoming.update_id)
                return

    # -- sending ------------------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, file_ref: str | None = None) -> Sent:
        parts, refs = await self._parts(reply, file_ref)
        if not parts:
            raise Rejected("empty message: Zalo OA needs a text or an attachment")
        message_id, costs = "", []
        for message, carried in parts:
            try:
                data = await self._send_part(chat_id, message)
            except Rejected as exc:
                # A token Zalo no longer knows (one reused from an earlier send): upload again, once.
                reused = carried is not None and refs[carried] == _given_ref(reply, file_ref, carried)
                if type(exc) is not Rejected or not reused:
                    raise
                assert carried is not None
                token = await self._upload(reply.files[carried])
                if token is None:
                    raise
                data, refs[carried] = await self._send_part(chat_id, _file_part(token)), FILE_REF + token
            message_id = str(data.get("message_id", ""))
            costs.append(_quota(data))
        dearest = max(costs, key=_cost_rank)
        paid = sum(1 for c in costs if COSTS.get(c) == Cost.PAID)
        first, others = (refs[0], tuple(refs[1:])) if refs else (None, ())
        return Sent(message_id, file_ref=first, cost=COSTS.get(dearest), paid=paid, group_refs=others)

    async def _send_part(self, chat_id: str, message: dict[str, Any]) -> dict[str, Any]:
        try:
            data = await self.api.post_json(
                "/v3.0/oa/message/cs", {"recipient": {"user_id": chat_id}, "message": message}
            )
        except ZaloOaError as exc:
            raise delivery_error(exc, self.retry_after) from exc
        quota = _quota(data)
        self.costs[quota] += 1
        if quota == "purchase_quota":
            self.spent_vnd += self.price_vnd
        return data

    async def _parts(
        self, reply: Reply, file_ref: str | None
    ) -> tuple[list[tuple[dict[str, Any], int | None]], list[str | None]]:
        """The messages `reply` becomes, in order, each with the index of the file it carries natively (if any),
        and the file_ref of each file to report. The text and the buttons are one message (a button template), a
        link to a file Zalo will not carry joins that text, and each other file is a message of its own."""
        text = reply.text.strip()
        attachments: list[tuple[dict[str, Any], int | None]] = []
        refs: list[str | None] = []
        for i, file in enumerate(reply.files):
            if file.as_photo:
                attachments.append((_image(self._link(file)), None))
                refs.append(LINK_REF + file.sha256)
                continue
            token = await self._file_token(file, _given_ref(reply, file_ref, i))
            if token is None:
                text = "\n\n".join(p for p in (text, file_link(file.name, file.size, self._link(file))) if p)
                refs.append(LINK_REF + file.sha256)
            else:
                attachments.append((_file_part(token), i))
                refs.append(FILE_REF + token)
        chunks = split_text(text, TEXT_LIMIT) if text else []
        parts: list[tuple[dict[str, Any], int | None]] = [({"text": chunk}, None) for chunk in chunks]
        buttons = [b for row in reply.buttons for b in row]
        if buttons:
            templates = _button_templates(chunks[-1] if chunks else msg.CHOOSE, buttons)
            parts[-1:] = [(template, None) for template in templates]
        parts.extend(attachments)
        if reply.request_contact:
            parts.append((_request_info(), None))
        return parts, refs

    async def _file_token(self, file: OutFile, file_ref: str | None) -> str | None:
        """The upload token of a file Zalo can carry (reused from `file_ref`), else None: send it as a link."""
        if file.mime not in NATIVE_TYPES or file.size > self.file_max or self.files is None:
            return None
        return _token(file_ref) or await self._upload(file)

    async def _upload(self, file: OutFile) -> str | None:
        assert self.files is not None
        try:
            data = await self.api.upload("file", file.name, file.mime, self.files.read(file.sha256))
        except ZaloOaError as exc:
            log.warning("Zalo OA refused the upload of %s (%s): sending a link instead", file.name, exc)
            return None
        token = data.get("token") or data.get("attachment_id")  # sources disagree on the field's name
        return str(token) if token else None

    def _link(self, file: OutFile) -> str:
        if self.link_maker is None:
            raise Rejected("Zalo OA cannot send this file: no link_maker configured for download links")
        return self.link_maker(file)

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        """The OA API cannot edit a sent message: the new text goes as a new message."""
        await self.send(chat_id, Reply(text=reply.text, buttons=reply.buttons))

    async def answer_button(self, callback_id: str) -> None:
        """A template button sends a text back; there is nothing to acknowledge."""

    async def download(self, file: IncomingFile) -> bytes:
        if not file.ref:
            raise Rejected("this file has no link")
        try:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
            async with self.http().get(file.ref, timeout=timeout) as resp:
                if resp.status >= 400:
                    raise (Transient if resp.status >= 500 else Rejected)(
                        f"download failed: HTTP {resp.status}"
                    )
                data = await read_at_most(resp, MAX_DOWNLOAD)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"download failed: {exc!r}") from exc
        if len(data) > MAX_DOWNLOAD:
            raise Rejected(f"file larger than {MAX_DOWNLOAD} bytes")
        return data

    async def set_commands(self, chat_id: str | None, commands: list[tuple[str, str]]) -> None:
        """The OA menu is set in the OA manager, not by the API."""

    def invite_link(self, code: str) -> str | None:
        return None

    def message_count(self, reply: Reply) -> int:
        """How many OA messages `reply` becomes, each charged on its own: as `_parts` builds them, without
        uploading (a file Zalo will not carry joins the text as a link)."""
        attached = sum(1 for f in reply.files if self._carries(f))
        linked = len(reply.files) - attached
        text = reply.text.strip() or ("link" if linked else "")
        chunks = len(split_text(text, TEXT_LIMIT)) if text else 0
        buttons = sum(len(row) for row in reply.buttons)
        templates = -(-buttons // BUTTONS_PER_TEMPLATE)
        if templates:
            chunks = max(chunks - 1, 0) + templates  # the buttons ride on the last piece of text
        return chunks + attached + int(reply.request_contact)

    def _carries(self, file: OutFile) -> bool:
        """Whether `file` goes as an attachment of its own rather than as a link in the text."""
        native = file.mime in NATIVE_TYPES and file.size <= self.file_max and self.files is not None
        return file.as_photo or native

    def http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=60)
            )
        return self._session


def _button_templates(text: str, buttons: list[Button]) -> list[dict[str, Any]]:
    groups = [buttons[i : i + BUTTONS_PER_TEMPLATE] for i in range(0, len(buttons), BUTTONS_PER_TEMPLATE)]
    return [_buttons(text if i == 0 else msg.MORE_CHOICES, group) for i, group in enumerate(groups)]


def _buttons(text: str, buttons: list[Button]) -> dict[str, Any]:
    shown = [{"title": b.label, "type": "oa.query.hide", "payload": BUTTON_PREFIX + b.data} for b in buttons]
    payload = {"template_type": "button", "text": text, "buttons": shown}
    return {"attachment": {"type": "template", "payload": payload}}


def _token(file_ref: str | None) -> str | None:
    return file_ref.removeprefix(FILE_REF) if file_ref and file_ref.startswith(FILE_REF) else None


def _given_ref(reply: Reply, file_ref: str | None, index: int) -> str | None:
    """The handle the outbox gave for the `index`-th file of `reply` (the first comes as `file_ref`)."""
    if index == 0 and reply.file is not None:
        return file_ref
    return reply.files[index].ref


def _file_part(token: str | None) -> dict[str, Any]:
    return {"attachment": {"type": "file", "payload": {"token": token}}}


def _image(url: str) -> dict[str, Any]:
    element = {"media_type": "image", "url": url}
    return {"attachment": {"type": "template", "payload": {"template_type": "media", "elements": [element]}}}


def _request_info() -> dict[str, Any]:
    element = {"title": msg.SHARE_PHONE_TITLE, "subtitle": msg.SHARE_PHONE_SUBTITLE}
    payload = {"template_type": "request_user_info", "elements": [element]}
    return {"attachment": {"type": "template", "payload": payload}}


def _quota(data: dict[str, Any]) -> str:
    quota = data.get("quota")
    kind = quota.get("quota_type") if isinstance(quota, dict) else data.get("quota_type")
    return str(kind) if kind else "unknown"


def _cost_rank(cost: str) -> int:
    return COST_ORDER.index(cost) if cost in COST_ORDER else len(COST_ORDER)
