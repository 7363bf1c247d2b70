"""Every KPI of a period, read from the store and computed by app/kpis.py.

`period_kpis(session, params, first, last)` answers for the store's local days
first..last: the headline KPIs, the KPIs per hour, the bottleneck scores per zone and
hour (and the worst hour), the queues (waits, abandonment, alerts) and the daily
visitors. It reads the 15-minute rollups (footfall, occupancy), the visit rows of the
queue areas, the service sessions (salespeople on duty) and the POS purchases, a few
grouped queries each (app/store/kpi_sql.py); closed days come from the per-day cache
(app/store/kpi_cache.py), which gives exactly the KPIs of the whole-period reads
(`period_kpis_direct`); `python bench/bench_kpis.py` times both on 90 days of a busy
store.

Sources, one each:
- visitors: the store's entries (app/store/reports.py: the entrance rollups, else the
  door lines' in-crossings); passers-by: the entrance rollups;
- people in the store per hour: the highest sum over a 15-minute bucket of the zones'
  occupancy peaks (zones marked outside the store left out), as on the dashboard;
- salespeople on duty per hour: the manager's schedule when there is one, else the
  salespeople with a service session (a tablet) during the hour;
- queue wait: the dwell of the finished visits of queue areas, by the hour they ended
  (a visit longer than a day is no wait); abandonment: queue visits whose person did not reach the queue's service zone
  (settings `kpis.queue_service`) between entering the queue and a minute after leaving;
- sales: POS purchase lines in the period (transactions = distinct transaction ids);
- staff: the pipeline leaves out the tracks it tags staff (recognition or the staff-only
  zones rule), so every source above is without them; visits of people tagged staff
  after the fact (`visitors.is_staff`) are left out of the visit-based figures; the
  recognised staff are counted apart (`staff_seen`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app import kpis
from app.store import kpi_cache
from app.store.kpi_sql import (  # noqa: F401 (re-exported)
    BASELINE_WEEKS,
    LAST_YEAR,
    MAX_SESSION_S,
    MAX_WAIT_S,
    SERVICE_GRACE_S,
    STORE,
    WAIT_BINS_S,
    FootHour,
    HourKpis,
    Inputs,
    KpiParams,
    QueuePart,
    QueueStats,
    ZoneHour,
    _hourly_footfall,
    _Hours,
    _local_hour,
    _on_duty,
    _people_per_hour,
    _queue_stats,
    _sales,
    _zone_hours,
    day_start,
    first_data_day,
    history_first,
)


@dataclass(frozen=True)
class Worst:
    hour_start: float
    zone: str
    score: float


@dataclass
class PeriodKpis:
    first: date
    last: date
    visitors: int = 0
    passersby: int = 0
    has_entrances: bool = False
    transactions: int = 0
    revenue: float = 0.0
    traffic_index: float | None = None
    capture_rate: float | None = None
    sales_conversion: float | None = None
    average_basket: float | None = None
    sales_per_visitor: float | None = None
    congestion_peak: float | None = None
    congestion_mean: float | None = None
    utilisation_peak: float | None = None
    utilisation_mean: float | None = None
    growth_momentum: float | None = None
    staffing_adequacy: float | None = None
    understaffed_hours: int | None = None
    bottleneck_worst: Worst | None = None
    mean_queue_wait_s: float | None = None
    abandonment: float | None = None
    hours: list[HourKpis] = field(default_factory=list)
    zone_hours: list[ZoneHour] = field(default_factory=list)
    queues: list[QueueStats] = field(default_factory=list)
    daily_visitors: dict[date, int] = field(default_factory=dict)
    # tracks recognised as staff (opt-in recognition; counts only): they are left out of
    # every figure above, and counted here apart
    staff_seen: int = 0

    HEADLINE = (
        "visitors", "passersby", "transactions", "revenue", "traffic_index", "capture_rate",
        "sales_conversion", "average_basket", "sales_per_visitor", "congestion_peak",
        "congestion_mean", "utilisation_peak", "utilisation_mean", "growth_momentum",
        "staffing_adequacy", "understaffed_hours", "mean_queue_wait_s", "abandonment",
    )  # fmt: skip

    def headline(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.HEADLINE}

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        def when(ts: float) -> str:
            return datetime.fromtimestamp(ts, tz).isoformat(timespec="minutes")

        def clean(d: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for k, v in d.items():
                if k == "hour_start":
                    out["hour"] = when(v)
                elif isinstance(v, float):
                    out[k] = round(v, 4)
                else:
                    out[k] = v
            return out

        w = self.bottleneck_worst
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.headline().items()},
            "bottleneck_worst": None if w is None else clean(asdict(w)),
            "hours": [clean(asdict(h)) for h in self.hours],
            "zone_hours": [clean(asdict(z)) for z in self.zone_hours if z.bottleneck is not None],
            "queues": [
                {
                    **clean({k: v for k, v in asdict(q).items() if k != "by_hour"}),
                    "by_hour": {
                        when(h): {"waits": n, "mean_wait_s": round(m, 1)}
                        for h, (n, m) in sorted(q.by_hour.items())
                    },
                }
                for q in self.queues
            ],  # fmt: skip
            "daily_visitors": {d.isoformat(): v for d, v in sorted(self.daily_visitors.items())},
            "staff_seen": self.staff_seen,
        }


def direct_inputs(s: Session, p: KpiParams, first: date, last: date, zones: bool) -> Inputs:
    tz = p.tz
    start, end = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    hours = _Hours(tz, start)
    foot, has_entrances = _hourly_footfall(s, day_start(history_first(first, last), tz), end, hours)
    tx, revenue = _sales(s, start, end, hours)
    duty_store, duty_zone = _on_duty(s, start, end, hours)
    return Inputs(
        foot, has_entrances, tx, revenue, _people_per_hour(s, start, end, hours, p.outside_zones),
        duty_store, duty_zone, _queue_stats(s, p, start, end, hours),
        _zone_hours(s, start, end, hours, p.zones) if zones else {},
    )  # fmt: skip


def period_kpis_direct(
    s: Session, p: KpiParams, first: date, last: date, *, zones: bool = True
) -> PeriodKpis:
    """`period_kpis` read over the whole period at once, without the per-day cache (the
    reference the cache is tested and benchmarked against)."""
    out = assemble(p, first, last, direct_inputs(s, p, first, last, zones))
    out.staff_seen = staff_seen(s, p, first, last)
    return out


def period_kpis(
    s: Session, p: KpiParams, first: date, last: date, *, zones: bool = True
) -> PeriodKpis:
    """Every KPI of the local days first..last (both included). `zones=False` leaves out
    the per-zone hours (the comparisons need the store's figures only): the bottleneck
    is then the store's own per hour. Closed days come from the per-day cache when it
    holds them (app/store/kpi_cache.py), the others are read live; the result is the
    same as `period_kpis_direct`'s."""
    out = assemble(p, first, last, kpi_cache.inputs(s, p, first, last, zones))
    out.staff_seen = staff_seen(s, p, first, last)
    return out


def staff_seen(s: Session, p: KpiParams, first: date, last: date) -> int:
    """Tracks recognised as staff in the local days first..last (`face_visits`: a
    count per recognised track, never who): the staff kept apart from the counts."""
    n = (
        s.connection()
        .exec_driver_sql(
            "SELECT COUNT(*) FROM face_visits WHERE ts >= ? AND ts < ? AND outcome = 'staff'",
            (day_start(first, p.tz), day_start(last + timedelta(days=1), p.tz)),
        )
        .scalar()
    )
    return int(n or 0)


def assemble(p: KpiParams, first: date, last: date, inp: Inputs) -> PeriodKpis:
    tz = p.tz
    start, end = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    out = PeriodKpis(first, last)

    # footfall per hour over the history too (traffic index, momentum)
    foot = inp.foot
    out.has_entrances = inp.has_entrances
    daily: dict[date, int] = defaultdict(int)
    for h, (e, _) in sorted(foot.items()):  # in time order: the sums below are exact
        daily[datetime.fromtimestamp(h, tz).date()] += e
    period_foot = {h: v for h, v in foot.items() if start <= h < end}
    out.visitors = sum(e for e, _ in period_foot.values())
    out.passersby = sum(x for _, x in period_foot.values())
    out.daily_visitors = {d: v for d, v in sorted(daily.items()) if first <= d <= last}
    history = {
        d: float(v)
        for d, v in daily.items()
        if first - timedelta(weeks=BASELINE_WEEKS) <= d < first
    }
    out.traffic_index = kpis.traffic_index(
        out.visitors, kpis.weekday_baseline(history, kpis.days_between(first, last))
    )
    out.growth_momentum = kpis.growth_momentum({d: float(v) for d, v in daily.items()}, last)
    out.capture_rate = kpis.capture_rate(out.visitors, out.passersby) if out.has_entrances else None

    out.transactions, out.revenue = inp.transactions, inp.revenue
    # no sale imported for the period: "–" like the average basket, not a 0 % that would
    # say nobody bought (a store that imports its till has transactions every open day)
    sold = out.transactions > 0
    out.sales_conversion = kpis.sales_conversion(out.transactions, out.visitors) if sold else None
    out.average_basket = kpis.average_basket(out.revenue, out.transactions)
    out.sales_per_visitor = kpis.sales_per_visitor(out.revenue, out.visitors) if sold else None

    people = inp.people
    duty_store, duty_zone = inp.duty_store, inp.duty_zone
    out.queues = inp.queues
    waits_by_hour: dict[float, list[tuple[int, float]]] = defaultdict(list)
    for q in out.queues:
        for h, nm in q.by_hour.items():
            waits_by_hour[h].append(nm)

    def store_wait(h: float) -> float | None:
        nm = waits_by_hour.get(h)
        if not nm:
            return None
        n = sum(c for c, _ in nm)
        return sum(c * m for c, m in nm) / n if n else None

    def on_duty(h: float) -> int | None:
        sched = p.schedule(*_local_hour(h, tz))
        if sched is not None:
            return sched
        return duty_store.get(h, 0)

    for h in sorted(set(period_foot) | set(people)):
        visitors, passers = period_foot.get(h, (0, 0))
        duty = on_duty(h)
        cong = kpis.congestion(people.get(h, 0), p.capacity)
        adequacy = kpis.staffing_adequacy(duty or 0, visitors, p.visitors_per_salesperson)
        wait = store_wait(h)
        out.hours.append(
            HourKpis(
                h, visitors, passers, people.get(h, 0), duty, wait, cong,
                kpis.utilisation(visitors, p.capacity), adequacy,
                kpis.bottleneck_score(cong, wait, adequacy, p.wait_target_s),
            )
        )  # fmt: skip

    served_zones = {z for (_, z) in duty_zone}
    queue_by_zone_hour = {(h, q.zone): m for q in out.queues for h, (_, m) in q.by_hour.items()}
    per_zone = inp.zone_hours
    for (h, z), (entries, peak) in sorted(per_zone.items()):
        cong = kpis.congestion(peak, p.zone_capacity.get(z))
        wait = queue_by_zone_hour.get((h, z)) if z in p.queue_zones else None
        duty = duty_zone.get((h, z), 0) if z in served_zones else None
        adequacy = (
            kpis.staffing_adequacy(duty, entries, p.visitors_per_salesperson)
            if duty is not None
            else None
        )
        out.zone_hours.append(
            ZoneHour(h, z, entries, peak, wait, duty, cong, adequacy,
                     kpis.bottleneck_score(cong, wait, adequacy, p.wait_target_s))
        )  # fmt: skip

    congs = [h.congestion for h in out.hours if h.congestion is not None]
    utils = [h.utilisation for h in out.hours if h.visitors and h.utilisation is not None]
    out.congestion_peak = max(congs, default=None)
    out.congestion_mean = kpis.mean(congs)
    out.utilisation_peak = max(utils, default=None)
    out.utilisation_mean = kpis.mean(utils)
    adequate = [h.staffing_adequacy for h in out.hours if h.staffing_adequacy is not None]
    out.staffing_adequacy = kpis.mean(adequate)
    out.understaffed_hours = sum(a < 1.0 for a in adequate) if adequate else None
    scores = [kpis.HourScore(h.hour_start, STORE, h.bottleneck) for h in out.hours
              if h.bottleneck is not None]  # fmt: skip
    scores += [kpis.HourScore(z.hour_start, z.zone, z.bottleneck) for z in out.zone_hours
               if z.bottleneck is not None]  # fmt: skip
    worst = kpis.worst_hour(scores)
    out.bottleneck_worst = (
        None if worst is None else Worst(worst.hour_start, worst.zone, worst.score)
    )
    n_waits = sum(q.waits for q in out.queues)
    out.mean_queue_wait_s = (
        sum((q.mean_wait_s or 0.0) * q.waits for q in out.queues) / n_waits if n_waits else None
    )
    measured = [q for q in out.queues if q.abandoned is not None]
    out.abandonment = kpis.abandonment(
        sum(q.abandoned or 0 for q in measured), sum(q.waits for q in measured)
    )
    return out


@dataclass(frozen=True)
class Compared:
    """A period with the period just before (same length) and the same days 52 weeks
    earlier, each only when the store has data then."""

    current: PeriodKpis
    previous: PeriodKpis | None
    last_year: PeriodKpis | None


def compared(
    s: Session, p: KpiParams, first: date, last: date, *, direct: bool = False
) -> Compared:
    """The period with its comparisons (`direct`: without the per-day cache)."""
    period_kpis_ = period_kpis_direct if direct else period_kpis
    n = (last - first).days + 1
    since = first_data_day(s, p.tz)
    prev_first, prev_last = first - timedelta(days=n), first - timedelta(days=1)
    ly_first, ly_last = first - LAST_YEAR, last - LAST_YEAR
    cur = period_kpis_(s, p, first, last)
    prev = (
        period_kpis_(s, p, prev_first, prev_last, zones=False)
        if since is not None and since <= prev_last
        else None
    )
    ly = (
        period_kpis_(s, p, ly_first, ly_last, zones=False)
        if since is not None and since <= ly_last
        else None
    )
    return Compared(cur, prev, ly)
