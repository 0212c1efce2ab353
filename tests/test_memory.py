"""`settle_memory`, which `chibo run` calls once the bot is up: start-up objects leave the collector's sight and the
youngest generation is collected less often (the ingestion benchmark shows what it saves)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.runtime import GC_YOUNG_THRESHOLD, settle_memory


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    gc.unfreeze()
    kept = [object() for _ in range(10)]
    settle_memory()
    assert gc.get_freeze_count() > len(kept)
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD > 700
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle made after start-up is still collected
    del garbage
    assert gc.collect() >= 1


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    """It adds about 27 MB to the running bot (bench/start_memory.py measures it); most days no chart is drawn."""
    import subprocess
    import sys

    probe = (
        "import sys, bot.cli, bot.runtime, handlers.router, bot.services.summary, bot.services.charts as c\n"
        "print('matplotlib' in sys.modules)\n"
        "c.build_progress_chart([('Chi bộ A', 1, 0, 1)])\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
