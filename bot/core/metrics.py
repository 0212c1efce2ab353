"""The bot's Prometheus metrics (prometheus-client), served on `/metrics` by bot/web/health.py.

They live in the lowest layer so every layer may count: the sender counts deliveries, the runtime times updates,
the report service counts what it stored, the dispatcher counts events it sets aside. Incrementing is a few
hundred nanoseconds and needs no database; the outbox figures are read by one query when Prometheus scrapes.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "chibo_deliveries",
    "Outbox messages by channel and outcome: sent, blocked (the user blocked the bot), failed, retried",
    ["channel", "outcome"],
)
RATE_LIMITED = Counter("chibo_rate_limited", "429 (too many requests) answers from a platform", ["channel"])
OUTBOX_BACKLOG = Gauge("chibo_outbox_backlog", "Outbox messages waiting to be sent (pending or being sent)")
OUTBOX_OLDEST_SECONDS = Gauge(
    "chibo_outbox_oldest_pending_seconds", "Age of the oldest outbox message still waiting, 0 when none"
)
UPDATE_SECONDS = Histogram(
    "chibo_update_seconds",
    "Time from an update's arrival to the end of its handling",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
REPORTS_STORED = Counter("chibo_reports_stored", "Reports stored (each version a cell submits)")
EVENTS_SET_ASIDE = Counter(
    "chibo_events_set_aside", "Events that can never be handled, kept for inspection instead of retried"
)


def delivery(channel: str, outcome: str) -> None:
    """Count one delivery outcome (the sender's only line about metrics per message)."""
    DELIVERIES.labels(channel=channel, outcome=outcome).inc()
