"""The Analytics page: any day, week, month or custom range with the previous period and
the same period last year, every KPI of app/kpis.py (the tooltip of each card gives its
formula), and tabs for the period's days and hours, queues, journeys, bottlenecks and
heatmaps (app/ui/heatmap_history.py).
Charts export as PNG, tables as CSV; the weekly report is one button away.

Everything is read off the GUI thread (`refresh(wait=True)` runs inline, for tests).
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import QDate, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import kpis
from app.config import AppConfig
from app.csv_cells import neutralise
from app.store import journeys as jr
from app.store import kpi_cache, weekly_report
from app.store import kpi_queries as kq
from app.sync.store_protocol import StoreLike
from app.ui import style
from app.ui.dashboard_widgets import ChartCard
from app.ui.folders import last_folder, remember_folder
from app.ui.heatmap_history import HeatmapHistory
from app.ui.kpi_hints import card_link, missing_settings
from app.ui.periods import PERIODS, date_edit, picked_period, show_period
from app.ui.sales_widgets import fill_table, header, make_table
from app.ui.workers import Background
from app.words import plural

# (attribute, label, format, the app.kpis function whose docstring is the tooltip)
CARDS: tuple[tuple[str, str, str, Any], ...] = (
    ("visitors", "Visitors", "n", None),
    ("traffic_index", "Traffic index", "x", kpis.traffic_index),
    ("capture_rate", "Capture rate", "%", kpis.capture_rate),
    ("sales_conversion", "Sales conversion", "%", kpis.sales_conversion),
    ("average_basket", "Average basket", "money", kpis.average_basket),
    ("sales_per_visitor", "Sales per visitor", "money", kpis.sales_per_visitor),
    ("congestion_peak", "Congestion: people in ÷ capacity (worst hour)", "%", kpis.congestion),
    ("utilisation_mean", "Utilisation: entries an hour ÷ capacity (mean hour)", "%", kpis.utilisation),
    ("growth_momentum", "Growth momentum (per week)", "+%", kpis.growth_momentum),
    ("staffing_adequacy", "Staffing adequacy", "%", kpis.staffing_adequacy),
    ("mean_queue_wait_s", "Mean queue wait", "s", None),
    ("abandonment", "Queue abandonment", "%", kpis.abandonment),
)


@dataclass
class AnalyticsData:
    compared: kq.Compared
    journeys: jr.Journeys


class KpiCard(QFrame):
    def __init__(self, label: str, tip: str) -> None:
        super().__init__()
        self.setObjectName("Card")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(2)
        t = QLabel(label)
        t.setObjectName("Muted")
        self.value = QLabel(kpis.NO_VALUE)
        self.value.setObjectName("KpiValue")
        self.compare = QLabel("")
        self.compare.setObjectName("Muted")
        for w in (t, self.compare):  # six cards a row fit a 1366-px screen's page
            w.setWordWrap(True)
        for w in (t, self.value, self.compare):
            lay.addWidget(w)
        self.setToolTip(tip)


def _tip(fn: Any) -> str:
    doc = inspect.getdoc(fn) if fn is not None else ""
    return doc or ""


def _change(cur: Any, old: Any) -> str:
    c = (
        kpis.change(cur, old)
        if isinstance(cur, int | float) and isinstance(old, int | float)
        else None
    )
    return kpis.NO_VALUE if c is None else f"{c:+.0%}"


class FlowChart(QWidget):
    """Zones as boxes on a circle (the entrance and the exit apart), transitions as
    arrows whose width follows how many people took them."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(320)
        self.transitions: dict[tuple[str, str], int] = {}

    def set_transitions(self, t: dict[tuple[str, str], int]) -> None:
        self.transitions = dict(t)
        self.update()

    def _layout(self) -> dict[str, QPointF]:
        zones = sorted({z for ab in self.transitions for z in ab} - {jr.ENTRY, jr.EXIT})
        w, h = self.width(), self.height()
        cx, cy, r = w / 2, h / 2, min(w * 0.32, h * 0.38)
        pos = {jr.ENTRY: QPointF(60, cy), jr.EXIT: QPointF(w - 60, cy)}
        for i, z in enumerate(zones):
            a = -math.pi / 2 + 2 * math.pi * i / max(1, len(zones))
            pos[z] = QPointF(cx + r * math.cos(a), cy + r * math.sin(a))
        return pos

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.transitions:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No journeys in this period.")
            return
        pos = self._layout()
        top = max(self.transitions.values())
        for (a, b), n in sorted(self.transitions.items(), key=lambda kv: kv[1]):
            if a not in pos or b not in pos or a == b:
                continue
            width = 1 + 9 * n / top
            color = QColor(style.ACCENT)
            color.setAlpha(int(60 + 160 * n / top))
            p.setPen(QPen(color, width))
            pa, pb = pos[a], pos[b]
            p.drawLine(pa, pb)
            # an arrowhead two thirds of the way, pointing at the zone walked to
            dx, dy = pb.x() - pa.x(), pb.y() - pa.y()
            length = math.hypot(dx, dy) or 1.0
            ux, uy = dx / length, dy / length
            tip = QPointF(pa.x() + dx * 0.62, pa.y() + dy * 0.62)
            size = 6 + width
            p.setBrush(color)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([
                tip,
                QPointF(tip.x() - ux * size - uy * size / 2, tip.y() - uy * size + ux * size / 2),
                QPointF(tip.x() - ux * size + uy * size / 2, tip.y() - uy * size - ux * size / 2),
            ]))  # fmt: skip
            mid = QPointF(pa.x() * 0.35 + pb.x() * 0.65, pa.y() * 0.35 + pb.y() * 0.65)
            p.setPen(QPen(QColor(style.MUTED)))
            p.drawText(mid, str(n))
        font = QFont(p.font())
        font.setBold(True)
        p.setFont(font)
        for name, pt in pos.items():
            box = QRectF(pt.x() - 55, pt.y() - 14, 110, 28)
            p.setPen(QPen(QColor(style.LINE), 1))
            p.setBrush(QColor("#ffffff"))
            p.drawRoundedRect(box, 8, 8)
            p.setPen(QPen(QColor("#1d2330")))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, name)


class AnalyticsView(QWidget):
    # a link to a missing store setting was clicked: its key ("kpis.capacity"…)
    settings_wanted = Signal(str)

    def __init__(self, store: StoreLike, cfg: AppConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.cfg = store, cfg
        self.tz = ZoneInfo(cfg.store.timezone)
        self.data: AnalyticsData | None = None
        self._bg = Background(1, self)
        # the page scrolls: its charts, cards and tabs never make the window taller (or
        # wider) than a 1366x768 screen
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(24, 20, 24, 16)
        lay.addWidget(header(
            "Analytics",
            "Any day, week, month or range, against the period before and the same period "
            "last year. Hover a figure for its definition.",
        ))  # fmt: skip
        lay.addLayout(self._controls())
        grid = QGridLayout()
        grid.setSpacing(8)
        self.cards: dict[str, KpiCard] = {}
        for i, (attr, label, _, fn) in enumerate(CARDS):
            card = KpiCard(label, _tip(fn))
            card.compare.linkActivated.connect(self.settings_wanted.emit)
            self.cards[attr] = card
            grid.addWidget(card, i // 6, i % 6)
        lay.addLayout(grid)
        self.hints = QLabel("")  # the settings a KPI misses, with links to them
        self.hints.setWordWrap(True)
        self.hints.setObjectName("Muted")
        self.hints.linkActivated.connect(self.settings_wanted.emit)
        lay.addWidget(self.hints)
        self.worst = QLabel("")
        self.worst.setWordWrap(True)
        lay.addWidget(self.worst)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._overview(), "Days and hours")
        self.tabs.addTab(self._queues(), "Queues")
        self.tabs.addTab(self._journeys(), "Journeys")
        self.tabs.addTab(self._bottlenecks(), "Bottlenecks")
        self.heat = HeatmapHistory(store, cfg, follow=self.period)  # the page's period
        self.tabs.addTab(self.heat, "Heatmaps")
        lay.addWidget(self.tabs, 1)
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        lay.addWidget(self.status)
        self.page = QScrollArea()
        self.page.setWidgetResizable(True)
        self.page.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.page)

    # --- layout ----------------------------------------------------------------------------

    def _controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.addItems(PERIODS)
        self.kind.setCurrentText("Week")
        today = dt.datetime.now(self.tz).date() - dt.timedelta(days=1)
        self.day = date_edit(today)
        self.last = date_edit(today, enabled=False)
        self.kind.currentTextChanged.connect(lambda k: self.last.setEnabled(k == "Custom"))
        show = QPushButton("Show")
        show.clicked.connect(lambda: self.refresh())
        weekly = QPushButton("Weekly report…")
        weekly.setToolTip("Write the week's report (HTML) into the data folder and open it")
        weekly.clicked.connect(lambda: self.write_weekly())
        for w in (QLabel("Period"), self.kind, self.day, QLabel("to"), self.last, show):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(weekly)
        return row

    def _export_row(self, *buttons: tuple[str, Any]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        for text, fn in buttons:
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, fn=fn: fn())
            row.addWidget(b)
        return row

    def _overview(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.c_days = ChartCard("Visitors per day (bars) and the period before (line)",
                                "No visitors counted in this period.\nCounts appear once "
                                "a camera with an entrance or a door line sees people "
                                "come in.")  # fmt: skip
        self.c_hours = ChartCard("Per hour of the day: congestion (bars, % of capacity) and "
                                 "staffing adequacy (line, %)",
                                 "No hourly figures in this period (set the store's capacity "
                                 "and the staffing target: Settings > Store figures).")  # fmt: skip
        lay.addWidget(self.c_days)
        lay.addWidget(self.c_hours)
        lay.addLayout(self._export_row(
            ("Export charts (PNG)…", lambda: self.export_png(self.c_days, "visitors-per-day")),
            ("Export hours (CSV)…", lambda: self.export_csv("hours")),
        ))  # fmt: skip
        return page

    def _queues(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.queue_summary = QLabel("")
        self.queue_summary.setWordWrap(True)
        lay.addWidget(self.queue_summary)
        self.c_waits = ChartCard("How long people waited (finished queue visits)",
                                 "No queue area is drawn, or nobody queued in this period.")  # fmt: skip
        lay.addWidget(self.c_waits)
        self.t_queue = make_table(["Hour", "Queue area", "Waits", "Mean wait (s)"])
        lay.addWidget(self.t_queue, 1)
        lay.addLayout(self._export_row(
            ("Export chart (PNG)…", lambda: self.export_png(self.c_waits, "queue-waits")),
            ("Export table (CSV)…", lambda: self.export_csv("queues")),
        ))  # fmt: skip
        return page

    def _journeys(self) -> QWidget:
        page = QWidget()
        lay = QHBoxLayout(page)
        left = QVBoxLayout()
        self.flow = FlowChart()
        left.addWidget(QLabel("Transitions between zones (arrow width: people)"))
        left.addWidget(self.flow, 1)
        right = QVBoxLayout()
        self.t_funnel = make_table(["Zone", "Entered store", "Visited zone", "Served", "Bought"])
        self.t_paths = make_table(["Journey (zones in order)", "Visitors"], stretch=0)
        right.addWidget(QLabel("Funnel per zone"))
        right.addWidget(self.t_funnel, 1)
        right.addWidget(QLabel("Most common journeys"))
        right.addWidget(self.t_paths, 1)
        right.addLayout(self._export_row(
            ("Flow (PNG)…", lambda: self.export_png(self.flow, "journeys-flow")),
            ("Funnel (CSV)…", lambda: self.export_csv("funnel")),
        ))  # fmt: skip
        lay.addLayout(left, 3)
        lay.addLayout(right, 2)
        return page

    def _bottlenecks(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        intro = QLabel(
            "Bottleneck score 0-100 per zone and hour: congestion (40 %), queue wait against "
            "its target (35 %) and staff shortfall (25 %); parts that cannot be measured "
            "are left out. Worst first."
        )
        intro.setWordWrap(True)  # one 1100-px line made the window wider than the screen
        lay.addWidget(intro)
        self.t_bottle = make_table(["Hour", "Zone", "Score", "Congestion", "Queue wait (s)",
                                    "Staffing adequacy"])  # fmt: skip
        lay.addWidget(self.t_bottle, 1)
        lay.addLayout(self._export_row(("Export (CSV)…", lambda: self.export_csv("bottlenecks"))))
        return page

    # --- data ------------------------------------------------------------------------------

    def period(self) -> tuple[dt.date, dt.date]:
        return picked_period(self.kind, self.day, self.last)

    def set_period(self, kind: str, day: dt.date, last: dt.date | None = None) -> None:
        show_period((self.kind, self.day, self.last), kind, day, last)

    def set_config(self, cfg: AppConfig) -> None:
        """New settings (saved in Settings): the figures shown are computed again when
        what they depend on changed (the store figures, the zones, the time zone)."""
        old, self.cfg = self.cfg, cfg
        self.tz = ZoneInfo(cfg.store.timezone)

        def basis(c: AppConfig) -> tuple[Any, ...]:
            return c.kpis, c.zones, c.store.timezone

        if self.data is not None and basis(old) != basis(cfg):
            self.refresh()

    def _query(self, first: dt.date, last: dt.date) -> AnalyticsData:
        params = kq.KpiParams.from_config(self.cfg)
        kpi_cache.warm_compared(self.store, params, first, last)  # closed days: once
        with self.store.read_session() as s:
            c = kq.compared(s, params, first, last)
            j = kpi_cache.journeys(s, params, first, last, c.current.visitors)
        return AnalyticsData(c, j)

    def refresh(self, wait: bool = False) -> None:
        first, last = self.period()
        if self.kind.currentText() != "Custom":  # show the period the choice means
            self.last.setDate(QDate(last.year, last.month, last.day))
        self.status.setText(f"Loading {first} to {last}…")
        self.heat.refresh(wait)
        if wait:
            self.show_data(self._query(first, last))
            return
        self._bg.submit(
            lambda: self._query(first, last),
            self.show_data,
            lambda e: self.status.setText(f"Could not read the period's figures: {e}"),
        )

    def _hour(self, ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).strftime("%a %d %b %H:00")

    def show_data(self, data: AnalyticsData) -> None:
        self.data = data
        c = data.compared
        cur, prev, ly = c.current, c.previous, c.last_year
        hints = missing_settings(self.cfg, cur)
        self.hints.setText("<br>".join(h.html() for h in hints))
        self.hints.setVisible(bool(hints))
        for attr, _, kind, _ in CARDS:
            card = self.cards[attr]
            v = getattr(cur, attr)
            card.value.setText(kpis.shown(v, kind))
            parts = []
            if prev is not None:
                parts.append(f"prev. {_change(v, getattr(prev, attr))}")
            if ly is not None:
                parts.append(f"last yr {_change(v, getattr(ly, attr))}")
            link = card_link(attr, hints) if v is None or attr == "staffing_adequacy" else ""
            card.compare.setText(link or "  ·  ".join(parts) or "no earlier data")
        w = cur.bottleneck_worst
        self.worst.setText(
            f"Worst hour: {self._hour(w.hour_start)}, {w.zone} (bottleneck score "
            f"{w.score:.0f}/100)" if w else
            "Worst hour: – (set a capacity, draw a queue area or set a staffing target)"
        )  # fmt: skip
        self._plot_days(cur, prev)
        self._plot_hours(cur)
        self._show_queues(cur)
        self._show_journeys(data.journeys)
        self._show_bottlenecks(cur)
        self.status.setText(
            f"{cur.first} to {cur.last}: {plural(cur.visitors, 'visitor')}, "
            f"{plural(cur.transactions, 'transaction')}. Previous period: {f'{prev.first} to {prev.last}' if prev else 'no data'}; "
            f"last year: {f'{ly.first} to {ly.last}' if ly else 'no data'}."
        )  # fmt: skip

    def _plot_days(self, cur: kq.PeriodKpis, prev: kq.PeriodKpis | None) -> None:
        days = kpis.days_between(cur.first, cur.last)
        vals = [cur.daily_visitors.get(d, 0) for d in days]
        plot = self.c_days.plot
        plot.clear()
        self.c_days.show_empty(not any(vals))
        if not any(vals):
            return
        xs = list(range(len(days)))
        plot.addItem(pg.BarGraphItem(x=xs, height=vals, width=0.7, brush=style.ACCENT))
        if prev is not None:
            n = len(days)
            pv = [prev.daily_visitors.get(d - dt.timedelta(days=n), 0) for d in days]
            plot.plot(xs, pv, pen=pg.mkPen("#e0762b", width=2))
        step = max(1, len(days) // 10)
        plot.getAxis("bottom").setTicks(
            [[(i, days[i].strftime("%d %b")) for i in range(0, len(days), step)]]
        )

    def _plot_hours(self, cur: kq.PeriodKpis) -> None:
        cong: dict[int, float] = {}
        adequacy: dict[int, list[float]] = {}
        for h in cur.hours:
            hr = dt.datetime.fromtimestamp(h.hour_start, self.tz).hour
            if h.congestion is not None:
                cong[hr] = max(cong.get(hr, 0.0), h.congestion * 100)
            if h.staffing_adequacy is not None:
                adequacy.setdefault(hr, []).append(min(h.staffing_adequacy, 2.0) * 100)
        plot = self.c_hours.plot
        plot.clear()
        empty = not cong and not adequacy
        self.c_hours.show_empty(empty)
        if empty:
            return
        if cong:
            plot.addItem(pg.BarGraphItem(x=list(cong), height=list(cong.values()), width=0.7,
                                         brush="#c2453c"))  # fmt: skip
        if adequacy:
            hrs = sorted(adequacy)
            plot.plot(hrs, [sum(adequacy[h]) / len(adequacy[h]) for h in hrs],
                      pen=pg.mkPen("#16a34a", width=2), symbol="o", symbolSize=5)  # fmt: skip
        plot.addLine(y=100, pen=pg.mkPen(style.MUTED, style=Qt.PenStyle.DashLine))
        # whole hours on the axis ("09:00"), not pyqtgraph's fractions of one hour
        hours = sorted(set(cong) | set(adequacy))
        lo, hi = hours[0], hours[-1]
        plot.setXRange(lo - 0.6, hi + 0.6, padding=0)
        step = max(1, (hi - lo + 1) // 12)
        plot.getAxis("bottom").setTicks([[(h, f"{h:02d}:00") for h in range(lo, hi + 1, step)]])

    def _show_queues(self, cur: kq.PeriodKpis) -> None:
        plot = self.c_waits.plot
        plot.clear()
        hist = [sum(q.wait_hist[i] for q in cur.queues) for i in range(len(kq.WAIT_BINS_S))]
        self.c_waits.show_empty(not any(hist))
        if any(hist):
            plot.addItem(pg.BarGraphItem(x=list(range(len(hist))), height=hist, width=0.7,
                                         brush=style.ACCENT))  # fmt: skip
            labels = [f"{lo // 60}m+" if lo >= 60 else f"{lo}s+" for lo in kq.WAIT_BINS_S]
            plot.getAxis("bottom").setTicks([list(enumerate(labels))])
        parts = []
        for q in cur.queues:
            ab = (f"abandonment {q.abandonment:.0%} ({q.abandoned} left before {q.service_zone})"
                  if q.abandonment is not None else "abandonment: set the zone this queue serves")  # fmt: skip
            mean = f"{q.mean_wait_s:.0f} s" if q.mean_wait_s is not None else kpis.NO_VALUE
            parts.append(f"{q.zone}: {q.waits} waits, mean {mean}, {ab}, {q.alerts} queue alerts")
        self.queue_summary.setText("\n".join(parts) or "No queue area is drawn (Zone editor).")
        rows = [[self._hour(h), q.zone, n, round(m)] for q in cur.queues
                for h, (n, m) in sorted(q.by_hour.items())]  # fmt: skip
        self._queue_rows = rows
        fill_table(self.t_queue, rows, numeric={2, 3})

    def _show_journeys(self, j: jr.Journeys) -> None:
        self.flow.set_transitions(j.transitions)
        funnel = [[f.zone, f.entered, f.visited, f.served, f.bought] for f in j.funnel]
        self._funnel_rows = funnel
        fill_table(self.t_funnel, funnel, numeric={1, 2, 3, 4})
        fill_table(self.t_paths, [[" → ".join(p), n] for p, n in j.top_paths], numeric={1})

    def _show_bottlenecks(self, cur: kq.PeriodKpis) -> None:
        rows: list[list[Any]] = []
        items: list[Any] = [*cur.hours, *cur.zone_hours]
        for h in sorted((x for x in items if x.bottleneck is not None),
                        key=lambda x: (-(x.bottleneck or 0.0), x.hour_start))[:200]:  # fmt: skip
            rows.append([
                self._hour(h.hour_start), getattr(h, "zone", kq.STORE), round(h.bottleneck),
                kpis.shown(h.congestion, "%"),
                kpis.NO_VALUE if h.queue_wait_s is None else round(h.queue_wait_s),
                kpis.shown(h.staffing_adequacy, "%"),
            ])  # fmt: skip
        self._bottle_rows = rows
        fill_table(self.t_bottle, rows, numeric={2})

    # --- exports ---------------------------------------------------------------------------

    def _ask(self, title: str, name: str, pattern: str) -> str:
        suggested = last_folder("analytics") / name
        path, _ = QFileDialog.getSaveFileName(self, title, str(suggested), pattern)
        if path:
            remember_folder("analytics", path)
        return path

    def export_png(self, widget: QWidget, name: str, path: str | None = None) -> str:
        path = path or self._ask("Export chart", f"{name}.png", "PNG (*.png)")
        if path:
            target = widget.plot if isinstance(widget, ChartCard) else widget
            target.grab().save(path, "PNG")
            self.status.setText(f"Chart saved to {path}")
        return path or ""

    def table_rows(self, which: str) -> tuple[list[str], Sequence[Sequence[Any]]]:
        d = self.data
        if which == "hours" and d is not None:
            head = ["hour", "visitors", "people_peak", "on_duty", "queue_wait_s", "congestion",
                    "utilisation", "staffing_adequacy", "bottleneck"]  # fmt: skip
            return head, [[self._hour(h.hour_start), h.visitors, h.people_peak, h.on_duty,
                           h.queue_wait_s, h.congestion, h.utilisation, h.staffing_adequacy,
                           h.bottleneck] for h in d.compared.current.hours]  # fmt: skip
        if which == "queues":
            return ["hour", "queue_area", "waits", "mean_wait_s"], getattr(self, "_queue_rows", [])
        if which == "funnel":
            head = ["zone", "entered_store", "visited_zone", "served", "bought"]
            return head, getattr(self, "_funnel_rows", [])
        head = ["hour", "zone", "score", "congestion", "queue_wait_s", "staffing_adequacy"]
        return head, getattr(self, "_bottle_rows", [])

    def export_csv(self, which: str, path: str | None = None) -> int:
        path = path or self._ask("Export table", f"{which}.csv", "CSV (*.csv)")
        if not path:
            return 0
        head, rows = self.table_rows(which)
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            for r in rows:
                w.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else v
                            for v in r])  # fmt: skip
        self.status.setText(f"{len(rows)} rows exported to {path}")
        return len(rows)

    def write_weekly(self, open_it: bool = True) -> Path | None:
        first, _ = self.period()
        try:
            path = weekly_report.write(self.store, self.cfg, first)
        except OSError as exc:
            self.status.setText(f"The weekly report could not be written: {exc}")
            return None
        self.status.setText(f"Weekly report written to {path}")
        if open_it:
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        return path

    def shutdown(self) -> None:
        self._bg.shutdown()
        self.heat.shutdown()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._bg.shutdown()
        self.heat.shutdown()
        super().closeEvent(event)
