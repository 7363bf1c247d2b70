"""The Reports page's "Repeat visitors" tab: new and returning visitors day by day (a
chart and a table), and the staff recognised (kept apart from every count). Counts
only: no face, no name. Empty unless the store opted in to recognition."""

from __future__ import annotations

import csv
from datetime import date

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui import style
from app.ui.dashboard_widgets import ChartCard
from app.ui.sales_widgets import fill_table, make_table

EMPTY = (
    "No recognised visitor in this period. Repeat visitors are counted only in the "
    "repeat visitors mode (Settings > Privacy)."
)


def rows_of(days: dict[date, dict[str, int]]) -> list[list[object]]:
    """Table rows: day, new, returning, returning share, staff seen."""
    out: list[list[object]] = []
    for d, c in sorted(days.items()):
        new, back = c.get("new", 0), c.get("returning", 0)
        share = f"{back / (new + back):.0%}" if new + back else "-"
        out.append([d.strftime("%Y-%m-%d %a"), new, back, share, c.get("staff", 0)])
    return out


HEADER = ["Day", "New", "Returning", "Returning share", "Staff seen"]


class VisitorsTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        self.chart = ChartCard("New and returning visitors, day by day", EMPTY)
        self.table = make_table(HEADER)
        self.rows: list[list[object]] = []
        lay.addWidget(self.chart)
        lay.addWidget(self.table, 1)
        self.frequency = make_table(["Visits in the last 30 days", "Visitors"])
        self.frequency.setMaximumHeight(150)
        lay.addWidget(self.frequency)

    def show_days(self, days: dict[date, dict[str, int]]) -> None:
        rows = self.rows = rows_of(days)
        fill_table(self.table, rows, numeric={1, 2, 4})
        visitors = [r for r in rows if r[1] or r[2]]
        self.chart.show_empty(not visitors)
        plot = self.chart.plot
        plot.clear()
        if not visitors:
            return
        xs = list(range(len(visitors)))
        new = [int(r[1]) for r in visitors]  # type: ignore[call-overload]
        back = [int(r[2]) for r in visitors]  # type: ignore[call-overload]
        plot.addItem(pg.BarGraphItem(x=xs, height=new, width=0.6, brush=pg.mkBrush(style.ACCENT)))
        plot.addItem(
            pg.BarGraphItem(x=xs, y0=new, height=back, width=0.6, brush=pg.mkBrush(style.OK))
        )
        plot.getAxis("bottom").setTicks(
            [[(x, str(r[0])[5:10]) for x, r in zip(xs, visitors, strict=True)]]
        )
        if plot.plotItem.legend is None:
            plot.addLegend(offset=(-10, 10))
        legend = plot.plotItem.legend
        if legend is not None:
            legend.clear()
            legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=style.ACCENT), "new")
            legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=style.OK), "returning")

    def export_csv(self, path: str) -> int:
        """The table as CSV (days and counts only); returns the row count."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            w.writerows(self.rows)
        return len(self.rows)

    def show_frequency(self, freq: dict[int, int]) -> None:
        """How many visitors came once, twice, ... (from the kept templates)."""
        rows: list[list[object]] = [
            [f"{n} visit" + ("" if n == 1 else "s"), people] for n, people in freq.items()
        ]
        fill_table(self.frequency, rows, numeric={1})
