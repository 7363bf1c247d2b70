"""Render Analytics > Heatmaps into docs/screenshots/analytics-heatmap.png.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_heatmap.py [--store FILE]

The store is a real encrypted store filled by `analyze --store` on the PETS clip
(../shared/media/video/pets09_s2l1_480x360.avi, real models: about a minute and a half
on two cores), which records the clip's heatmap hours and the camera's reference view;
`--store FILE` uses a store already filled (passphrase in VITRINE_STORE_PASSPHRASE).
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
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
