"""One program counts with a data directory at a time: a second desktop window or
`serve` on the same store is refused in words (two would count every person twice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import main
from app.paths import InstanceLock, data_dir


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_serve_refuses_a_data_directory_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    held = InstanceLock()
    assert held.acquire()
    try:
        assert main(["serve", "--no-engine"]) == 2
    finally:
        held.release()
    err = capsys.readouterr().err
    assert "already running with this data directory" in err and str(data_dir()) in err
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_the_desktop_refuses_a_data_directory_in_use(
    qtbot,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.ui import app as ui_app

    said: list[str] = []
    monkeypatch.setattr(ui_app, "already_running", lambda: said.append("told"))
    monkeypatch.setattr(
        ui_app, "open_store_interactive", lambda parent=None: pytest.fail("store opened")
    )
    held = InstanceLock()
    assert held.acquire()
    try:
        assert ui_app.run_desktop() == 1
    finally:
        held.release()
    assert said == ["told"]
