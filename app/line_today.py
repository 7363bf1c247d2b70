"""Today's line counts for a live camera tile.

A camera's pipeline counts crossings from the moment it starts. A tile should show the
same day the dashboard shows: what the store already holds for today when the camera
starts, plus what the pipeline counts after that, back to 0 at the store's midnight.
`TodayCounts.update` takes the pipeline's running counts each time a tile asks; a
counter that starts again from 0 (a line whose geometry was edited) loses nothing, and
a crossing taken back (staff recognised after they crossed: the pipeline's count goes
down and its `taken_back` up) leaves today's count too."""

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
        self._seen_back: Counts = {}  # and what it had taken back then

    def update(
        self,
        day: date,
        running: Mapping[str, Mapping[str, int]],
        taken_back: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Counts:
        """Today's counts, given the pipeline's running counts now (and the crossings
        it took back from them so far)."""
        back_now = taken_back or {}
        with self._lock:
            if day != self._day:
                self._day, self._today = day, {}
            for line, counts in running.items():
                today = self._today.setdefault(line, {"in": 0, "out": 0})
                seen, back, back_before = (
                    self._seen.get(line, {}), back_now.get(line, {}), self._seen_back.get(line, {})
                )  # fmt: skip
                for direction in ("in", "out"):
                    now, before = counts.get(direction, 0), seen.get(direction, 0)
                    b_now, b_before = back.get(direction, 0), back_before.get(direction, 0)
                    if b_now >= b_before and now + b_now >= before + b_before:
                        today[direction] = max(0, today[direction] + now - before)
                    else:  # a counter started anew
                        today[direction] += now
            self._seen = {line: dict(c) for line, c in running.items()}
            self._seen_back = {line: dict(c) for line, c in back_now.items()}
            return {line: dict(c) for line, c in self._today.items()}
