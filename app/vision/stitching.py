"""Track stitching: one person id across the fragments a tracker makes of one walk.

An IoU tracker loses people behind others and finds them again as *new* tracks. For
counting that is costly: a walk cut in two at a counting line is a missed crossing, a
person re-found inside a zone a second visitor. `TrackStitcher` sits after the tracker
and maps tracker ids to person ids: a tracker id seen for the first time takes over a
person that vanished a moment ago (at most `max_gap_s`) if it appears where that person
was heading: within `radius` box heights of the position extrapolated from the
person's last velocity, with a similar box height and, when the frame is given,
similar clothes colours (`app.vision.appearance`: a person's last few unoccluded looks,
kept in memory only). Person ids are small integers of their own (they replace
`tracker_id` downstream).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.vision import appearance, kernels
from app.vision.detections import Detections

log = logging.getLogger(__name__)

CLEAN_VISIBLE = 0.85  # a person this much in plain view: their colours are their own


@dataclass
class _Person:
    point: tuple[float, float]  # bottom-centre (x, y)
    height: float
    t: float
    velocity: tuple[float, float]  # px/s over the trail
    tracker_id: int
    looks: list[np.ndarray] = field(default_factory=list)  # last unoccluded descriptors
    trail: deque[tuple[float, float, float]] = field(default_factory=deque)  # (t, x, y)
    look_t: float = -math.inf  # when the last look was taken


def _at_border(
    boxes: list[list[float]], size: tuple[int, int] | None, margin: float = 3.0
) -> list[bool]:
    if size is None:
        return [False] * len(boxes)
    w, h = size
    return [x0 <= margin or x1 >= w - margin or y1 >= h - margin for x0, _, x1, y1 in boxes]


class _Observed:
    """One frame's tracked rows as the stitcher sees them (plain Python numbers: a few
    rows a frame). With the frame, how much of each person is in plain view, and their
    clothes colours, computed only for the rows that need them (new or returning
    tracks, people whose last look is getting old)."""

    def __init__(self, tracked: Detections, image: np.ndarray | None) -> None:
        self.ids: list[int] = tracked.tracker_id.tolist()
        self.xyxy = kernels.as_boxes(tracked.xyxy)  # (N, 4) float64
        self.boxes: list[list[float]] = self.xyxy.tolist()
        self.points = [((x0 + x1) / 2.0, y1) for x0, _, x1, y1 in self.boxes]
        self.heights = [y1 - y0 for _, y0, _, y1 in self.boxes]
        self.image = image
        self._looks: dict[int, np.ndarray] = {}

    def clean(self, row: int) -> bool:
        """Whether row `row` is in plain view (its colours are its own)."""
        if self.image is None:
            return False
        return appearance.plain_view(self.boxes[row], self.boxes, self.image.shape) >= CLEAN_VISIBLE

    def look(self, row: int) -> np.ndarray | None:
        if self.image is None:
            return None
        if row not in self._looks:
            look = appearance.describe_one(self.image, self.boxes[row], self.xyxy)
            self._looks[row] = look[0] if look is not None else appearance.UNKNOWN
        return self._looks[row]


@dataclass(frozen=True)
class StitchRules:
    max_gap_s: float = 1.5  # how long a vanished person can be taken over
    radius: float = 0.6  # in box heights around the extrapolated position
    max_extrapolate_s: float = 0.6  # velocity is trusted this long at most
    height_ratio: float = 1.5  # box heights must be within this factor
    height_weight: float = 1.0  # |log(height ratio)| added to the position cost
    velocity_window_s: float = 1.0  # velocity is the displacement over this long
    max_look_distance: float = 0.65  # clothes colours further apart: not the same person
    max_look_distance_occluded: float = 0.8  # the same, seen partly behind somebody
    look_weight: float = 1.0  # appearance distance added to the position cost
    unknown_look_distance: float = 0.5  # stands in when a look is missing (occluded)
    max_cost: float = 9.0  # a worse fit (position + height + colours) is nobody
    incumbent_bonus: float = 0.15  # a recovered track keeps its person unless clearly worse
    looks_kept: int = 4
    look_every_s: float = 0.3  # a new look per person at most this often


class TrackStitcher:
    """Tracker ids in, person ids out (see the module docstring). `reset()` forgets all."""

    def __init__(self, rules: StitchRules | None = None) -> None:
        self.rules = rules or StitchRules()
        self.reset()

    def reset(self) -> None:
        self._people: dict[int, _Person] = {}
        self._by_tracker: dict[int, int] = {}
        self._next = 1
        self._prev_t: float | None = None
        self.stitched = 0

    def update(
        self,
        tracked: Detections,
        t: float,
        image_size: tuple[int, int] | None = None,
        image: np.ndarray | None = None,
    ) -> Detections:
        """Replace `tracker_id` with person ids (rows with tracker_id < 0 are kept as is).
        With `image_size` (width, height), a track born touching the left, right or
        bottom border is a person walking into view and takes over nobody. With the
        frame (`image`, BGR), clothes colours must agree too."""
        if image is not None and image_size is None:
            image_size = (int(image.shape[1]), int(image.shape[0]))
        obs = _Observed(tracked, image)
        ids = obs.ids
        at_border = _at_border(obs.boxes, image_size)
        new_rows = [
            i
            for i, tid in enumerate(ids)
            if tid >= 0 and tid not in self._by_tracker and not at_border[i]
        ]
        returning = self._returning(ids)
        present = {
            self._by_tracker[tid]
            for i, tid in enumerate(ids)
            if tid in self._by_tracker and i not in returning
        }
        self._adopt(new_rows + sorted(returning), obs, t, present, returning)
        self._prev_t = t
        out = np.full(len(ids), -1, np.int64)
        for i, tid in enumerate(ids):
            if tid < 0:
                continue
            pid = self._by_tracker.get(tid)
            if pid is None:
                pid = self._next
                self._next += 1
                self._by_tracker[tid] = pid
            self._observe(pid, obs, i, t)
            out[i] = pid
        self._forget(t)
        return tracked.with_tracker_id(out)

    def _cost(self, p: _Person, obs: _Observed, row: int, t: float) -> float:
        """How well row `row` continues person `p` (lower is better; inf: it cannot)."""
        r = self.rules
        h = max(obs.heights[row], 1.0)
        if max(h, p.height) / max(min(h, p.height), 1.0) > r.height_ratio:
            return np.inf
        dt = min(t - p.t, r.max_extrapolate_s)
        (x, y), (px, py), (vx, vy) = obs.points[row], p.point, p.velocity
        d = math.hypot(x - (px + vx * dt), y - (py + vy * dt))
        if d > r.radius * max(h, p.height):
            return np.inf
        shape = d / h + r.height_weight * abs(math.log(h / max(p.height, 1.0)))
        look = obs.look(row)
        if look is None:  # no frame: geometry alone
            return shape
        if not p.looks or not appearance.known(look):  # no evidence: a typical distance
            total = shape + r.look_weight * r.unknown_look_distance
            return total if total <= r.max_cost else np.inf
        dist = min(appearance.distance(a, look) for a in p.looks)
        if dist > (r.max_look_distance if obs.clean(row) else r.max_look_distance_occluded):
            return np.inf
        total = shape + r.look_weight * dist
        return total if total <= r.max_cost else np.inf

    def _returning(self, ids: list[int]) -> dict[int, int]:
        """Rows whose tracker id found its track again after missing at least one
        analysed frame -> the person it had. The tracker recovers by box overlap alone,
        which at a low rate can hand a lost person's id to whoever walks past; these
        rows are weighed against the other vanished people (the incumbent preferred)."""
        if self._prev_t is None:
            return {}
        out: dict[int, int] = {}
        for i, tid in enumerate(ids):
            pid = self._by_tracker.get(tid)
            if pid is not None and self._people[pid].t < self._prev_t:
                out[i] = pid
        return out

    def _adopt(
        self,
        rows: list[int],
        obs: _Observed,
        t: float,
        present: set[int],
        incumbents: dict[int, int],
    ) -> None:
        """Match new (and returning) rows to vanished people; a returning row keeps its
        person unless somebody else fits clearly better."""
        r = self.rules
        cands = [
            pid
            for pid, p in self._people.items()
            if pid not in present and 0 < t - p.t <= r.max_gap_s
        ]
        if not rows or not cands:
            return
        cost = np.array(
            [[self._cost(self._people[pid], obs, row, t) for pid in cands] for row in rows]
        )
        for a, row in enumerate(rows):
            if row in incumbents and incumbents[row] in cands:
                b = cands.index(incumbents[row])
                cost[a, b] = max(0.0, cost[a, b] - r.incumbent_bonus)
        if not np.isfinite(cost).any():
            return
        big = np.where(np.isfinite(cost), cost, 1e9)
        pairs = [
            (rows[a], cands[b])
            for a, b in zip(*linear_sum_assignment(big), strict=True)
            if np.isfinite(cost[a, b])
        ]
        taken = {pid for _, pid in pairs}
        for row, pid in incumbents.items():  # its person went to somebody else
            if pid in taken and (row, pid) not in pairs:
                del self._by_tracker[obs.ids[row]]
        for row, pid in pairs:
            if incumbents.get(row) == pid:
                continue
            tid = obs.ids[row]
            old = self._people[pid].tracker_id
            if self._by_tracker.get(old) == pid:
                del self._by_tracker[old]  # the old fragment, if it returns, is new
            self._by_tracker[tid] = pid
            self.stitched += 1
            log.debug("stitched tracker id %s onto person %s (was %s)", tid, pid, old)

    def _observe(self, pid: int, obs: _Observed, row: int, t: float) -> None:
        point, h, tid = obs.points[row], obs.heights[row], obs.ids[row]
        p = self._people.get(pid)
        if p is None:
            p = self._people[pid] = _Person(point, h, t, (0.0, 0.0), tid)
        p.point, p.height, p.t, p.tracker_id = point, h, t, tid
        # velocity over a window of about velocity_window_s, whatever the frame rate:
        # frame-to-frame steps at 25 fps are mostly box jitter
        trail = p.trail
        while trail and t - trail[0][0] > self.rules.velocity_window_s:
            trail.popleft()
        trail.append((t, *point))
        t0, x0, y0 = trail[0]
        if t - t0 > 0:
            p.velocity = ((point[0] - x0) / (t - t0), (point[1] - y0) / (t - t0))
        if obs.image is None or t - p.look_t < self.rules.look_every_s or not obs.clean(row):
            return
        look = obs.look(row)
        if look is not None and appearance.known(look):
            p.looks = [*p.looks, look][-self.rules.looks_kept :]
            p.look_t = t

    def _forget(self, t: float) -> None:
        horizon = max(self.rules.max_gap_s, 1.0) * 4
        stale = [pid for pid, p in self._people.items() if t - p.t > horizon]
        for pid in stale:
            tid = self._people.pop(pid).tracker_id
            if self._by_tracker.get(tid) == pid:
                del self._by_tracker[tid]
