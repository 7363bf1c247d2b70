"""The zone editor's shapes and their translation to and from AppConfig (pure, no Qt).

A shape is what the user draws: a zone, a queue area, a counting line, an entrance
(an outer line on the street side plus the zone just inside the door), or an ignore mask
(an area where nobody is counted: a sign, a mannequin; kept with the camera's settings).
Applying the shapes of one camera replaces that camera's zones, lines, entrances and
masks in the config and validates the whole config, so a bad edit is refused with a
readable message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from app.config import AppConfig, EntranceConfig, IgnoreMask, LineConfig, ZoneConfig
from app.polygons import has_no_area, polygon_problem

Point = tuple[float, float]
KIND_LABELS = {
    "zone": "Zone",
    "queue": "Queue area",
    "line": "Counting line",
    "entrance": "Entrance",
    "mask": "Ignore mask",
}
# an ignore mask made around a still object reaches this far (in box sizes) past its box
MASK_MARGIN = 0.25


@dataclass
class Shape:
    name: str
    kind: str  # zone | queue | line | entrance | mask
    points: list[Point] = field(default_factory=list)  # polygon, or the 2 ends of a line
    line: list[Point] = field(default_factory=list)  # entrance only: outer line
    capacity: int | None = None
    line_name: str = ""  # entrance only: names of the generated line and zone
    zone_name: str = ""
    door: bool = True  # line only: a door of the store (footfall), not an aisle
    in_store: bool = True  # zones: counts towards the store's head count

    def label(self) -> str:
        """The shape as the editor's list shows it."""
        if self.kind == "line" and not self.door:
            return f"{self.name}   —   In-store line"
        if self.kind == "mask":
            return f"{self.name}   —   Ignore mask  ·  nobody counted here"
        extra = f"  ·  max {self.capacity}" if self.capacity else ""
        if self.kind in ("zone", "queue", "entrance") and not self.in_store:
            extra += "  ·  not in “In the store now”"
        return f"{self.name}   —   {KIND_LABELS[self.kind]}{extra}"

    @property
    def is_line(self) -> bool:
        return self.kind == "line"

    def line_ready(self) -> bool:
        """An entrance draws its outer line first, then its zone."""
        return self.kind != "entrance" or len(self.line) == 2

    def complete(self) -> bool:
        if self.kind == "line":
            return len(self.points) == 2
        if self.kind == "entrance":
            return len(self.line) == 2 and len(self.points) >= 3
        return len(self.points) >= 3

    def missing(self) -> str:
        """What the shape still needs before it can be closed, in the editor's words
        ("" once it is complete)."""
        if self.complete():
            return ""
        if self.kind == "line":
            return "A counting line needs its 2 ends: click where it ends."
        if not self.line_ready():
            return "An entrance needs its outer line first: click its 2 ends."
        what = {
            "zone": "A zone",
            "queue": "A queue area",
            "entrance": "An entrance zone",
            "mask": "An ignore mask",
        }
        return (
            f"{what[self.kind]} needs at least 3 corners: click to place another one, "
            "or press Esc to cancel it."
        )


def polygon_centroid(points: list[Point]) -> Point:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def in_side(start: Point, end: Point, p: Point) -> bool:
    """Whether p is on the line's "in" side (cross(end-start, p-start) < 0)."""
    return (end[0] - start[0]) * (p[1] - start[1]) - (end[1] - start[1]) * (p[0] - start[0]) < 0


def orient_entrance(shape: Shape) -> None:
    """Make the outer line's "in" side face the entrance zone."""
    if len(shape.line) == 2 and len(shape.points) >= 3:
        a, b = shape.line
        if not in_side(a, b, polygon_centroid(shape.points)):
            shape.line = [b, a]


def flip(shape: Shape) -> None:
    if shape.kind == "line" and len(shape.points) == 2:
        shape.points = [shape.points[1], shape.points[0]]
    elif shape.kind == "entrance" and len(shape.line) == 2:
        shape.line = [shape.line[1], shape.line[0]]


def shapes_from_config(cfg: AppConfig, camera: str) -> list[Shape]:
    zones = {z.name: z for z in cfg.zones_of(camera)}
    lines = {ln.name: ln for ln in cfg.lines_of(camera)}
    shapes: list[Shape] = []
    for e in cfg.entrances:
        if e.line in lines and e.zone in zones:
            ln, z = lines.pop(e.line), zones.pop(e.zone)
            shapes.append(
                Shape(
                    e.name,
                    "entrance",
                    list(z.polygon),
                    [ln.start, ln.end],
                    z.capacity,
                    ln.name,
                    z.name,
                    in_store=z.in_store,
                )
            )
    for z in zones.values():
        shapes.append(
            Shape(z.name, z.kind, list(z.polygon), capacity=z.capacity, in_store=z.in_store)
        )
    for ln in lines.values():
        shapes.append(Shape(ln.name, "line", [ln.start, ln.end], door=ln.door))
    cam = next((c for c in cfg.cameras if c.name == camera), None)
    for m in cam.ignore_masks if cam is not None else []:
        shapes.append(Shape(m.name, "mask", list(m.polygon)))
    return shapes


def mask_around(box: tuple[float, float, float, float], name: str, size: tuple[int, int]) -> Shape:
    """An ignore mask around a detection's box (x0, y0, x1, y1), with a margin so that
    the detector's jitter stays inside, kept within the picture (width, height)."""
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * MASK_MARGIN, (y1 - y0) * MASK_MARGIN
    w, h = size
    a = (round(max(x0 - mx, 0.0), 1), round(max(y0 - my, 0.0), 1))
    b = (round(min(x1 + mx, float(w)), 1), round(min(y1 + my, float(h)), 1))
    return Shape(name, "mask", [a, (b[0], a[1]), b, (a[0], b[1])])


def person_size(cfg: AppConfig, camera: str) -> tuple[float, float]:
    """The camera's (smallest, largest) person box, in fractions of the frame height."""
    cam = next((c for c in cfg.cameras if c.name == camera), None)
    if cam is None:
        return 0.0, 1.0
    return cam.min_person_height, cam.max_person_height


def unique_name(base: str, taken: set[str]) -> str:
    i = 1
    while f"{base} {i}" in taken:
        i += 1
    return f"{base} {i}"


def _shape_advice(s: Shape) -> str:
    """What to do about a drawn zone that is not a usable polygon, in the editor's words."""
    if has_no_area(s.points):
        return f"“{s.name}” has no area: its corners are on one line. Drag a corner away."
    return f"“{s.name}”'s outline crosses itself: drag a corner so that no two edges cross."


def _add_shapes(
    camera: str,
    shapes: list[Shape],
    zones: list[ZoneConfig],
    lines: list[LineConfig],
    entrances: list[EntranceConfig],
) -> None:
    """Append the settings of the drawn shapes (raises pydantic's ValidationError)."""
    for s in shapes:
        if s.kind in ("zone", "queue"):
            zones.append(
                ZoneConfig(
                    name=s.name,
                    camera=camera,
                    polygon=s.points,
                    kind=s.kind,
                    capacity=s.capacity,
                    in_store=s.in_store,
                )
            )
        elif s.kind == "line":
            lines.append(
                LineConfig(
                    name=s.name, camera=camera, start=s.points[0], end=s.points[1], door=s.door
                )
            )
        else:
            zname = s.zone_name or s.name
            lname = s.line_name or f"{s.name} (street side)"
            zones.append(
                ZoneConfig(
                    name=zname,
                    camera=camera,
                    polygon=s.points,
                    capacity=s.capacity,
                    in_store=s.in_store,
                )
            )
            lines.append(LineConfig(name=lname, camera=camera, start=s.line[0], end=s.line[1]))
            entrances.append(EntranceConfig(name=s.name, line=lname, zone=zname))


def apply_shapes(
    cfg: AppConfig,
    camera: str,
    shapes: list[Shape],
    size: tuple[float, float] | None = None,
) -> AppConfig:
    """A new config with `camera`'s shapes replaced (and its person size range, if
    given); ValueError with a readable reason."""
    for s in shapes:
        if not s.name.strip():
            raise ValueError("every shape needs a name")
        if not s.complete():
            raise ValueError(f"“{s.name}” is not finished: place all its points first")
        if s.kind != "line" and polygon_problem(s.points) is not None:
            raise ValueError(_shape_advice(s))
    own_lines = {ln.name for ln in cfg.lines_of(camera)}
    zones = [z for z in cfg.zones if z.camera != camera]
    lines = [ln for ln in cfg.lines if ln.camera != camera]
    entrances = [e for e in cfg.entrances if e.line not in own_lines]
    try:  # e.g. a drawn zone whose edges cross: one readable line
        _add_shapes(camera, [s for s in shapes if s.kind != "mask"], zones, lines, entrances)
        masks = [IgnoreMask(name=s.name, polygon=s.points) for s in shapes if s.kind == "mask"]
        data = cfg.model_dump()
        data.update(
            zones=[z.model_dump() for z in zones],
            lines=[ln.model_dump() for ln in lines],
            entrances=[e.model_dump() for e in entrances],
        )
        for cam in data["cameras"]:
            if cam["name"] == camera:
                cam["ignore_masks"] = [m.model_dump() for m in masks]
                if size is not None:
                    cam["min_person_height"], cam["max_person_height"] = size
        return AppConfig.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        raise ValueError(e["msg"].removeprefix("Value error, ")) from None


def _crosses(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether segments p1-p2 and q1-q2 cross or touch."""

    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return (d1 * d2 <= 0) and (d3 * d4 <= 0) and (d1, d2, d3, d4) != (0, 0, 0, 0)


def _inside(p: Point, poly: list[Point]) -> bool:
    """Ray casting: whether `p` is inside the polygon."""
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (y1 > p[1]) != (y2 > p[1]) and p[0] < x1 + (p[1] - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def masks_over_lines(shapes: list[Shape]) -> list[tuple[str, str]]:
    """(mask, line) pairs where an ignore mask covers part of a counting line (or an
    entrance's outer line): people crossing there have their feet in the mask and are
    not counted, which is seldom what was meant."""
    lines = [(s.name, s.points) for s in shapes if s.kind == "line" and len(s.points) == 2]
    lines += [
        (s.line_name or s.name, s.line) for s in shapes if s.kind == "entrance" and len(s.line) == 2
    ]
    found = []
    for m in (s for s in shapes if s.kind == "mask" and len(s.points) >= 3):
        edges = list(zip(m.points, m.points[1:] + m.points[:1], strict=True))
        for name, (a, b) in lines:
            if (
                _inside(a, m.points)
                or _inside(b, m.points)
                or any(_crosses(a, b, e1, e2) for e1, e2 in edges)
            ):
                found.append((m.name, name))
    return found
