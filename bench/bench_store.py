"""Store benchmark: 90 days of a busy store through the single writer, encrypted vs plain.

    python bench/bench_store.py                 # the real figure: >= 2,000,000 events
    python bench/bench_store.py --events 200000 # a quick run

Generates a synthetic store (an entrance line + entrance zone, six floor zones, passers-by,
visits with dwell, occupancy changes, some person crops), ingests the same events into an
encrypted store (SQLCipher) and into a plain SQLite store through `store.writer.ingest`
(futures resolved after COMMIT, rollups and outbox maintained in the same transactions),
then times the report queries on the encrypted store. Only ingestion is timed (event
generation is not). Figures are taken on whatever machine runs it (for the README: a
shared 2-core machine, other jobs running).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm  # noqa: E402

from app import events as ev  # noqa: E402
from app.store import reports  # noqa: E402
from app.store.db import open_store  # noqa: E402
from app.store.writer import WriterOptions  # noqa: E402

TZ = ZoneInfo("Europe/Paris")
DAYS = 90
ZONES = ["shoes", "bags", "women", "men", "kids", "till"]
HOURS = {h: w for h, w in zip(range(9, 21), [2, 4, 6, 8, 10, 9, 7, 7, 8, 10, 9, 5], strict=True)}
WEEKDAY = [0.8, 0.8, 0.9, 0.9, 1.1, 1.6, 0.9]  # Monday..Sunday
EVENTS_PER_VISITOR = 18.8  # measured average of the generator below
CROP = bytes(range(256)) * 4  # 1 KiB stand-in JPEG


def _visitor(rng: random.Random, t: float, n: int, out: list[tuple[float, int, Any]]) -> None:
    vid = f"v{n:08d}"
    add = out.append
    add((t, 0, ev.LineCross("entrance", t, 0, 0.0, "door", "in", n, vid)))
    add((t + 2, 0, ev.EntranceEntered("entrance", t + 2, 0, 0.0, "front", "lobby", n, vid)))
    if n % 3 == 0:
        add((t + 2, 0, ev.NewVisitor("floor", t + 2, 0, 0.0, "lobby", vid, n, CROP)))
    tz = t + 10
    for k, zone in enumerate(rng.sample(ZONES, rng.choice((2, 3, 3, 4)))):
        dwell = min(1800.0, rng.lognormvariate(4.2, 0.8))
        visit = f"{vid}-{k}"
        add((tz, 0, ev.ZoneEnter("floor", tz, 0, 0.0, zone, n, vid, visit)))
        add((tz, 1, zone))  # occupancy +1 (resolved after sorting)
        add((tz + dwell, 0, ev.ZoneExit("floor", tz + dwell, 0, 0.0, zone, n, vid, visit, dwell)))
        add((tz + dwell, -1, zone))  # occupancy -1
        closed = ev.VisitClosed(
            "floor", tz + dwell + 30, 0, 0.0, zone, vid, visit, tz, tz + dwell, dwell
        )
        add((tz + dwell + 30, 0, closed))
        tz += dwell + rng.uniform(5, 60)
    add((tz, 0, ev.LineCross("entrance", tz, 0, 0.0, "door", "out", n, vid)))


def day_events(rng: random.Random, day: date, visitors: int, first_id: int) -> list[Any]:
    """One day's events in time order."""
    raw: list[tuple[float, int, Any]] = []
    hours, weights = list(HOURS), list(HOURS.values())
    for i in range(visitors):
        h = rng.choices(hours, weights)[0]
        t = datetime(day.year, day.month, day.day, h, tzinfo=TZ).timestamp() + rng.uniform(0, 3600)
        if rng.random() < 0.3:
            raw.append((t, 0, ev.PassedBy("entrance", t, 0, 0.0, "front", "door", first_id + i)))
        _visitor(rng, t, first_id + i, raw)
    raw.sort(key=lambda x: x[0])
    occ = dict.fromkeys(ZONES, 0)
    out = []
    for t, delta, item in raw:
        if delta:
            occ[item] = max(0, occ[item] + delta)
            out.append(ev.Occupancy("floor", t, 0, 0.0, item, occ[item]))
        else:
            out.append(item)
    return out


def days_of_events(total: int, seed: int = 7) -> Iterator[list[Any]]:
    rng = random.Random(seed)
    start = date.today() - timedelta(days=DAYS)
    per_day = (
        total
        / EVENTS_PER_VISITOR
        / sum(WEEKDAY[(start + timedelta(d)).weekday()] for d in range(DAYS))
    )
    n = 0
    for d in range(DAYS):
        day = start + timedelta(days=d)
        visitors = math.ceil(per_day * WEEKDAY[day.weekday()])
        yield day_events(rng, day, visitors, n)
        n += visitors


def ingest(
    path: Path, encrypted: bool, total: int, label: str, batch_ms: float = 0.0
) -> tuple[int, float]:
    """Ingest the synthetic days; returns (events, seconds spent ingesting)."""
    store = open_store(path, "bench-passphrase", encrypted=encrypted,
                       writer_options=WriterOptions(batch_max=2000, batch_ms=batch_ms))  # fmt: skip
    count, busy = 0, 0.0
    try:
        with tqdm(total=total, unit="ev", desc=label, unit_scale=True, mininterval=1.0) as bar:
            for events in days_of_events(total):
                t0 = time.perf_counter()
                checkpoint: Future[None] | None = None
                f: Future[None] | None = None
                for i, e in enumerate(events):
                    f = store.writer.ingest(e)
                    if i % 4000 == 3999:  # keep at most ~8000 events queued
                        if checkpoint is not None:
                            checkpoint.result(300)
                        checkpoint = f
                if f is not None:
                    f.result(300)  # the day is committed
                busy += time.perf_counter() - t0
                count += len(events)
                bar.update(len(events))
        batches = store.writer.batches
    finally:
        store.close()
    print(f"  {label}: {count:,} events in {busy:.1f} s = {count / busy:,.0f} events/s "
          f"({batches:,} transactions, file {path.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
    return count, busy


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float]:
    """(first run, median of the rest) in seconds."""
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], statistics.median(times[1:])


def report_queries(path: Path) -> dict[str, tuple[float, float]]:
    store = open_store(path, "bench-passphrase", create=False)
    today = date.today()
    month = (today - timedelta(days=30), today)
    full = (today - timedelta(days=DAYS), today)
    out = {}
    try:
        with store.read_session() as s:
            out["footfall per hour, 30 days"] = timed(
                lambda: reports.footfall_per_hour(s, *month, TZ)
            )
            out["dwell by zone, 30 days"] = timed(lambda: reports.dwell_by_zone(s, *month, TZ))
            out["busiest hours heatmap, 90 days"] = timed(
                lambda: reports.busiest_hours(s, *full, TZ)
            )
            out["one day's totals"] = timed(
                lambda: reports.day_totals(s, today - timedelta(days=1), TZ)
            )
            rows = reports.footfall_per_hour(s, *month, TZ)
            print(f"  sanity: {sum(r.entries for r in rows):,} entries in the last 30 days, "
                  f"{len(rows)} hours with data")  # fmt: skip
    finally:
        store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2_050_000, help="events to generate (90 days)")
    ap.add_argument("--baseline-events", type=int, default=None,
                    help="events for the plain-SQLite baseline (default: same as --events)")  # fmt: skip
    ap.add_argument("--dir", type=Path, default=None, help="where to put the two stores")
    ap.add_argument("--batch-ms", type=float, default=0.0,
                    help="writer linger after the first item (default 0: group commit, no wait)")  # fmt: skip
    args = ap.parse_args()
    base = args.baseline_events or args.events
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        print(f"store benchmark: {DAYS} days, ~{args.events:,} events; machine: {os.cpu_count()} "
              "cores, shared with other jobs (figures vary run to run)")  # fmt: skip
        print(f"writer: batch_max 2000, linger {args.batch_ms:g} ms")
        enc, plain = d / "encrypted.db", d / "plain.db"
        n_enc, t_enc = ingest(enc, True, args.events, "encrypted (SQLCipher)", args.batch_ms)
        n_pl, t_pl = ingest(plain, False, base, "plain SQLite (baseline)", args.batch_ms)
        ratio = (n_enc / t_enc) / (n_pl / t_pl)
        print(f"  ratio encrypted/plain ingest rate: {ratio:.2f} (target >= 0.70)")
        print("report queries on the encrypted store (first run / median of 3 more):")
        for name, (first, med) in report_queries(d / "encrypted.db").items():
            flag = "ok" if max(first, med) <= 1.0 else "SLOW"
            print(f"  {name:<32} {first * 1000:7.1f} ms / {med * 1000:7.1f} ms  [{flag}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
