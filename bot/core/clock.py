"""The one source of "now": real time in production, movable time in tests and the sandbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo


class Clock:
    """Wall-clock time, offset by `shift` so the sandbox can travel forward and tests can pin time."""

    def __init__(self, frozen: datetime | None = None) -> None:
        self._frozen = frozen
        self._shift = timedelta()

    def now(self) -> datetime:
        base = self._frozen if self._frozen is not None else datetime.now(UTC)
        return base + self._shift

    def today(self, tz: tzinfo) -> date:
        """The calendar day it is now where the users are (deadlines, reminders and dates typed without a year)."""
        return self.now().astimezone(tz).date()

    @classmethod
    def starting_at(cls, when: datetime) -> Clock:
        """A running clock that reads `when` now (tests and the sandbox)."""
        clock = cls()
        clock._shift = when - datetime.now(UTC)
        return clock

    def advance(self, delta: timedelta) -> None:
        self._shift += delta

    def set(self, when: datetime) -> None:
        """Pin the clock at `when` (tests); it stays there until moved again."""
        self._frozen = when.astimezone(UTC)
        self._shift = timedelta()
