"""The heatmap history (a tab of the Analytics page): a camera's time spent per place,
summed over any day, week, month or range and, optionally, some hours of the day, drawn
over the camera's reference view (the drift check's median background: people passing
leave it) with its key; exported as PNG.

The picture is drawn by app/vision/heat_render.py, as `report heatmap` draws it, so the
export is what the page shows. Read off the GUI thread (`refresh(wait=True)` inline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QDate, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.store.count_audits import get_reference
from app.store.heat_history import HeatSum, heat_cameras, heat_sum
from app.sync.store_protocol import StoreLike
from app.ui.folders import last_folder, remember_folder
from app.ui.periods import PERIODS, date_edit, picked_period, show_period
from app.ui.tile_paint import fit_rect
from app.ui.workers import Background
from app.vision import heat_render
from app.words import plural


@dataclass(frozen=True)
class HeatView:
    """What the page shows: the period's sum (None: nothing recorded) and the picture."""

    camera: str
    first: dt.date
    last: dt.date
    hours: tuple[int, int] | None
    total: HeatSum | None
    picture: np.ndarray | None  # BGR, the heatmap over the camera's view, with its key
    has_view: bool  # drawn over the camera's reference view (else a stand-in)


class HeatPicture(QWidget):
    """The rendered heatmap, fitted to the widget; a sentence instead when there is none."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(320, 240)
        self.image: QImage | None = None
        self.text = ""

    def show_picture(self, bgr: np.ndarray | None, text: str = "") -> None:
        if bgr is None:
            self.image = None
        else:
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            h, w = rgb.shape[:2]
            self.image = QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()
        self.text = text
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), QColor("#f1f5f9"))
        if self.image is not None:
            area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
            p.drawImage(fit_rect(self.image.width(), self.image.height(), area), self.image)
        elif self.text:
            p.setPen(QColor("#475569"))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            p.drawText(QRectF(self.rect()).adjusted(24, 24, -24, -24), int(flags), self.text)
        p.end()


class HeatmapHistory(QWidget):
    """Camera, period and hours of the day; the summed heatmap; PNG export. `follow`:
    take the period from elsewhere (the Analytics page's picker) instead of its own."""

    def __init__(
        self,
        store: StoreLike,
        cfg: AppConfig,
        parent: QWidget | None = None,
        follow: Callable[[], tuple[dt.date, dt.date]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.cfg = store, cfg
        try:
            self.tz = ZoneInfo(cfg.store.timezone)
        except (ValueError, KeyError):
            self.tz = ZoneInfo("UTC")
        self.follow = follow
        self.view: HeatView | None = None
        self._bg = Background(1, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(self._controls())
        self.picture = HeatPicture()
        self.picture.show_picture(None, "Pick a camera and a period, then Show.")
        lay.addWidget(self.picture, 1)
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.fill_cameras()

    # --- layout ----------------------------------------------------------------------------

    def _controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.camera = QComboBox()
        self.camera.setMinimumWidth(140)
        self.kind = QComboBox()
        self.kind.addItems(PERIODS)
        self.kind.setCurrentText("Week")
        today = dt.datetime.now(self.tz).date()
        self.day = date_edit(today)
        self.last = date_edit(today, enabled=False)
        self.kind.currentTextChanged.connect(lambda k: self.last.setEnabled(k == "Custom"))
        self.some_hours = QCheckBox("Only from")
        self.some_hours.setToolTip("Only these hours of each day (store time), e.g. 12 to 14")
        self.hour_from, self.hour_to = QSpinBox(), QSpinBox()
        self.hour_from.setRange(0, 23)
        self.hour_to.setRange(1, 24)
        self.hour_from.setValue(9)
        self.hour_to.setValue(12)
        for box in (self.hour_from, self.hour_to):
            box.setSuffix(":00")
            box.setEnabled(False)
            self.some_hours.toggled.connect(box.setEnabled)
        show = QPushButton("Show")
        show.clicked.connect(lambda: self.refresh())
        self.export = QPushButton("Export PNG…")
        self.export.setEnabled(False)
        self.export.clicked.connect(lambda: self.export_png())
        self.period_widgets: list[QWidget] = [QLabel("Period"), self.kind, self.day,
                                              QLabel("to"), self.last]  # fmt: skip
        for w in (QLabel("Camera"), self.camera, *self.period_widgets, self.some_hours,
                  self.hour_from, QLabel("to"), self.hour_to, show):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.export)
        if self.follow is not None:
            for w in self.period_widgets:
                w.hide()
        return row

    def fill_cameras(self) -> None:
        """The configured cameras and those with a history (a removed camera's past)."""
        try:
            with self.store.read_session() as s:
                known = heat_cameras(s)
        except Exception:  # a locked or old store: the configured cameras still show
            known = []
        names = [c.name for c in self.cfg.cameras]
        names += [n for n in known if n not in names]
        current = self.camera.currentText()
        self.camera.clear()
        self.camera.addItems(names)
        if current in names:
            self.camera.setCurrentText(current)
        elif known:
            self.camera.setCurrentText(known[0])

    # --- data ------------------------------------------------------------------------------

    def period(self) -> tuple[dt.date, dt.date]:
        if self.follow is not None:
            return self.follow()
        return picked_period(self.kind, self.day, self.last)

    def set_period(self, kind: str, day: dt.date, last: dt.date | None = None) -> None:
        show_period((self.kind, self.day, self.last), kind, day, last)

    def set_hours(self, hours: tuple[int, int] | None) -> None:
        self.some_hours.setChecked(hours is not None)
        if hours is not None:
            self.hour_from.setValue(hours[0])
            self.hour_to.setValue(hours[1] or 24)

    def hours(self) -> tuple[int, int] | None:
        if not self.some_hours.isChecked():
            return None
        lo, hi = self.hour_from.value(), self.hour_to.value()
        return None if lo == hi % 24 else (lo, hi % 24)

    def _query(
        self, camera: str, first: dt.date, last: dt.date, hours: tuple[int, int] | None
    ) -> HeatView:
        start = dt.datetime.combine(first, dt.time.min, self.tz).timestamp()
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, self.tz).timestamp()
        with self.store.read_session() as s:
            total = heat_sum(s, camera, start, end, hours, self.tz)
            ref = get_reference(s, camera) if total is not None else None
        picture = None
        if total is not None:
            title = heat_render.period_title(first, last, hours)
            png = ref[1] if ref else None
            picture = heat_render.render(total.grid, total.width, total.height, png, title)
        return HeatView(camera, first, last, hours, total, picture, ref is not None)

    def refresh(self, wait: bool = False) -> None:
        camera = self.camera.currentText()
        first, last = self.period()
        if self.follow is None and self.kind.currentText() != "Custom":
            self.last.setDate(QDate(last.year, last.month, last.day))
        if not camera:
            self.show_view(None)
            return
        hours = self.hours()
        self.status.setText(f"Loading the heatmap of {camera}, {first} to {last}…")
        if wait:
            self.show_view(self._query(camera, first, last, hours))
            return
        self._bg.submit(
            lambda: self._query(camera, first, last, hours),
            self.show_view,
            lambda e: self.status.setText(f"Could not read the heatmap: {e}"),
        )

    def show_view(self, view: HeatView | None) -> None:
        self.view = view
        has = view is not None and view.total is not None and view.picture is not None
        self.export.setEnabled(has)
        if view is None:
            self.picture.show_picture(None, "No camera yet: add one under Cameras.")
            self.status.setText("")
            return
        if view.total is None or view.picture is None:
            when = f"{view.first} to {view.last}" if view.first != view.last else f"{view.first}"
            some = "" if view.hours is None else f" between {_hours_text(view.hours)}"
            self.picture.show_picture(
                None,
                f"No heatmap of {view.camera} for {when}{some}: the camera was not running "
                "or nobody was seen. The heatmap history builds up hour by hour while the "
                "cameras run: the current hour is added every 5 minutes.",
            )
            self.status.setText("")
            return
        t = view.total
        self.picture.show_picture(view.picture)
        under = (
            "over the camera's reference view (its background without people)"
            if view.has_view
            else "on a plain background (no picture of the camera yet: the drift check "
            "takes one, without people, in the camera's first half hour)"
        )
        note = f" {plural(t.left_out, 'hour')} at another picture size are left out." if t.left_out else ""
        self.status.setText(
            f"{view.camera}: {plural(t.hours, 'hour')} with people, "
            f"{_when(t.first, self.tz)} to {_when(t.last + 3600, self.tz)}; "
            f"{t.seconds / 3600:.1f} person-hours of presence, {under}.{note}"
        )

    # --- export ----------------------------------------------------------------------------

    def export_png(self, path: str | None = None) -> str:
        v = self.view
        if v is None or v.picture is None:
            return ""
        if not path:
            suggested = last_folder("analytics") / f"heatmap-{v.camera}-{v.first}-{v.last}.png"
            path, _ = QFileDialog.getSaveFileName(
                self, "Export heatmap", str(suggested), "PNG (*.png)"
            )
            if not path:
                return ""
            remember_folder("analytics", path)
        try:
            heat_render.save_png(v.picture, path)
        except OSError as exc:
            self.status.setText(f"The heatmap could not be saved: {exc.strerror or exc}")
            return ""
        self.status.setText(f"Heatmap saved to {path}")
        return path

    def shutdown(self) -> None:
        self._bg.shutdown()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._bg.shutdown()
        super().closeEvent(event)


def _hours_text(hours: tuple[int, int]) -> str:
    return f"{hours[0]:02d}:00 and {hours[1] or 24:02d}:00"


def _when(ts: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%a %d %b %H:00")
