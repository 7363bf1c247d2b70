"""`analyze --store` keeps the clip's heatmap per hour and a reference view of the camera
(real models on the PETS clip), and `report heatmap` draws it as a PNG."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli.main import main
from app.store.count_audits import get_reference
from app.store.db import open_store
from app.store.heat_history import heat_cameras, heat_sum
from tests.conftest import PETS_CLIP

CONFIG = {"lines": [{"name": "plaza", "camera": "plaza", "start": [240, 60], "end": [240, 350]}]}


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dt.date]:
    d = tmp_path_factory.mktemp("heat")
    cfg, db = d / "cfg.json", d / "store.db"
    cfg.write_text(json.dumps(CONFIG), encoding="utf-8")
    rc = main(["analyze", str(PETS_CLIP), "--config", str(cfg), "--store", str(db),
               "--duration", "20", "--no-progress"])  # fmt: skip
    assert rc == 0
    return db, cfg, dt.datetime.now(dt.UTC).date()


def test_analyze_keeps_the_heatmap_hours_and_a_reference_view(filled) -> None:
    db, _, _ = filled
    with open_store(db, create=False) as store, store.read_session() as s:
        assert heat_cameras(s) == ["plaza"]
        total = heat_sum(s, "plaza", 0, 4e9)
        ref = get_reference(s, "plaza")
    assert total is not None and (total.width, total.height, total.cell) == (480, 360, 8)
    assert total.seconds > 20.0  # several people over 20 s of video
    assert ref is not None and ref[1][:4] == b"\x89PNG"


def test_report_heatmap_writes_a_png_with_the_hot_cells(filled, tmp_path, capsys) -> None:
    db, cfg, day = filled
    out = tmp_path / "heat.png"
    lo, hi = str(day - dt.timedelta(days=1)), str(day + dt.timedelta(days=1))
    rc = main(["report", "--db", str(db), "--config", str(cfg), "heatmap", "--camera", "plaza",
               "--from", lo, "--to", hi, "--out", str(out)])  # fmt: skip
    assert rc == 0
    said = capsys.readouterr().out
    assert "heatmap of plaza" in said and "reference view" in said and str(out) in said
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (720, 960, 3)
    with open_store(db, create=False) as store, store.read_session() as s:
        total = heat_sum(s, "plaza", 0, 4e9)
    assert total is not None
    gy, gx = np.unravel_index(int(np.argmax(total.grid)), total.grid.shape)
    hot = img[int((gy + 0.5) * 16), int((gx + 0.5) * 16)].astype(int)  # 8 px cells, x2
    cold = img[5, img.shape[1] - 5].astype(int)  # a corner nobody walks
    assert hot[2] > hot[0] + 60  # the hottest cell is drawn red, not the gray picture
    assert abs(cold[2] - cold[0]) < 20  # the corner is the camera's gray picture


def test_report_heatmap_says_when_there_is_nothing(filled, tmp_path, capsys) -> None:
    db, cfg, _ = filled
    out = tmp_path / "none.png"
    rc = main(["report", "--db", str(db), "--config", str(cfg), "heatmap", "--camera", "plaza",
               "--from", "2020-01-01", "--to", "2020-01-07", "--out", str(out)])  # fmt: skip
    assert rc != 0 and not out.exists()
    err = capsys.readouterr().err
    assert "no heatmap of plaza from 2020-01-01 to 2020-01-07" in err and "Traceback" not in err
    rc = main(["report", "--db", str(db), "--config", str(cfg), "heatmap", "--hours", "25-3",
               "--out", str(out)])  # fmt: skip
    assert rc != 0 and "--hours" in capsys.readouterr().err
