"""CHIBO_TELEGRAM_RATE=0 means what the README promises: no pacing on our side, and every message asks Telegram for
paid broadcast (`allow_paid_broadcast`) so its own ~30 msg/s limit does not refuse the burst. Paced, nothing is
asked (nothing is billed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from tests.conftest import make_settings
from tests.support import invite_code, load_roster

SECRETARY_PHONE = "0912000006"  # Hoàng Văn Khánh, Chi bộ Văn phòng Sở Y tế


@pytest.mark.parametrize(("rate", "paid"), [(0.0, True), (25.0, False)])
async def test_unpaced_sending_asks_for_paid_broadcast(
    tmp_path: Path,
    db_url: str,
    engine: AsyncEngine,
    fake_tg: FakeTelegram,
    clock: Clock,
    rate: float,
    paid: bool,
) -> None:
    settings = make_settings(tmp_path, db_url, fake_tg, telegram_rate=rate)
    runtime = Runtime.build(settings, clock=clock, engine=engine)
    await runtime.start(migrate_db=False)
    try:
        await load_roster(runtime)
        khanh = fake_tg.user(803, "Khánh")
        await khanh.send_command("/start", await invite_code(runtime, SECRETARY_PHONE))
        await khanh.wait_for(1)
    finally:
        await runtime.stop()
    sends = [call.params for call in fake_tg.calls if call.method == "sendMessage"]
    assert sends
    assert all(bool(params.get("allow_paid_broadcast")) is paid for params in sends), sends
