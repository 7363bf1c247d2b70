"""The desktop app on the real Engine (YOLOX-Nano + ByteTrack on the PETS clip played as a
live camera) and the real encrypted store: counts reach the tiles and the dashboard,
the GUI thread never stalls with 16 demo cameras, and closing stops every thread."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from app.config import AppConfig
from app.events import LineCross
from app.ui.app import DesktopApp
from app.ui.config_store import save_config
from tests.conftest import MODELS_DIR, PETS_CLIP

pytestmark = pytest.mark.skipif(not PETS_CLIP.is_file(), reason="PETS clip missing")


def live_config(n: int, loop: bool = True) -> AppConfig:
    cams = [
        {
            "name": f"Camera {i + 1}",
            "type": "file",
            "url": str(PETS_CLIP),
            "loop": loop,
            "realtime": True,
        }
        for i in range(n)
    ]
    return AppConfig.model_validate(
        {
            "store": {"name": "Test store"},
            "cameras": cams,
            "zones": [
                {
                    "name": "left",
                    "camera": "Camera 1",
                    "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]],
                }
            ],
            "lines": [{"name": "mid", "camera": "Camera 1", "start": [240, 60], "end": [240, 350]}],
            "models": {"dir": str(MODELS_DIR), "allow_download": False},
        }
    )


def start_desktop(
    qtbot, store, cfg: AppConfig, crossings: list[LineCross] | None = None
) -> DesktopApp:  # noqa: ANN001
    save_config(store, cfg, "test").result(timeout=30)
    desktop = DesktopApp(store)
    assert not desktop.first_run
    if crossings is not None:  # before the engine starts, so that none is missed
        desktop.bus.subscribe(crossings.append, LineCross)
    win = desktop.open_window()
    win.resize(1440, 900)
    qtbot.waitExposed(win)
    assert desktop.host is not None
    qtbot.waitUntil(lambda: desktop.host.state in ("running", "failed"), timeout=60000)
    assert desktop.host.state == "running", desktop.host.message
    return desktop


def test_engine_counts_appear_in_tiles_and_dashboard(qtbot, store) -> None:  # noqa: ANN001
    cfg = live_config(1, loop=False)
    crossings: list[LineCross] = []
    desktop = start_desktop(qtbot, store, cfg, crossings)
    host, win = desktop.host, desktop.window
    assert host is not None and win is not None
    try:
        tile = win.wall.tiles["Camera 1"]

        def tile_matches_engine() -> bool:
            st = host.tile_state("Camera 1")
            counts = st.line_counts.get("mid", {}) if st else {}
            line = tile.view.lines[0]
            return counts.get("in", 0) + counts.get("out", 0) >= 2 and (
                line.count_in,
                line.count_out,
            ) == (
                counts.get("in", 0),
                counts.get("out", 0),
            )

        qtbot.waitUntil(tile_matches_engine, timeout=90000)
        assert tile.frames_shown > 10 and tile.view.status == "live"
        assert tile.view.zones[0].occupancy is not None
        host.stop()  # no more events; everything queued reaches the store
        store.writer.submit(lambda s: None).result(timeout=30)
        n_in = sum(1 for c in crossings if c.direction == "in")
        n_out = len(crossings) - n_in
        assert n_in + n_out >= 2
        win.nav.setCurrentRow(1)
        qtbot.waitUntil(lambda: win.dashboard.data is not None, timeout=15000)
        data = win.dashboard.data
        assert data is not None and (data.entries, data.exits) == (n_in, n_out)
        assert win.dashboard.k_entries.value.text() == str(n_in)
        assert not win.dashboard.c_footfall.is_empty
    finally:
        desktop.close()


def test_gui_thread_never_stalls_with_16_demo_cameras(qtbot, store) -> None:  # noqa: ANN001
    desktop = start_desktop(qtbot, store, live_config(16))
    win = desktop.window
    assert win is not None
    try:
        tiles = list(win.wall.tiles.values())
        assert len(tiles) == 16
        qtbot.waitUntil(lambda: all(t.frames_shown > 0 for t in tiles), timeout=60000)
        gaps: list[float] = []  # wall time between ticks
        busy: list[float] = []  # the GUI thread's own CPU time between ticks
        last = [time.perf_counter(), time.thread_time()]

        def tick() -> None:
            now, cpu = time.perf_counter(), time.thread_time()
            gaps.append(now - last[0])
            busy.append(cpu - last[1])
            last[:] = [now, cpu]

        watchdog = QTimer()
        watchdog.setTimerType(Qt.TimerType.PreciseTimer)
        watchdog.setInterval(10)
        watchdog.timeout.connect(tick)
        before = [t.frames_shown for t in tiles]
        t0 = time.perf_counter()
        last[:] = [t0, time.thread_time()]
        watchdog.start()
        qtbot.wait(10000)
        watchdog.stop()
        elapsed = time.perf_counter() - t0
        fps = [(t.frames_shown - b) / elapsed for t, b in zip(tiles, before, strict=True)]
        ordered, work = sorted(gaps), sorted(busy)
        worst_ms, worst_work_ms = ordered[-1] * 1000, work[-1] * 1000
        p99_work_ms = work[int(0.99 * (len(work) - 1))] * 1000
        cpu_share = sum(busy) / elapsed
        print(
            f"GUI ticks {len(gaps)}: worst gap {worst_ms:.1f} ms; GUI thread work between "
            f"ticks p99 {p99_work_ms:.1f} ms, worst {worst_work_ms:.1f} ms, "
            f"{cpu_share:.0%} of a core; tile fps min {min(fps):.1f}"
        )
        # Work on the GUI thread (decoding, drawing full frames, store queries) shows up
        # as its own CPU time between two ticks. Wall-clock gaps also grow when the host
        # is busy with other work, so they are bounded loosely: only a GUI thread
        # blocked on something (a lock, a file) makes one of seconds. The timings
        # themselves are measured in bench/bench_ui.py.
        assert p99_work_ms <= 30.0, f"the GUI thread often worked {p99_work_ms:.1f} ms at once"
        assert worst_work_ms <= 200.0, f"the GUI thread worked {worst_work_ms:.1f} ms at once"
        assert cpu_share <= 0.6, f"the GUI thread used {cpu_share:.0%} of a core"
        assert worst_ms <= 2000.0, f"the GUI thread stalled {worst_ms:.1f} ms"
        assert min(fps) >= 2.0, f"a tile showed only {min(fps):.1f} frames/s"
    finally:
        desktop.close()


def test_closing_the_window_stops_every_thread(qtbot, store) -> None:  # noqa: ANN001
    before = set(threading.enumerate())
    desktop = start_desktop(qtbot, store, live_config(2))
    win = desktop.window
    assert win is not None
    qtbot.waitUntil(lambda: all(t.frames_shown > 0 for t in win.wall.tiles.values()), timeout=30000)
    assert len(set(threading.enumerate()) - before) >= 3  # readers, scheduler, workers
    win.close()
    assert desktop.host is not None and desktop.host.state == "stopped"
    desktop.close()
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
