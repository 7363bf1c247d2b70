"""What a camera tile shows, as plain data: built from the engine's `TileState` and the
configured zones and lines of that camera. Pure Python (no Qt), cheap to build on the
GUI thread at display rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from app.config import AppConfig

if TYPE_CHECKING:
    from app.engine import TileState

Point = tuple[float, float]
SHOWN_TAGS = ("staff", "returning")  # "new" is the default: not worth a label


@dataclass(frozen=True)
class ZoneView:
    name: str
    polygon: list[Point]
    kind: str  # zone | queue
    occupancy: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class LineView:
    name: str
    start: Point
    end: Point
    count_in: int | None = None
    count_out: int | None = None
    door: bool = True  # a door of the store; False: a line inside it (drawn dashed)


@dataclass
class TileView:
    camera: str
    image: np.ndarray | None = None  # BGR uint8 HxWx3, the newest source frame
    frame_index: int = -1
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    analysed_index: int = -1  # frame index the boxes belong to
    zones: list[ZoneView] = field(default_factory=list)
    lines: list[LineView] = field(default_factory=list)
    status: str = "starting"
    message: str = ""
    source_fps: float = 0.0
    analysed_fps: float = 0.0
    detector_ms: float = 0.0
    heatmap: np.ndarray | None = None  # optional 2-D density from the engine
    heatmap_since: float | None = None  # the start of the window it covers
    heatmap_recent: np.ndarray | None = None  # the fading view (0..1, not re-scaled)
    # people a zone still counts whom the analysed frame did not show (lost a moment
    # ago), at their last box
    held_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    held_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # objects flagged stationary (not moving for a long time): ignored, drawn apart
    still_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    # opt-in recognition: track id -> "staff" / "returning" (a tag, never a name)
    tags: dict[int, str] = field(default_factory=dict)


def _counts(value: Mapping[str, int] | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    return int(value.get("in", 0)), int(value.get("out", 0))


def shapes_for(cfg: AppConfig, camera: str) -> tuple[list[ZoneView], list[LineView]]:
    zones = [
        ZoneView(z.name, [tuple(p) for p in z.polygon], z.kind, None, z.capacity)  # type: ignore[misc]
        for z in cfg.zones_of(camera)
    ]
    lines = [
        LineView(ln.name, tuple(ln.start), tuple(ln.end), door=ln.door)  # type: ignore[arg-type]
        for ln in cfg.lines_of(camera)
    ]
    return zones, lines


def build_view(
    camera: str, state: TileState | None, zones: list[ZoneView], lines: list[LineView]
) -> TileView:
    """Merge the engine's TileState of a camera with its shapes."""
    view = TileView(camera=camera, zones=list(zones), lines=list(lines))
    if state is None:
        return view
    view.image = state.frame.image if state.frame is not None else None
    view.frame_index = state.frame_index
    det, held = state.detections, state.held
    if len(det):
        view.boxes = np.asarray(det.xyxy, np.float32).reshape(-1, 4)
        view.track_ids = np.asarray(det.tracker_id, np.int64).reshape(-1)
    if len(held):
        view.held_boxes = np.asarray(held.xyxy, np.float32).reshape(-1, 4)
        view.held_ids = np.asarray(held.tracker_id, np.int64).reshape(-1)
    if len(state.stationary):
        view.still_boxes = np.asarray(state.stationary.xyxy, np.float32).reshape(-1, 4)
    view.analysed_index = state.analysed_index
    view.tags = {t: tag for t, tag in state.tags.items() if tag in SHOWN_TAGS}
    occ = state.occupancy
    view.zones = [
        ZoneView(z.name, z.polygon, z.kind, int(occ.get(z.name, 0)), z.capacity) for z in zones
    ]
    view.lines = [
        LineView(ln.name, ln.start, ln.end, *_counts(state.line_counts.get(ln.name)), door=ln.door)
        for ln in lines
    ]
    view.status, view.message = state.status, state.message
    view.source_fps, view.analysed_fps = state.source_fps, state.analysed_fps
    view.detector_ms, view.heatmap = state.detector_ms, state.heatmap
    view.heatmap_since = state.heatmap_since
    view.heatmap_recent = state.heatmap_recent
    return view


MAX_AHEAD = 10  # source frames a box is carried forward at most
MAX_GAP = 15  # source frames between two analysed sightings that still give a velocity


class BoxMotion:
    """Where each tracked person has moved since their analysed frame.

    A live tile shows the newest source frame, but its boxes come from the last analysed
    one (5 analysed frames a second against 10-30 source frames), so a walking person
    sits ahead of their box. This keeps each track's velocity (box centre, source pixels
    per source frame, smoothed over its analysed sightings) and carries the boxes forward
    to the frame on screen; a box keeps its size."""

    def __init__(self) -> None:
        # track id -> (analysed frame index, box centre, velocity)
        self._tracks: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}

    def observe(self, index: int, boxes: np.ndarray, track_ids: np.ndarray) -> None:
        """One analysed frame's boxes (once per analysed frame)."""
        seen: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        for box, tid in zip(boxes.tolist(), track_ids.tolist(), strict=False):
            if tid < 0:
                continue
            centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
            velocity = np.zeros(2, np.float32)
            prev = self._tracks.get(tid)
            if prev is not None and 0 < index - prev[0] <= MAX_GAP:
                step = (centre - prev[1]) / (index - prev[0])
                velocity = 0.5 * step + 0.5 * prev[2] if prev[2].any() else step
            seen[tid] = (index, centre, velocity)
        self._tracks = seen  # tracks not in this frame are not drawn any more

    def at(self, view: TileView) -> np.ndarray:
        """The view's boxes moved to where their people are in `view.frame_index`."""
        ahead = min(view.frame_index - view.analysed_index, MAX_AHEAD)
        if ahead <= 0 or view.analysed_index < 0 or not len(view.boxes):
            return view.boxes
        out = view.boxes.copy()
        for i, tid in enumerate(view.track_ids.tolist()):
            track = self._tracks.get(tid)
            if track is not None and track[0] == view.analysed_index:
                dx, dy = (track[2] * ahead).tolist()
                out[i] += (dx, dy, dx, dy)
        return out
