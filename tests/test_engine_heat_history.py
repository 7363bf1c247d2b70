"""The engine writes the heatmap history: an hour that is over is added to the store and
forgotten, the current one is saved as it grows (a power cut loses minutes) and at stop."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.engine import Engine
from app.events import EventBus
from app.vision.heat_hours import HOUR, hour_start
from tests.test_engine import pets_config


def test_the_engine_flushes_finished_hours_and_the_current_one(tmp_path, monkeypatch) -> None:
    import app.engine
    from app.store import keys
    from app.store.db import open_store
    from app.store.heat_history import heat_sum
    from app.vision.detector import FakeDetector

    fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    cfg = pets_config([], cameras=[fake]).model_copy(deep=True)
    cfg.lan = cfg.lan.model_copy(update={"enabled": False})
    monkeypatch.setattr(app.engine, "HEATMAP_SAVE_S", 0.3)
    monkeypatch.setattr(keys, "SCRYPT_N", 2**12)  # a cheaper key derivation for the test
    store = open_store(tmp_path / "v.db", "pw")
    now = hour_start(time.time())
    old = now - 3 * HOUR  # an hour well over (past its grace)

    def stored(start: int) -> float:
        with store.read_session() as s:
            got = heat_sum(s, "a", start, start + HOUR)
        return 0.0 if got is None else float(got.grid[5, 6])

    engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
    engine.start()
    try:
        deadline = time.time() + 20
        while engine.scheduler.get("a") is None and time.time() < deadline:
            time.sleep(0.05)
        pipeline = engine.scheduler.get("a").pipeline  # type: ignore[union-attr]
        hours = pipeline.heat_hours
        point = np.array([[6 * 8 + 1.0, 5 * 8 + 1.0]])  # cell (5, 6)
        pipeline.recent_heat.add(time.time(), point, 60.0, 320, 240)  # the fading view
        state = engine.tile_state("a")
        assert state is not None and state.heatmap_recent is not None
        assert state.heatmap_recent[5, 6] > 0.9  # a minute just now: full brightness
        hours.add(old + 10, point, 30.0, 320, 240)
        hours.add(time.time(), point, 12.0, 320, 240)
        deadline = time.time() + 10
        while (stored(old) == 0.0 or stored(now) == 0.0) and time.time() < deadline:
            time.sleep(0.1)
        assert stored(old) == pytest.approx(30.0)  # the hour over: written, then forgotten
        assert old not in hours.hours() and now in hours.hours()
        assert stored(now) >= 12.0  # the current hour so far
        hours.add(time.time(), point, 3.0, 320, 240)
    finally:
        engine.stop()
    assert stored(now) >= 15.0  # the rest at stop
    assert stored(old) == pytest.approx(30.0)  # written once
    store.close()
