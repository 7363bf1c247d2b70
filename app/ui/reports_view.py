"""Sales reports in the desktop app: item interest vs purchase (per item and category),
salesperson performance and zone performance, each with date range, zone and
salesperson filters and CSV export.

    view = ReportsView(store, zones=[z.name for z in cfg.zones], tz=cfg.store.timezone)
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.store import figures
from app.store import sales_reports as sr
from app.store.faces import visit_frequency, visits_per_day
from app.sync import catalog
from app.sync.store_protocol import StoreLike
from app.ui import style
from app.ui.dashboard_widgets import ChartCard
from app.ui.folders import last_folder, remember_folder
from app.ui.sales_widgets import fill_table, header, make_table
from app.ui.visitors_report import VisitorsTab
from app.ui.workers import Background
from app.words import plural

log = logging.getLogger(__name__)

ALL = "All"
TABS: list[tuple[str, type]] = [
    ("Items", sr.ItemRow),
    ("Categories", sr.CategoryRow),
    ("Salespeople", sr.SalespersonRow),
    ("Zones", sr.ZoneRow),
    ("Services", sr.ServiceRow),
    ("Footfall", sr.DayRow),
]
TOP_ITEMS = 10
TEXT = {"day", "barcode", "name", "category", "zone", "started", "salesperson", "outcome", "note"}
# what an empty table means (the Items tab says it in its chart)
EMPTY = {
    "Footfall": (
        "Nobody was counted at a door in this period. Entries come from the counting "
        "lines marked as doors of the store and from entrances (right-click a camera, "
        "Edit zones and lines). Footfall is the whole store's: the zone and salesperson "
        "filters do not apply to it."
    ),
    "Categories": "No category had an item shown or bought in this period.",
    "Salespeople": (
        "No service by a salesperson in this period. Services are recorded when a "
        "salesperson scans items on a paired tablet (Sales ▸ Pair a tablet); try a "
        "longer period or another zone or salesperson."
    ),
    "Zones": "No zone had visitors or services in this period.",
    "Services": (
        "No service in this period. Each service a salesperson runs on a tablet is "
        "listed here, with the outcome and note they gave it."
    ),
}


# report columns that are figures of app/store/figures.py
HEADER_FIGURES = {"visits": "finished_visits", "visitors": "zone_entries",
                  "mean_dwell_s": "mean_dwell"}  # fmt: skip


def _whole_step(top: float, most: int = 6) -> int:
    """A spacing of 1, 2, 5, 10, 20, 50… that puts at most `most` ticks on 0..top."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if top < step * most:
                return step
        magnitude *= 10


def text_column(cols: list[str]) -> int:
    """The column that takes a table's spare width: its name (or category, zone, day),
    never a number (the salespeople's "Services" was stretched across the page)."""
    for name in ("name", "category", "zone", "day"):
        if name in cols:
            return cols.index(name)
    return 0


class ReportsView(QWidget):
    def __init__(
        self,
        store: StoreLike,
        zones: list[str],
        tz: str = "UTC",
        parent: QWidget | None = None,
        threshold: float = 0.45,  # faces.threshold: visits of one visitor are grouped by it
    ) -> None:
        super().__init__(parent)
        self.threshold = threshold
        self.store, self.tz = store, ZoneInfo(tz)
        self._bg = Background(1, self)
        self.results: dict[str, list[Any]] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 18, 20, 20)  # as the other pages of the window
        lay.addWidget(
            header(
                "Reports",
                "What salespeople showed versus what customers bought (a purchase links to "
                "a service that scanned the same item), and the store's footfall day by "
                "day.",
            )
        )
        lay.addLayout(self._filters(zones))
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        self.stacks: dict[str, QStackedWidget] = {}  # a table, or why it is empty
        self.chart = ChartCard(
            f"Shown vs bought: the {TOP_ITEMS} items shown or bought most",
            "No item was shown or bought in this period.",
        )
        for title, kind in TABS:
            cols = sr.shown_fields(kind)
            stretch = cols.index("note") if "note" in cols else text_column(cols)
            t = make_table([sr.shown_header(c) for c in cols], stretch=stretch)
            for i, c in enumerate(cols):  # what each figure counts (app/store/figures.py)
                tip = figures.tooltip(HEADER_FIGURES.get(c, c))
                item = t.horizontalHeaderItem(i)
                if tip and item is not None:
                    item.setToolTip(tip)
            self.tables[title] = t
            if title == "Items":  # a picture first: what was shown and what sold
                page = QWidget()
                pl = QVBoxLayout(page)
                pl.setContentsMargins(0, 8, 0, 0)
                pl.addWidget(self.chart)
                pl.addWidget(t, 1)
                self.tabs.addTab(page, title)
            else:
                self.tabs.addTab(self._with_empty_state(title, t), title)
        self.visitors = VisitorsTab()
        self.tabs.addTab(self.visitors, "Repeat visitors")
        lay.addWidget(self.tabs, 1)
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        lay.addWidget(self.status)
        self.refresh()

    def _with_empty_state(self, title: str, table: QTableWidget) -> QStackedWidget:
        """The table, or a sentence saying why it has no row."""
        empty = QLabel(EMPTY[title])
        empty.setObjectName("EmptyState")
        empty.setWordWrap(True)
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        stack = QStackedWidget()
        stack.addWidget(table)
        stack.addWidget(empty)
        self.stacks[title] = stack
        return stack

    def is_empty(self, title: str) -> bool:
        """Whether the tab shows its empty-state sentence instead of its table."""
        stack = self.stacks.get(title)
        return stack is not None and stack.currentIndex() == 1

    def _filters(self, zones: list[str]) -> QHBoxLayout:
        row = QHBoxLayout()
        today = QDate.currentDate()
        self.start = QDateEdit(today.addDays(-29))
        self.end = QDateEdit(today)
        for d in (self.start, self.end):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        self.end.setMinimumDate(self.start.date())  # a period never ends before it starts
        self.start.dateChanged.connect(self._start_changed)
        self.zone = QComboBox()
        self.zone.addItem(ALL)
        self.zone.addItems(zones)
        self.person = QComboBox()
        self.person.addItem(ALL, None)
        for p in catalog.list_salespeople(self.store):
            self.person.addItem(p.name, p.id)
        run = QPushButton("Show")
        run.setObjectName("Primary")
        run.clicked.connect(self.refresh)
        export = QPushButton("Export CSV…")
        export.clicked.connect(lambda: self.export_current())  # not clicked(bool) as a path
        for label, w in (
            ("From", self.start),
            ("to", self.end),
            ("Zone", self.zone),
            ("Salesperson", self.person),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(run)
        row.addWidget(export)
        return row

    def _start_changed(self, start: QDate) -> None:
        """Keep To on or after From: a later From moves To with it, and says so."""
        moved = self.end.date() < start
        self.end.setMinimumDate(start)  # moves To up to From when it was earlier
        if moved:
            self.status.setText(
                f"“To” moved to {start.toString('yyyy-MM-dd')}: a period cannot end before "
                "it starts. Press Show to see it."
            )

    def report_filter(self) -> sr.ReportFilter:
        def epoch(d: QDate) -> float:
            day = dt.datetime(d.year(), d.month(), d.day(), tzinfo=self.tz)
            return day.timestamp()

        start = epoch(self.start.date())
        end = epoch(self.end.date().addDays(1))
        zones = () if self.zone.currentText() == ALL else (self.zone.currentText(),)
        sp = self.person.currentData()
        return sr.ReportFilter(start, end, zones, () if sp is None else (int(sp),))

    def _query(self, f: sr.ReportFilter) -> dict[str, list[Any]]:
        with self.store.read_session() as s:
            items = sr.item_report(s, f)
            return {
                "Footfall": sr.footfall_report(s, f, self.tz),
                "Items": items,
                "Categories": sr.category_report(s, f, items),
                "Salespeople": sr.salesperson_report(s, f),
                "Zones": sr.zone_report(s, f),
                "Services": sr.service_report(s, f, self.tz),
                "Repeat visitors": [
                    visits_per_day(s, f.start, f.end, self.tz),
                    visit_frequency(s, time.time(), self.threshold),
                ],
            }

    def refresh(self, wait: bool = False) -> None:
        """Run the four reports off the GUI thread (`wait=True`: now, for tests)."""
        f = self.report_filter()
        self.status.setText("Loading…")
        if wait:
            self._show(self._query(f))
            return
        self._bg.submit(
            lambda: self._query(f),
            self._show,
            lambda e: self.status.setText(f"Could not load the reports: {e}"),
        )

    def _show(self, results: dict[str, list[Any]]) -> None:
        self.results = results
        for title, kind in TABS:
            cols = sr.shown_fields(kind)
            rows = [[sr.shown_cell(r, c) for c in cols] for r in results[title]]
            fill_table(
                self.tables[title], rows, numeric={i for i, c in enumerate(cols) if c not in TEXT}
            )
            self._show_empty(title, not rows)
        plot_shown_bought(self.chart, results["Items"])
        self.visitors.show_days(results["Repeat visitors"][0])
        self.visitors.show_frequency(results["Repeat visitors"][1])
        n = {k: len(v) for k, v in results.items() if k != "Repeat visitors"}
        self.status.setText(
            f"{plural(n['Items'], 'item')}, {plural(n['Salespeople'], 'salesperson', 'salespeople')}, "
            f"{plural(n['Zones'], 'zone')}, {plural(n['Footfall'], 'day')} with footfall in this "
            "period."
        )

    def _show_empty(self, title: str, empty: bool) -> None:
        stack = self.stacks.get(title)
        if stack is not None:
            stack.setCurrentIndex(1 if empty else 0)

    def export_current(self, path: str | None = None) -> int:
        title = self.tabs.tabText(self.tabs.currentIndex())
        if path is None:
            suggested = last_folder("reports") / f"{title.lower()}.csv"
            path, _ = QFileDialog.getSaveFileName(
                self, "Export report", str(suggested), "CSV (*.csv)"
            )
            if not path:
                return 0
            remember_folder("reports", path)
        if title == "Repeat visitors":
            n = self.visitors.export_csv(path)
            self.status.setText(f"{n} rows exported to {path}")
            return n
        row_type = dict(TABS)[title]
        n = sr.export_csv(self.results.get(title, []), path, row_type)
        self.status.setText(f"{plural(n, 'row')} exported to {path}")
        return n

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._bg.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self._bg.shutdown()


def plot_shown_bought(card: ChartCard, rows: Sequence[sr.ItemRow], top: int = TOP_ITEMS) -> None:
    """Horizontal bars, two per item: times shown in a service, times bought."""
    best = sorted(rows, key=lambda r: (r.times_shown + r.times_bought, r.revenue), reverse=True)
    best = [r for r in best[:top] if r.times_shown or r.times_bought][::-1]  # top at the top
    card.show_empty(not best)
    plot = card.plot
    plot.clear()
    if not best:
        return
    ys = list(range(len(best)))
    for values, shift, color, name in (
        ([r.times_shown for r in best], 0.19, style.ACCENT, "shown"),
        ([r.times_bought for r in best], -0.19, style.OK, "bought"),
    ):
        plot.addItem(
            pg.BarGraphItem(
                x0=0,
                y=[y + shift for y in ys],
                width=values,
                height=0.36,
                brush=pg.mkBrush(color),
                pen=pg.mkPen(None),
                name=name,
            )
        )
    labels = [(y, (r.name or r.barcode)[:28]) for y, r in zip(ys, best, strict=True)]
    plot.getAxis("left").setTicks([labels])
    plot.setYRange(-0.6, len(best) - 0.4, padding=0)
    top_value = max(max(r.times_shown, r.times_bought) for r in best)
    plot.setXRange(0, top_value * 1.05 + 0.5, padding=0)
    plot.getAxis("bottom").setTickSpacing(levels=[(_whole_step(top_value), 0)])  # counts
    if plot.plotItem.legend is None:
        plot.addLegend(offset=(-10, -10))
    legend = plot.plotItem.legend
    if legend is not None:
        legend.clear()
        legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=style.ACCENT), "shown")
        legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=style.OK), "bought")
