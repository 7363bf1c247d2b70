"""Opening, writing through the single writer, reading concurrently, reopening."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.events import EventBus, LineCross, NewVisitor, Occupancy
from app.store import migrate
from app.store.db import Store, open_store
from app.store.errors import StoreClosed, StoreError
from app.store.models import LineCrossing, PersonCrop, Product, Setting


def _count(store: Store, model: type) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_default_path_follows_data_dir(_isolated_data_dir: Path) -> None:
    with open_store() as s:
        assert s.path == _isolated_data_dir / "vitrine.db"
        assert s.revision() == migrate.head_revision()
    assert (_isolated_data_dir / "vitrine.db").is_file()
    assert (_isolated_data_dir / "vitrine.db.keyinfo").is_file()


def test_pragmas_wal_incremental_vacuum_secure_delete(store: Store) -> None:
    with store.read_session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA auto_vacuum")).scalar() == 2  # incremental
        assert s.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert s.execute(text("PRAGMA cipher_version")).scalar()  # SQLCipher, not plain


def test_submit_resolves_after_commit_and_returns_value(store: Store) -> None:
    def add(s: Session) -> str:
        s.add(Product(barcode="4006381333931", name="Pen", price=2.5))
        return "ok"

    assert store.writer.submit(add).result(10) == "ok"
    with store.read_session() as s:
        assert s.get(Product, "4006381333931") is not None


def test_failing_job_fails_only_its_future(store: Store) -> None:
    def boom(s: Session) -> None:
        s.add(Setting(key="x", value="1"))
        raise ValueError("bad job")

    good1 = store.writer.submit(lambda s: s.add(Setting(key="a", value="1")))
    bad = store.writer.submit(boom)
    good2 = store.writer.submit(lambda s: s.add(Setting(key="b", value="2")))
    good1.result(10)
    good2.result(10)
    with pytest.raises(ValueError, match="bad job"):
        bad.result(10)
    with store.read_session() as s:
        assert sorted(s.scalars(select(Setting.key))) == ["a", "b"]  # x rolled back


def test_events_are_batched_in_few_transactions(store: Store) -> None:
    futs = [
        store.writer.ingest(LineCross("cam", 1000.0 + i, i, float(i), "door", "in", i))
        for i in range(500)
    ]
    for f in futs:
        f.result(30)
    assert _count(store, LineCrossing) == 500
    assert store.writer.batches < 100  # not one transaction per event


def test_attach_persists_bus_events_and_detach_on_close(db_path: Path) -> None:
    bus = EventBus()
    store = open_store(db_path)
    store.attach(bus)
    bus.publish(Occupancy("cam", 1000.0, 1, 0.0, "till", 3))
    bus.publish(NewVisitor("cam", 1000.0, 1, 0.0, "till", "v-1", 7, crop_jpeg=b"\xff\xd8jpeg"))
    bus.publish("not an event")  # ignored by type filter
    store.writer.flush()
    assert _count(store, PersonCrop) == 1
    store.close()
    bus.publish(Occupancy("cam", 1001.0, 2, 1.0, "till", 4))  # no error after close
    with pytest.raises(StoreClosed):
        store.writer.submit(lambda s: None)


def test_readers_run_while_writer_writes(store: Store) -> None:
    stop = threading.Event()
    seen: dict[int, list[int]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        while not stop.is_set():
            try:
                seen[i].append(_count(store, LineCrossing))
            except BaseException as exc:  # reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader, args=(i,), name=f"reader-{i}") for i in range(2)]
    for t in threads:
        t.start()
    futs = [
        store.writer.ingest(LineCross("cam", 1000.0 + i, i, float(i), "door", "in", i))
        for i in range(3000)
    ]
    for f in futs:
        f.result(60)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    for counts in seen.values():
        assert counts, "a reader never got to read"
        assert counts == sorted(counts)  # committed batches only ever appear, never vanish
        assert all(c % 1 == 0 and 0 <= c <= 3000 for c in counts)


def test_readers_cannot_write(store: Store) -> None:
    with store.read_session() as s, pytest.raises(Exception, match="readonly|read-only|query_only"):
        s.execute(text("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', 0)"))


def test_reopen_keeps_data(db_path: Path) -> None:
    with open_store(db_path) as s:
        s.writer.submit(lambda ss: ss.add(Setting(key="k", value='"v"'))).result(10)
    with open_store(db_path, create=False) as s, s.read_session() as rs:
        assert rs.get(Setting, "k") is not None


def test_create_false_on_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "nope.db", create=False)


def test_batch_size_and_wait_limits(db_path: Path) -> None:
    from app.store.writer import WriterOptions

    with open_store(db_path, writer_options=WriterOptions(batch_max=50, batch_ms=200)) as s:
        futs = [
            s.writer.ingest(LineCross("cam", 1000.0 + i, i, 0.0, "door", "in", i))
            for i in range(500)
        ]
        for f in futs:
            f.result(30)
        assert s.writer.batches >= 10  # never more than 50 items per transaction
        before = s.writer.batches
        t0 = time.monotonic()
        s.writer.ingest(LineCross("cam", 2000.0, 0, 0.0, "door", "in", 1)).result(10)
        waited = time.monotonic() - t0
        assert s.writer.batches == before + 1
        assert 0.15 <= waited < 5.0  # a lone item waits up to batch_ms for company


def test_group_commit_without_waiting(db_path: Path) -> None:
    """Default options: an idle writer commits a lone item at once (no linger); items
    queued while a batch is being applied form the next batch together."""
    from app.store.writer import WriterOptions

    assert WriterOptions().batch_ms == 0.0
    with open_store(db_path) as s:
        started, release = threading.Event(), threading.Event()

        def blocker(_: Session) -> None:
            started.set()
            assert release.wait(10)

        first = s.writer.submit(blocker)
        assert started.wait(10)  # the writer is inside a batch of one job
        before = s.writer.batches
        futs = [
            s.writer.ingest(LineCross("cam", 1000.0 + i, i, 0.0, "door", "in", i))
            for i in range(300)
        ]
        assert not any(f.done() for f in futs)
        release.set()
        first.result(10)
        for f in futs:
            f.result(10)
        assert s.writer.batches == before + 2  # the blocked batch, then all 300 in one
        assert _count(s, LineCrossing) == 300
        lone = s.writer.ingest(LineCross("cam", 5000.0, 0, 0.0, "door", "in", 1))
        lone.result(10)
        assert s.writer.batches == before + 3


def _analysed(store: Store) -> set[str]:
    with store.read_session() as s:
        if not s.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            return set()
        return set(s.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())


def test_optimize_at_close_and_when_statistics_go_stale(db_path: Path) -> None:
    def crossings(s: Store, n: int, t0: float) -> None:
        for i in range(n):
            s.writer.ingest(LineCross("cam", t0 + i, i, 0.0, "door", "in", i))
        s.writer.flush()

    with open_store(db_path) as s:
        crossings(s, 40, 1000.0)
        assert "line_crossings" not in _analysed(s)
    with open_store(db_path) as s:  # close ran PRAGMA optimize on the tables it wrote
        assert "line_crossings" in _analysed(s)
        assert not any("line_crossings" in x for x in s.optimize())  # still fresh
        crossings(s, 2000, 5000.0)  # 50 times more rows: the statistics are stale
        assert any("line_crossings" in x for x in s.optimize())
        with s.read_session() as rs:
            stat = rs.execute(
                text("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_line_crossings_line_ts'")
            ).scalar()
        assert str(stat).split()[0] == "2040"


def test_cancelled_future_does_not_break_the_writer(store: Store) -> None:
    f = store.writer.ingest(LineCross("cam", 1000.0, 0, 0.0, "door", "in", 1))
    f.cancel()
    store.writer.ingest(LineCross("cam", 1001.0, 0, 0.0, "door", "in", 2)).result(10)
    assert _count(store, LineCrossing) == 2
