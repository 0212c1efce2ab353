"""The command table: which slash commands exist, who may use them, and the menu each role sees."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context
from messages.help import COMMAND_DESCRIPTIONS

Handler = Callable[[Context], Awaitable[None]]

SECRETARY = frozenset({"secretary"})
BOARD = frozenset({"board", "admin"})
EVERYONE = SECRETARY | BOARD


@dataclass(frozen=True)
class Command:
    name: str
    roles: frozenset[str]
    handler: Handler


class CommandTable:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(self, name: str, roles: frozenset[str], handler: Handler) -> None:
        assert name in COMMAND_DESCRIPTIONS, f"/{name} needs a description in messages/help.py"
        self._commands[name] = Command(name, roles, handler)

    def get(self, name: str, roles: set[str]) -> Command | None:
        command = self._commands.get(name)
        return command if command is not None and command.roles & roles else None

    def menu(self, roles: set[str]) -> list[tuple[str, str]]:
        return [(c.name, COMMAND_DESCRIPTIONS[c.name]) for c in self._commands.values() if c.roles & roles]
