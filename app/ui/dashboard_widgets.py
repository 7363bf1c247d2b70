"""The dashboard's building blocks: KPI cards, chart cards with an empty state, and the
labels they show (also used by the reports page)."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout

from app.ui import style

pg.setConfigOptions(antialias=True, background="w", foreground=style.INK)


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def dwell_bin_labels(bins: list[int]) -> list[str]:
    """Short range labels for the visit-length bars ("0-10s", "30s-1m", "30m+"): a
    label per bar that fits under it on a half-width chart."""

    def short(sec: int, unit: bool) -> str:
        if sec < 60:
            return f"{sec}s" if unit else str(sec)
        return f"{sec // 60}m" if unit else str(sec // 60)

    out = []
    for lo, hi in zip(bins, [*bins[1:], None], strict=True):
        if hi is None:
            out.append(short(lo, True) + "+")
        elif (lo < 60) == (hi < 60):  # one unit for both ends
            out.append(f"{short(lo, False)}-{short(hi, True)}")
        else:
            out.append(f"{short(lo, True)}-{short(hi, True)}")
    return out


def card(title: str = "") -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("Card")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(16, 14, 16, 14)
    lay.setSpacing(8)
    if title:
        t = QLabel(title)
        t.setObjectName("SectionTitle")
        lay.addWidget(t)
    return frame, lay


class Kpi(QFrame):
    def __init__(self, label: str, hint: str = "") -> None:
        super().__init__()
        self.setObjectName("Card")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.setSpacing(2)
        self.label = QLabel(label.upper())
        self.label.setObjectName("KpiLabel")
        self.value = QLabel("—")
        self.value.setObjectName("KpiValue")
        self.hint = QLabel(hint)
        self.hint.setObjectName("KpiHint")
        self.hint.setWordWrap(True)
        for w in (self.label, self.value, self.hint):
            lay.addWidget(w)
        lay.addStretch(1)  # top-aligned: a hint on two lines leaves the title in line

    def set(self, value: str, hint: str | None = None) -> None:
        self.value.setText(value)
        if hint is not None:
            self.hint.setText(hint)


class _Plot(pg.PlotWidget):
    """A plot that asks for little (pyqtgraph asks 640x480): a page's spare height goes
    where the layout's stretch says, rather than to a scroll bar."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(320, 220)


def empty_message(text: str) -> str:
    """A chart's empty-state text as shown: its first line (what is missing) in bold,
    the rest (why, and what to do) below it."""
    head, _, rest = text.partition("\n")
    body = f"<b>{html.escape(head)}</b>"
    return f"{body}<br>{html.escape(rest)}" if rest else body


class ChartCard(QFrame):
    """A titled chart with an empty-state message instead of a blank plot: with no data
    the card shrinks to its title and the message (a few lines, not a large blank card)
    and does not grow with the page."""

    def __init__(self, title: str, empty_text: str) -> None:
        super().__init__()
        self.setObjectName("Card")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        t = QLabel(title)
        t.setObjectName("SectionTitle")
        lay.addWidget(t)
        self._empty = False
        self.plot = _Plot()
        self.plot.setMinimumHeight(200)
        self.plot.setMaximumHeight(260)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        for ax in ("left", "bottom"):
            self.plot.getAxis(ax).setPen(pg.mkPen(style.LINE))
            self.plot.getAxis(ax).setTextPen(pg.mkPen(style.MUTED))
        self.empty = QLabel(empty_message(empty_text))
        self.empty.setObjectName("ChartEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty.setVisible(False)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.empty)
        self.show_empty(False)

    def show_empty(self, empty: bool) -> None:
        self._empty = empty
        self.plot.setVisible(not empty)
        self.empty.setVisible(empty)
        grow = QSizePolicy.Policy.Maximum if empty else QSizePolicy.Policy.Preferred
        self.setSizePolicy(QSizePolicy.Policy.Preferred, grow)
        self.updateGeometry()

    @property
    def is_empty(self) -> bool:
        return self._empty


def hour_ticks(plot: pg.PlotWidget) -> None:
    plot.getAxis("bottom").setTicks([[(h, f"{h:02d}h") for h in range(0, 24, 3)]])
    plot.setXRange(-0.7, 23.7, padding=0)
