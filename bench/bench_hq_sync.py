"""A week of offline backlog from one busy store, drained into the HQ receiver.

    python bench/bench_hq_sync.py [--days 7] [--rows-per-bucket 45]

Real components end to end: an encrypted local store (SQLCipher) holding the backlog
(rollup rows queued in the outbox by the store's own code path, `app.store.outbox`),
the real sync worker (batches of <= 500 rows / 1 MB gzip, idempotency keys committed
before each upload), the real HQ receiver process (`python main.py hq`, uvicorn) and a
temporary PostgreSQL with its default durability (fsync on). Target: <= 30 s.

Baseline in the same run: the same rows as uncompressed JSON (what gzip saves), and
HQ's own ingest of the same batches with no HTTP and no local store (what the wire
and the store-side bookkeeping cost).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import wire as pl  # noqa: E402
from app.hq import auth, db  # noqa: E402
from app.hq.ingest import ingest_batch  # noqa: E402
from app.hq.testing_pg import HqProcess, TempPostgres  # noqa: E402
from app.store.db import Store, open_store  # noqa: E402
from app.store.models import Rollup  # noqa: E402
from app.store.outbox import enqueue, rollup_key  # noqa: E402
from app.sync.hq_client import HqClient  # noqa: E402
from app.sync.outbox_sender import SyncOptions, SyncWorker  # noqa: E402

STORE_ID = "bench-store"
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def scopes(rows_per_bucket: int) -> list[tuple[str, str, str]]:
    """(scope, name, camera) of a busy store: entrances, lines, zones, cameras."""
    out = [("entrance", f"door-{i}", f"cam-{i}") for i in range(2)]
    out += [("camera", f"cam-{i}", f"cam-{i}") for i in range(6)]
    i = 0
    while len(out) < rows_per_bucket:
        kind = "zone" if i % 3 else "line"
        out.append((kind, f"{kind}-{i:02d}", f"cam-{i % 6}"))
        i += 1
    return out


def generate(store: Store, days: int, rows_per_bucket: int) -> int:
    """Queue days x 96 buckets x rows_per_bucket rollups, one writer job per day."""
    rng = random.Random(7)
    names = scopes(rows_per_bucket)
    total = 0
    for d in range(days):

        def one_day(s: Session, d: int = d) -> int:
            n = 0
            for b in range(96):
                start = T0 + d * 86400 + b * 900
                for scope, name, cam in names:
                    r = Rollup(
                        bucket_start=start, scope=scope, camera=cam, name=name,
                        entries=rng.randint(0, 60), exits=rng.randint(0, 60),
                        passersby=rng.randint(0, 200), occupancy_peak=rng.randint(0, 25),
                        dwell_count=rng.randint(0, 40), dwell_sum_s=rng.uniform(0, 9000),
                        dwell_max_s=rng.uniform(0, 900),
                    )  # fmt: skip
                    s.add(r)
                    enqueue(s, pl.ROLLUP, rollup_key(scope, name, start), pl.rollup_data(r))
                    n += 1
            return n

        total += store.writer.submit(one_day).result(300)
    return total


class WireMeter:
    """Counts request bytes (request line, headers, body) sent by the HQ client."""

    def __init__(self) -> None:
        self.body = 0
        self.head = 0
        self.requests = 0

    def __call__(self, request: Any) -> None:
        self.requests += 1
        self.body += len(request.content)
        line = f"{request.method} {request.url.raw_path.decode()} HTTP/1.1\r\n"
        self.head += len(line) + sum(len(k) + len(v) + 4 for k, v in request.headers.raw) + 2


def hq_only_baseline(url: str, bodies: list[tuple[str, bytes]]) -> float:
    """HQ's ingest of the same batches, in-process (no HTTP, no local store)."""
    engine = db.make_engine(url, pool_size=2)
    auth.add_store(engine, "baseline", "Baseline")
    t = time.perf_counter()
    for batch_id, body in bodies:
        batch = pl.validate_envelope(pl.decode_body(body, "gzip", 32_000_000))
        batch["store_id"] = "baseline"
        ingest_batch(engine, "baseline", batch, batch_id, len(body))
    dt = time.perf_counter() - t
    engine.dispose()
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--rows-per-bucket", type=int, default=45)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vitrine-bench-hq-"))
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "bench-passphrase")
    os.environ["VITRINE_DATA_DIR"] = str(work)
    print("HQ sync benchmark (figures taken on a shared 2-core machine)")
    with TempPostgres(durable=True) as pg:
        url = pg.create_database("hq")
        engine = db.make_engine(url, pool_size=2)
        db.migrate(engine)
        key = auth.add_store(engine, STORE_ID, "Bench store")
        server = HqProcess(url).start()
        store = open_store(work / "vitrine.db")
        try:
            t = time.perf_counter()
            n = generate(store, args.days, args.rows_per_bucket)
            print(f"backlog: {n} rollup rows ({args.days} days) queued in "
                  f"{time.perf_counter() - t:.1f} s")  # fmt: skip
            client = HqClient(server.base_url, STORE_ID, key)
            meter = WireMeter()
            client._client.event_hooks["request"].append(meter)
            bodies: list[tuple[str, bytes]] = []
            send = client.send
            lat: list[float] = []

            def timed_send(batch_id: str, body: bytes) -> Any:
                bodies.append((batch_id, body))
                t0 = time.perf_counter()
                try:
                    return send(batch_id, body)
                finally:
                    lat.append(time.perf_counter() - t0)

            client.send = timed_send  # type: ignore[method-assign]
            worker = SyncWorker(store, client, store_id=STORE_ID, options=SyncOptions())
            t = time.perf_counter()
            sent = worker.drain()
            total_s = time.perf_counter() - t
            worker.stop()
            report(store, engine, n, sent, total_s, meter, lat)
            base_s = hq_only_baseline(url, bodies)
            print(f"baseline, HQ ingest alone (same {len(bodies)} batches, no HTTP, no store): "
                  f"{base_s:.1f} s -> end to end costs {total_s / base_s:.1f}x that")  # fmt: skip
        finally:
            store.close()
            server.stop()
            engine.dispose()
    return 0


def report(
    store: Store, engine: Any, n: int, sent: int, total_s: float, meter: WireMeter,
    lat: list[float],
) -> None:  # fmt: skip
    with store.read_session() as s:
        raw = s.execute(text("SELECT sum(length(payload)) FROM sync_outbox")).scalar_one()
        left = s.execute(text("SELECT count(*) FROM sync_outbox WHERE sent_at IS NULL")).scalar()
    with engine.connect() as conn:
        at_hq = conn.execute(text("SELECT count(*) FROM rollups")).scalar_one()
        rows_in_batches = conn.execute(text("SELECT sum(row_count) FROM batches")).scalar_one()
    wire_row = (meter.body + meter.head) / sent
    print(f"drained: {sent} rows in {meter.requests} batches, {total_s:.1f} s "
          f"(target <= 30 s): {sent / total_s:,.0f} rows/s")  # fmt: skip
    print(f"HQ holds {at_hq} rollups, {rows_in_batches} rows in stored batches; "
          f"left in the outbox: {left}")  # fmt: skip
    print(f"bytes on the wire per row: {meter.body / sent:.1f} gzip body "
          f"+ {meter.head / sent:.1f} request head = {wire_row:.1f} "
          f"(uncompressed JSON: {raw / n:.1f} B/row, gzip saves {raw / meter.body:.1f}x)")  # fmt: skip
    lat.sort()
    print(f"upload round trip per batch: p50 {statistics.median(lat) * 1000:.0f} ms, "
          f"p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.0f} ms")  # fmt: skip
    assert at_hq == n == sent == rows_in_batches and left == 0, "not exactly once!"


if __name__ == "__main__":
    sys.exit(main())
