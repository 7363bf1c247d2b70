"""Staff without faces: a person (track) who spends more than N minutes inside the
store's staff-only zones is treated as staff. For stores that may not use face
recognition; it works in every privacy mode and keeps nothing about anyone."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_STEP_S = 2.0  # a longer gap between two frames counts as this much


@dataclass
class StaffZoneRule:
    zones: frozenset[str]
    minutes: float
    _inside_s: dict[int, float] = field(default_factory=dict)
    _last_t: float | None = None
    staff: set[int] = field(default_factory=set)

    def update(self, t: float, inside: dict[str, list[int]]) -> set[int]:
        """Add the time since the last frame to each track inside a staff-only zone;
        returns the tracks that are staff (once staff, a track stays staff)."""
        step = 0.0 if self._last_t is None else min(MAX_STEP_S, max(0.0, t - self._last_t))
        self._last_t = t
        here = {tid for z in self.zones for tid in inside.get(z, [])}
        for tid in here:
            s = self._inside_s.get(tid, 0.0) + step
            self._inside_s[tid] = s
            if s > self.minutes * 60.0:
                self.staff.add(tid)
        return self.staff
