"""Settings' "Use a provisioning file…" on the real HQ receiver and the real store: the
file dialog (patched) gives HQ's file, the enrolment runs off the GUI thread, the page
shows the outcome and saves the enrolled settings; a spent file is said on the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import AppConfig
from app.store.db import Store
from app.store.settings_store import load_config, save_config
from app.ui.settings_view import SettingsView
from app.ui.sync_settings import downloads_or_home
from app.ui.workers import Background
from tests.sync.conftest import HqServer
from tests.sync.test_provisioning import _hq_file


def test_settings_button_enrols_and_saves(
    qtbot,  # noqa: ANN001
    hq_server: HqServer,
    local_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_id, f = _hq_file(hq_server, tmp_path)
    starts: list[str] = []

    def open_file(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        starts.append(start)
        return str(f), ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", open_file)
    background = Background(1, name="test-provision")
    view = SettingsView(backups=local_store, background=background)
    qtbot.addWidget(view)
    try:
        view.set_config(AppConfig())
        assert not view.sync.enabled.isChecked()
        with qtbot.waitSignal(view.save_requested, timeout=30_000) as sig:
            view.sync.use_file.click()
        assert starts == [str(downloads_or_home())]
        new: AppConfig = sig.args[0]
        base = hq_server.process.base_url
        assert view.sync.outcome.text() == (
            f"enrolled with HQ at {base} as store {store_id}; sync is on"
        )
        assert view.sync.outcome.objectName() == "Success"
        # the fields show the enrolled settings
        assert view.store_id.text() == store_id and view.name.text() == "Lyon Part-Dieu"
        assert view.sync.enabled.isChecked() and view.sync.url.text() == base
        assert view.sync.key.text() == "" and "saved" in view.sync.key.placeholderText()
        key = new.sync.store_key.get_secret_value()
        assert key and view.form_config().sync.store_key.get_secret_value() == key
        toml = tmp_path / "config.toml"
        save_config(local_store, new, "test", path=toml).result(timeout=10)
        loaded, _ = load_config(local_store, toml)
        assert loaded.sync.store_key.get_secret_value() == key and key not in toml.read_text()

        # the same file again: HQ refuses the spent token, said on the group's line
        view.sync.use_file.click()
        qtbot.waitUntil(lambda: view.sync.outcome.objectName() == "Error", timeout=30_000)
        assert "refused the enrolment" in view.sync.outcome.text()
        assert view.sync.use_file.isEnabled()
    finally:
        background.shutdown()


def test_button_is_off_without_a_store(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()
    qtbot.addWidget(view)
    assert not view.sync.use_file.isEnabled()
