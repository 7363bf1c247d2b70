"""Add or edit one product of the catalogue by hand: barcode (fixed when editing), name,
category (the catalogue's own offered) and price, checked as they are typed; Save stays
greyed, with the reason shown, until the product is valid."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.sync import catalog
from app.sync.product_form import ProductFields, read_product
from app.sync.store_protocol import StoreLike


class ProductDialog(QDialog):
    def __init__(
        self,
        store: StoreLike,
        product: ProductFields | None = None,
        categories: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.editing = product is not None
        self.setWindowTitle("Edit product" if self.editing else "Add a product")
        self.setMinimumWidth(460)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.barcode = QLineEdit(product.barcode if product else "")
        self.barcode.setPlaceholderText("EAN-13, UPC-A, EAN-8 or the shop's own code")
        self.barcode.setReadOnly(self.editing)  # the key of the product
        self.name = QLineEdit(product.name if product else "")
        self.name.setMaxLength(200)
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItems(sorted(set(categories or [])))
        self.category.setCurrentText(product.category if product else "")
        self.price = QLineEdit(f"{product.price:.2f}" if product else "")
        self.price.setPlaceholderText("0.00")
        form.addRow("Barcode", self.barcode)
        form.addRow("Name", self.name)
        form.addRow("Category", self.category)
        form.addRow("Price", self.price)
        lay.addLayout(form)
        self.problem = QLabel("")
        self.problem.setObjectName("Error")
        self.problem.setWordWrap(True)
        lay.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        for edit in (self.barcode, self.name, self.price):
            edit.textChanged.connect(self._check)
        self.category.currentTextChanged.connect(self._check)
        self.saved: ProductFields | None = None
        self._check()

    def fields(self) -> ProductFields:
        """The typed product (ValueError saying what is wrong)."""
        return read_product(
            self.barcode.text(), self.name.text(), self.category.currentText(), self.price.text()
        )

    def _check(self) -> None:
        try:
            self.fields()
        except ValueError as exc:
            blank = not (self.barcode.text().strip() or self.name.text().strip())
            self.problem.setText("" if blank else str(exc))
            ok = False
        else:
            self.problem.setText("")
            ok = True
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(ok)

    def save(self) -> None:
        try:
            p = self.fields()
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        if not self.editing and catalog.get_product(self.store, p.barcode) is not None:
            self.problem.setText(
                f"The barcode {p.barcode} is already in the catalogue: edit that product."
            )
            return
        catalog.upsert_product(self.store, p.barcode, p.name, p.category, p.price)
        self.saved = p
        self.accept()
