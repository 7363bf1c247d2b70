"""Pair a tablet: the list of paired devices with revoke (asked first), and, only when
the manager presses "Pair a new tablet", a QR code and a short code valid 5 minutes
(opening the window to revoke a tablet mints no code).

    PairingDialog(lan_server).exec()     # lan_server: app.sync.lan.LanServer, started
"""

from __future__ import annotations

import logging
import time
from typing import Any

import qrcode
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui.questions import Role, question
from app.ui.sales_widgets import fill_table, header, make_table

log = logging.getLogger(__name__)

QR_PX = 270  # the QR code's side: scannable from a tablet held at arm's length
CODE_PANEL_W = 320


def qr_pixmap(text: str, size: int = 260) -> QPixmap:
    """A QR code drawn with QPainter (no image library needed)."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    cell = max(1, size // n)
    img = QImage(n * cell, n * cell, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#0f172a"))
    for y, row in enumerate(matrix):
        for x, on in enumerate(row):
            if on:
                p.drawRect(x * cell, y * cell, cell, cell)
    p.end()
    return QPixmap.fromImage(img)


def _when(ts: float | None) -> str:
    if not ts:
        return "never"
    return time.strftime("%d %b %Y %H:%M", time.localtime(ts))


def revoke_question(device: Any, parent: QWidget | None = None) -> QMessageBox:
    """Revoke / Cancel about one paired tablet; Cancel is the default (and Esc)."""
    return question(
        parent,
        "Revoke tablet",
        f"Revoke {device.label} ({device.salesperson_name})?",
        "The tablet is signed out at once and its open services end. "
        "To use it again, pair it again.",
        [("Revoke", Role.DestructiveRole), ("Cancel", Role.RejectRole)],
        default="Cancel",
    )


class PairingDialog(QDialog):
    def __init__(self, server: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pair a tablet")
        self.resize(1040, 680)  # fits a 1366x768 screen (title bar and taskbar too)
        self.server = server
        self.code: Any = None
        self.devices: list[Any] = []

        lay = QVBoxLayout(self)
        lay.addWidget(
            header(
                "Pair a tablet",
                "Press “Pair a new tablet”, then on the tablet scan the QR code with the "
                "camera (or open the address and type the code), pick your name and enter "
                "your PIN. Paired tablets are listed on the right.",
            )
        )
        body = QHBoxLayout()
        body.addWidget(self._code_panel(), 0)
        body.addWidget(self._devices_panel(), 1)
        lay.addLayout(body, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(1000)
        self.refresh()

    def _code_panel(self) -> QWidget:
        """The "Pair a new tablet" button, then the QR code at its full size with the
        code, its validity and the address below it, then the certificate note. The card
        sits in a scroll area: in a small window it scrolls, nothing is drawn on the QR."""
        w = QWidget()
        w.setObjectName("Card")
        w.setFixedWidth(CODE_PANEL_W)
        outer = QVBoxLayout(w)
        outer.setSpacing(6)
        self.pair_btn = QPushButton("Pair a new tablet")
        self.pair_btn.setObjectName("Primary")
        self.pair_btn.clicked.connect(self.new_code)
        self.pair_hint = QLabel(
            "A code and a QR code valid 5 minutes appear here; each pairs one tablet."
        )
        self.pair_hint.setObjectName("Muted")
        self.pair_hint.setWordWrap(True)
        outer.addStretch(1)
        outer.addWidget(self.pair_btn)
        outer.addWidget(self.pair_hint)
        outer.addStretch(1)
        self.code_box = QWidget()
        self.code_box.setVisible(False)
        v = QVBoxLayout(self.code_box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        outer.addWidget(self.code_box)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setFixedSize(QR_PX, QR_PX)  # never squeezed: the layout gives it this
        self.code_label = QLabel()
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setStyleSheet("font-size: 34px; font-weight: 700; letter-spacing: 6px;")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expiry = QLabel()
        self.expiry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.expiry.setObjectName("Muted")
        self.expiry.setWordWrap(True)
        self.url = QLabel()
        self.url.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.url.setWordWrap(True)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint = QLabel()
        self.fingerprint.setObjectName("Muted")
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setStyleSheet("font-size: 11px;")  # secondary to the code
        cert = getattr(self.server, "cert", None)
        if cert is not None:
            self.fingerprint.setText(
                "The first time, the tablet's browser warns that the connection is not "
                "private: the store uses a security certificate of its own. It is this "
                "store's if its fingerprint (SHA-256, in the browser's certificate "
                f"details) begins with {cert.fingerprint_sha256[:23]}; then choose to "
                "continue to the site. To never see the warning again, also after the "
                f"yearly renewal, install {self.server.url}/ca.crt on the tablet."
            )
        self.fingerprint.setVisible(cert is not None)
        row = QHBoxLayout()
        self.again_btn = QPushButton("New code")
        self.again_btn.clicked.connect(self.new_code)
        self.stop_btn = QPushButton("Stop pairing")
        self.stop_btn.clicked.connect(self.stop_pairing)
        row.addWidget(self.again_btn)
        row.addWidget(self.stop_btn)
        v.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        for x in (self.code_label, self.expiry, self.url):
            v.addWidget(x)
        v.addLayout(row)
        v.addSpacing(6)
        v.addWidget(self.fingerprint)
        self.code_scroll = QScrollArea()
        self.code_scroll.setWidget(w)
        self.code_scroll.setWidgetResizable(True)  # the card takes the height it needs
        self.code_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.code_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.code_scroll.verticalScrollBar().sizeHint().width()
        self.code_scroll.setFixedWidth(CODE_PANEL_W + bar)
        return self.code_scroll

    def _devices_panel(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        t = QLabel("Paired tablets")
        t.setObjectName("SectionTitle")
        v.addWidget(t)
        self.table = make_table(["Tablet", "Salesperson", "Paired", "Last seen"])
        self.table.setMinimumWidth(480)  # whole names, not "Camil…"
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.revoke_btn = QPushButton("Revoke")
        self.revoke_btn.setObjectName("Danger")
        self.revoke_btn.clicked.connect(self.revoke_selected)
        self.revoke_btn.setEnabled(False)  # until a tablet is selected
        self.revoke_btn.setToolTip("Select a tablet in the list to revoke it.")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        row.addWidget(refresh)
        row.addStretch(1)
        row.addWidget(self.revoke_btn)
        v.addLayout(row)
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        v.addWidget(self.status)
        return w

    def new_code(self) -> None:
        """Show a fresh code (the manager asked to pair a tablet)."""
        if self.code is not None:
            self.server.cancel_pairing_code(self.code.code)
        self.code = self.server.new_pairing_code()
        for x in (self.pair_btn, self.pair_hint):
            x.setVisible(False)
        self.code_box.setVisible(True)
        url = self.server.pairing_url(self.code)
        self.qr.setPixmap(qr_pixmap(url, QR_PX))
        c = self.code.code
        self.code_label.setText(f"{c[:3]} {c[3:]}")
        self.url.setText(f"{self.server.url}/tablet/")
        self._tick()

    def stop_pairing(self) -> None:
        """Cancel the code shown: back to the "Pair a new tablet" button."""
        if self.code is not None:
            self.server.cancel_pairing_code(self.code.code)
        self.code = None
        self.code_box.setVisible(False)
        for x in (self.pair_btn, self.pair_hint):
            x.setVisible(True)

    def _tick(self) -> None:
        if self.code is None:
            return
        left = self.code.remaining()
        codes = getattr(self.server, "codes", None)
        if left > 0 and codes is not None and not codes.is_valid(self.code.code):
            if self.qr.isEnabled():
                self.refresh()  # the tablet that used it shows up
            self.expiry.setText("This code paired a tablet: press New code for the next one.")
            self.qr.setEnabled(False)
            self.code_label.setEnabled(False)
            return
        if left <= 0:
            self.expiry.setText("This code has expired: press New code.")
            self.qr.setEnabled(False)
            self.code_label.setEnabled(False)
            return
        self.qr.setEnabled(True)
        self.code_label.setEnabled(True)
        self.expiry.setText(f"Valid for {int(left) // 60}:{int(left) % 60:02d}")
        if int(left) % 10 == 0:
            self.refresh()  # a tablet that just paired shows up

    def refresh(self) -> None:
        self.devices = self.server.devices()
        fill_table(
            self.table,
            [
                (d.label, d.salesperson_name, _when(d.created_at), _when(d.last_seen))
                for d in self.devices
            ],
        )
        self._selection_changed()

    def _selection_changed(self) -> None:
        """Revoke is on only with a tablet selected (it acts on the selection)."""
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        self.revoke_btn.setEnabled(bool(rows) and bool(self.devices))

    def revoke_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.setText("Select a tablet to revoke.")
            return
        d = self.devices[rows[0].row()]
        if not self.confirm_revoke(d):
            return
        if self.server.revoke_device(d.id):
            self.status.setText(f"{d.label} ({d.salesperson_name}) can no longer connect.")
        self.refresh()

    def confirm_revoke(self, device: Any) -> bool:
        """Ask before revoking: True only for "Revoke"."""
        box = revoke_question(device, self)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and (
            box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole
        )

    def done(self, result: int) -> None:
        self.timer.stop()
        if self.code is not None:
            self.server.cancel_pairing_code(self.code.code)
        super().done(result)
