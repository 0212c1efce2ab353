"""Settings read from the environment or `.env` (pydantic-settings); every field is documented in the README."""

from __future__ import annotations

from datetime import time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


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
    zalo_oa_secret_key: SecretStr | None = None  # the app's secret: OAuth header and webhook signatures
    zalo_oa_id: str | None = None
    zalo_oa_refresh_token: SecretStr | None = None  # the first one only: later ones rotate in the database
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_oa_price_vnd: int = Field(55, ge=0, description="price of one paid Zalo OA message")
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
    link_days: int = Field(30, ge=1)

    telegram_rate: float = Field(25.0, ge=0, description="global messages per second; 0 = unlimited")
    telegram_chat_interval: float = Field(1.0, ge=0, description="seconds between two messages to one chat")
    zalo_rate: float = Field(10.0, ge=0)
    zalo_chat_interval: float = Field(1.0, ge=0)
    send_retries: int = Field(5, ge=0)
    sender_concurrency: int = Field(64, ge=1)
    progress_interval: float = Field(2.0, gt=0, description="seconds between edits of a broadcast's progress")

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
