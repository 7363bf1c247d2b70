"""The heatmap's two other views of the same presence: split by hour for the history,
and decaying for the live "recent" view.

`HeatHours` keeps the grid of each wall-clock hour (UTC hour starts, epoch seconds) a
camera is seeing; the engine takes what changed since its last save (`deltas`) and
adds it to the store's row of that hour (app/store/heat_history.py). An hour stays
open for `grace_s` after its end, so that presence taken back later (an object found
to be stationary, `take_back`) still leaves its hour; then it is handed out a last
time and forgotten.

`RecentHeat` is presence that fades: each second of presence counts
2^(-age / half_life_s), so the last few minutes are bright and older presence fades
out. Both are fed the same points and `dt` as the accumulated heatmap, after the
staff and stationary exclusions, and hold aggregated seconds only (no picture).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from app.vision.analytics import Heatmap

HOUR = 3600
GRACE_S = 900.0  # an hour stays open this long after its end (stationary take-backs)
HALF_LIFE_S = 180.0  # the recent view: presence halves every 3 minutes
RECENT_FULL_S = 30.0  # and is at full brightness from half a minute (decayed) in a cell

Cell = tuple[int, int]


def hour_start(ts: float) -> int:
    """The UTC hour a wall-clock time falls in (epoch seconds)."""
    return int(math.floor(ts / HOUR) * HOUR)


@dataclass(frozen=True)
class HourDelta:
    """Presence added (or taken back: negative) to one hour since the last save."""

    hour_start: int
    width: int
    height: int
    cell: int
    grid: np.ndarray  # float32 seconds per cell (rows, cols)


class HeatHours:
    """A camera's presence per hour, for the heatmap history (thread-safe: the analysis
    adds, the engine's saver takes deltas)."""

    def __init__(self, cell_px: int, grace_s: float = GRACE_S) -> None:
        self.cell = int(cell_px)
        self.grace_s = float(grace_s)
        self._open: dict[int, Heatmap] = {}
        self._written: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def add(self, ts: float, points: np.ndarray, dt: float, width: int, height: int) -> None:
        """`dt` seconds of presence at each point, in the hour of `ts`."""
        if dt <= 0 or len(points) == 0:
            return
        key = hour_start(ts)
        with self._lock:
            heat = self._open.get(key)
            if heat is None or (heat.width, heat.height) != (width, height):
                if heat is not None:  # the camera's resolution changed: a new grid
                    self._written.pop(key, None)
                heat = Heatmap(width, height, self.cell, since=key)
                self._open[key] = heat
            heat.add(points, dt)

    def take_back(self, seconds: dict[Cell, float]) -> None:
        """Remove presence added earlier, from the newest open hour first."""
        with self._lock:
            left = dict(seconds)
            for key in sorted(self._open, reverse=True):
                if not left:
                    break
                grid = self._open[key].grid
                rows, cols = grid.shape
                for cell, s in list(left.items()):
                    gy, gx = cell
                    if not (0 <= gy < rows and 0 <= gx < cols):
                        continue
                    took = min(float(grid[gy, gx]), s)
                    grid[gy, gx] -= took
                    if s - took > 1e-6:
                        left[cell] = s - took
                    else:
                        del left[cell]

    def deltas(self, now: float, final: bool = False) -> list[HourDelta]:
        """What changed in each open hour since the last call; hours ended more than
        `grace_s` before `now` (all of them when `final`) are handed out a last time and
        forgotten."""
        out: list[HourDelta] = []
        with self._lock:
            for key in sorted(self._open):
                heat = self._open[key]
                before = self._written.get(key)
                delta = heat.grid.copy() if before is None else heat.grid - before
                if delta.any():
                    out.append(HourDelta(key, heat.width, heat.height, heat.cell, delta))
                if final or key + HOUR + self.grace_s <= now:
                    del self._open[key]
                    self._written.pop(key, None)
                else:
                    self._written[key] = heat.grid.copy()
        return out

    def hours(self) -> list[int]:
        with self._lock:
            return sorted(self._open)


class RecentHeat:
    """Presence that fades with a half-life: the live tile's "recent" view."""

    def __init__(self, cell_px: int, half_life_s: float = HALF_LIFE_S) -> None:
        self.cell = int(cell_px)
        self.half_life_s = float(half_life_s)
        self.heat: Heatmap | None = None
        self.at: float | None = None  # the time the grid's values are for
        self._lock = threading.Lock()

    def _factor(self, age: float) -> float:
        return float(0.5 ** (max(age, 0.0) / self.half_life_s))

    def _decay_to(self, ts: float) -> None:
        if self.heat is not None and self.at is not None and ts > self.at:
            self.heat.grid *= np.float32(self._factor(ts - self.at))
        if self.at is None or ts > self.at:
            self.at = ts

    def add(self, ts: float, points: np.ndarray, dt: float, width: int, height: int) -> None:
        with self._lock:
            if self.heat is None or (self.heat.width, self.heat.height) != (width, height):
                self.heat = Heatmap(width, height, self.cell, since=ts)
                self.at = ts
            self._decay_to(ts)
            self.heat.add(points, dt)

    def take_back(self, seconds: dict[Cell, float]) -> None:
        """Remove presence found not to be a person (never below zero)."""
        with self._lock:
            if self.heat is not None:
                self.heat.take_back(seconds)

    def grid(self, now: float) -> np.ndarray | None:
        """The decayed seconds per cell as they stand at `now` (None before any frame)."""
        with self._lock:
            if self.heat is None:
                return None
            age = 0.0 if self.at is None else now - self.at
            return self.heat.grid * np.float32(self._factor(age))

    def normalized(self, now: float, floor_s: float = RECENT_FULL_S) -> np.ndarray | None:
        """The decayed grid scaled to 0..1 by its peak, or by `floor_s` when the peak is
        lower: once everybody has left, the view fades to nothing rather than
        re-scaling a few faint traces to full brightness."""
        g = self.grid(now)
        if g is None:
            return None
        peak = max(float(g.max()) if g.size else 0.0, floor_s)
        return np.asarray(g / np.float32(peak), np.float32)
