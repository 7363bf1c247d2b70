"""Passers-by versus entrants at an entrance (an outer line plus the zone inside the door).

A track that crosses the outer line towards the zone starts a window of `window_s`
seconds. Reaching the zone within it is an entry (`EntranceEntered`); otherwise it is a
passer-by (`PassedBy`, dated when the window ran out). "Towards the zone" is the side of
the line where the zone's centroid lies, so it does not matter which way the line was
drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from app.config import EntranceConfig, LineConfig, ZoneConfig
from app.events import EntranceEntered, Event, LineCross, PassedBy, ZoneEnter
from app.vision.geometry import Direction, as_polygon, polygon_centroid, signed_distance
from app.vision.stamp import Stamp

log = logging.getLogger(__name__)


def inward_direction(line: LineConfig, zone: ZoneConfig) -> Direction:
    """The crossing direction of `line` that heads towards `zone`."""
    cx, cy = polygon_centroid(as_polygon(zone.polygon))
    return "in" if signed_distance(line.start, line.end, (cx, cy)) < 0 else "out"


@dataclass
class _Pending:
    crossed: Stamp
    track_id: int


class EntranceWatcher:
    """Watches one entrance's line crossings and zone entries."""

    def __init__(self, cfg: EntranceConfig, line: LineConfig, zone: ZoneConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.inward = inward_direction(line, zone)
        self._pending: dict[int, _Pending] = {}
        self.entered = 0
        self.passed_by = 0

    def update(self, stamp: Stamp, events: Iterable[Event]) -> list[Event]:
        """Feed this frame's line/zone events; returns entrance events."""
        out: list[Event] = []
        for ev in events:
            if isinstance(ev, LineCross) and ev.line == self.cfg.line:
                if ev.direction == self.inward:
                    self._pending[ev.track_id] = _Pending(stamp, ev.track_id)
            elif isinstance(ev, ZoneEnter) and ev.zone == self.cfg.zone:
                pending = self._pending.pop(ev.track_id, None)
                if pending is not None and not ev.revisit:
                    self.entered += 1
                    out.append(
                        stamp.event(
                            EntranceEntered,
                            entrance=self.name,
                            zone=self.cfg.zone,
                            track_id=ev.track_id,
                            visitor_id=ev.visitor_id,
                        )
                    )
        out.extend(self._expire(stamp, force=False))
        return out

    def _expire(self, stamp: Stamp, force: bool) -> list[Event]:
        out: list[Event] = []
        for tid, p in list(self._pending.items()):
            if force or stamp.t - p.crossed.t > self.cfg.window_s:
                del self._pending[tid]
                self.passed_by += 1
                out.append(
                    stamp.event(PassedBy, entrance=self.name, line=self.cfg.line, track_id=tid)
                )
        return out

    def forget(self, track_id: int, entered: int = 0) -> None:
        """A track that no longer counts (staff): its waiting crossing is dropped (not a
        passer-by), and its `entered` entries are taken back from the count."""
        self._pending.pop(track_id, None)
        self.entered = max(0, self.entered - entered)

    def flush(self, stamp: Stamp) -> list[Event]:
        """End of stream: crossings still waiting for the zone count as passers-by."""
        return self._expire(stamp, force=True)
