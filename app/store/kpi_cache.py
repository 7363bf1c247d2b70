"""The period KPIs' per-day cache: what a closed day contributes to any period's KPIs,
computed once and kept (table `kpi_day_cache`), so that a month or 90 days answer from
a few hundred small rows instead of every visit and POS line (`bench/bench_kpis.py`).

A day's part (`DayPart`) holds the figures that add up across days, per local hour:
the entrance and door-line footfall, the people in the store, each zone's entries and
peak, the salespeople on duty (store-wide and per zone), each queue area's waits (count
and exact sum), wait histogram, abandoned visits and alerts, the revenue, and the
distinct POS transactions with those shared with another day (so that a period counts
a transaction once). `kpi_queries.assemble` turns the parts of a period into its KPIs
exactly as it does with the whole-period reads of `kpi_queries.period_kpis_direct`
(`tests/store/test_kpi_cache.py` compares the two on varied data).

- **Closed days only**: a day is cached once the store's local midnight after it is
  CLOSE_MARGIN_S past; the open day (and a day still in its margin) is read live.
- **Filled incrementally** by the writer (`warm`), a few days per transaction: the
  Analytics page, `report kpis` and the weekly report warm the days they show; the
  engine warms the store's days in the background (`KpiCacheWarmer`).
- **Invalidation is done by the database**: triggers on every table a part is read
  from (rollups, zone visits, POS lines, service sessions, alerts, the staff tag of
  visitors; store revision 0010) note the time of any insert, update or delete that
  lands before the cache's horizon (the end of the last day it may hold) in
  `kpi_cache_dirty`, in the same transaction as the change: ingest for a past day, a
  POS import, retention deletions, staff re-tagging, linking. A read leaves out the
  days a noted change may touch (and reads them live); the next `warm` drops and
  recomputes them. Live ingest for the open day is after the horizon: no note.
- The parts depend on the time zone, the queue areas and their service zones and the
  zones outside the store: they are kept under a key of those settings (`cache_key`);
  other settings (capacity, targets, schedule) apply when the parts are assembled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
import uuid
from collections import Counter, OrderedDict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.kpis import days_between
from app.store import journeys as jr
from app.store import kpi_sql as kq
from app.store.periodic import PeriodicJob

log = logging.getLogger(__name__)

VERSION = 1  # of the parts' format: a new version leaves the old rows unused
CLOSE_MARGIN_S = 2 * 3600.0  # a day is closed this long after the local midnight ending it
DIRTY_BUCKET_S = 900  # changes are noted per 15 minutes
# a change at time t can move the parts of the days overlapping [t, t + span]: a queue
# visit ends up to MAX_WAIT_S after it started, a session runs up to MAX_SESSION_S;
# the triggers note a service-zone visit SERVICE_GRACE_S before it started
DIRTY_SPAN_S = max(kq.MAX_WAIT_S, kq.MAX_SESSION_S) + DIRTY_BUCKET_S
FILL_CHUNK_DAYS = 10  # days computed per writer transaction (the writer stays responsive)
WARM_DAYS = 800  # the background warmer keeps this many days back (a year ago + history)
# the invalidation triggers of revision 0010 (`kpi_note_*`); without all of them (a later
# migration that rebuilt a table drops its triggers) the cache is neither read nor filled
TRIGGERS = 20


def cache_key(p: kq.KpiParams) -> str:
    """The settings the parts depend on, hashed."""
    spec = json.dumps(
        [VERSION, str(p.tz), sorted(p.outside_zones), list(p.queue_zones),
         sorted(p.queue_service.items())],
    )  # fmt: skip
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


# A day's part, as stored (JSON) and as computed live (the same plain lists, so that a
# period adds up the same values either way; hours are epoch seconds, ints):
#   f    footfall per hour: [h, entrance entries, passers-by, has entrance rows,
#        door-line entries, has line rows]                        (column `foot`)
#   pp   [h, people in the store]           zh  [h, zone, entries, occupancy peak]
#   d    [h, salespeople on duty]           dz  [h, zone, salespeople on duty]
#   q    {queue area: {s: service zone, h: [[h, waits, exact sum of waits]], hist,
#         ab: abandoned or null, al: alerts}}
#   tx   distinct POS transactions          txs the ones also on another day
#   rev  [h, revenue]
#   jp   [[path, visitors]] of the visitors seen that day only
#   jx   [[visitor, [[enter_ts, zone], ...]]] of the others     (column `paths`)
# the rest in column `data`. Decoded columns are kept in memory by the row's uid (a
# row is written once per computation), MEMO_SIZE at most.
Part = dict[str, Any]
COLUMNS = {"foot": ("f",), "paths": ("jp", "jx")}  # the others: "data"
MEMO_SIZE = 3000
_memo: OrderedDict[tuple[str, str], Any] = OrderedDict()
_memo_lock = threading.Lock()


def _decoded(uid: str, column: str, text: str | None) -> Any:
    with _memo_lock:
        hit = _memo.get((uid, column))
        if hit is not None:
            _memo.move_to_end((uid, column))
            return hit
    if text is None:
        return None
    value = json.loads(text)
    with _memo_lock:
        _memo[(uid, column)] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def _sales_day(s: Session, start: float, end: float) -> tuple[int, list[str]]:
    conn = s.connection()
    n = conn.exec_driver_sql(
        "SELECT COUNT(DISTINCT transaction_id) FROM purchases WHERE ts >= ? AND ts < ?",
        (start, end),
    ).scalar()
    shared = conn.exec_driver_sql(
        "SELECT DISTINCT p.transaction_id FROM purchases p WHERE p.ts >= ? AND p.ts < ? "
        "AND EXISTS (SELECT 1 FROM purchases q WHERE q.transaction_id = p.transaction_id "
        "AND (q.ts < ? OR q.ts >= ?))",
        (start, end, start, end),
    )
    return int(n or 0), sorted(str(t) for (t,) in shared)


def compute(s: Session, p: kq.KpiParams, day: date, *, full: bool = True) -> Part:
    """A day's part read from the store's rows (`full=False`: its footfall only, what a
    period's history needs)."""
    start, end = kq.day_start(day, p.tz), kq.day_start(day + timedelta(days=1), p.tz)
    hours = kq._Hours(p.tz, start)
    part: Part = {"f": [list(r) for r in kq._footfall_both(s, start, end, hours)]}
    if not full:
        return part
    duty, duty_zone = kq._on_duty(s, start, end, hours)
    tx, shared = _sales_day(s, start, end)
    paths, crossing = jr.day_paths(s, start, end)
    part.update(
        pp=[[int(h), n] for h, n in kq._people_per_hour(s, start, end, hours, p.outside_zones).items()],
        zh=[[int(h), z, e, pk] for (h, z), (e, pk) in kq._zone_hours(s, start, end, hours).items()],
        d=[[int(h), n] for h, n in duty.items()],
        dz=[[int(h), z, n] for (h, z), n in duty_zone.items()],
        q={
            qz: {"s": q.service_zone, "h": [[int(h), n, t] for h, (n, t) in q.hours.items()],
                 "hist": q.hist, "ab": q.abandoned, "al": q.alerts}
            for qz, q in kq._queue_parts(s, p, start, end, hours).items()
        },
        tx=tx,
        txs=shared,
        rev=[[int(h), a] for h, a in kq._revenue_by_hour(s, start, end, hours).items()],
        jp=[[list(path), n] for path, n in sorted(paths.items())],
        jx=[[v, [[t, z] for t, z in vs]] for v, vs in sorted(crossing.items())],
    )  # fmt: skip
    return part


def _to_row(part: Part) -> tuple[str, str, str]:
    def enc(v: Any) -> str:
        return json.dumps(v, separators=(",", ":"))

    paths = {k: part[k] for k in COLUMNS["paths"]}
    rest = {k: v for k, v in part.items() if k != "f" and k not in paths}
    return enc(part["f"]), enc(rest), enc(paths)


def guarded(s: Session) -> bool:
    """Whether every invalidation trigger is in place (the schema is in memory: cheap)."""
    n = (
        s.connection()
        .exec_driver_sql(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kpi_note_%'"
        )
        .scalar()
    )
    if int(n or 0) >= TRIGGERS:
        return True
    log.warning(
        "the KPI cache's triggers are missing (%s of %d): figures are read live", n, TRIGGERS
    )
    return False


def _day_span(first: date, last: date) -> tuple[str, str]:
    return first.isoformat(), last.isoformat()


def noted_days(s: Session, tz: ZoneInfo) -> set[date]:
    """The days a change noted by the triggers may have touched."""
    out: set[date] = set()
    for (ts,) in s.connection().exec_driver_sql("SELECT ts FROM kpi_cache_dirty"):
        # a day before too: rows kept under another time zone's key date it differently
        a = datetime.fromtimestamp(float(ts), tz).date() - timedelta(days=1)
        b = datetime.fromtimestamp(float(ts) + DIRTY_SPAN_S, tz).date()
        out.update(days_between(a, b))
    return out


def cached(
    s: Session,
    p: kq.KpiParams,
    first: date,
    last: date,
    full_from: date | None = None,
    columns: tuple[str, ...] = ("foot", "data"),
) -> dict[date, Part]:
    """The valid cached parts of first..last (those no noted change may have touched),
    with the given columns; days before `full_from` with their footfall only."""
    full_from = first if full_from is None else full_from
    conn = s.connection()
    if not guarded(s):
        return {}
    rows = conn.exec_driver_sql(
        "SELECT day, uid FROM kpi_day_cache WHERE key = ? AND day >= ? AND day <= ?",
        (cache_key(p), *_day_span(first, last)),
    ).all()
    if not rows:
        return {}
    stale = noted_days(s, p.tz)
    out: dict[date, Part] = {}
    need: dict[str, tuple[date, list[str]]] = {}
    for day, uid in rows:
        d = date.fromisoformat(str(day))
        if d in stale:
            continue
        cols = [c for c in columns if c == "foot" or d >= full_from]
        part: Part = {}
        for c in cols:
            v = _decoded(str(uid), c, None)
            if v is None:
                need.setdefault(str(uid), (d, []))[1].append(c)
            else:
                _put(part, c, v)
        out[d] = part
    if need:  # decode what the memo does not hold (a day's row at most once)
        cols = sorted({c for _, cs in need.values() for c in cs})
        days = [d.isoformat() for d, _ in need.values()]
        for i in range(0, len(days), 400):
            chunk = days[i : i + 400]
            for row in conn.exec_driver_sql(
                f"SELECT uid, {', '.join(cols)} FROM kpi_day_cache "
                f"WHERE key = ? AND day IN ({kq._marks(len(chunk))})",
                (cache_key(p), *chunk),
            ):
                uid = str(row[0])
                if uid not in need:  # replaced meanwhile: cannot be (one snapshot)
                    continue
                d, wanted = need[uid]
                for c, text in zip(cols, row[1:], strict=True):
                    if c in wanted:
                        _put(out[d], c, _decoded(uid, c, str(text)))
    return out


def _put(part: Part, column: str, value: Any) -> None:
    if column == "foot":
        part["f"] = value
    else:
        part.update(value)


def _period_parts(
    s: Session,
    p: kq.KpiParams,
    first: date,
    last: date,
    history: date,
    columns: tuple[str, ...] = ("foot", "data"),
) -> dict[date, Part]:
    parts = cached(s, p, history, last, first, columns)
    for d in days_between(history, last):
        if d not in parts:
            parts[d] = compute(s, p, d, full=d >= first)
    return parts


def merge(
    p: kq.KpiParams, first: date, last: date, parts: dict[date, Part], zones: bool
) -> kq.Inputs:
    """The period's inputs from the parts of its days and of its history's days."""
    ordered = [parts[d] for d in sorted(parts)]
    has_entrances = any(f[3] for part in ordered for f in part["f"])
    foot: dict[float, tuple[int, int]] = {}
    for part in ordered:
        for h, e, x, has_e, le, has_l in part["f"]:
            if has_entrances and has_e:
                foot[float(h)] = (e, x)
            elif not has_entrances and has_l:
                foot[float(h)] = (le, 0)
    people: dict[float, int] = {}
    zone_hours: dict[tuple[float, str], tuple[int, int]] = {}
    duty: dict[float, int] = {}
    duty_zone: dict[tuple[float, str], int] = {}
    queues = {qz: kq.QueuePart(p.queue_service.get(qz, "")) for qz in p.queue_zones}
    for q in queues.values():
        q.abandoned = 0 if q.service_zone else None
    tx = 0
    shared: set[str] = set()
    revenue: list[float] = []
    only = set(p.zones)
    for d in days_between(first, last):
        part = parts[d]
        for h, n in part["pp"]:
            people[float(h)] = n
        if zones:
            for h, z, e, pk in part["zh"]:
                if not only or z in only:
                    zone_hours[(float(h), z)] = (e, pk)
        for h, n in part["d"]:
            duty[float(h)] = n
        for h, z, n in part["dz"]:
            duty_zone[(float(h), z)] = n
        for qz, q in part["q"].items():
            if qz in queues:
                queues[qz].add(
                    kq.QueuePart(q["s"], {float(h): (n, t) for h, n, t in q["h"]},
                                 list(q["hist"]), q["ab"], q["al"])
                )  # fmt: skip
        tx += part["tx"] - len(part["txs"])
        shared.update(part["txs"])
        revenue.extend(a for _, a in part["rev"])
    return kq.Inputs(
        foot, has_entrances, tx + len(shared), math.fsum(revenue), people, duty, duty_zone,
        [q.stats(qz) for qz, q in queues.items()], zone_hours,
    )  # fmt: skip


def inputs(s: Session, p: kq.KpiParams, first: date, last: date, zones: bool) -> kq.Inputs:
    """The period's inputs: cached parts where valid, the other days read live."""
    parts = _period_parts(s, p, first, last, kq.history_first(first, last))
    return merge(p, first, last, parts, zones)


def journeys(
    s: Session, p: kq.KpiParams, first: date, last: date, entered: int, top: int = 10
) -> jr.Journeys:
    """The journeys of first..last (`journeys.journeys` of the period, exactly) from the
    days' cached paths; days not cached are read live."""
    parts = _period_parts(s, p, first, last, first, ("paths",))
    paths: jr.Paths = Counter()
    crossing: dict[str, jr.VisitList] = {}
    for d in days_between(first, last):
        for path, n in parts[d]["jp"]:
            paths[tuple(path)] += n
        for v, vs in parts[d]["jx"]:
            crossing.setdefault(v, []).extend((float(t), str(z)) for t, z in vs)
    start, end = kq.day_start(first, p.tz), kq.day_start(last + timedelta(days=1), p.tz)
    return jr.from_paths(s, start, end, entered, jr.joined(paths, crossing), top)


# --- filling (the writer) --------------------------------------------------------------


def last_closed_day(tz: ZoneInfo, now: float) -> date:
    """The latest day whose following local midnight is CLOSE_MARGIN_S past."""
    d = datetime.fromtimestamp(now - CLOSE_MARGIN_S, tz).date()
    return d - timedelta(days=1)


def _fill_job(s: Session, p: kq.KpiParams, want: list[date], horizon: float) -> tuple[int, int]:
    """In the writer's transaction: drop the days noted changes touched, raise the
    horizon, compute up to FILL_CHUNK_DAYS missing days of `want`; returns (days
    computed, days still missing)."""
    conn = s.connection()
    if not guarded(s):
        return 0, 0
    stale = noted_days(s, p.tz)
    if stale:
        days = sorted(d.isoformat() for d in stale)
        for i in range(0, len(days), 500):
            chunk = days[i : i + 500]
            conn.exec_driver_sql(
                f"DELETE FROM kpi_day_cache WHERE day IN ({kq._marks(len(chunk))})", tuple(chunk)
            )
        conn.exec_driver_sql("DELETE FROM kpi_cache_dirty")
    # from here on any change before the horizon is noted (same transaction: no gap)
    conn.exec_driver_sql(
        "INSERT INTO kpi_cache_state (id, horizon) VALUES (1, ?) ON CONFLICT(id) DO UPDATE "
        "SET horizon = max(horizon, excluded.horizon)",
        (horizon,),
    )
    key = cache_key(p)
    have = {
        date.fromisoformat(str(d))
        for (d,) in conn.exec_driver_sql(
            "SELECT day FROM kpi_day_cache WHERE key = ? AND day >= ? AND day <= ?",
            (key, *_day_span(want[0], want[-1])),
        )
    }
    missing = [d for d in want if d not in have]
    now = time.time()
    todo = missing[:FILL_CHUNK_DAYS]
    for d in todo:
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO kpi_day_cache (key, day, uid, foot, data, paths, computed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, d.isoformat(), str(uuid.uuid4()), *_to_row(compute(s, p, d)), now),
        )
    return len(todo), len(missing) - len(todo)


def warm_days(
    store: Any, p: kq.KpiParams, first: date, last: date, now: float | None = None
) -> int:
    """Cache the closed days of first..last that are not cached (or were touched by a
    noted change), through the store's writer, a few days per transaction; returns the
    number of days computed. Cached days cost one small query."""
    closed = last_closed_day(p.tz, time.time() if now is None else now)
    last = min(last, closed)
    if last < first:
        return 0
    want = days_between(first, last)
    horizon = kq.day_start(closed + timedelta(days=1), p.tz)
    computed = 0
    while True:
        n, left = store.writer.submit(lambda s: _fill_job(s, p, want, horizon)).result(timeout=600)
        computed += n
        if not left or not n:
            return computed


def warm(store: Any, p: kq.KpiParams, first: date, last: date, now: float | None = None) -> int:
    """Cache what the KPIs of first..last read: its closed days and its history's."""
    return warm_days(store, p, kq.history_first(first, last), last, now)


def warm_compared(store: Any, p: kq.KpiParams, first: date, last: date) -> int:
    """Warm what `kpi_queries.compared` reads: the period, the one before, last year's.
    Best effort: a store without a writer (or a failing one) is read live, as exactly."""
    if getattr(store, "writer", None) is None:
        return 0
    n = (last - first).days + 1
    done = 0
    try:
        for a, b in (
            (first, last),
            (first - timedelta(days=n), first - timedelta(days=1)),
            (first - kq.LAST_YEAR, last - kq.LAST_YEAR),
        ):
            done += warm(store, p, a, b)
    except Exception as exc:  # the figures are read live instead
        log.warning("the KPI cache could not be filled: %s", exc)
    return done


def drop(store: Any) -> None:
    """Empty the cache (it refills on the next warm)."""

    def job(s: Session) -> None:
        conn = s.connection()
        conn.exec_driver_sql("DELETE FROM kpi_day_cache")
        conn.exec_driver_sql("DELETE FROM kpi_cache_dirty")

    store.writer.submit(job).result(timeout=60)


class KpiCacheWarmer(PeriodicJob):
    """The engine's background filler: at start and every `interval_s`, caches the
    closed days since the store's first data (at most WARM_DAYS back), so that the
    Analytics page finds them ready."""

    name = "kpi-cache"
    failure = "the KPI cache could not be filled"

    def __init__(self, store: Any, params: kq.KpiParams, interval_s: float = 1800.0) -> None:
        super().__init__(interval_s)
        self.store, self.params = store, params

    def run_once(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self.store.read_session() as s:
            since = kq.first_data_day(s, self.params.tz)
        if since is None:
            return 0
        last = last_closed_day(self.params.tz, now)
        first = max(since, last - timedelta(days=WARM_DAYS))
        if last < first:
            return 0
        return warm_days(self.store, self.params, first, last, now)

    def tick(self) -> None:
        n = self.run_once()
        if n:
            log.info("KPI cache: %d day(s) computed", n)
