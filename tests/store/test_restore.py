"""Restoring the store from a backup (app/store/restore.py) and `store restore`: a good
backup comes back whole, a bad one is refused with the store byte-identical."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from app.cli.main import main
from app.events import LineCross
from app.store import migrate
from app.store.connect import init_new_database, make_engine, raw_connect
from app.store.db import open_store
from app.store.keys import copy_header, header_path, resolve_key
from app.store.restore import (
    STAGING_SUFFIX,
    RestoreError,
    list_backups,
    restore_backup,
    verify_backup,
)


def _cross(store: object, t: float) -> None:
    store.writer.ingest(LineCross("cam", t, 0, 0.0, "door", "in", 1)).result(10)  # type: ignore[attr-defined]


def _rows(db: Path, key: bytes) -> list[tuple[object, ...]]:
    conn = raw_connect(db, key)
    try:
        return list(conn.execute("SELECT ts, line, direction FROM line_crossings ORDER BY ts"))
    finally:
        conn.close()


def _digest(db: Path) -> dict[str, str]:
    files = [db, header_path(db), Path(str(db) + "-wal")]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


@pytest.fixture
def with_backup(db_path: Path) -> tuple[Path, bytes]:
    """A store with 2 crossings and a backup holding the first one only."""
    with open_store(db_path) as s:
        _cross(s, 1000.0)
        backup = s.backup()
        _cross(s, 2000.0)
        key = s.key
    assert key is not None
    return backup, key


def test_restore_brings_the_backup_back(db_path: Path, with_backup: tuple[Path, bytes]) -> None:
    backup, key = with_backup
    expected = _rows(backup, key)
    assert len(expected) == 1 and len(_rows(db_path, key)) == 2
    res = restore_backup(db_path, backup, key)
    assert _rows(db_path, key) == expected
    assert res.revision == migrate.head_revision()
    assert res.previous_saved_to is not None and "before-restore" in res.previous_saved_to.name
    assert len(_rows(res.previous_saved_to, key)) == 2  # nothing lost: the replaced data
    assert not Path(str(db_path) + STAGING_SUFFIX).exists()
    with open_store(db_path) as s:  # it opens normally, with the same passphrase
        with s.read_session() as rs:
            n = rs.connection().exec_driver_sql("SELECT count(*) FROM line_crossings").scalar()
        assert n == 1
    names = [e.path for e in list_backups(db_path)]
    assert backup in names and res.previous_saved_to in names


def test_an_older_backup_is_migrated(db_path: Path, with_backup: tuple[Path, bytes]) -> None:
    _, key = with_backup
    old = db_path.parent / "backups" / "vitrine-old-manual.db"
    c = raw_connect(old, key)
    init_new_database(c)
    c.close()
    engine = make_engine(old, key, "admin")
    with engine.connect() as conn:
        migrate.upgrade(conn, "0001")
    engine.dispose()
    copy_header(db_path, old)
    assert verify_backup(old, key) == "0001"
    res = restore_backup(db_path, old, key)
    assert res.backup_revision == "0001" and res.revision == migrate.head_revision()
    assert _rows(db_path, key) == []


def _corrupt(backup: Path, tmp: Path) -> Path:
    bad = tmp / "corrupt.db"
    shutil.copyfile(backup, bad)
    copy_header(backup, bad)
    data = bytearray(bad.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)
    bad.write_bytes(bytes(data))
    return bad


def _other_store(tmp: Path, monkeypatch: pytest.MonkeyPatch, keep_header: bool) -> Path:
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "another-passphrase")
    other = tmp / "other" / "vitrine.db"
    other.parent.mkdir()
    with open_store(other) as s:
        _cross(s, 5.0)
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "test-passphrase")
    if not keep_header:
        header_path(other).unlink()
    return other


def _plain_sqlite(tmp: Path) -> Path:
    import sqlite3

    p = tmp / "plain.db"
    sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit()
    return p


def _too_new(backup: Path, key: bytes, tmp: Path) -> Path:
    p = tmp / "newer.db"
    shutil.copyfile(backup, p)
    copy_header(backup, p)
    c = raw_connect(p, key)
    c.execute("UPDATE alembic_version SET version_num = 'f999'")
    c.close()
    return p


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("corrupt", "is damaged"),
        ("other key, header", "was made with another key"),
        ("other key, no header", "is not a backup of this store"),
        ("text file", "is not a Vitrine backup"),
        ("plain sqlite", "is not a Vitrine backup"),
        ("missing", "no backup file at"),
        ("too new", "newer version of Vitrine"),
    ],
)
def test_bad_backups_are_refused_and_change_nothing(
    case: str,
    message: str,
    db_path: Path,
    with_backup: tuple[Path, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup, key = with_backup
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    bad = {
        "corrupt": lambda: _corrupt(backup, tmp_path),
        "other key, header": lambda: _other_store(tmp_path, monkeypatch, True),
        "other key, no header": lambda: _other_store(tmp_path, monkeypatch, False),
        "text file": lambda: text,
        "plain sqlite": lambda: _plain_sqlite(tmp_path),
        "missing": lambda: tmp_path / "nowhere.db",
        "too new": lambda: _too_new(backup, key, tmp_path),
    }[case]()
    before = _digest(db_path)
    backups_before = sorted(p.name for p in (db_path.parent / "backups").iterdir())
    with pytest.raises(RestoreError, match=message) as err:
        restore_backup(db_path, bad, key)
    assert "\n" not in str(err.value)
    assert _digest(db_path) == before
    assert sorted(p.name for p in (db_path.parent / "backups").iterdir()) == backups_before
    assert not Path(str(db_path) + STAGING_SUFFIX).exists()


def test_a_full_disk_leaves_the_store_as_it_was(
    db_path: Path, with_backup: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from app.store import restore

    backup, key = with_backup
    before = _digest(db_path)

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(restore, "_save_current", full)
    with pytest.raises(RestoreError, match="the disk is full"):
        restore_backup(db_path, backup, key)
    assert _digest(db_path) == before
    assert not Path(str(db_path) + STAGING_SUFFIX).exists()


def test_cli_restore(
    db_path: Path, with_backup: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    backup, key = with_backup
    assert main(["store", "restore", str(backup), "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"restored {db_path} from {backup.name}" in out and "before-restore" in out
    assert len(_rows(db_path, key)) == 1
    assert resolve_key(db_path, None, create=False) == key


@pytest.mark.parametrize(
    ("arg", "message"),
    [("nowhere.db", "no backup file at"), ("notes.db", "is not a Vitrine backup")],
)
def test_cli_restore_refuses_in_one_line(
    arg: str,
    message: str,
    db_path: Path,
    with_backup: tuple[Path, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "notes.db").write_text("hello\n" * 500)
    before = _digest(db_path)
    assert main(["store", "restore", str(tmp_path / arg), "--yes"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert _digest(db_path) == before


def test_cli_restore_asks_without_yes(
    db_path: Path, with_backup: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    backup, _ = with_backup
    before = _digest(db_path)
    assert main(["store", "restore", str(backup)]) == 2  # no terminal to confirm on
    assert "add --yes" in capsys.readouterr().err
    assert _digest(db_path) == before


def test_cli_restore_refuses_while_the_app_runs(
    db_path: Path, with_backup: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    """The desktop and `serve` hold the data directory's lock: restore is refused while
    it is held (the store unchanged), and goes ahead once it is released, even with a
    leftover -shm of a store that was not closed cleanly."""
    from app.paths import InstanceLock

    backup, key = with_backup
    running = InstanceLock(db_path.parent)  # as the desktop or serve holds it
    assert running.acquire()
    try:
        before = _digest(db_path)
        assert main(["store", "restore", str(backup), "--yes"]) == 2
        err = capsys.readouterr().err
        assert "Vitrine is running with this store" in err and "stop the desktop app" in err
        assert err.count("\n") == 1 and _digest(db_path) == before
    finally:
        running.release()
    Path(f"{db_path}-shm").write_bytes(b"\0" * 32768)  # left by a crash: no one runs
    assert main(["store", "restore", str(backup), "--yes"]) == 0
    assert len(_rows(db_path, key)) == 1
    again = InstanceLock(db_path.parent)
    assert again.acquire()  # restore let go of the lock
    again.release()
