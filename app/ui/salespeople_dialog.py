"""Salespeople: name, employee code, PIN (kept only as an argon2 hash) and the zones each
one serves on the tablet.

    SalespeopleDialog(store, zones=[z.name for z in cfg.zones]).exec()
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.sync import catalog
from app.sync.store_protocol import StoreLike
from app.ui.sales_widgets import fill_table, header, make_table

log = logging.getLogger(__name__)


class SalespeopleDialog(QDialog):
    def __init__(self, store: StoreLike, zones: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Salespeople")
        self.resize(900, 560)
        self.store = store
        self.zones = list(zones)
        self.people: list[catalog.SalespersonInfo] = []
        self.current: int | None = None  # id being edited, None = new

        lay = QVBoxLayout(self)
        lay.addWidget(
            header(
                "Salespeople",
                "Each salesperson pairs a tablet with their PIN and sees only their zones.",
            )
        )
        body = QHBoxLayout()
        self.table = make_table(["Name", "Code", "Zones", "Active", "Tablets"], stretch=2)
        self.table.itemSelectionChanged.connect(self._selected)
        body.addWidget(self.table, 3)
        body.addWidget(self._form(), 2)
        lay.addLayout(body, 1)
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.refresh()
        self.new()

    def _form(self) -> QGroupBox:
        box = QGroupBox("Details")
        form = QFormLayout(box)
        self.name = QLineEdit()
        self.code = QLineEdit()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.active = QCheckBox("Active (can pair and use tablets)")
        form.addRow("Name", self.name)
        form.addRow("Employee code", self.code)
        form.addRow("PIN", self.pin)
        zbox = QWidget()
        zl = QVBoxLayout(zbox)
        zl.setContentsMargins(0, 0, 0, 0)
        self.zone_checks: dict[str, QCheckBox] = {}
        for z in self.zones:
            cb = QCheckBox(z)
            self.zone_checks[z] = cb
            zl.addWidget(cb)
        if not self.zones:
            zl.addWidget(QLabel("Draw zones on a camera first."))
        form.addRow("Zones", zbox)
        form.addRow("Status", self.active)
        btns = QHBoxLayout()
        new = QPushButton("New")
        new.clicked.connect(self.new)
        self.save_btn = QPushButton("Save")
        self.save_btn.setObjectName("Primary")
        self.save_btn.clicked.connect(self.save)
        btns.addWidget(new)
        btns.addStretch(1)
        btns.addWidget(self.save_btn)
        form.addRow(btns)
        return box

    def refresh(self) -> None:
        self.people = catalog.list_salespeople(self.store)
        fill_table(
            self.table,
            [
                (
                    p.name,
                    p.employee_code,
                    ", ".join(p.zones),
                    "yes" if p.active else "no",
                    p.devices,
                )
                for p in self.people
            ],
            numeric={4},
        )

    def new(self) -> None:
        self.current = None
        self.table.clearSelection()
        for w in (self.name, self.code, self.pin):
            w.clear()
        self.pin.setPlaceholderText("4 to 8 digits")
        self.active.setChecked(True)
        for cb in self.zone_checks.values():
            cb.setChecked(False)
        self.name.setFocus()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        p = self.people[rows[0].row()]
        self.current = p.id
        self.name.setText(p.name)
        self.code.setText(p.employee_code)
        self.pin.clear()
        self.pin.setPlaceholderText("leave empty to keep the PIN")
        self.active.setChecked(p.active)
        for z, cb in self.zone_checks.items():
            cb.setChecked(z in p.zones)

    def save(self) -> bool:
        zones = [z for z, cb in self.zone_checks.items() if cb.isChecked()]
        try:
            if self.current is None:
                self.current = catalog.create_salesperson(
                    self.store, self.name.text(), self.code.text(), self.pin.text(), zones
                )
                self._message(f"{self.name.text().strip()} added.", ok=True)
            else:
                catalog.update_salesperson(
                    self.store,
                    self.current,
                    name=self.name.text(),
                    employee_code=self.code.text(),
                    pin=self.pin.text() or None,
                    zones=zones,
                    active=self.active.isChecked(),
                )
                self._message(f"{self.name.text().strip()} saved.", ok=True)
        except ValueError as exc:
            self._message(str(exc), error=True)
            return False
        self.pin.clear()
        self.refresh()
        return True

    def _message(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.setText(text)
        self.status.setObjectName("Error" if error else "Success" if ok else "Muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
