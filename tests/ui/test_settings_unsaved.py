"""Unsaved settings are not lost silently: an edit clears "Saved ✓" and shows
"Unsaved changes" beside Save, which stays in view at the bottom of the Settings page
(outside the scrolling form); leaving the page or quitting with unsaved edits asks
Save / Discard / Cancel (a real message box, its button clicked)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import AppConfig
from app.ui import main_window as mw
from app.ui.config_store import config_path
from app.ui.settings_view import SettingsView
from tests.conftest import PETS_CLIP
from tests.ui.test_main_window import open_desktop

BASE = {
    "store": {"name": "Rue Test", "timezone": "Europe/Paris"},
    "cameras": [{"name": "Front", "type": "file", "url": str(PETS_CLIP)}],
}


def answer(seen: list[str], *labels: str) -> None:
    """Click `labels` on the next message boxes, one each; their questions go to `seen`."""
    todo = list(labels)
    done: list[QMessageBox] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box in done or not box.isVisible():
            QTimer.singleShot(20, click)
            return
        done.append(box)
        seen.append(box.text())
        label = todo.pop(0)
        next(b for b in box.buttons() if b.text() == label).click()
        if todo:
            QTimer.singleShot(20, click)

    QTimer.singleShot(0, click)


def test_an_edit_shows_unsaved_changes_beside_a_save_always_in_view(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig.model_validate(BASE))
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    assert view.unsaved.isHidden() and not view.has_unsaved_changes()  # loaded: nothing to save
    view.figures.capacity.setValue(40)
    assert view.save()
    assert view.saved.text() == "Saved ✓" and view.unsaved.isHidden()
    # the Analytics link's way in: the capacity's input, far down the form, typed in
    view.show_setting("kpis.capacity")
    view.figures.capacity.setValue(30)
    assert view.saved.text() == "" and view.unsaved.isVisible()
    assert view.unsaved.text() == "Unsaved changes" and view.has_unsaved_changes()
    # Save is on screen without scrolling: outside the scroll area, inside the page
    assert not view.inner.isAncestorOf(view.save_button)
    assert view.save_button.isVisible()
    top_left = view.save_button.mapTo(view, QPoint(0, 0))
    assert view.rect().contains(top_left) and top_left.y() > view.page.geometry().bottom()
    view.page.verticalScrollBar().setValue(0)  # scrolled back up: still there
    assert view.save_button.mapTo(view, QPoint(0, 0)) == top_left
    # typed back to the saved value: nothing unsaved any more
    view.figures.capacity.setValue(40)
    assert view.unsaved.isHidden()
    # every part of the form tells an edit: a schedule row, a name, a tick box
    edits: list[Callable[[], object]] = [
        lambda: view.figures.add_row(),
        lambda: view.name.setText("Rue Neuve"),
        lambda: view.alerts.enabled[next(iter(view.alerts.enabled))].toggle(),
    ]
    for edit in edits:
        edit()
        assert view.unsaved.isVisible()
        view.revert.click()
        assert view.unsaved.isHidden() and view.name.text() == "Rue Test"
        assert view.figures.table.rowCount() == 0


@pytest.fixture
def desktop(qtbot, store, pets_frames):  # noqa: ANN001, ANN201
    d = open_desktop(qtbot, store, pets_frames[0], AppConfig.model_validate(BASE))
    yield d
    d.close()


def test_leaving_settings_with_unsaved_edits_asks(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    settings = win.settings
    win.nav.setCurrentRow(mw.SETTINGS)
    win.nav.setCurrentRow(0)  # nothing edited: leaves without a question
    assert win.stack.currentIndex() == 0
    win.open_setting("kpis.capacity")  # the Analytics page's "Set the capacity…"
    settings.figures.capacity.setValue(30)
    seen: list[str] = []
    # Cancel: the page stays, with the edit
    answer(seen, "Cancel")
    win.nav.setCurrentRow(mw.ANALYTICS)
    assert seen == ["Save the changes made on the Settings page?"]
    assert win.stack.currentWidget() is settings and win.nav.currentRow() == mw.SETTINGS
    assert settings.figures.capacity.value() == 30 and settings.unsaved.isVisible()
    # Save: saved and applied, then the page asked for opens
    answer(seen, "Save")
    win.nav.setCurrentRow(0)
    assert len(seen) == 2 and win.stack.currentIndex() == 0
    assert desktop.host.cfg.kpis.capacity == 30 and not settings.has_unsaved_changes()
    qtbot.waitUntil(lambda: "capacity = 30" in config_path().read_text("utf-8"), timeout=10000)
    # Discard: the form goes back to the saved settings
    win.nav.setCurrentRow(mw.SETTINGS)
    settings.figures.capacity.setValue(55)
    answer(seen, "Discard")
    win.nav.setCurrentRow(0)
    assert len(seen) == 3 and win.stack.currentIndex() == 0
    assert settings.figures.capacity.value() == 30 and desktop.host.cfg.kpis.capacity == 30
    assert settings.unsaved.isHidden()
    # Save with a wrong value: refused, the page stays with its message
    win.nav.setCurrentRow(mw.SETTINGS)
    settings.figures.add_row()
    settings.figures.table.item(0, 0).setText("Mon-Fir")
    answer(seen, "Save")
    win.nav.setCurrentRow(0)
    assert win.stack.currentWidget() is settings
    assert settings.error.text().startswith("Staffing schedule, row 1")


def test_quitting_with_unsaved_edits_asks_to_save_them(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    settings = win.settings
    win.nav.setCurrentRow(mw.SETTINGS)
    settings.figures.capacity.setValue(25)
    win.nav.blockSignals(True)
    win.nav.setCurrentRow(0)  # (the page left without asking, as if by code)
    win.nav.blockSignals(False)
    seen: list[str] = []
    answer(seen, "Cancel")
    assert not win.may_quit()
    assert seen == ["Save the changes made on the Settings page?"]
    assert win.stack.currentWidget() is settings  # shown, to look at the edits
    answer(seen, "Save", "Cancel")  # then the counting question: keep the window
    assert not win.may_quit()
    assert "stops Vitrine watching 1 camera" in seen[-1]
    assert desktop.host.cfg.kpis.capacity == 25
    qtbot.waitUntil(lambda: "capacity = 25" in config_path().read_text("utf-8"), timeout=10000)
    answer(seen, "Cancel")  # nothing unsaved now: only the counting question
    assert not win.may_quit() and "stops Vitrine watching" in seen[-1] and len(seen) == 4
