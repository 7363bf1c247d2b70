"""Whether a zone's polygon is a usable shape: it encloses an area and its edges do not
cross (checked exactly, in fractions, when a config is validated)."""

from __future__ import annotations

from fractions import Fraction

Point = tuple[float, float]
Segment = tuple[Point, Point]


def _orientation(a: Point, b: Point, c: Point) -> int:
    """Sign of the turn a -> b -> c (1 left, -1 right, 0 on one line), computed exactly."""
    (ax, ay), (bx, by), (cx, cy) = ((Fraction(x), Fraction(y)) for x, y in (a, b, c))
    cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    return (cross > 0) - (cross < 0)


def _within_box(p: Point, a: Point, b: Point) -> bool:
    """Whether p lies in the bounding box of segment a-b."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _boxes_overlap(s: Segment, t: Segment) -> bool:
    """Whether the bounding boxes of two segments overlap (a cheap first test)."""
    (a, b), (c, d) = s, t
    return all(
        max(a[k], b[k]) >= min(c[k], d[k]) and max(c[k], d[k]) >= min(a[k], b[k]) for k in (0, 1)
    )


def _segments_meet(s: Segment, t: Segment) -> bool:
    """Whether two closed segments have a point in common (crossing, touching or overlapping)."""
    if not _boxes_overlap(s, t):
        return False
    (a, b), (c, d) = s, t
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _within_box(c, a, b))
        or (o2 == 0 and _within_box(d, a, b))
        or (o3 == 0 and _within_box(a, c, d))
        or (o4 == 0 and _within_box(b, c, d))
    )


def _distinct_vertices(polygon: list[Point]) -> list[Point]:
    """The vertices without consecutive repeats, so that a polygon closed by repeating its first
    point, or a point placed twice, is judged by its real shape."""
    ring = [p for i, p in enumerate(polygon) if p != polygon[i - 1]]
    return ring or polygon[:1]


def _on_one_line(ring: list[Point]) -> bool:
    """Whether all the vertices are on one straight line (the polygon encloses no area). Unlike
    a zero shoelace sum, this does not also catch a symmetric bow-tie, whose halves cancel."""
    return len(ring) < 3 or all(_orientation(ring[0], ring[1], p) == 0 for p in ring[2:])


def _crossing_edges(ring: list[Point]) -> tuple[Segment, Segment] | None:
    """The first two non-adjacent edges of a closed polygon that meet, or None if it is simple."""
    edges = [(ring[i - 1], p) for i, p in enumerate(ring)]
    n = len(edges)
    for i in range(n):
        for j in range(i + 2, n - (i == 0)):
            if _segments_meet(edges[i], edges[j]):
                return edges[i], edges[j]
    return None


def _pt(p: Point) -> str:
    return f"({p[0]:g}, {p[1]:g})"


def has_no_area(polygon: list[Point]) -> bool:
    """Whether all of a polygon's corners are on one straight line."""
    return _on_one_line(_distinct_vertices(polygon))


def polygon_problem(polygon: list[Point]) -> str | None:
    """Why a zone polygon cannot be used (no area, or edges that cross), or None if it can."""
    ring = _distinct_vertices(polygon)
    if _on_one_line(ring):
        return "the polygon has no area (its points are on one line)"
    crossing = _crossing_edges(ring)
    if crossing is not None:
        (a, b), (c, d) = crossing
        return f"the polygon's edges cross each other ({_pt(a)}-{_pt(b)} meets {_pt(c)}-{_pt(d)})"
    return None
