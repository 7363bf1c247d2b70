"""Offline analysis (`analyze_clip`): the overlapping threads, with inferences side by
side, give exactly what the pipeline gives frame by frame, with the real YOLOX-Nano on
the real PETS clip, with and without the motion gate, and with a detector that only has
`detect`; an error in decoding or inference arrives after every frame before it."""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

import numpy as np
import pytest

from app.config import AppConfig, DetectorConfig
from app.vision.detections import Detections
from app.vision.detector import Detector, create_detector
from app.vision.models import ModelManager
from app.vision.offline import (
    analyze_clip,
    offline_detector_config,
    open_clip,
    plan_clip,
    side_by_side,
)
from app.vision.pipeline import CameraPipeline
from app.vision.video_io import VideoError, iter_video
from tests.conftest import MODELS_DIR, PETS_CLIP

SHAPES: dict[str, Any] = {
    "lines": [{"name": "plaza", "start": [240, 60], "end": [240, 350]}],
    "zones": [{"name": "lawn", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]]}],
    "cameras": [{"name": "clip", "type": "file", "url": str(PETS_CLIP)}],
}
UNTIL_S = 5.0  # the first 51 frames of the 10 fps clip
FRAMES = 51


def detector(cfg: DetectorConfig | None = None) -> Detector:
    return create_detector(cfg or DetectorConfig(), ModelManager(MODELS_DIR, allow_download=False))


def rows(results: Any) -> list[tuple[Any, ...]]:
    return [
        (
            r.frame_index,
            r.detections.xyxy.tobytes(),
            r.detections.confidence.tobytes(),
            r.detections.tracker_id.tolist(),
            [type(e).__name__ for e in r.events],
            r.skipped_by_motion,
        )
        for _, r in results
    ]


def sequential(cfg: AppConfig, det: Any) -> list[tuple[Any, ...]]:
    p = CameraPipeline("clip", cfg, det, None, fps=10.0)
    frames = (f for f in iter_video(PETS_CLIP) if f.t <= UNTIL_S)
    return rows((f, p.process(f)) for f in frames)


def staged(cfg: AppConfig, det: Any, at_once: int | None = None) -> list[tuple[Any, ...]]:
    p = CameraPipeline("clip", cfg, det, None, fps=10.0)
    plan = plan_clip(PETS_CLIP, None, True)
    return rows(analyze_clip(p, plan, until_s=UNTIL_S, at_once=at_once))


@pytest.mark.parametrize("gate", [False, True])
def test_stages_equal_the_pipeline_frame_by_frame(gate: bool) -> None:
    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": gate}}})
    ref = sequential(cfg, detector(DetectorConfig(threads=2)))
    single = detector(offline_detector_config(DetectorConfig()))  # what analyze runs
    assert side_by_side(single, cpus=2) == 2
    got = staged(cfg, single, at_once=2)
    assert len(got) == len(ref) == FRAMES
    assert got == ref
    assert staged(cfg, single, at_once=3) == ref
    assert sum(len(r[3]) for r in got) > FRAMES  # people were tracked, not an empty run


def test_stopping_early_joins_every_thread() -> None:
    """A caller that stops early closes the generator: the decoder and the inference
    threads stop at once (the autouse fixture fails a test that leaks threads)."""
    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    single = detector(offline_detector_config(DetectorConfig()))
    p = CameraPipeline("clip", cfg, single, None, fps=10.0)
    results = analyze_clip(p, plan_clip(PETS_CLIP, None, True), at_once=2)
    seen = [next(results)[1].frame_index for _ in range(5)]
    results.close()
    assert seen == [0, 1, 2, 3, 4]
    assert not [t for t in threading.enumerate() if t.name.startswith("clip-")]


def test_a_detector_with_only_detect_still_works() -> None:
    class DetectOnly:
        def __init__(self, inner: Detector) -> None:
            self.inner, self.calls = inner, 0

        def detect(self, frame: np.ndarray) -> Detections:
            self.calls += 1
            return self.inner.detect(frame)

    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    inner = detector()
    plain = DetectOnly(inner)
    assert staged(cfg, plain) == sequential(cfg, inner)
    assert plain.calls == FRAMES


def test_offline_settings() -> None:
    assert offline_detector_config(DetectorConfig()).threads == 1
    assert offline_detector_config(DetectorConfig(threads=2)).threads == 2  # as configured
    assert side_by_side(detector(DetectorConfig(threads=1)), cpus=4) == 4
    assert side_by_side(detector(DetectorConfig(threads=2)), cpus=4) == 1
    assert side_by_side(detector(DetectorConfig(threads=1)), cpus=64) == 8
    assert side_by_side(object()) == 1  # not an ONNX detector


class FailsAt:
    """A detect-only detector that raises on its `at`-th call (0-based)."""

    def __init__(self, inner: Detector, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0

    def detect(self, frame: np.ndarray) -> Detections:
        self.calls += 1
        if self.calls - 1 == self.at:
            raise RuntimeError("inference failed")
        return self.inner.detect(frame)


def frames_until_error(results: Any) -> tuple[list[int], BaseException | None]:
    seen: list[int] = []
    try:
        for _, r in results:
            seen.append(r.frame_index)
    except Exception as exc:  # noqa: BLE001 (what the test looks at)
        return seen, exc
    return seen, None


@pytest.mark.parametrize("at_once", [1, 2])
def test_an_inference_error_comes_in_its_place(at_once: int) -> None:
    """Frames before the failing one are all delivered, in order, then its error; every
    thread stops (the autouse fixture fails a test that leaks threads)."""
    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    p = CameraPipeline("clip", cfg, FailsAt(detector(), at=11), None, fps=10.0)
    results = analyze_clip(p, plan_clip(PETS_CLIP, None, True), at_once=at_once)
    seen, exc = frames_until_error(results)
    assert seen == list(range(11))
    assert isinstance(exc, RuntimeError) and str(exc) == "inference failed"


def test_a_decoding_error_comes_in_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.vision import offline
    from app.vision.video_io import VideoError

    closed: list[bool] = []

    def breaks_after_13(*args: Any, **kwargs: Any) -> Any:
        try:
            for i, frame in enumerate(iter_video(*args, **kwargs)):
                if i == 13:
                    raise VideoError("clip.avi: the video is damaged at 1.3 s")
                yield frame
        finally:
            closed.append(True)

    monkeypatch.setattr(offline, "iter_video", breaks_after_13)
    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    single = detector(offline_detector_config(DetectorConfig()))
    p = CameraPipeline("clip", cfg, single, None, fps=10.0)
    seen, exc = frames_until_error(analyze_clip(p, plan_clip(PETS_CLIP, None, True), at_once=2))
    assert seen == list(range(13))
    assert isinstance(exc, VideoError) and "damaged" in str(exc)
    assert closed == [True]  # the decoder released its capture


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policy")
def test_analysis_runs_as_a_batch_job_and_gives_the_policy_back() -> None:
    from app.vision.offline import as_batch_job

    before = os.sched_getscheduler(0)
    seen: list[int] = []
    with as_batch_job():
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
        t = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(0)))
        t.start()
        t.join()
    assert seen == [os.SCHED_BATCH]  # the decoder and inference threads inherit it
    assert os.sched_getscheduler(0) == before


class LastWaits(Detector):
    """A staged detector whose last inference (the `total`-th) waits for `release`."""

    def __init__(self, total: int) -> None:
        self.total, self.calls = total, 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.last_done = threading.Event()

    def prepare(self, frame: np.ndarray) -> Any:
        return frame

    def infer(self, prepared: Any) -> Any:
        with self.lock:
            self.calls += 1
            last = self.calls == self.total
        if last:
            self.release.wait(10)
            self.last_done.set()
        return None

    def finish(self, raw: Any, prepared: Any) -> Detections:
        return Detections.empty()

    def detect(self, frame: np.ndarray) -> Detections:
        return self.finish(self.infer(self.prepare(frame)), frame)


def test_the_results_before_the_last_inferences_come_while_they_run() -> None:
    """At the end of a clip the caller gets what is ready while the last inferences
    still run, so that its own work on them overlaps them, instead of waiting for the
    very last frame."""
    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    total = 11  # frames 0-10: t <= 1.05 s of the 10 fps clip
    det = LastWaits(total)
    p = CameraPipeline("clip", cfg, det, None, fps=10.0)
    seen: list[tuple[int, bool]] = []
    for _, r in analyze_clip(p, plan_clip(PETS_CLIP, None, True), until_s=1.05, at_once=2):
        seen.append((r.frame_index, det.last_done.is_set()))
        if r.frame_index == total - 2:
            det.release.set()
    assert [i for i, _ in seen] == list(range(total))
    assert not seen[total - 2][1]  # frame 9 came while frame 10 was still inferring
    assert seen[-1][1]


def test_an_opened_clip_is_analysed_as_the_plain_one_and_closed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """`open_clip` opens the clip and decodes its first frame at once (a file that is not
    a video fails there, before any thread starts); analysing it gives what analysing
    the plan gives, and stopping early releases it."""
    from app.vision import offline

    cfg = AppConfig.model_validate({**SHAPES, "analysis": {"motion": {"enabled": False}}})
    single = detector(offline_detector_config(DetectorConfig()))
    plan = plan_clip(PETS_CLIP, None, True)
    p = CameraPipeline("clip", cfg, single, None, fps=10.0)
    opened = open_clip(plan, until_s=UNTIL_S)
    got = rows(analyze_clip(p, plan, at_once=2, frames=opened))
    assert got == staged(cfg, single, at_once=2)
    assert len(got) == FRAMES

    notes = tmp_path / "notes.avi"
    notes.write_text("not a video\n" * 50)
    with pytest.raises(VideoError, match="not a video"):
        open_clip(dataclasses.replace(plan, path=notes))

    closed: list[bool] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        try:
            yield from iter_video(*args, **kwargs)
        finally:
            closed.append(True)

    monkeypatch.setattr(offline, "iter_video", recorded)
    opened = open_clip(plan)
    assert closed == []  # open, with its first frame decoded
    results = analyze_clip(p, plan, at_once=2, frames=opened)
    assert [next(results)[1].frame_index for _ in range(3)] == [0, 1, 2]
    results.close()
    assert closed == [True]
