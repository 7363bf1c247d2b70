"""Things that are not people: detections a camera should not count.

Two stages, both pure of Qt and of the rest of the pipeline:

- `DetectionFilter` drops detections before tracking: those inside one of the camera's
  ignore masks (by their foot point, the bottom-centre of the box, or by most of the box
  area) and those whose box height is outside the camera's person size range.
- `StationaryWatcher` flags tracks that have not moved for a long time (a sign on a
  post, a mannequin): the pipeline leaves them out of counts, occupancy, dwell and
  heatmaps, and a tile draws them apart. A flagged track that moves comes back.

Why not "IoU > 0.9 with its box N minutes ago": a small far object (the PETS sign is a
10 x 20 px box) loses 0.1 of IoU to a single pixel of detector jitter. Movement is
measured instead relative to the box height, on a smoothed box: the foot point or the
height changing by more than `move_frac` box heights is a move; less is jitter, a person
shifting their weight, an arm reaching for a shelf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.config import CameraConfig, StationaryConfig
from app.vision.detections import Detections

Polygon = list[tuple[float, float]]
# a detection is masked when more than this share of its box lies inside a mask
MASKED_BOX_SHARE = 0.5
# smoothing of a track's box for the stationary rule (weight of the newest box)
SMOOTHING = 0.3


@dataclass(frozen=True)
class FilterRules:
    masks: tuple[tuple[tuple[float, float], ...], ...] = ()
    min_height: float = 0.0  # fraction of the frame height
    max_height: float = 1.0

    @classmethod
    def of(cls, cam: CameraConfig | None) -> FilterRules:
        if cam is None:
            return cls()
        masks = tuple(tuple((float(x), float(y)) for x, y in m.polygon) for m in cam.ignore_masks)
        return cls(masks, cam.min_person_height, cam.max_person_height)

    @property
    def active(self) -> bool:
        return bool(self.masks) or self.min_height > 0.0 or self.max_height < 1.0


class DetectionFilter:
    """Drops masked and wrongly sized detections. The masks are rasterised once per
    frame size; a box's share inside the masks comes from a summed-area table."""

    def __init__(self, rules: FilterRules) -> None:
        self.rules = rules
        self._shape: tuple[int, int] = (0, 0)
        self._inside = np.zeros((0, 0), bool)
        self._sat = np.zeros((1, 1), np.int64)
        pts = [p for m in rules.masks for p in m]
        self._extent = (  # the masks' bounding box: most boxes are far from every mask
            (
                min(x for x, _ in pts),
                min(y for _, y in pts),
                max(x for x, _ in pts),
                max(y for _, y in pts),
            )
            if pts
            else (0.0, 0.0, 0.0, 0.0)
        )

    def _raster(self, h: int, w: int) -> None:
        if self._shape == (h, w):
            return
        img = np.zeros((h, w), np.uint8)
        for poly in self.rules.masks:
            pts = np.round(np.asarray(poly, np.float64)).astype(np.int32)
            cv2.fillPoly(img, [pts], 1)
        self._inside = img.astype(bool)
        self._sat = np.zeros((h + 1, w + 1), np.int64)
        self._sat[1:, 1:] = img.astype(np.int64).cumsum(0).cumsum(1)
        self._shape = (h, w)

    def masked(self, xyxy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """(N,) bool: whether each box is inside a mask (foot point or most of its area)."""
        n = len(xyxy)
        if not self.rules.masks or n == 0:
            return np.zeros(n, bool)
        h, w = shape
        self._raster(h, w)
        s, inside = self._sat, self._inside
        out = np.zeros(n, bool)
        ex0, ey0, ex1, ey1 = self._extent
        near = np.flatnonzero(
            (xyxy[:, 2] >= ex0) & (xyxy[:, 0] <= ex1) & (xyxy[:, 3] >= ey0) & (xyxy[:, 1] <= ey1)
        )
        # a few boxes near a mask: plain Python beats a dozen small numpy operations
        for i, (bx0, by0, bx1, by1) in zip(near.tolist(), xyxy[near].tolist(), strict=True):
            fx = min(max(int((bx0 + bx1) / 2), 0), w - 1)
            fy = min(max(int(by1), 0), h - 1)
            if inside[fy, fx]:
                out[i] = True
                continue
            x0, y0 = min(max(math.floor(bx0), 0), w), min(max(math.floor(by0), 0), h)
            x1, y1 = min(max(math.ceil(bx1), 0), w), min(max(math.ceil(by1), 0), h)
            covered = int(s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0])
            out[i] = covered > MASKED_BOX_SHARE * max((x1 - x0) * (y1 - y0), 1)
        return out

    def keep(self, d: Detections, shape: tuple[int, int]) -> np.ndarray:
        """(N,) bool: the detections that may be people of this camera."""
        heights = (d.xyxy[:, 3] - d.xyxy[:, 1]) / float(max(shape[0], 1))
        ok = (heights >= self.rules.min_height) & (heights <= self.rules.max_height)
        return ok & ~self.masked(d.xyxy, shape)

    def apply(self, d: Detections, shape: tuple[int, int]) -> Detections:
        """The detections that may be people (the same object when none is dropped)."""
        if not len(d) or not self.rules.active:
            return d
        keep = self.keep(d, shape)
        return d if keep.all() else d[keep]


# --- stationary tracks ----------------------------------------------------------------


Box = tuple[float, float, float, float]


@dataclass
class _Still:
    anchor: Box  # smoothed box when this still spell began
    since: float  # t the spell began
    box: Box  # smoothed box now
    seen: float  # t last seen
    flagged: bool = False
    spell: int = 0  # id of the still spell (shared by the tracks it was handed to)


Cell = tuple[int, int]


def moved(anchor: Box, box: Box, move_frac: float) -> bool:
    """Whether `box` is away from `anchor` by more than `move_frac` box heights: its foot
    point (bottom-centre) moved that far, or its height changed that much."""
    h = max(anchor[3] - anchor[1], 1.0)
    foot = math.hypot((box[0] + box[2] - anchor[0] - anchor[2]) / 2, box[3] - anchor[3])
    grow = abs(box[3] - box[1] - h)
    return foot > move_frac * h or grow > move_frac * h


def _smooth(old: Box, new: Box) -> Box:
    k = SMOOTHING
    return (
        old[0] + k * (new[0] - old[0]),
        old[1] + k * (new[1] - old[1]),
        old[2] + k * (new[2] - old[2]),
        old[3] + k * (new[3] - old[3]),
    )


@dataclass
class StationaryWatcher:
    """Which tracks have been still for `rules.after_s` seconds (stream time)."""

    rules: StationaryConfig
    tracks: dict[int, _Still] = field(default_factory=dict)
    forget_s: float = 60.0  # a track unseen this long is forgotten
    # a new track where a track unseen for at most this long stood still, at the same
    # box, continues its still spell: the tracker gives a sign a new id each time a
    # passer-by hides it, and the spell must survive that
    handoff_s: float = 10.0
    # heatmap presence (seconds per cell) each unflagged spell added: taken back when
    # the spell is flagged, so that a sign leaves no hot spot
    heat: dict[int, dict[Cell, float]] = field(default_factory=dict)
    _flagged_heat: list[dict[Cell, float]] = field(default_factory=list)
    _spells: int = 0
    _pruned_at: float = 0.0

    def update(self, tracked: Detections, t: float) -> np.ndarray:
        """(N,) bool: the rows of `tracked` that are stationary now."""
        out = np.zeros(len(tracked), bool)
        if self.rules.after_s <= 0:
            return out
        rows = zip(tracked.xyxy.tolist(), tracked.tracker_id.tolist(), strict=True)
        for i, (box, tid) in enumerate(rows):
            out[i] = self._observe(tid, (box[0], box[1], box[2], box[3]), t)
        if len(self.tracks) > 2 * len(tracked) + 32 and abs(t - self._pruned_at) > 5.0:
            self._pruned_at = t
            self.tracks = {k: v for k, v in self.tracks.items() if t - v.seen <= self.forget_s}
            alive = {s.spell for s in self.tracks.values()}
            self.heat = {k: v for k, v in self.heat.items() if k in alive}
        return out

    def _new_spell(self) -> int:
        self._spells += 1
        return self._spells

    def note_heat(self, track_ids: list[int], cells: list[Cell | None], dt: float) -> None:
        """Record the heatmap presence the moving tracks just added (their cells, `dt`
        seconds each), against their still spells."""
        if dt <= 0 or self.rules.after_s <= 0:
            return
        for tid, cell in zip(track_ids, cells, strict=True):
            s = self.tracks.get(tid)
            if s is not None and cell is not None and not s.flagged:
                spent = self.heat.setdefault(s.spell, {})
                spent[cell] = spent.get(cell, 0.0) + dt

    def take_flagged_heat(self) -> list[dict[Cell, float]]:
        """The presence of the spells flagged since the last call (each given once)."""
        out, self._flagged_heat = self._flagged_heat, []
        return out

    def _observe(self, tid: int, box: Box, t: float) -> bool:
        s = self.tracks.get(tid)
        if s is None or t - s.seen > self.forget_s:
            s = self._spot(box, t)
            self.tracks[tid] = s
        else:
            s.box = _smooth(s.box, box)
            s.seen = t
            if moved(s.anchor, s.box, self.rules.move_frac):
                s.anchor, s.since, s.flagged = s.box, t, False
                s.spell = self._new_spell()
        if not s.flagged and t - s.since >= self.rules.after_s:
            s.flagged = True
            self._flagged_heat.append(self.heat.pop(s.spell, {}))
        return s.flagged

    def _spot(self, box: Box, t: float) -> _Still:
        """The state of a new track: the still spell of a track recently lost at the same
        place (the longest one), else a new spell. The lost track's state is copied,
        not taken: a passer-by who takes it over and walks off leaves it to the next."""
        best: _Still | None = None
        for s in self.tracks.values():
            if s.seen >= t or t - s.seen > self.handoff_s:
                continue
            frac = self.rules.move_frac
            if moved(s.anchor, box, frac) or moved(box, s.anchor, frac):
                continue
            if best is None or s.since < best.since:
                best = s
        if best is None:
            return _Still(box, t, box, t, spell=self._new_spell())
        return _Still(best.anchor, best.since, box, t, best.flagged, best.spell)

    def stationary_ids(self) -> set[int]:
        return {tid for tid, s in self.tracks.items() if s.flagged}

    def split(self, tracked: Detections, t: float) -> tuple[Detections, Detections]:
        """(moving, stationary) rows of `tracked`; `moving` is `tracked` itself when no
        track is stationary."""
        still = self.update(tracked, t)
        if not still.any():
            return tracked, _EMPTY
        return tracked[~still], tracked[still]


_EMPTY = Detections.empty()
