"""POS import: choose a CSV, map its columns, preview, check every row, then import all
valid rows in one transaction with a progress bar. Also shows the webhook address and
secret for POS systems that push sales live.

    PosImportDialog(store, tz=cfg.store.timezone, link_window_s=cfg.lan.link_window_min * 60,
                    webhook_url=server.webhook_url() if server else "").exec()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.sync import pos, pos_values
from app.sync.csvio import read_csv
from app.sync.store_protocol import StoreLike
from app.ui.sales_widgets import (
    ENCODINGS,
    ProgressJob,
    choose_csv,
    column_problem,
    fill_column_choices,
    fill_table,
    header,
    make_table,
)
from app.ui.workers import Background
from app.words import plural

log = logging.getLogger(__name__)

LABELS = {
    "transaction_id": "Transaction id",
    "time": "Date and time of sale",
    "time_of_day": "Time, if in its own column (optional)",
    "barcode": "Barcode",
    "amount": "Amount",
    "salesperson_code": "Salesperson code (optional)",
}
REQUIRED = ("transaction_id", "time", "barcode", "amount")


AUTO_CHECK_BYTES = 2_000_000  # files up to this size are checked as soon as they load


def _rows(n: int) -> str:
    return plural(n, "row")


class PosImportDialog(QDialog):
    def __init__(
        self,
        store: StoreLike,
        *,
        tz: str = "UTC",
        link_window_s: float = 7200.0,
        webhook_url: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import POS sales")
        self.resize(980, 720)
        self.store, self.tz, self.link_window_s = store, tz, link_window_s
        self._bg = Background(1, self)
        self.job = ProgressJob(self._bg, self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.path: Path | None = None
        self.header_cols: list[str] = []
        self.last_result: pos.ImportResult | None = None
        self.valid_rows: int | None = None  # the last check's count (None: not checked)

        lay = QVBoxLayout(self)
        lay.addWidget(
            header(
                "Import POS sales",
                "Sales are linked to the services that showed the same item. Importing the "
                "same file again adds nothing.",
            )
        )
        lay.addLayout(self._file_row())
        top = QHBoxLayout()
        top.addWidget(self._mapping_box(), 0)
        self.preview = make_table([])
        self.preview.setMinimumSize(420, 200)  # the file's columns, not a strip
        top.addWidget(self.preview, 1)
        lay.addLayout(top, 3)
        self.date_order = QLabel("")
        self.date_order.setObjectName("Muted")
        self.date_order.setWordWrap(True)
        lay.addWidget(self.date_order)
        self.errors = make_table(["Line", "Problem"], stretch=1)
        self.errors.setMinimumHeight(150)  # several problems at once, never one row
        self.errors.setWordWrap(True)
        lay.addWidget(self.errors, 2)
        self.status = QLabel("Choose a CSV file exported from your till.")
        self.status.setObjectName("Muted")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addLayout(self._action_row())
        lay.addWidget(self._webhook_box(webhook_url))
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.close_btn = QPushButton("Close")
        self.close_btn.clicked.connect(self.reject)
        bottom.addWidget(self.close_btn)
        lay.addLayout(bottom)

    # --- layout ----------------------------------------------------------------------

    def _file_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen")
        choose = QPushButton("Choose CSV…")
        choose.clicked.connect(self._choose)
        self.encoding = QComboBox()
        for label, enc in ENCODINGS:
            self.encoding.addItem(label, enc)
        self.encoding.currentIndexChanged.connect(
            lambda _: self.load(self.path) if self.path else None
        )
        row.addWidget(self.path_edit, 1)
        row.addWidget(QLabel("Encoding"))
        row.addWidget(self.encoding)
        row.addWidget(choose)
        return row

    def _mapping_box(self) -> QGroupBox:
        box = QGroupBox("Columns")
        box.setMaximumWidth(420)  # the rest of the width is the file's preview
        form = QFormLayout(box)
        self.combos: dict[str, QComboBox] = {}
        for fld, label in LABELS.items():
            cb = QComboBox()
            cb.setMinimumWidth(160)
            cb.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            cb.setMinimumContentsLength(14)
            cb.currentIndexChanged.connect(self._mapping_changed)
            self.combos[fld] = cb
            form.addRow(label, cb)
            if fld == "time_of_day":  # the date format, below the date and time columns
                self.time_format = QComboBox()
                self.time_format.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                self.time_format.setMinimumContentsLength(14)
                for text, fmt in pos_values.TIME_FORMATS:
                    self.time_format.addItem(text, fmt)
                self.time_format.currentIndexChanged.connect(lambda _: self._mapping_changed())
                form.addRow("Date format", self.time_format)
        self.mapping_hint = QLabel("")
        self.mapping_hint.setObjectName("Muted")
        self.mapping_hint.setWordWrap(True)
        form.addRow(self.mapping_hint)
        return box

    def _action_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.check_btn = QPushButton("Check rows")
        self.check_btn.clicked.connect(self.check)
        self.import_btn = QPushButton("Import")
        self.import_btn.setObjectName("Primary")
        self.import_btn.clicked.connect(self.start_import)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.job.cancel)
        self.cancel_btn.setVisible(False)
        for b in (self.check_btn, self.import_btn):
            b.setEnabled(False)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        for b in (self.cancel_btn, self.check_btn, self.import_btn):
            row.addWidget(b)
        return row

    def _webhook_box(self, url: str) -> QGroupBox:
        box = QGroupBox("Live sales from the POS (webhook)")
        box.setCheckable(True)
        box.setChecked(False)
        form = QFormLayout(box)
        self.webhook_url = QLineEdit(url or "Start the tablet server to receive sales live")
        self.webhook_url.setReadOnly(True)
        self.secret = QLineEdit()
        self.secret.setReadOnly(True)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        show = QPushButton("Show")
        show.setCheckable(True)
        show.toggled.connect(self._reveal)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.secret.text()))
        srow = QHBoxLayout()
        srow.addWidget(self.secret, 1)
        srow.addWidget(show)
        srow.addWidget(copy)
        form.addRow("Address", self.webhook_url)
        form.addRow("Secret", srow)
        hint = QLabel(
            "POST JSON (Content-Type: application/json, at most 256 KB). Sign each request: "
            f"{pos.SIGNATURE_HEADER}: sha256=HMAC(secret, '<{pos.TIMESTAMP_HEADER}>.' + body)"
        )
        hint.setObjectName("Muted")
        form.addRow("", hint)
        return box

    def _reveal(self, on: bool) -> None:
        if on and not self.secret.text():
            self.secret.setText(pos.webhook_secret(self.store))
        self.secret.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)

    # --- steps ------------------------------------------------------------------------

    def _choose(self) -> None:
        path = choose_csv(self, "POS export", self.path)
        if path is not None:
            self.load(path)

    def load(self, path: Path | None) -> bool:
        """Preview a file and guess the column mapping; False (with a message) if refused."""
        if path is None:
            return False
        self.path = path
        self.path_edit.setText(str(path))
        if not self.job.running:
            self._reset_progress()
        try:
            pv = pos.preview(path, self.encoding.currentData())
        except pos.PosImportError as exc:
            self._message(str(exc), error=True)
            self.header_cols = []
            self.preview.setColumnCount(0)
            self.preview.setRowCount(0)
            self._set_columns([])
            return False
        self.header_cols = pv.header
        self.preview.setColumnCount(len(pv.header))
        self.preview.setHorizontalHeaderLabels(pv.header)
        fill_table(self.preview, pv.rows)
        self._set_columns(pv.header, pv.guess)
        self._message(
            f"{path.name}: showing the first {plural(len(pv.rows), 'row')}. Check the columns."
        )
        if self.mapping() is not None and path.stat().st_size <= AUTO_CHECK_BYTES:
            self.check()  # a till's day or month: checked at once, Import only if worth it
        return True

    def _set_columns(self, cols: list[str], guess: dict[str, str] | None = None) -> None:
        fill_column_choices(self.combos, cols, REQUIRED, guess or {})
        self._mapping_changed()

    def mapping_problem(self) -> str:
        """Why Check and Import are greyed, in one line; '' when they are not."""
        labels = {f: label.removesuffix(" (optional)") for f, label in LABELS.items()}
        return column_problem(self.combos, self.header_cols, labels, REQUIRED)

    def mapping(self) -> pos.PosMapping | None:
        if not self.header_cols or self.mapping_problem():
            return None
        return pos.PosMapping(**{f: cb.currentData() for f, cb in self.combos.items()})

    def _mapping_changed(self) -> None:
        """A new file, column or date format: the last check no longer holds."""
        self.valid_rows = None
        self.errors.setRowCount(0)
        self.date_order.setText("")
        self._update_buttons()
        self.mapping_hint.setText(self.mapping_problem())

    def _update_buttons(self) -> None:
        ok = self.mapping() is not None and not self.job.running
        self.check_btn.setEnabled(ok)
        self.import_btn.setEnabled(ok and self.valid_rows != 0)  # nothing to import: greyed
        self.import_btn.setToolTip(
            "No valid row to import: see the problems listed" if self.valid_rows == 0 else ""
        )

    def check(self) -> None:
        """Validate every row without writing anything; lists the problems."""
        m = self.mapping()
        if m is None or self.path is None:
            return
        fmt = self.time_format.currentData()
        try:
            table = read_csv(self.path, self.encoding.currentData())
            rows, errors = pos.validate_rows(table, m, ZoneInfo(self.tz), fmt)
            order = pos.file_date_order(table, m, ZoneInfo(self.tz))
        except pos.PosImportError as exc:
            self._message(str(exc), error=True)
            return
        self._show_errors(errors)
        self.date_order.setText("" if fmt else order.how)
        self.valid_rows = len(rows)
        self._update_buttons()
        if not rows:
            self._message(
                f"No valid row: {plural(len(errors), 'row')} with problems (listed above). "
                "Check the columns and the date format.",
                error=True,
            )
            return
        self._message(
            f"{plural(len(rows), 'valid row')}, {plural(len(errors), 'row')} with problems"
            + (" (listed above). Import writes the valid rows only." if errors else ".")
        )

    def start_import(self) -> None:
        m = self.mapping()
        if m is None or self.path is None or self.job.running:
            return
        path, enc, fmt = self.path, self.encoding.currentData(), self.time_format.currentData()
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_btn.setVisible(True)
        self.cancel_btn.setEnabled(True)
        for b in (self.check_btn, self.import_btn):
            b.setEnabled(False)
        self._message("Importing…")
        self.job.start(
            lambda: pos.import_pos_csv(
                self.store,
                path,
                m,
                tz=self.tz,
                encoding=enc,
                time_format=fmt,
                link_window_s=self.link_window_s,
            )
        )

    # --- job callbacks ----------------------------------------------------------------

    def _on_progress(self, p: pos.ImportProgress) -> None:
        if p.phase == "write":
            self.cancel_btn.setEnabled(False)  # a write is never cut short
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.phase} %v / %m")

    def _on_finished(self, last: Any) -> None:
        self._end_job()
        r: pos.ImportResult = last.result
        self.last_result = r
        self._show_errors(r.errors)
        if not (r.imported or r.duplicates):  # every row refused: nothing was done
            self._reset_progress()
            self._message(
                f"Nothing imported: no valid row; {_rows(len(r.errors))} with problems "
                "(listed above).",
                error=True,
            )
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self._message(
            f"Imported {plural(r.imported, 'sale')} ({r.linked} linked to a service); "
            f"{r.duplicates} already imported; "
            f"{_rows(len(r.errors))} with problems.",
            ok=True,
        )

    def _on_failed(self, message: str) -> None:
        self._end_job()
        self._reset_progress()
        self._message(f"Nothing imported: {message}", error=True)

    def _reset_progress(self) -> None:
        self.progress.reset()
        self.progress.setFormat("%p%")
        self.progress.setVisible(False)

    def _end_job(self) -> None:
        self.cancel_btn.setVisible(False)
        self._update_buttons()

    def _show_errors(self, errors: list[pos.RowError]) -> None:
        fill_table(self.errors, [(e.line, e.reason) for e in errors], numeric={0})

    def _message(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.setText(text)
        self.status.setObjectName("Error" if error else "Success" if ok else "Muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def done(self, result: int) -> None:
        if self.job.running:
            self.job.cancel()
        self._bg.shutdown()
        super().done(result)
