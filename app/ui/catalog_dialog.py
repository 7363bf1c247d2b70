"""The product catalogue: add or edit a product by hand, import a CSV (barcode, name,
category, price), and browse it.

CatalogDialog(store).exec()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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

from app.sync import catalog
from app.sync.csvio import CsvRefused, read_csv
from app.sync.product_form import ProductFields
from app.sync.store_protocol import StoreLike
from app.ui.product_dialog import ProductDialog
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

LABELS = {"barcode": "Barcode", "name": "Name", "category": "Category", "price": "Price"}
REQUIRED = ("barcode", "name")


class CatalogDialog(QDialog):
    def __init__(self, store: StoreLike, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Product catalogue")
        self.resize(900, 680)
        self.store = store
        self.path: Path | None = None
        self.header_cols: list[str] = []
        self._bg = Background(1, self)
        self.job = ProgressJob(self._bg, self)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.progress.connect(self._on_progress)
        self.last_result: catalog.CatalogResult | None = None

        lay = QVBoxLayout(self)
        lay.addWidget(
            header(
                "Product catalogue",
                "Tablets show the name and price of each scanned barcode from this catalogue.",
            )
        )
        lay.addWidget(self._import_box())
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, barcode or category")
        self.search.textChanged.connect(self.refresh)
        self.count = QLabel()
        self.count.setObjectName("Muted")
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.count)
        self.add_btn = QPushButton("Add a product…")
        self.add_btn.clicked.connect(lambda: self.edit_product(None))
        self.edit_btn = QPushButton("Edit…")
        self.edit_btn.setEnabled(False)
        self.edit_btn.clicked.connect(self._edit_selected)
        search_row.addWidget(self.add_btn)
        search_row.addWidget(self.edit_btn)
        lay.addLayout(search_row)
        self.table = make_table(["Barcode", "Name", "Category", "Price"], stretch=1)
        self.table.itemSelectionChanged.connect(
            lambda: self.edit_btn.setEnabled(bool(self.table.selectionModel().selectedRows()))
        )
        self.table.doubleClicked.connect(lambda _: self._edit_selected())
        self.products: list[Any] = []
        lay.addWidget(self.table, 1)
        self.errors = make_table(["Line", "Problem"], stretch=1)
        self.errors.setMaximumHeight(140)
        self.errors.setVisible(False)
        lay.addWidget(self.errors)
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.refresh()

    def _import_box(self) -> QGroupBox:
        box = QGroupBox("Import from CSV")
        v = QVBoxLayout(box)
        top = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen")
        self.encoding = QComboBox()
        for label, enc in ENCODINGS:
            self.encoding.addItem(label, enc)
        self.encoding.currentIndexChanged.connect(
            lambda _: self.load(self.path) if self.path else None
        )
        choose = QPushButton("Choose CSV…")
        choose.clicked.connect(self._choose)
        top.addWidget(self.path_edit, 1)
        top.addWidget(self.encoding)
        top.addWidget(choose)
        v.addLayout(top)
        form = QHBoxLayout()
        self.combos: dict[str, QComboBox] = {}
        for fld, label in LABELS.items():
            f = QFormLayout()
            cb = QComboBox()
            cb.setMinimumWidth(120)
            cb.currentIndexChanged.connect(self._mapping_changed)
            self.combos[fld] = cb
            f.addRow(label, cb)
            form.addLayout(f)
        self.import_btn = QPushButton("Import")
        self.import_btn.setObjectName("Primary")
        self.import_btn.setEnabled(False)
        self.import_btn.clicked.connect(self.start_import)
        form.addWidget(self.import_btn)
        v.addLayout(form)
        self.mapping_hint = QLabel("")
        self.mapping_hint.setObjectName("Muted")
        v.addWidget(self.mapping_hint)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        v.addWidget(self.progress)
        return box

    def _choose(self) -> None:
        path = choose_csv(self, "Catalogue", self.path)
        if path is not None:
            self.load(path)

    def load(self, path: Path) -> bool:
        """Read the header and guess the columns; False (with a message) if refused."""
        self.path = path
        self.path_edit.setText(str(path))
        try:
            t = read_csv(path, self.encoding.currentData(), max_rows=5)
        except CsvRefused as exc:
            self._set_columns([], {})
            self._message(str(exc), error=True)
            return False
        self._set_columns(t.header, catalog.guess_catalog_mapping(t.header))
        self._message(f"{path.name}: {len(t.header)} columns. Check the mapping, then Import.")
        return True

    def _set_columns(self, cols: list[str], guess: dict[str, str]) -> None:
        self.header_cols = cols
        fill_column_choices(self.combos, cols, REQUIRED, guess)
        self._mapping_changed()

    def mapping_problem(self) -> str:
        """Why Import is greyed, in one line; '' when it is not."""
        return column_problem(self.combos, self.header_cols, LABELS, REQUIRED)

    def mapping(self) -> dict[str, str]:
        return {f: cb.currentData() for f, cb in self.combos.items() if cb.currentData()}

    def _mapping_changed(self) -> None:
        problem = self.mapping_problem()
        self.import_btn.setEnabled(bool(self.header_cols) and not problem and not self.job.running)
        if not problem and self.header_cols and "price" not in self.mapping():
            problem = (
                "no Price column chosen: new products get the price 0.00, known ones keep theirs"
            )
        self.mapping_hint.setText(problem)

    def start_import(self) -> None:
        if self.path is None or self.job.running or self.mapping_problem():
            return
        path, enc, m = self.path, self.encoding.currentData(), self.mapping()
        self.import_btn.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.job.start(lambda: catalog.import_catalog_csv(self.store, path, m, enc))

    def _on_progress(self, p: Any) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _on_finished(self, last: Any) -> None:
        r: catalog.CatalogResult = last.result
        self.last_result = r
        self.progress.setVisible(False)
        self._mapping_changed()
        self.errors.setVisible(bool(r.errors))
        fill_table(self.errors, [(e.line, e.reason) for e in r.errors], numeric={0})
        self._message(
            f"{plural(r.added, 'product')} added, {r.updated} updated, "
            f"{plural(len(r.errors), 'row')} with problems.",
            ok=True,
        )
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self.progress.setVisible(False)
        self._mapping_changed()
        self._message(f"Nothing imported: {message}", error=True)

    def refresh(self) -> None:
        products = catalog.list_products(self.store, self.search.text().strip())
        self.products = products
        fill_table(
            self.table, [(p.barcode, p.name, p.category, p.price) for p in products], numeric={3}
        )
        self.count.setText(plural(catalog.count_products(self.store), "product"))

    def _edit_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            p = self.products[rows[0].row()]
            self.edit_product(ProductFields(p.barcode, p.name, p.category, p.price))

    def product_dialog(self, product: ProductFields | None) -> ProductDialog:
        return ProductDialog(self.store, product, catalog.list_categories(self.store), self)

    def edit_product(self, product: ProductFields | None) -> None:
        """Add (None) or edit a product by hand in a small form."""
        dlg = self.product_dialog(product)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.saved is not None:
            verb = "saved" if product else "added"
            self._message(f"{dlg.saved.name} ({dlg.saved.barcode}) {verb}.", ok=True)
            self.refresh()

    def _message(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.setText(text)
        self.status.setObjectName("Error" if error else "Success" if ok else "Muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def done(self, result: int) -> None:
        self._bg.shutdown()
        super().done(result)
