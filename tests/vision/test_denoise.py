"""Smoothing grainy pictures before detection (app/vision/denoise.py): the grain
estimate on synthetic and real pictures, the detector hook, and the real detector on a
dim, grainy copy of TUD-Stadtmitte made on the fly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.config import AppConfig, DetectorConfig
from app.vision import denoise
from app.vision.detector import create_detector
from app.vision.models import ModelManager
from app.vision.tracker import box_iou
from tests.conftest import MODELS_DIR, PETS_CLIP, TUD_DIR

TUD_CLIP = TUD_DIR / "TUD-Stadtmitte.mp4"
# bench/eval_agreement.py's `dim` copy: darker and grainy, as a camera at high gain
DIM_FILTER = "eq=brightness=-0.2,noise=alls=20:allf=t"


def shading(h: int = 240, w: int = 320) -> np.ndarray:
    """A smooth picture with a hard edge: no grain at all."""
    y, x = np.mgrid[0:h, 0:w]
    img = (60 + 0.3 * x + 0.2 * y).astype(np.float32)
    img[:, w // 2 :] += 50  # an edge
    return np.clip(img, 0, 255).astype(np.uint8)


def test_the_grain_estimate_finds_the_noise_added_and_ignores_edges_and_shading() -> None:
    clean = shading()
    assert denoise.noise_sigma(clean) < 0.5
    rng = np.random.default_rng(0)
    for sigma in (3.0, 10.0):
        noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
        assert denoise.noise_sigma(noisy) == pytest.approx(sigma, rel=0.15)
        colour = cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR)
        assert denoise.noise_sigma(colour) == pytest.approx(sigma, rel=0.15)
    assert denoise.noise_sigma(np.zeros((2, 2), np.uint8)) == 0.0


def test_only_a_grainy_picture_is_smoothed_in_auto_mode() -> None:
    clean = cv2.cvtColor(shading(), cv2.COLOR_GRAY2BGR)
    rng = np.random.default_rng(1)
    grainy = np.clip(clean + rng.normal(0, 10, clean.shape), 0, 255).astype(np.uint8)
    assert denoise.for_detection(clean, "auto", 4.0) is clean
    smoothed = denoise.for_detection(grainy, "auto", 4.0)
    assert smoothed is not grainy and smoothed.shape == grainy.shape
    assert denoise.noise_sigma(smoothed) < 0.5 * denoise.noise_sigma(grainy)
    assert denoise.for_detection(grainy, "off", 4.0) is grainy
    assert denoise.for_detection(clean, "on", 4.0) is not clean


def first_frame(path: Path) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


def dim_copy(tmp_path: Path, frames: int | None = None) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    out = tmp_path / "tud-dim.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(TUD_CLIP), "-vf", DIM_FILTER]
    if frames:
        cmd += ["-frames:v", str(frames)]
    cmd += ["-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, check=True)
    return out


def test_real_pictures_fall_on_either_side_of_the_default_threshold(tmp_path: Path) -> None:
    limit = DetectorConfig().noise_sigma
    assert denoise.noise_sigma(first_frame(TUD_CLIP)) < limit / 2
    assert denoise.noise_sigma(first_frame(PETS_CLIP)) < limit / 2
    assert denoise.noise_sigma(first_frame(dim_copy(tmp_path, frames=2))) > 1.5 * limit


def test_the_detector_input_is_smoothed_only_when_grainy() -> None:
    det = create_detector(DetectorConfig(threads=1), ModelManager(MODELS_DIR, allow_download=False))
    frame = first_frame(TUD_CLIP)
    same = det.prepare(frame)
    off = create_detector(
        DetectorConfig(threads=1, denoise="off"), ModelManager(MODELS_DIR, allow_download=False)
    )
    np.testing.assert_array_equal(same.blob, off.prepare(frame).blob)  # clean: untouched
    rng = np.random.default_rng(2)
    grainy = np.clip(frame + rng.normal(0, 12, frame.shape), 0, 255).astype(np.uint8)
    assert not np.array_equal(det.prepare(grainy).blob, off.prepare(grainy).blob)


def found(det: object, frames: list[tuple[int, np.ndarray]], gt: np.ndarray, th: float) -> int:
    """Ground-truth people found (a box of score >= th at IoU >= 0.5, one-to-one)."""
    hits = 0
    for i, image in frames:
        d = det.detect(image)  # type: ignore[attr-defined]
        boxes = d.xyxy[d.confidence >= th]
        g = gt[gt[:, 0] == i + 1][:, 2:6]
        truth = np.c_[g[:, :2], g[:, :2] + g[:, 2:]]
        if not len(truth) or not len(boxes):
            continue
        m = box_iou(truth, boxes)
        used: set[int] = set()
        for r in np.argsort(-m.max(axis=1)):
            for c in np.argsort(-m[r]):
                if m[r, c] >= 0.5 and int(c) not in used:
                    used.add(int(c))
                    hits += 1
                    break
    return hits


def test_on_a_dim_grainy_copy_the_real_detector_finds_more_people(tmp_path: Path) -> None:
    clip = dim_copy(tmp_path)  # 179 frames, 7 s
    cap = cv2.VideoCapture(str(clip))
    frames: list[tuple[int, np.ndarray]] = []
    i = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if i % 2 == 0:
            frames.append((i, image))
        i += 1
    cap.release()
    assert len(frames) == 90
    gt = np.loadtxt(TUD_DIR / "gt" / "gt.txt", delimiter=",")
    models = ModelManager(MODELS_DIR, allow_download=False)
    base = AppConfig().analysis.detector.model_copy(update={"threads": 1})
    assert base.denoise == "auto"  # the default
    smoothing = create_detector(base, models)
    plain = create_detector(base.model_copy(update={"denoise": "off"}), models)
    # people sure enough to start a track (the tracker's new_track_thresh, 0.5)
    sure = AppConfig().analysis.tracker.new_track_thresh
    with_smoothing, without = found(smoothing, frames, gt, sure), found(plain, frames, gt, sure)
    assert with_smoothing >= 1.04 * without, (with_smoothing, without)
