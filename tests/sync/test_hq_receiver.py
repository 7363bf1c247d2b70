"""The HQ receiver as the stores meet it: the real server process (`python main.py hq`)
on a real PostgreSQL. Each failure mode has its own test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from app import wire as pl
from app.hq import auth, db
from app.hq.models import HqBase
from app.paths import REPO_ROOT
from tests.sync.conftest import Hq
from tests.sync.hq_data import T0


def rollup(seq: int, bucket: float = T0, entries: int = 3, **kw: Any) -> dict[str, Any]:
    data = {
        "bucket_start": int(bucket), "scope": "entrance", "camera": "door", "name": "main",
        "entries": entries, "exits": 0, "passersby": 1, "occupancy_peak": 2,
        "dwell_count": 0, "dwell_sum_s": 0.0, "dwell_max_s": 0.0,
    }  # fmt: skip
    data.update(kw)
    return {"kind": "rollup", "seq": seq, "data": data}


def body_of(
    store_id: str, rows: list[dict[str, Any]], batch_id: str | None = None, version: int = 1
) -> tuple[str, bytes]:
    batch_id = batch_id or str(uuid.uuid4())
    env = {
        "schema_version": version, "store_id": store_id, "batch_id": batch_id,
        "timezone": "Europe/Paris", "sent_at": T0, "rows": rows,
    }  # fmt: skip
    return batch_id, pl.encode_body(pl.dumps(env).encode())


def post(
    hq: Hq, body: bytes, batch_id: str, key: str | None = None, store: str | None = None
) -> httpx.Response:
    headers = {
        "X-Vitrine-Store": store or hq.store_id,
        "Authorization": f"Bearer {key or hq.key}",
        "Idempotency-Key": batch_id,
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    return httpx.post(hq.base_url + "/api/v1/batches", content=body, headers=headers, timeout=10)


def send(hq: Hq, rows: list[dict[str, Any]], **kw: Any) -> httpx.Response:
    batch_id, body = body_of(hq.store_id, rows, **kw)
    return post(hq, body, batch_id)


def entries_at_hq(hq: Hq) -> list[tuple[int, int]]:
    q = text("SELECT entries, seq FROM rollups WHERE store_id = :s")
    with hq.engine.connect() as conn:
        return [(r.entries, r.seq) for r in conn.execute(q, {"s": hq.store_id})]


def test_health_and_migrations_match_the_models(hq: Hq) -> None:
    r = httpx.get(hq.base_url + "/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "schema": db.head_revision()}
    with hq.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"version_table": db.VERSION_TABLE, "include_name": db.include_name}
        )
        assert compare_metadata(ctx, HqBase.metadata) == []


def test_migrations_downgrade_and_upgrade(hq_engine: Engine) -> None:
    db.downgrade(hq_engine, "base")
    assert db.current_revision(hq_engine) is None
    db.migrate(hq_engine)
    assert db.current_revision(hq_engine) == db.head_revision()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "hq", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )  # fmt: skip


def test_add_store_cli_prints_the_key_once_and_keeps_only_its_hash(hq: Hq) -> None:
    out = _cli("add-store", "--database-url", hq.url, "--store-id", "lyon-2", "--name", "Lyon 2")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("vsk_") and len(key) > 40
    with hq.engine.connect() as conn:
        q = text("SELECT * FROM stores WHERE store_id = 'lyon-2'")
        dump = " ".join(str(v) for r in conn.execute(q) for v in r)
    assert key not in dump and auth.hash_key(key) in dump
    again = _cli("add-store", "--database-url", hq.url, "--store-id", "lyon-2", "--name", "x")
    assert again.returncode == 2 and "already exists" in again.stderr and "vsk_" not in again.stdout
    listed = _cli("list-stores", "--database-url", hq.url)
    assert "lyon-2\tLyon 2" in listed.stdout and "vsk_" not in listed.stdout
    # the key works for that store
    batch_id, body = body_of("lyon-2", [rollup(1)])
    assert post(hq, body, batch_id, key=key, store="lyon-2").status_code == 200
    # a rotated key replaces it at once
    rotated = _cli("rotate-key", "--database-url", hq.url, "--store-id", "lyon-2")
    new_key = rotated.stdout.strip().splitlines()[-1]
    batch_id, body = body_of("lyon-2", [rollup(2)])
    assert post(hq, body, batch_id, key=key, store="lyon-2").status_code == 401
    assert post(hq, body, batch_id, key=new_key, store="lyon-2").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "mysql://x/y"], "PostgreSQL URL"),
        (["--database-url", "postgresql://nobody@127.0.0.1:1/none"], "cannot use the HQ database"),
        (
            [
                "add-store",
                "--database-url",
                "postgresql://nobody@127.0.0.1:1/none",
                "--store-id",
                "a",
                "--name",
                "b",
            ],
            "cannot use the HQ database",
        ),  # fmt: skip
    ],
)
def test_cli_bad_input_is_one_line(args: list[str], message: str) -> None:
    out = _cli(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_wrong_store_key_is_401_and_stores_nothing(hq: Hq) -> None:
    batch_id, body = body_of(hq.store_id, [rollup(1)])
    r = post(hq, body, batch_id, key="vsk_wrong")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert post(hq, body, batch_id, store="no-such-store").status_code == 401
    no_auth = httpx.post(hq.base_url + "/api/v1/batches", content=body)
    assert no_auth.status_code == 401
    assert hq.count("batches") == 0 and hq.count("rollups") == 0


def test_a_key_cannot_write_for_another_store(hq: Hq) -> None:
    other = hq.store_id + "-other"
    auth.add_store(hq.engine, other, "Other store")
    batch_id, body = body_of(other, [rollup(1)])
    r = post(hq, body, batch_id)  # our key, the other store's data
    assert r.status_code == 403 and other in r.json()["detail"]
    with hq.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rollups WHERE store_id = :s"),
                            {"s": other}).scalar_one() == 0  # fmt: skip
    assert hq.count("rollups") == 0


def test_unknown_schema_version_is_rejected_with_a_message(hq: Hq) -> None:
    r = send(hq, [rollup(1)], version=2)
    assert r.status_code == 422
    assert "unknown payload schema version 2" in r.json()["detail"]
    assert "understands version 1" in r.json()["detail"]
    assert hq.count("batches") == 0


def test_duplicate_batches_are_no_ops(hq: Hq) -> None:
    batch_id, body = body_of(hq.store_id, [rollup(1), rollup(2, T0 + 900, 5)])
    first = post(hq, body, batch_id).json()
    assert first == {"status": "stored", "batch_id": batch_id, "rows": 2, "applied": 2}
    again = post(hq, body, batch_id).json()
    assert again["status"] == "duplicate" and again["applied"] == 0
    # the same batch many times at once: stored exactly once
    batch_id, body = body_of(hq.store_id, [rollup(3, T0 + 1800, 9)])
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: post(hq, body, batch_id).json()["status"], range(8)))
    assert sorted(results) == ["duplicate"] * 7 + ["stored"]
    assert hq.count("batches") == 2 and hq.count("rollups") == 3


def test_out_of_order_batches_keep_the_newest_version(hq: Hq) -> None:
    newer = send(hq, [rollup(10, entries=7)]).json()
    older = send(hq, [rollup(5, entries=3)]).json()
    assert newer["applied"] == 1
    assert older["status"] == "stored" and older["applied"] == 0
    assert entries_at_hq(hq) == [(7, 10)]


def test_a_resent_row_replaces_rather_than_duplicates(hq: Hq) -> None:
    send(hq, [rollup(5, entries=3)])
    send(hq, [rollup(9, entries=8)])
    # two versions of one key inside one batch: the higher seq wins
    send(hq, [rollup(12, entries=11), rollup(11, entries=10)])
    assert entries_at_hq(hq) == [(11, 12)]
    assert hq.count("batches") == 3


def test_a_truncated_gzip_body_is_rejected(hq: Hq) -> None:
    batch_id, body = body_of(hq.store_id, [rollup(i, T0 + 900 * i) for i in range(1, 200)])
    r = post(hq, body[: len(body) // 2], batch_id)
    assert r.status_code == 400 and "incomplete" in r.json()["detail"]
    assert hq.count("batches") == 0 and hq.count("rollups") == 0
    assert post(hq, body, batch_id).json()["status"] == "stored"
    assert hq.count("rollups") == 199


def test_a_batch_cut_off_mid_upload_stores_nothing(hq: Hq) -> None:
    rows = [rollup(i, T0 + 900 * i) for i in range(1, 400)]
    batch_id, body = body_of(hq.store_id, rows)
    port = urlsplit(hq.base_url).port
    head = (
        f"POST /api/v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vitrine-Store: {hq.store_id}\r\n"
        f"Authorization: Bearer {hq.key}\r\nIdempotency-Key: {batch_id}\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head + body[: len(body) * 2 // 3])
        time.sleep(0.3)  # the server is now waiting for the rest
    time.sleep(0.5)
    assert hq.count("batches") == 0 and hq.count("rollups") == 0
    assert httpx.get(hq.base_url + "/health").status_code == 200
    # the store's retry of the same batch goes through, once
    assert post(hq, body, batch_id).json()["status"] == "stored"
    assert post(hq, body, batch_id).json()["status"] == "duplicate"
    assert hq.count("rollups") == 399


def test_one_bad_row_rejects_the_whole_batch(hq: Hq) -> None:
    bad = rollup(3)
    bad["data"]["visitor_id"] = "v-1"
    r = send(hq, [rollup(1, T0 + 900), rollup(2, T0 + 1800), bad])
    assert r.status_code == 422 and "visitor_id" in r.json()["detail"]
    assert hq.count("rollups") == 0 and hq.count("batches") == 0


def test_idempotency_key_must_match_the_batch(hq: Hq) -> None:
    batch_id, body = body_of(hq.store_id, [rollup(1)])
    r = post(hq, body, str(uuid.uuid4()))
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]


def test_many_stores_write_at_once(hq: Hq) -> None:
    ids = [f"{hq.store_id}-{i}" for i in range(8)]
    keys = {s: auth.add_store(hq.engine, s, f"Store {s}") for s in ids}

    def one_store(store_id: str) -> int:
        ok = 0
        for b in range(10):
            rows = [rollup(b * 50 + j + 1, T0 + 900 * (b * 50 + j)) for j in range(50)]
            batch_id, body = body_of(store_id, rows)
            ok += post(hq, body, batch_id, key=keys[store_id], store=store_id).status_code == 200
        return ok

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one_store, keys)) == [10] * 8
    with hq.engine.connect() as conn:
        per_store = dict(
            conn.execute(
                text(
                    "SELECT store_id, count(*) FROM rollups WHERE store_id LIKE :p "
                    "GROUP BY store_id"
                ),
                {"p": hq.store_id + "-%"},
            ).all()
        )
    assert per_store == {s: 500 for s in keys}


def test_daily_footfall_and_conversion(hq: Hq) -> None:
    day1 = T0 - 9 * 3600  # 2026-01-01 00:00 UTC = 01:00 in Paris
    rows = [
        rollup(1, day1 + 3600, entries=40, passersby=60),
        rollup(2, day1 + 5 * 3600, entries=60, passersby=40),
        # 23:15 UTC on Jan 1 is 00:15 on Jan 2 in Paris
        rollup(3, day1 + 23 * 3600 + 900, entries=10, passersby=0),
        # a counting line is not footfall when the store has entrance rollups
        rollup(4, day1 + 3600, entries=999, scope="line", name="aisle"),
        # a line inside the store (not a door) is never footfall
        rollup(7, day1 + 5 * 3600, entries=555, scope="aisle", name="shoes aisle"),
        {"kind": "sales_agg", "seq": 5, "data": {
            "bucket_start": int(day1 + 3600), "salesperson_code": "E1", "transactions": 20,
            "lines": 31, "revenue": 1234.5, "linked_transactions": 5, "linked_revenue": 300.0}},
        {"kind": "session_agg", "seq": 6, "data": {
            "bucket_start": int(day1 + 3600), "zone": "shoes", "salesperson_code": "E1",
            "sessions": 8, "ended_sessions": 8, "service_s_sum": 2400.0,
            "sessions_with_scans": 6, "items_scanned": 15, "converted_sessions": 2,
            "linked_lines": 3, "revenue": 300.0}},
    ]  # fmt: skip
    assert send(hq, rows).status_code == 200
    r = httpx.get(
        hq.base_url + "/api/v1/daily",
        params={"date_from": "2026-01-01", "date_to": "2026-01-02", "store_id": hq.store_id},
    )
    assert r.status_code == 200
    got = {d["day"]: d for d in r.json()}
    d1 = got["2026-01-01"]
    assert (d1["footfall"], d1["passersby"], d1["transactions"]) == (100, 100, 20)
    assert d1["conversion"] == 0.2 and d1["capture_rate"] == 0.5
    assert (d1["sessions"], d1["converted_sessions"], d1["service_conversion"]) == (8, 2, 0.25)
    assert d1["revenue"] == 1234.5 and d1["linked_revenue"] == 300.0
    assert got["2026-01-02"]["footfall"] == 10 and got["2026-01-02"]["conversion"] == 0.0
    bad = httpx.get(hq.base_url + "/api/v1/daily", params={"date_from": "2026-02-01",
                                                          "date_to": "2026-01-01"})  # fmt: skip
    assert bad.status_code == 422
    stores = {s["store_id"]: s for s in httpx.get(hq.base_url + "/api/v1/stores").json()}
    assert stores[hq.store_id]["timezone"] == "Europe/Paris"
    assert stores[hq.store_id]["last_batch_at"] is not None


def test_query_api_needs_the_analyst_token_when_one_is_set(hq: Hq) -> None:
    from fastapi.testclient import TestClient

    from app.hq.app import create_app

    with TestClient(create_app(hq.engine, analyst_token="t0ken")) as client:
        params = {"date_from": "2026-01-01", "date_to": "2026-01-01"}
        assert client.get("/api/v1/daily", params=params).status_code == 401
        bad = client.get("/api/v1/stores", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        ok = client.get("/api/v1/daily", params=params, headers={"Authorization": "Bearer t0ken"})
        assert ok.status_code == 200
        assert client.get("/health").status_code == 200  # health stays open


def test_database_down_is_503_not_a_traceback(hq: Hq) -> None:
    from fastapi.testclient import TestClient

    from app.hq.app import create_app

    dead = db.make_engine("postgresql://postgres@127.0.0.1:1/none")
    try:
        with TestClient(create_app(dead), raise_server_exceptions=False) as client:
            health = client.get("/health")
            assert health.status_code == 503 and "cannot use the HQ database" in health.text
            batch_id, body = body_of(hq.store_id, [rollup(1)])
            r = client.post(
                "/api/v1/batches",
                content=body,
                headers={"X-Vitrine-Store": hq.store_id, "Authorization": f"Bearer {hq.key}",
                         "Content-Encoding": "gzip"},
            )  # fmt: skip
            assert r.status_code == 503 and "nothing was stored" in r.json()["detail"]
    finally:
        dead.dispose()
