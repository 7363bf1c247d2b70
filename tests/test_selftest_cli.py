"""`python main.py selftest` on this machine: real models, real detector, real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import main


def test_selftest_reports_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest"]) == 0
    out = capsys.readouterr().out
    assert "ok   models" in out and "yolox_nano" in out
    assert "ok   detector" in out and "CPUExecutionProvider" in out
    assert "no store yet" in out
    assert out.strip().endswith("ready")


def test_selftest_fails_on_a_store_it_cannot_open(
    _isolated_data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store.db import open_store

    open_store(passphrase="right").close()
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "wrong")
    assert main(["selftest"]) == 1
    out = capsys.readouterr().out
    fail = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert len(fail) == 1 and "store" in fail[0]
    assert "Traceback" not in out
