""" "Find cameras on the network": ONVIF discovery (app.vision.onvif) in the background
with its progress, the cameras found in a list; choosing one fills in its RTSP address.

    finder = CameraFinder(background, credentials=lambda: (user, password))
    finder.chosen.connect(lambda url, name: ...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.sales_widgets import ProgressJob
from app.ui.style import set_role
from app.ui.workers import Background
from app.vision import onvif


def align_form_labels(forms: list[QLayout | None]) -> None:
    """One label column across several forms (a camera's Name and Kind, and each kind's
    own fields, are separate forms: without this their fields do not line up)."""
    labels: list[QLabel] = []
    for f in forms:
        if not isinstance(f, QFormLayout):
            continue
        for r in range(f.rowCount()):
            item = f.itemAt(r, QFormLayout.ItemRole.LabelRole)
            w = item.widget() if item is not None else None
            if isinstance(w, QLabel):
                labels.append(w)
    width = max((w.sizeHint().width() for w in labels), default=0)
    for w in labels:
        w.setMinimumWidth(width)
        w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class CameraFinder(QWidget):
    chosen = Signal(str, str)  # rtsp url, camera name

    def __init__(
        self,
        background: Background,
        credentials: Callable[[], tuple[str, str]],
        target: tuple[str, int] = onvif.MULTICAST,
        timeout_s: float = 3.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.credentials, self.target, self.timeout_s = credentials, target, timeout_s
        self.job = ProgressJob(background, self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(lambda msg: self._done_with(f"The search stopped: {msg}", []))
        self.cameras: list[onvif.FoundCamera] = []
        self.button = QPushButton("Find cameras on the network")
        self.button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("Muted")
        self.status.setVisible(False)  # no blank line before a search
        self.list = QListWidget()
        self.list.setVisible(False)
        self.list.setMaximumHeight(110)
        self.list.itemClicked.connect(self._pick)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.progress, 1)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.list)

    def start(self) -> None:
        if self.job.running:
            return
        user, password = self.credentials()
        target, timeout_s = self.target, self.timeout_s
        self.button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.list.clear()
        self.list.setVisible(False)

        def run() -> Iterator[onvif.DiscoveryProgress]:
            return onvif.discover(user, password, target, timeout_s)

        self.job.start(run)

    def _on_progress(self, p: onvif.DiscoveryProgress) -> None:
        self.status.setVisible(True)
        self.status.setText(p.message)
        set_role(self.status, "Muted")
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _on_finished(self, last: onvif.DiscoveryProgress | None) -> None:
        if last is None:
            self._done_with("The search was stopped.", [])
        else:
            self._done_with(last.message, last.cameras)

    def _done_with(self, message: str, cameras: list[onvif.FoundCamera]) -> None:
        self.cameras = cameras
        self.button.setEnabled(True)
        self.progress.setVisible(False)
        self.status.setVisible(True)
        self.status.setText(message)
        set_role(self.status, "Muted" if cameras else "Error")
        self.list.clear()
        for cam in cameras:
            item = QListWidgetItem(cam.label)
            if not cam.rtsp_url:  # shown with its problem, not choosable
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.list.setVisible(bool(cameras))
        if any(not c.rtsp_url for c in cameras):
            self.status.setText(
                message + " A camera without its address may need the user and password "
                "above: type them and search again."
            )

    def _pick(self, item: QListWidgetItem) -> None:
        cam = self.cameras[self.list.row(item)]
        if cam.rtsp_url:
            self.chosen.emit(cam.rtsp_url, cam.name)
