"""`python main.py selftest` on this machine: real models, real detector, real store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli.main import main


def test_selftest_reports_every_check(
    _isolated_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["selftest"]) == 0
    out = capsys.readouterr().out
    assert "ok   models" in out and "yolox_nano" in out
    assert "ok   detector" in out and "CPUExecutionProvider" in out
    # the hardware probe and the measured capacity
    assert "ok   hardware" in out and "cores" in out and "GB free" in out
    assert re.search(r"\d+ ms/frame \(\d+ runs\) -> cameras this machine holds: \d+ at 10 fps", out)
    # the store is created at first start, encrypted
    assert "created (schema" in out and "encrypted with SQLCipher" in out
    head = (_isolated_data_dir / "vitrine.db").read_bytes()[:16]
    assert head != b"SQLite format 3\x00"
    assert out.strip().endswith("ready")


def test_selftest_without_a_passphrase_leaves_the_store_to_the_first_start(
    _isolated_data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    monkeypatch.delenv("VITRINE_STORE_PASSPHRASE")
    if "fail" not in type(keyring.get_keyring()).__module__:
        pytest.skip("this machine has a keychain: the store needs no passphrase")
    assert main(["selftest", "--no-bench"]) == 0
    out = capsys.readouterr().out
    assert "no store yet" in out and "hardware" not in out


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
