"""Zones: polygons that people enter and leave, with occupancy and dwell per visit.

- A person is in a zone by the bottom-centre point of their box.
- Hysteresis: a track's committed state (inside / outside) flips only when its point
  is at least `hysteresis_px` past the boundary, or has stayed on the other side for
  `min_frames` consecutive analysed frames. A box flickering on the edge produces no
  extra enter/exit events.
- A visit starts at the first enter. When the person leaves, the visit stays open for
  `revisit_s` (analysis.revisit_s, default 30 s): coming back within it continues the
  same visit (same visit_id, `ZoneEnter.revisit=True`); once the window passes,
  `VisitClosed` reports the visit with its dwell (time spent inside, summed over the
  visit's stays).
- A track the tracker stops reporting while inside exits after `lost_s` without a
  sighting; its `ZoneExit` is dated at the last sighting.
- Queue areas (kind="queue") are zones whose analytics report length and waits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from app.config import ZoneConfig
from app.events import Event, VisitClosed, ZoneEnter, ZoneExit
from app.vision.geometry import PolygonShape, as_polygon
from app.vision.stamp import Stamp

log = logging.getLogger(__name__)


@dataclass
class Visit:
    visit_id: str
    visitor_id: str
    track_id: int
    enter: Stamp
    inside_since: float | None  # t of the current stay's start; None while outside
    dwell_s: float = 0.0  # closed stays
    exit: Stamp | None = None  # last exit, while the revisit window runs

    def dwell_at(self, t: float) -> float:
        return self.dwell_s + (t - self.inside_since if self.inside_since is not None else 0.0)


@dataclass
class _Presence:
    inside: bool = False
    streak: int = 0
    last: Stamp | None = None
    visit: Visit | None = None


@dataclass(frozen=True)
class ZoneRules:
    hysteresis_px: float = 4.0
    min_frames: int = 2
    revisit_s: float = 30.0
    lost_s: float = 3.0
    occupancy_grace_s: float = 1.0  # a track unseen this long no longer counts as present


@dataclass
class ZoneTracker:
    """One configured zone: feed it tracked points, get enter/exit/visit events."""

    cfg: ZoneConfig
    rules: ZoneRules = field(default_factory=ZoneRules)

    def __post_init__(self) -> None:
        self.name = self.cfg.name
        self.polygon = as_polygon(self.cfg.polygon)
        self._shape = PolygonShape(self.polygon)
        self._tracks: dict[int, _Presence] = {}
        self._now = float("-inf")
        self.visits_closed = 0

    @property
    def is_queue(self) -> bool:
        return self.cfg.kind == "queue"

    def same_geometry(self, cfg: ZoneConfig) -> bool:
        return cfg.polygon == self.cfg.polygon

    @property
    def occupancy(self) -> int:
        """People inside now: committed inside and seen within the grace period (a track
        the tracker just lost still counts for a moment, so occupancy does not flicker)."""
        horizon = self._now - self.rules.occupancy_grace_s
        return sum(
            1
            for p in self._tracks.values()
            if p.inside and p.last is not None and p.last.t >= horizon
        )

    def inside_visits(self) -> list[Visit]:
        """The visits of the people inside right now."""
        return [p.visit for p in self._tracks.values() if p.inside and p.visit is not None]

    def inside_track_ids(self) -> list[int]:
        return [tid for tid, p in self._tracks.items() if p.inside]

    def held_track_ids(self) -> list[int]:
        """Tracks counted in `occupancy` although the last frame did not show them (the
        tracker lost them less than the grace period ago)."""
        horizon = self._now - self.rules.occupancy_grace_s
        return [
            tid
            for tid, p in self._tracks.items()
            if p.inside and p.last is not None and horizon <= p.last.t < self._now
        ]

    def update(
        self,
        stamp: Stamp,
        track_ids: np.ndarray,
        points: np.ndarray,
        visitor_ids: Mapping[int, str] | None = None,
    ) -> list[Event]:
        events: list[Event] = []
        self._now = stamp.t
        ids = [int(i) for i in track_ids.tolist()]
        dist = self._shape.signed_distance(points) if ids else np.zeros(0)
        for tid, d in zip(ids, dist.tolist(), strict=True):
            if tid >= 0:
                events.extend(self._observe(stamp, tid, d, (visitor_ids or {}).get(tid, "")))
        seen = set(ids)
        events.extend(self._expire(stamp, seen))
        return events

    def _observe(self, stamp: Stamp, tid: int, d: float, visitor_id: str) -> list[Event]:
        p = self._tracks.setdefault(tid, _Presence())
        p.last = stamp
        geometric_inside = d > 0
        if geometric_inside == p.inside:
            p.streak = 0
            return []
        p.streak += 1
        if abs(d) < self.rules.hysteresis_px and p.streak < self.rules.min_frames:
            return []
        p.streak = 0
        p.inside = geometric_inside
        return [self._enter(stamp, tid, p, visitor_id) if p.inside else self._exit(stamp, tid, p)]

    def _enter(self, stamp: Stamp, tid: int, p: _Presence, visitor_id: str) -> ZoneEnter:
        revisit = p.visit is not None
        if p.visit is None:
            p.visit = Visit(str(uuid.uuid4()), visitor_id, tid, stamp, stamp.t)
        else:
            p.visit.inside_since, p.visit.exit = stamp.t, None
        log.debug("zone %s: track %s enters (revisit=%s)", self.name, tid, revisit)
        v = p.visit
        return stamp.event(
            ZoneEnter,
            zone=self.name,
            track_id=tid,
            visitor_id=v.visitor_id,
            visit_id=v.visit_id,
            revisit=revisit,
        )

    def _exit(self, stamp: Stamp, tid: int, p: _Presence) -> ZoneExit:
        v = p.visit
        assert v is not None and v.inside_since is not None
        v.dwell_s += max(0.0, stamp.t - v.inside_since)
        v.inside_since, v.exit = None, stamp
        p.inside = False
        log.debug("zone %s: track %s exits after %.1fs", self.name, tid, v.dwell_s)
        return stamp.event(
            ZoneExit,
            zone=self.name,
            track_id=tid,
            visitor_id=v.visitor_id,
            visit_id=v.visit_id,
            dwell_s=v.dwell_s,
        )

    def _expire(self, now: Stamp, seen: set[int]) -> list[Event]:
        """Exit tracks lost inside; close visits whose revisit window has passed."""
        events: list[Event] = []
        for tid in list(self._tracks):
            p = self._tracks[tid]
            assert p.last is not None
            if tid not in seen and p.inside and now.t - p.last.t > self.rules.lost_s:
                events.append(self._exit(p.last, tid, p))
            v = p.visit
            if v is not None and v.exit is not None and now.t - v.exit.t > self.rules.revisit_s:
                events.append(self._close(now, v))
                p.visit = None
            gone = tid not in seen and now.t - p.last.t > self.rules.lost_s
            if gone and not p.inside and p.visit is None:
                del self._tracks[tid]
        return events

    def _close(self, stamp: Stamp, v: Visit) -> VisitClosed:
        assert v.exit is not None
        self.visits_closed += 1
        return stamp.event(
            VisitClosed,
            zone=self.name,
            visitor_id=v.visitor_id,
            visit_id=v.visit_id,
            enter_ts=v.enter.ts,
            exit_ts=v.exit.ts,
            dwell_s=v.dwell_s,
        )

    def forget(self, track_id: int) -> Visit | None:
        """A track that no longer counts (staff): gone at once, without an exit or a
        closed visit; returns its visit still open (or in its revisit window), if any."""
        p = self._tracks.pop(track_id, None)
        return None if p is None else p.visit

    def flush(self, stamp: Stamp) -> list[Event]:
        """End of stream: everyone inside exits (dated at their last sighting) and every
        open visit closes."""
        events: list[Event] = []
        for tid, p in list(self._tracks.items()):
            if p.inside:
                assert p.last is not None
                events.append(self._exit(p.last, tid, p))
            if p.visit is not None:
                events.append(self._close(stamp, p.visit))
        self._tracks.clear()
        return events
