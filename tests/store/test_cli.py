"""`python main.py store info|migrate|retention|backup`."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import main
from app.events import LineCross, NewVisitor
from app.store import migrate
from app.store.connect import init_new_database, make_engine, raw_connect
from app.store.db import open_store
from app.store.keys import resolve_key


def _seed(db: Path) -> None:
    with open_store(db) as s:
        s.writer.ingest(NewVisitor("cam", 1000.0, 0, 0.0, "z", "v1", 1, b"old crop"))
        s.writer.ingest(LineCross("cam", 1000.0, 0, 0.0, "door", "in", 1)).result(10)


def test_info(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db_path)
    assert main(["store", "info", "--check"]) == 0
    out = capsys.readouterr().out
    assert str(db_path) in out and "key from scrypt" in out
    assert f"schema:     {migrate.head_revision()}" in out and "integrity:  ok" in out
    assert "line_crossings     1" in out


def test_info_without_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "info"]) == 2
    assert "no store at" in capsys.readouterr().err


def test_wrong_passphrase_is_one_line(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db_path)
    monkeypatch.setenv("VITRINE_STORE_PASSPHRASE", "nope")
    assert main(["store", "info"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not be opened with this passphrase" in err


def test_migrate(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = resolve_key(db_path, None, create=True)
    c = raw_connect(db_path, key)
    init_new_database(c)
    c.close()
    engine = make_engine(db_path, key, "admin")
    with engine.connect() as conn:
        migrate.upgrade(conn, "0001")
    engine.dispose()
    assert main(["store", "migrate"]) == 0
    assert f"from schema 0001 to {migrate.head_revision()}" in capsys.readouterr().out
    assert list((db_path.parent / "backups").glob("*.db"))
    assert main(["store", "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_retention_and_backup(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_path)  # 1970 timestamps: everything raw has expired
    assert main(["store", "retention"]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 person_crops" in out and "deleted 1 line_crossings" in out
    dest = tmp_path / "copy.db"
    assert main(["store", "backup", "--out", str(dest)]) == 0
    assert "encrypted backup written" in capsys.readouterr().out
    with open_store(dest, create=False) as s:
        assert s.revision() == migrate.head_revision()


def test_retention_bad_config(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_path)
    bad = tmp_path / "c.toml"
    bad.write_text("[retention]\nperson_crops_days = -1\n")
    assert main(["store", "retention", "--config", str(bad)]) == 2
    assert "person_crops_days" in capsys.readouterr().err


def test_no_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store"]) == 2
    assert "choose one of" in capsys.readouterr().err
