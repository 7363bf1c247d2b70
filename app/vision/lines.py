"""Counting lines: a drawn segment with a direction, crossed by people's feet.

Rules (see `app.vision.geometry` for the sign convention):
- a person's position is the bottom-centre point of their box;
- a crossing counts only when the path of that point crosses the drawn segment, not
  its infinite extension;
- hysteresis: each track has a committed side; it flips only once the point is at
  least `hysteresis_px` past the line on the other side, so a box jittering over the
  line produces no extra crossings. The crossing is counted at the flip, if the path
  last left the old side through the segment. A track first seen within
  `hysteresis_px` of the line has no side until it is that far from it (where it came
  from is not known, so walking away from the line is not a crossing);
- a gap in a track (lost, then found again on the other side) counts once, because the
  path step between the last and the current point is tested like any other;
- a track reported for the first time may come with an origin (where the tracker first
  saw it, before it was sure enough to report it): the path starts there, so a person
  who crossed the line in the moment it took to confirm them counts;
- a track that ends (lost for good, or the stream ends) just past the line, inside the
  hysteresis band, has crossed: its last position is final, there is no jitter left
  to guard against (people who step out of view right after a door line count);
- a step faster than a person moves (`MAX_HEIGHTS_PER_S` of their height a second, and
  more than `MIN_JUMP_HEIGHTS` of it) is the tracker's, not the person's: the id moved
  onto someone else as two people passed, or the box lost the legs behind an obstacle.
  Such a step is not a crossing; the track goes on from its new point as if born there
  (so the other person's own crossing, later, counts);
- direction: "in" is a move to the side where cross(end - start, p - start) < 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from app.config import LineConfig
from app.events import LineCross
from app.vision.geometry import (
    Direction,
    Point,
    line_parameter,
    path_line_intersection,
    side_direction,
    signed_distance,
)
from app.vision.stamp import Stamp

log = logging.getLogger(__name__)

# A track's step is a jump, not a person's movement, when its bottom-centre moves faster
# than MAX_HEIGHTS_PER_S of the person's own heights a second (walking ~0.8, running ~3)
# and by more than MIN_JUMP_HEIGHTS of a height (a box's jitter at 25 fps stays well
# under it). In body heights, so that no picture size is in the rule.
MAX_HEIGHTS_PER_S = 5.0
MIN_JUMP_HEIGHTS = 0.25


@dataclass
class _TrackSide:
    side: int  # committed side: -1 ("in" side), +1 ("out" side), 0 not known yet
    last: Point
    last_d: float
    exit_u: float | None  # segment parameter where the path last left the committed side
    last_t: float
    last_h: float = 0.0  # the person's box height at `last` (0: not given)


def _sign(d: float) -> int:
    return -1 if d < 0 else (1 if d > 0 else 0)


def _jumped(st: _TrackSide, p: Point, t: float, height: float) -> bool:
    """Whether the step from the track's last point to `p` is a jump (see
    `MAX_HEIGHTS_PER_S`); never without both heights or without time passing."""
    dt, h = t - st.last_t, max(height, st.last_h)
    if dt <= 0 or height <= 0 or st.last_h <= 0:
        return False
    dist = ((p[0] - st.last[0]) ** 2 + (p[1] - st.last[1]) ** 2) ** 0.5
    return dist > max(MAX_HEIGHTS_PER_S * dt, MIN_JUMP_HEIGHTS) * h


class LineStepper:
    """The per-track crossing decision with hysteresis, independent of events."""

    def __init__(self, start: Point, end: Point, hysteresis_px: float) -> None:
        signed_distance(start, end, start)  # raises on a degenerate line
        self.start, self.end, self.hysteresis = start, end, float(hysteresis_px)
        self._tracks: dict[int, _TrackSide] = {}

    def step(
        self, track_id: int, p: Point, t: float = 0.0, height: float = 0.0
    ) -> Direction | None:
        """Feed one observation of a track (`height`: the person's box height, 0 if not
        known); returns the direction if it just crossed."""
        d = signed_distance(self.start, self.end, p)
        firm = _sign(d) if abs(d) >= self.hysteresis else 0
        st = self._tracks.get(track_id)
        if st is None:
            self._tracks[track_id] = _TrackSide(firm, p, d, None, t, height)
            return None
        result: Direction | None = None
        s = st.side
        if _jumped(st, p, t, height):
            # the track's box leapt faster than a person moves: the tracker put the id on
            # someone else, or the box changed shape (occlusion). Where the person came
            # from is not known: the track starts afresh here, as if born (no crossing)
            st.side, st.exit_u = firm, None
        elif s == 0:  # born inside the band: the side is known once it is firmly on one
            st.side = firm
        else:
            if st.last_d * s > 0 and d * s <= 0:  # the path leaves the committed side
                u = path_line_intersection(self.start, self.end, st.last, p)
                st.exit_u = line_parameter(self.start, self.end, p) if u is None else u
            if d * s < 0 and abs(d) >= self.hysteresis:  # firmly on the other side: flip
                if st.exit_u is not None and 0.0 <= st.exit_u <= 1.0:
                    result = side_direction(d)
                st.side, st.exit_u = -s, None
        st.last, st.last_d, st.last_t, st.last_h = p, d, t, height
        return result

    def finish(self, track_id: int) -> Direction | None:
        """The track is over: forget it; returns the direction if it ended past the line
        (inside the hysteresis band) after leaving its side through the segment."""
        st = self._tracks.pop(track_id, None)
        if st is None or st.side == 0 or st.last_d * st.side >= 0:
            return None
        if st.exit_u is not None and 0.0 <= st.exit_u <= 1.0:
            return side_direction(st.last_d)
        return None

    def ended(self, now: float, older_than_s: float) -> list[tuple[int, Direction | None]]:
        """End the tracks not seen for `older_than_s`: (track id, direction or None)."""
        stale = [k for k, v in self._tracks.items() if now - v.last_t > older_than_s]
        return [(k, self.finish(k)) for k in stale]

    def track_ids(self) -> list[int]:
        return list(self._tracks)

    def drop(self, track_id: int) -> None:
        """Forget a track without deciding anything about it."""
        self._tracks.pop(track_id, None)

    def __len__(self) -> int:
        return len(self._tracks)


class LineCounter:
    """A configured counting line: turns tracked points into `LineCross` events."""

    def __init__(self, cfg: LineConfig, track_end_s: float = 3.0) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._stepper = LineStepper(cfg.start, cfg.end, cfg.hysteresis_px)
        self._end_s = track_end_s  # unseen this long: the track is over
        self._last: dict[int, tuple[Stamp, str]] = {}
        self.counts: dict[str, int] = {"in": 0, "out": 0}
        # crossings taken out of `counts` since (staff recognised late): both only grow
        # together with it, so a tile can tell a take-back from a counter started anew
        self.taken_back: dict[str, int] = {"in": 0, "out": 0}

    def same_geometry(self, cfg: LineConfig) -> bool:
        return (cfg.start, cfg.end, cfg.hysteresis_px) == (
            self.cfg.start,
            self.cfg.end,
            self.cfg.hysteresis_px,
        )

    def update(
        self,
        stamp: Stamp,
        track_ids: np.ndarray,
        points: np.ndarray,
        visitor_ids: Mapping[int, str] | None = None,
        origins: Mapping[int, Point] | None = None,
        heights: np.ndarray | None = None,
    ) -> list[LineCross]:
        """Step every track; `origins` are earlier points of tracks reported for the first
        time (see the module docstring), stepped first; `heights` the people's box
        heights (a step faster than a person moves is not a crossing)."""
        events: list[LineCross] = []
        hs = heights.tolist() if heights is not None else [0.0] * len(track_ids)
        for tid, (x, y), h in zip(track_ids.tolist(), points.tolist(), hs, strict=True):
            if tid < 0:
                continue
            vid = (visitor_ids or {}).get(tid, "")
            self._last[tid] = (stamp, vid)
            origin = (origins or {}).get(tid)
            for p in ((x, y),) if origin is None else (origin, (x, y)):
                direction = self._stepper.step(tid, p, stamp.t, h)
                if direction is not None:
                    events.append(self._count(stamp, tid, direction, vid))
        for tid, direction in self._stepper.ended(stamp.t, self._end_s):
            last, vid = self._last.pop(tid)
            if direction is not None:
                events.append(self._count(last, tid, direction, vid))
        return events

    def _count(self, stamp: Stamp, tid: int, direction: Direction, vid: str) -> LineCross:
        self.counts[direction] += 1
        log.debug("line %s: track %s crossed %s at t=%.2f", self.name, tid, direction, stamp.t)
        return stamp.event(
            LineCross,
            line=self.name,
            direction=direction,
            track_id=tid,
            visitor_id=vid,
            door=self.cfg.door,
        )

    def forget(self, track_id: int, taken_back: Iterable[str] = ()) -> None:
        """A track that no longer counts (staff): drop it without a crossing, and take
        back the crossings `taken_back` (their directions) from the counts."""
        self._stepper.drop(track_id)
        self._last.pop(track_id, None)
        for direction in taken_back:
            if self.counts[direction] > 0:
                self.counts[direction] -= 1
                self.taken_back[direction] += 1

    def flush(self) -> list[LineCross]:
        """End of stream: every track is over (see `LineStepper.finish`)."""
        events: list[LineCross] = []
        for tid in self._stepper.track_ids():
            direction = self._stepper.finish(tid)
            last, vid = self._last.pop(tid)
            if direction is not None:
                events.append(self._count(last, tid, direction, vid))
        return events
