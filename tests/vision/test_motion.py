"""Motion gate: still scenes skip detection, movement (synthetic and real PETS footage)
triggers it, and detection is forced every max_skip_s."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.config import MotionConfig
from app.vision.motion import MotionGate
from tests.conftest import PETS_CLIP


def scene(seed: int = 0) -> np.ndarray:
    """A textured 480x360 'shop floor' (smooth blobs, like a real scene)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (36, 48, 3), dtype=np.uint8)
    return cv2.resize(small, (480, 360), interpolation=cv2.INTER_CUBIC)


def noisy(frame: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    noise = rng.normal(0, sigma, frame.shape)
    return np.clip(frame.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def pets_frames(n: int, every: int = 2) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(PETS_CLIP))
    out = []
    for i in range(n * every):
        ok, frame = cap.read()
        assert ok
        if i % every == 0:
            out.append(frame)
    cap.release()
    return out


def test_still_scene_skips_detection_after_the_first_frame() -> None:
    gate = MotionGate(MotionConfig(max_skip_s=2.0))
    rng = np.random.default_rng(1)
    base = scene()
    verdicts = [gate.should_detect(noisy(base, rng), k * 0.2) for k in range(10)]  # 0 .. 1.8 s
    assert verdicts == [True] + [False] * 9
    assert gate.last_changed < 0.0005


def test_detection_is_forced_every_max_skip_s() -> None:
    gate = MotionGate(MotionConfig(max_skip_s=2.0))
    base = scene()
    times = [k * 0.2 for k in range(31)]  # 0 .. 6 s
    ran = [t for t in times if gate.should_detect(base, t)]
    assert ran == pytest.approx([0.0, 2.0, 4.0, 6.0])


def test_moving_blob_triggers_detection() -> None:
    gate = MotionGate(MotionConfig())
    rng = np.random.default_rng(2)
    base = scene()
    verdicts = []
    for k in range(8):
        frame = noisy(base, rng)
        x = 40 + 30 * k  # a person-sized dark blob walking 30 px per analysed frame
        cv2.rectangle(frame, (x, 150), (x + 22, 210), (20, 20, 20), -1)
        verdicts.append(gate.should_detect(frame, 0.2 * k))
    assert all(verdicts)


def test_slow_movement_accumulates_until_it_counts() -> None:
    """Compared with the last detected frame, a creeping blob is eventually seen."""
    gate = MotionGate(MotionConfig(max_skip_s=60))
    base = scene()
    ran = []
    for k in range(12):
        frame = base.copy()
        x = 200 + k  # 1 px per frame: too little for one step
        cv2.rectangle(frame, (x, 150), (x + 10, 175), (0, 0, 0), -1)
        ran.append(gate.should_detect(frame, 0.2 * k))
    assert ran[0] and not ran[1]
    assert any(ran[2:])


def test_real_people_walking_is_motion() -> None:
    """The first 20 s of PETS09 at 5 fps: people walk in every analysed frame."""
    gate = MotionGate(MotionConfig())
    frames = pets_frames(100)
    verdicts = [gate.should_detect(f, 0.2 * k) for k, f in enumerate(frames)]
    assert all(verdicts)


def test_real_frame_held_still_is_not_motion() -> None:
    gate = MotionGate(MotionConfig())
    frame = pets_frames(1)[0]
    rng = np.random.default_rng(3)
    verdicts = [gate.should_detect(noisy(frame, rng), 0.2 * k) for k in range(9)]
    assert verdicts == [True] + [False] * 8


def test_disabled_gate_always_detects_and_size_change_resets() -> None:
    off = MotionGate(MotionConfig(enabled=False))
    base = scene()
    assert all(off.should_detect(base, 0.2 * k) for k in range(5))
    gate = MotionGate(MotionConfig())
    assert gate.should_detect(base, 0.0)
    assert not gate.should_detect(base, 0.2)
    assert not gate.should_detect(cv2.resize(base, (960, 720)), 0.4)  # same view, sharper
    assert gate.should_detect(cv2.resize(base, (640, 360)), 0.6)  # another shape: re-detect
    assert not gate.should_detect(cv2.resize(base, (640, 360)), 0.8)
    gate.reset()
    assert gate.should_detect(cv2.resize(base, (640, 360)), 1.0)
