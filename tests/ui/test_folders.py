"""File pickers start in the folder last used for that kind of file, kept between
sessions (the desktop's settings file), and in the home folder until then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.ui import folders


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    """The settings file the autouse fixture (tests/ui/conftest.py) points the app at."""
    return tmp_path / "desktop-settings.ini"


def test_the_last_folder_of_each_kind_is_kept(settings: Path, tmp_path: Path) -> None:
    assert folders.last_folder("sales files") == Path.home()
    exports = tmp_path / "exports"
    exports.mkdir()
    folders.remember_folder("sales files", exports / "pos-march.csv")
    assert folders.last_folder("sales files") == exports
    assert folders.last_folder("videos") == Path.home()  # each kind its own
    assert "exports" in settings.read_text()  # in the settings file: the next session too
    exports.rmdir()
    assert folders.last_folder("sales files") == Path.home()  # gone: home again


def test_the_pos_picker_and_the_report_export_start_where_the_last_ones_ended(
    qtbot,
    store,
    settings,
    tmp_path,
    monkeypatch,  # noqa: ANN001
) -> None:
    from app.ui import reports_view
    from app.ui.pos_import_dialog import PosImportDialog
    from app.ui.reports_view import ReportsView

    sales = tmp_path / "till"
    sales.mkdir()
    chosen = sales / "receipts.csv"
    chosen.write_text("receipt,time,barcode,qty,amount\nR1,2026-12-04 10:00,123,1,9.90\n")
    starts: list[str] = []

    def open_file(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        starts.append(start)
        return str(chosen), ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", open_file)
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    dlg._choose()
    assert starts == [str(Path.home())]
    again = PosImportDialog(store)  # another window, later
    qtbot.addWidget(again)
    again._choose()
    assert starts[-1] == str(sales)

    saved_to = tmp_path / "reports"
    saved_to.mkdir()
    suggested: list[str] = []

    def save_file(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        suggested.append(start)
        return str(saved_to / "zones.csv"), ""

    monkeypatch.setattr(reports_view.QFileDialog, "getSaveFileName", save_file)
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.export_current()
    view.export_current()
    assert Path(suggested[0]).parent == Path.home()
    assert Path(suggested[1]).parent == saved_to and (saved_to / "zones.csv").exists()
