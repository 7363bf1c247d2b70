"""The sync backoff starts over on every batch HQ accepts: a flaky link during a large
backlog retries after the base delay while batches are landing, instead of climbing to
the cap as if nothing got through (the real store and sync worker; HQ's answers come
from an httpx mock transport that fails every other upload)."""

from __future__ import annotations

import httpx

from app import events as ev
from app.store.db import Store
from app.sync.hq_client import HqClient
from app.sync.outbox_sender import SyncOptions, SyncWorker
from tests.sync.hq_data import T0


class FlakyHq:
    """Accepts one upload, then refuses the next (503), and so on."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls % 2 == 0:
            return httpx.Response(503, text="busy")
        key = request.headers["Idempotency-Key"]
        self.accepted.append(key)
        return httpx.Response(200, json={"status": "stored", "rows": 1, "applied": 1})


def test_backoff_resets_on_every_accepted_batch(local_store: Store) -> None:
    events = [
        ev.LineCross("door", T0 + 900 * b + 10, b, 0.0, "door-line", "in", b) for b in range(40)
    ]
    local_store.writer.ingest_many(events).result(60)  # 80 rollup rows: 8 batches of 10
    hq = FlakyHq()
    client = HqClient("http://127.0.0.1:9", "s", "k", transport=httpx.MockTransport(hq))
    opts = SyncOptions(
        max_rows=10, backoff_base_s=5.0, backoff_cap_s=300.0, interval_s=60.0,
        refresh_every_s=1e12, rand=lambda: 1.0,
    )  # fmt: skip
    worker = SyncWorker(local_store, client, store_id="s", options=opts)
    delays = [worker.cycle() for _ in range(9)]
    client.close()
    # every cycle lands one batch and then meets one refusal: 5 s each time (before the
    # fix: 5, 10, 20, 40, ... up to the 300 s cap), then all is sent
    assert delays[:7] == [5.0] * 7, delays
    assert delays[7:] == [60.0, 60.0] and worker.backlog() == 0
    assert len(hq.accepted) == 8 and len(set(hq.accepted)) == 8
    status = worker.status()
    assert status.last_error is None and status.rows_sent == 80
