"""20 simulated tablets against the real LAN server on 127.0.0.1 (real encrypted store).

The server runs in its own process (as in a store: the tablets are other machines), the
tablets are asyncio tasks with httpx in this one (on uvloop, like the server, where
installed). Each tablet polls its zone's customer
list, scans items into a service session, and holds the live stream (server-sent
events) open; the server process publishes NewVisitor events on its bus and each
tablet times how long they take to arrive (wall clock, same machine).

    python bench/bench_tablets.py [--tablets 20] [--seconds 15] [--https] [--lockstep]

The tablets act independently (each starts at a random moment of its 0.5 s period, which
varies by +-10 %); `--lockstep` makes all 20 poll and scan at the same instants, every
time (a worst case no real shop floor produces).

Targets: customer list and scan p99 <= 50 ms; detection-to-tablet p95 <= 1 s.

Latencies are measured by the tablets (request sent to answer read). The server's own
share of the same requests (its `Server-Timing` header) is printed next to them, so that
time lost in this process's 20 clients, or to other work on the machine, can be told
apart from the server's; the load average before and after is printed for that too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import shutil
import socket
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ZONES = ["Shoes", "Bags", "Toys", "Sport"]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 6000  # the size of a real person crop
BARCODES = [f"40063813{i:05d}" for i in range(50)]
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
PERIOD_S = 0.5


def serve(conn: Connection, tablets: int, https: bool, tmp: str) -> None:
    """The server process: store, salespeople, catalog, LAN server; publishes on demand."""
    os.environ["VITRINE_DATA_DIR"] = tmp
    from app.config import LanConfig
    from app.events import EventBus, NewVisitor, ZoneEnter
    from app.store.db import open_store
    from app.sync.catalog import create_salesperson, upsert_product
    from app.sync.lan.server import LanServer

    store = open_store(Path(tmp) / "store.db", "bench")
    people = [
        create_salesperson(store, f"Seller {i}", f"E{i:03d}", "1234", [ZONES[i % len(ZONES)]])
        for i in range(tablets)
    ]
    for i, b in enumerate(BARCODES):
        upsert_product(store, b, f"Product {i}", "Bench", 10.0 + i)
    bus = EventBus()
    server = LanServer(
        store,
        bus,
        LanConfig(allow_http=not https),
        port=0,
        host="127.0.0.1",
        cert_dir=Path(tmp) / "tls",
    )
    server.start()
    for z in ZONES:  # a busy floor: 12 customers in each zone
        for k in range(12):
            vid = str(uuid.uuid4())
            bus.publish(ZoneEnter("cam", time.time(), 0, 0.0, z, k, vid, vid))
            bus.publish(NewVisitor("cam", time.time(), 0, 0.0, z, vid, k, JPEG))
    cert = str(server.cert.cert_path) if server.cert else ""
    codes = [server.new_pairing_code().code for _ in people]  # a code pairs one tablet
    conn.send((server.port, cert, people, codes))
    while True:
        msg = conn.recv()
        if msg == "stop":
            break
        bus.publish(NewVisitor("cam", time.time(), 0, 0.0, msg, str(uuid.uuid4()), 99, JPEG))
    server.stop()
    store.close()
    conn.send("stopped")


def pct(values: list[float], p: float) -> float:
    s = sorted(v for v in values if v == v)  # without NaN (an answer with no timing)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Stats:
    def __init__(self) -> None:
        self.lists: list[float] = []
        self.scans: list[float] = []
        self.delays: list[float] = []
        self.errors = 0
        # the server's own time for the same requests (its Server-Timing header): the
        # rest of what a tablet waits is the network, TLS, and this process's clients
        self.list_app: list[float] = []
        self.scan_app: list[float] = []


def app_ms(r: httpx.Response) -> float:
    """The `Server-Timing: app;dur=<ms>` of an answer (nan if missing)."""
    for part in r.headers.get("server-timing", "").split(";"):
        if part.strip().startswith("dur="):
            return float(part.strip()[4:])
    return float("nan")


async def pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def tablet(
    c: httpx.AsyncClient, zone: str, stop: asyncio.Event, st: Stats, rng: random.Random | None
) -> None:
    """Polls and scans every 0.5 s. With `rng` each tablet starts at a random moment of
    the period and its period varies by +-10 % (people do not act in step); without it all
    tablets fire together, every time (the worst case)."""
    sid = str(uuid.uuid4())
    await c.post("/api/v1/sessions", json={"id": sid, "zone": zone})
    if rng is not None:
        await pause(stop, rng.uniform(0.0, PERIOD_S))
    n = 0
    while not stop.is_set():
        t0 = time.perf_counter()
        r = await c.get(f"/api/v1/zones/{zone}/customers")
        st.lists.append((time.perf_counter() - t0) * 1000)
        st.list_app.append(app_ms(r))
        st.errors += r.status_code != 200
        if n % 2 == 0:
            body = {"barcode": BARCODES[n % len(BARCODES)], "idempotency_key": str(uuid.uuid4())}
            t0 = time.perf_counter()
            r = await c.post(f"/api/v1/sessions/{sid}/scans", json=body)
            st.scans.append((time.perf_counter() - t0) * 1000)
            st.scan_app.append(app_ms(r))
            st.errors += r.status_code != 200
        n += 1
        # twice a second: far more than a real tablet, which listens to SSE
        await pause(stop, PERIOD_S * (rng.uniform(0.9, 1.1) if rng is not None else 1.0))


async def listen(c: httpx.AsyncClient, zone: str, ready: asyncio.Event, st: Stats) -> None:
    try:
        async with c.stream("GET", f"/api/v1/zones/{zone}/events", timeout=None) as r:
            async for line in r.aiter_lines():
                if line.startswith("event: snapshot"):
                    ready.set()
                elif line.startswith("data: ") and '"arrive"' in line:
                    msg = json.loads(line[6:])
                    st.delays.append((time.time() - msg["event_ts"]) * 1000)
    except (httpx.HTTPError, asyncio.CancelledError):
        pass


async def run(
    args: argparse.Namespace,
    conn: Connection,
    port: int,
    cert: str,
    people: list[int],
    codes: list[str],
) -> Stats:
    verify: Any = ssl.create_default_context(cafile=cert) if cert else True
    base = f"{'https' if cert else 'http'}://{'localhost' if cert else '127.0.0.1'}:{port}"
    async with httpx.AsyncClient(base_url=base, verify=verify) as c:
        tokens = []
        for sp, code in zip(people, codes, strict=True):
            r = await c.post(
                "/api/v1/pairing", json={"code": code, "salesperson_id": sp, "pin": "1234"}
            )
            tokens.append(r.json()["token"])
    st = Stats()
    stop = asyncio.Event()
    clients = [
        httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {t}"},
            timeout=10,
            # like a browser: no Nagle delay between a POST's headers and its body
            transport=httpx.AsyncHTTPTransport(
                verify=verify, limits=httpx.Limits(max_connections=4), socket_options=NODELAY
            ),
        )
        for t in tokens
    ]
    readies = [asyncio.Event() for _ in tokens]
    listeners = [
        asyncio.create_task(listen(c, ZONES[i % len(ZONES)], readies[i], st))
        for i, c in enumerate(clients)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 15)
    rng = None if args.lockstep else random.Random(7)
    workers = [
        asyncio.create_task(tablet(c, ZONES[i % len(ZONES)], stop, st, rng))
        for i, c in enumerate(clients)
    ]
    t_end = time.monotonic() + args.seconds
    published = 0
    while time.monotonic() < t_end:
        for z in ZONES:
            conn.send(z)
            published += 1
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*workers)
    for t in listeners:
        t.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for c in clients:
        await c.aclose()
    st.expected = published * len(tokens) // len(ZONES)  # type: ignore[attr-defined]
    return st


def client_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The tablets' event loop: uvloop (a dependency of the app, whose server runs on it
    too) where available. The 20 simulated tablets share this machine's cores with the
    server, which real tablets do not; a cheaper loop keeps that artefact small."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tablets", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--https", action="store_true", help="use the self-signed HTTPS mode")
    ap.add_argument(
        "--lockstep",
        action="store_true",
        help="all tablets poll and scan at the same instants (worst case)",
    )
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    tmp = tempfile.mkdtemp(prefix="bench-tablets-")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, args.tablets, args.https, tmp), name="lan-server")
    proc.start()
    try:
        port, cert, people, codes = parent.recv()
        with asyncio.Runner(loop_factory=client_loop()) as runner:
            st = runner.run(run(args, parent, port, cert, people, codes))
    finally:
        parent.send("stop")
        parent.recv()
        proc.join(30)
        shutil.rmtree(tmp, ignore_errors=True)
    mode = "HTTPS" if args.https else "HTTP"
    timing = (
        "in lockstep (worst case)"
        if args.lockstep
        else "independent (random phase, period 0.5 s +-10 %)"
    )
    print(
        f"bench_tablets: {args.tablets} tablets, {timing}, {args.seconds:.0f} s, {mode} on 127.0.0.1 (server in its own process)"
    )
    print(
        f"(figures taken on a shared {os.cpu_count()}-core machine; other work was running: "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    print(
        f"customer list: {len(st.lists)} requests  p50 {pct(st.lists, 50):.1f} ms  p99 {pct(st.lists, 99):.1f} ms  (target p99 <= 50 ms)"
    )
    print(
        f"scan:          {len(st.scans)} requests  p50 {pct(st.scans, 50):.1f} ms  p99 {pct(st.scans, 99):.1f} ms  (target p99 <= 50 ms)"
    )
    print(
        f"  of which in the server app (Server-Timing): list p50 {pct(st.list_app, 50):.1f} p99 {pct(st.list_app, 99):.1f} ms, "
        f"scan p50 {pct(st.scan_app, 50):.1f} p99 {pct(st.scan_app, 99):.1f} ms; the rest is HTTP{'S' if args.https else ''} "
        f"parsing, sockets and the {args.tablets} tablets' own client work in this one process"
    )
    print(
        f"detection->tablet: {len(st.delays)}/{st.expected} deliveries  p50 {pct(st.delays, 50):.1f} ms  "  # type: ignore[attr-defined]
        f"p95 {pct(st.delays, 95):.1f} ms  max {max(st.delays or [0]):.1f} ms  (target p95 <= 1000 ms)"
    )
    print(f"errors: {st.errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
