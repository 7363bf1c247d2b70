"""Drawing overlays on frames: boxes with track ids, zones, lines, counts, heatmap.

numpy + cv2 only, so both the headless `analyze --annotate` and the desktop UI use it.
Every function draws on a copy unless told `inplace=True`; shapes are duck-typed (any
object with `name` + `polygon`, or `name` + `start` + `end`), so config objects and UI
view objects both work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import cv2
import numpy as np

from app.vision.detections import Detections

BGR = tuple[int, int, int]
ZONE_COLOR: BGR = (255, 170, 0)
QUEUE_COLOR: BGR = (0, 200, 255)
LINE_COLOR: BGR = (60, 60, 255)
TEXT_COLOR: BGR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


class ZoneShape(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def polygon(self) -> Sequence[Sequence[float]]: ...


class LineShape(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def start(self) -> Sequence[float]: ...
    @property
    def end(self) -> Sequence[float]: ...


def track_color(track_id: int) -> BGR:
    """A stable, well-spread colour per track id (golden-ratio hue steps)."""
    if track_id < 0:
        return (180, 180, 180)
    hue = int((track_id * 0.618033988749895 % 1.0) * 180)
    hsv = np.array([[[hue, 200, 255]]], np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def _label(
    img: np.ndarray, text: str, org: tuple[int, int], color: BGR, scale: float = 0.45
) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x, y = org
    y = max(th + base, y)
    cv2.rectangle(img, (x, y - th - base), (x + tw + 2, y + 1), color, -1)
    cv2.putText(img, text, (x + 1, y - base + 1), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def _pt(p: Sequence[float] | np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def draw_tracks(img: np.ndarray, dets: Detections, inplace: bool = False) -> np.ndarray:
    """Boxes, track ids and the bottom-centre point used for zones and lines."""
    out = img if inplace else img.copy()
    for box, tid in zip(dets.xyxy.tolist(), dets.tracker_id.tolist(), strict=True):
        color = track_color(int(tid))
        x1, y1, x2, y2 = (round(v) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2)
        cv2.circle(out, ((x1 + x2) // 2, y2), 3, color, -1)
        if tid >= 0:
            _label(out, str(int(tid)), (x1, y1), color)
    return out


def draw_zones(
    img: np.ndarray,
    zones: Iterable[ZoneShape],
    occupancy: Mapping[str, int] | None = None,
    inplace: bool = False,
) -> np.ndarray:
    """Zone outlines with a light fill, the name and the current occupancy."""
    out = img if inplace else img.copy()
    fill = out.copy()
    for z in zones:
        pts = np.asarray([_pt(p) for p in z.polygon], np.int32)
        color = QUEUE_COLOR if getattr(z, "kind", "zone") == "queue" else ZONE_COLOR
        cv2.fillPoly(fill, [pts], color)
        cv2.polylines(out, [pts], True, color, 2, cv2.LINE_AA)
        text = z.name if occupancy is None else f"{z.name}: {occupancy.get(z.name, 0)}"
        _label(out, text, (int(pts[:, 0].min()) + 2, int(pts[:, 1].min()) + 16), color)
    cv2.addWeighted(fill, 0.15, out, 0.85, 0, dst=out)
    return out


def draw_lines(
    img: np.ndarray,
    lines: Iterable[LineShape],
    counts: Mapping[str, Mapping[str, int]] | None = None,
    inplace: bool = False,
) -> np.ndarray:
    """Line segments with an arrow towards the "in" side and in/out counts."""
    out = img if inplace else img.copy()
    for ln in lines:
        a, b = np.asarray(ln.start, np.float64), np.asarray(ln.end, np.float64)
        cv2.line(out, _pt(a), _pt(b), LINE_COLOR, 2, cv2.LINE_AA)
        mid = (a + b) / 2
        d = b - a
        normal = np.array([d[1], -d[0]]) / max(float(np.hypot(*d)), 1e-9)  # "in" side
        cv2.arrowedLine(out, _pt(mid), _pt(mid + normal * 18), LINE_COLOR, 2, tipLength=0.35)
        c = (counts or {}).get(ln.name)
        text = ln.name if c is None else f"{ln.name} in {c.get('in', 0)} out {c.get('out', 0)}"
        _label(out, text, _pt(mid + normal * 22), LINE_COLOR)
    return out


def draw_heatmap(
    img: np.ndarray, grid: np.ndarray, alpha: float = 0.45, inplace: bool = False
) -> np.ndarray:
    """Blend a 0..1 grid (any resolution) over the frame as a colour map."""
    out = img if inplace else img.copy()
    if grid.size == 0 or float(grid.max()) <= 0:
        return out
    g = np.clip(grid / float(grid.max()), 0, 1)
    heat = cv2.resize((g * 255).astype(np.uint8), (out.shape[1], out.shape[0]))
    colored = cv2.applyColorMap(heat, cv2.COLORMAP_JET)
    mask = heat > 8
    blended = cv2.addWeighted(colored, alpha, out, 1 - alpha, 0)
    out[mask] = blended[mask]
    return out


def draw_text_block(img: np.ndarray, lines: Sequence[str], inplace: bool = False) -> np.ndarray:
    """A few lines of white status text on a dark band in the bottom-left corner (zone
    labels sit at the top of their zones, often near the top of the picture)."""
    out = img if inplace else img.copy()
    for i, text in enumerate(lines):
        (tw, th), base = cv2.getTextSize(text, FONT, 0.5, 1)
        y = out.shape[0] - 8 - 18 * (len(lines) - 1 - i)
        cv2.rectangle(out, (2, y - th - 4), (10 + tw, y + base), (0, 0, 0), -1)
        cv2.putText(out, text, (6, y), FONT, 0.5, TEXT_COLOR, 1, cv2.LINE_AA)
    return out


def annotate(
    img: np.ndarray,
    dets: Detections,
    zones: Iterable[ZoneShape] = (),
    lines: Iterable[LineShape] = (),
    occupancy: Mapping[str, int] | None = None,
    counts: Mapping[str, Mapping[str, int]] | None = None,
    info: Sequence[str] = (),
) -> np.ndarray:
    """Everything at once, on a copy: zones, lines with counts, tracks, status text."""
    out = draw_zones(img, zones, occupancy)
    draw_lines(out, lines, counts, inplace=True)
    draw_tracks(out, dets, inplace=True)
    if info:
        draw_text_block(out, info, inplace=True)
    return out
