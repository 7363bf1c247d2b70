"""Opening Analytics never makes the main window larger than a 1366x768 screen (review:
1465x1050 on a 1000-px screen, the status bar cut off): the page scrolls instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app.ui.main_window import ANALYTICS
from app.ui.style import apply_style
from tests.ui.test_main_window import desktop  # noqa: F401  (the fixture)


@pytest.fixture
def styled(qtbot: Any) -> Iterator[None]:
    """The app's stylesheet, fonts and paddings, as on screen (restored afterwards)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    sheet, font, palette = app.styleSheet(), app.font(), app.palette()
    apply_style(app)
    yield
    app.setStyleSheet(sheet)
    app.setFont(font)
    app.setPalette(palette)


def test_the_window_with_analytics_fits_1366x768(qtbot: Any, styled: None, desktop: Any) -> None:  # noqa: F811
    win = desktop.window
    win.nav.setCurrentRow(ANALYTICS)
    qtbot.waitUntil(lambda: win.analytics is not None, timeout=5000)
    view = win.analytics
    assert type(view).__name__ == "AnalyticsView"
    qtbot.waitUntil(lambda: view.data is not None, timeout=10000)  # the cards filled in
    qtbot.wait(50)
    for i in range(view.tabs.count()):  # every tab: the tab widget's minimum is their max
        view.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        hint = win.minimumSizeHint()
        assert hint.height() <= 740, (view.tabs.tabText(i), hint)
        assert hint.width() <= 1366, (view.tabs.tabText(i), hint)
        assert win.minimumSize().height() <= 740 and win.minimumSize().width() <= 1366
    # on a 1366x768 screen, the page scrolls rather than cut the status bar off
    win.resize(1366, 700)
    qtbot.wait(100)
    assert win.height() <= 740 and win.statusBar().isVisible()
    assert view.page.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    assert view.page.horizontalScrollBar().maximum() == 0  # never sideways at 1366 px
