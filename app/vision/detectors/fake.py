"""A scripted detector for unit tests: returns prepared Detections, no model needed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detectors.base import Detector, as_bgr, register_detector
from app.vision.models import ModelManager

Script = Sequence[Detections] | Callable[[int, np.ndarray], Detections]


class FakeDetector(Detector):
    """`script` is a list (call i returns item i, then empty) or `fn(call_index, frame)`."""

    name = "fake"
    provider = "none"

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script if script is not None else []
        self.calls = 0
        self.frames_seen = 0

    def detect(self, frame: np.ndarray) -> Detections:
        t0 = time.perf_counter()
        frame = as_bgr(frame)
        i = self.calls
        self.calls += 1
        self.frames_seen += 1
        if callable(self.script):
            det = self.script(i, frame)
        else:
            det = self.script[i] if i < len(self.script) else Detections.empty()
        self.last_ms = (time.perf_counter() - t0) * 1000
        return det


@register_detector("fake")
def _fake_factory(cfg: DetectorConfig, models: ModelManager) -> Detector:
    return FakeDetector()
