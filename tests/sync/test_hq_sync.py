"""Store -> HQ end to end: the real encrypted store, the real sync worker and the real
HQ receiver process on a real PostgreSQL. Every row arrives exactly once, whatever
breaks on the way."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text

from app import events as ev
from app import wire as pl
from app.config import AppConfig, SyncConfig
from app.hq import auth
from app.hq.testing_pg import HqProcess, free_port
from app.store.db import Store
from app.sync.batching import new_batch_id
from app.sync.hq_client import HqClient
from app.sync.outbox_sender import (
    SyncOptions,
    SyncStatus,
    SyncWorker,
    prune_sent,
    start_sync,
    take_batch,
)
from tests.sync.conftest import Hq
from tests.sync.hq_data import T0, populate
from tests.sync.hq_proxy import CutOnceProxy

FAST = {
    "interval_s": 0.2, "backoff_base_s": 0.2, "backoff_cap_s": 1.0, "timeout_s": 5.0,
    "connect_timeout_s": 2.0, "refresh_every_s": 0.5,
    "refresh_lookback_s": time.time() - T0 + 30 * 86400.0,  # the test data lives at T0
}  # fmt: skip


def wait_until(pred: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or pred}")


def produce(store: Store, first_bucket: int, buckets: int) -> None:
    """Door traffic over `buckets` 15-minute buckets: 3 rollups (line, camera, entrance)
    per bucket, so 3 outbox rows each."""
    events: list[Any] = []
    for b in range(first_bucket, first_bucket + buckets):
        ts = T0 + 900 * b + 10
        events.append(ev.LineCross("door", ts, b, 0.0, "door-line", "in", b))
        events.append(ev.EntranceEntered("door", ts + 1, b, 0.0, "main", "inside", b, ""))
    store.writer.ingest_many(events).result(60)


@pytest.fixture
def worker_factory(local_store: Store) -> Iterator[Callable[..., SyncWorker]]:
    made: list[SyncWorker] = []

    def make(base_url: str, store_id: str, key: str, start: bool = True, **opts: Any) -> SyncWorker:
        o = SyncOptions(**{**FAST, **opts})
        client = HqClient(
            base_url, store_id, key, timeout_s=o.timeout_s, connect_timeout_s=o.connect_timeout_s
        )
        w = SyncWorker(local_store, client, store_id=store_id, timezone="Europe/Paris", options=o)
        made.append(w)
        if start:
            w.start()
        return w

    yield make
    for w in made:
        w.stop()


def store_rows(store: Store, sql: str) -> list[Any]:
    with store.read_session() as s:
        return list(s.execute(text(sql)).all())


def assert_exactly_once(store: Store, engine: Engine, store_id: str) -> None:
    """Every outbox row is sent, in exactly one batch HQ stored once, and HQ holds the
    store's latest figures for every rollup."""
    outbox = store_rows(store, "SELECT id, batch_id, sent_at FROM sync_outbox")
    assert outbox and all(r.sent_at is not None for r in outbox)
    with engine.connect() as conn:
        batches = conn.execute(
            text("SELECT batch_key, row_count FROM batches WHERE store_id = :s"), {"s": store_id}
        ).all()
        hq_rollups = {
            (r.scope, r.name, int(r.bucket_start.timestamp())): (r.entries, r.exits, r.seq)
            for r in conn.execute(
                text("SELECT * FROM rollups WHERE store_id = :s"), {"s": store_id}
            )
        }
    per_batch: dict[str, int] = {}
    for r in outbox:
        per_batch[r.batch_id] = per_batch.get(r.batch_id, 0) + 1
    assert dict((b.batch_key, b.row_count) for b in batches) == per_batch
    assert sum(b.row_count for b in batches) == len(outbox)
    local = {
        (r.scope, r.name, int(r.bucket_start)): (r.entries, r.exits)
        for r in store_rows(store, "SELECT scope, name, bucket_start, entries, exits FROM rollups")
    }
    assert {k: v[:2] for k, v in hq_rollups.items()} == local
    last_seq = {
        k: seq
        for k, seq in store_rows(
            store, "SELECT key, max(id) FROM sync_outbox WHERE kind = 'rollup' GROUP BY key"
        )
    }
    assert sorted(v[2] for v in hq_rollups.values()) == sorted(last_seq.values())


def test_worker_sends_everything_once(
    hq: Hq, local_store: Store, worker_factory: Callable[..., SyncWorker]
) -> None:
    populate(local_store)
    produce(local_store, 10, 200)
    w = worker_factory(hq.base_url, hq.store_id, hq.key, max_rows=100)
    wait_until(lambda: w.status().backlog == 0 and w.status().rows_sent > 0, what="drain")
    st = w.status()
    assert st.last_error is None and st.last_success_at is not None
    assert_exactly_once(local_store, hq.engine, hq.store_id)
    for table in ("session_aggs", "sales_aggs", "alerts", "camera_health"):
        assert hq.count(table) > 0, table
    assert hq.count("count_audits") == 1  # the door line's counting audit (hq_data.populate)
    # more traffic later is picked up by the running worker
    produce(local_store, 300, 50)
    wait_until(lambda: w.status().backlog == 0, what="second drain")
    n_local = len(store_rows(local_store, "SELECT id FROM rollups"))
    assert hq.count("rollups") == n_local
    assert_exactly_once(local_store, hq.engine, hq.store_id)


def test_hq_killed_while_the_store_keeps_producing(
    hq_db_url: str, hq_engine: Engine, local_store: Store, worker_factory
) -> None:
    key = auth.add_store(hq_engine, "kill-test", "Kill test")
    server = HqProcess(hq_db_url).start()
    try:
        produce(local_store, 0, 600)  # 1,800 outbox rows
        w = worker_factory(server.base_url, "kill-test", key, max_rows=50)
        wait_until(lambda: w.status().rows_sent >= 200, what="first batches")
        server.kill()  # SIGKILL, mid-drain
        assert w.status().backlog > 0
        produce(local_store, 600, 300)  # the store keeps counting while HQ is down
        wait_until(lambda: "cannot reach HQ" in (w.status().last_error or ""), what="error")
        assert "will retry in" in (w.status().last_error or "")
        time.sleep(1.5)  # stay down for a few retries
        server = HqProcess(hq_db_url, port=server.port).start()
        produce(local_store, 900, 100)
        wait_until(lambda: w.status().backlog == 0, timeout=120, what="drain after restart")
        assert w.status().last_error is None
        assert_exactly_once(local_store, hq_engine, "kill-test")
        with hq_engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM rollups")).scalar_one()
        assert n == 3 * 1000
    finally:
        server.stop()


def test_restart_resends_an_unfinished_batch_with_the_same_key(
    hq: Hq, local_store: Store, worker_factory
) -> None:
    produce(local_store, 0, 30)  # 90 rows
    # app 1: takes a batch (id committed), uploads it, "crashes" before recording it
    w1 = worker_factory(hq.base_url, hq.store_id, hq.key, start=False, max_rows=40)
    batch = local_store.writer.submit(lambda s: take_batch(s, new_batch_id(), 40, 10**6))
    first = batch.result(30)
    assert first is not None and len(first.items) == 40
    raw = pl.envelope_bytes(hq.store_id, "UTC", first.batch_id, [i.wire() for i in first.items], T0)
    assert w1.client.send(first.batch_id, pl.encode_body(raw)).status == "stored"
    # after a restart the unacknowledged batch comes back whole, with its id
    again = w1._pending_batch()
    assert again is not None and again.batch_id == first.batch_id
    assert [i.id for i in again.items] == [i.id for i in first.items]
    # app 2 starts on the same outbox: resends that batch (HQ: duplicate), then the rest
    w2 = worker_factory(hq.base_url, hq.store_id, hq.key, max_rows=40)
    wait_until(lambda: w2.status().backlog == 0, what="drain")
    batches = store_rows(
        local_store, "SELECT batch_id, count(*) AS n FROM sync_outbox GROUP BY batch_id"
    )
    assert sorted(b.n for b in batches) == [10, 40, 40]
    assert first.batch_id in {b.batch_id for b in batches}
    assert hq.count("batches") == 3 and hq.count("rollups") == 90
    assert_exactly_once(local_store, hq.engine, hq.store_id)


def test_a_batch_cut_off_mid_upload_is_retried(
    hq: Hq, local_store: Store, worker_factory: Callable[..., SyncWorker]
) -> None:
    produce(local_store, 0, 100)  # 300 rows, one batch
    proxy = CutOnceProxy(int(hq.base_url.rsplit(":", 1)[1]), body_bytes_before_cut=500).start()
    try:
        w = worker_factory(proxy.url, hq.store_id, hq.key, refresh_every_s=3600)
        wait_until(lambda: w.status().backlog == 0, what="drain through the proxy")
    finally:
        proxy.stop()
    assert proxy.cuts == 1
    attempts = store_rows(local_store, "SELECT DISTINCT batch_id, attempts FROM sync_outbox")
    assert len(attempts) == 1 and attempts[0].attempts == 2  # cut once, then through
    assert hq.count("batches") == 1 and hq.count("rollups") == 300
    assert_exactly_once(local_store, hq.engine, hq.store_id)


def test_wrong_store_key_is_shown_as_the_last_error(
    hq: Hq, local_store: Store, worker_factory
) -> None:
    produce(local_store, 0, 5)
    w = worker_factory(hq.base_url, hq.store_id, "vsk_not-the-key")
    wait_until(lambda: "401" in (w.status().last_error or ""), what="401 error")
    st = w.status()
    assert st.last_error is not None
    assert st.last_error.startswith("HQ refused this store's key (HTTP 401")
    assert "will retry in" in st.last_error and st.backlog == 15 and st.last_success_at is None
    assert hq.count("batches") == 0


def test_unknown_schema_version_is_shown_as_the_last_error(
    hq: Hq,
    local_store: Store,
    worker_factory: Callable[..., SyncWorker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pl, "SCHEMA_VERSION", 2)  # a store app newer than this HQ
    produce(local_store, 0, 5)
    w = worker_factory(hq.base_url, hq.store_id, hq.key)
    wait_until(lambda: w.status().last_error is not None, what="an error")
    err = w.status().last_error or ""
    assert "HQ rejected the data (HTTP 422: unknown payload schema version 2" in err
    assert "will retry in" in err
    assert hq.count("batches") == 0 and w.status().backlog == 15


def test_hq_not_answering_is_reported_in_plain_words(
    local_store: Store, worker_factory: Callable[..., SyncWorker]
) -> None:
    produce(local_store, 0, 2)
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:  # never answers
        port = silent.getsockname()[1]
        w = worker_factory(
            f"http://127.0.0.1:{port}", "s", "k", timeout_s=0.5, backoff_base_s=40, backoff_cap_s=40,
            rand=lambda: 1.0,
        )  # fmt: skip
        wait_until(lambda: w.status().last_error is not None, what="timeout error")
        w.stop()
    assert w.status().last_error == "HQ did not answer within 0.5 s; will retry in 40 s"


def test_hq_down_is_reported_in_plain_words(
    local_store: Store, worker_factory: Callable[..., SyncWorker]
) -> None:
    produce(local_store, 0, 2)
    port = free_port()
    w = worker_factory(f"http://127.0.0.1:{port}", "s", "k", rand=lambda: 0.0)
    wait_until(lambda: w.status().last_error is not None, what="error")
    err = w.status().last_error or ""
    assert err.startswith(f"cannot reach HQ at http://127.0.0.1:{port} (connection refused")
    assert w.status().backlog == 6 and w.status().state in ("waiting", "sending", "idle")


def test_start_sync_reads_the_config(hq: Hq, local_store: Store) -> None:
    off = AppConfig()
    assert start_sync(local_store, off) is None
    no_key = AppConfig(sync=SyncConfig(enabled=True, hq_url=hq.base_url))
    assert start_sync(local_store, no_key) is None
    bad_url = SyncConfig(enabled=True, hq_url="ftp://x", store_key=SecretStr("k"))
    assert start_sync(local_store, bad_url, store_id="x") is None
    cfg = AppConfig.model_validate(
        {
            "store": {"id": hq.store_id, "timezone": "Europe/Paris"},
            "sync": {"enabled": True, "hq_url": hq.base_url, "store_key": hq.key, "interval_s": 5},
        }
    )
    produce(local_store, 0, 4)
    w = start_sync(local_store, cfg)
    assert w is not None
    try:
        wait_until(lambda: w.status().backlog == 0, what="drain")
        assert hq.count("rollups") == 12
        assert w.opts.interval_s == 5
    finally:
        w.stop()
    assert w.status().state == "stopped"


def test_prune_keeps_unsent_rows_and_the_newest_row(local_store: Store) -> None:
    produce(local_store, 0, 10)  # 30 rows

    def mark(s) -> None:  # type: ignore[no-untyped-def]
        s.execute(text("UPDATE sync_outbox SET sent_at = :t WHERE id <= 20"), {"t": T0})
        s.execute(text("UPDATE sync_outbox SET sent_at = :t WHERE id = 30"), {"t": T0})

    local_store.writer.submit(mark).result(30)
    deleted = local_store.writer.submit(lambda s: prune_sent(s, T0 + 1)).result(30)
    assert deleted == 20
    left = [r.id for r in store_rows(local_store, "SELECT id FROM sync_outbox ORDER BY id")]
    assert left == list(range(21, 31))  # unsent 21..29 and the newest (sent) row 30


def test_status_summary_in_plain_words() -> None:
    now = T0 + 10_000
    st = SyncStatus("waiting", now - 600, 120, "HQ did not answer within 10 s; will retry in 40 s",
                    now + 40)  # fmt: skip
    assert st.summary(now) == (
        "last sync with HQ 10 min ago; 120 rows waiting; "
        "HQ did not answer within 10 s; will retry in 40 s"
    )
    assert SyncStatus("idle", None, 0, None, None).summary(now) == "never synced with HQ; all sent"
    assert (
        SyncStatus("idle", now - 3 * 86400, 0, None, None)
        .summary(now)
        .startswith("last sync with HQ 3 days ago")
    )


def test_hq_sees_how_far_behind_a_store_is(hq: Hq, local_store: Store, worker_factory) -> None:
    """Each batch says what still waits at the store; HQ keeps the last one per store and
    its stores page shows it."""
    produce(local_store, 0, 30)  # 90 rows
    w = worker_factory(hq.base_url, hq.store_id, hq.key, start=False, max_rows=40)
    first = local_store.writer.submit(lambda s: take_batch(s, new_batch_id(), 40, 10**6)).result(30)
    assert first is not None
    w._upload(first)  # the upload step alone: the batch is not yet recorded as sent

    def stores_row() -> Any:
        with hq.engine.connect() as conn:
            return conn.execute(
                text("SELECT backlog_rows, backlog_oldest_at FROM stores WHERE store_id = :s"),
                {"s": hq.store_id},
            ).one()

    row = stores_row()
    oldest = min(
        r.created_at for r in store_rows(local_store, "SELECT created_at FROM sync_outbox")
    )
    assert row.backlog_rows == 50
    assert row.backlog_oldest_at is not None
    assert abs(row.backlog_oldest_at.timestamp() - oldest) < 1.0
    w.start()
    wait_until(lambda: w.status().backlog == 0, what="drain")
    wait_until(lambda: stores_row().backlog_rows == 0, what="HQ told: all sent")
    assert stores_row().backlog_oldest_at is None


def test_a_batch_without_backlog_is_still_accepted(
    hq: Hq, local_store: Store, worker_factory
) -> None:
    """Stores on an older version do not report a backlog: HQ stores NULL ("not reported")."""
    produce(local_store, 0, 2)
    w = worker_factory(hq.base_url, hq.store_id, hq.key, start=False)
    b = local_store.writer.submit(lambda s: take_batch(s, new_batch_id(), 40, 10**6)).result(30)
    assert b is not None
    raw = pl.envelope_bytes(hq.store_id, "UTC", b.batch_id, [i.wire() for i in b.items], T0)
    assert w.client.send(b.batch_id, pl.encode_body(raw)).status == "stored"
    with hq.engine.connect() as conn:
        n = conn.execute(
            text("SELECT backlog_rows FROM stores WHERE store_id = :s"), {"s": hq.store_id}
        ).scalar()
    assert n is None
