"""Settings > Analysis: "This machine", what the first start measured (cores, memory,
accelerators, disk, and how many cameras at which analysis rate the detector allows),
measured again on demand off the GUI thread (app.vision.capacity)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.config import AppConfig
from app.ui.workers import Background


def measure(cfg: AppConfig, seconds: float = 2.0) -> list[str]:
    """Probe and benchmark with the configured detector (slow: run it in the background)."""
    import numpy as np

    from app.paths import data_dir
    from app.vision.capacity import describe, measure_capacity, probe_hardware
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    hw = probe_hardware(data_dir())
    det = create_detector(cfg.analysis.detector, ModelManager.from_config(cfg.models))
    try:
        frame = np.full((360, 480, 3), 114, np.uint8)
        cap = measure_capacity(det, [frame], seconds=seconds)
    finally:
        det.close()
    return describe(hw, cap)


class CapacityRow(QWidget):
    """A label with the last measurement and a "Measure" button."""

    def __init__(self, background: Background | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.background = background
        self.cfg = AppConfig()
        self.text = QLabel("Not measured yet: Measure runs the detector for 2 seconds.")
        self.text.setObjectName("Muted")
        self.text.setWordWrap(True)
        self.button = QPushButton("Measure")
        self.button.setToolTip(
            "Runs the people detector for 2 seconds on this computer and says how many "
            "cameras it can analyse at 10, 5 and 2 frames a second (while the cameras run, "
            "the figure is what is left over)."
        )
        self.button.clicked.connect(self.start)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.button)

    def start(self) -> None:
        if self.background is None:
            self._done(measure(self.cfg))
            return
        self.button.setEnabled(False)
        self.text.setText("Measuring…")
        self.background.submit(lambda: measure(self.cfg), self._done, self._failed)

    def _done(self, lines: Any) -> None:
        self.button.setEnabled(True)
        self.text.setText("\n".join(lines))

    def _failed(self, exc: Any) -> None:
        self.button.setEnabled(True)
        self.text.setText(f"Could not measure: {str(exc).splitlines()[0] if str(exc) else exc}")
