"""The zone editor's person size range: the smallest and largest person box a camera
counts, in % of the picture's height, and whether to draw both on the picture."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget


class PersonSizeBox(QWidget):
    """`edited` when the user changes the range; `guides_changed(range or None)` when what
    the picture should draw changes."""

    edited = Signal()
    guides_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Person size")
        title.setObjectName("SectionTitle")
        title.setToolTip(
            "Detections smaller or taller than this (in % of the picture's height) are "
            "not people of this camera and are ignored."
        )
        form.addRow(title)
        self.min_size, self.max_size = QDoubleSpinBox(), QDoubleSpinBox()
        for box, low, high in ((self.min_size, 0.0, 99.0), (self.max_size, 1.0, 100.0)):
            box.setRange(low, high)
            box.setDecimals(1)
            box.setSuffix(" % of height")
            box.valueChanged.connect(self._changed)
        form.addRow("Smallest", self.min_size)
        form.addRow("Largest", self.max_size)
        self.show_size = QCheckBox("Show on the picture")
        self.show_size.setToolTip("Draws the smallest and largest person where the mouse is.")
        self.show_size.toggled.connect(self._changed)
        form.addRow("", self.show_size)

    def value(self) -> tuple[float, float]:
        """(smallest, largest) in fractions of the picture's height."""
        return round(self.min_size.value() / 100.0, 4), round(self.max_size.value() / 100.0, 4)

    def set_value(self, size: tuple[float, float]) -> None:
        """Show a range without it counting as an edit."""
        self._loading = True
        try:
            self.min_size.setValue(size[0] * 100.0)
            self.max_size.setValue(size[1] * 100.0)
        finally:
            self._loading = False
        self.guides_changed.emit(self.value() if self.show_size.isChecked() else None)

    def _changed(self) -> None:
        self.guides_changed.emit(self.value() if self.show_size.isChecked() else None)
        if not self._loading and self.sender() is not self.show_size:
            self.edited.emit()
