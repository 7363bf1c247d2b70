"""20 simulated tablets against the real LAN server on 127.0.0.1 (real encrypted store).

Each tablet is a thread with its own HTTP client and token: it polls its zone's
customer list and scans items into a service session. Meanwhile each tablet also holds
the live stream (server-sent events) open, and the bench publishes NewVisitor events on
the bus and times how long each takes to reach every tablet.

    python bench/bench_tablets.py [--tablets 20] [--seconds 15] [--https]

Targets: customer list and scan p99 <= 50 ms; detection-to-tablet p95 <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import LanConfig  # noqa: E402
from app.events import EventBus, NewVisitor, ZoneEnter  # noqa: E402
from app.store.db import open_store  # noqa: E402
from app.sync.catalog import create_salesperson, upsert_product  # noqa: E402
from app.sync.lan.server import LanServer  # noqa: E402

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 6000  # the size of a real person crop
BARCODES = [f"40063813{i:05d}" for i in range(50)]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Tablet(threading.Thread):
    def __init__(
        self, i: int, base: str, token: str, zone: str, verify: object, stop: threading.Event
    ):
        super().__init__(name=f"tablet-{i}", daemon=True)
        self.i, self.base, self.token, self.zone, self.verify, self.stop = (
            i,
            base,
            token,
            zone,
            verify,
            stop,
        )
        self.list_ms: list[float] = []
        self.scan_ms: list[float] = []
        self.errors = 0

    def run(self) -> None:
        h = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=h, verify=self.verify, timeout=10) as c:  # type: ignore[arg-type]
            sid = str(uuid.uuid4())
            c.post("/api/v1/sessions", json={"id": sid, "zone": self.zone})
            n = 0
            while not self.stop.is_set():
                t0 = time.perf_counter()
                r = c.get(f"/api/v1/zones/{self.zone}/customers")
                self.list_ms.append((time.perf_counter() - t0) * 1000)
                self.errors += r.status_code != 200
                if n % 2 == 0:
                    body = {
                        "barcode": BARCODES[n % len(BARCODES)],
                        "idempotency_key": str(uuid.uuid4()),
                    }
                    t0 = time.perf_counter()
                    r = c.post(f"/api/v1/sessions/{sid}/scans", json=body)
                    self.scan_ms.append((time.perf_counter() - t0) * 1000)
                    self.errors += r.status_code != 200
                n += 1
                if self.stop.wait(0.5):  # twice a second: far more than a real tablet on SSE
                    break


class Listener(threading.Thread):
    def __init__(
        self, i: int, base: str, token: str, zone: str, verify: object, sent: dict[str, float]
    ):
        super().__init__(name=f"listener-{i}", daemon=True)
        self.base, self.token, self.zone, self.verify, self.sent = base, token, zone, verify, sent
        self.delays_ms: list[float] = []
        self.ready = threading.Event()
        self.client: httpx.Client | None = None

    def run(self) -> None:
        h = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=h, verify=self.verify, timeout=None) as c:  # type: ignore[arg-type]
            self.client = c
            try:
                with c.stream("GET", f"/api/v1/zones/{self.zone}/events") as r:
                    for line in r.iter_lines():
                        if line.startswith("event: snapshot"):
                            self.ready.set()
                        if line.startswith("data: ") and '"arrive"' in line:
                            vid = json.loads(line[6:])["customer"]["visitor_id"]
                            if vid in self.sent:
                                self.delays_ms.append((time.perf_counter() - self.sent[vid]) * 1000)
            except (httpx.HTTPError, RuntimeError):
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tablets", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--https", action="store_true", help="use the self-signed HTTPS mode")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-tablets-"))
    os.environ.setdefault("VITRINE_DATA_DIR", str(tmp))
    store = open_store(tmp / "store.db", "bench")
    zones = ["Shoes", "Bags", "Toys", "Sport"]
    people = [
        create_salesperson(store, f"Seller {i}", f"E{i:03d}", "1234", [zones[i % len(zones)]])
        for i in range(args.tablets)
    ]
    for i, b in enumerate(BARCODES):
        upsert_product(store, b, f"Product {i}", "Bench", 10.0 + i)
    bus = EventBus()
    server = LanServer(
        store,
        bus,
        LanConfig(allow_http=not args.https),
        port=0,
        host="127.0.0.1",
        cert_dir=tmp / "tls",
    )
    server.start()
    verify: object = True
    if server.cert is not None:
        verify = ssl.create_default_context(cafile=server.cert.cert_path)
    base = f"{server.scheme}://{'localhost' if args.https else '127.0.0.1'}:{server.port}"
    tokens = []
    with httpx.Client(base_url=base, verify=verify) as c:  # type: ignore[arg-type]
        code = server.new_pairing_code().code
        for sp in people:
            r = c.post("/api/v1/pairing", json={"code": code, "salesperson_id": sp, "pin": "1234"})
            tokens.append(r.json()["token"])
    # a busy floor: 12 customers in each zone
    for z in zones:
        for k in range(12):
            vid = str(uuid.uuid4())
            bus.publish(ZoneEnter("cam", time.time(), 0, 0.0, z, k, vid, vid))
            bus.publish(NewVisitor("cam", time.time(), 0, 0.0, z, vid, k, JPEG))
    stop = threading.Event()
    sent: dict[str, float] = {}
    listeners = [
        Listener(i, base, tokens[i], zones[i % len(zones)], verify, sent)
        for i in range(args.tablets)
    ]
    for li in listeners:
        li.start()
    for li in listeners:
        li.ready.wait(10)
    tablets = [
        Tablet(i, base, tokens[i], zones[i % len(zones)], verify, stop) for i in range(args.tablets)
    ]
    for t in tablets:
        t.start()
    t_end = time.monotonic() + args.seconds
    published = 0
    while time.monotonic() < t_end:
        for z in zones:
            vid = str(uuid.uuid4())
            sent[vid] = time.perf_counter()
            bus.publish(NewVisitor("cam", time.time(), 0, 0.0, z, vid, 99, JPEG))
            published += 1
        if stop.wait(0.5):
            break
    time.sleep(1.0)  # let the last arrivals land
    stop.set()
    for t in tablets:
        t.join(10)
    server.stop()  # ends the streams
    for li in listeners:
        li.join(10)
    store.close()
    lists = [x for t in tablets for x in t.list_ms]
    scans = [x for t in tablets for x in t.scan_ms]
    delays = [x for li in listeners for x in li.delays_ms]
    expected = published * args.tablets // len(zones)
    errors = sum(t.errors for t in tablets)
    mode = "HTTPS" if args.https else "HTTP"
    print(f"bench_tablets: {args.tablets} tablets, {args.seconds:.0f} s, {mode} on 127.0.0.1")
    print("(figures taken on a shared 2-core machine; other work was running)")
    print(
        f"customer list: {len(lists)} requests  p50 {pct(lists, 50):.1f} ms  p99 {pct(lists, 99):.1f} ms  (target p99 <= 50 ms)"
    )
    print(
        f"scan:          {len(scans)} requests  p50 {pct(scans, 50):.1f} ms  p99 {pct(scans, 99):.1f} ms  (target p99 <= 50 ms)"
    )
    print(
        f"detection->tablet: {len(delays)}/{expected} deliveries  p50 {pct(delays, 50):.1f} ms  "
        f"p95 {pct(delays, 95):.1f} ms  max {max(delays or [0]):.1f} ms  (target p95 <= 1000 ms)"
    )
    print(f"errors: {errors}; mean list {statistics.fmean(lists or [0]):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
