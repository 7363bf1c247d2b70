"""A full disk: the writes that did not fit fail with a clear message, everything that was
acknowledged before is still there, and the store works again once there is room."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.events import Alert, EventBus, NewVisitor
from app.store.db import Store, open_store
from app.store.errors import StoreFull
from app.store.models import PersonCrop
from app.store.writer import WriterOptions

CROP = bytes(range(256)) * 64  # 16 KiB, incompressible enough


def _fill(store: Store, limit: int = 400) -> tuple[list[str], StoreFull]:
    """Ingest crops until the store is full; returns acknowledged visitor ids and the error."""
    acked: list[str] = []
    for i in range(limit):
        vid = f"visitor-{i:04d}"
        fut: Future[None] = store.writer.ingest(
            NewVisitor("cam", 1000.0 + i, i, 0.0, "z", vid, i, CROP)
        )
        try:
            fut.result(30)
        except StoreFull as exc:
            return acked, exc
        acked.append(vid)
    raise AssertionError("the store never filled up")


def _crop_ids(store: Store) -> set[str]:
    with store.read_session() as s:
        return set(s.scalars(select(PersonCrop.visitor_id)))


def test_page_limit_full(db_path: Path) -> None:
    store = open_store(db_path, writer_options=WriterOptions(batch_ms=0))
    try:
        bus = EventBus()
        alerts: list[Alert] = []
        bus.subscribe(alerts.append, Alert)
        store.attach(bus)
        run = store.writer.run_outside_transaction
        pages = run(lambda c: c.execute("PRAGMA page_count").fetchone()[0]).result(10)
        run(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 100}")).result(10)
        acked, err = _fill(store)
        assert "disk is full" in str(err) and "\n" not in str(err)
        assert len(acked) > 5
        assert [a.kind for a in alerts] == ["disk_full"]
        assert set(acked) <= _crop_ids(store)
        # room again: the writer did not die
        run(lambda c: c.execute("PRAGMA max_page_count = 1000000")).result(10)
        store.writer.ingest(NewVisitor("cam", 5000.0, 1, 0.0, "z", "after", 1, CROP)).result(10)
    finally:
        store.close()
    with open_store(db_path) as again, again.read_session() as s:
        assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert set(acked) | {"after"} <= set(s.scalars(select(PersonCrop.visitor_id)))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); test_page_limit_full covers it")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_filesystem(small_disk: Path, tmp_path: Path) -> None:
    db = small_disk / "vitrine.db"
    store = open_store(db, writer_options=WriterOptions(batch_ms=0))
    try:
        acked, err = _fill(store)
        assert "disk is full" in str(err)
        assert set(acked) <= _crop_ids(store)
    finally:
        store.close()
    safe = tmp_path / "copy"
    safe.mkdir()
    for f in small_disk.iterdir():
        shutil.copy(f, safe / f.name)
    with open_store(safe / "vitrine.db") as again, again.read_session() as s:
        assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert set(acked) <= set(s.scalars(select(PersonCrop.visitor_id)))
