"""Start the sandbox: the fake Telegram, Zalo Bot Platform and Zalo Official Account servers on free localhost ports, the real runtime pointed at them
on a fresh SQLite database under `data/sandbox/`, the demo province, and the web page; and act as its people.

The bot is built by `Runtime.build(Settings(...))` like in production: only its API URLs, tokens and clock differ.
People act only through the fakes (`FakeUser`, `FakeZaloUser`, `FakeOaUser`), so every flow the page shows is the
real one. The fake OA posts its signed events to the bot's own web port, as the HTTPS proxy in front of a server does.
Time travel moves the runtime's clock and then runs the scheduler's jobs once (`bot.scheduler.reminders_job` and
`summary_job`), so reminders and the daily summary due at the new time go out at once instead of within a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func, select

from bot import scheduler
from bot.channels.zalo_oa import WEBHOOK_PATH as OA_WEBHOOK_PATH
from bot.channels.zalo_oa import ZaloOaChannel
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import ChannelName
from bot.fakes.telegram_server import FakeTelegram
from bot.fakes.telegram_users import FakeUser
from bot.fakes.zalo_oa_server import FakeZaloOA
from bot.fakes.zalo_oa_users import FakeOaUser
from bot.fakes.zalo_server import FakeZalo
from bot.runtime import Runtime
from bot.sandbox import demo
from bot.sandbox.chat import Persona, Refused, Render, TimeLine, User
from bot.services import evidence, web_access
from bot.services.personal_data import find_person
from messages import cli as msg
from messages import web as web_msg
from storage.db import transaction
from storage.models import ChannelAccount

log = logging.getLogger(__name__)

DEFAULT_DIR = Path("data") / "sandbox"
TELEGRAM_TOKEN = "777000111:SANDBOX-TELEGRAM-TOKEN"
ZALO_TOKEN = "2718281828:SANDBOX-ZALO-SECRET"
OA_WEBHOOK_KEY = "sandbox-oa-secret-key"  # the OA's own key, not the app's: Zalo signs events with it
BOT_USERNAME = "chibo_sandbox_bot"
JOIN_TIMEOUT = 15.0
SETTLE_SECONDS = 10.0
STEPS = ("hour", "day", "week", "morning", "summary")
MORNING = time(8, 0)  # when reminders go out under the default policy; the page's "→ 08:00"


@dataclass
class Upload:
    """A file a person sent from the page, kept so the page can show it and the bot can fetch a Zalo photo."""

    name: str
    mime: str
    content: bytes


class Sandbox:
    """Everything the sandbox runs, and the actions of its people."""

    def __init__(self, data_dir: Path = DEFAULT_DIR, *, start: datetime = demo.START_LOCAL) -> None:
        self.data_dir = data_dir
        self.clock = Clock.starting_at(start)
        self.timeline = TimeLine(self.clock)
        self.telegram = FakeTelegram(TELEGRAM_TOKEN, bot_username=BOT_USERNAME, per_chat_rate=None)
        self.zalo = FakeZalo(ZALO_TOKEN, bot_name="Chibo")
        self.zalo_oa = FakeZaloOA(
            clock=self.clock, oa_secret_key=OA_WEBHOOK_KEY
        )  # its windows follow time travel
        self.personas: dict[str, Persona] = {}
        self.uploads: dict[str, Upload] = {}
        self.url = ""
        self.session = secrets.token_hex(6)  # tells the page a restarted sandbox from the one it knew
        self._runtime: Runtime | None = None
        self._render: Render | None = None
        self._web: web.AppRunner | None = None
        self._self_url = ""  # how the bot reaches this server (photos a Zalo user sends)

    # -- lifecycle ----------------------------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the sandbox is not started")
        return self._runtime

    @property
    def render(self) -> Render:
        if self._render is None:
            raise RuntimeError("the sandbox is not started")
        return self._render

    async def start(self, host: str = "127.0.0.1", port: int = 8000) -> str:
        """Start everything and return the page's URL. A busy `port` falls back to a free one."""
        from bot.sandbox.server import build_app

        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        await self.telegram.start()
        await self.zalo.start()
        await self.zalo_oa.start()
        runtime = Runtime.build(self._settings(), clock=self.clock)
        self._runtime = runtime
        # The fake OA reaches the bot on its own port, as Zalo reaches it through the public URL's proxy: the OA
        # channel serves its webhook only when it has an address, and the rest of the bot keeps no public URL.
        bot_web = f"http://127.0.0.1:{runtime.settings.listen_port}"
        oa = runtime.channels.get(ChannelName.ZALO_OA)
        if isinstance(oa, ZaloOaChannel):
            oa.public_url = bot_web
        await runtime.start(serve_web=True)
        self.zalo_oa.set_webhook(bot_web + OA_WEBHOOK_PATH)  # what the developer console's webhook URL does
        self._render = Render(
            runtime.settings.tz, self.timeline, self.telegram, self._page_link, lambda t: f"/api/oa-files/{t}"
        )
        self._web = web.AppRunner(
            build_app(self), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._web.setup()
        await self._seed()  # before the page opens, so it never shows a province half joined
        bound = await self._listen(host, port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        self._self_url = f"http://{_bracketed(shown)}:{bound}"
        self.url = self._self_url + "/"
        return self.url

    async def _listen(self, host: str, port: int) -> int:
        assert self._web is not None
        try:
            await web.TCPSite(self._web, host, port).start()
        except OSError:
            log.warning("port %s is busy; using a free port instead", port)
            await web.TCPSite(self._web, host, 0).start()
        return int(self._web.addresses[-1][1])

    async def stop(self) -> None:
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self._runtime is not None:
            await self._runtime.stop()
            self._runtime = None
        await self.zalo_oa.stop()
        await self.zalo.stop()
        await self.telegram.stop()

    def _settings(self) -> Settings:
        """Production settings but for the fakes' URLs and tokens, a fresh database, and no public URL."""
        values: dict[str, object] = {
            "telegram_token": SecretStr(self.telegram.token),
            "telegram_api_url": self.telegram.api_url,
            "telegram_bot_username": BOT_USERNAME,
            "zalo_token": SecretStr(self.zalo.token),
            "zalo_api_url": self.zalo.api_url,
            **self.zalo_oa.bot_settings(),
            "database_url": f"sqlite+aiosqlite:///{self.data_dir / 'chibo.db'}",
            "data_dir": self.data_dir,
            "public_url": None,
            "webhook_secret": None,
            "listen_host": "127.0.0.1",
            "listen_port": _free_port(),
            # A demo province is small: short gaps keep the page lively; the outbox still paces every send.
            "telegram_chat_interval": 0.2,
            "zalo_chat_interval": 0.2,
            "progress_interval": 1.0,
        }
        return Settings(**values)  # type: ignore[arg-type]

    # -- the demo province --------------------------------------------------------------------------------

    async def _seed(self) -> None:
        async with transaction(self.runtime.sessions) as session:
            people = await demo.seed(session, self.clock)
        for person in people:
            persona = Persona(person, self._fake_user(person))
            self.personas[persona.key] = persona
        joining = [p for p in self.personas.values() if p.demo.joined]
        await asyncio.gather(*(self.join(p) for p in joining))
        async with transaction(self.runtime.sessions) as session:
            linked = await session.scalar(select(func.count()).where(ChannelAccount.active.is_(True)))
        if linked != len(joining):
            raise RuntimeError(f"only {linked} of {len(joining)} demo people could join")

    def _fake_user(self, person: demo.DemoPerson) -> User:
        first, _, last = person.full_name.rpartition(" ")
        if person.platform == "telegram":
            return self.telegram.user(int(person.user_id), last or person.full_name, first, started=False)
        if person.platform == demo.OA:
            return self.zalo_oa.user(person.user_id, person.full_name)
        return self.zalo.user(person.user_id, person.full_name)

    async def join(self, persona: Persona) -> None:
        """Join with the invite as a person does: the deep link (Telegram) or the typed code, then the phone
        (Telegram's contact button, the OA's information form, typed on the Zalo Bot Platform)."""
        code = persona.demo.invite_code
        before = len(persona.bot_messages)
        if isinstance(persona.user, FakeUser):
            # A deep link shows "/start" in the chat and carries the code unseen.
            persona.remember("text", self.clock.now(), text="/start")
            await persona.user.send_command("/start", code.replace("-", ""))
            await self._wait(persona, lambda: len(persona.bot_messages) > before)
            await self.share_contact(persona)
        elif isinstance(persona.user, FakeOaUser):
            persona.remember(
                "follow", self.clock.now()
            )  # the OA's "Quan tâm": it may now write to this person
            await persona.user.follow()
            await self._wait(persona, lambda: len(persona.bot_messages) > before)
            await self.say(persona, code)
            await self._wait(persona, lambda: persona.bot_messages[-1].kind == "request_info")
            asked = len(persona.bot_messages)
            await self.share_contact(persona)
            await self._wait(persona, lambda: len(persona.bot_messages) > asked)
            return
        else:
            await self.say(persona, code)
            await self._wait(persona, lambda: len(persona.bot_messages) > before)
            await self.say(persona, persona.demo.phone)
        await self._wait(persona, lambda: len(persona.bot_messages) >= before + 3)

    async def _wait(self, persona: Persona, ready: Callable[[], bool]) -> None:
        await persona.user.wait_until(lambda _messages: ready(), timeout=JOIN_TIMEOUT)

    # -- what the page shows ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.runtime.settings.tz)

    def first_persona(self) -> str:
        """The person the page opens with: a Zalo secretary (see `demo.FIRST_PERSON_UNIT`)."""
        return next(
            (k for k, p in self.personas.items() if p.demo.unit_code == demo.FIRST_PERSON_UNIT),
            next(iter(self.personas), ""),
        )

    def persona(self, key: str) -> Persona:
        found = self.personas.get(key)
        if found is None:
            raise KeyError(key)
        return found

    async def linked_keys(self) -> set[str]:
        """The personas whose account is linked now (joined at start, or through the page since)."""
        async with transaction(self.runtime.sessions) as session:
            rows = (
                await session.execute(
                    select(ChannelAccount.channel, ChannelAccount.user_id).where(
                        ChannelAccount.active.is_(True)
                    )
                )
            ).all()
        return {f"{channel}-{user_id}" for channel, user_id in rows}

    def _page_link(self, url: str) -> str:
        """The bot's download links point at its own web server; the page opens them through this server (its
        `/f/` route). Other links to the bot's server (the dashboard's sign-in link, «trang web») stay whole."""
        base = self.runtime.downloads.base_url
        return url[len(base) :] if url.startswith(base + "/f/") else url

    # -- what people do -----------------------------------------------------------------------------------

    async def say(self, persona: Persona, text: str) -> None:
        persona.remember("text", self.clock.now(), text=text)
        await persona.user.send_text(text)

    async def press(self, persona: Persona, message_id: str, data: str) -> None:
        """Tap a button: Telegram's inline button, or a button of an OA template (it sends its payload back)."""
        user = persona.user
        if isinstance(user, FakeOaUser):
            sent = next((m for m in user.messages if m.message_id == message_id), None)
            oa_button = next((b for b in sent.buttons if b.payload == data), None) if sent else None
            if sent is None or oa_button is None:
                raise Refused(msg.SANDBOX_NO_SUCH_BUTTON)
            persona.remember("press", self.clock.now(), text=oa_button.title)
            await user.press(oa_button.title, message=sent)
            return
        if not isinstance(user, FakeUser):
            raise Refused(msg.SANDBOX_NO_BUTTONS)
        message = next((m for m in user.messages if str(m.message_id) == message_id), None)
        button = next((b for b in message.buttons if b.data == data), None) if message else None
        if message is None or button is None:
            raise Refused(msg.SANDBOX_NO_SUCH_BUTTON)
        persona.remember("press", self.clock.now(), text=button.label)
        await user.press(data, message=message)

    async def share_contact(self, persona: Persona) -> None:
        """Share the roster's phone: Telegram's contact button, or the OA's information form, submitted."""
        user = persona.user
        if isinstance(user, FakeOaUser):
            if not any(m.kind == "request_info" for m in user.messages):
                raise Refused(msg.SANDBOX_NO_SUCH_BUTTON)
            persona.remember("contact", self.clock.now(), text=persona.demo.phone)
            await user.submit_info(persona.demo.phone)
            return
        if not isinstance(user, FakeUser):
            raise Refused(msg.SANDBOX_NO_CONTACT)
        persona.remember("contact", self.clock.now(), text=persona.demo.phone)
        await user.share_contact(persona.demo.phone)

    async def send_file(
        self, persona: Persona, name: str, content: bytes, mime: str, *, as_photo: bool
    ) -> None:
        """A document or a photo. The Zalo Bot Platform passes bots only photos (as a URL); any other file arrives
        as "unsupported", which is what the bot gets from the real Zalo. An OA gets photos and files as URLs."""
        token = secrets.token_urlsafe(12)
        self.uploads[token] = Upload(name, mime, content)
        kind = "photo" if as_photo else "document"
        persona.remember(kind, self.clock.now(), file_name=name, url=f"/uploads/{token}")
        if isinstance(persona.user, FakeUser):
            if as_photo:
                await persona.user.send_photo(content)
            else:
                await persona.user.send_document(name, content, mime)
        elif isinstance(persona.user, FakeOaUser):
            url = f"{self._self_url}/uploads/{token}"
            if as_photo:
                await persona.user.send_image(url)
            else:
                await persona.user.send_file(url, name, len(content), Path(name).suffix.lstrip(".").lower())
        elif as_photo:
            await persona.user.send_image(f"{self._self_url}/uploads/{token}")
        else:
            await persona.user.send_unsupported()

    async def dashboard_link(self, persona: Persona) -> str:
        """A one-time sign-in link to the board's web dashboard for this persona, the one /web would send."""
        async with transaction(self.runtime.sessions) as session:
            person = await find_person(session, persona.demo.phone)
            url = None
            if person is not None:
                base = evidence.base_url(self.runtime.settings)
                url = await web_access.issue_link(session, self.clock, person, base, actor="sandbox")
        if url is None:
            raise Refused(web_msg.NOT_STAFF)
        return url

    async def send_sample(self, persona: Persona, key: str) -> None:
        sample = demo.SAMPLES.get(key)
        if sample is None:
            raise Refused(msg.SANDBOX_NO_SAMPLE)
        await self.send_file(
            persona, sample.file_name, demo.sample_docx(sample), demo.DOCX_MIME, as_photo=False
        )

    # -- time travel --------------------------------------------------------------------------------------

    async def travel(self, step: str) -> datetime:
        """Move the clock (`hour`, `day`, `week`, to the next 08:00 `morning`, to the next daily `summary`), then
        run the reminder and summary jobs once, as the scheduler's next tick would."""
        if step not in STEPS:
            raise Refused(msg.SANDBOX_BAD_STEP)
        # Let what is being handled and sent finish first: a send in flight across a jump of a day would look
        # to the outbox like one whose lease ran out, and go out twice.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settle(), SETTLE_SECONDS)
        self.clock.advance(self._step(step))
        self.timeline.record()
        await scheduler.reminders_job(self.runtime)
        await scheduler.summary_job(self.runtime)
        return self.now()

    async def _settle(self) -> None:
        await self.runtime.dispatcher.idle()
        await self.runtime.sender.idle()

    def _step(self, step: str) -> timedelta:
        fixed = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
        if step in fixed:
            return fixed[step]
        target = MORNING if step == "morning" else self.runtime.settings.summary_time
        now = self.now()
        when = now.replace(hour=target.hour, minute=target.minute, second=0, microsecond=0)
        if when <= now:
            when += timedelta(days=1)
        return when - now


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run the sandbox until SIGINT/SIGTERM; `on_ready(url)` is called once the page can be opened."""
    sandbox = Sandbox()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        url = await sandbox.start(host, port)
        on_ready(url)
        await stop.wait()
    finally:
        await sandbox.stop()
