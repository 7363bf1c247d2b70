"""Today's line counts for a live camera tile.

A camera's pipeline counts crossings from the moment it starts. A tile should show the
same day the dashboard shows: what the store already holds for today when the camera
starts, plus what the pipeline counts after that, back to 0 at the store's midnight.
`TodayCounts.update` takes the pipeline's running counts each time a tile asks; a
counter that starts again from 0 (a line whose geometry was edited) loses nothing."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date

Counts = dict[str, dict[str, int]]  # line -> {"in": n, "out": m}


class TodayCounts:
    def __init__(self, day: date, stored: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self._lock = threading.Lock()  # tiles may ask from more than one thread
        self._day = day
        self._today: Counts = {
            k: {"in": v.get("in", 0), "out": v.get("out", 0)} for k, v in (stored or {}).items()
        }
        self._seen: Counts = {}  # the pipeline's counts at the last update

    def update(self, day: date, running: Mapping[str, Mapping[str, int]]) -> Counts:
        """Today's counts, given the pipeline's running counts now."""
        with self._lock:
            if day != self._day:
                self._day, self._today = day, {}
            for line, counts in running.items():
                today = self._today.setdefault(line, {"in": 0, "out": 0})
                seen = self._seen.get(line, {})
                for direction in ("in", "out"):
                    now, before = counts.get(direction, 0), seen.get(direction, 0)
                    today[direction] += now - before if now >= before else now
            self._seen = {line: dict(c) for line, c in running.items()}
            return {line: dict(c) for line, c in self._today.items()}
