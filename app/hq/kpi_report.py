"""KPIs per store and chain-wide for a period, with the previous period and the same
period last year: the dashboard's KPI page, its API and its CSV export.

Previous period: the same number of days just before. Last year: the period moved back
364 days (52 weeks), so that weekdays line up. Traffic index: kpis.traffic_index with
the weekday baseline of the 8 weeks before the period. Growth momentum: app/kpis.py's
slope of daily visitors over the 28 days up to the period's end (% per week).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from app import kpis as shared_kpis
from app.csv_cells import neutralise
from app.hq import kpi_hours, kpis
from app.hq.dash_queries import (
    StoreInfo,
    Totals,
    expected_footfall,
    period_totals,
    store_series,
)

LAST_YEAR = timedelta(days=364)
MAX_DAYS = 732


class PeriodError(ValueError):
    """A period the dashboard refuses; one line for a person."""


def parse_period(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the 28 days up to yesterday."""
    try:
        b = date.fromisoformat(last) if last else today - timedelta(days=1)
        a = date.fromisoformat(first) if first else b - timedelta(days=27)
    except ValueError:
        raise PeriodError("dates are YYYY-MM-DD") from None
    if b < a:
        raise PeriodError("the period ends before it starts")
    if (b - a).days >= MAX_DAYS:
        raise PeriodError(f"ask for at most {MAX_DAYS} days")
    if a.year < 2000 or b.year > 2999:
        raise PeriodError("dates between 2000 and 2999 only")
    return a, b


@dataclass(frozen=True)
class KpiRow:
    store_id: str
    name: str
    region: str
    visitors: int
    visitors_prev: int
    visitors_last_year: int
    visitors_vs_prev: float | None
    visitors_vs_last_year: float | None
    traffic_index: float | None
    capture_rate: float | None
    capture_rate_prev: float | None
    capture_rate_last_year: float | None
    conversion: float | None
    conversion_prev: float | None
    conversion_last_year: float | None
    transactions: int
    revenue: float
    revenue_vs_prev: float | None
    revenue_vs_last_year: float | None
    utilisation: float | None
    congestion: float | None
    growth_momentum: float | None
    # from the stores' hourly KPIs (app/hq/kpi_hours.py)
    staffing_adequacy: float | None = None
    understaffed_hours: int | None = None
    bottleneck: float | None = None
    bottleneck_zone: str = ""
    bottleneck_hour: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


COLUMNS: tuple[str, ...] = tuple(KpiRow.__dataclass_fields__)
PERCENT = frozenset(c for c in COLUMNS if c.startswith(("capture", "conversion", "utilis", "congest", "staffing"))
                    or c.endswith(("_vs_prev", "_vs_last_year")) or c == "growth_momentum")  # fmt: skip


def _row(
    sid: str, name: str, region: str, t: dict[str, Totals], exp: float | None,
    capacity: int | None, momentum: float | None,
) -> KpiRow:  # fmt: skip
    cur, prev, ly = t["cur"], t["prev"], t["ly"]
    return KpiRow(
        store_id=sid, name=name, region=region,
        visitors=cur.footfall, visitors_prev=prev.footfall, visitors_last_year=ly.footfall,
        visitors_vs_prev=kpis.change(cur.footfall, prev.footfall),
        visitors_vs_last_year=kpis.change(cur.footfall, ly.footfall),
        traffic_index=kpis.traffic_index(cur.footfall, exp),
        capture_rate=kpis.capture_rate(cur.footfall, cur.passersby),
        capture_rate_prev=kpis.capture_rate(prev.footfall, prev.passersby),
        capture_rate_last_year=kpis.capture_rate(ly.footfall, ly.passersby),
        conversion=kpis.sales_conversion(cur.transactions, cur.footfall),
        conversion_prev=kpis.sales_conversion(prev.transactions, prev.footfall),
        conversion_last_year=kpis.sales_conversion(ly.transactions, ly.footfall),
        transactions=cur.transactions, revenue=round(cur.revenue, 2),
        revenue_vs_prev=kpis.change(cur.revenue, prev.revenue),
        revenue_vs_last_year=kpis.change(cur.revenue, ly.revenue),
        utilisation=kpis.utilisation(cur.occupancy_peak, capacity),
        congestion=kpis.ratio(cur.busy_days, cur.days) if capacity else None,
        growth_momentum=momentum,
    )  # fmt: skip


def report(
    engine: Engine, stores: Sequence[StoreInfo], a: date, b: date
) -> tuple[list[KpiRow], KpiRow]:
    """Per-store rows (in `stores` order) and the chain-wide row over those stores."""
    ids = [s.store_id for s in stores]
    n = (b - a).days + 1
    periods = {
        "cur": (a, b),
        "prev": (a - timedelta(days=n), a - timedelta(days=1)),
        "ly": (a - LAST_YEAR, b - LAST_YEAR),
    }
    totals = {k: period_totals(engine, ids, *p) for k, p in periods.items()}
    expected = expected_footfall(engine, ids, a, b)
    hourly = kpi_hours.per_store(engine, ids, a, b)
    # growth momentum (app/kpis.py): the slope of daily visitors over the 4 weeks to b
    series = store_series(engine, ids, b - timedelta(days=27), b)
    chain_daily: dict[date, float] = {}
    for daily in series.values():
        for d, v in daily.items():
            chain_daily[d] = chain_daily.get(d, 0.0) + v
    rows = [
        _with_hours(_row(
            s.store_id, s.name, s.region,
            {k: totals[k].get(s.store_id, Totals()) for k in periods},
            expected.get(s.store_id), s.capacity,
            shared_kpis.growth_momentum(series.get(s.store_id, {}), b),
        ), hourly.get(s.store_id, kpi_hours.StaffingBottleneck()))
        for s in stores
    ]  # fmt: skip
    chain_t = {k: sum(totals[k].values(), Totals()) for k in periods}
    chain_exp = sum(expected.values()) if len(expected) == len(ids) and ids else None
    chain = _row("(chain)", f"{len(ids)} stores", "", chain_t, chain_exp, None,
                 shared_kpis.growth_momentum(chain_daily, b))  # fmt: skip
    return rows, _with_hours(chain, kpi_hours.chain(list(hourly.values())))


def _with_hours(row: KpiRow, h: kpi_hours.StaffingBottleneck) -> KpiRow:
    return replace(
        row, staffing_adequacy=h.staffing_adequacy, understaffed_hours=h.understaffed_hours,
        bottleneck=h.bottleneck, bottleneck_zone=h.bottleneck_zone,
        bottleneck_hour=h.bottleneck_hour,
    )  # fmt: skip


def sort_rows(rows: list[KpiRow], key: str, descending: bool = True) -> list[KpiRow]:
    """Rank by a column; stores without a value go last."""
    if key not in COLUMNS:
        key = "visitors"
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    return sorted(present, key=lambda r: getattr(r, key), reverse=descending) + missing


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula: text starting with
    = + - @ tab or CR gets a leading apostrophe (numbers are written as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(round(value, 4)) if isinstance(value, float) else str(value)
    return neutralise(str(value))


def to_csv(rows: Sequence[KpiRow], chain: KpiRow) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in [*rows, chain]:
        w.writerow([safe_cell(getattr(r, c)) for c in COLUMNS])
    return buf.getvalue()
