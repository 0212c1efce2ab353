"""Wiring: settings, database, file store, channels, dispatcher, outbox sender, scheduler and web server, started
and stopped together. The CLI's `run`, the tests and the sandbox all build the bot through `Runtime`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import scheduler
from bot.core import metrics
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import Channel, ChannelName, DeliveryError, Incoming, OutFile, Unreadable
from bot.delivery.pacing import Pacer
from bot.delivery.progress import ProgressWatcher
from bot.delivery.sender import RetrySchedule, Sender
from bot.services.files import FileStore
from bot.services.forms_store import install_builtin_forms
from bot.web.dashboard import Dashboard
from bot.web.downloads import Downloads
from bot.web.evidence import EvidencePages
from bot.web.health import Health
from bot.web.sending import Sending
from storage.backup import hold_in_use
from storage.db import is_sqlite, make_engine, make_sessionmaker, migrate, sqlite_path
from storage.faults import is_transient, reason

# The youngest generation is collected after this many new objects (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The running bot; handlers and services see it through the narrow `bot.core.host.Host`."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    files: FileStore
    web_app: web.Application
    channels: dict[str, Channel] = field(default_factory=dict)
    sender: Sender = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    progress: ProgressWatcher = field(init=False)
    downloads: Downloads = field(init=False)
    leadership: scheduler.Leadership = field(init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    _web_runner: web.AppRunner | None = None
    _in_use: IO[bytes] | None = None  # SQLite: the shared lock that makes `chibo restore` refuse while we run

    @classmethod
    def build(
        cls, settings: Settings, *, clock: Clock | None = None, engine: AsyncEngine | None = None
    ) -> Runtime:
        from bot.dispatcher import Dispatcher
        from handlers.quick_reports import LANE
        from handlers.router import route

        engine = engine or make_engine(settings.database_url)
        runtime = cls(
            settings=settings,
            clock=clock or Clock(),
            engine=engine,
            sessions=make_sessionmaker(engine),
            files=FileStore(settings.files_dir, settings.max_file_mb * 1024 * 1024),
            web_app=web.Application(client_max_size=(settings.max_file_mb + 1) * 1024 * 1024),
        )
        runtime.downloads = Downloads(runtime)
        runtime.downloads.install(runtime.web_app)
        EvidencePages(runtime).install(runtime.web_app)
        dashboard = Dashboard(runtime)
        dashboard.install(runtime.web_app)
        Sending(dashboard).install(runtime.web_app)
        Health(engine, runtime.channels, settings, runtime.clock, lambda: runtime.ready).install(
            runtime.web_app
        )
        runtime.channels.update(
            build_channels(
                settings,
                runtime.files,
                runtime.web_app,
                runtime.downloads.link,
                sessions=runtime.sessions,
                clock=runtime.clock,
            )
        )
        pacers: dict[str, Pacer] = {
            ChannelName.TELEGRAM: Pacer(settings.telegram_rate, settings.telegram_chat_interval),
            ChannelName.ZALO: Pacer(settings.zalo_rate, settings.zalo_chat_interval),
            ChannelName.ZALO_OA: Pacer(settings.zalo_rate, settings.zalo_chat_interval),
        }
        runtime.sender = Sender(
            runtime.sessions,
            runtime.channels,
            pacers,
            runtime.files,
            runtime.clock,
            retries=RetrySchedule(
                settings.delivery_retry_first, settings.delivery_retry_max, settings.delivery_retry_for
            ),
            concurrency=settings.sender_concurrency,
            reclaim_all_on_start=is_sqlite(settings.database_url),
            engine=engine,
        )
        runtime.dispatcher = Dispatcher(runtime, route, LANE, patience=settings.event_patience)
        runtime.progress = ProgressWatcher(runtime, runtime.sender, settings.progress_interval)
        runtime.leadership = scheduler.Leadership(engine, settings.leader_interval)
        return runtime

    @property
    def ready(self) -> bool:
        """Whether the bot can take work now: False while events or the sender wait for the database (/readyz)."""
        return self.dispatcher.healthy and self.sender.healthy

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run background work started by a handler (a workbook being built, a menu being set); `stop` awaits it."""
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if task.cancelled() or (exc := task.exception()) is None:
            return
        if isinstance(exc, DeliveryError) or is_transient(exc):  # the platform or database failed: expected
            log.warning("background work %s failed: %s", task.get_name(), reason(exc))
        else:
            log.warning("background work %s failed", task.get_name(), exc_info=exc)

    async def start(self, *, migrate_db: bool = True, serve_web: bool = True) -> None:
        database = sqlite_path(self.settings.database_url)
        if database is not None:
            self._in_use = hold_in_use(database)
        if migrate_db:
            await self._patiently(lambda: migrate(self.engine), "migrating the database")
        await self._patiently(
            lambda: install_builtin_forms(self.sessions, self.clock), "installing the forms"
        )
        await self._patiently(self.sender.recover, "recovering the outbox")
        for channel in self.channels.values():
            await channel.start(self._on_event)
        self.sender.start()
        schedule = asyncio.create_task(scheduler.run(self, self.leadership), name="scheduler")
        schedule.add_done_callback(_report_death)  # a scheduler that dies must not die silently
        self._tasks.append(schedule)  # cancelled with the others in stop()
        await self.progress.resume()
        # The web server carries webhooks, the download links Zalo users get for files, and /healthz, /readyz
        # and /metrics, so it listens in every mode (polling too).
        if serve_web:
            await self._serve_web()

    async def _on_event(self, event: Incoming | Unreadable) -> None:
        started = time.perf_counter()
        try:
            await self.dispatcher.handle(event)
        finally:
            metrics.UPDATE_SECONDS.labels(channel=str(event.channel)).observe(time.perf_counter() - started)

    async def _patiently(self, step: Callable[[], Awaitable[None]], what: str) -> None:
        """Run a start-up step, waiting with back-off while the database is unreachable or locked."""
        delay = 0.5
        while True:
            try:
                await step()
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("%s: database unavailable (%s), retrying in %.0fs", what, reason(exc), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _serve_web(self) -> None:
        self._web_runner = web.AppRunner(self.web_app)
        await self._web_runner.setup()
        site = web.TCPSite(self._web_runner, self.settings.listen_host, self.settings.listen_port)
        await site.start()
        log.info("listening on %s:%s", self.settings.listen_host, self.settings.listen_port)

    async def stop(self) -> None:
        """Stop taking events, finish what is in hand, then close connections."""
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.stop()
        await self.dispatcher.idle()
        while (
            self._background
        ):  # what handlers started may queue messages: let it finish before the sender stops
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.progress.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.stop()
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.close()
        if self._web_runner is not None:
            await self._web_runner.cleanup()
        await self.engine.dispose()
        if self._in_use is not None:
            self._in_use.close()
            self._in_use = None


def build_channels(
    settings: Settings,
    files: FileStore,
    web_app: web.Application | None = None,
    link_maker: Callable[[OutFile], str] | None = None,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    clock: Clock | None = None,
) -> dict[str, Channel]:
    """The channels the settings configure (the command line builds them too, to make invite links). A Zalo
    Official Account needs the database (its rotating refresh token lives there), so it is built only when
    `sessions` and `clock` are given."""
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel

    s = settings
    secret = s.webhook_secret.get_secret_value() if s.webhook_secret else None
    channels: dict[str, Channel] = {}
    if s.telegram_token:
        channels[ChannelName.TELEGRAM] = TelegramChannel(
            s.telegram_token.get_secret_value(),
            s.telegram_api_url,
            files,
            public_url=s.public_url,
            webhook_secret=secret,
            web_app=web_app,
            paid_broadcast=s.telegram_rate == 0,
        )
    if s.zalo_token:
        channels[ChannelName.ZALO] = ZaloChannel(
            s.zalo_token.get_secret_value(),
            s.zalo_api_url,
            public_url=s.public_url,
            webhook_secret=secret,
            web_app=web_app,
            link_maker=link_maker,
        )
    if s.zalo_oa_app_id and sessions is not None and clock is not None:
        channels[ChannelName.ZALO_OA] = _zalo_oa(s, sessions, clock, files, web_app, link_maker)
    return channels


def _zalo_oa(
    s: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    files: FileStore,
    web_app: web.Application | None,
    link_maker: Callable[[OutFile], str] | None,
) -> Channel:
    from bot.channels.zalo_oa import ZaloOaChannel
    from bot.channels.zalo_oa_tokens import TokenKeeper

    app_secret = s.zalo_oa_secret_key.get_secret_value() if s.zalo_oa_secret_key else ""
    webhook_key = s.zalo_oa_webhook_key.get_secret_value() if s.zalo_oa_webhook_key else app_secret
    seed = s.zalo_oa_refresh_token.get_secret_value() if s.zalo_oa_refresh_token else None
    channel: ZaloOaChannel | None = None

    def http() -> aiohttp.ClientSession:  # the keeper renews tokens over the channel's own connection pool
        assert channel is not None
        return channel.http()

    keeper = TokenKeeper(
        sessions,
        clock,
        oa_id=s.zalo_oa_id or "",
        app_id=s.zalo_oa_app_id or "",
        secret_key=app_secret,
        seed_refresh_token=seed,
        oauth_url=s.zalo_oa_oauth_url,
        http=http,
    )
    channel = ZaloOaChannel(
        keeper,
        app_id=s.zalo_oa_app_id or "",
        oa_secret_key=webhook_key,
        api_url=s.zalo_oa_api_url,
        files=files,
        public_url=s.public_url,
        web_app=web_app,
        link_maker=link_maker,
        price_vnd=s.zalo_oa_price_vnd,
        monthly_quota=s.zalo_oa_monthly_quota,
    )
    return channel


def _report_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


def settle_memory() -> None:
    """Once the bot is up: collect, move everything start-up loaded out of the collector's sight, and collect the
    youngest generation less often. Without it a bot under load spends about a sixth of its time in the cyclic
    collector re-scanning modules and caches that never die (measured with `python -m bench ingest`)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
