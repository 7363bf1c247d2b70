"""The adaptive analysis rate: analyse a camera fast while someone is near a counting line.

Counting a crossing needs the person's track on both sides of the line; at a low
analysis rate (5 fps) a person can be seen once before and once after a line only if
the tracker keeps them through the gap, which fails where people pass each other or
are partly hidden. Away from the lines nothing is counted, so a low rate costs nothing
there. `NearLines` watches the tracked people: after each analysed frame it says until
when (stream time) the camera should be analysed at its full rate: while a person's
feet (bottom-centre) are within `near_heights` of their box height of a counting
line, or will be within `horizon_s` seconds on their current velocity. Otherwise the
camera falls back to its base rate. The offline analysis (`app.vision.offline`) and the
live scheduler (`app.vision.scheduler`) read `hot_until`.

It also says while somebody tracked is walking (`moving_until`): the motion gate
(`app.vision.motion`) must not skip those frames. The gate compares a small grey copy
of the picture, where a person far from the camera changes too few pixels, and a
skipped frame repeats the last boxes: a walking person's box would stand still for a
moment and jump.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from app.config import AdaptiveRateConfig
from app.vision.geometry import Point

VELOCITY_WINDOW_S = 1.0  # velocity: displacement over about this long
PATH_SAMPLES = 5  # points checked along the predicted path (now .. horizon)
FORGET_S = 2.0  # a person unseen this long is dropped from the trails
# fast for this long after the last frame that found someone near (longer than the
# offline analysis's decision lag, `offline.ADAPTIVE_LAG_S`); while fast, every frame
# renews it
HOLD_S = 0.4
# a tracked person moving at least this many box heights a second is walking (people
# walk at about 0.7 heights/s; a standing person's box jitters far less)
MOVING_HEIGHTS_S = 0.25


def segment_distances(points: np.ndarray, start: Point, end: Point) -> np.ndarray:
    """(N, 2) points -> (N,) distances to the segment start-end."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    a = np.asarray(start, np.float64)
    d = np.asarray(end, np.float64) - a
    length2 = float(d @ d)
    u = np.clip(((p - a) @ d) / length2, 0.0, 1.0) if length2 > 0 else np.zeros(len(p))
    return np.asarray(np.hypot(*(p - (a + u[:, None] * d)).T))


class NearLines:
    """Whether anybody is near (or heading for) one of `lines` (segments in pixels)."""

    def __init__(self, cfg: AdaptiveRateConfig, lines: Sequence[tuple[Point, Point]]) -> None:
        self.cfg = cfg
        self.lines = list(lines)
        self.hot_until = -math.inf
        self.moving_until = -math.inf
        self._trails: dict[int, deque[tuple[float, float, float]]] = {}

    @property
    def active(self) -> bool:
        return self.cfg.enabled and bool(self.lines)

    def fast(self, t: float) -> bool:
        """Whether the frame at stream time `t` should be analysed at the full rate."""
        return self.active and t <= self.hot_until

    def busy(self, t: float) -> bool:
        """Whether the frame at `t` must be detected whatever the motion gate says:
        someone is walking, or near a line."""
        return self.cfg.enabled and (t <= self.moving_until or self.fast(t))

    def update(
        self,
        t: float,
        ids: np.ndarray,
        points: np.ndarray,
        heights: np.ndarray,
        seen: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> bool:
        """An analysed frame's tracked people (ids, bottom-centres, box heights) and the
        people detected but not (yet) tracked (`seen`: bottom-centres, heights; a
        track is reported from its second sighting); returns whether one of them is
        near a line or (tracked) heading for one (then `hot_until` moves to
        `t + HOLD_S`)."""
        if not self.cfg.enabled:
            return False
        velocities = self._velocities(t, ids, points)
        if len(ids):
            speed = np.hypot(velocities[:, 0], velocities[:, 1]) / np.maximum(heights, 1.0)
            if float(speed.max()) >= MOVING_HEIGHTS_S:
                self.moving_until = t + HOLD_S
        near = False
        if seen is not None and len(seen[0]) and self.lines:
            reach = self.cfg.near_heights * np.maximum(seen[1], 1.0)
            near = any(
                bool((segment_distances(seen[0], s, e) <= reach).any()) for s, e in self.lines
            )
        h = self.cfg.horizon_s
        steps = np.linspace(0.0, h, PATH_SAMPLES) if h > 0 else np.zeros(1)
        for i in range(0 if near or not self.lines else len(ids)):
            reach = self.cfg.near_heights * max(float(heights[i]), 1.0)
            path = points[i][None, :] + steps[:, None] * velocities[i][None, :]
            if any(float(segment_distances(path, s, e).min()) <= reach for s, e in self.lines):
                near = True
                break
        if near:
            self.hot_until = max(self.hot_until, t + HOLD_S)
        return near

    def _velocities(self, t: float, ids: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Per row: px/s over the last `VELOCITY_WINDOW_S` of the person's trail."""
        out = np.zeros((len(ids), 2))
        for i, pid in enumerate(ids.tolist()):
            trail = self._trails.setdefault(int(pid), deque())
            x, y = float(points[i][0]), float(points[i][1])
            trail.append((t, x, y))
            while len(trail) > 2 and t - trail[1][0] >= VELOCITY_WINDOW_S:
                trail.popleft()
            t0, x0, y0 = trail[0]
            if t - t0 > 1e-6:
                out[i] = ((x - x0) / (t - t0), (y - y0) / (t - t0))
        if len(self._trails) > 4 * len(ids) + 32:
            self._trails = {k: v for k, v in self._trails.items() if t - v[-1][0] <= FORGET_S}
        return out
