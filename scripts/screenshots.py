"""Render the desktop app's main views into docs/screenshots/*.png (under Xvfb).

    python scripts/screenshots.py            # re-runs itself under `xvfb-run -a` if needed

What runs is the real app: the real encrypted store, the real Engine with the YOLOX
detector on the PETS 2009 and TUD-Stadtmitte clips (from ../shared/media, looped at
real-time pace), for about 30 seconds. Only the dashboard's *history* (earlier hours
of today and the same weekday last week) is sample data: synthetic events fed through
the store's real writer, so that its charts have a day's worth of shape. The store's
time zone is chosen so that "now" is late afternoon there, whatever the clock says.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
SHARED = REPO.parent / "shared"
PETS = SHARED / "media" / "video" / "pets09_s2l1_480x360.avi"
TUD = SHARED / "media" / "MOT15" / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4"


def ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return
    if shutil.which("xvfb-run") is None:
        sys.exit("error: no DISPLAY and no xvfb-run (apt-get install xvfb)")
    args = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv]
    sys.exit(subprocess.call(args))


def local_zone_for_hour(hour: int) -> str:
    """An Etc/GMT zone where the local time is about `hour` o'clock now."""
    off = hour - datetime.now(UTC).hour
    off = (off + 12) % 24 - 12
    return "UTC" if off == 0 else f"Etc/GMT{'-' if off > 0 else '+'}{abs(off)}"


def demo_config(tz: str):  # noqa: ANN201 - AppConfig, imported late
    from app.config import AppConfig

    return AppConfig.model_validate(
        {
            "store": {"name": "Rivoli — Paris 1er", "timezone": tz},
            "sync": {"hq_url": "https://hq.example.com"},  # off: no upload from a demo
            "cameras": [
                {
                    "name": "Shop front",
                    "type": "file",
                    "url": str(TUD),
                    "loop": True,
                    "realtime": True,
                },
                {"name": "Plaza", "type": "file", "url": str(PETS), "loop": True, "realtime": True},
                {
                    "name": "Plaza (east)",
                    "type": "file",
                    "url": str(PETS),
                    "loop": True,
                    "realtime": True,
                },
                {
                    "name": "Stock room",
                    "type": "rtsp",
                    "url": "rtsp://192.0.2.10:554/stream1",
                    "username": "viewer",
                    "password": "not-shown",
                },
            ],
            "zones": [
                {
                    "name": "Door",
                    "camera": "Shop front",
                    "polygon": [[262, 205], [420, 205], [440, 262], [250, 262]],
                },
                {
                    "name": "Window display",
                    "camera": "Shop front",
                    "polygon": [[0, 180], [250, 200], [240, 285], [0, 290]],
                    "capacity": 4,
                },
                {
                    "name": "Path",
                    "camera": "Plaza",
                    "polygon": [
                        [0, 112],
                        [235, 118],
                        [350, 140],
                        [480, 215],
                        [480, 300],
                        [330, 262],
                        [160, 175],
                        [0, 165],
                    ],
                },
                {
                    "name": "Kiosk queue",
                    "camera": "Plaza (east)",
                    "kind": "queue",
                    "polygon": [[360, 150], [470, 175], [470, 240], [340, 215]],
                },
            ],
            "lines": [
                {
                    "name": "Pavement",
                    "camera": "Shop front",
                    "start": [120, 318],
                    "end": [600, 318],
                },
                {"name": "Crossing", "camera": "Plaza", "start": [250, 100], "end": [240, 225]},
                {
                    "name": "East gate",
                    "camera": "Plaza (east)",
                    "start": [300, 120],
                    "end": [300, 300],
                },
            ],
            "entrances": [{"name": "Main door", "line": "Pavement", "zone": "Door"}],
        }
    )


PROFILE = [0, 0, 0, 0, 0, 0, 0, 0, 2, 9, 14, 18, 26, 24, 16, 14, 17, 25, 28, 19, 8, 2, 0, 0]


def seed_history(store, cfg, now: float) -> None:  # noqa: ANN001
    """Sample events for earlier today and the same weekday last week (see docstring)."""
    from zoneinfo import ZoneInfo

    from app import events as ev

    rng = random.Random(7)
    tz = ZoneInfo(cfg.store.timezone)
    local_now = datetime.fromtimestamp(now, tz)
    evs: list[object] = []
    for days_ago, scale in ((7, 0.85), (0, 1.0)):
        day = (local_now - timedelta(days=days_ago)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        for hour, base in enumerate(PROFILE):
            if days_ago == 0 and hour >= local_now.hour:
                break
            for _ in range(int(base * scale * rng.uniform(0.8, 1.2))):
                ts = (day + timedelta(hours=hour, seconds=rng.uniform(0, 3599))).timestamp()
                kw: dict[str, Any] = {"camera": "Shop front", "ts": ts, "frame": 0, "t": 0.0}
                evs.append(
                    ev.EntranceEntered(
                        **kw, entrance="Main door", zone="Door", track_id=1, visitor_id=""
                    )
                )
                evs.append(ev.LineCross(**kw, line="Pavement", direction="in", track_id=1))
                evs.append(
                    ev.LineCross(
                        **{**kw, "ts": ts + 600}, line="Pavement", direction="out", track_id=1
                    )
                )
                for zone, cam, mean in (
                    ("Window display", "Shop front", 70),
                    ("Path", "Plaza", 25),
                    ("Kiosk queue", "Plaza (east)", 160),
                ):
                    if rng.random() < 0.6:
                        dwell = rng.expovariate(1 / mean)
                        vid = f"{zone}-{ts}"
                        evs.append(
                            ev.VisitClosed(
                                camera=cam,
                                ts=ts + dwell,
                                frame=0,
                                t=0.0,
                                zone=zone,
                                visitor_id=vid,
                                visit_id=vid,
                                enter_ts=ts,
                                exit_ts=ts + dwell,
                                dwell_s=dwell,
                            )
                        )
            for _ in range(int(base * scale * 2.4)):
                ts = (day + timedelta(hours=hour, seconds=rng.uniform(0, 3599))).timestamp()
                evs.append(
                    ev.PassedBy(
                        camera="Shop front",
                        ts=ts,
                        frame=0,
                        t=0.0,
                        entrance="Main door",
                        line="Pavement",
                        track_id=2,
                    )
                )
            if base and days_ago == 0:
                ts = (day + timedelta(hours=hour, minutes=30)).timestamp()
                evs.append(
                    ev.Occupancy(
                        camera="Plaza", ts=ts, frame=0, t=0.0, zone="Path", count=max(1, base // 3)
                    )
                )
    evs.append(
        ev.Alert(
            kind="over_capacity",
            message="Window display: 6 people (capacity 4)",
            camera="Shop front",
            zone="Window display",
            ts=now - 1500,
        )
    )
    store.writer.ingest_many(evs).result(timeout=60)


def pump(app, seconds: float) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shot(widget, name: str) -> None:  # noqa: ANN001
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(REPO)}")


def wizard_shots(app) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QWizard

    from app.ui.wizard import FirstRunWizard
    from app.ui.workers import Background

    bg = Background()
    wiz = FirstRunWizard(bg)
    wiz.resize(760, 640)
    wiz.show()
    wiz.store_page.name.setText("Rivoli — Paris 1er")
    wiz.store_page.tz.setCurrentText("Europe/Paris")
    pump(app, 0.3)
    shot(wiz, "wizard-1-store")
    wiz.next()
    pump(app, 0.3)
    shot(wiz, "wizard-2-privacy")
    wiz.next()
    wiz.camera_page.form.test_connection()
    deadline = time.monotonic() + 15
    while wiz.camera_page.form.snapshot is None and time.monotonic() < deadline:
        pump(app, 0.1)
    pump(app, 0.2)
    shot(wiz, "wizard-3-camera")
    wiz.ask_before_quitting = lambda: True  # type: ignore[method-assign]  # no question here
    wiz.button(QWizard.WizardButton.CancelButton).click()
    bg.shutdown()


def settings_lower_shot(app, win) -> None:  # noqa: ANN001
    """The Settings page scrolled to HQ sync and Backup and restore, after a backup."""
    from PySide6.QtWidgets import QScrollArea

    group = win.settings.backup
    group.start_backup()
    deadline = time.monotonic() + 60
    while group.last_written is None and time.monotonic() < deadline:
        pump(app, 0.2)
    area = win.settings.findChild(QScrollArea)
    area.verticalScrollBar().setValue(area.verticalScrollBar().maximum())
    pump(app, 0.5)
    shot(win, "settings-hq-backup")


def store_figures_shot(app, win) -> None:  # noqa: ANN001
    """Settings > Store figures with a capacity, a staffing target and a week's schedule,
    as the Analytics page's "set it in Settings" link opens it."""
    from app.config.schedule_text import ScheduleRow

    fig = win.settings.figures
    fig.capacity.setValue(40)
    fig.per_salesperson.setValue(12)
    if "Kiosk queue" in fig.serves:
        fig.serves["Kiosk queue"].setCurrentText("Path")
    fig.set_rows([
        ScheduleRow("Mon-Fri", "09:00", "19:00", "2"),
        ScheduleRow("Mon-Fri", "12:00", "14:00", "1"),
        ScheduleRow("Sat", "10:00", "20:00", "4"),
    ])  # fmt: skip
    win.nav.setCurrentRow(win.stack.indexOf(win.settings))
    pump(app, 0.3)
    win.settings.show_setting("kpis.schedule")
    pump(app, 0.5)
    shot(win, "settings-store-figures")


def mask_editor_shot(app) -> None:  # noqa: ANN001
    """The zone editor on the PETS view: the sign on a post the engine flagged as not
    moving (grey dashed box), "Ignore what does not move" pressed (the grey hatched
    mask), and the person size guides shown at a walker's feet."""
    import cv2
    import numpy as np

    from app.config import AppConfig
    from app.ui.zone_editor import ZoneEditor

    cap = cv2.VideoCapture(str(PETS))
    ok, frame = cap.read()
    cap.release()
    if not ok:
        sys.exit(f"error: cannot read {PETS}")
    cfg = AppConfig.model_validate(
        {
            "cameras": [{"name": "Plaza", "type": "file", "url": str(PETS), "loop": True}],
            "zones": [{"name": "Lawn", "polygon": [[10, 150], [230, 150], [230, 350], [10, 350]]}],
        }
    )
    sign = np.array([[19.0, 68.0, 30.0, 89.0]], np.float32)
    editor = ZoneEditor(cfg, "Plaza", lambda _cfg: None, frame, still_boxes=sign)
    editor.resize(1180, 720)
    editor.show()
    pump(app, 0.3)
    editor.ignore_still.click()
    editor.max_size.setValue(45.0)
    editor.show_size.setChecked(True)
    editor.canvas._hover = (168.0, 192.0)  # the guides stand at the mouse: a walker's feet
    editor.canvas.update()
    pump(app, 0.3)
    shot(editor, "zone-editor-mask")
    editor.ask_before_closing = lambda: "discard"  # type: ignore[method-assign]
    editor.reject()


def still_tile_shot(app) -> None:  # noqa: ANN001
    """A tile of the PETS camera where the sign on a post has been flagged as not moving
    (the real pipeline and detector on the clip; the stationary time cut to 20 s so that
    the shot takes one pass of the clip instead of ten minutes)."""
    from app.config import AppConfig, DetectorConfig
    from app.engine import TileState
    from app.ui.camera_tile import CameraTile
    from app.ui.tile_model import build_view, shapes_for
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager
    from app.vision.pipeline import CameraPipeline
    from app.vision.video_io import iter_video

    cfg = AppConfig.model_validate(
        {
            "cameras": [{"name": "Plaza", "type": "file", "url": str(PETS), "loop": True}],
            "zones": [{"name": "Lawn", "polygon": [[10, 150], [230, 150], [230, 350], [10, 350]]}],
            "analysis": {"stationary": {"after_s": 20}},
        }
    )
    det = create_detector(DetectorConfig(), ModelManager(SHARED / "models", allow_download=False))
    pipe = CameraPipeline("Plaza", cfg, det, motion=False, crops=False)
    result, frame = None, None
    for frame in iter_video(PETS, fps=5.0):
        result = pipe.process(frame)
        near_sign = (result.detections.xyxy[:, 0] < 90) & (result.detections.xyxy[:, 1] < 200)
        if frame.t >= 26.0 and len(result.stationary) and not near_sign.any():
            break  # nobody walking past the sign in the shot
    assert result is not None and frame is not None and len(result.stationary)
    state = TileState(
        camera="Plaza", frame=frame, frame_index=frame.index, detections=result.detections,
        analysed_index=frame.index, occupancy=result.occupancy, line_counts={}, queues={},
        status="live", message="", source_fps=10.0, analysed_fps=5.0, detector_ms=0.0,
        lag_s=0.0, held=result.held, stationary=result.stationary,
    )  # fmt: skip
    tile = CameraTile("Plaza")
    tile.resize(720, 540)
    tile.show()
    zones, lines = shapes_for(cfg, "Plaza")
    tile.set_view(build_view("Plaza", state, zones, lines))
    pump(app, 0.3)
    shot(tile, "tile-not-moving")
    tile.close()


def main() -> int:
    ensure_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    tmp = Path(tempfile.mkdtemp(prefix="vitrine-shots-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "screenshots-only-passphrase")
    os.environ.setdefault("VITRINE_MODELS_DIR", str(SHARED / "models"))
    if not PETS.is_file() or not TUD.is_file():
        sys.exit(f"error: the clips are missing ({PETS}, {TUD})")

    from PySide6.QtWidgets import QApplication

    from app.store.db import open_store
    from app.ui.app import DesktopApp
    from app.ui.config_store import save_config
    from app.ui.style import apply_style

    app = QApplication(sys.argv)
    apply_style(app)
    mask_editor_shot(app)
    still_tile_shot(app)
    if os.environ.get("SHOTS_ONLY") == "not-people":
        return 0
    wizard_shots(app)

    store = open_store()
    cfg = demo_config(local_zone_for_hour(17))
    save_config(store, cfg, "screenshots").result(timeout=30)
    seed_history(store, cfg, time.time())
    desktop = DesktopApp(store)
    try:
        win = desktop.open_window()
        win.resize(1440, 900)
        print("running the engine on the clips for 30 s…")
        pump(app, float(os.environ.get("SHOTS_SECONDS", "30")))
        shot(win, "camera-wall")
        win.wall.set_focus("Shop front")
        win.wall.set_heatmap(True)
        pump(app, 2)
        shot(win, "camera-focus-heatmap")
        win.wall.set_heatmap(False)
        win.wall.set_focus(None)
        editor = win.edit_zones("Shop front")
        assert editor is not None
        editor.canvas.select(0)
        editor._select_row(0)
        pump(app, 1)
        shot(editor, "zone-editor")
        editor.reject()
        win.nav.setCurrentRow(1)
        pump(app, 4)
        shot(win, "dashboard")
        win.nav.setCurrentRow(3)
        pump(app, 0.5)
        shot(win, "settings")
        store_figures_shot(app, win)
        settings_lower_shot(app, win)
    finally:
        desktop.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
