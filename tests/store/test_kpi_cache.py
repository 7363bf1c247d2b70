"""The period KPIs' per-day cache gives exactly the KPIs of the whole-period reads
(`kpi_queries.period_kpis_direct`) on varied data (several days across a daylight
saving change, an entrance from the fifth day on, zones, a queue area and its service
zone, a zone outside the store, POS sales with transactions across midnight, service
sessions across midnight, open and forgotten, queue alerts, staff-tagged visitors),
for many periods; and stays exact after late changes for cached days: ingest for a
past day, a POS import, retention deletions, staff re-tagging."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.alerts import QUEUE_LENGTH
from app.config import AppConfig, RetentionConfig
from app.store import journeys, kpi_cache
from app.store import kpi_queries as kq
from app.store.db import Store
from app.store.retention import apply_retention

TZ = "Europe/Paris"
FIRST = date(2026, 10, 14)  # daylight saving ends on 2026-10-25 in Paris
LAST = date(2026, 11, 6)
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
ZONES = ["shoes", "bags", "till", "kids", "street"]


def config() -> AppConfig:
    zones = [{"name": z, "polygon": SQUARE, "capacity": 6,
              "kind": "queue" if z == "till" else "zone", "in_store": z != "street"}
             for z in ZONES]  # fmt: skip
    return AppConfig.model_validate({
        "store": {"name": "Test", "timezone": TZ},
        "zones": zones,
        "kpis": {"capacity": 30, "visitors_per_salesperson": 4,
                 "queue_service": {"till": "kids"}},
    })  # fmt: skip


def params() -> kq.KpiParams:
    return kq.KpiParams.from_config(config())


def at(d: date, hour: float) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(TZ)).timestamp() + hour * 3600


def _fill(store: Store, seed: int = 7) -> None:
    rng = random.Random(seed)

    def job(s: object) -> None:
        conn = s.connection()  # type: ignore[attr-defined]
        rollups, visits, visitors, buys, sessions, alerts = [], [], [], [], [], []
        days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
        for n, d in enumerate(days):
            if n == 3:
                continue  # a day without data
            for q in range(8 * 4, 21 * 4):
                b = at(d, q / 4)
                b -= b % 900
                rollups.append((b, "line", "door", rng.randint(0, 9), 0, 0))
                if n >= 5:
                    rollups.append(
                        (b, "entrance", "front", rng.randint(0, 8), rng.randint(0, 20), 0)
                    )
                for z in ZONES:
                    rollups.append((b, "zone", z, rng.randint(0, 5), 0, rng.randint(0, 7)))
            for k in range(40):
                vid = f"v{n}-{k}"
                staff = k % 13 == 0
                enter = at(d, rng.uniform(8, 23.99))
                visitors.append((vid, enter, enter + 600, int(staff)))
                wait = rng.choice([5.0, 40.5, 95.25, 200.125, 420.0, 1000.0 / 3])
                if k == 7:
                    wait = 2 * 86400.0  # longer than a wait can be
                exit_ = enter + wait
                visits.append((f"q{vid}", vid, "till", enter, None if k == 9 else exit_,
                               None if k == 9 else wait))  # fmt: skip
                if k % 3:  # reached the service zone (some only just in time, some late)
                    t = exit_ + rng.choice([0.0, 30.0, 59.0, 61.0, 300.0])
                    visits.append((f"k{vid}", vid, "kids", t, t + 90.0, 90.0))
                visits.append((f"s{vid}", vid, "shoes", enter - 100, enter - 10, 90.0))
            for k in range(25):
                hour = 23.99 if k == 0 else rng.uniform(9, 20)
                tx = f"T{n}-{k}"
                for line in range(rng.randint(1, 3)):
                    t = at(d, hour) + 20 * line  # T..-0 runs past midnight
                    buys.append((tx, line, t, "400", round(rng.uniform(1, 90), 2) + 0.005))
            buys.append((f"T{n}-0", 9, at(d, 30), "400", 1.1))  # the same sale the next day too
            for k in range(6):
                start = at(d, rng.uniform(8, 23.9) if k else 23.5)
                end = None if k == 1 else start + (6 * 3600 if k == 2 else rng.uniform(60, 5400))
                sessions.append(
                    (f"ss{n}-{k}", k % 3 + 1, rng.choice(["kids", "shoes"]), start, end)
                )
            for k in range(3):
                alerts.append((f"a{n}-{k}", QUEUE_LENGTH, "till", at(d, rng.uniform(9, 20))))
        cur = conn.connection.driver_connection.cursor()
        cur.executemany(
            "INSERT INTO rollups (bucket_start, scope, camera, name, entries, exits, passersby, "
            "occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s, updated_at) "
            "VALUES (?, ?, 'cam', ?, ?, 0, ?, ?, 0, 0, 0, 0)",
            rollups,
        )
        cur.executemany(
            "INSERT INTO zone_visits (id, visitor_id, camera, zone, enter_ts, exit_ts, dwell_s) "
            "VALUES (?, ?, 'cam', ?, ?, ?, ?)",
            visits,
        )
        cur.executemany(
            "INSERT INTO visitors (id, first_seen, last_seen, camera, is_staff) "
            "VALUES (?, ?, ?, 'cam', ?)",
            visitors,
        )
        cur.executemany(
            "INSERT INTO purchases (transaction_id, line_no, ts, barcode, amount, "
            "salesperson_code) VALUES (?, ?, ?, ?, ?, '')",
            buys,
        )
        cur.executemany(
            "INSERT INTO service_sessions (id, salesperson_id, zone, visitor_id, started_at, "
            "ended_at, device_id, outcome, note) VALUES (?, ?, ?, '', ?, ?, '', '', '')",
            sessions,
        )
        cur.executemany(
            "INSERT INTO alerts (id, kind, message, camera, zone, ts, acknowledged_by, subject, "
            "last_seen, count) VALUES (?, ?, 'queue', 'cam', ?, ?, '', 'till', 0, 1)",
            alerts,
        )

    store.writer.submit(job).result(60)


def _periods() -> list[tuple[date, date]]:
    rng = random.Random(3)
    out = [(FIRST, FIRST), (LAST, LAST), (FIRST, LAST), (date(2026, 10, 25), date(2026, 10, 25)),
           (date(2026, 10, 19), date(2026, 10, 25)), (FIRST - timedelta(days=5), FIRST + timedelta(days=1))]  # fmt: skip
    for _ in range(10):
        a = FIRST + timedelta(days=rng.randint(0, 22))
        out.append(
            (a, min(LAST + timedelta(days=2), a + timedelta(days=rng.choice([0, 1, 6, 13]))))
        )
    return out


def _same(store: Store, p: kq.KpiParams, periods: list[tuple[date, date]] | None = None) -> None:
    with store.read_session() as s:
        for a, b in periods or _periods():
            for zones in (True, False):
                cached = kq.period_kpis(s, p, a, b, zones=zones)
                direct = kq.period_kpis_direct(s, p, a, b, zones=zones)
                assert cached == direct, (a, b, zones)
            start, end = at(a, 0), at(b + timedelta(days=1), 0)
            assert kpi_cache.journeys(s, p, a, b, 100) == journeys.journeys(s, start, end, 100)


def _cached_days(store: Store) -> set[str]:
    with store.read_session() as s:
        return {str(d) for (d,) in s.connection().exec_driver_sql("SELECT day FROM kpi_day_cache")}


def _noted(store: Store) -> int:
    with store.read_session() as s:
        return int(
            s.connection().exec_driver_sql("SELECT COUNT(*) FROM kpi_cache_dirty").scalar() or 0
        )


@pytest.fixture
def filled(store: Store) -> Store:
    _fill(store)
    return store


def test_the_cache_gives_exactly_the_direct_kpis(filled: Store) -> None:
    p = params()
    # the data is varied enough to exercise every part
    with filled.read_session() as s:
        k = kq.period_kpis_direct(s, p, FIRST, LAST)
        week = kq.period_kpis_direct(s, p, LAST - timedelta(days=6), LAST)
    assert k.visitors and k.passersby and k.transactions and k.revenue and k.has_entrances
    (q,) = k.queues
    assert q.waits and q.abandoned and 0 < q.abandoned < q.waits and q.alerts
    assert any(h.on_duty for h in k.hours) and k.zone_hours and k.bottleneck_worst
    assert week.traffic_index is not None and week.growth_momentum is not None
    with filled.read_session() as s:  # visitors seen on two days: one journey
        _, crossing = journeys.day_paths(s, at(FIRST, 0), at(FIRST, 24))
    assert crossing
    _same(filled, p)  # nothing cached yet: every day read live, one at a time
    n = kpi_cache.warm_days(filled, p, FIRST - timedelta(days=60), LAST)
    assert n == (LAST - FIRST).days + 61
    assert len(_cached_days(filled)) == n and _noted(filled) == 0
    _same(filled, p)  # every day from the cache
    with filled.read_session() as s:  # the comparisons too
        assert kq.compared(s, p, FIRST + timedelta(days=7), LAST) == kq.compared(
            s, p, FIRST + timedelta(days=7), LAST, direct=True
        )
    assert kpi_cache.warm_days(filled, p, FIRST, LAST) == 0  # nothing left to do


def test_other_settings_use_other_parts(filled: Store) -> None:
    p = params()
    kpi_cache.warm_days(filled, p, FIRST, LAST)
    other = kq.KpiParams(tz=ZoneInfo(TZ))  # what HQ's aggregates use: no queue, no zones
    assert kpi_cache.cache_key(other) != kpi_cache.cache_key(p)
    _same(filled, other, [(FIRST, LAST), (LAST, LAST)])
    kpi_cache.warm_days(filled, other, FIRST, LAST)
    _same(filled, other, [(FIRST, LAST), (LAST, LAST)])
    _same(filled, p, [(FIRST, LAST)])


def _late_changes(s: object) -> None:
    """Ingest for a past day: visits and rollups of a closed day, a sale, a session."""
    conn = s.connection()  # type: ignore[attr-defined]
    d = FIRST + timedelta(days=8)
    conn.exec_driver_sql(
        "INSERT INTO zone_visits (id, visitor_id, camera, zone, enter_ts, exit_ts, dwell_s) "
        "VALUES ('late', 'vl', 'cam', 'till', ?, ?, 33.0)",
        (at(d, 12), at(d, 12) + 33),
    )
    conn.exec_driver_sql(
        "UPDATE rollups SET entries = entries + 50, occupancy_peak = 29 WHERE bucket_start = ? "
        "AND name IN ('door', 'front', 'bags')",
        (at(d, 15),),
    )
    conn.exec_driver_sql(
        "INSERT INTO service_sessions (id, salesperson_id, zone, visitor_id, started_at, ended_at, "
        "device_id, outcome, note) VALUES ('late', 9, 'kids', '', ?, ?, '', '', '')",
        (at(d, 10), at(d, 13)),
    )
    # a service-zone visit just after midnight: the day before loses an abandonment
    conn.exec_driver_sql(
        "INSERT INTO zone_visits (id, visitor_id, camera, zone, enter_ts, exit_ts, dwell_s) "
        "SELECT 'late2', visitor_id, 'cam', 'kids', exit_ts + 1, exit_ts + 60, 59.0 "
        "FROM zone_visits WHERE zone = 'till' AND exit_ts IS NOT NULL AND exit_ts < ? "
        "AND exit_ts > ? - 3600 AND visitor_id NOT IN (SELECT visitor_id FROM zone_visits "
        "WHERE zone = 'kids') LIMIT 1",
        (at(d, 24), at(d, 24)),
    )


def _pos_import(store: Store, tmp: Path) -> None:
    from app.sync.pos import PosMapping, import_pos_csv

    d = FIRST + timedelta(days=10)
    csv = tmp / "pos.csv"
    csv.write_text(
        "transaction_id,time,barcode,amount\n"
        f"X1,{d}T11:00:00,4006381333931,129.00\n"
        f"X1,{d}T11:00:00,5012345678900,21.00\n"
        f"T{(d - FIRST).days}-3,{d}T18:00:00,4006381333931,5\n",  # a line for a known sale
        encoding="utf-8",
    )
    mapping = PosMapping("transaction_id", "time", "barcode", "amount")
    list(import_pos_csv(store, csv, mapping, tz=TZ))


def _late_events(store: Store) -> None:
    """The analysis of a past day's clip, through the writer's ingest (its upserts)."""
    from app.events import (
        EntranceEntered,
        LineCross,
        NewVisitor,
        Occupancy,
        PassedBy,
        VisitClosed,
        ZoneEnter,
        ZoneExit,
    )  # fmt: skip

    d = FIRST + timedelta(days=11)
    t = at(d, 14.2)
    base: dict[str, Any] = {"camera": "cam", "frame": 0, "t": 0.0}
    events: list[object] = []
    for k in range(3):
        vid, visit = f"late-{k}", f"late-visit-{k}"
        ts = t + 60 * k
        events += [
            LineCross(ts=ts, line="door", direction="in", track_id=k, visitor_id=vid, **base),
            PassedBy(ts=ts, entrance="front", line="door", track_id=9, **base),
            EntranceEntered(ts=ts, entrance="front", zone="bags", track_id=k, visitor_id=vid,
                            **base),
            NewVisitor(ts=ts, zone="till", visitor_id=vid, track_id=k, **base),
            ZoneEnter(ts=ts, zone="till", track_id=k, visitor_id=vid, visit_id=visit, **base),
            Occupancy(ts=ts, zone="till", count=20, **base),
            ZoneExit(ts=ts + 45, zone="till", track_id=k, visitor_id=vid, visit_id=visit,
                     dwell_s=45.0, **base),
            VisitClosed(ts=ts + 45, zone="till", visitor_id=vid, visit_id=visit, enter_ts=ts,
                        exit_ts=ts + 45, dwell_s=45.0, **base),
        ]  # fmt: skip
    store.writer.ingest_many(events).result(30)


CHANGES = ["ingest", "events", "pos", "retention", "staff", "sale_across"]


@pytest.mark.parametrize("change", CHANGES)
def test_late_changes_to_cached_days_are_never_served_stale(
    filled: Store, tmp_path: Path, change: str
) -> None:
    p = params()
    kpi_cache.warm_days(filled, p, FIRST - timedelta(days=60), LAST)
    before = len(_cached_days(filled))
    with filled.read_session() as s:
        old = kq.period_kpis(s, p, FIRST, LAST)
    if change == "ingest":
        filled.writer.submit(_late_changes).result(30)
    elif change == "events":
        _late_events(filled)
    elif change == "pos":
        _pos_import(filled, tmp_path)
    elif change == "retention":  # raw events of the first days expire (rollups are kept)
        now = at(FIRST + timedelta(days=3), 0) + 400 * 86400
        filled.writer.submit(lambda s: apply_retention(s, now, RetentionConfig())).result(30)
    elif change == "staff":  # people tagged staff after the fact
        filled.writer.submit(
            lambda s: s.connection().exec_driver_sql(
                "UPDATE visitors SET is_staff = 1 WHERE id LIKE 'v12-%' OR id LIKE 'v13-1%'"
            )
        ).result(30)
    else:  # one more line of a sale of a cached day, on a day not cached
        filled.writer.submit(
            lambda s: s.connection().exec_driver_sql(
                "INSERT INTO purchases (transaction_id, line_no, ts, barcode, amount, "
                "salesperson_code) VALUES ('T20-1', 50, ?, '400', 3.0, '')",
                (at(LAST + timedelta(days=3), 12),),
            )
        ).result(30)
    assert _noted(filled) > 0
    with filled.read_session() as s:
        new = kq.period_kpis(s, p, FIRST, LAST)
    if change != "sale_across":
        assert new != old  # the change shows at once, before any refill
    _same(filled, p)
    kpi_cache.warm_days(filled, p, FIRST - timedelta(days=60), LAST)  # drops and refills
    assert _noted(filled) == 0 and len(_cached_days(filled)) == before
    _same(filled, p)


def test_live_ingest_of_the_open_day_notes_nothing(filled: Store) -> None:
    from app.events import ZoneEnter, ZoneExit

    p = params()
    kpi_cache.warm_days(filled, p, FIRST, LAST)
    now = time.time()
    events = [
        ZoneEnter(ts=now, frame=0, t=0.0, camera="cam", zone="till", track_id=1, visitor_id="live",
                  visit_id="live-1"),
        ZoneExit(ts=now + 30, frame=1, t=30.0, camera="cam", zone="till", track_id=1, visitor_id="live",
                 visit_id="live-1", dwell_s=30.0),
    ]  # fmt: skip
    filled.writer.ingest_many(events).result(30)
    assert _noted(filled) == 0


def test_staff_tagged_visitors_are_left_out_of_the_visit_figures(filled: Store) -> None:
    """Visitors tagged staff (the recogniser or the staff-zone rule, after the fact) are
    left out of the queue waits and abandonment, the journeys and the finished visits."""
    from app.store import figures

    p = params()
    d = FIRST + timedelta(days=9)
    start, end = at(d, 0), at(d, 24)
    with filled.read_session() as s:
        conn = s.connection()
        staff = [str(v) for (v,) in conn.exec_driver_sql(
            "SELECT id FROM visitors WHERE is_staff = 1 AND first_seen >= ? AND first_seen < ?",
            (start, end))]  # fmt: skip
        assert staff
        k = kq.period_kpis(s, p, d, d)
        everyone = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM zone_visits WHERE zone = 'till' AND exit_ts >= ? AND exit_ts < ? "
            "AND dwell_s IS NOT NULL AND exit_ts - enter_ts <= 86400",
            (start, end),
        ).scalar()
        theirs = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM zone_visits WHERE zone = 'till' AND exit_ts >= ? AND exit_ts < ? "
            f"AND dwell_s IS NOT NULL AND visitor_id IN ({','.join('?' * len(staff))})",
            (start, end, *staff),
        ).scalar()
        assert theirs and k.queues[0].waits == everyone - theirs
        figs = figures.zone_figures(s, start, end)
        j = journeys.journeys(s, start, end, k.visitors)
        dwells = figures.finished_visit_dwells(s, start, end)
        in_shoes = conn.exec_driver_sql(
            "SELECT COUNT(DISTINCT visitor_id) FROM zone_visits WHERE zone = 'shoes' "
            "AND enter_ts >= ? AND enter_ts < ?",
            (start, end),
        ).scalar()
    assert figs["till"].finished_visits == sum(1 for z, _ in dwells if z == "till")
    assert figs["till"].finished_visits <= everyone - theirs + 1  # + the 2-day one
    shoes = next(f for f in j.funnel if f.zone == "shoes")
    assert shoes.visited == int(in_shoes or 0) - len(staff)


def test_the_engine_warmer_caches_the_closed_days_since_the_first_data(filled: Store) -> None:
    warmer = kpi_cache.KpiCacheWarmer(filled, params())
    n = warmer.run_once()
    days = _cached_days(filled)
    assert n == len(days) and {d.isoformat() for d in kpi_cache.days_between(FIRST, LAST)} <= days
    assert min(days) == FIRST.isoformat()  # nothing before the store's first data
    assert warmer.run_once() == 0  # done once
    _same(filled, params(), [(FIRST, LAST), (LAST - timedelta(days=6), LAST)])


def test_a_store_without_a_writer_is_read_live() -> None:
    class ReadOnly:
        writer = None

    assert kpi_cache.warm_compared(ReadOnly(), params(), FIRST, LAST) == 0


def test_without_its_triggers_the_cache_is_neither_read_nor_filled(filled: Store) -> None:
    import importlib.util

    from app.store import migrate

    path = next((migrate.MIGRATIONS_DIR / "versions").glob("*kpi_day_cache*.py"))
    spec = importlib.util.spec_from_file_location("rev0010", path)
    assert spec and spec.loader
    rev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rev)
    assert len(rev.TRIGGERS) == kpi_cache.TRIGGERS
    p = params()
    kpi_cache.warm_days(filled, p, FIRST, LAST)
    filled.writer.submit(
        lambda s: s.connection().exec_driver_sql("DROP TRIGGER kpi_note_purchases_ins")
    ).result(30)
    with filled.read_session() as s:
        assert kpi_cache.cached(s, p, FIRST, LAST) == {}
    filled.writer.submit(  # a late sale nobody notes: still counted (read live)
        lambda s: s.connection().exec_driver_sql(
            "INSERT INTO purchases (transaction_id, line_no, ts, barcode, amount, "
            "salesperson_code) VALUES ('late', 0, ?, '400', 3.0, '')",
            (at(FIRST + timedelta(days=2), 12),),
        )
    ).result(30)
    _same(filled, p, [(FIRST, LAST)])
    kpi_cache.drop(filled)
    assert kpi_cache.warm_days(filled, p, FIRST, LAST) == 0 and not _cached_days(filled)
