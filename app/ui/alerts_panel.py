"""The dashboard's alerts: the open ones, each with Acknowledge, and "Acknowledge all".

The rules run in the engine (app/alert_monitor.py); this list shows what they decided:
the store's open alerts (read with the dashboard's figures) merged with the changes that
arrive live from the bus. An alert leaves the list when it resolves; one acknowledged
stays (greyed) until it does, except a notice (no rule resolves it), which goes; one
reopened (trouble again within its rule's cooldown) asks to be acknowledged again.
`open_count_changed` gives the number of open alerts nobody acknowledged yet: the
badge on the Dashboard page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.alerts import RULE_KINDS, AlertOpened, AlertRecord, AlertResolved
from app.events import Alert
from app.ui import style
from app.ui.dashboard_data import AlertItem

EMPTY_ALERTS = (
    "No alerts. Cameras going offline, zones over their capacity, long queues and "
    "problems of the disk, the HQ sync or retention show up here."
)
MAX_SHOWN = 12


def item_of(ev: Alert | AlertRecord) -> AlertItem:
    if isinstance(ev, AlertRecord):
        return AlertItem(
            ev.id, ev.kind, ev.message, ev.camera, ev.zone, ev.opened_at,
            acknowledged=ev.acknowledged_at is not None, count=ev.count,
        )  # fmt: skip
    return AlertItem(ev.id, ev.kind, ev.message, ev.camera, ev.zone, ev.ts)


class AlertsPanel(QWidget):
    acknowledge_requested = Signal(object, str)  # alert ids (None: every open one), who
    open_count_changed = Signal(int)  # open alerts not acknowledged yet

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz: ZoneInfo | None = None
        self.stored: dict[str, AlertItem] = {}  # the store's open alerts, last read
        self.live: dict[str, AlertItem] = {}  # opened or changed since
        self.gone: set[str] = set()  # resolved since (the store may not have it yet)
        self.acked: set[str] = set()
        self._count = -1
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("Muted")
        self.ack_all = QPushButton("Acknowledge all")
        self.ack_all.clicked.connect(lambda: self.acknowledge_all())
        head.addWidget(self.summary, 1)
        head.addWidget(self.ack_all)
        lay.addLayout(head)
        self.rows = QVBoxLayout()
        self.rows.setSpacing(6)
        lay.addLayout(self.rows)
        self._show()

    # --- data -------------------------------------------------------------------------
    def set_stored(self, items: Iterable[AlertItem]) -> None:
        """The store's open alerts; what resolved live since is not brought back."""
        self.stored = {a.id: a for a in items}
        for a in self.stored.values():
            if a.acknowledged:
                self.acked.add(a.id)
        self._show()

    def on_alert(self, ev: Alert | AlertRecord) -> None:
        item = item_of(ev)
        if isinstance(ev, AlertResolved):
            self.gone.add(ev.id)
            self.live.pop(ev.id, None)
        else:
            self.gone.discard(ev.id)
            self.live[ev.id] = item
            if isinstance(ev, AlertOpened):
                self.acked.discard(ev.id)  # new, or trouble again: to be acknowledged again
            elif item.acknowledged:
                self.acked.add(ev.id)
        self._show()

    def acknowledge(self, alert_id: str, who: str = "desktop") -> None:
        self.acknowledge_ids([alert_id], who)

    def acknowledge_all(self, who: str = "desktop") -> None:
        ids = [a.id for a in self.open_items() if a.id not in self.acked]
        if ids:
            self.acknowledge_ids(ids, who)

    def acknowledge_ids(self, ids: list[str], who: str) -> None:
        for i in ids:
            self.acked.add(i)
            item = self.live.get(i) or self.stored.get(i)
            if item is not None and item.kind not in RULE_KINDS:
                self.gone.add(i)  # a notice is over once acknowledged
        self._show()
        self.acknowledge_requested.emit(list(ids), who)

    def open_items(self) -> list[AlertItem]:
        items = {**self.stored, **self.live}
        return sorted(
            (a for a in items.values() if a.id not in self.gone), key=lambda a: -a.ts
        )

    def open_count(self) -> int:
        return len([a for a in self.open_items() if a.id not in self.acked])

    def visible_alert_ids(self) -> list[str]:
        """The alerts shown with an Acknowledge button."""
        ids = []
        for w in self.findChildren(QPushButton):
            if w.property("alert_id") and w.isVisibleTo(self):
                ids.append(str(w.property("alert_id")))
        return ids

    # --- view ---------------------------------------------------------------------------
    def _show(self) -> None:
        _clear(self.rows)
        shown = self.open_items()[:MAX_SHOWN]
        count = self.open_count()
        self.ack_all.setEnabled(count > 0)
        total = len(self.open_items())
        seen = f" · {total - count} acknowledged" if total > count else ""
        self.summary.setText(f"{total} open{seen}" if total else "")
        if count != self._count:
            self._count = count
            self.open_count_changed.emit(count)
        if not shown:
            lab = QLabel(EMPTY_ALERTS)
            lab.setObjectName("EmptyState")
            lab.setWordWrap(True)
            self.rows.addWidget(lab)
            return
        for a in shown:
            self.rows.addLayout(self._row(a))

    def _row(self, a: AlertItem) -> QHBoxLayout:
        row = QHBoxLayout()
        acked = a.id in self.acked
        dot = QLabel("●")
        color = style.BAD if a.kind == "camera_offline" else style.WARN
        dot.setStyleSheet(f"color:{'#9ca3af' if acked else color};")
        at = datetime.fromtimestamp(a.ts, self.tz).strftime("%H:%M")
        again = f" ({a.count} times)" if a.count > 1 else ""
        text = QLabel(f"<b>{at}</b>  {a.message}{again}")
        text.setWordWrap(True)
        row.addWidget(dot)
        row.addWidget(text, 1)
        if acked:
            seen = QLabel("acknowledged")
            seen.setObjectName("Muted")
            row.addWidget(seen)
        else:
            ack = QPushButton("Acknowledge")
            ack.setProperty("alert_id", a.id)
            ack.clicked.connect(lambda _=False, i=a.id: self.acknowledge(i))
            row.addWidget(ack)
        return row


def _clear(layout: Any) -> None:
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.setParent(None)
            w.deleteLater()
        elif item.layout() is not None:
            sub = item.layout()
            _clear(sub)
            sub.deleteLater()
