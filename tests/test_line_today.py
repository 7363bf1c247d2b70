"""A live tile's line counts are today's, like the dashboard's: what the store already
holds for today when the camera starts, plus what the pipeline counts after that."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from app.config import AppConfig
from app.events import EventBus, LineCross
from app.line_today import TodayCounts

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


def test_stored_counts_plus_what_the_pipeline_counts() -> None:
    today = TodayCounts(MON, {"door": {"in": 40, "out": 38}})
    assert today.update(MON, {}) == {"door": {"in": 40, "out": 38}}  # nothing analysed yet
    assert today.update(MON, {"door": {"in": 0, "out": 0}}) == {"door": {"in": 40, "out": 38}}
    assert today.update(MON, {"door": {"in": 3, "out": 1}}) == {"door": {"in": 43, "out": 39}}
    # a line added live starts from 0; the other keeps counting
    running = {"door": {"in": 5, "out": 1}, "aisle": {"in": 2, "out": 0}}
    assert today.update(MON, running) == {
        "door": {"in": 45, "out": 39},
        "aisle": {"in": 2, "out": 0},
    }


def test_a_counter_that_restarts_loses_nothing() -> None:
    """An edited line gets a new counter in the pipeline, from 0."""
    today = TodayCounts(MON)
    today.update(MON, {"door": {"in": 7, "out": 2}})
    assert today.update(MON, {"door": {"in": 1, "out": 0}}) == {"door": {"in": 8, "out": 2}}
    assert today.update(MON, {"door": {"in": 2, "out": 0}}) == {"door": {"in": 9, "out": 2}}


def test_a_crossing_taken_back_leaves_todays_count() -> None:
    """Staff recognised after they crossed: the pipeline's count goes down, its
    taken-back count up; that is not a counter started anew."""
    today = TodayCounts(MON, {"door": {"in": 40, "out": 0}})
    today.update(MON, {"door": {"in": 2, "out": 0}})
    back = {"door": {"in": 1, "out": 0}}
    assert today.update(MON, {"door": {"in": 1, "out": 0}}, back) == {"door": {"in": 41, "out": 0}}
    assert today.update(MON, {"door": {"in": 3, "out": 0}}, back) == {"door": {"in": 43, "out": 0}}
    # the line edited afterwards: a new counter (nothing taken back yet) loses nothing
    assert today.update(MON, {"door": {"in": 1, "out": 0}}) == {"door": {"in": 44, "out": 0}}


def test_midnight_starts_a_new_day_at_zero() -> None:
    today = TodayCounts(MON, {"door": {"in": 100, "out": 90}})
    today.update(MON, {"door": {"in": 10, "out": 10}})
    assert today.update(TUE, {"door": {"in": 12, "out": 10}}) == {"door": {"in": 2, "out": 0}}


def test_the_engine_starts_a_tile_from_the_stores_counts_of_today(tmp_path: Path) -> None:
    from app.engine import Engine
    from app.store.db import open_store
    from app.store.reports import today_line_counts
    from app.vision.detector import FakeDetector
    from tests.conftest import MODELS_DIR

    store = open_store(tmp_path / "v.db", "pw")
    try:
        now = time.time()
        crossings = [("a", now - 60, "door", "in")] * 3 + [("a", now - 50, "door", "out")]
        crossings += [("a", now - 3 * 86400, "door", "in")] * 5  # another day
        crossings += [("b", now - 40, "door", "in")] * 2  # another camera
        for i, (camera, ts, line, direction) in enumerate(crossings):
            store.writer.ingest(LineCross(camera, ts, i, 0.0, line, direction, i))  # type: ignore[arg-type]
        store.writer.flush()
        with store.read_session() as session:
            assert today_line_counts(session, "a") == {"door": {"in": 3, "out": 1}}

        cfg = AppConfig.model_validate(
            {
                "cameras": [{"name": "a", "type": "fake", "url": "fake://320x240@20"}],
                "lines": [{"name": "door", "camera": "a", "start": [10, 120], "end": [300, 120]}],
                "models": {"dir": str(MODELS_DIR), "allow_download": False},
                "lan": {"enabled": False},
            }
        )
        engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
        engine.start()
        try:
            state = engine.tile_state("a")
            assert state is not None and state.line_counts == {"door": {"in": 3, "out": 1}}
        finally:
            engine.stop()
    finally:
        store.close()
