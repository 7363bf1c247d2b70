"""Painting helpers shared by the camera tile and the zone editor's canvas: fitting a
picture in a rectangle, a line's "in" side, arrows, label pills that never cover one
another, and the heatmap accumulator."""

from __future__ import annotations

import math
import time
from datetime import datetime

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

from app.vision.heat_render import heat_layer

HEAT_CELL = 16  # heatmap cell size in source pixels


def fit_rect(img_w: int, img_h: int, area: QRectF) -> QRectF:
    """The largest rectangle with the image's aspect ratio centred in `area`."""
    if img_w <= 0 or img_h <= 0:
        return QRectF(area)
    s = min(area.width() / img_w, area.height() / img_h)
    w, h = img_w * s, img_h * s
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


def in_normal(start: tuple[float, float], end: tuple[float, float]) -> tuple[float, float]:
    """Unit vector pointing to a line's "in" side (cross(end-start, p-start) < 0)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    n = math.hypot(dx, dy) or 1.0
    return dy / n, -dx / n


class HeatAccumulator:
    """Where people stood, on a coarse grid of the source frame; decays slowly."""

    def __init__(self) -> None:
        self.grid: np.ndarray | None = None
        self.version = 0

    def add(self, boxes: np.ndarray, shape: tuple[int, int]) -> None:
        h, w = shape
        gh, gw = max(1, h // HEAT_CELL), max(1, w // HEAT_CELL)
        if self.grid is None or self.grid.shape != (gh, gw):
            self.grid = np.zeros((gh, gw), np.float32)
        self.grid *= 0.998
        if len(boxes):
            xs = ((boxes[:, 0] + boxes[:, 2]) / 2 / HEAT_CELL).astype(int).clip(0, gw - 1)
            ys = (boxes[:, 3] / HEAT_CELL).astype(int).clip(0, gh - 1)
            np.add.at(self.grid, (ys, xs), 1.0)
        self.version += 1

    def image(self, external: np.ndarray | None = None, peak: float | None = None) -> QImage | None:
        grid = external if external is not None else self.grid
        return heat_image(grid, peak) if grid is not None else None


def heat_image(grid: np.ndarray, peak: float | None = None) -> QImage | None:
    """A grid of presence as a translucent colour picture (the grid's size), in the
    colours of every heatmap in the app (app.vision.heat_render.heat_layer)."""
    layer = heat_layer(grid, peak)
    if layer is None:
        return None
    bgr, alpha = layer
    bgra = np.ascontiguousarray(np.dstack([bgr, (alpha * 255).round().astype(np.uint8)]))
    h, w = bgr.shape[:2]
    return QImage(bgra.data, w, h, bgra.strides[0], QImage.Format.Format_ARGB32).copy()


def heat_window_text(since: float | None, now: float | None = None) -> str:
    """What the heatmap covers, in words: "since 09:12" today, else with the day."""
    if since is None:
        return "since the camera started"
    now = time.time() if now is None else now
    at = datetime.fromtimestamp(since)
    if at.date() == datetime.fromtimestamp(now).date():
        return f"since {at:%H:%M} today"
    return f"since {at:%a %d %b %H:%M}"


_LEGEND: QImage | None = None


def _legend_gradient() -> QImage:
    """The heatmap's colours from few to many seconds of presence, 128 x 1 pixels."""
    global _LEGEND
    if _LEGEND is None:
        ramp = np.linspace(0, 255, 128, dtype=np.uint8).reshape(1, -1)
        bgr = np.ascontiguousarray(cv2.applyColorMap(ramp, cv2.COLORMAP_TURBO))
        _LEGEND = QImage(bgr.data, 128, 1, bgr.strides[0], QImage.Format.Format_BGR888).copy()
    return _LEGEND


def draw_heat_legend(p: QPainter, target: QRectF, window: str, font: QFont) -> QRectF:
    """The heatmap's key in the picture's bottom-left corner: its colours from "less" to
    "more" time spent, and the window it covers; returns where it was drawn."""
    p.save()
    p.setFont(font)
    fm = p.fontMetrics()
    pad, bar_w, bar_h = 6.0, 90.0, 8.0
    title = f"Time spent here, {window}"
    # (with a little slack: the drawn text can run a few pixels past its advance)
    title_w = fm.horizontalAdvance(title) + fm.horizontalAdvance("  ")
    w = max(title_w, bar_w + fm.horizontalAdvance("less  more") + 8) + 2 * pad
    h = fm.height() * 2 + 2 + 2 * pad
    # above the tile's bottom strip (its rates), at the picture's left
    box = QRectF(target.left() + 8, target.bottom() - h - fm.height() - 18, w, h)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(15, 23, 42, 190))
    p.drawRoundedRect(box, 6, 6)
    p.setPen(QColor("#f8fafc"))
    p.drawText(QPointF(box.left() + pad, box.top() + pad + fm.ascent()), title)
    y = box.top() + pad + fm.height() + 2
    less_w = fm.horizontalAdvance("less ")
    p.drawText(QPointF(box.left() + pad, y + fm.ascent()), "less")
    bar = QRectF(box.left() + pad + less_w, y + (fm.height() - bar_h) / 2, bar_w, bar_h)
    p.drawImage(bar, _legend_gradient())
    p.drawText(QPointF(bar.right() + 4, y + fm.ascent()), "more")
    p.restore()
    return box


def draw_pill(p: QPainter, rect: QRectF, text: str, bg: QColor, fg: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(bg)
    p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    p.setPen(fg)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


class Labels:
    """A picture's zone and line labels: placed as they come so that none covers another
    (a label moves down past those it would cover), drawn last, over the people's boxes,
    so that a person's id tag never hides a zone's count."""

    def __init__(self) -> None:
        self.placed: list[tuple[QRectF, str, QColor, QColor, QFont]] = []

    def place(self, rect: QRectF, text: str, bg: QColor, fg: QColor, font: QFont) -> None:
        for _ in range(len(self.placed)):
            hit = next((r for r, *_ in self.placed if r.intersects(rect)), None)
            if hit is None:
                break
            rect.moveTop(hit.bottom() + 2)
        self.placed.append((rect, text, bg, fg, font))

    def draw(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for rect, text, bg, fg, font in self.placed:
            p.setFont(font)
            draw_pill(p, rect, text, bg, fg)


def draw_arrow(p: QPainter, a: QPointF, b: QPointF, color: QColor) -> None:
    """An arrow from a to b with a filled head."""
    p.setPen(QPen(color, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(a, b)
    ang = math.atan2(b.y() - a.y(), b.x() - a.x())
    head = QPolygonF(
        [
            b + QPointF(math.cos(ang) * 4, math.sin(ang) * 4),
            b - QPointF(math.cos(ang - 0.5) * 10, math.sin(ang - 0.5) * 10),
            b - QPointF(math.cos(ang + 0.5) * 10, math.sin(ang + 0.5) * 10),
        ]
    )
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawPolygon(head)
