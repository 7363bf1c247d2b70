"""Engine: cameras + the real pipeline (YOLOX-Nano, ByteTrack) on the PETS clip played as a
real-time camera; live config edits; a clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from app.config import AppConfig
from app.engine import Engine, TileState
from app.events import CameraStatus, EventBus, FrameStats, LineCross, ZoneEnter
from tests.conftest import MODELS_DIR, PETS_CLIP


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[object] = []
        self._cond = threading.Condition()
        bus.subscribe(self._on)

    def _on(self, ev: object) -> None:
        with self._cond:
            self.events.append(ev)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[object], bool], timeout: float) -> object | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def of(self, cls: type) -> list:
        with self._cond:
            return [e for e in self.events if isinstance(e, cls)]


def pets_config(lines: list[dict], cameras: list[dict] | None = None) -> AppConfig:
    return AppConfig.model_validate(
        {
            "cameras": cameras
            or [{"name": "plaza", "type": "file", "url": str(PETS_CLIP), "realtime": True}],
            "zones": [{"name": "left", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]]}],
            "lines": lines,
            "models": {"dir": str(MODELS_DIR), "allow_download": False},
        }
    )


MID = {"name": "mid", "start": [240, 60], "end": [240, 350]}
HORIZ = {"name": "horiz", "start": [20, 220], "end": [460, 220]}


@pytest.mark.slow
def test_engine_runs_real_pipeline_and_applies_config_live() -> None:
    bus = EventBus()
    rec = Recorder(bus)
    engine = Engine(pets_config([MID]), bus)
    engine.start()
    try:
        assert engine.cameras() == ["plaza"]
        assert rec.wait_for(lambda e: isinstance(e, ZoneEnter), 10), "no zone entry"
        assert rec.wait_for(lambda e: isinstance(e, LineCross) and e.line == "mid", 15)
        state = engine.tile_state("plaza")
        assert isinstance(state, TileState)
        assert state.status == "live" and state.frame is not None
        assert state.frame.image.shape == (360, 480, 3)
        assert len(state.detections) >= 2 and (state.detections.tracker_id >= 0).all()
        assert "left" in state.occupancy and state.line_counts["mid"]["in"] >= 0
        # the 5 fps base, and up to every frame (10 fps) while people are near "mid", a
        # line across the whole plaza (the adaptive rate)
        assert state.detector_ms > 0 and state.source_fps > 5
        assert 2.0 <= state.analysed_fps <= state.source_fps + 0.5, state.analysed_fps
        assert state.heatmap is not None and float(np.max(state.heatmap)) == 1.0
        # add a line live: it starts counting without a restart, "mid" keeps its counts
        mid_before = dict(state.line_counts["mid"])
        engine.apply_config(pets_config([MID, HORIZ]))
        assert rec.wait_for(lambda e: isinstance(e, LineCross) and e.line == "horiz", 20)
        after = engine.tile_state("plaza")
        assert after is not None
        assert sum(after.line_counts["mid"].values()) >= sum(mid_before.values())
        stats = rec.of(FrameStats)
        assert stats and all(s.camera == "plaza" for s in stats)
    finally:
        engine.stop()
    assert engine.cameras() == [] and engine.tile_state("plaza") is None
    statuses = [s.status for s in rec.of(CameraStatus)]
    assert statuses[-1] == "stopped"
    # conftest's autouse check fails this test if any engine thread is still alive


def test_engine_adds_and_removes_cameras_live_with_a_bad_one_isolated() -> None:
    from app.vision.detector import FakeDetector

    bus = EventBus()
    rec = Recorder(bus)
    fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    cfg = pets_config([], cameras=[fake])
    engine = Engine(cfg, bus, detector=FakeDetector())
    engine.start()
    try:
        assert rec.wait_for(lambda e: isinstance(e, FrameStats) and e.camera == "a", 5)
        broken = {"name": "b", "type": "fake", "url": "fake://nonsense"}
        b_ok = {"name": "c", "type": "fake", "url": "fake://320x240@20", "realtime": True}
        engine.apply_config(pets_config([], cameras=[fake, broken, b_ok]))
        assert rec.wait_for(lambda e: isinstance(e, FrameStats) and e.camera == "c", 5)
        assert sorted(engine.cameras()) == ["a", "c"]
        assert any(s.camera == "b" and s.status == "offline" for s in rec.of(CameraStatus))
        engine.apply_config(pets_config([], cameras=[b_ok]))
        assert engine.cameras() == ["c"]
    finally:
        engine.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith(("analysis", "camera-"))]


def test_engine_with_a_store_runs_retention_and_the_tablet_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With a store, start() also starts retention and the LAN server; stop() ends them."""
    import socket

    import httpx

    from app.store.db import open_store
    from app.vision.detector import FakeDetector

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    cfg = pets_config([], cameras=[fake]).model_copy(deep=True)
    cfg.lan = cfg.lan.model_copy(update={"port": port, "host": "127.0.0.1", "allow_http": True})
    store = open_store(tmp_path / "v.db", "pw")
    engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
    try:
        engine.start()
        assert engine.lan_server is not None
        r = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
        assert r.status_code == 200 and "paths" in r.json()
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=5).status_code == 401
        assert engine.sync_worker is None  # sync is off until the store is provisioned
    finally:
        engine.stop()
        store.close()
    assert engine.lan_server is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)


def test_a_busy_tablet_port_does_not_stop_counting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket

    from app.events import Alert
    from app.store.db import open_store
    from app.vision.detector import FakeDetector

    bus = EventBus()
    rec = Recorder(bus)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
        cfg = pets_config([], cameras=[fake]).model_copy(deep=True)
        cfg.lan = cfg.lan.model_copy(update={"port": port, "host": "127.0.0.1"})
        store = open_store(tmp_path / "v.db", "pw")
        engine = Engine(cfg, bus, store=store, detector=FakeDetector())
        try:
            engine.start()
            assert engine.running and engine.lan_server is None
            alert = rec.wait_for(lambda e: isinstance(e, Alert), 5)
            assert isinstance(alert, Alert) and alert.kind == "lan_unavailable"
            assert str(port) in alert.message and "?." not in alert.message
            assert rec.wait_for(lambda e: isinstance(e, FrameStats) and e.camera == "a", 5)
        finally:
            engine.stop()
            store.close()


def test_sync_state_tells_the_status_bar_what_went_wrong(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With HQ provisioned but unreachable, the engine's sync line says so in words."""
    import socket

    from pydantic import SecretStr

    from app.store.db import open_store
    from app.vision.detector import FakeDetector

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again: nothing listens there
    fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    cfg = pets_config([], cameras=[fake]).model_copy(deep=True)
    cfg.lan = cfg.lan.model_copy(update={"enabled": False})
    cfg.sync = cfg.sync.model_copy(
        update={
            "enabled": True,
            "hq_url": f"http://127.0.0.1:{dead}",
            "store_key": SecretStr("k" * 32),
        }
    )
    store = open_store(tmp_path / "v.db", "pw")
    engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
    try:
        engine.start()
        assert engine.sync_worker is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "cannot reach HQ" not in engine.sync_state():
            time.sleep(0.1)
        state = engine.sync_state()
        assert state.startswith("never synced with HQ"), state
        assert "cannot reach HQ" in state and "will retry in" in state, state
    finally:
        engine.stop()
        store.close()


def test_the_engine_runs_the_alert_rules() -> None:
    """A camera that cannot be used is down: the engine's alert monitor opens its alert
    after the configured delay (no window needed); removing the camera resolves it."""
    from app.alerts import AlertOpened, AlertResolved
    from app.vision.detector import FakeDetector

    bus = EventBus()
    rec = Recorder(bus)
    good = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    broken = {"name": "b", "type": "fake", "url": "fake://nonsense"}
    cfg = pets_config([], cameras=[good, broken])
    alerts = cfg.alerts.model_copy(
        update={"camera_offline": cfg.alerts.camera_offline.model_copy(update={"delay_s": 0.5})}
    )
    cfg = cfg.model_copy(update={"alerts": alerts})
    engine = Engine(cfg, bus, detector=FakeDetector())
    engine.start()
    try:
        t0 = time.monotonic()
        opened = rec.wait_for(lambda e: isinstance(e, AlertOpened), 5)
        assert isinstance(opened, AlertOpened) and (opened.kind, opened.subject) == (
            "camera_offline", "b"
        )
        assert 0.4 <= time.monotonic() - t0 <= 2.5
        engine.apply_config(cfg.model_copy(update={"cameras": cfg.cameras[:1]}))
        assert rec.wait_for(lambda e: isinstance(e, AlertResolved), 5)
        assert [a.subject for a in rec.of(AlertOpened)] == ["b"]  # the live camera: none
    finally:
        engine.stop()
    assert not [t for t in threading.enumerate() if t.name == "alert-monitor"]


def test_a_camera_that_cannot_be_used_says_why_on_its_tile() -> None:
    """Not "starting" for ever: the tile gets the reason at once, and loses it when the
    camera is removed."""
    from app.vision.detector import FakeDetector

    bus = EventBus()
    good = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    broken = {"name": "b", "type": "fake", "url": "fake://nonsense"}
    cfg = pets_config([], cameras=[good, broken])
    engine = Engine(cfg, bus, detector=FakeDetector())
    engine.start()
    try:
        tile = engine.tile_state("b")
        assert tile is not None and tile.status == "offline" and "fake camera url" in tile.message
        engine.apply_config(cfg.model_copy(update={"cameras": cfg.cameras[:1]}))
        assert engine.tile_state("b") is None
    finally:
        engine.stop()


def test_the_heatmap_is_kept_across_a_restart(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: the heatmap was lost when Vitrine restarted. Its aggregated grid (no
    picture) is saved in the encrypted store on stop and taken back on start, with the
    start of the window it covers."""
    from app.store.db import open_store
    from app.store.heatmaps import load_heatmap
    from app.vision.detector import FakeDetector

    fake = {"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}
    cfg = pets_config([], cameras=[fake]).model_copy(deep=True)
    cfg.lan = cfg.lan.model_copy(update={"enabled": False})
    store = open_store(tmp_path / "v.db", "pw")

    def heatmap_of(engine: Engine):  # type: ignore[no-untyped-def]
        deadline = time.time() + 20
        while time.time() < deadline:
            slot = engine.scheduler.get("a")
            if slot is not None and slot.pipeline.analytics.heatmap is not None:
                return slot.pipeline.analytics.heatmap
            time.sleep(0.05)
        raise AssertionError("no heatmap")

    import app.engine

    monkeypatch.setattr(app.engine, "HEATMAP_SAVE_S", 0.5)
    try:
        engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
        engine.start()
        try:
            heat = heatmap_of(engine)
            heat.grid[2, 3] += 42.0  # 42 s of presence in one cell
            since = heat.since
            state = engine.tile_state("a")
            assert state is not None and state.heatmap_since == since
            deadline = time.time() + 10  # saved while running too (a power cut)
            while load_heatmap(store, "a") is None and time.time() < deadline:
                time.sleep(0.1)
            assert load_heatmap(store, "a") is not None
        finally:
            engine.stop()
        snap = load_heatmap(store, "a")
        assert snap is not None and set(snap) == {"width", "height", "cell", "since", "grid"}
        again = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
        again.start()
        try:
            heat = heatmap_of(again)
            assert heat.grid[2, 3] >= 42.0 and heat.since == since
        finally:
            again.stop()
    finally:
        store.close()
