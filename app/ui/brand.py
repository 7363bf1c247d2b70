"""Vitrine's one brand mark, the same on the desktop and on the tablets: the tablet app's
`resources/tablet/icon.svg` (a teal V on navy with an amber dot), drawn here at any size."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.paths import RESOURCES_DIR

MARK_SVG = RESOURCES_DIR / "tablet" / "icon.svg"


def logo_pixmap(size: int) -> QPixmap:
    """The brand mark, `size` pixels square (transparent if the file is missing)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(str(MARK_SVG))
    if renderer.isValid():
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        renderer.render(p, QRectF(0, 0, size, size))
        p.end()
    return pm


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        icon.addPixmap(logo_pixmap(size))
    return icon
