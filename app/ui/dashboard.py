"""Today at a glance: KPI cards, pyqtgraph charts, and the alerts list.

Data is loaded from the store in a worker thread (`dashboard_data.load_dashboard`) every
few seconds while the view is visible; live occupancy comes straight from the engine's
events. Every chart has an empty state that says why it is empty and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.alerts import AlertRecord
from app.config import AppConfig
from app.events import CAMERA_DOWN, Alert, CameraStatus, Occupancy
from app.store import figures
from app.ui import style
from app.ui.alerts_panel import AlertsPanel
from app.ui.dashboard_data import DWELL_BINS_S, DashboardData
from app.ui.dashboard_widgets import (
    ChartCard,
    Kpi,
    card,
    dwell_bin_labels,
    fmt_duration,
    hour_ticks,
)
from app.words import plural

EMPTY_FOOTFALL = (
    "Nobody has been counted today yet.\nDraw an entrance or a counting line on a camera "
    "(right-click a tile → Edit zones and lines) and entries appear here hour by hour, "
    "next to the same weekday last week."
)
EMPTY_OCCUPANCY = (
    "No zone occupancy yet today.\nDraw a zone on a camera: its head count is sampled "
    "through the day and plotted here."
)
EMPTY_DWELL = (
    "No finished visits yet today.\nA visit counts once a person leaves a zone, so this fills "
    "in as people come and go."
)
EMPTY_ZONES = "No zone visits yet today. Zones you draw are listed here with their mean dwell time."


class DashboardView(QWidget):
    def __init__(
        self, loader: Callable[[], DashboardData] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self.data: DashboardData | None = None
        self.live_occupancy: dict[tuple[str, str], int] = {}
        self.down: set[str] = set()  # cameras not delivering: their zones' counts are stale
        # (camera, zone) of the settings' zones: whether each is in the head count; None:
        # not known yet (every zone counts)
        self.zones: dict[tuple[str, str], bool] | None = None
        self.store_name = ""
        self._tz: ZoneInfo | None = None
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(5000)
        self.timer.timeout.connect(self.request_refresh)
        self.refresh_requested: Callable[[], None] | None = None

    # --- layout -----------------------------------------------------------------
    def _build(self) -> None:
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(20, 18, 20, 20)
        lay.setSpacing(style.SPACING)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        self.title = QLabel("Today")
        self.title.setObjectName("PageTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("PageSubtitle")
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.request_refresh)
        head.addWidget(self.refresh_button)
        lay.addLayout(head)

        kpis = QHBoxLayout()
        kpis.setSpacing(12)
        self.k_entries = Kpi("Entries", "people who came in")
        self.k_exits = Kpi("Exits", "people who left")
        self.k_occ = Kpi("In the store now", "across zones")
        self.k_pass = Kpi("Passers-by", "walked past the door")
        self.k_capture = Kpi("Capture rate", "entries ÷ people at the door")
        self.k_dwell = Kpi("Mean dwell", "time spent in a zone")
        for k, fig in (
            (self.k_entries, "entries"),
            (self.k_pass, "passersby"),
            (self.k_capture, "capture_rate"),
            (self.k_dwell, "mean_dwell"),
        ):
            k.setToolTip(figures.tooltip(fig))  # fmt: skip
        for k in (
            self.k_entries,
            self.k_exits,
            self.k_occ,
            self.k_pass,
            self.k_capture,
            self.k_dwell,
        ):
            kpis.addWidget(k, 1)
        lay.addLayout(kpis)

        grid = QGridLayout()
        grid.setSpacing(12)
        self.grid = grid
        for col in (0, 1):  # two halves, whatever the cards hold
            grid.setColumnStretch(col, 1)
        self.c_footfall = ChartCard(
            "Footfall per hour — today vs. same day last week", EMPTY_FOOTFALL
        )
        self.c_occ = ChartCard("Occupancy over the day (peak per hour)", EMPTY_OCCUPANCY)
        self.c_dwell = ChartCard("How long visits last", EMPTY_DWELL)
        zones_card, zl = card("Mean dwell per zone")
        self.zone_rows = QVBoxLayout()
        self.zone_rows.setSpacing(6)
        zl.addLayout(self.zone_rows)
        zl.addStretch(1)
        self.zones_card = zones_card
        grid.addWidget(self.c_footfall, 0, 0, 1, 2)
        grid.addWidget(self.c_occ, 1, 0)
        grid.addWidget(self.c_dwell, 1, 1)
        grid.addWidget(zones_card, 2, 0)
        alerts_card, al = card("Alerts")
        self.alerts = AlertsPanel()
        al.addWidget(self.alerts)
        al.addStretch(1)
        grid.addWidget(alerts_card, 2, 1)
        for chart in (self.c_footfall, self.c_occ, self.c_dwell):
            chart.plot.setMaximumHeight(16777215)
        lay.addLayout(grid, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.set_data(None)

    # --- data ---------------------------------------------------------------------
    def request_refresh(self) -> None:
        if self.refresh_requested is not None:
            self.refresh_requested()

    def on_event(self, event: object) -> None:
        if isinstance(event, Occupancy):
            key = (event.camera, event.zone)
            if self.zones is not None and key not in self.zones:
                return  # a zone deleted or renamed since: its last count is no news
            self.live_occupancy[key] = event.count
            self._show_occupancy()

    def on_alert(self, alert: Alert | AlertRecord) -> None:
        self.alerts.on_alert(alert)

    def on_camera_status(self, status: CameraStatus) -> None:
        """A camera that is down no longer counts towards "in the store now"."""
        was_down = status.camera in self.down
        if status.status in CAMERA_DOWN:
            self.down.add(status.camera)
        elif status.status == "live":
            self.down.discard(status.camera)
        if was_down != (status.camera in self.down):
            self._show_occupancy()

    def set_head_count_zones(self, cfg: AppConfig) -> None:
        """Which zones "in the store now" adds up: the zones of the settings not marked
        as outside the store. The last counts of zones deleted or renamed since are
        dropped: they would stay frozen in the sum."""
        self.zones = {(z.camera, z.name): z.in_store for z in cfg.zones}
        self.live_occupancy = {k: n for k, n in self.live_occupancy.items() if k in self.zones}
        self._show_occupancy()

    def live_head_count(self) -> int:
        """People in the store's zones now, from the engine (cameras down left out)."""
        zones = self.zones
        return sum(
            n
            for (cam, z), n in self.live_occupancy.items()
            if (zones is None or zones.get((cam, z))) and cam not in self.down
        )

    def _show_occupancy(self) -> None:
        zones = self.zones
        counted = {k: n for k, n in self.live_occupancy.items() if zones is None or zones.get(k)}
        if counted:
            now = sum(n for (cam, _), n in counted.items() if cam not in self.down)
            down = len({cam for cam, _ in counted} & self.down)
            note = f"{down} camera{'s' if down > 1 else ''} down, not counted" if down else ""
            self.k_occ.set(str(now), note or "across zones, live")
        elif zones and not any(zones.values()):
            self.k_occ.set("—", "no zone counts in the store")
        else:
            self.k_occ.set("—", "draw a zone to count people inside")

    def set_data(self, data: DashboardData | None) -> None:
        self.data = data
        day = datetime.now(self.tz).strftime("%A %d %B")
        self.title.setText(f"Today at {self.store_name}" if self.store_name else "Today")
        updated = datetime.now(self.tz).strftime("%H:%M:%S")
        self.subtitle.setText(f"{day}  ·  updated {updated}" if data else f"{day}  ·  loading…")
        d = data or DashboardData(day_start=0)
        counting = data is not None and d.has_counting
        self.k_entries.set(
            str(d.entries) if counting else "—",
            "people who came in" if counting or data is None else "draw a line at the door",
        )
        self.k_exits.set(
            str(d.exits) if counting else "—",
            "people who left" if counting or data is None else "draw a line at the door",
        )
        self.k_pass.set(
            str(d.passersby) if d.has_entrances else "—",
            "walked past the door" if d.has_entrances else "needs an entrance",
        )
        rate = d.capture_rate
        self.k_capture.set(
            f"{rate:.0%}" if rate is not None else "—",
            "entries ÷ people at the door" if d.has_entrances else "needs an entrance",
        )
        n = sum(d.visits_by_zone.values())
        mean = (
            sum(d.dwell_by_zone[z] * d.visits_by_zone[z] for z in d.dwell_by_zone) / n
            if n
            else None
        )
        self.k_dwell.set(
            fmt_duration(mean) if mean is not None else "—",
            f"over {plural(n, 'finished visit')}" if n else "time spent in a zone",
        )
        self._show_occupancy()
        self._plot_footfall(d)
        self._plot_occupancy(d)
        self._plot_dwell(d)
        self._show_zones(d)
        self._fit_rows()
        if data is not None:
            self.alerts.set_stored(data.alerts)

    @property
    def tz(self) -> ZoneInfo | None:
        """The store's time zone (its times are the store's, whatever the machine's)."""
        return self._tz

    @tz.setter
    def tz(self, tz: ZoneInfo | None) -> None:
        self._tz = tz
        self.alerts.tz = tz

    def _fit_rows(self) -> None:
        """The charts with data take the window's spare height (no blank below them); a
        chart without data is a compact card saying so, its row does not grow (when no
        chart has data, the zones and alerts below take the height)."""
        rows = {0: [self.c_footfall], 1: [self.c_occ, self.c_dwell]}
        growing = [r for r, charts in rows.items() if not all(c.is_empty for c in charts)]
        for r in (0, 1):
            self.grid.setRowStretch(r, 1 if r in growing else 0)
        self.grid.setRowStretch(2, 0 if growing else 1)

    def _plot_footfall(self, d: DashboardData) -> None:
        c = self.c_footfall
        c.show_empty(sum(d.footfall_today) == 0 and sum(d.footfall_last_week) == 0)
        c.plot.clear()
        hours = list(range(24))
        c.plot.addItem(
            pg.BarGraphItem(
                x=hours,
                height=d.footfall_today,
                width=0.65,
                brush=pg.mkBrush(style.CHART_TODAY),
                pen=pg.mkPen(None),
            )
        )
        if d.last_week_known:
            c.plot.plot(
                hours,
                d.footfall_last_week,
                pen=pg.mkPen(style.CHART_LAST_WEEK, width=2.5),
                symbol="o",
                symbolSize=5,
                symbolBrush=style.CHART_LAST_WEEK,
                symbolPen=None,
            )
        c.plot.addLegend(offset=(10, 5)) if c.plot.plotItem.legend is None else None
        legend = c.plot.plotItem.legend
        if legend is not None:
            legend.clear()
            legend.addItem(
                # no pen: pyqtgraph's legend sample would draw it as a dash beside the box
                pg.BarGraphItem(
                    x=[0], height=[0], width=1, brush=style.CHART_TODAY, pen=pg.mkPen(None)
                ),
                "today",
            )
            if d.last_week_known:
                legend.addItem(
                    pg.PlotDataItem(pen=pg.mkPen(style.CHART_LAST_WEEK, width=2.5)),
                    "same day last week",
                )
            else:  # no sample: there is no line to match
                legend.addItem(pg.PlotDataItem(pen=None), "same day last week: no data yet")
        hour_ticks(c.plot)

    def _plot_occupancy(self, d: DashboardData) -> None:
        c = self.c_occ
        # one bar per hour begun: a peak is an hour's, not a point joined to its
        # neighbours (a lone busy hour drew a triangle), and hours to come are not 0;
        # this hour's bar counts who is in now (the stored peaks come every 15 minutes)
        n = d.hours_so_far
        peaks = list(d.occupancy_by_hour[:n])
        if peaks and self.data is not None:
            peaks[-1] = max(peaks[-1], self.live_head_count())
        c.show_empty(sum(peaks) == 0)
        c.plot.clear()
        c.plot.addItem(
            pg.BarGraphItem(
                x=list(range(n)),
                height=peaks,
                width=0.65,
                brush=pg.mkBrush(style.ACCENT),
                pen=pg.mkPen(None),
            )
        )
        hour_ticks(c.plot)

    def _plot_dwell(self, d: DashboardData) -> None:
        c = self.c_dwell
        c.show_empty(sum(d.dwell_hist) == 0)
        c.plot.clear()
        xs = list(range(len(DWELL_BINS_S)))
        c.plot.addItem(
            pg.BarGraphItem(
                x=xs,
                height=d.dwell_hist,
                width=0.7,
                brush=pg.mkBrush("#0ea5e9"),
                pen=pg.mkPen(None),
            )
        )
        ticks = list(zip(xs, dwell_bin_labels(DWELL_BINS_S), strict=True))
        # two levels: pyqtgraph leaves out the second level's labels when they would
        # collide (a narrow chart), so every other bar keeps its label
        axis = c.plot.getAxis("bottom")
        small = QFont(axis.font())
        small.setPixelSize(11)  # nine ranges side by side on a half-width chart
        axis.setStyle(tickFont=small, textFillLimits=[(0, 0.95), (5, 0.92)])
        axis.setTicks([ticks[::2], ticks[1::2]])

    def _show_zones(self, d: DashboardData) -> None:
        _clear(self.zone_rows)
        if not d.dwell_by_zone:
            lab = QLabel(EMPTY_ZONES)
            lab.setObjectName("EmptyState")
            lab.setWordWrap(True)
            self.zone_rows.addWidget(lab)
            return
        top = max(d.dwell_by_zone.values()) or 1.0
        for zone, mean in sorted(d.dwell_by_zone.items(), key=lambda kv: -kv[1]):
            row = QHBoxLayout()
            name = QLabel(zone)
            name.setMinimumWidth(110)
            bar = QFrame()
            bar.setFixedHeight(10)
            bar.setFixedWidth(max(6, int(220 * mean / top)))
            bar.setStyleSheet(f"background:{style.ACCENT};border-radius:5px;")
            n = d.visits_by_zone.get(zone, 0)
            val = QLabel(f"{fmt_duration(mean)}  ·  {plural(n, 'finished visit')}")
            val.setToolTip(figures.tooltip("finished_visits"))
            val.setObjectName("Muted")
            row.addWidget(name)
            row.addWidget(bar)
            row.addWidget(val)
            row.addStretch(1)
            self.zone_rows.addLayout(row)

    def acknowledge(self, alert_id: str, who: str = "desktop") -> None:
        self.alerts.acknowledge(alert_id, who)

    def visible_alert_ids(self) -> list[str]:
        return self.alerts.visible_alert_ids()


def _clear(layout: Any) -> None:
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.deleteLater()
        elif item.layout() is not None:
            _clear(item.layout())
            item.layout().deleteLater()
