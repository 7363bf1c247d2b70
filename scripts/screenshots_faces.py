"""Render the recognition views into docs/screenshots/ (under Xvfb): the Faces page
after enrolling and an erasure by photo, a camera tile with a "staff" tag (a real
frame of ../shared/media/video/short_hamilton_clip.mp4, people found by YOLOX, the
first one tagged as the recogniser does), and the wizard's privacy page.

    python scripts/screenshots_faces.py

Real encrypted store (a temporary one), real face models; nothing is kept afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.screenshots import SHARED, ensure_display, pump, shot  # noqa: E402

FACES = SHARED / "media" / "faces"
CLIP = SHARED / "media" / "video" / "short_hamilton_clip.mp4"


def faces_page_shot(app, store) -> None:  # noqa: ANN001
    from app.config import AppConfig
    from app.recognition import PhotoFaces, enrol
    from app.ui.faces_page import FacesPage
    from app.ui.workers import Background

    cfg = AppConfig.model_validate({"store": {"privacy_mode": "staff_exclusion"}, "faces": {}})
    faces = PhotoFaces.open(cfg)
    for name, role, photos in (
        ("Ana Silva", "staff", ["obama__obama.jpg", "obama__obama2.jpg"]),
        ("Marc Dubois", "staff", ["biden__biden.jpg", "biden__biden2.jpg"]),
        ("Opt-out request #1", "optout", ["kit_harington__john1.jpeg"]),
    ):
        enrol(cfg, store, name, role, [FACES / p for p in photos], "manager",  # type: ignore[arg-type]
              consent=True, faces=faces)  # fmt: skip
    bg = Background()
    page = FacesPage(store, lambda: cfg, bg)
    page.resize(900, 860)
    page.show()
    page.set_cameras(["Shop front", "Stage door"])
    page.name.setText("Julie Martin")
    page.set_photos([FACES / "kit_harington__john1.jpeg", FACES / "kit_harington__john2.jpeg"])
    page.consent.setChecked(True)
    page.set_erase_photo(FACES / "biden__biden2.jpg")
    page.erase()
    for _ in range(300):
        pump(app, 0.05)
        if "second search" in page.erase_result.text():
            break
    pump(app, 0.5)
    shot(page, "faces-page")
    bg.shutdown()


def tile_shot(app) -> None:  # noqa: ANN001
    import numpy as np

    from app.config import DetectorConfig
    from app.ui.camera_tile import CameraTile
    from app.ui.tile_model import TileView
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager
    from app.vision.video_io import iter_video

    frame = None
    for i, f in enumerate(iter_video(CLIP, strict=False)):
        frame = f.image
        if i >= 60:
            break
    assert frame is not None
    det = create_detector(DetectorConfig(), ModelManager())
    people = det.detect(frame)
    people = people[people.class_id == 0]
    det.close()
    order = np.argsort(-(people.xyxy[:, 2] - people.xyxy[:, 0]))[:3]
    boxes = people.xyxy[order]
    ids = np.arange(1, len(boxes) + 1, dtype=np.int64)
    tile = CameraTile("Stage door")
    tile.resize(720, 430)
    tile.set_view(
        TileView(
            "Stage door",
            image=frame,
            frame_index=60,
            analysed_index=60,
            status="live",
            boxes=boxes,
            track_ids=ids,
            tags={1: "staff"},
            source_fps=30.0,
            analysed_fps=5.0,
        )  # fmt: skip
    )
    tile.show()
    pump(app, 0.3)
    shot(tile, "tile-staff-tag")


def wizard_privacy_shot(app) -> None:  # noqa: ANN001
    from app.ui.wizard import FirstRunWizard
    from app.ui.workers import Background

    bg = Background()
    wiz = FirstRunWizard(bg)
    wiz.resize(760, 640)
    wiz.show()
    wiz.store_page.name.setText("Rivoli — Paris 1er")
    wiz.store_page.tz.setCurrentText("Europe/Paris")
    wiz.next()
    pump(app, 0.3)
    shot(wiz, "wizard-2-privacy")
    wiz.ask_before_quitting = lambda: True  # type: ignore[method-assign]
    wiz.close()
    bg.shutdown()


def main() -> int:
    ensure_display()
    tmp = Path(tempfile.mkdtemp(prefix="vitrine-faces-shots-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "screenshots-only-passphrase")
    os.environ.setdefault("VITRINE_MODELS_DIR", str(SHARED / "models"))
    from PySide6.QtWidgets import QApplication

    from app.store.db import open_store
    from app.ui.style import apply_style

    app = QApplication(sys.argv)
    apply_style(app)
    store = open_store(tmp / "vitrine.db")
    try:
        faces_page_shot(app, store)
        tile_shot(app)
        wizard_privacy_shot(app)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
