"""Motion gate: skip person detection on frames where nothing moved.

The frame is shrunk to `width` pixels wide (area averaging), turned grey and
blurred; it is compared with the reference, the frame of the last detection. Motion
is a fraction of pixels changed by more than `pixel_delta` grey levels above
`min_changed`. Comparing with the last *detected* frame (not the previous frame) means
slow changes accumulate until they count, so a person creeping slowly is not missed;
lighting drift at worst costs an extra detection, which renews the reference. A
detection is forced at least every `max_skip_s` seconds. Costs tens of microseconds
a frame (see bench/bench_batching.py --motion).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from app.config import MotionConfig

log = logging.getLogger(__name__)


class MotionGate:
    """`should_detect(frame, t)`: True on the first frame, on motion, and when the last
    detection is `max_skip_s` old; always True when the gate is disabled."""

    def __init__(self, cfg: MotionConfig) -> None:
        self.cfg = cfg
        self.reset()

    def reset(self) -> None:
        self._ref: np.ndarray | None = None
        self._last_detect_t = float("-inf")
        self.last_changed = 1.0  # fraction of changed pixels at the last call

    def small(self, frame: np.ndarray) -> np.ndarray:
        """The downscaled, grey, blurred frame that is compared."""
        h, w = frame.shape[:2]
        width = min(self.cfg.width, w)
        height = max(1, round(h * width / w))
        if w >= 4 * width:
            # INTER_AREA at odd ratios is slow: sample to 2x first (the sampling grid is
            # fixed for a fixed camera, so aliasing does not show up as change), then /2
            frame = cv2.resize(frame, (2 * width, 2 * height), interpolation=cv2.INTER_NEAREST)
        small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            code = cv2.COLOR_BGRA2GRAY if small.shape[2] == 4 else cv2.COLOR_BGR2GRAY
            small = cv2.cvtColor(small, code)
        return cv2.GaussianBlur(small, (5, 5), 0)

    def changed_fraction(self, small: np.ndarray) -> float:
        if self._ref is None or self._ref.shape != small.shape:
            return 1.0
        diff = cv2.absdiff(small, self._ref)
        return float(np.count_nonzero(diff > self.cfg.pixel_delta)) / diff.size

    def renew(self, frame: np.ndarray, t: float) -> None:
        """The frame was detected anyway (the pipeline overrode the gate): it becomes
        the reference."""
        self._ref = self.small(frame)
        self._last_detect_t = t

    def should_detect(self, frame: np.ndarray, t: float) -> bool:
        if not self.cfg.enabled:
            return True
        small = self.small(frame)
        self.last_changed = self.changed_fraction(small)
        due = t - self._last_detect_t >= self.cfg.max_skip_s or t < self._last_detect_t
        if self.last_changed > self.cfg.min_changed or due:
            self._ref = small
            self._last_detect_t = t
            return True
        return False
