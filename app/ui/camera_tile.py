"""One live camera tile: the newest frame, scaled once per new frame, plus overlays
painted with QPainter (person boxes with track ids, zones with occupancy, counting
lines with in/out counts and direction arrows, an optional heatmap), a status badge
and the camera's rates. Painting is cheap: one cv2.resize (GIL released) and a few
vector shapes; no decoding or detection ever happens here."""

from __future__ import annotations

import time

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QImage,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QMenu, QWidget

from app.events import CAMERA_DOWN
from app.ui import style
from app.ui.tile_model import BoxMotion, LineView, TileView, ZoneView
from app.ui.tile_paint import (
    HeatAccumulator,
    Labels,
    draw_arrow,
    draw_heat_legend,
    draw_pill,
    fit_rect,
    heat_image,
    heat_window_text,
    in_normal,
)
from app.vision.heat_hours import HALF_LIFE_S

DOWN = (*CAMERA_DOWN, "reconnecting")
HEAT_MODES = {  # the heatmap's two views, as the tile's menu names them
    "since": "Heatmap: time spent today",
    "recent": "Heatmap: recent presence (fades in minutes)",
}
STAFF_COLOUR = QColor("#cbd5e1")  # staff are drawn but not counted  # the last picture is old news


class CameraTile(QWidget):
    double_clicked = Signal(str)
    edit_camera = Signal(str)
    edit_zones = Signal(str)
    remove_camera = Signal(str)

    def __init__(self, camera: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera = camera
        self.setMinimumSize(160, 110)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._view = TileView(camera)
        self._img: QImage | None = None
        self._img_key: tuple[int, int, int, int] | None = None
        self._heat = HeatAccumulator()
        self._motion = BoxMotion()
        self._heat_img: QImage | None = None
        self._heat_version = -1
        self._last_analysed = -1
        self.show_heatmap = False
        self.heat_mode = "since"  # "since": time spent today; "recent": fades in minutes
        self.heat_legend: QRectF | None = None  # where the heatmap's key was last drawn
        self.focused = False
        self.smooth = True  # smooth scaling (the wall turns it off with many tiles)
        self._chrome: QPixmap | None = None
        self._chrome_key: tuple[object, ...] | None = None
        self._stats = ""
        self._stats_at = 0.0
        self._detector_ms = 0.0  # the last analysed frame that ran the detector
        self.frames_shown = 0  # distinct frames painted: the tile's display rate
        self.paint_ms_max = 0.0

    # --- data -----------------------------------------------------------------------
    @property
    def view(self) -> TileView:
        return self._view

    def set_view(self, view: TileView) -> None:
        old = self._view
        self._view = view
        if view.image is not None and view.analysed_index != self._last_analysed:
            self._last_analysed = view.analysed_index  # once per analysed frame
            self._heat.add(view.boxes, view.image.shape[:2])
            self._motion.observe(view.analysed_index, view.boxes, view.track_ids)
        changed = (
            view.image is not old.image
            or view.frame_index != old.frame_index
            or view.status != old.status
            or view.zones != old.zones
            or view.lines != old.lines
            or view.analysed_index != old.analysed_index
        )
        if changed:
            self.update()

    def set_heatmap(self, on: bool) -> None:
        self.show_heatmap = on
        self.update()

    def set_heat_mode(self, mode: str) -> None:
        """The heatmap's view: "since", the time spent since the window's start (today),
        or "recent", presence that fades (halves every few minutes), the last minutes
        brightest."""
        if mode not in HEAT_MODES:
            raise ValueError(f"unknown heatmap mode {mode!r}")
        self.heat_mode = mode
        self._heat_img = None
        self.update()

    # --- painting ---------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRectF(self.rect())
        p.fillRect(r, QColor(style.TILE_BG))
        v = self._view
        if v.image is not None and v.status in DOWN:
            # the last picture, dimmed and without its people: they are not known now
            target = fit_rect(v.image.shape[1], v.image.shape[0], r)
            self._paint_frame(p, v, target)
            p.fillRect(target, QColor(15, 23, 42, 200))
            self._paint_placeholder(p, r, v)
        elif v.image is not None:
            h, w = v.image.shape[:2]
            target = fit_rect(w, h, r)
            self._paint_frame(p, v, target)
            s = target.width() / w
            if self.show_heatmap:
                self._paint_heat(p, v, target)
            labels = Labels()
            self._paint_zones(p, v.zones, target, s, labels)
            self._paint_lines(p, v.lines, target, s, labels)
            self._paint_boxes(p, v, target.topLeft(), s)
            labels.draw(p)
        else:
            self._paint_placeholder(p, r, v)
        self._paint_chrome(p, r, v)
        p.end()
        self.paint_ms_max = max(self.paint_ms_max, (time.perf_counter() - t0) * 1000)

    def _paint_frame(self, p: QPainter, v: TileView, target: QRectF) -> None:
        assert v.image is not None
        tw, th = max(1, int(target.width())), max(1, int(target.height()))
        key = (v.frame_index, id(v.image), tw, th)
        if key != self._img_key:
            img = v.image
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            # Scaled and converted by Qt, which keeps the GIL: no hand-over to engine
            # threads in the middle of a paint (each one can cost a scheduler slice).
            # RGB32 makes the blit into the window a plain copy. Smooth scaling when
            # few tiles are shown, nearest-pixel on a full wall.
            src = np.ascontiguousarray(img)
            h, w = src.shape[:2]
            q = QImage(src.data, w, h, src.strides[0], QImage.Format.Format_BGR888)
            mode = (
                Qt.TransformationMode.SmoothTransformation
                if self.smooth
                else Qt.TransformationMode.FastTransformation
            )
            self._img = q.scaled(
                tw, th, Qt.AspectRatioMode.IgnoreAspectRatio, mode
            ).convertToFormat(QImage.Format.Format_RGB32)
            if key[:2] != (self._img_key or (None, None))[:2]:
                self.frames_shown += 1
            self._img_key = key
        if self._img is not None:
            p.drawImage(QPointF(target.x(), target.y()), self._img)

    def _paint_heat(self, p: QPainter, v: TileView, target: QRectF) -> None:
        # the engine's own heatmap when it has one, else the tile's; redrawn every few
        # analysed frames only (the picture changes slowly)
        recent = self.heat_mode == "recent"
        if self._heat.version - self._heat_version > 5 or self._heat_img is None:
            if recent:  # 0..1 already, not re-scaled: it fades as people leave
                grid = v.heatmap_recent
                self._heat_img = heat_image(grid, peak=1.0) if grid is not None else None
            else:
                self._heat_img = self._heat.image(v.heatmap)
            self._heat_version = self._heat.version
        if self._heat_img is not None:
            p.save()
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(target, self._heat_img)
            p.restore()
        if self._heat_img is not None or recent:
            if recent:
                every = HALF_LIFE_S
                half = f"{every / 60:.0f} min" if every >= 60 else f"{every:.0f} s"
                window = f"lately (halves every {half})"
            else:
                window = heat_window_text(v.heatmap_since if v.heatmap is not None else None)
            self.heat_legend = draw_heat_legend(p, target, window, self._font(scale=0.85))

    def _font(self, bold: bool = False, scale: float = 1.0) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(max(10, min(14, int(self.height() / 26 * scale))))
        f.setBold(bold)
        return f

    def _pill(
        self,
        p: QPainter,
        x: float,
        y: float,
        text: str,
        bg: QColor,
        fg: QColor,
        within: QRectF | None = None,
        labels: Labels | None = None,
    ) -> QRectF:
        """A rounded label at (x, y), moved inside `within` (the picture) when it would
        stick out of it: a zone's corner or a line's middle may be at the edge. With
        `labels` (the picture's zone and line labels), moved down past any placed so far
        it would cover, and drawn with them later (`Labels.draw`)."""
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 12, fm.height() + 4
        if within is not None:
            x = max(within.left() + 2, min(x, within.right() - w - 2))
            y = max(within.top() + 2, min(y, within.bottom() - h - 2))
        rect = QRectF(x, y, w, h)
        if labels is None:
            draw_pill(p, rect, text, bg, fg)
        else:
            labels.place(rect, text, bg, fg, p.font())
        return rect

    def _paint_zones(
        self, p: QPainter, zones: list[ZoneView], target: QRectF, s: float, labels: Labels
    ) -> None:
        p.setFont(self._font(bold=True))
        o = target.topLeft()
        for i, z in enumerate(zones):
            col = style.shape_color(i)
            poly = QPolygonF([QPointF(o.x() + x * s, o.y() + y * s) for x, y in z.polygon])
            over = z.capacity is not None and (z.occupancy or 0) > z.capacity
            fill = QColor(style.BAD if over else col)
            fill.setAlpha(55 if not over else 80)
            pen = QPen(QColor(style.BAD) if over else col, 2)
            if z.kind == "queue":
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(fill)
            p.drawPolygon(poly)
            occ = "" if z.occupancy is None else f"  {z.occupancy}"
            if z.capacity is not None and z.occupancy is not None:
                occ += f"/{z.capacity}"
            label = ("Queue · " if z.kind == "queue" else "") + z.name + occ
            top = min((poly.at(k) for k in range(poly.size())), key=lambda q: (q.y(), q.x()))
            bg = QColor(style.BAD if over else col)
            bg.setAlpha(230)
            y = top.y() - p.fontMetrics().height() - 6
            self._pill(p, top.x(), y, label, bg, QColor("#0b1120"), target, labels)

    def _paint_lines(
        self, p: QPainter, lines: list[LineView], target: QRectF, s: float, labels: Labels
    ) -> None:
        p.setFont(self._font(bold=True))
        o = target.topLeft()
        for ln in lines:
            a = QPointF(o.x() + ln.start[0] * s, o.y() + ln.start[1] * s)
            b = QPointF(o.x() + ln.end[0] * s, o.y() + ln.end[1] * s)
            p.setPen(QPen(QColor(0, 0, 0, 120), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(a, b)
            # a line inside the store (not a door: no footfall) is dashed
            dash = Qt.PenStyle.SolidLine if ln.door else Qt.PenStyle.DashLine
            p.setPen(QPen(QColor(style.LINE_COLOR), 3, dash, Qt.PenCapStyle.RoundCap))
            p.drawLine(a, b)
            nx, ny = in_normal(ln.start, ln.end)
            mid = (a + b) / 2
            draw_arrow(
                p, mid - QPointF(nx, ny) * 6, mid + QPointF(nx, ny) * 22, QColor(style.IN_COLOR)
            )
            text = ln.name
            if ln.count_in is not None:
                text += f"   in {ln.count_in}  ·  out {ln.count_out}"
            bg, fg = QColor(15, 23, 42, 215), QColor("#fde68a")
            self._pill(p, mid.x() + 8, mid.y() + 8, text, bg, fg, target, labels)

    def _paint_boxes(self, p: QPainter, v: TileView, o: QPointF, s: float) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setFont(self._font(bold=True, scale=0.9))
        fm = p.fontMetrics()
        ink = QColor("#0b1120")
        grey = QColor("#e5e7eb")
        # people a zone still counts whom the last analysed frame missed: dashed, where
        # they were last seen, so that a zone's count matches the people drawn in it
        for box, tid in zip(v.held_boxes.tolist(), v.held_ids.tolist(), strict=False):
            x1, y1, x2, y2 = box
            rect = QRectF(o.x() + x1 * s, o.y() + y1 * s, (x2 - x1) * s, (y2 - y1) * s)
            p.setPen(QPen(style.track_color(tid), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
        # objects that have not moved for a long time (a sign, a mannequin): ignored
        for x1, y1, x2, y2 in v.still_boxes.tolist():
            rect = QRectF(o.x() + x1 * s, o.y() + y1 * s, (x2 - x1) * s, (y2 - y1) * s)
            p.setPen(QPen(grey, 1.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            text = "ignored: not moving"
            tag = QRectF(rect.x(), rect.bottom() + 2, fm.horizontalAdvance(text) + 8, fm.height())
            p.fillRect(tag, QColor(15, 23, 42, 190))
            p.setPen(grey)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
        boxes = self._motion.at(v)  # where the people are in the frame on screen
        for box, tid in zip(boxes.tolist(), v.track_ids.tolist(), strict=False):
            x1, y1, x2, y2 = box
            rect = QRectF(o.x() + x1 * s, o.y() + y1 * s, (x2 - x1) * s, (y2 - y1) * s)
            label = v.tags.get(tid, "")
            col = style.track_color(tid) if tid >= 0 else grey
            if label == "staff":  # shown, not counted: a neutral colour
                col = STAFF_COLOUR
            p.setPen(QPen(col, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)  # axis-aligned: no antialiasing needed, cheap
            if tid >= 0:
                text = f"#{tid} {label}" if label else f"#{tid}"
                w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
                tag = QRectF(rect.x() - 1, rect.y() - h, w, h)
                p.fillRect(tag, col)
                p.setPen(ink)
                p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_placeholder(self, p: QPainter, r: QRectF, v: TileView) -> None:
        p.setPen(QColor("#94a3b8"))
        p.setFont(self._font(bold=False, scale=1.1))
        msg = {
            "offline": "Camera offline — retrying",
            "auth_failed": "The camera refused the user name or password",
            "reconnecting": "Reconnecting…",
            "stalled": "No frames — reconnecting…",
            "ended": "The video has ended",
            "stopped": "Stopped",
        }.get(v.status, "Connecting to camera…")
        if v.status == "offline" and "next try in" in v.message:
            msg = "Camera offline"  # the message says when it is tried again
        if v.message and v.status in ("offline", "auth_failed"):
            msg += f"\n{v.message}"
        p.drawText(
            r.adjusted(12, 12, -12, -12),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            msg,
        )

    def _stats_text(self, v: TileView) -> str:
        """The rates line, refreshed at most once a second (cheap to cache, calm to read)."""
        if v.status in DOWN:  # the last connection's rates say nothing now
            return "no pictures from the camera"
        if v.detector_ms > 0:  # 0: the motion gate skipped that frame's detection
            self._detector_ms = v.detector_ms
        now = time.monotonic()
        if now - self._stats_at >= 1.0 or not self._stats:
            self._stats_at = now
            self._stats = f"{v.source_fps:.1f} fps   ·   analysed {v.analysed_fps:.1f} fps" + (
                f"   ·   detector {self._detector_ms:.0f} ms" if self._detector_ms else ""
            )
        return self._stats

    def _paint_chrome(self, p: QPainter, r: QRectF, v: TileView) -> None:
        """Name, status badge and rates: drawn once into a pixmap, re-used until they change."""
        key = (
            int(r.width()),
            int(r.height()),
            v.camera,
            v.status,
            self._stats_text(v),
            self.focused,
        )
        if key != self._chrome_key or self._chrome is None:
            pm = QPixmap(int(r.width()), int(r.height()))
            pm.fill(Qt.GlobalColor.transparent)
            cp = QPainter(pm)
            cp.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._draw_chrome(cp, QRectF(0, 0, r.width(), r.height()), v, key[4])
            cp.end()
            self._chrome, self._chrome_key = pm, key
        p.drawPixmap(QPointF(r.x(), r.y()), self._chrome)

    def _draw_chrome(self, p: QPainter, r: QRectF, v: TileView, stats: str) -> None:
        band = 30.0
        grad = QLinearGradient(0, 0, 0, band + 8)
        grad.setColorAt(0, QColor(0, 0, 0, 170))
        grad.setColorAt(1, QColor(0, 0, 0, 0))
        p.fillRect(QRectF(r.x(), r.y(), r.width(), band + 8), QBrush(grad))
        p.setFont(self._font(bold=True, scale=1.1))
        p.setPen(QColor("white"))
        p.drawText(
            QRectF(r.x() + 10, r.y() + 4, r.width() - 120, band - 4),
            Qt.AlignmentFlag.AlignVCenter,
            v.camera,
        )
        p.setFont(self._font(bold=True, scale=0.85))
        label = style.STATUS_LABELS.get(v.status, v.status.upper())
        col = QColor(style.STATUS_COLORS.get(v.status, style.MUTED))
        fm = p.fontMetrics()
        w = fm.horizontalAdvance(label) + 26
        pill = self._pill(p, r.right() - w - 8, r.y() + 7, label + "   ", col, QColor("white"))
        p.setBrush(QColor("white"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(pill.right() - 10, pill.center().y()), 3, 3)
        p.setFont(self._font(scale=0.85))
        h = p.fontMetrics().height() + 8
        p.fillRect(QRectF(r.x(), r.bottom() - h, r.width(), h), QColor(0, 0, 0, 150))
        p.setPen(QColor("#e2e8f0"))
        p.drawText(
            QRectF(r.x() + 10, r.bottom() - h, r.width() - 20, h),
            Qt.AlignmentFlag.AlignVCenter,
            stats,
        )
        if self.focused:
            p.setPen(QPen(QColor(style.ACCENT), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r.adjusted(1, 1, -2, -2))

    # --- interaction ----------------------------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit(self.camera)
        event.accept()

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addAction(
            "Back to the wall" if self.focused else "Focus this camera"
        ).triggered.connect(lambda: self.double_clicked.emit(self.camera))
        menu.addSeparator()
        menu.addAction("Edit camera…").triggered.connect(lambda: self.edit_camera.emit(self.camera))
        menu.addAction("Edit zones and lines…").triggered.connect(
            lambda: self.edit_zones.emit(self.camera)
        )
        heat = QAction("Show heatmap", menu, checkable=True)
        heat.setChecked(self.show_heatmap)
        heat.toggled.connect(self.set_heatmap)
        menu.addAction(heat)
        modes = QActionGroup(menu)
        for mode, text in HEAT_MODES.items():
            act = QAction(text, menu, checkable=True)
            act.setChecked(self.heat_mode == mode)
            act.toggled.connect(lambda on, m=mode: self._show_heat_mode(m) if on else None)
            modes.addAction(act)
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction("Remove camera").triggered.connect(
            lambda: self.remove_camera.emit(self.camera)
        )
        return menu

    def _show_heat_mode(self, mode: str) -> None:
        self.set_heat_mode(mode)
        self.set_heatmap(True)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.build_menu().exec(event.globalPos())
