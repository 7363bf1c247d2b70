"""Pure plane geometry for zones and counting lines (image pixels, y pointing down).

No state and no I/O: everything here is a function of its arguments, so the decisions
built on it (line crossings, zone membership) are tested with plain tables.

Sign convention (from the product spec): for a line from `start` to `end`,
`cross(end - start, p - start) < 0` is the "in" side. In image coordinates (y down) a
left-to-right line therefore has its "in" side above it (smaller y).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

from app.vision import kernels

Point = tuple[float, float]
Direction = Literal["in", "out"]


def cross(start: Point, end: Point, p: Point) -> float:
    """cross(end - start, p - start): negative on the "in" side, positive on "out"."""
    return (end[0] - start[0]) * (p[1] - start[1]) - (end[1] - start[1]) * (p[0] - start[0])


def signed_distance(start: Point, end: Point, p: Point) -> float:
    """Signed distance (pixels) from `p` to the infinite line through start and end;
    negative on the "in" side."""
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    if length == 0.0:
        raise ValueError("degenerate line: start == end")
    return cross(start, end, p) / length


def side_direction(signed: float) -> Direction:
    """The direction of a move that ends on the side with this signed distance."""
    return "in" if signed < 0 else "out"


def line_parameter(start: Point, end: Point, p: Point) -> float:
    """Where the projection of `p` falls along the segment: 0 at start, 1 at end."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    return ((p[0] - start[0]) * dx + (p[1] - start[1]) * dy) / (dx * dx + dy * dy)


def path_line_intersection(start: Point, end: Point, a: Point, b: Point) -> float | None:
    """Where the path a -> b meets the infinite line through start/end, as the
    segment parameter (0..1 means on the drawn segment); None if a and b are on the
    same side (or the path runs along the line)."""
    da, db = cross(start, end, a), cross(start, end, b)
    if da == db or (da > 0 and db > 0) or (da < 0 and db < 0):
        return None
    k = da / (da - db)
    hit = (a[0] + k * (b[0] - a[0]), a[1] + k * (b[1] - a[1]))
    return line_parameter(start, end, hit)


def segment_crossing(start: Point, end: Point, a: Point, b: Point) -> Direction | None:
    """The direction in which the path a -> b crosses the drawn segment, or None.

    A crossing needs `a` strictly on one side and `b` on or past the other side, with
    the intersection on the segment itself (ends included). No hysteresis: this is the
    plain geometric answer used for ground truth and as the building block of
    `app.vision.lines.LineCounter`.
    """
    da, db = cross(start, end, a), cross(start, end, b)
    if da == 0 or (da > 0) == (db > 0) and db != 0:
        return None
    u = path_line_intersection(start, end, a, b)
    if u is None or not 0.0 <= u <= 1.0:
        return None
    return "out" if da < 0 else "in"


def bottom_centers(xyxy: np.ndarray) -> np.ndarray:
    """(N, 2) bottom-centre points of (N, 4) boxes: where a person stands."""
    return kernels.bottom_centers(kernels.as_boxes(xyxy))


def as_polygon(polygon: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    return poly


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean (N,) mask: which points are inside the polygon (even-odd ray casting)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = as_polygon(polygon)
    x, y = pts[:, 0:1], pts[:, 1:2]
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_hit = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    hits = straddles & (x < x_hit)
    return np.asarray(np.count_nonzero(hits, axis=1) % 2 == 1)


def distance_to_edges(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) unsigned distance from each point to the polygon's boundary."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = as_polygon(polygon)
    a = poly[None, :, :]
    b = np.roll(poly, -1, axis=0)[None, :, :]
    p = pts[:, None, :]
    ab = b - a
    denom = np.maximum(np.sum(ab * ab, axis=2), 1e-12)
    k = np.clip(np.sum((p - a) * ab, axis=2) / denom, 0.0, 1.0)
    nearest = a + k[..., None] * ab
    d = np.hypot(p[..., 0] - nearest[..., 0], p[..., 1] - nearest[..., 1])
    return np.asarray(d.min(axis=1)) if len(pts) else np.zeros(0)


def signed_polygon_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) distance to the boundary, positive inside the polygon, negative outside."""
    inside = points_in_polygon(points, polygon)
    d = distance_to_edges(points, polygon)
    return np.where(inside, d, -d)


class PolygonShape:
    """A polygon ready for repeated `signed_distance` calls: the same answers as
    `signed_polygon_distance` (to ~1e-5 px: OpenCV holds the vertices in float32), an
    order of magnitude cheaper per frame (OpenCV's point-polygon test, in C)."""

    def __init__(self, polygon: Sequence[Sequence[float]] | np.ndarray) -> None:
        poly = as_polygon(polygon)
        self.vertices = poly
        self._contour = poly.astype(np.float32).reshape(-1, 1, 2)

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """(N,) distance to the boundary, positive inside, negative outside (0 on it)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2).tolist()
        test, contour = cv2.pointPolygonTest, self._contour
        return np.array([test(contour, (x, y), True) for x, y in pts], np.float64)


def polygon_centroid(polygon: np.ndarray) -> Point:
    """Area centroid (falls back to the vertex mean for a degenerate polygon)."""
    poly = as_polygon(polygon)
    x, y = poly[:, 0], poly[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    c = x * yn - xn * y
    area = c.sum() / 2.0
    if abs(area) < 1e-9:
        return float(x.mean()), float(y.mean())
    return float(((x + xn) * c).sum() / (6 * area)), float(((y + yn) * c).sum() / (6 * area))
