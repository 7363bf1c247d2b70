"""The desktop side of an installer rollout: the first start enrols from the provisioning
file the installer left (HQ's answer stubbed here; tests/sync/test_autoprovision.py and
tests/installer run it against the real receiver), the wizard then does not ask the
store's name, and Settings shows what this machine can hold, measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.sync import autoprovision, provisioning
from app.ui.app import DesktopApp
from app.ui.capacity_row import CapacityRow
from app.ui.wizard import FirstRunWizard
from app.ui.workers import Background


@pytest.fixture
def background():  # noqa: ANN201
    bg = Background()
    yield bg
    bg.shutdown()


def _file(path: Path) -> Path:
    path.write_text(json.dumps({
        "format": "vitrine-provisioning", "version": 1, "store_id": "rivoli-01",
        "store_name": "Rivoli", "hq_url": "http://127.0.0.1:9", "enrol_path": "/api/v1/enrol",
        "enrolment_token": "t" * 32,
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }))  # fmt: skip
    return path


def test_first_start_enrols_and_the_wizard_keeps_hqs_name(
    qtbot, store, background, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    monkeypatch.setenv(autoprovision.ENV_FILE, str(_file(tmp_path / "prov.json")))
    monkeypatch.setattr(provisioning, "enrol", lambda p, transport=None: "vsk_" + "k" * 40)
    monkeypatch.setattr(FirstRunWizard, "ask_before_quitting", lambda self: True)
    desktop = DesktopApp(store)
    assert desktop.provisioning is not None and desktop.provisioning.ok
    assert desktop.cfg.store.id == "rivoli-01" and desktop.cfg.sync.enabled
    assert desktop.first_run  # cameras and privacy are still the manager's to choose
    wiz = FirstRunWizard(background, desktop.cfg)
    qtbot.addWidget(wiz)
    wiz.show()
    assert wiz.store_page.name.text() == "Rivoli" and wiz.store_page.name.isReadOnly()
    wiz.next()
    assert wiz.currentPage() is wiz.privacy_page
    # a second start does not use the file again
    assert DesktopApp(store).provisioning is None


def test_settings_measure_this_machine(qtbot, background) -> None:  # noqa: ANN001
    row = CapacityRow(background)
    qtbot.addWidget(row)
    assert "Not measured yet" in row.text.text()
    row.button.click()
    assert not row.button.isEnabled()
    qtbot.waitUntil(lambda: row.button.isEnabled(), timeout=60_000)
    assert "cameras this machine holds" in row.text.text() and "cores" in row.text.text()
