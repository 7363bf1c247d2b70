"""The camera form's snapshot: a picture that keeps its proportions and shrinks with the
window (a fixed 320 x 200 box was cut off at the bottom of a short wizard)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


class SnapshotView(QLabel):
    def __init__(self, placeholder: str) -> None:
        super().__init__()
        self.placeholder = placeholder
        self.image: np.ndarray | None = None
        self.setMinimumSize(192, 120)
        self.setMaximumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background:#0b1120;border-radius:8px;color:#94a3b8;")
        self.setText(placeholder)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(320, 200)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(192, 120)

    def set_image(self, img: np.ndarray) -> None:
        self.image = img
        self._show()

    def clear_image(self) -> None:
        self.image = None
        self.clear()
        self.setText(self.placeholder)

    def _show(self) -> None:
        if self.image is None:
            return
        h, w = self.image.shape[:2]
        buf = np.ascontiguousarray(self.image)
        q = QImage(buf.data, w, h, buf.strides[0], QImage.Format.Format_BGR888).copy()
        self.setPixmap(
            QPixmap.fromImage(q).scaled(
                self.width(),
                self.height(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._show()
