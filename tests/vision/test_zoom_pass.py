"""The zoomed second pass around the counting lines (app/vision/zoom_pass.py): crop
geometry, merging, the size rule, the pipeline hook, and the real detector on a small
copy of PETS09 made on the fly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from app.config import AppConfig, DetectorConfig, ZoomConfig
from app.vision.detections import Detections
from app.vision.detector import create_detector
from app.vision.models import ModelManager
from app.vision.pipeline import CameraPipeline
from app.vision.tracker import box_iou
from app.vision.zoom_pass import (
    Tile,
    ZoomPass,
    from_tile,
    line_region,
    merge,
    person_height,
    tiles_for,
)
from tests.conftest import MODELS_DIR, PETS_CLIP

IN = (416, 416)


def dets(boxes: list[list[float]], scores: list[float] | None = None) -> Detections:
    return Detections.create(np.array(boxes, np.float32).reshape(-1, 4), scores)


def test_the_region_is_a_person_around_the_lines_and_two_above() -> None:
    region = line_region([((100, 100), (100, 200))], 40.0, (360, 480))
    assert region == Tile(60, 20, 140, 240)
    # clipped to the frame; several lines: their common surroundings
    region = line_region([((10, 50), (60, 50)), ((400, 300), (470, 300))], 40.0, (360, 480))
    assert region == Tile(0, 0, 480, 340)
    assert line_region([], 40.0, (360, 480)) is None


def test_tiles_cover_the_region_with_the_inputs_shape_and_overlap() -> None:
    region = Tile(0, 100, 480, 340)  # 480 x 240: two square tiles side by side
    tiles = tiles_for(region, 40.0, (360, 480), IN, min_gain=1.25, max_tiles=2)
    assert len(tiles) == 2
    assert tiles[0].x0 == 0 and tiles[-1].x1 == 480
    assert all((t.y0, t.y1) == (100, 340) for t in tiles)
    assert tiles[0].x1 - tiles[1].x0 == 40  # a person of overlap: one is whole in one tile
    # a tall region: tiles one above the other
    tall = tiles_for(Tile(200, 0, 260, 360), 40.0, (360, 480), IN, min_gain=1.25, max_tiles=2)
    assert len(tall) == 1 and tall[0] == Tile(200, 0, 260, 360)
    # more tiles than allowed, or too little enlargement: no zoom
    assert tiles_for(region, 40.0, (360, 480), IN, min_gain=1.25, max_tiles=1) == []
    whole = Tile(0, 0, 480, 360)
    assert tiles_for(whole, 40.0, (360, 480), IN, min_gain=1.25, max_tiles=1) == []


def test_tile_boxes_come_back_in_frame_pixels_without_those_cut_by_inner_edges() -> None:
    tile = Tile(100, 50, 300, 250)
    found = dets([[10, 10, 50, 90], [0, 20, 30, 100], [150, 20, 200, 199]], [0.9, 0.8, 0.7])
    out = from_tile(found, tile, (360, 480))
    # the second touches the tile's left edge (inside the frame): dropped; the third
    # ends 1 px from the bottom edge: dropped
    np.testing.assert_allclose(out.xyxy, [[110, 60, 150, 140]])
    # edges on the frame's border cut nobody
    border = from_tile(dets([[0, 0, 40, 80]], [0.9]), Tile(0, 0, 200, 200), (200, 200))
    assert len(border) == 1


def test_merge_keeps_one_box_per_person_across_passes() -> None:
    full = dets([[10, 10, 50, 110], [200, 50, 220, 90]], [0.6, 0.9])
    part = dets([[12, 11, 51, 109], [300, 40, 320, 80]], [0.8, 0.4])
    out = merge(full, [part])
    assert len(out) == 3
    assert sorted(out.confidence.tolist()) == pytest.approx([0.4, 0.8, 0.9])
    assert (out.tracker_id == -1).all()


def test_the_pass_runs_only_for_small_people() -> None:
    zoom = ZoomPass(ZoomConfig(enabled=True), [((240, 60), (240, 350))])
    small = dets([[230, 100, 250, 140]], [0.9])  # 40 px in 360: 35 input px
    assert person_height(small) == 40.0
    assert zoom.tiles(small, (360, 480), IN)
    big = dets([[200, 100, 260, 280]], [0.9])  # 180 px: 156 input px
    assert zoom.tiles(big, (360, 480), IN) == []
    unsure = dets([[230, 100, 250, 140]], [0.3])
    assert zoom.tiles(unsure, (360, 480), IN) == []
    off = ZoomPass(ZoomConfig(enabled=False), [((240, 60), (240, 350))])
    assert off.tiles(small, (360, 480), IN) == []


class Recording:
    """A detector that finds one small person in the full frame and records the
    sizes of the pictures it is given."""

    input_hw = IN

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray) -> Detections:
        self.shapes.append(image.shape)
        if image.shape[:2] == (360, 480):
            return dets([[230, 150, 250, 190]], [0.9])
        return Detections.empty()


class Frame:
    def __init__(self, i: int) -> None:
        self.image = np.zeros((360, 480, 3), np.uint8)
        self.index, self.t, self.ts = i, i / 10, 1000.0 + i / 10


def test_the_pipeline_zooms_only_while_fast_when_enabled() -> None:
    data: dict[str, Any] = {
        "cameras": [{"name": "c", "type": "file", "url": str(PETS_CLIP)}],
        "lines": [{"name": "l", "start": [240, 60], "end": [240, 350]}],
        "analysis": {"motion": {"enabled": False}, "zoom": {"enabled": True}},
    }
    det = Recording()
    p = CameraPipeline("c", AppConfig.model_validate(data), det, None, fps=10, crops=False)
    for i in range(4):
        p.process(Frame(i))
    # frame 0: nobody near the line yet (not fast): no zoom; then one tile a frame
    assert det.shapes[0] == (360, 480, 3) and det.shapes[1] == (360, 480, 3)
    assert any(s[:2] != (360, 480) for s in det.shapes)
    assert p.zoom.passes == 3
    data["analysis"]["zoom"]["enabled"] = False
    plain = Recording()
    p = CameraPipeline("c", AppConfig.model_validate(data), plain, None, fps=10, crops=False)
    for i in range(4):
        p.process(Frame(i))
    assert plain.shapes == [(360, 480, 3)] * 4


def test_on_a_small_copy_of_pets_the_zoom_finds_more_of_the_people_the_original_shows(
    tmp_path: Path,
) -> None:
    """PETS09 at 320x240, x264 crf 35 (bench/eval_agreement.py's `small` copy, first
    10 s): people found sure (score >= 0.5) that the full-resolution original's
    detections confirm (IoU >= 0.5), with and without the zoomed pass around a line
    across the plaza."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    small = tmp_path / "pets-small.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(PETS_CLIP), "-frames:v", "100",
           "-vf", "scale=320:240", "-c:v", "libx264", "-crf", "35", "-pix_fmt", "yuv420p",
           str(small)]  # fmt: skip
    subprocess.run(cmd, check=True)
    det = create_detector(DetectorConfig(threads=1), ModelManager(MODELS_DIR, allow_download=False))
    zoom = ZoomPass(ZoomConfig(enabled=True), [((16, 120), (304, 120))])
    a, b = cv2.VideoCapture(str(PETS_CLIP)), cv2.VideoCapture(str(small))
    plain = zoomed = 0
    for i in range(100):
        ok_a, orig = a.read()
        ok_b, img = b.read()
        assert ok_a and ok_b
        if i % 2:
            continue
        ref = det.detect(orig)
        ref_xyxy = ref.xyxy[ref.confidence >= 0.5] * (320 / 480)
        full = det.detect(img)
        for found, is_zoomed in ((full, False), (zoom.run(det, img, full), True)):
            boxes = found.xyxy[found.confidence >= 0.5]
            if len(boxes) and len(ref_xyxy):
                n = int((box_iou(boxes, ref_xyxy).max(axis=0) >= 0.5).sum())
                zoomed, plain = (zoomed + n, plain) if is_zoomed else (zoomed, plain + n)
    a.release()
    b.release()
    assert zoom.passes >= 50  # people there are small: the pass ran
    assert zoomed >= plain + 5, (zoomed, plain)
