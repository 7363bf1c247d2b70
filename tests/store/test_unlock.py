"""Unattended start (the auto-unlock file bound to this computer, the recovery key),
private file modes, and SQLCipher's page check in `store info --check`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.store import cipher_integrity
from app.config import AppConfig
from app.paths import REPO_ROOT, data_dir
from app.store import unlock
from app.store.connect import make_engine
from app.store.db import open_store
from app.store.errors import NeedPassphrase, StoreError, WrongKey
from app.store.keys import PASSPHRASE_ENV, header_path, resolve_key
from app.store.models import Setting
from app.store.settings_store import config_path, save_config
from app.store.unattended import (
    auto_unlock_state,
    disable_auto_unlock,
    enable_auto_unlock,
    new_recovery_key,
)

PASSPHRASE = "test-passphrase"  # tests/conftest.py


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def made(db_path: Path) -> Path:
    open_store(db_path, PASSPHRASE).close()
    return db_path


def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


def test_auto_unlock_opens_without_a_passphrase(
    made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recovery = enable_auto_unlock(made, PASSPHRASE)
    assert recovery is not None and unlock.looks_like_recovery_key(recovery)
    auto = unlock.auto_path(made)
    assert _mode(auto) == 0o600
    assert recovery not in auto.read_text() and recovery not in header_path(made).read_text()
    _no_passphrase(monkeypatch)
    with open_store(made, create=False) as s, s.read_session() as rs:
        assert rs.get(Setting, "nothing") is None
    assert auto_unlock_state(made).startswith("on")
    assert enable_auto_unlock(made, None) is None  # again: same recovery key, none shown
    assert disable_auto_unlock(made) and not auto.exists()
    with pytest.raises(NeedPassphrase, match="protected by a passphrase"):
        open_store(made, create=False)


def test_a_copy_on_another_computer_asks_for_the_passphrase(
    made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable_auto_unlock(made, PASSPHRASE)
    _no_passphrase(monkeypatch)
    monkeypatch.setattr(unlock, "machine_id", lambda: "another-computer")
    with pytest.raises(NeedPassphrase, match="set up on another computer") as exc:
        open_store(made, create=False)
    assert isinstance(exc.value, unlock.MachineChanged) and "\n" not in str(exc.value)
    assert "broken" in auto_unlock_state(made)
    open_store(made, PASSPHRASE, create=False).close()  # the re-enter passphrase path
    enable_auto_unlock(made, PASSPHRASE)  # bound to this computer now
    open_store(made, create=False).close()


def test_the_recovery_key_opens_the_store_and_can_be_replaced(
    made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recovery = enable_auto_unlock(made, PASSPHRASE)
    assert recovery is not None
    disable_auto_unlock(made)
    _no_passphrase(monkeypatch)
    open_store(made, recovery.lower().replace("-", " "), create=False).close()  # as typed
    wrong = unlock.new_recovery_key()
    with pytest.raises(WrongKey, match="recovery key does not open"):
        open_store(made, wrong, create=False)
    newer = new_recovery_key(made, recovery)
    open_store(made, newer, create=False).close()
    with pytest.raises(WrongKey):
        open_store(made, recovery, create=False)  # the old one stopped working
    assert enable_auto_unlock(made, newer) is None  # re-wrap with the recovery key
    open_store(made, create=False).close()


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda p: p.chmod(0o644), "can be read by other users"),
        (lambda p: p.write_text("{not json"), "is damaged"),
    ],
    ids=["exposed", "damaged"],
)
def test_an_exposed_or_damaged_file_is_refused_in_one_line(
    made: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage,
    error: str,  # noqa: ANN001
) -> None:
    enable_auto_unlock(made, PASSPHRASE)
    _no_passphrase(monkeypatch)
    damage(unlock.auto_path(made))
    with pytest.raises(StoreError, match=error) as exc:
        open_store(made, create=False)
    assert "\n" not in str(exc.value)


def _main(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO_ROOT,
    )


def test_a_restart_with_no_one_at_the_keyboard(made: Path) -> None:
    """Child processes with no passphrase in their environment and no stdin."""
    locked = _main("store", "unlock", "--auto", "on")  # no passphrase, no terminal to ask
    assert locked.returncode == 2 and "protected by a passphrase" in locked.stderr
    assert locked.stderr.count("\n") == 1
    enable_auto_unlock(made, PASSPHRASE)  # what `store unlock --auto on` does once typed
    info = _main("store", "info", "--check")
    assert info.returncode == 0, info.stderr
    assert "auto-unlock: on" in info.stdout and "cipher:     ok" in info.stdout


def test_files_are_private(made: Path) -> None:
    assert _mode(data_dir()) == 0o700
    with open_store(made, create=False) as s:
        s.writer.submit(lambda ss: ss.add(Setting(key="k", value="1"))).result(10)
        for suffix in ("", "-wal", "-shm", ".keyinfo"):
            assert _mode(made.with_name(made.name + suffix)) == 0o600, suffix
        backup = s.backup()
        save_config(s, AppConfig()).result(10)
    assert _mode(backup) == 0o600 and _mode(header_path(backup)) == 0o600
    assert _mode(backup.parent) == 0o700
    assert _mode(config_path()) == 0o600
    enable_auto_unlock(made, PASSPHRASE)
    assert _mode(unlock.auto_path(made)) == 0o600


def test_an_older_world_readable_store_is_narrowed(made: Path) -> None:
    for p in (made, header_path(made), data_dir()):
        p.chmod(0o755 if p.is_dir() else 0o644)
    open_store(made, create=False).close()
    assert _mode(made) == 0o600 and _mode(header_path(made)) == 0o600
    assert _mode(data_dir()) == 0o700


def test_cipher_integrity_check_finds_a_tampered_page(made: Path) -> None:
    key = resolve_key(made, PASSPHRASE, create=False)
    with open_store(made, create=False) as s:
        copy = s.backup()
    engine = make_engine(copy, key, "reader")
    try:
        with engine.connect() as conn:
            assert cipher_integrity(conn)[0]
    finally:
        engine.dispose()
    data = bytearray(copy.read_bytes())
    data[4096 + 100] ^= 0xFF  # one byte of the second page
    copy.write_bytes(bytes(data))
    engine = make_engine(copy, key, "reader")
    try:
        with engine.connect() as conn:
            ok, text = cipher_integrity(conn)
    finally:
        engine.dispose()
    assert not ok and "hmac" in text.lower(), text


def test_store_info_check_reports_and_fails_on_a_cipher_problem(
    made: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import store as store_cli
    from app.cli.main import main

    assert main(["store", "info", "--check"]) == 0
    assert "cipher:     ok (every page's HMAC verified)" in capsys.readouterr().out
    monkeypatch.setattr(store_cli, "cipher_integrity", lambda conn: (False, "HMAC check failed"))
    assert main(["store", "info", "--check"]) == 1
    assert "cipher:     HMAC check failed" in capsys.readouterr().out


def test_store_unlock_commands(made: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import main

    assert main(["store", "unlock"]) == 0
    assert "automatic unlock: off" in capsys.readouterr().out
    assert main(["store", "unlock", "--auto", "on"]) == 0
    out = capsys.readouterr().out
    first = out.split("recovery key: ")[1].split()[0]
    assert unlock.looks_like_recovery_key(first) and "shown only now" in out
    assert main(["store", "unlock", "--auto", "on"]) == 0  # again: no new recovery key
    assert "recovery key" not in capsys.readouterr().out
    assert main(["store", "recovery-key"]) == 2  # no terminal to ask: --yes is needed
    assert "--yes" in capsys.readouterr().err
    assert main(["store", "recovery-key", "--yes"]) == 0
    second = capsys.readouterr().out.split("recovery key: ")[1].split()[0]
    assert second != first
    open_store(made, second, create=False).close()
    assert main(["store", "unlock", "--auto", "off"]) == 0
    assert "automatic unlock is off" in capsys.readouterr().out
    assert not unlock.auto_path(made).exists()
