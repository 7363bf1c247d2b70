"""Desktop UI under load: 16 demo cameras on the real Engine, the real camera wall.

    python bench/bench_ui.py [--cameras 16] [--seconds 60]

Prints, per tile, the display rate (distinct frames painted per second) and, for the
GUI thread, the worst and 99th-percentile gap of a 10 ms watchdog timer — first with
the window idle (no cameras: the baseline), then with the cameras running. Targets:
>= 10 fps per tile, worst stall <= 50 ms. Figures are from whatever machine runs it
(the project's is a shared 2-core machine: other jobs may be running).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
PETS = SHARED / "media" / "video" / "pets09_s2l1_480x360.avi"


def watch(app, seconds: float) -> list[float]:  # noqa: ANN001
    """Gaps (s) between firings of a 10 ms timer while the event loop runs."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    t = QTimer()
    t.setTimerType(Qt.TimerType.PreciseTimer)
    t.setInterval(10)
    t.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    last[0] = time.perf_counter()
    t.start()
    loop.exec()
    t.stop()
    return gaps


def describe(name: str, gaps: list[float]) -> str:
    ms = sorted(g * 1000 for g in gaps)
    p99 = ms[int(len(ms) * 0.99) - 1] if ms else 0.0
    return f"{name:<28} ticks {len(ms):6d}   mean {statistics.fmean(ms):5.1f} ms   p99 {p99:5.1f} ms   worst {ms[-1]:6.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    if not PETS.is_file():
        print(f"error: the demo clip is missing: {PETS}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="vitrine-bench-ui-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "bench-only-passphrase")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.config import AppConfig
    from app.store.db import open_store
    from app.ui.app import DesktopApp
    from app.ui.config_store import save_config
    from app.ui.style import apply_style

    app = QApplication(sys.argv)
    apply_style(app)
    store = open_store()
    cams = [
        {"name": f"Demo {i + 1}", "type": "file", "url": str(PETS), "loop": True, "realtime": True}
        for i in range(args.cameras)
    ]
    cfg = AppConfig.model_validate(
        {
            "cameras": cams,
            "models": {"dir": str(SHARED / "models"), "allow_download": False},
            "lines": [{"name": "mid", "camera": "Demo 1", "start": [240, 60], "end": [240, 350]}],
        }
    )
    save_config(store, cfg, "bench").result(timeout=30)
    empty = DesktopApp(store)
    empty.cfg = AppConfig()  # baseline: the same window with no cameras
    idle = empty.open_window()
    idle.resize(1440, 900)
    base = watch(app, 5)
    idle.close()  # stops its bridge, engine host and workers (the store stays open)
    empty.background.shutdown()

    desktop = DesktopApp(store)
    try:
        win = desktop.open_window()
        win.resize(1440, 900)
        host = desktop.host
        assert host is not None
        deadline = time.monotonic() + 60
        while host.state not in ("running", "failed") and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if host.state != "running":
            print(f"error: the engine did not start: {host.message}", file=sys.stderr)
            return 1
        tiles = list(win.wall.tiles.values())
        watch(app, 5)  # warm-up: readers connected, detector warm
        before = [t.frames_shown for t in tiles]
        t0 = time.perf_counter()
        gaps = watch(app, args.seconds)
        elapsed = time.perf_counter() - t0
        fps = [(t.frames_shown - b) / elapsed for t, b in zip(tiles, before, strict=True)]
        analysed = [t.view.analysed_fps for t in tiles]
        paint = max(t.paint_ms_max for t in tiles)
    finally:
        desktop.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"Vitrine desktop UI bench: {args.cameras} demo cameras (PETS 480x360 @ 10 fps, real time), "
        f"{args.seconds:.0f} s; shared {os.cpu_count()}-core machine, offscreen Qt, "
        f"load average {os.getloadavg()[0]:.1f} at the end (other jobs included)"
    )
    print(describe("GUI watchdog, idle window", base))
    print(describe(f"GUI watchdog, {args.cameras} cameras", gaps))
    print(
        f"display rate per tile: min {min(fps):.1f}  mean {statistics.fmean(fps):.1f}  max {max(fps):.1f} fps "
        f"(source 10 fps, display cap 15 fps)"
    )
    print(
        f"analysed rate per camera (engine): min {min(analysed):.1f}  mean {statistics.fmean(analysed):.1f} fps"
    )
    print(f"slowest single tile paint: {paint:.1f} ms")
    worst = max(gaps) * 1000
    # the demo clip is 10 fps: a tile cannot show more; count it met within 5% of that
    ok_fps, ok_stall = min(fps) >= 0.95 * 10, worst <= 50
    print(
        f"targets: >= 10 fps per tile (= every frame of the 10 fps source): {'met' if ok_fps else 'NOT met'};  "
        f"worst stall <= 50 ms: {'met' if ok_stall else 'NOT met'} ({worst:.1f} ms, "
        f"{worst / max(max(base) * 1000, 1e-9):.1f}x the idle worst)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
