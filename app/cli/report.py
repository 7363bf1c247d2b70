"""`python main.py report ...`: the store's analytics without a window.

    report kpis [--from D] [--to D] [--json] [--db FILE] [--config FILE]
    report weekly [--week-of D] [--out FILE]
    report heatmap --camera NAME [--from D] [--to D] [--hours 9-12] --out FILE.png

`kpis` prints every KPI of app/kpis.py for the local days D..D (default: the last 7
days up to yesterday), with the previous period and the same period last year where
the store has data; `--json` prints the whole result (hours, zones, queues) as JSON.
`weekly` writes the weekly HTML report (by default into the data folder's reports/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app import kpis
from app.cli import report_heatmap
from app.cli.main import load_settings, parse_day
from app.errors import CliError

LABELS = {
    "visitors": ("Visitors", "n"),
    "passersby": ("Passers-by", "n"),
    "transactions": ("POS transactions", "n"),
    "revenue": ("Revenue", "money"),
    "traffic_index": ("Traffic index", "x"),
    "capture_rate": ("Capture rate", "%"),
    "sales_conversion": ("Sales conversion", "%"),
    "average_basket": ("Average basket", "money"),
    "sales_per_visitor": ("Sales per visitor", "money"),
    "congestion_peak": ("Congestion: people in ÷ capacity (worst hour)", "%"),
    "congestion_mean": ("Congestion: people in ÷ capacity (mean hour)", "%"),
    "utilisation_peak": ("Utilisation: entries an hour ÷ capacity (busiest hour)", "%"),
    "utilisation_mean": ("Utilisation: entries an hour ÷ capacity (mean open hour)", "%"),
    "growth_momentum": ("Growth momentum (per week)", "+%"),
    "staffing_adequacy": ("Staffing adequacy (mean hour)", "%"),
    "understaffed_hours": ("Understaffed hours", "n"),
    "mean_queue_wait_s": ("Mean queue wait", "s"),
    "abandonment": ("Queue abandonment", "%"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML/JSON)")
    sub = parser.add_subparsers(dest="action", required=True)
    k = sub.add_parser("kpis", help="every KPI of a period, vs before and last year")
    k.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (default: 7 days ago)")
    k.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: yesterday)")
    k.add_argument("--json", action="store_true", help="print everything as JSON")
    w = sub.add_parser("weekly", help="write the weekly HTML report")
    w.add_argument("--week-of", help="a day of the week to report (default: last week)")
    w.add_argument("--out", type=Path, help="the HTML file (default: data folder/reports/)")
    report_heatmap.add_parser(sub)


def _when(ts: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%a %Y-%m-%d %H:00")


def print_kpis(c: Any, tz: ZoneInfo, took: float) -> None:
    cur, prev, ly = c.current, c.previous, c.last_year
    print(f"KPIs {cur.first} to {cur.last}  (previous: "
          f"{f'{prev.first} to {prev.last}' if prev else 'no data'}; last year: "
          f"{f'{ly.first} to {ly.last}' if ly else 'no data'})")  # fmt: skip
    print(f"{'':32}{'period':>14}{'previous':>14}{'last year':>14}")
    for key, (label, kind) in LABELS.items():
        row = [kpis.shown(getattr(p, key), kind) if p else "–" for p in (cur, prev, ly)]
        print(f"{label:32}{row[0]:>14}{row[1]:>14}{row[2]:>14}")
    if cur.staff_seen:
        print(f"Staff seen (recognised, left out of every count): {cur.staff_seen:,}")
    w = cur.bottleneck_worst
    if w is None:
        print("Bottleneck: – (needs a capacity, a queue area or a staffing target)")
    else:
        print(
            f"Bottleneck: worst hour {_when(w.hour_start, tz)}, {w.zone}, score {w.score:.0f}/100"
        )
    for q in cur.queues:
        aband = kpis.shown(q.abandonment, "%") if q.abandoned is not None else "– (no service zone set)"
        print(f"Queue {q.zone}: {q.waits} waits, mean {kpis.shown(q.mean_wait_s, 's')}, "
              f"abandonment {aband}, {q.alerts} alerts")  # fmt: skip
    print(f"(computed in {took * 1000:.0f} ms)")


def _kpis(store: Any, cfg: Any, args: argparse.Namespace) -> int:
    from app.store import kpi_cache
    from app.store import kpi_queries as kq

    params = kq.KpiParams.from_config(cfg)
    today = dt.datetime.now(params.tz).date()
    last = parse_day(args.date_to, today - dt.timedelta(days=1))
    first = parse_day(args.date_from, last - dt.timedelta(days=6))
    if last < first:
        raise CliError("--to is before --from")
    if (last - first).days > 731:
        raise CliError("ask for at most two years")
    kpi_cache.warm_compared(store, params, first, last)  # closed days: computed once
    t0 = time.perf_counter()
    with store.read_session() as s:
        c = kq.compared(s, params, first, last)
    took = time.perf_counter() - t0
    if args.json:
        out = {
            "store": cfg.store.name,
            "timezone": cfg.store.timezone,
            "period": c.current.as_json(params.tz),
            "previous": c.previous.as_json(params.tz) if c.previous else None,
            "last_year": c.last_year.as_json(params.tz) if c.last_year else None,
        }
        print(json.dumps(out, indent=1, default=str))
    else:
        print_kpis(c, params.tz, took)
        from app.ui.kpi_hints import missing_settings  # no Qt

        for h in missing_settings(cfg, c.current):
            print(f"Setting wanted: {h.text}: in config.toml [kpis], {h.toml()} "
                  "(or Settings > Store figures)")  # fmt: skip
    return 0


def _weekly(store: Any, cfg: Any, args: argparse.Namespace) -> int:
    from app.store.weekly_report import write as write_weekly

    tz = ZoneInfo(cfg.store.timezone)
    today = dt.datetime.now(tz).date()
    day = parse_day(args.week_of, today - dt.timedelta(days=7))
    try:
        path = write_weekly(store, cfg, day, args.out)
    except OSError as exc:
        raise CliError(f"cannot write the weekly report: {exc.strerror or exc}") from None
    print(f"weekly report written to {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    from app.cli.store import with_passphrase
    from app.store.db import default_path, open_store

    path = args.db or default_path()
    if args.db is not None and not path.exists():
        raise CliError(f"no store at {path}")
    store = with_passphrase(lambda pp: open_store(path, pp))
    try:
        cfg = load_settings(args.config, store)
        actions = {"kpis": _kpis, "weekly": _weekly, "heatmap": report_heatmap.run_heatmap}
        return actions[args.action](store, cfg, args)
    finally:
        store.close()
