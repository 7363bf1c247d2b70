"""Small pieces shared by the sales dialogs (POS import, catalog, salespeople, reports,
pairing): a page header, table filling, and running a progress generator off the GUI
thread with its progress delivered back on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.sync.csvio import mapping_problem, shown
from app.ui.folders import last_folder, remember_folder
from app.ui.workers import Background

log = logging.getLogger(__name__)

ENCODINGS = [("UTF-8", "utf-8"), ("Windows / Latin-1", "cp1252"), ("UTF-16", "utf-16")]


NONE = "(none)"  # an optional column left out
CHOOSE = "— choose a column —"  # a required column not chosen yet


def fill_column_choices(
    combos: dict[str, QComboBox],
    columns: list[str],
    required: tuple[str, ...],
    guess: dict[str, str],
) -> None:
    """Offer `columns` in each field's combo (item data: the header name) after CHOOSE
    (required fields) or NONE (optional ones), both with data None, and select the
    guessed column, else that first item: a column is never chosen by default."""
    for fld, cb in combos.items():
        want = guess.get(fld)
        cb.blockSignals(True)
        cb.clear()
        cb.addItem(CHOOSE if fld in required else NONE, None)
        for col in columns:
            cb.addItem(shown(col), col)
        cb.setCurrentIndex(max(cb.findData(want), 0) if want else 0)
        cb.blockSignals(False)


def column_problem(
    combos: dict[str, QComboBox],
    columns: list[str],
    labels: dict[str, str],
    required: tuple[str, ...],
) -> str:
    """Why the chosen columns cannot be used, in one line ('' when they can, or when
    no file is loaded)."""
    if not columns:
        return ""
    chosen = {f: cb.currentData() for f, cb in combos.items()}
    return mapping_problem(chosen, labels, required)


def choose_csv(parent: QWidget, title: str, current: Path | None) -> Path | None:
    """A sales CSV file picked by the person (None: cancelled), starting beside the file
    loaded now, else in the folder the last sales file came from."""
    start = current.parent if current else last_folder("sales files")
    path, _ = QFileDialog.getOpenFileName(
        parent, title, str(start), "CSV files (*.csv *.txt);;All files (*)"
    )
    if not path:
        return None
    remember_folder("sales files", path)
    return Path(path)


def header(title: str, subtitle: str = "") -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 8)
    lay.setSpacing(2)
    t = QLabel(title)
    t.setObjectName("PageTitle")
    lay.addWidget(t)
    if subtitle:
        s = QLabel(subtitle)
        s.setObjectName("PageSubtitle")
        s.setWordWrap(True)
        lay.addWidget(s)
    return w


def make_table(headers: Sequence[str], stretch: int = -1) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(list(headers))
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    hh = t.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch >= 0:
        hh.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        hh.setStretchLastSection(True)
    return t


def fill_table(
    table: QTableWidget, rows: Sequence[Sequence[Any]], numeric: set[int] | None = None
) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = _fmt(value)
            item = QTableWidgetItem(text)
            if numeric and c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


class ProgressJob(QObject):
    """Iterate a progress generator in the background; signals arrive on the GUI thread.

    `progress(item)` for each yielded item, then `finished(last_item)` or
    `failed(message)`. `cancel()` stops at the next yield, unless the job has reached
    its write phase (an item whose `phase` is "write"): a write is never cut short."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, background: Background, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bg = background
        self._cancel = threading.Event()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def start(self, make: Callable[[], Iterator[Any]]) -> None:
        self._cancel.clear()
        self._running = True
        self._bg.submit(lambda: self._run(make), self._done, self._error)

    def cancel(self) -> None:
        self._cancel.set()

    def _run(self, make: Callable[[], Iterator[Any]]) -> Any:
        last = None
        committed = False  # once a job is writing, it runs to the end
        gen = make()
        try:
            for item in gen:
                last = item
                committed = committed or getattr(item, "phase", "") in ("write", "done")
                self.progress.emit(item)
                if self._cancel.is_set() and not committed:
                    return None
        finally:
            close = getattr(gen, "close", None)
            if close:
                close()
        return last

    @Slot(object)
    def _done(self, last: Any) -> None:
        self._running = False
        if last is None and self._cancel.is_set():
            self.failed.emit("cancelled: nothing was imported")
        else:
            self.finished.emit(last)

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        self._running = False
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, ValueError):
            log.warning("background job failed: %r", exc)
        self.failed.emit(msg)
