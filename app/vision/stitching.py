"""Track stitching: one person id across the fragments a tracker makes of one walk.

An IoU tracker loses people behind others and finds them again as *new* tracks. For
counting that is costly: a walk cut in two at a counting line is a missed crossing, a
person re-found inside a zone a second visitor. `TrackStitcher` sits after the tracker
and maps tracker ids to person ids: a tracker id seen for the first time takes over a
person that vanished a moment ago (at most `max_gap_s`) if it appears where that person
was heading: within `radius` box heights of the position extrapolated from the
person's last velocity, with a similar box height. Geometry only, no appearance.
Person ids are small integers of their own (they replace `tracker_id` downstream).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.vision.detections import Detections
from app.vision.geometry import bottom_centers

log = logging.getLogger(__name__)


@dataclass
class _Person:
    point: np.ndarray  # bottom-centre (x, y)
    height: float
    t: float
    velocity: np.ndarray  # px/s, smoothed
    tracker_id: int


def _at_border(xyxy: np.ndarray, size: tuple[int, int] | None, margin: float = 3.0) -> np.ndarray:
    if size is None or len(xyxy) == 0:
        return np.zeros(len(xyxy), bool)
    w, h = size
    return np.asarray(
        (xyxy[:, 0] <= margin) | (xyxy[:, 2] >= w - margin) | (xyxy[:, 3] >= h - margin)
    )


@dataclass(frozen=True)
class StitchRules:
    max_gap_s: float = 1.5  # how long a vanished person can be taken over
    radius: float = 0.6  # in box heights around the extrapolated position
    max_extrapolate_s: float = 0.6  # velocity is trusted this long at most
    height_ratio: float = 1.5  # box heights must be within this factor
    velocity_alpha: float = 0.5  # smoothing of the velocity estimate


class TrackStitcher:
    """Tracker ids in, person ids out (see the module docstring). `reset()` forgets all."""

    def __init__(self, rules: StitchRules | None = None) -> None:
        self.rules = rules or StitchRules()
        self.reset()

    def reset(self) -> None:
        self._people: dict[int, _Person] = {}
        self._by_tracker: dict[int, int] = {}
        self._next = 1
        self.stitched = 0

    def update(
        self, tracked: Detections, t: float, image_size: tuple[int, int] | None = None
    ) -> Detections:
        """Replace `tracker_id` with person ids (rows with tracker_id < 0 are kept as is).
        With `image_size` (width, height), a track born touching the left, right or
        bottom border is a person walking into view and takes over nobody."""
        ids = tracked.tracker_id.tolist()
        points = bottom_centers(tracked.xyxy)
        heights = (tracked.xyxy[:, 3] - tracked.xyxy[:, 1]).astype(np.float64)
        at_border = _at_border(tracked.xyxy, image_size)
        new_rows = [
            i
            for i, tid in enumerate(ids)
            if tid >= 0 and tid not in self._by_tracker and not at_border[i]
        ]
        present = {self._by_tracker[tid] for tid in ids if tid in self._by_tracker}
        self._adopt(new_rows, ids, points, heights, t, present)
        out = np.full(len(ids), -1, np.int64)
        for i, tid in enumerate(ids):
            if tid < 0:
                continue
            pid = self._by_tracker.get(tid)
            if pid is None:
                pid = self._next
                self._next += 1
                self._by_tracker[tid] = pid
            self._observe(pid, tid, points[i], float(heights[i]), t)
            out[i] = pid
        self._forget(t)
        return tracked.with_tracker_id(out)

    def _adopt(
        self,
        rows: list[int],
        ids: list[int],
        points: np.ndarray,
        heights: np.ndarray,
        t: float,
        present: set[int],
    ) -> None:
        r = self.rules
        cands = [
            pid
            for pid, p in self._people.items()
            if pid not in present and 0 < t - p.t <= r.max_gap_s
        ]
        if not rows or not cands:
            return
        cost = np.full((len(rows), len(cands)), np.inf)
        for a, row in enumerate(rows):
            for b, pid in enumerate(cands):
                p = self._people[pid]
                h = max(float(heights[row]), 1.0)
                if max(h, p.height) / max(min(h, p.height), 1.0) > r.height_ratio:
                    continue
                dt = min(t - p.t, r.max_extrapolate_s)
                guess = p.point + p.velocity * dt
                d = float(np.hypot(*(points[row] - guess)))
                if d <= r.radius * max(h, p.height):
                    cost[a, b] = d / h
        if not np.isfinite(cost).any():
            return
        big = np.where(np.isfinite(cost), cost, 1e9)
        for a, b in zip(*linear_sum_assignment(big), strict=True):
            if np.isfinite(cost[a, b]):
                pid, tid = cands[b], ids[rows[a]]
                old = self._people[pid].tracker_id
                self._by_tracker.pop(old, None)  # the old fragment, if it returns, is new
                self._by_tracker[tid] = pid
                self.stitched += 1
                log.debug("stitched tracker id %s onto person %s (was %s)", tid, pid, old)

    def _observe(self, pid: int, tid: int, point: np.ndarray, h: float, t: float) -> None:
        p = self._people.get(pid)
        if p is None:
            self._people[pid] = _Person(point.copy(), h, t, np.zeros(2), tid)
            return
        dt = t - p.t
        if dt > 0:
            v = (point - p.point) / dt
            a = self.rules.velocity_alpha
            p.velocity = v if not p.velocity.any() else (1 - a) * p.velocity + a * v
        p.point, p.height, p.t, p.tracker_id = point.copy(), h, t, tid

    def _forget(self, t: float) -> None:
        horizon = max(self.rules.max_gap_s, 1.0) * 4
        stale = [pid for pid, p in self._people.items() if t - p.t > horizon]
        for pid in stale:
            tid = self._people.pop(pid).tracker_id
            if self._by_tracker.get(tid) == pid:
                del self._by_tracker[tid]
