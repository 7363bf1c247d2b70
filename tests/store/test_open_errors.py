"""Each unusable file gets a clear one-line message and stays byte-for-byte untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.events import LineCross
from app.store.connect import raw_connect
from app.store.db import open_store
from app.store.errors import NeedPassphrase, StoreCorrupt, StoreError, StoreTooNew, WrongKey
from app.store.keys import header_path, resolve_key
from app.store.models import Setting

PASS = "the-right-one"


def _make(db: Path, rows: int = 50) -> None:
    with open_store(db, PASS) as s:
        for i in range(rows):
            s.writer.ingest(LineCross("cam", 1000.0 + i, i, float(i), "door", "in", i))
        s.writer.submit(lambda ss: ss.add(Setting(key="k", value="1"))).result(10)


def _snapshot(d: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.iterdir())
        if p.is_file()
    }


def _assert_untouched(
    db: Path, exc: pytest.ExceptionInfo[StoreError], before: dict[str, str]
) -> None:
    assert _snapshot(db.parent) == before
    msg = str(exc.value)
    assert "\n" not in msg and "Traceback" not in msg and len(msg) < 300


def test_wrong_passphrase(db_path: Path) -> None:
    _make(db_path)
    before = _snapshot(db_path.parent)
    with pytest.raises(WrongKey) as exc:
        open_store(db_path, "not-the-right-one")
    assert "could not be opened with this passphrase" in str(exc.value)
    _assert_untouched(db_path, exc, before)


def test_missing_passphrase(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make(db_path)
    monkeypatch.delenv("VITRINE_STORE_PASSPHRASE")
    before = _snapshot(db_path.parent)
    with pytest.raises(NeedPassphrase, match="protected by a passphrase") as exc:
        open_store(db_path)
    _assert_untouched(db_path, exc, before)


def test_wrong_raw_key_is_refused_by_sqlcipher_itself(db_path: Path) -> None:
    """Without our key check the file is still unreadable with another key."""
    _make(db_path)
    conn = raw_connect(db_path, b"\x01" * 32)
    with pytest.raises(Exception, match="not a database"):
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn.close()


def test_file_from_a_newer_version(db_path: Path) -> None:
    _make(db_path)
    conn = raw_connect(db_path, resolve_key(db_path, PASS, create=False))
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()
    before = _snapshot(db_path.parent)
    with pytest.raises(StoreTooNew) as exc:
        open_store(db_path, PASS)
    assert "newer version of Vitrine" in str(exc.value) and "0099" in str(exc.value)
    _assert_untouched(db_path, exc, before)


@pytest.mark.parametrize("offset", [200, 4096 * 5 + 100], ids=["page1", "later-page"])
def test_corrupt_file(db_path: Path, offset: int) -> None:
    _make(db_path, rows=2000)
    data = bytearray(db_path.read_bytes())
    assert len(data) > offset + 64
    data[offset : offset + 64] = bytes(64)
    db_path.write_bytes(bytes(data))
    before = _snapshot(db_path.parent)
    with pytest.raises(StoreCorrupt) as exc:
        open_store(db_path, PASS)
    assert "damaged" in str(exc.value)
    _assert_untouched(db_path, exc, before)


def test_plain_sqlite_file_is_not_a_store(db_path: Path) -> None:
    with open_store(db_path, encrypted=False):
        pass
    before = _snapshot(db_path.parent)
    with pytest.raises(StoreCorrupt, match="unencrypted SQLite file") as exc:
        open_store(db_path, PASS)
    _assert_untouched(db_path, exc, before)


def test_missing_key_header(db_path: Path) -> None:
    _make(db_path)
    header_path(db_path).unlink()
    before = _snapshot(db_path.parent)
    with pytest.raises(StoreCorrupt, match="key header .* is missing") as exc:
        open_store(db_path, PASS)
    _assert_untouched(db_path, exc, before)


def test_garbage_key_header(db_path: Path) -> None:
    _make(db_path)
    header_path(db_path).write_text("{not json")
    before = _snapshot(db_path.parent)
    with pytest.raises(StoreCorrupt, match="damaged") as exc:
        open_store(db_path, PASS)
    _assert_untouched(db_path, exc, before)


def test_a_file_that_is_no_store_is_named_as_such(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("a text file given as the store\n")
    before = _snapshot(tmp_path)
    with pytest.raises(StoreCorrupt, match="notes.db is not a Vitrine store") as exc:
        open_store(notes, PASS)
    _assert_untouched(notes, exc, before)
