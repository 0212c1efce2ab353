"""Fakes of the chat platforms' servers, shipped with the package so tests, benchmarks and the sandbox share
them. Names are imported lazily so `python -m bot.fakes.telegram_server` runs without a double import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.fakes.telegram_models import ApiError, Button, Call, SentMessage, StoredFile
    from bot.fakes.telegram_server import FakeTelegram
    from bot.fakes.telegram_users import FakeUser

__all__ = ["ApiError", "Button", "Call", "FakeTelegram", "FakeUser", "SentMessage", "StoredFile"]

_HOMES = {
    "ApiError": "bot.fakes.telegram_models",
    "Button": "bot.fakes.telegram_models",
    "Call": "bot.fakes.telegram_models",
    "SentMessage": "bot.fakes.telegram_models",
    "StoredFile": "bot.fakes.telegram_models",
    "FakeTelegram": "bot.fakes.telegram_server",
    "FakeUser": "bot.fakes.telegram_users",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.fakes' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
