"""The pairing dialog never draws the code, its validity or the address over the QR code
(review: at 1040x560 the long certificate paragraph squeezed the code panel and the code
was painted on the bottom third of the QR), and it fits a 1366x768 screen."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QRect  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.sync.lan.auth import PairingCodes  # noqa: E402
from app.ui.pairing_dialog import PairingDialog  # noqa: E402
from app.ui.style import STYLESHEET  # noqa: E402


def _server() -> SimpleNamespace:
    codes = PairingCodes()
    url = "https://192.0.2.2:8443"
    return SimpleNamespace(
        url=url,
        cert=SimpleNamespace(fingerprint_sha256="69:E7:C0:46:CA:35:3B:2B:" + "AB:" * 24),
        codes=codes,
        devices=lambda: [],
        new_pairing_code=codes.issue,
        cancel_pairing_code=lambda c: None,
        pairing_url=lambda code: f"{url}/tablet/#pair={code.code}",
    )


def _rect(w: QWidget, dlg: QWidget) -> QRect:
    """The widget's rectangle in the dialog's coordinates."""
    return QRect(w.mapTo(dlg, w.rect().topLeft()), w.size())


@pytest.mark.parametrize("size", [(1040, 560), (1040, 680), (800, 420), (600, 300)])
def test_the_qr_code_is_never_overlapped(qtbot: Any, size: tuple[int, int]) -> None:
    app = QApplication.instance()
    assert app is not None
    dlg = PairingDialog(_server())
    dlg.setStyleSheet(STYLESHEET)  # the app's fonts and paddings, as on screen
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.resize(*size)
    dlg.pair_btn.click()
    qtbot.wait(50)
    app.processEvents()
    qr = _rect(dlg.qr, dlg)
    assert qr.width() >= 250 and qr.height() >= 250, qr
    pix = dlg.qr.pixmap()
    assert pix.width() >= 220 and pix.width() <= qr.width() and pix.height() <= qr.height()
    others = [dlg.code_label, dlg.expiry, dlg.url, dlg.fingerprint, dlg.again_btn, dlg.stop_btn]
    rects = [_rect(w, dlg) for w in others]
    for w, r in zip(others, rects, strict=True):
        assert not w.isHidden() and r.height() > 0, w
        assert not qr.intersects(r), (w, qr, r)
    # and the code, validity and address lie below the QR, in that order, not on each other
    code, expiry, url = rects[:3]
    assert qr.bottom() < code.top() <= code.bottom() < expiry.top() <= expiry.bottom() < url.top()
    # each label is tall enough for its text
    for lab in (dlg.code_label, dlg.expiry, dlg.url):
        assert lab.height() >= lab.heightForWidth(lab.width()), lab.text()
    dlg.reject()


def test_the_dialog_fits_a_1366x768_screen(qtbot: Any) -> None:
    dlg = PairingDialog(_server())
    dlg.setStyleSheet(STYLESHEET)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.pair_btn.click()
    qtbot.wait(20)
    for s in (dlg.size(), dlg.minimumSizeHint(), dlg.minimumSize()):
        assert s.width() <= 1366 - 40 and s.height() <= 768 - 80, s  # title bar + taskbar
    # at its opening size the QR code and the code are both in view, no scrolling needed
    view = dlg.code_scroll.viewport()
    for w in (dlg.qr, dlg.code_label, dlg.expiry, dlg.url):
        r = QRect(w.mapTo(view, w.rect().topLeft()), w.size())
        assert view.rect().contains(r), (w, r, view.rect())
    assert dlg.code_scroll.verticalScrollBar().maximum() == 0  # the note too, unscrolled
    dlg.reject()
