"""Sales reports: what was shown versus what was bought, per item and category,
salesperson and zone. Each takes a `ReportFilter` (date range, zones, salespeople) and
reads indexed tables and the 15-minute rollups; `export_csv` writes any of them.

Definitions (one place, so the three reports agree):
- services in scope: service sessions started in [start, end), in the chosen zones, by
  the chosen salespeople (no choice = all);
- shown: a service that scanned the item (scanning it twice in one service is one
  showing);
- bought: purchase lines of the item in [start, end); with a zone or salesperson filter
  only those linked to a service in scope (others have no zone or salesperson);
- conversion (items): showings followed by a linked purchase of that item / showings;
- conversion (salespeople, zones): services with at least one linked purchase / services;
- revenue: amount of the purchase lines counted as bought (items), or linked to the
  services in scope (salespeople, zones);
- zone entries and mean dwell (zones): app/store/figures.py (zone entries; the mean
  over the finished visits).
- services (one row each): items shown and value shown count each item once per
  service (the tablet's rule: scanned twice is one item, shown "x2"), value at catalogue
  prices; outcome and note as the salesperson gave them on the tablet.

The rows keep numbers (conversion 0..1, durations in seconds): `export_csv` writes them
so, with column titles that say "(s)", and an empty cell for a conversion over no
showing or service (there is no rate, not a rate of 0). People read them through `shown_fields`,
`shown_header` and `shown_cell` (the desktop's tables, the CLI): no internal id,
durations as m:ss, conversion in %, and "–" for a conversion over no showing or service.

Plans: the queries lean on the covering indexes of schema revision 0003
(item_scans(session_id, barcode), purchases(session_id, barcode, amount),
purchases(ts, barcode, amount), purchases(barcode, ts, amount)) and are shaped so that
SQLite picks good plans with or without planner statistics (`Store.optimize()` runs
PRAGMA optimize daily): no GROUP BY that an index order could tempt it to satisfy by
walking a whole table. `python bench/bench_sales_reports.py` times them.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, distinct, func, select
from sqlalchemy.orm import Session

from app.csv_cells import neutralise
from app.store import figures, reports
from app.store.models import (
    SERVICE_OUTCOMES,
    ItemScan,
    Product,
    Purchase,
    Salesperson,
    ServiceSession,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFilter:
    start: float  # epoch seconds, inclusive
    end: float  # epoch seconds, exclusive
    zones: tuple[str, ...] = ()
    salesperson_ids: tuple[int, ...] = ()

    @property
    def narrowed(self) -> bool:
        return bool(self.zones or self.salesperson_ids)


@dataclass(frozen=True)
class DayRow:
    """One day of the store's footfall (the dashboard's figures, for past days too)."""

    day: str  # the store's local date, e.g. "2026-12-04 Fri"
    entries: int
    passersby: int
    capture_rate: float | None  # entries / (entries + passers-by); None without entrances
    visits: int
    mean_dwell_s: float


@dataclass(frozen=True)
class ItemRow:
    barcode: str
    name: str
    category: str
    times_shown: int
    times_bought: int
    bought_after_service: int
    conversion: float
    revenue: float


@dataclass(frozen=True)
class CategoryRow:
    category: str
    times_shown: int
    times_bought: int
    bought_after_service: int
    conversion: float
    revenue: float


@dataclass(frozen=True)
class SalespersonRow:
    salesperson_id: int
    name: str
    sessions: int
    avg_duration_s: float
    items_per_session: float
    conversion: float
    revenue: float


@dataclass(frozen=True)
class ZoneRow:
    zone: str
    visitors: int
    services: int
    services_per_visitor: float
    conversion: float
    revenue: float
    mean_dwell_s: float


def footfall_report(s: Session, f: ReportFilter, tz: ZoneInfo) -> list[DayRow]:
    """The store's footfall day by day over the filter's dates (the store's local days;
    zone and salesperson filters do not apply: footfall is the whole store's). Days
    with nobody counted are left out."""
    first = datetime.fromtimestamp(f.start, tz).date()
    last = datetime.fromtimestamp(f.end - 1, tz).date()
    out: list[DayRow] = []
    day = first
    while day <= last:
        t = reports.day_totals(s, day, tz)
        if t.entries or t.passersby or t.visits:
            out.append(
                DayRow(
                    day.strftime("%Y-%m-%d %a"),
                    t.entries,
                    t.passersby,
                    None if t.capture_rate is None else round(t.capture_rate, 4),
                    t.visits,
                    round(t.avg_dwell_s, 1),
                )
            )
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class ServiceRow:
    """One service, as the salesperson left it on the tablet."""

    started: str  # the store's local time, e.g. "2026-12-04 14:05"
    salesperson: str
    zone: str
    duration_s: float
    items_shown: int
    value_shown: float
    outcome: str
    note: str


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def _scope(f: ReportFilter) -> Any:
    q = select(
        ServiceSession.id.label("id"),
        ServiceSession.salesperson_id.label("sp"),
        ServiceSession.zone.label("zone"),
        ServiceSession.started_at.label("started"),
        ServiceSession.ended_at.label("ended"),
    ).where(ServiceSession.started_at >= f.start, ServiceSession.started_at < f.end)
    if f.zones:
        q = q.where(ServiceSession.zone.in_(f.zones))
    if f.salesperson_ids:
        q = q.where(ServiceSession.salesperson_id.in_(f.salesperson_ids))
    return q.subquery("scope")


def item_report(s: Session, f: ReportFilter) -> list[ItemRow]:
    scope = _scope(f)
    # one pass over the scans in scope: each (service, item) showing, and whether that
    # service has a linked purchase of the same item
    # EXISTS (SELECT purchases.session_id ...), not SELECT *: answered from the index
    bought_it = (
        select(Purchase.session_id)
        .where(Purchase.session_id == ItemScan.session_id, Purchase.barcode == ItemScan.barcode)
        .correlate(ItemScan)
        .exists()
    )
    # a semi-join: item_scans(session_id, barcode) is read in index order, so the pairs
    # need no sort (see the module doc on plans)
    pairs = (
        select(ItemScan.barcode.label("barcode"), bought_it.label("conv"))
        .where(ItemScan.session_id.in_(select(scope.c.id)))
        .group_by(ItemScan.session_id, ItemScan.barcode)
        .subquery("pairs")
    )
    shown_n: dict[str, int] = {}
    converted: dict[str, int] = {}
    for b, n, conv in s.execute(
        select(pairs.c.barcode, func.count(), func.sum(pairs.c.conv, type_=Integer)).group_by(
            pairs.c.barcode
        )
    ):
        shown_n[b], converted[b] = int(n), int(conv or 0)
    linked = _linked_by_barcode(s, scope)
    if f.narrowed:
        bought = linked
    else:
        bought = {
            b: (int(n), float(a or 0))
            for b, n, a in s.execute(
                select(Purchase.barcode, func.count(), func.sum(Purchase.amount))
                .where(Purchase.ts >= f.start, Purchase.ts < f.end)
                .group_by(Purchase.barcode)
            ).all()
        }
    codes = sorted(set(shown_n) | set(bought))
    names = _product_names(s, codes)
    rows = []
    for b in codes:
        name, cat = names.get(b, ("", ""))
        n_shown = int(shown_n.get(b, 0))
        rows.append(
            ItemRow(
                b,
                name,
                cat,
                n_shown,
                bought.get(b, (0, 0.0))[0],
                linked.get(b, (0, 0.0))[0],
                _ratio(converted.get(b, 0), n_shown),
                round(bought.get(b, (0, 0.0))[1], 2),
            )
        )
    rows.sort(key=lambda r: (-r.times_shown, -r.revenue, r.barcode))
    return rows


def _linked_by_barcode(s: Session, scope: Any) -> dict[str, tuple[int, float]]:
    """{barcode: (lines, amount)} of the purchases linked to services in scope. Summed
    here rather than with GROUP BY barcode: given statistics, SQLite would rather walk
    all purchases in barcode order than sort the few linked ones."""
    out: dict[str, tuple[int, float]] = {}
    q = select(Purchase.barcode, Purchase.amount).join(scope, scope.c.id == Purchase.session_id)
    for b, a in s.execute(q):
        n, total = out.get(b, (0, 0.0))
        out[b] = (n + 1, total + float(a or 0))
    return out


def _product_names(s: Session, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(codes), 500):
        q = select(Product.barcode, Product.name, Product.category).where(
            Product.barcode.in_(codes[i : i + 500])
        )
        out.update({b: (n, c) for b, n, c in s.execute(q).all()})
    return out


def category_report(
    s: Session, f: ReportFilter, items: list[ItemRow] | None = None
) -> list[CategoryRow]:
    """Items grouped by category (items not in the catalog: '(unknown)'); pass the item
    report's rows if you have them, to save running it again."""
    acc: dict[str, list[float]] = {}
    for r in item_report(s, f) if items is None else items:
        a = acc.setdefault(r.category or "(unknown)", [0, 0, 0, 0.0, 0.0])
        a[0] += r.times_shown
        a[1] += r.times_bought
        a[2] += r.bought_after_service
        a[3] += r.conversion * r.times_shown
        a[4] += r.revenue
    rows = [
        CategoryRow(c, int(a[0]), int(a[1]), int(a[2]), _ratio(round(a[3]), a[0]), round(a[4], 2))
        for c, a in acc.items()
    ]
    rows.sort(key=lambda r: (-r.times_shown, -r.revenue, r.category))
    return rows


def _session_stats(s: Session, scope: Any, key: Any) -> dict[Any, dict[str, float]]:
    """Per `key` column of scope: sessions, ended duration sum/count, items, converted,
    revenue."""
    out: dict[Any, dict[str, float]] = {}
    q = select(
        key,
        func.count(),
        func.sum(scope.c.ended - scope.c.started),
        func.count(scope.c.ended),
    ).group_by(key)
    for k, n, dur, ended in s.execute(q).all():
        out[k] = {"sessions": n, "dur": float(dur or 0), "ended": ended}
    # items shown: distinct barcodes per service, counted per service from the
    # item_scans(session_id, barcode) index (no join back to the scope)
    per_session = (
        select(func.count(distinct(ItemScan.barcode)))
        .where(ItemScan.session_id == scope.c.id)
        .correlate(scope)
        .scalar_subquery()
    )
    q2 = select(key, func.sum(per_session)).group_by(key)
    for k, n in s.execute(q2).all():
        out.setdefault(k, {})["items"] = int(n or 0)
    q3 = (
        select(key, func.count(distinct(Purchase.session_id)), func.sum(Purchase.amount))
        .join(scope, scope.c.id == Purchase.session_id)
        .group_by(key)
    )
    for k, n, amount in s.execute(q3).all():
        out.setdefault(k, {}).update(converted=n, revenue=float(amount or 0))
    return out


def salesperson_report(s: Session, f: ReportFilter) -> list[SalespersonRow]:
    scope = _scope(f)
    stats = _session_stats(s, scope, scope.c.sp)
    names = {i: n for i, n in s.execute(select(Salesperson.id, Salesperson.name))}
    rows = []
    for sp, st in stats.items():
        n = st.get("sessions", 0)
        rows.append(
            SalespersonRow(
                int(sp),
                names.get(sp, f"#{sp}"),
                int(n),
                round(_ratio(st.get("dur", 0), st.get("ended", 0)), 1),
                _ratio(st.get("items", 0), n),
                _ratio(st.get("converted", 0), n),
                round(st.get("revenue", 0.0), 2),
            )
        )
    rows.sort(key=lambda r: (-r.revenue, -r.sessions, r.name))
    return rows


def zone_report(s: Session, f: ReportFilter) -> list[ZoneRow]:
    scope = _scope(f)
    stats = _session_stats(s, scope, scope.c.zone)
    figs = figures.zone_figures(s, f.start, f.end)
    if f.zones:
        figs = {z: v for z, v in figs.items() if z in f.zones}
    visits = {z: (v.zone_entries, v.dwell_sum_s, v.finished_visits) for z, v in figs.items()}
    rows = []
    for z in sorted(set(visits) | set(stats)):
        v, dwell, dn = visits.get(z, (0, 0.0, 0))
        st = stats.get(z, {})
        n = st.get("sessions", 0)
        rows.append(
            ZoneRow(
                z,
                v,
                int(n),
                _ratio(n, v),
                _ratio(st.get("converted", 0), n),
                round(st.get("revenue", 0.0), 2),
                round(_ratio(dwell, dn), 1),
            )
        )
    rows.sort(key=lambda r: (-r.visitors, r.zone))
    return rows


SERVICE_ROWS_MAX = 5000


def service_report(s: Session, f: ReportFilter, tz: ZoneInfo) -> list[ServiceRow]:
    """The services in scope, newest first (at most SERVICE_ROWS_MAX)."""
    scope = _scope(f)
    sessions = s.execute(
        select(
            ServiceSession.id,
            ServiceSession.salesperson_id,
            ServiceSession.zone,
            ServiceSession.started_at,
            ServiceSession.ended_at,
            ServiceSession.outcome,
            ServiceSession.note,
        )
        .where(ServiceSession.id.in_(select(scope.c.id)))
        .order_by(ServiceSession.started_at.desc())
        .limit(SERVICE_ROWS_MAX)
    ).all()
    ids = [r[0] for r in sessions]
    shown: dict[str, tuple[int, float]] = {}
    for i in range(0, len(ids), 500):
        pairs = (
            select(ItemScan.session_id.label("sid"), ItemScan.barcode.label("barcode"))
            .where(ItemScan.session_id.in_(ids[i : i + 500]))
            .distinct()
            .subquery("pairs")
        )
        q = (
            select(pairs.c.sid, func.count(), func.sum(func.coalesce(Product.price, 0.0)))
            .select_from(pairs)
            .outerjoin(Product, Product.barcode == pairs.c.barcode)
            .group_by(pairs.c.sid)
        )
        shown.update({sid: (int(n), float(v or 0)) for sid, n, v in s.execute(q)})
    names = {i: n for i, n in s.execute(select(Salesperson.id, Salesperson.name))}
    rows = []
    for sid, sp, zone, started, ended, outcome, note in sessions:
        n, value = shown.get(sid, (0, 0.0))
        rows.append(
            ServiceRow(
                datetime.fromtimestamp(started, tz).strftime("%Y-%m-%d %H:%M"),
                names.get(sp, f"#{sp}"),
                zone,
                round(max(0.0, ended - started), 1) if ended is not None else 0.0,
                n,
                round(value, 2),
                SERVICE_OUTCOMES.get(outcome or "", outcome or ""),
                note or "",
            )
        )
    return rows


HEADERS = {
    "day": "Day",
    "entries": "Entries",
    "passersby": "Passers-by",
    "capture_rate": "Capture rate",
    "visits": "Finished visits",
    "barcode": "Barcode",
    "name": "Name",
    "category": "Category",
    "times_shown": "Times shown",
    "times_bought": "Times bought",
    "bought_after_service": "Bought after a service",
    "conversion": "Conversion",
    "revenue": "Revenue",
    "salesperson_id": "Salesperson id",
    "sessions": "Services",
    "avg_duration_s": "Average duration (s)",
    "items_per_session": "Items shown per service",
    "zone": "Zone",
    "visitors": "Zone entries",
    "services": "Services",
    "services_per_visitor": "Services per zone entry",
    "mean_dwell_s": "Mean dwell (s)",
    "started": "Started",
    "salesperson": "Salesperson",
    "duration_s": "Duration (s)",
    "items_shown": "Items shown",
    "value_shown": "Value shown",
    "outcome": "Outcome",
    "note": "Note",
}


NO_RATE = "–"
# what each report's conversion is a share of: with none of it there is no rate
_RATE_BASE: dict[type, str] = {
    ItemRow: "times_shown",
    CategoryRow: "times_shown",
    SalespersonRow: "sessions",
    ZoneRow: "services",
}


def has_rate(row: Any) -> bool:
    """Whether a row's conversion is a rate: there was something to convert."""
    return bool(getattr(row, _RATE_BASE[type(row)]))


def shown_fields(kind: type) -> list[str]:
    """A report's columns as people read it: its fields but the internal id."""
    return [f.name for f in fields(kind) if f.name != "salesperson_id"]


def shown_header(name: str) -> str:
    """A column's title as people read it (durations are m:ss there, not seconds)."""
    return HEADERS.get(name, name).removesuffix(" (s)")


def shown_cell(row: Any, name: str) -> Any:
    """A value as people read it: conversion in % ("–" over nothing), durations m:ss,
    anything else as it is."""
    value = getattr(row, name)
    if name == "capture_rate":
        return NO_RATE if value is None else f"{value * 100:.0f} %"
    if name == "conversion":
        return f"{value * 100:.1f} %" if has_rate(row) else NO_RATE
    if name.endswith("_s"):
        m, sec = divmod(round(value), 60)
        return f"{m}:{sec:02d}"
    return value


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs: a text starting (after spaces)
    with = + - @ tab or CR gets a leading apostrophe. Numbers are left as they are."""
    return neutralise(value) if isinstance(value, str) else value


def export_csv(rows: Sequence[Any], path: str | Path, row_type: type | None = None) -> int:
    """Write report rows (dataclasses of one type) to a UTF-8 CSV; returns rows written.
    Text that a spreadsheet would run as a formula (a product named `=HYPERLINK(...)`)
    is written with a leading apostrophe (`safe_cell`), the same from the desktop and
    the command line."""
    kind = row_type or (type(rows[0]) if rows else None)
    if kind is None:
        raise ValueError("an empty report needs its row type to be exported")
    names = [f.name for f in fields(kind)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([safe_cell(HEADERS.get(n, n)) for n in names])
        for r in rows:
            d = asdict(r)
            if "conversion" in d and not has_rate(r):
                d["conversion"] = ""  # no rate: an empty cell, not 0.0
            w.writerow([safe_cell(d[n]) for n in names])
    log.info("report exported: %s rows to %s", len(rows), path)
    return len(rows)
