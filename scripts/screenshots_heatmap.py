"""Render Analytics > Heatmaps into docs/screenshots/analytics-heatmap.png, and a live
tile's fading "recent" heatmap into docs/screenshots/tile-heatmap-recent.png.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_heatmap.py [--store FILE] [--tile-only]

The store is a real encrypted store filled by `analyze --store` on the PETS clip
(../shared/media/video/pets09_s2l1_480x360.avi, real models: about a minute and a half
on two cores), which records the clip's heatmap hours and the camera's reference view;
`--store FILE` uses a store already filled (passphrase in VITRINE_STORE_PASSPHRASE).
The tile is the real pipeline and detector on the clip's first 40 s, its fading view's
half-life cut from 3 minutes to 15 s so that one pass of the clip shows the fade.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
CLIP = REPO.parent / "shared" / "media" / "video" / "pets09_s2l1_480x360.avi"
CONFIG = {
    "store": {"name": "Rue de la Paix", "timezone": "Europe/Paris"},
    "lines": [{"name": "plaza", "camera": "plaza", "start": [240, 60], "end": [240, 350]}],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, help="a store already filled by analyze --store")
    ap.add_argument("--tile-only", action="store_true", help="only the live tile's shot")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.tile_only:
        return recent_tile_shot()
    tmp = Path(tempfile.mkdtemp(prefix="shots-heatmap-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "screenshots-passphrase")
    cfg_path = tmp / "cfg.json"
    cfg_path.write_text(json.dumps(CONFIG), encoding="utf-8")
    db = args.store
    if db is None:
        from app.cli.main import main as cli

        db = tmp / "store.db"
        rc = cli(["analyze", str(CLIP), "--config", str(cfg_path), "--store", str(db),
                  "--no-progress"])  # fmt: skip
        if rc != 0:
            return rc
    from PySide6.QtWidgets import QApplication

    from app.config import AppConfig
    from app.store.db import open_store
    from app.ui.analytics_view import AnalyticsView
    from app.ui.style import apply_style

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    apply_style(app)
    cfg = AppConfig.model_validate(CONFIG)
    store = open_store(db, create=False)
    view = AnalyticsView(store, cfg)
    view.resize(1500, 980)
    view.heat.camera.setCurrentText("plaza")
    view.set_period("Week", dt.datetime.now(ZoneInfo("Europe/Paris")).date())  # the clip: now
    view.refresh(wait=True)
    view.show()
    view.tabs.setCurrentWidget(view.heat)
    app.processEvents()
    view.grab().save(str(OUT / "analytics-heatmap.png"))
    print("wrote docs/screenshots/analytics-heatmap.png")
    print(view.heat.status.text())
    view.shutdown()
    store.close()
    return recent_tile_shot()


def recent_tile_shot() -> int:
    from PySide6.QtWidgets import QApplication

    from app.config import AppConfig, DetectorConfig
    from app.engine import TileState
    from app.ui import camera_tile
    from app.ui.camera_tile import CameraTile
    from app.ui.style import apply_style
    from app.ui.tile_model import build_view, shapes_for
    from app.vision.detector import create_detector
    from app.vision.heat_hours import RecentHeat
    from app.vision.models import ModelManager
    from app.vision.pipeline import CameraPipeline
    from app.vision.video_io import iter_video

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    apply_style(app)
    cfg = AppConfig.model_validate(
        {"cameras": [{"name": "plaza", "type": "file", "url": str(CLIP)}], **CONFIG}
    )
    models = ModelManager(REPO.parent / "shared" / "models", allow_download=False)
    pipe = CameraPipeline("plaza", cfg, create_detector(DetectorConfig(), models), crops=False)
    pipe.recent_heat = RecentHeat(cfg.analysis.heatmap_cell_px, half_life_s=15.0)
    camera_tile.HALF_LIFE_S = 15.0  # the key says so
    result, frame = None, None
    for frame in iter_video(CLIP, fps=5.0):
        result = pipe.process(frame)
        if frame.t >= 40.0:
            break
    assert result is not None and frame is not None
    state = TileState(
        camera="plaza", frame=frame, frame_index=frame.index, detections=result.detections,
        analysed_index=frame.index, occupancy=result.occupancy,
        line_counts=result.line_counts, queues={}, status="live", message="",
        source_fps=10.0, analysed_fps=5.0, detector_ms=0.0, lag_s=0.0,
        heatmap_recent=pipe.recent_heat.normalized(frame.ts),
    )  # fmt: skip
    tile = CameraTile("plaza")
    tile.resize(720, 540)
    tile.set_heat_mode("recent")
    tile.set_heatmap(True)
    tile.show()
    zones, lines = shapes_for(cfg, "plaza")
    tile.set_view(build_view("plaza", state, zones, lines))
    app.processEvents()
    tile.grab().save(str(OUT / "tile-heatmap-recent.png"))
    print("wrote docs/screenshots/tile-heatmap-recent.png")
    tile.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
