"""Analytics on top of zones and lines: heatmap, dwell statistics, queue waits.

Everything here consumes what the pipeline already computed (tracked points and
events); nothing reruns geometry.
"""

from __future__ import annotations

import base64
import math
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.events import Event, LineCross, StaffRetracted, VisitClosed, ZoneEnter, ZoneExit
from app.vision.zones import ZoneTracker


class Heatmap:
    """Seconds of presence per grid cell (cell size in pixels), from bottom-centre points,
    since `since` (epoch seconds: the start of the window it covers)."""

    def __init__(self, width: int, height: int, cell_px: int, since: float | None = None) -> None:
        self.cell = int(cell_px)
        self.width, self.height = int(width), int(height)
        self.grid = np.zeros((math.ceil(height / cell_px), math.ceil(width / cell_px)), np.float32)
        self.since = time.time() if since is None else float(since)

    def snapshot(self) -> dict[str, Any]:
        """The aggregated grid (no picture, nobody's path) as JSON-ready values."""
        raw = zlib.compress(np.ascontiguousarray(self.grid, np.float32).tobytes())
        return {
            "width": self.width,
            "height": self.height,
            "cell": self.cell,
            "since": self.since,
            "grid": base64.b64encode(raw).decode(),
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> Heatmap:
        """A heatmap saved by `snapshot` (ValueError if it is not one)."""
        try:
            h = cls(
                int(snap["width"]), int(snap["height"]), int(snap["cell"]), float(snap["since"])
            )
            grid = np.frombuffer(zlib.decompress(base64.b64decode(snap["grid"])), np.float32)
            h.grid = grid.reshape(h.grid.shape).copy()
        except (KeyError, TypeError, ValueError, zlib.error) as exc:
            raise ValueError(f"not a saved heatmap: {exc}") from None
        return h

    def add(self, points: np.ndarray, dt: float) -> None:
        """Add `dt` seconds of presence at each point (points outside the image are dropped)."""
        if len(points) == 0 or dt <= 0:
            return
        rows, cols = self.grid.shape
        step = np.float32(dt)
        for x, y in np.asarray(points, np.float64).reshape(-1, 2).tolist():
            gx, gy = math.floor(x / self.cell), math.floor(y / self.cell)
            if 0 <= gx < cols and 0 <= gy < rows:  # a few people a frame: plain Python
                self.grid[gy, gx] += step

    def cells(self, points: np.ndarray) -> list[tuple[int, int] | None]:
        """The (row, column) cell of each point (None outside the image), as `add` uses."""
        rows, cols = self.grid.shape
        out: list[tuple[int, int] | None] = []
        for x, y in np.asarray(points, np.float64).reshape(-1, 2).tolist():
            gx, gy = math.floor(x / self.cell), math.floor(y / self.cell)
            out.append((gy, gx) if 0 <= gx < cols and 0 <= gy < rows else None)
        return out

    def take_back(self, seconds: dict[tuple[int, int], float]) -> None:
        """Remove presence added earlier (seconds per cell), never below zero: an object
        found not to be a person leaves no hot spot."""
        rows, cols = self.grid.shape
        for (gy, gx), s in seconds.items():
            if 0 <= gy < rows and 0 <= gx < cols:
                self.grid[gy, gx] = max(float(self.grid[gy, gx]) - s, 0.0)

    def normalized(self) -> np.ndarray:
        """The grid scaled to 0..1 (all zeros when empty)."""
        peak = float(self.grid.max()) if self.grid.size else 0.0
        return self.grid / peak if peak > 0 else np.zeros_like(self.grid)

    def reset(self, since: float | None = None) -> None:
        self.grid[:] = 0
        self.since = time.time() if since is None else float(since)


@dataclass
class DwellStats:
    """Closed visits per zone: count, mean and median dwell."""

    dwells: list[float] = field(default_factory=list)

    def add(self, dwell_s: float) -> None:
        self.dwells.append(float(dwell_s))

    @property
    def visits(self) -> int:
        return len(self.dwells)

    @property
    def mean_s(self) -> float:
        return float(np.mean(self.dwells)) if self.dwells else 0.0

    @property
    def median_s(self) -> float:
        return float(np.median(self.dwells)) if self.dwells else 0.0


@dataclass(frozen=True)
class QueueState:
    """A queue area right now: length, the longest current wait, mean completed wait."""

    zone: str
    length: int
    longest_wait_s: float
    mean_wait_s: float
    served: int


@dataclass
class _QueueHistory:
    waits: list[float] = field(default_factory=list)


class Analytics:
    """Per-camera running statistics fed by the pipeline after every analysed frame."""

    def __init__(
        self, width: int = 0, height: int = 0, cell_px: int = 8, queues: Iterable[str] = ()
    ) -> None:
        self.cell_px = cell_px
        self.queue_zones = set(queues)
        self.heatmap: Heatmap | None = Heatmap(width, height, cell_px) if width else None
        self.saved_heatmap: Heatmap | None = None  # kept from before a restart, if any
        self.dwell: dict[str, DwellStats] = {}
        self.line_counts: dict[str, dict[str, int]] = {}
        self.entries: dict[str, int] = {}
        self._queues: dict[str, _QueueHistory] = {}
        self._last_t: float | None = None
        self.last_dt = 0.0  # presence each point of the last frame added to the heatmap

    def update(
        self, t: float, points: np.ndarray, shape: tuple[int, int], events: Iterable[Event]
    ) -> None:
        """Accumulate one analysed frame: presence (heatmap) and its events."""
        h, w = shape
        if self.heatmap is None or (self.heatmap.width, self.heatmap.height) != (w, h):
            saved, self.saved_heatmap = self.saved_heatmap, None
            if saved is None or (saved.width, saved.height, saved.cell) != (w, h, self.cell_px):
                saved = Heatmap(w, h, self.cell_px)
            self.heatmap = saved
        dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 2.0)
        self._last_t = t
        self.last_dt = dt
        self.heatmap.add(points, dt)
        for ev in events:
            self.on_event(ev)

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, LineCross):
            c = self.line_counts.setdefault(ev.line, {"in": 0, "out": 0})
            c[ev.direction] += 1
        elif isinstance(ev, ZoneEnter) and not ev.revisit:
            self.entries[ev.zone] = self.entries.get(ev.zone, 0) + 1
        elif isinstance(ev, VisitClosed):
            self.dwell.setdefault(ev.zone, DwellStats()).add(ev.dwell_s)
        elif isinstance(ev, ZoneExit) and ev.zone in self.queue_zones:
            self._queues.setdefault(ev.zone, _QueueHistory()).waits.append(ev.dwell_s)

    def take_back(self, r: StaffRetracted) -> None:
        """A track recognised as staff after it was counted: its counts leave these."""
        for ln in r.lines:
            c = self.line_counts.get(ln.line)
            if c is not None:
                c[ln.direction] = max(0, c[ln.direction] - 1)
        for v in r.visits:
            self.entries[v.zone] = max(0, self.entries.get(v.zone, 0) - 1)
            dw = self.dwell.get(v.zone)
            if v.exit_ts is not None and dw is not None and float(v.dwell_s) in dw.dwells:
                dw.dwells.remove(float(v.dwell_s))

    def queue_state(self, zone: ZoneTracker, t: float) -> QueueState:
        """Length and waits of a queue area (waits are time spent inside so far)."""
        waits = [v.dwell_at(t) for v in zone.inside_visits()]
        done = self._queues.get(zone.name, _QueueHistory()).waits
        return QueueState(
            zone=zone.name,
            length=zone.occupancy,
            longest_wait_s=max(waits, default=0.0),
            mean_wait_s=float(np.mean(done)) if done else 0.0,
            served=len(done),
        )
