"""Which database errors are transient: the database unreachable, locked or its connection cut. Such a failure is
retried with back-off; anything else is a bug (or bad data) and is not."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Words of the drivers' messages that mean "try again later", whatever the exception class they arrive in.
_TRANSIENT_WORDS = (
    "database is locked",
    "database table is locked",
    "connection",
    "could not connect",
    "terminating",
    "lock timeout",
    "deadlock",
    "could not serialize",
    "the database system is",
    "server closed",
)


def is_transient(exc: BaseException) -> bool:
    """True for a failure worth retrying: a lost or refused connection, a lock, a pool timeout."""
    if isinstance(exc, DisconnectionError | PoolTimeout | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError) or isinstance(exc.orig, sqlite3.OperationalError):
            return True
        return any(word in str(exc.orig).lower() for word in _TRANSIENT_WORDS)
    if isinstance(exc, OSError):
        return True
    # asyncpg raises its own classes for a connection lost between statements.
    name = type(exc).__name__
    return name in {
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
    }


def reason(exc: BaseException) -> str:
    """One line naming the failure, for the log."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {text}"[:300]
