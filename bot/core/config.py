"""Settings read from the environment or `.env` (pydantic-settings); every field is documented in the README."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
# What Telegram's setWebhook accepts: the ports it will call and the characters of secret_token.
TELEGRAM_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    """Runtime configuration. Secrets are `SecretStr` so they never end up in logs or reprs."""

    model_config = SettingsConfigDict(env_prefix="CHIBO_", env_file=".env", extra="ignore")

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None
    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_bot_url: str | None = None  # the link that opens the bot in Zalo, for invites and their QR code
    zalo_bot_name: str | None = None
    zalo_oa_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None  # the app's secret: the OAuth renewal's header
    zalo_oa_webhook_key: SecretStr | None = (
        None  # the OA secret key signing webhook events; default: the app's
    )
    zalo_oa_id: str | None = None
    zalo_oa_refresh_token: SecretStr | None = None  # the first one only: later ones rotate in the database
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_oa_price_vnd: int = Field(55, ge=0, description="price of one paid Zalo OA message")
    zalo_oa_monthly_quota: int = Field(
        1000, ge=0, description="consultation messages outside the free window the OA package covers a month"
    )
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'chibo.db'}"
    data_dir: Path = DEFAULT_DATA_DIR
    public_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = 8080
    timezone: str = "Asia/Ho_Chi_Minh"
    summary_time: time = time(17, 0)

    invite_days: int = Field(14, ge=1)
    max_file_mb: int = Field(20, ge=1)
    tesseract_cmd: str = Field(
        "tesseract",
        description="the Tesseract OCR program that reads scans and photos (a name on PATH or a path)",
    )
    link_days: int = Field(30, ge=1)
    # Personal data: report texts and photos of directives whose deadline is older, audit entries and delivered
    # messages are purged daily (bot.services.personal_data); the figures the board counts are kept.
    retention_days: int = Field(730, ge=30)

    telegram_rate: float = Field(25.0, ge=0, description="global messages per second; 0 = unlimited")
    telegram_chat_interval: float = Field(1.0, ge=0, description="seconds between two messages to one chat")
    zalo_rate: float = Field(10.0, ge=0)
    zalo_chat_interval: float = Field(1.0, ge=0)
    # A delivery failing for a transient reason (5xx, network) is retried after retry_first seconds, doubling up
    # to retry_max, for retry_for seconds in all, before it is marked failed and the board is told.
    delivery_retry_first: float = Field(
        60.0, gt=0, description="seconds before the first retry of a delivery"
    )
    delivery_retry_max: float = Field(3600.0, gt=0, description="longest wait between two delivery retries")
    delivery_retry_for: float = Field(86400.0, ge=0, description="seconds a failing delivery is retried")
    event_patience: float = Field(
        30.0,
        gt=0,
        description="seconds an incoming event waits for the database before it is left unconfirmed",
    )
    sender_concurrency: int = Field(64, ge=1)
    progress_interval: float = Field(2.0, gt=0, description="seconds between edits of a broadcast's progress")
    leader_interval: float = Field(
        10.0,
        gt=0,
        description="seconds between checks that this instance leads the scheduler, or may take over",
    )
    ready_backlog: int = Field(10_000, ge=1, description="/readyz fails when more outbox messages wait")
    ready_timeout: float = Field(2.0, gt=0, description="seconds /readyz waits for the database")
    log_format: Literal["text", "json"] = "text"
    # The board's Word report (bot/services/report_letterhead.py, docs/party-format.md): the committee term its
    # document numbers restart in, who signs and to whom the report goes; empty ones show a placeholder to fill.
    party_term: str = Field("", description="committee term of the document register, e.g. 2025-2030")
    report_signer_authority: str = Field("", description="e.g. T/M BAN THƯỜNG VỤ, or K/T BÍ THƯ")
    report_signer_title: str = Field("", description="the signer's position, e.g. PHÓ BÍ THƯ")
    report_signer_name: str = ""
    report_to: str = Field("", description="the upper body the report goes to, e.g. Ban Thường vụ Tỉnh ủy")

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def link_secret(self) -> bytes:
        """Key for signed download links; derived from the tokens so a deployment needs no extra secret."""
        parts = [
            s.get_secret_value() for s in (self.webhook_secret, self.telegram_token, self.zalo_token) if s
        ]
        return ("|".join(parts) or "chibo-local").encode()


class Refusal(StrEnum):
    """A setting `chibo run` refuses to start a production server with, because a platform would not work."""

    NO_TOKEN = "no_token"
    NO_WEBHOOK_SECRET = "no_webhook_secret"
    BAD_WEBHOOK_SECRET = "bad_webhook_secret"
    PUBLIC_URL_NOT_HTTPS = "public_url_not_https"
    PUBLIC_URL_BAD_PORT = "public_url_bad_port"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    ZALO_NEEDS_PUBLIC_URL = "zalo_needs_public_url"
    ZALO_OA_NEEDS_PUBLIC_URL = "zalo_oa_needs_public_url"


def wants_production(settings: Settings) -> bool:
    """Whether anything of a real server is configured; with nothing at all, `chibo run` starts the sandbox."""
    return any((settings.telegram_token, settings.zalo_token, _zalo_oa(settings), settings.public_url))


def refusals(settings: Settings) -> list[Refusal]:
    """Every setting that would break the running bot, found before it starts rather than in its first hour."""
    found = [] if settings.telegram_token or settings.zalo_token or _zalo_oa(settings) else [Refusal.NO_TOKEN]
    found += _webhook_refusals(settings)
    if settings.zalo_token and not settings.public_url:
        found.append(Refusal.ZALO_NEEDS_PUBLIC_URL)  # Zalo users get files as links to our own server
    if _zalo_oa(settings) and not settings.public_url:
        found.append(Refusal.ZALO_OA_NEEDS_PUBLIC_URL)  # the OA pushes its events to our webhook
    if not _known_timezone(settings.timezone):
        found.append(Refusal.UNKNOWN_TIMEZONE)
    return found


def _webhook_refusals(settings: Settings) -> list[Refusal]:
    if not settings.public_url:
        return []
    found = []
    url = urlsplit(settings.public_url)
    port = public_port(settings.public_url)
    if url.scheme != "https" or not url.hostname or port is None:
        found.append(Refusal.PUBLIC_URL_NOT_HTTPS)
    telegram = bool(settings.telegram_token)
    if telegram and port is not None and port not in TELEGRAM_WEBHOOK_PORTS:
        found.append(Refusal.PUBLIC_URL_BAD_PORT)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        # Without it anyone can post fake updates (Telegram), and every instance or restart of a Zalo bot would
        # register a random secret of its own, refusing what the others registered.
        found.append(Refusal.NO_WEBHOOK_SECRET)
    elif telegram and not TELEGRAM_SECRET.fullmatch(secret):
        found.append(Refusal.BAD_WEBHOOK_SECRET)
    return found


def public_port(url: str | None) -> int | None:
    """The port the platforms call at `url` (its scheme's when it names none), or None for no URL or a bad port."""
    if not url:
        return None
    parts = urlsplit(url)
    try:
        return parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:  # a port that is no number, or out of range
        return None


def _zalo_oa(settings: Settings) -> bool:
    """Whether a Zalo Official Account is configured (its CHIBO_ZALO_OA_* settings may not exist in this build)."""
    return bool(getattr(settings, "zalo_oa_app_id", None))


def _known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone key at all, e.g. "../x" or ""
        return False
    return True
