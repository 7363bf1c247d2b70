"""The drawing surface of the zone editor: a camera snapshot with shapes on top.

Click to place vertices; click the first vertex (or double-click, or press Enter) to
close a polygon; a counting line takes two clicks; an entrance takes its two outer-line
points then its zone. Drag any vertex to move it. Coordinates are kept in source-image
pixels, whatever the widget's size. Ignore masks are drawn grey and hatched; objects the
engine found not moving are drawn as grey dashed boxes; the person size guides show the
smallest and largest person box counted, standing where the mouse is.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QWidget

from app.ui import style
from app.ui.tile_paint import draw_arrow, fit_rect, in_normal
from app.ui.zone_model import Point, Shape, orient_entrance

HANDLE_PX = 9.0
MASK_COLOR = QColor("#9ca3af")
STILL_COLOR = QColor("#d1d5db")
PERSON_ASPECT = 0.4  # width / height of the guide figures


class ShapeCanvas(QWidget):
    changed = Signal()  # geometry changed
    selection_changed = Signal(int)
    drawing_finished = Signal(int)  # index of the new shape
    drawing_cancelled = Signal()
    drawing_incomplete = Signal(str)  # Enter on a shape that cannot be closed yet: why

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 320)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image: np.ndarray | None = None
        self._qimg: QImage | None = None
        self.img_size = (640, 360)
        self.shapes: list[Shape] = []
        self.selected = -1
        self.drawing: Shape | None = None
        self._drag: tuple[int, str, int] | None = None
        self._hover: Point | None = None
        self.message = ""
        # objects not moving (x0, y0, x1, y1), from the engine; drawn as hints
        self.still_boxes: list[tuple[float, float, float, float]] = []
        # (smallest, largest) person height in fractions of the picture height, drawn
        # at the mouse (or the picture's centre) when set
        self.size_guides: tuple[float, float] | None = None

    # --- data -------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        if image is not None:
            h, w = image.shape[:2]
            self.img_size = (w, h)
            buf = np.ascontiguousarray(image)
            self._qimg = QImage(buf.data, w, h, buf.strides[0], QImage.Format.Format_BGR888).copy()
        self.update()

    def set_shapes(self, shapes: list[Shape]) -> None:
        self.shapes = shapes
        self.selected = -1 if not shapes else min(self.selected, len(shapes) - 1)
        self.update()

    def select(self, index: int) -> None:
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit(index)
            self.update()

    def start_drawing(self, shape: Shape) -> None:
        self.drawing = shape
        self.setFocus()
        self.update()

    def cancel_drawing(self) -> None:
        if self.drawing is None:
            return
        self.drawing = None
        self.update()
        self.drawing_cancelled.emit()

    # --- coordinates ------------------------------------------------------------
    def image_rect(self) -> QRectF:
        return fit_rect(
            self.img_size[0], self.img_size[1], QRectF(self.rect()).adjusted(4, 4, -4, -4)
        )

    def name_at(self, top: QPointF, width: float) -> QPointF:
        """Where a shape's name goes: just above its highest point, kept inside the
        picture (a zone drawn to the picture's edge would have its name cut off)."""
        r = self.image_rect()
        x = max(r.left() + 4, min(top.x() + 4, r.right() - width - 4))
        y = max(r.top() + 14, top.y() - 8)
        return QPointF(x, y)

    def to_widget(self, p: Point) -> QPointF:
        r = self.image_rect()
        s = r.width() / self.img_size[0]
        return QPointF(r.x() + p[0] * s, r.y() + p[1] * s)

    def to_image(self, q: QPointF) -> Point:
        r = self.image_rect()
        s = r.width() / self.img_size[0]
        x = min(max((q.x() - r.x()) / s, 0.0), float(self.img_size[0]))
        y = min(max((q.y() - r.y()) / s, 0.0), float(self.img_size[1]))
        return round(x, 1), round(y, 1)

    def _vertices(self, shape: Shape) -> list[tuple[str, int, Point]]:
        out = [("points", i, p) for i, p in enumerate(shape.points)]
        return out + [("line", i, p) for i, p in enumerate(shape.line)]

    def hit_vertex(self, q: QPointF) -> tuple[int, str, int] | None:
        order = ([self.selected] if self.selected >= 0 else []) + list(range(len(self.shapes)))
        for si in order:
            for which, vi, p in self._vertices(self.shapes[si]):
                w = self.to_widget(p)
                if math.hypot(w.x() - q.x(), w.y() - q.y()) <= HANDLE_PX:
                    return si, which, vi
        return None

    def hit_shape(self, q: QPointF) -> int:
        for si in reversed(range(len(self.shapes))):
            s = self.shapes[si]
            if len(s.points) >= 3 and QPolygonF(
                [self.to_widget(p) for p in s.points]
            ).containsPoint(q, Qt.FillRule.OddEvenFill):
                return si
            for seg in ([s.points] if s.is_line else []) + ([s.line] if s.line else []):
                if (
                    len(seg) == 2
                    and _dist_to_segment(q, self.to_widget(seg[0]), self.to_widget(seg[1])) < 8
                ):
                    return si
        return -1

    # --- mouse and keys ---------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        q = event.position()
        if self.drawing is not None:
            self._add_point(q)
            return
        hit = self.hit_vertex(q)
        if hit is not None:
            self._drag = hit
            self.select(hit[0])
        else:
            self.select(self.hit_shape(q))

    def _add_point(self, q: QPointF) -> None:
        d = self.drawing
        assert d is not None
        p = self.to_image(q)
        if d.kind == "entrance" and len(d.line) < 2:
            d.line.append(p)
        elif d.kind == "line":
            d.points.append(p)
            if len(d.points) == 2:
                if d.points[0] == d.points[1]:
                    d.points.pop()
                else:
                    self.finish_drawing()
                    return
        else:
            if len(d.points) >= 3:
                first = self.to_widget(d.points[0])
                if math.hypot(first.x() - q.x(), first.y() - q.y()) <= HANDLE_PX * 1.5:
                    self.finish_drawing()
                    return
            d.points.append(p)
        self.update()

    def try_finish(self) -> None:
        """Enter: close the shape being drawn, or say what it still needs."""
        d = self.drawing
        if d is not None and not self.finish_drawing():
            self.drawing_incomplete.emit(d.missing())

    def finish_drawing(self) -> bool:
        d = self.drawing
        if d is None or not d.complete():
            return False
        if d.kind == "entrance":
            orient_entrance(d)
        self.drawing = None
        self.shapes.append(d)
        self.selected = len(self.shapes) - 1
        self.update()
        self.drawing_finished.emit(self.selected)
        self.changed.emit()
        return True

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        q = event.position()
        self._hover = self.to_image(q)
        if self._drag is not None:
            si, which, vi = self._drag
            getattr(self.shapes[si], which)[vi] = self._hover
        elif self.drawing is None:
            over = self.hit_vertex(q) is not None
            self.setCursor(Qt.CursorShape.SizeAllCursor if over else Qt.CursorShape.CrossCursor)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            si, which, vi = self._drag
            self._drag = None
            s = self.shapes[si]
            if s.kind == "line" and s.points[0] == s.points[1]:
                s.points[1] = (s.points[1][0] + 1, s.points[1][1])
            self.changed.emit()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        d = self.drawing
        if d is not None and d.kind != "line" and len(d.points) >= 3:
            self.finish_drawing()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.try_finish()
        elif event.key() == Qt.Key.Key_Escape and self.drawing is not None:
            self.cancel_drawing()
        else:
            super().keyPressEvent(event)

    # --- painting ---------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillRect(self.rect(), QColor(style.WALL_BG))
        r = self.image_rect()
        if self._qimg is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(r, self._qimg)
        else:
            p.fillRect(r, QColor(style.TILE_BG))
            p.setPen(QColor("#94a3b8"))
            p.drawText(
                r,
                Qt.AlignmentFlag.AlignCenter,
                self.message or "Waiting for a picture from the camera…",
            )
        self._paint_still(p)
        for i, s in enumerate(self.shapes):
            col = MASK_COLOR if s.kind == "mask" else style.shape_color(i)
            self._paint_shape(p, s, col, i == self.selected)
        if self.drawing is not None:
            self._paint_shape(p, self.drawing, QColor("#ffffff"), True, live=True)
        self._paint_size_guides(p)
        p.end()

    def _paint_still(self, p: QPainter) -> None:
        for x0, y0, x1, y1 in self.still_boxes:
            a, b = self.to_widget((x0, y0)), self.to_widget((x1, y1))
            p.setPen(QPen(STILL_COLOR, 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(a, b))
            p.drawText(QPointF(a.x(), b.y() + 14), "not moving")

    def _paint_size_guides(self, p: QPainter) -> None:
        if self.size_guides is None:
            return
        w, h = self.img_size
        foot = self._hover if self._hover is not None else (w / 2, h * 0.8)
        low, high = self.size_guides
        for frac, label in ((low, "smallest"), (high, "largest")):
            if frac <= 0.0 or frac >= 1.0:  # no limit: nothing to show
                continue
            ph = frac * h
            pw = ph * PERSON_ASPECT
            a = self.to_widget((foot[0] - pw / 2, foot[1] - ph))
            b = self.to_widget((foot[0] + pw / 2, foot[1]))
            p.setPen(QPen(QColor("#fbbf24"), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(a, b))
            text = f"{label} person"
            tw, th = p.fontMetrics().horizontalAdvance(text) + 8, p.fontMetrics().height() + 2
            r = self.image_rect()
            x = b.x() + 4 if label == "largest" else a.x() - tw - 4
            x = max(r.left() + 2, min(x, r.right() - tw - 2))
            tag = QRectF(x, max(r.top() + 2, b.y() - th if label == "smallest" else a.y()), tw, th)
            p.fillRect(tag, QColor(15, 23, 42, 200))
            p.setPen(QColor("#fbbf24"))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_shape(
        self, p: QPainter, s: Shape, col: QColor, selected: bool, live: bool = False
    ) -> None:
        pts = [self.to_widget(q) for q in s.points]
        if s.kind in ("zone", "queue", "entrance", "mask") and pts:
            poly = QPolygonF(
                pts
                + ([self.to_widget(self._hover)] if live and self._hover and s.line_ready() else [])
            )
            fill = QColor(col)
            fill.setAlpha(60)
            pen = QPen(col, 2.5 if selected else 2)
            if s.kind in ("queue", "mask"):
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            if s.kind == "mask":  # grey and hatched: nobody is counted here
                fill.setAlpha(150)
                p.setBrush(QBrush(fill, Qt.BrushStyle.BDiagPattern))
            else:
                p.setBrush(fill)
            if live:
                p.drawPolyline(poly)
            else:
                p.drawPolygon(poly)
        for seg in ([s.points] if s.is_line else []) + ([s.line] if s.kind == "entrance" else []):
            ends = [self.to_widget(q) for q in seg]
            if live and len(ends) == 1 and self._hover is not None:
                ends.append(self.to_widget(self._hover))
            if len(ends) == 2:
                inside = s.is_line and not s.door  # a line inside the store: dashed
                p.setPen(
                    QPen(
                        QColor(style.LINE_COLOR),
                        3.5,
                        Qt.PenStyle.DashLine if inside else Qt.PenStyle.SolidLine,
                        Qt.PenCapStyle.RoundCap,
                    )
                )
                p.drawLine(ends[0], ends[1])
                a, b = self.to_image(ends[0]), self.to_image(ends[1])
                if a != b:
                    nx, ny = in_normal(a, b)
                    mid = (ends[0] + ends[1]) / 2
                    tip = mid + QPointF(nx, ny) * 30
                    draw_arrow(p, mid, tip, QColor(style.IN_COLOR))
                    p.setPen(QColor(style.IN_COLOR))
                    p.drawText(tip + QPointF(nx * 6 - 6, ny * 6 + 4), "IN")
        if s.name and pts and not live:
            top = min(pts + [self.to_widget(q) for q in s.line], key=lambda q: q.y())
            p.setPen(QColor("white"))
            p.drawText(self.name_at(top, p.fontMetrics().horizontalAdvance(s.name)), s.name)
        if selected:
            for q in pts + [self.to_widget(v) for v in s.line]:
                p.setPen(QPen(QColor("#0b1120"), 1.5))
                p.setBrush(QColor("white"))
                p.drawEllipse(q, 5, 5)


def _dist_to_segment(q: QPointF, a: QPointF, b: QPointF) -> float:
    dx, dy = b.x() - a.x(), b.y() - a.y()
    d2 = dx * dx + dy * dy or 1.0
    k = max(0.0, min(1.0, ((q.x() - a.x()) * dx + (q.y() - a.y()) * dy) / d2))
    return math.hypot(q.x() - (a.x() + k * dx), q.y() - (a.y() + k * dy))
