"""The Settings page's "Store figures" group: what the Analytics KPIs need from the
manager (app/config/kpis.py): the store's capacity (congestion, utilisation), the
visitors one salesperson looks after (staffing adequacy), the queue wait target, the
zone each queue area serves (abandonment) and the weekly staffing schedule (salespeople
on duty when they do not use the tablets). Saved with the other settings on Save."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.config.kpis import StaffShift
from app.config.schedule_text import DAYS, ScheduleRow, parse_rows, rows_of, staff_grid
from app.ui import style

KPI_LABELS = {
    "kpis.capacity": "Store figures: people the store holds",
    "kpis.visitors_per_salesperson": "Store figures: visitors one salesperson looks after",
    "kpis.wait_target_s": "Store figures: queue wait target",
    "kpis.queue_service": "Store figures: the zone a queue serves",
    "kpis.schedule": "Store figures: staffing schedule",
}
NOT_SET = "not set"
NO_ZONE = "— not set —"
COLUMNS = ("Days", "From", "To", "Salespeople")
NEW_ROW = ScheduleRow("", "", "", "")  # a new shift starts empty: counted once filled in
PLACEHOLDERS = ("e.g. Mon-Fri", "09:00", "18:00", "0")  # shown grey in an empty cell
SpinFactory = Callable[[float, float, int, str], QDoubleSpinBox]


def _plain_spin(lo: float, hi: float, decimals: int, suffix: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSuffix(suffix)
    return s


class PlaceholderDelegate(QStyledItemDelegate):
    """An empty cell of the schedule shows what to write there, grey (and so does the
    cell's editor): a new shift's row says what it wants without counting anybody."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        if str(index.data() or "").strip() or not 0 <= index.column() < len(PLACEHOLDERS):
            return
        painter.save()
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        rect = option.rect.adjusted(4, 0, -4, 0)
        align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(rect, align, PLACEHOLDERS[index.column()])
        painter.restore()

    def createEditor(  # noqa: N802 (Qt's name)
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit) and 0 <= index.column() < len(PLACEHOLDERS):
            editor.setPlaceholderText(PLACEHOLDERS[index.column()])
        return editor


class ScheduleGrid(QTableWidget):
    """Read-only: salespeople on duty per weekday and hour, as the rows above say."""

    def __init__(self) -> None:
        super().__init__(7, 24)
        self.setVerticalHeaderLabels(list(DAYS))
        self.setHorizontalHeaderLabels([f"{h}" for h in range(24)])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(18)
        self.verticalHeader().setDefaultSectionSize(20)
        self.setFixedHeight(20 * 7 + self.horizontalHeader().sizeHint().height() + 4)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip("Salespeople on duty per day and hour (local time), from the rows above")
        self.grid = [[0] * 24 for _ in range(7)]
        self.waiting = ""  # why the week is not shown ("" when it is)

    def show_shifts(self, shifts: list[StaffShift]) -> None:
        self.waiting = ""
        self.clearSpans()
        self.setEnabled(True)
        self.grid = staff_grid(shifts)
        top = max((n for row in self.grid for n in row), default=0) or 1
        accent = QColor(style.ACCENT)
        for d, row in enumerate(self.grid):
            for h, n in enumerate(row):
                item = QTableWidgetItem(str(n) if n else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if n:
                    c = QColor(accent)
                    c.setAlpha(int(50 + 150 * n / top))
                    item.setBackground(c)
                self.setItem(d, h, item)

    def show_waiting(self, text: str) -> None:
        """No week while a row is wrong (never the numbers of the rows before): the grid
        greyed, empty, saying `text` ("Fix row 2 to see the week") across it."""
        self.waiting = text
        self.grid = [[0] * 24 for _ in range(7)]
        self.clearContents()
        self.setSpan(0, 0, 7, 24)
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setItem(0, 0, item)
        self.setEnabled(False)


class StoreFiguresGroup(QGroupBox):
    """The KPI settings; `apply` writes them into a config dict (ValueError, a sentence
    naming the field or the schedule's row, when one is wrong)."""

    def __init__(self, spin: SpinFactory = _plain_spin) -> None:
        super().__init__("Store figures (for Analytics)")
        lay = QVBoxLayout(self)
        intro = QLabel(
            "What the Analytics page measures against. A figure whose setting is not set shows “–”."
        )
        intro.setObjectName("Muted")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        f = QFormLayout()
        self.capacity = spin(0, 100000, 0, " people")
        self.capacity.setSpecialValueText(NOT_SET)
        self.capacity.setToolTip(
            "How many people the store holds at once (the fire-safety figure, or what "
            "feels full). Congestion = people in the store / this; utilisation = entries "
            "in an hour / this."
        )
        self.per_salesperson = spin(0, 10000, 1, " visitors an hour")
        self.per_salesperson.setSpecialValueText(NOT_SET)
        self.per_salesperson.setToolTip(
            "How many visitors an hour one salesperson can look after. Staffing adequacy = "
            "salespeople on duty / (visitors / this, rounded up)."
        )
        self.wait_target = spin(0.1, 120, 1, " min")
        self.wait_target.setToolTip(
            "A queue wait this long counts fully in the bottleneck score (3 min by default)."
        )
        f.addRow("People the store holds", self.capacity)
        f.addRow("One salesperson looks after", self.per_salesperson)
        f.addRow("Queue wait target", self.wait_target)
        self.queues_box = QWidget()
        self.queues_form = QFormLayout(self.queues_box)
        self.queues_form.setContentsMargins(0, 0, 0, 0)
        self.serves: dict[str, QComboBox] = {}
        self._other_service: dict[str, str] = {}
        f.addRow("Queue areas serve", self.queues_box)
        lay.addLayout(f)

        head = QLabel("<b>Salespeople on duty</b> (a week that repeats; local time)")
        lay.addWidget(head)
        note = QLabel(
            "One row per shift: days (Mon-Fri, Sat, “every day”), from, to (24:00 for "
            "midnight), how many salespeople. Rows that overlap add up. Empty: the "
            "salespeople on duty are counted from the tablets' services."
        )
        note.setObjectName("Muted")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setMinimumHeight(24 * 4 + 30)
        self.table.setMaximumHeight(24 * 8 + 30)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.setItemDelegate(PlaceholderDelegate(self.table))
        self.table.itemChanged.connect(lambda _i: self.update_preview())
        lay.addWidget(self.table)
        buttons = QHBoxLayout()
        add = QPushButton("Add a shift")
        add.clicked.connect(lambda: self.add_row())
        self.remove = remove = QPushButton("Remove the shift")
        remove.setToolTip("Removes the selected shift(s): click a row first")
        remove.clicked.connect(self.remove_row)
        remove.setEnabled(False)
        self.table.itemSelectionChanged.connect(
            lambda: remove.setEnabled(bool(self._selected_rows()))
        )
        self.problem = QLabel("")
        self.problem.setObjectName("Error")
        self.problem.setWordWrap(True)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addWidget(self.problem, 1)
        lay.addLayout(buttons)
        self.preview = ScheduleGrid()
        lay.addWidget(self.preview)
        self.update_preview()

    # --- the schedule's rows ---------------------------------------------------------
    def rows(self) -> list[ScheduleRow]:
        def cell(r: int, c: int) -> str:
            item = self.table.item(r, c)
            return item.text() if item is not None else ""

        return [ScheduleRow(*(cell(r, c) for c in range(4))) for r in range(self.table.rowCount())]

    def set_rows(self, rows: list[ScheduleRow]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for row in rows:
            self._append(row)
        self.table.blockSignals(False)
        self.update_preview()

    def _append(self, row: ScheduleRow) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, text in enumerate((row.days, row.start, row.end, row.staff)):
            self.table.setItem(r, c, QTableWidgetItem(text))
        return r

    def add_row(self, row: ScheduleRow | None = None) -> int:
        """A new shift: `row`, else an empty row (its cells show what to write, grey; it
        counts nobody until it is filled in)."""
        r = self._append(row or NEW_ROW)
        self.table.setCurrentCell(r, 0)
        self.update_preview()
        return r

    def _selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)

    def remove_row(self) -> None:
        """Remove the selected shifts (nothing when none is selected)."""
        rows = self._selected_rows()
        for r in rows:
            self.table.removeRow(r)
        if rows:
            self.table.clearSelection()
            self.update_preview()

    def shifts(self) -> list[StaffShift]:
        """The schedule's shifts; ValueError "Staffing schedule, row n: …"."""
        try:
            return parse_rows(self.rows())
        except ValueError as exc:
            raise ValueError(f"Staffing schedule, {str(exc)[0].lower()}{str(exc)[1:]}") from None

    def update_preview(self) -> None:
        """The grid below the rows, and the first wrong row's problem, as they are typed."""
        try:
            shifts = self.shifts()
        except ValueError as exc:
            self.problem.setText(str(exc))
            n = re.search(r"\brow (\d+)", str(exc))
            self.preview.show_waiting(
                f"Fix row {n.group(1)} to see the week" if n else "Fix the rows to see the week"
            )
            return
        self.problem.setText("")
        self.preview.show_shifts(shifts)

    # --- the form ---------------------------------------------------------------------
    def set_config(self, cfg: AppConfig) -> None:
        k = cfg.kpis
        self.capacity.setValue(float(k.capacity or 0))
        self.per_salesperson.setValue(float(k.visitors_per_salesperson or 0))
        self.wait_target.setValue(k.wait_target_s / 60)
        queues = [z.name for z in cfg.zones if z.kind == "queue"]
        others = [z.name for z in cfg.zones if z.kind != "queue"]
        while self.queues_form.rowCount():
            self.queues_form.removeRow(0)
        self.serves = {}
        for q in queues:
            box = QComboBox()
            box.addItem(NO_ZONE, "")
            for z in others:
                box.addItem(z, z)
            served = k.queue_service.get(q, "")
            if served and box.findData(served) < 0:
                box.addItem(served, served)  # a zone no longer drawn: kept as it is
            box.setCurrentIndex(max(0, box.findData(served)))
            box.setToolTip(
                f"The zone people queueing in “{q}” are waiting for (the till, the "
                "counter): who leaves the queue without reaching it abandoned the queue."
            )
            self.serves[q] = box
            self.queues_form.addRow(q, box)
        if not queues:
            none = QLabel("No queue area is drawn (Cameras > Edit zones and lines).")
            none.setObjectName("Muted")
            self.queues_form.addRow(none)
        self._other_service = {q: z for q, z in k.queue_service.items() if q not in queues}
        self.set_rows(rows_of(k.schedule))

    def apply(self, kpis: dict[str, Any]) -> None:
        """Write the form into the `kpis` part of a config dict."""
        kpis["capacity"] = round(self.capacity.value()) or None
        kpis["visitors_per_salesperson"] = self.per_salesperson.value() or None
        kpis["wait_target_s"] = round(self.wait_target.value() * 60, 1)
        service = dict(self._other_service)
        service.update(
            {q: box.currentData() for q, box in self.serves.items() if box.currentData()}
        )
        kpis["queue_service"] = service
        kpis["schedule"] = [s.model_dump() for s in self.shifts()]

    def widget_for(self, key: str) -> QWidget:
        """The input of a setting ("kpis.capacity", "kpis.schedule"…), to show it."""
        if key == "kpis.queue_service":
            return next(iter(self.serves.values()), self.queues_box)
        return {
            "kpis.capacity": self.capacity,
            "kpis.visitors_per_salesperson": self.per_salesperson,
            "kpis.wait_target_s": self.wait_target,
            "kpis.schedule": self.table,
        }.get(key, self)
