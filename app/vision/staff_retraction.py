"""Late staff recognition: a track counted before it was known to be staff.

A salesperson walks in; the door line counts an entry, the shop zone a visit, before
the recogniser has matched their face (a few attempts, a second or two) or before the
staff-only zones' minutes have passed. Staff are left out of every count, so when the
tag arrives the counts already made are taken back: `CountLedger` remembers, per
visitor (one track), the counted events it produced (door and aisle crossings,
entrance entries, zone visits and their closing), and `take_back` returns them as a
`StaffRetracted` event's parts. The pipeline forgets the track in its counters (no exit,
no closed visit, no passer-by later), the analytics and tiles drop the counts, and the
store deletes the rows and subtracts the rollups, which re-queues the changed buckets
for HQ (app/store/ingest.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.events import (
    CountedEntrance,
    CountedLine,
    CountedVisit,
    EntranceEntered,
    Event,
    LineCross,
    StaffRetracted,
    VisitClosed,
    ZoneEnter,
)
from app.vision.entrance import EntranceWatcher
from app.vision.lines import LineCounter
from app.vision.stamp import Stamp
from app.vision.zones import ZoneTracker


@dataclass
class Counted:
    """One visitor's counted events so far."""

    lines: list[CountedLine] = field(default_factory=list)
    entrances: list[CountedEntrance] = field(default_factory=list)
    visits: dict[str, CountedVisit] = field(default_factory=dict)  # by visit id
    last_t: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.lines or self.entrances or self.visits)


class CountLedger:
    """The counted events of each visitor whose track may still be tagged staff (seen
    within `horizon_s`); not thread-safe (one pipeline)."""

    def __init__(self, horizon_s: float) -> None:
        self.horizon_s = horizon_s
        self._by_visitor: dict[str, Counted] = {}
        self._last_prune = float("-inf")

    def __len__(self) -> int:
        return len(self._by_visitor)

    def note(self, events: Iterable[Event], t: float) -> None:
        """Remember this frame's counted events."""
        for e in events:
            if isinstance(e, LineCross) and e.visitor_id:
                self._of(e.visitor_id, t).lines.append(
                    CountedLine(e.line, e.direction, e.door, e.ts)
                )
            elif isinstance(e, EntranceEntered) and e.visitor_id:
                self._of(e.visitor_id, t).entrances.append(CountedEntrance(e.entrance, e.ts))
            elif isinstance(e, ZoneEnter) and e.visitor_id and not e.revisit:
                self._of(e.visitor_id, t).visits[e.visit_id] = CountedVisit(
                    e.zone, e.visit_id, e.ts
                )
            elif isinstance(e, VisitClosed) and e.visitor_id:
                c = self._of(e.visitor_id, t)
                c.visits[e.visit_id] = CountedVisit(
                    e.zone, e.visit_id, e.enter_ts, e.exit_ts, e.dwell_s
                )

    def seen(self, visitors: Mapping[int, str], t: float) -> None:
        """The visitors of this frame's tracks are still around; forget the others
        after `horizon_s` (checked at most once a minute)."""
        for vid in visitors.values():
            c = self._by_visitor.get(vid)
            if c is not None:
                c.last_t = t
        if t - self._last_prune >= 60.0:
            self._last_prune = t
            self._by_visitor = {
                v: c for v, c in self._by_visitor.items() if t - c.last_t <= self.horizon_s
            }

    def take_back(self, visitor_id: str) -> Counted:
        """What `visitor_id` was counted for (forgotten here: taken back once)."""
        return self._by_visitor.pop(visitor_id, None) or Counted()

    def _of(self, visitor_id: str, t: float) -> Counted:
        c = self._by_visitor.get(visitor_id)
        if c is None:
            c = self._by_visitor[visitor_id] = Counted()
        c.last_t = t
        return c


def retract_track(
    stamp: Stamp,
    track_id: int,
    visitor_id: str,
    counted: Counted,
    zones: Iterable[ZoneTracker],
    lines: Iterable[LineCounter],
    entrances: Iterable[EntranceWatcher],
) -> StaffRetracted | None:
    """Forget a track just tagged staff in every counter (no exit, closed visit or
    passer-by will come of it; its crossings leave the live counts) and describe what
    it had been counted for (None: nothing)."""
    for z in zones:
        z.forget(track_id)
    for ln in lines:
        ln.forget(track_id, [c.direction for c in counted.lines if c.line == ln.name])
    for en in entrances:
        en.forget(track_id, sum(c.entrance == en.name for c in counted.entrances))
    if not counted:
        return None
    return stamp.event(
        StaffRetracted,
        track_id=track_id,
        visitor_id=visitor_id,
        lines=tuple(counted.lines),
        entrances=tuple(counted.entrances),
        visits=tuple(counted.visits.values()),
    )
