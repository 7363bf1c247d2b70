"""The adaptive analysis rate: fast near a counting line, base rate away from it; on the
real PETS clip the default (adaptive) counts agree with every-frame analysis."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from app.config import AdaptiveRateConfig, AppConfig, CameraConfig, DetectorConfig, TrackerConfig
from app.events import EventBus, LineCross
from app.vision.adaptive import NearLines, segment_distances
from app.vision.detections import Detections
from app.vision.detector import create_detector
from app.vision.models import ModelManager
from app.vision.offline import analyze_clip, plan_clip
from app.vision.pipeline import CameraPipeline
from app.vision.scheduler import AnalysisScheduler, CameraSlot
from app.vision.tracker import ByteTracker
from app.vision.video_io import Frame
from tests.conftest import MODELS_DIR, PETS_CLIP

LINE = ((200.0, 0.0), (200.0, 400.0))  # vertical, x = 200


def near_at(x: float, vx: float = 0.0, cfg: AdaptiveRateConfig | None = None) -> list[bool]:
    """A 100 px tall person walking at vx px/s from x, seen at 5 fps for 1 s."""
    near = NearLines(cfg or AdaptiveRateConfig(), [LINE])
    out = []
    for k in range(6):
        t = k * 0.2
        pts = np.array([[x + vx * t, 300.0]])
        near.update(t, np.array([1]), pts, np.array([100.0]))
        out.append(near.fast(t + 0.04))
    return out


def test_segment_distances() -> None:
    d = segment_distances(np.array([[200, 200], [210, 500], [0, -100]]), *LINE)
    assert d == pytest.approx([0.0, np.hypot(10, 100), np.hypot(200, 100)])


def test_fast_near_a_line_and_base_rate_away_from_it() -> None:
    assert near_at(150.0) == [True] * 6  # half a box height from the line
    assert near_at(600.0) == [False] * 6  # 4 box heights away, standing
    # heading for the line from 400 px at 150 px/s: fast once it is within 1 s of it
    walking = near_at(400.0, vx=-150.0)
    assert walking[0] is False and walking[-1] is True
    # walking away from it: fast while near, then back to the base rate
    leaving = NearLines(AdaptiveRateConfig(horizon_s=0.5), [LINE])
    states = []
    for k in range(30):
        t = k * 0.2
        leaving.update(t, np.array([1]), np.array([[220.0 + 150 * t, 300.0]]), np.array([100.0]))
        states.append(leaving.fast(t + 0.04))
    assert states[0] is True and not any(states[-10:])


def test_off_when_disabled_or_without_lines() -> None:
    assert near_at(150.0, cfg=AdaptiveRateConfig(enabled=False)) == [False] * 6
    nobody = NearLines(AdaptiveRateConfig(), [])
    nobody.update(0.0, np.array([1]), np.array([[200.0, 200.0]]), np.array([100.0]))
    assert not nobody.fast(0.0)


class Walker:
    """A fake detector: one person (feet at x) walking right at 200 px/s, x = 0..700."""

    def detect(self, image: np.ndarray) -> Detections:
        x = float(image[0, 0, 0]) * 4.0
        return Detections.create(
            np.array([[x - 60.0, 100.0, x + 60.0, 200.0]]), confidence=np.array([0.9])
        )


def frame_at(i: int, fps: float = 25.0) -> Frame:
    t = i / fps
    img = np.zeros((400, 800, 3), np.uint8)  # the boxes (100 px) fit the picture
    img[0, 0, 0] = min(255, int(200.0 * t / 4.0))
    return Frame(image=img, index=i, t=t, ts=1000.0 + t)


def test_the_pipeline_says_fast_near_its_line() -> None:
    cfg = AppConfig.model_validate(
        {
            "cameras": [{"name": "c", "type": "fake"}],
            "lines": [{"name": "door", "start": [400, 0], "end": [400, 300]}],
        }
    )
    p = CameraPipeline("c", cfg, Walker(), None, fps=5.0, motion=False, crops=False)
    states = []
    for i in range(0, 90, 5):  # every 0.2 s at 25 fps: x = 0 .. 700
        f = frame_at(i)
        p.process(f)
        states.append((round(f.t * 200), p.fast(f.t + 0.04)))
    fast_at = [x for x, fast in states if fast]
    # heading for x = 400 (within a box height, 100 px, in 1 s) .. 100 px past it + 0.4 s
    assert fast_at and min(fast_at) >= 100 and max(fast_at) <= 580
    assert not states[0][1] and not states[-1][1]


def test_the_tracker_follows_a_changing_rate() -> None:
    """5 fps, then 25 fps, then 5 fps again: one id all along (the velocity is rescaled
    to each step, so the prediction is not five steps ahead)."""
    tr = ByteTracker(TrackerConfig(), 5.0)
    ids = set()
    t = 0.0
    for dt in [0.2] * 5 + [0.04] * 10 + [0.2] * 5:
        t += dt
        x = 300.0 * t  # 300 px/s, a 40 px wide box
        out = tr.update(
            Detections.create(np.array([[x, 100.0, x + 40.0, 200.0]]), confidence=np.array([0.9])),
            t=t,
        )
        ids.update(out.tracker_id.tolist())
    assert ids == {1}


class SlowPipeline:
    """A pipeline stub whose adaptive rate says fast from t = 1."""

    near = NearLines(AdaptiveRateConfig(), [LINE])

    def fast(self, t: float) -> bool:
        return t >= 1.0


class Result:
    def __init__(self, t: float) -> None:
        self.t = t


def test_the_scheduler_shortens_the_period_while_fast() -> None:
    reader: Any = type("R", (), {"source_fps": 25.0})()
    slot = CameraSlot(CameraConfig(name="c", type="fake"), reader, SlowPipeline(), 0.2)  # type: ignore[arg-type]
    assert slot.due_period() == 0.2  # nothing analysed yet
    slot.last_result = Result(0.5)  # type: ignore[assignment]
    assert slot.due_period() == 0.2
    slot.last_result = Result(1.5)  # type: ignore[assignment]
    assert slot.due_period() == pytest.approx(0.04)
    reader.source_fps = 0.0  # unknown source rate: the base period
    assert slot.due_period() == 0.2
    sch = AnalysisScheduler(EventBus(), 1)
    assert sch.workers == 1


class Cached:
    """The real detector, its output kept per frame (both runs see the same)."""

    def __init__(self) -> None:
        self.inner = create_detector(
            DetectorConfig(), ModelManager(MODELS_DIR, allow_download=False)
        )
        self.cache: dict[bytes, Detections] = {}

    def detect(self, image: np.ndarray) -> Detections:
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
        if key not in self.cache:
            self.cache[key] = self.inner.detect(image)
        return self.cache[key]


def counts(cfg: AppConfig, det: Any, every_frame: bool, until_s: float) -> tuple[list[Any], int]:
    plan = plan_clip(PETS_CLIP, cfg.analysis.fps, every_frame, adaptive=True)
    assert plan.adaptive is not every_frame
    p = CameraPipeline("clip", cfg, det, None, fps=plan.fps, crops=False)
    events: list[Any] = []
    n = 0
    for _, r in analyze_clip(p, plan, until_s=until_s, start_ts=0.0):
        events += r.events
        n += 1
    events += p.flush()
    return sorted((e.line, e.direction) for e in events if isinstance(e, LineCross)), n


def test_default_rate_agrees_with_every_frame_on_pets() -> None:
    lines = [{"name": f"v{x}", "start": [x, 40], "end": [x, 340]} for x in (144, 240, 336)] + [
        {"name": "h216", "start": [24, 216], "end": [456, 216]}
    ]
    cfg = AppConfig.model_validate(
        {"cameras": [{"name": "clip", "type": "file", "url": str(PETS_CLIP)}], "lines": lines}
    )
    det = Cached()
    every, n_every = counts(cfg, det, True, 20.0)
    adaptive, n_adaptive = counts(cfg, det, False, 20.0)
    assert len(every) >= 8  # people do cross them in the first 20 s
    assert adaptive == every
    assert n_adaptive <= n_every  # (people walk near these lines nearly all the time)
    # one short line in a corner of the plaza: the base rate most of the time
    corner = cfg.model_copy(
        update={"lines": [cfg.lines[0].model_copy(update={"start": (420, 40), "end": (470, 40)})]}
    )
    _, n_corner = counts(corner, det, False, 20.0)
    assert n_corner < 0.75 * n_every


class FastPipeline:
    """A pipeline stub whose adaptive rate always says fast."""

    near = NearLines(AdaptiveRateConfig(), [LINE])

    def fast(self, t: float) -> bool:
        return True


class LatestReader:
    source_fps = 25.0

    def __init__(self) -> None:
        self.index = 10

    def latest(self) -> Frame:
        self.index += 1
        return Frame(image=np.zeros((4, 4, 3), np.uint8), index=self.index, t=0.0, ts=0.0)


def test_under_load_the_base_rate_goes_before_the_fast_frames() -> None:
    """One worker; a fast camera due now (its last frame 0.05 s ago) and a camera due at
    its base period later than that: the base-rate camera goes first."""
    sch = AnalysisScheduler(EventBus(), 1)
    fast = CameraSlot(CameraConfig(name="fast", type="fake"), LatestReader(), FastPipeline(), 0.2)  # type: ignore[arg-type]
    slow = CameraSlot(CameraConfig(name="slow", type="fake"), LatestReader(), FastPipeline(), 0.2)  # type: ignore[arg-type]
    now = 10.0
    fast.last_index, fast.dispatched, fast.next_due = 5, now - 0.05, now - 0.01
    slow.last_index, slow.dispatched, slow.next_due = 5, now - 0.2, now
    for s in (fast, slow):
        sch.add(s)
    groups = sch.due_groups(now)
    assert [[s.cfg.name for s, _ in g] for g in groups] == [["slow"]]


def test_fast_frames_leave_a_worker_for_a_base_frame_coming_due() -> None:
    """Two idle workers and two cameras due only because they are fast. While a third
    camera reaches its base period before a job would end, one fast frame goes and the
    other worker stays free for that base frame; when the third is due later than that,
    both fast frames go (no worker idles for nothing); with one worker, fast frames use
    it."""
    now = 10.0

    def slot(name: str, since: float) -> CameraSlot:
        s = CameraSlot(CameraConfig(name=name, type="fake"), LatestReader(), FastPipeline(), 0.2)  # type: ignore[arg-type]
        s.last_index, s.dispatched = 5, now - since
        s.next_due = now - 0.01 if name != "c" else now - since + 0.2
        return s

    for c_since, expected in ((0.19, 1), (0.05, 2)):
        two = AnalysisScheduler(EventBus(), 2)
        two.job_s = 0.03
        for name, since in (("a", 0.05), ("b", 0.05), ("c", c_since)):
            two.add(slot(name, since))
        groups = two.due_groups(now)
        assert sorted(s.cfg.name for g in groups for s, _ in g) == ["a", "b"][:expected]
    one = AnalysisScheduler(EventBus(), 1)
    one.add(slot("a", 0.05))
    assert sum(len(g) for g in one.due_groups(now)) == 1
