"""The weekly report: one self-contained HTML file per store and week (Monday to Sunday)
with the week's KPIs against the week before and the same week last year, the daily
visitors, the hourly congestion and staffing, the zones and the queues. Charts are
inline SVG (no script, no network): the file opens in any browser and prints.

Written on demand (`python main.py report weekly`, the desktop's Analytics page) and on
schedule: `WeeklyReportScheduler` checks daily and writes last week's report into
<data folder>/reports/ when it is not there yet.
"""

from __future__ import annotations

import html
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import kpis
from app.config import AppConfig
from app.paths import data_dir
from app.store import figures, kpi_cache
from app.store import kpi_queries as kq
from app.store.fileperms import write_private
from app.store.periodic import PeriodicJob

log = logging.getLogger(__name__)

ROWS: tuple[tuple[str, str, str], ...] = (
    ("visitors", "Visitors", "n"), ("capture_rate", "Capture rate", "%"),
    ("traffic_index", "Traffic index", "x"), ("transactions", "POS transactions", "n"),
    ("sales_conversion", "Sales conversion", "%"), ("average_basket", "Average basket", "money"),
    ("sales_per_visitor", "Sales per visitor", "money"), ("revenue", "Revenue", "money"),
    ("congestion_peak", "Congestion, worst hour", "%"),
    ("utilisation_mean", "Utilisation, mean open hour", "%"),
    ("growth_momentum", "Growth momentum per week", "+%"),
    ("staffing_adequacy", "Staffing adequacy", "%"),
    ("understaffed_hours", "Understaffed hours", "n"),
    ("mean_queue_wait_s", "Mean queue wait", "s"), ("abandonment", "Queue abandonment", "%"),
)  # fmt: skip


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def default_path(first: date) -> Path:
    return data_dir() / "reports" / f"weekly-{first.isoformat()}.html"


def bars_svg(values: list[float], labels: list[str], *, line: list[float] | None = None,
             width: int = 640, height: int = 180, color: str = "#2f6fde") -> str:  # fmt: skip
    """A bar chart (and an optional comparison line) as inline SVG."""
    n = max(1, len(values))
    top = max([*values, *(line or []), 1.0])
    bw = (width - 40) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 24}" '
             f'role="img">']  # fmt: skip
    for i, v in enumerate(values):
        h = (height - 10) * v / top
        x = 30 + i * bw
        parts.append(f'<rect x="{x + 2:.1f}" y="{height - h:.1f}" width="{max(bw - 4, 1):.1f}" '
                     f'height="{h:.1f}" fill="{color}"><title>{html.escape(labels[i])}: '
                     f"{v:g}</title></rect>")  # fmt: skip
        if n <= 31 or i % 2 == 0:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{height + 16}" font-size="10" '
                         f'text-anchor="middle">{html.escape(labels[i])}</text>')  # fmt: skip
    if line:
        pts = " ".join(
            f"{30 + i * bw + bw / 2:.1f},{height - (height - 10) * v / top:.1f}"
            for i, v in enumerate(line)
        )
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#e0762b" stroke-width="2"/>')
    parts.append(f'<text x="0" y="12" font-size="10">{top:g}</text></svg>')
    return "".join(parts)


def render(cfg: AppConfig, c: kq.Compared, zones: dict[str, figures.ZoneFigures]) -> str:
    cur, prev, ly = c.current, c.previous, c.last_year
    tz = kq.KpiParams.from_config(cfg).tz
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td>{kpis.shown(getattr(cur, k), kind)}</td>"
        f"<td>{kpis.shown(getattr(prev, k), kind) if prev else '–'}</td>"
        f"<td>{kpis.shown(getattr(ly, k), kind) if ly else '–'}</td></tr>"
        for k, label, kind in ROWS
    )
    days = kq.kpis.days_between(cur.first, cur.last)
    daily = [float(cur.daily_visitors.get(d, 0)) for d in days]
    prev_daily = (
        [float(prev.daily_visitors.get(d - timedelta(days=len(days)), 0)) for d in days]
        if prev else None
    )  # fmt: skip
    by_hour: dict[int, float] = {}
    for h in cur.hours:
        hr = datetime.fromtimestamp(h.hour_start, tz).hour
        by_hour[hr] = max(by_hour.get(hr, 0.0), (h.congestion or 0.0) * 100)
    hours = sorted(by_hour)
    w = cur.bottleneck_worst
    worst = (
        f"{datetime.fromtimestamp(w.hour_start, tz):%a %d %b %H:00}, {esc(w.zone)} "
        f"(score {w.score:.0f}/100)" if w else "– (needs a capacity, a queue area or a staffing target)"
    )  # fmt: skip
    zone_rows = "".join(
        f"<tr><td>{esc(z.zone)}</td><td>{z.zone_entries}</td><td>{z.finished_visits}</td>"
        f"<td>{z.mean_dwell_s:.0f}</td></tr>"
        for z in zones.values()
    )
    queue_rows = "".join(
        f"<tr><td>{esc(q.zone)}</td><td>{q.waits}</td><td>{kpis.shown(q.mean_wait_s, 's')}</td>"
        f"<td>{kpis.shown(q.abandonment, '%')}</td><td>{q.alerts}</td></tr>"
        for q in cur.queues
    )
    tip = figures.FIGURES
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(cfg.store.name)}: week of {cur.first}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1d2330;max-width:760px}}
table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{padding:4px 10px;border-bottom:1px solid #dde;text-align:right}}
td:first-child,th:first-child{{text-align:left}}h2{{margin-top:28px}}.muted{{color:#667}}</style>
</head><body>
<h1>{esc(cfg.store.name)}: week {cur.first} to {cur.last}</h1>
<p class="muted">Previous: {f"{prev.first} to {prev.last}" if prev else "no data"};
last year: {f"{ly.first} to {ly.last}" if ly else "no data"}. Generated
{datetime.now(tz):%Y-%m-%d %H:%M} by Vitrine. KPI definitions: README "Store analytics".</p>
<h2>KPIs</h2>
<table><tr><th></th><th>This week</th><th>Week before</th><th>Last year</th></tr>{rows}</table>
<p><b>Worst hour (bottleneck):</b> {worst}</p>
<h2>Visitors per day</h2>
<p class="muted">Bars: this week; line: the week before.</p>
{bars_svg(daily, [f"{d:%a %d}" for d in days], line=prev_daily)}
<h2>Congestion per hour of day (worst day, % of capacity)</h2>
{bars_svg([by_hour[h] for h in hours], [f"{h}h" for h in hours], color="#c2453c") if hours else "<p>–</p>"}
<h2>Zones</h2>
<table><tr><th>Zone</th><th title="{esc(tip["zone_entries"].tooltip)}">Zone entries</th>
<th title="{esc(tip["finished_visits"].tooltip)}">Finished visits</th><th>Mean dwell (s)</th></tr>
{zone_rows}</table>
<h2>Queues</h2>
{f"<table><tr><th>Queue area</th><th>Waits</th><th>Mean wait (s)</th><th>Abandonment</th><th>Alerts</th></tr>{queue_rows}</table>" if queue_rows else '<p class="muted">No queue area is drawn.</p>'}
</body></html>
"""


def build(store: Any, cfg: AppConfig, day: date) -> tuple[date, str]:
    """The HTML of the week (Monday to Sunday) holding `day`."""
    first, last = week_of(day)
    params = kq.KpiParams.from_config(cfg)
    kpi_cache.warm_compared(store, params, first, last)
    with store.read_session() as s:
        c = kq.compared(s, params, first, last)
        start = kq.day_start(first, params.tz)
        zones = figures.zone_figures(s, start, kq.day_start(last + timedelta(days=1), params.tz))
    return first, render(cfg, c, zones)


def write(store: Any, cfg: AppConfig, day: date, path: Path | None = None) -> Path:
    """Write the weekly report of the week holding `day` (private file, atomically)."""
    first, text = build(store, cfg, day)
    out = path or default_path(first)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_private(out, text.encode("utf-8"))
    return out


def write_last_week_if_missing(store: Any, cfg: AppConfig, today: date) -> Path | None:
    """The scheduled job: last week's report, unless it was written already or the
    store has no data from that week or before."""
    first, last = week_of(today - timedelta(days=7))
    path = default_path(first)
    if path.exists():
        return None
    with store.read_session() as s:  # a store without data that week: no empty report
        since = kq.first_data_day(s, kq.KpiParams.from_config(cfg).tz)
    if since is None or since > last:
        return None
    return write(store, cfg, first, path)


class WeeklyReportScheduler(PeriodicJob):
    """Checks once at start and then every `interval_s`; writes last week's report when
    it is missing (the machine may have been off on Monday)."""

    name = "weekly-report"
    failure = "the weekly report could not be written"

    def __init__(self, store: Any, cfg: AppConfig, interval_s: float = 6 * 3600) -> None:
        super().__init__(interval_s)
        self.store, self.cfg = store, cfg
        self.written: list[Path] = []

    def start(self) -> None:
        if self.cfg.kpis.weekly_report:
            super().start()

    def tick(self) -> None:
        tz = kq.KpiParams.from_config(self.cfg).tz
        p = write_last_week_if_missing(self.store, self.cfg, datetime.now(tz).date())
        if p is not None:
            self.written.append(p)
            log.info("weekly report written to %s", p)
