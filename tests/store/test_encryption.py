"""Nothing readable on disk: known markers never appear in the db file, its WAL or journal,
while they are readable through the key (positive control with our own page decryption)."""

from __future__ import annotations

from pathlib import Path

from app.events import NewVisitor, ZoneEnter
from app.store.db import Store, open_store
from app.store.keys import header_path, resolve_key
from app.store.models import Product, Setting
from tests.store.sqlcipher_pages import decrypted_db, decrypted_wal

MARKERS = {
    "zone": b"ZoneMarker-7f3a9c",
    "visitor": b"VisitorMarker-51d2e8",
    "product": b"ProductMarker-b7e104",
    "setting": b"SettingMarker-c90a77",
    "crop": b"CropMarkerBytes-0d44f1",
}
PASSPHRASE = "correct horse battery staple"


def _write_markers(store: Store) -> None:
    store.writer.ingest(
        ZoneEnter("cam", 1000.0, 1, 0.0, MARKERS["zone"].decode(), 3, "v-1", "visit-1")
    )
    store.writer.ingest(
        NewVisitor(
            "cam", 1000.0, 1, 0.0, "till", MARKERS["visitor"].decode(), 3,
            crop_jpeg=b"\xff\xd8" + MARKERS["crop"] * 50,
        )
    )  # fmt: skip
    store.writer.submit(lambda s: s.add(Product(barcode="1", name=MARKERS["product"].decode())))
    store.writer.submit(lambda s: s.add(Setting(key="k", value=MARKERS["setting"].decode())))
    store.writer.flush()


def _files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")]


def _assert_no_markers(db: Path) -> None:
    for f in [*_files(db), header_path(db)]:
        if f.exists():
            data = f.read_bytes()
            for name, marker in MARKERS.items():
                assert marker not in data, f"{name} marker in plaintext in {f.name}"


def test_markers_never_on_disk_while_open_and_after_close(db_path: Path) -> None:
    store = open_store(db_path, PASSPHRASE)
    _write_markers(store)
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # WAL mode really in use
    _assert_no_markers(db_path)
    key = resolve_key(db_path, PASSPHRASE, create=False)
    plain = decrypted_db(db_path, key) + decrypted_wal(wal, key)
    for marker in MARKERS.values():  # positive control: the bytes are there, encrypted
        assert marker in plain
    store.close()
    assert not wal.exists() or wal.stat().st_size == 0
    _assert_no_markers(db_path)
    assert all(m in decrypted_db(db_path, key) for m in MARKERS.values())


def test_plain_mode_would_leak_markers(tmp_path: Path) -> None:
    """The same check catches a store that is not encrypted (the test can fail)."""
    db = tmp_path / "plain.db"
    store = open_store(db, encrypted=False)
    _write_markers(store)
    store.close()
    assert MARKERS["product"] in db.read_bytes()


def test_key_never_written_beside_the_db(db_path: Path) -> None:
    with open_store(db_path, PASSPHRASE):
        pass
    key = resolve_key(db_path, PASSPHRASE, create=False)
    for f in db_path.parent.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert key not in data and key.hex().encode() not in data, f.name
            assert PASSPHRASE.encode() not in data, f.name
