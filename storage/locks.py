"""Every PostgreSQL advisory lock Chibo takes, in one table, so that two locks can never share a key.

The two-key form `pg_advisory_lock(SPACE, key)` is used throughout; instance liveness (storage/liveness.py) uses
the one-key form, which PostgreSQL keeps in a separate key space.
"""

from __future__ import annotations

from enum import IntEnum, unique

SPACE = 0x43484942  # "CHIB"


@unique  # a second name for a key already taken is refused at import
class LockKey(IntEnum):
    MIGRATIONS = 0  # held while migrating, so instances starting together do not race
    REMINDERS = 1  # the reminders job
    SUMMARY = 2  # the daily summary job
    LEADER = 3  # the scheduler's leader, held for as long as the instance leads
    ZALO_OA_TOKEN = 4  # renewing the Zalo OA's rotating token pair
    RETENTION_PURGE = 5  # the daily purge of personal data past the retention period
