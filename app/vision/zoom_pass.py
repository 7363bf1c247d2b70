"""A second, zoomed detector pass around a camera's counting lines, for small people.

The detector sees the whole frame shrunk or enlarged to its fixed input (YOLOX-Nano:
416x416). People who come out small at that scale (PETS09 from its elevated camera:
about 40 input pixels tall) are found less often; a low-resolution camera makes no
difference to that scale (a 320x240 frame is enlarged to the same 416 pixels) but
leaves less detail. The zoom pass cuts the region where crossings are counted (the
lines, a person's height around them and their body above their feet) into at most
`max_tiles` tiles, enlarges each to the input, and merges what it
finds with the full-frame pass (boxes cut by a tile edge inside the picture are
dropped; NMS across passes).

It runs only when it pays: the people the full-frame pass found sure enough measure
less than `max_person_px` input pixels (median), the tiles enlarge them at least
`min_gain` times more than the full frame, and (`only_fast`) while the adaptive rate
analyses the camera at its full rate (someone near a line). Each tile costs one more
inference, so the pass is off by default (`analysis.zoom.enabled`); measured in
docs/accuracy.md (bench/eval_degraded.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.config import ZoomConfig
from app.vision.detections import Detections
from app.vision.detectors.preprocess import nms_persons
from app.vision.geometry import Point

SURE = 0.5  # detections this sure measure the people's size
EDGE_PX = 2.0  # a box this near an inner tile edge is cut by it
NMS_IOU = 0.45  # the detector's own default


@dataclass(frozen=True)
class Tile:
    """A region of the frame in pixels: [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def input_scale(h: float, w: float, input_hw: tuple[int, int]) -> float:
    """How much the detector enlarges an h x w picture to fit its input."""
    return min(input_hw[0] / h, input_hw[1] / w)


def line_region(
    lines: Sequence[tuple[Point, Point]], person_h: float, shape: tuple[int, int]
) -> Tile | None:
    """The lines' surroundings: a person's height beside and below them, two above (a
    person whose feet are on the line has their body above it), clipped to the frame."""
    if not lines:
        return None
    h, w = shape
    xs = [p[0] for ln in lines for p in ln]
    ys = [p[1] for ln in lines for p in ln]
    x0, x1 = max(0, math.floor(min(xs) - person_h)), min(w, math.ceil(max(xs) + person_h))
    y0, y1 = max(0, math.floor(min(ys) - 2 * person_h)), min(h, math.ceil(max(ys) + person_h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return Tile(x0, y0, x1, y1)


def tiles_for(
    region: Tile,
    person_h: float,
    shape: tuple[int, int],
    input_hw: tuple[int, int],
    *,
    min_gain: float,
    max_tiles: int,
) -> list[Tile]:
    """`region` cut along its longer side into the fewest tiles (at most `max_tiles`)
    that enlarge people at least `min_gain` times more than the full-frame pass, each
    tile half a person longer than its share (two tiles overlap by a person's height,
    so that whoever one cuts is whole in the other); [] when no such cut exists."""
    wide = region.width * input_hw[0] >= region.height * input_hw[1]
    along, across = (region.width, region.height) if wide else (region.height, region.width)
    full = input_scale(*shape, input_hw)
    for n in range(1, max_tiles + 1):
        size = min(float(along), along / n + (0.5 * person_h if n > 1 else 0.0))
        tw, th = (size, across) if wide else (across, size)
        if input_scale(th, tw, input_hw) >= min_gain * full:
            break
    else:
        return []
    step = (along - size) / max(n - 1, 1)
    tiles = []
    for i in range(n):
        a = round(i * step)
        b = min(along, round(i * step + size))
        if wide:
            tiles.append(Tile(region.x0 + a, region.y0, region.x0 + b, region.y1))
        else:
            tiles.append(Tile(region.x0, region.y0 + a, region.x1, region.y0 + b))
    return tiles


def from_tile(found: Detections, tile: Tile, shape: tuple[int, int]) -> Detections:
    """A tile's detections in frame pixels, without the boxes cut by one of its edges
    that lies inside the frame (a person half in the tile: the full pass or the
    neighbouring tile sees them whole)."""
    if not len(found):
        return found
    h, w = shape
    xyxy = found.xyxy + np.array([tile.x0, tile.y0, tile.x0, tile.y0], np.float32)
    cut = np.zeros(len(xyxy), bool)
    if tile.x0 > 0:
        cut |= xyxy[:, 0] <= tile.x0 + EDGE_PX
    if tile.y0 > 0:
        cut |= xyxy[:, 1] <= tile.y0 + EDGE_PX
    if tile.x1 < w:
        cut |= xyxy[:, 2] >= tile.x1 - EDGE_PX
    if tile.y1 < h:
        cut |= xyxy[:, 3] >= tile.y1 - EDGE_PX
    keep = ~cut
    return Detections.create(xyxy[keep], found.confidence[keep], found.class_id[keep])


def merge(full: Detections, parts: Sequence[Detections], iou: float = NMS_IOU) -> Detections:
    """The full-frame pass and the tiles' detections (frame pixels) in one NMS."""
    everything = Detections.concat([full.with_tracker_id(np.full(len(full), -1)), *parts])
    if not len(everything):
        return full
    people = everything[everything.class_id == 0]
    return nms_persons(people.xyxy, people.confidence, iou)


def person_height(found: Detections) -> float | None:
    """The median height (pixels) of the people found sure enough, None if nobody."""
    sure = found.xyxy[(found.confidence >= SURE) & (found.class_id == 0)]
    if not len(sure):
        return None
    return float(np.median(sure[:, 3] - sure[:, 1]))


class ZoomPass:
    """The zoomed second pass of one camera (its counting lines, in frame pixels)."""

    def __init__(self, cfg: ZoomConfig, lines: Sequence[tuple[Point, Point]]) -> None:
        self.cfg = cfg
        self.lines = list(lines)
        self.passes = 0  # extra inferences run (tiles), for the cost figures

    @property
    def active(self) -> bool:
        return self.cfg.enabled and bool(self.lines)

    def tiles(
        self, full: Detections, shape: tuple[int, int], input_hw: tuple[int, int]
    ) -> list[Tile]:
        """The tiles to detect again in a frame whose full pass found `full`; [] when
        the people are big enough at the full pass's scale (or nobody sure was found)."""
        if not self.active:
            return []
        person_h = person_height(full)
        if person_h is None or person_h * input_scale(*shape, input_hw) >= self.cfg.max_person_px:
            return []
        region = line_region(self.lines, person_h, shape)
        if region is None:
            return []
        return tiles_for(
            region,
            person_h,
            shape,
            input_hw,
            min_gain=self.cfg.min_gain,
            max_tiles=self.cfg.max_tiles,
        )

    def run(self, detector: Any, image: np.ndarray, full: Detections) -> Detections:
        """`full` (the detector's pass on `image`) with the zoomed tiles' people merged
        in; `full` itself when no tile is wanted."""
        shape = (int(image.shape[0]), int(image.shape[1]))
        input_hw = tuple(getattr(detector, "input_hw", (416, 416)))
        tiles = self.tiles(full, shape, (int(input_hw[0]), int(input_hw[1])))
        if not tiles:
            return full
        parts = []
        for tile in tiles:
            crop = np.ascontiguousarray(image[tile.y0 : tile.y1, tile.x0 : tile.x1])
            parts.append(from_tile(detector.detect(crop), tile, shape))
            self.passes += 1
        return merge(full, parts)
