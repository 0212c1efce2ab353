"""Bulk generation of a province for benchmarks: a tree of units, a secretary per cell, linked Telegram accounts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from storage.models import ChannelAccount, Person, Role, Unit

CHAT_BASE = 1_000_000
PER_PARENT = 100
CHUNK = 2_000


async def seed_province(
    engine: AsyncEngine, clock: Clock, cells: int, *, registered: bool = True
) -> list[int]:
    """A province root, one đảng ủy per 100 cells, `cells` chi bộ with a secretary each; returns the cell ids.

    Ids are assigned here so paths can be written without a round trip; sequences are moved past them on PostgreSQL.
    """
    now = clock.now()
    parents = max(1, (cells + PER_PARENT - 1) // PER_PARENT)
    units = [
        {
            "id": 1,
            "code": "TINH",
            "name": "Tỉnh ủy",
            "kind": "Tỉnh ủy",
            "parent_id": None,
            "path": "/1/",
            "depth": 0,
            "is_cell": False,
            "active": True,
        }
    ]
    for p in range(parents):
        uid = 2 + p
        units.append(
            {
                "id": uid,
                "code": f"DU{p:04d}",
                "name": f"Đảng ủy xã {p + 1}",
                "kind": "Đảng ủy xã",
                "parent_id": 1,
                "path": f"/1/{uid}/",
                "depth": 1,
                "is_cell": False,
                "active": True,
            }
        )
    first_cell = 2 + parents
    cell_ids = []
    people, roles, accounts = [], [], []
    for i in range(cells):
        uid = first_cell + i
        parent = 2 + i // PER_PARENT
        cell_ids.append(uid)
        units.append(
            {
                "id": uid,
                "code": f"CB{i:05d}",
                "name": f"Chi bộ {i + 1}",
                "kind": "Chi bộ",
                "parent_id": parent,
                "path": f"/1/{parent}/{uid}/",
                "depth": 2,
                "is_cell": True,
                "active": True,
            }
        )
        people.append({"id": i + 1, "full_name": f"Bí thư {i + 1}", "phone": f"09{i:08d}", "created_at": now})
        roles.append({"id": i + 1, "person_id": i + 1, "kind": "secretary", "unit_id": uid})
        if registered:
            chat = str(CHAT_BASE + i)
            accounts.append(
                {
                    "id": i + 1,
                    "person_id": i + 1,
                    "channel": "telegram",
                    "user_id": chat,
                    "chat_id": chat,
                    "display_name": f"BT {i + 1}",
                    "linked_at": now - timedelta(days=1),
                    "last_seen_at": now,
                    "active": True,
                }
            )
    async with engine.begin() as conn:
        for table, rows in ((Unit, units), (Person, people), (Role, roles), (ChannelAccount, accounts)):
            for start in range(0, len(rows), CHUNK):
                await conn.execute(insert(table), rows[start : start + CHUNK])
        if conn.dialect.name == "postgresql":
            for table in ("units", "people", "roles", "channel_accounts"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    return cell_ids
