"""`python main.py report kpis` on a real store: the PETS clip analysed into it by
`analyze --store` (real models), POS sales imported by `sales pos`; and the dashboard,
Reports and the KPIs agreeing on the same figures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app.cli.main import main
from app.cli.report import LABELS
from app.config import AppConfig
from app.store import figures, kpi_queries, reports, sales_reports
from app.store.db import open_store
from tests.conftest import PETS_CLIP

CONFIG = {
    "lines": [{"name": "plaza", "start": [240, 60], "end": [240, 350]}],
    "zones": [
        {"name": "lawn", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]],
         "capacity": 4},
        {"name": "path", "kind": "queue",
         "polygon": [[250, 100], [470, 100], [470, 350], [250, 350]]},
    ],
    "kpis": {"capacity": 8, "visitors_per_salesperson": 3, "queue_service": {"path": "lawn"}},
}  # fmt: skip


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dt.date]:
    d = tmp_path_factory.mktemp("kpis")
    cfg, db = d / "cfg.json", d / "store.db"
    cfg.write_text(json.dumps(CONFIG), encoding="utf-8")
    rc = main(["analyze", str(PETS_CLIP), "--config", str(cfg), "--store", str(db),
               "--duration", "30", "--no-progress"])  # fmt: skip
    assert rc == 0
    with open_store(db, create=False) as store, store.read_session() as s:
        first = s.connection().exec_driver_sql("SELECT MIN(bucket_start) FROM rollups").scalar()
    day = dt.datetime.fromtimestamp(float(first or 0), dt.UTC).date()
    pos = d / "pos.csv"
    pos.write_text(
        "transaction_id,time,barcode,amount\n"
        f"T1,{day}T10:10:00,4006381333931,129.00\n"
        f"T1,{day}T10:10:00,5012345678900,21.00\n"
        f"T2,{day}T11:20:00,4006381333931,50\n",
        encoding="utf-8",
    )
    assert main(["sales", "--db", str(db), "--config", str(cfg), "pos", str(pos)]) == 0
    return db, cfg, day


def _report(filled: tuple[Path, Path, dt.date], *extra: str) -> list[str]:
    db, cfg, day = filled
    return ["report", "--db", str(db), "--config", str(cfg), "kpis",
            "--from", str(day), "--to", str(day), *extra]  # fmt: skip


@pytest.mark.slow
def test_report_kpis_json_holds_every_kpi_from_the_store(
    filled: tuple[Path, Path, dt.date], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, day = filled
    assert main(_report(filled, "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    period = out["period"]
    assert set(LABELS) <= set(period)
    with open_store(db, create=False) as store, store.read_session() as s:
        start = reports.to_epoch(day)
        totals = reports.day_totals(s, day)
        figs = figures.zone_figures(s, start, start + 86400)
    assert period["visitors"] == totals.entries >= 1  # the door line's in-crossings
    assert (period["transactions"], period["revenue"]) == (2, 200.0)
    assert period["sales_conversion"] == pytest.approx(round(2 / totals.entries, 4))
    assert period["average_basket"] == 100.0
    assert period["sales_per_visitor"] == pytest.approx(round(200 / totals.entries, 4))
    assert period["capture_rate"] is None  # no entrance: no passers-by to compare with
    assert period["traffic_index"] is None and period["growth_momentum"] is None  # no history
    # congestion: the hour's people in the store / capacity 8
    for h in period["hours"]:
        assert h["congestion"] == pytest.approx(round(h["people_peak"] / 8, 4))
        assert h["utilisation"] == pytest.approx(round(h["visitors"] / 8, 4))
    # the queue area's finished visits are its waits; abandonment needs the service zone
    (queue,) = period["queues"]
    assert queue["zone"] == "path" and queue["waits"] == figs["path"].finished_visits > 0
    assert 0.0 <= period["abandonment"] <= 1.0
    # nobody on a tablet: staffing adequacy 0 wherever visitors needed someone
    assert period["staffing_adequacy"] == 0.0 and period["understaffed_hours"] >= 1
    worst = period["bottleneck_worst"]
    assert worst is not None and worst["score"] == max(
        z["bottleneck"] for z in [*period["hours"], *period["zone_hours"]] if z["bottleneck"]
    )
    assert out["previous"] is None and out["last_year"] is None  # the store has no older data


@pytest.mark.slow
def test_report_kpis_prints_every_kpi(
    filled: tuple[Path, Path, dt.date], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_report(filled)) == 0
    text = capsys.readouterr().out
    for label, _ in LABELS.values():
        assert label in text
    assert "Bottleneck: worst hour" in text and "Queue path:" in text


@pytest.mark.slow
def test_dashboard_reports_and_kpis_count_the_same_visits(
    filled: tuple[Path, Path, dt.date],
) -> None:
    from app.ui.dashboard_data import load_dashboard

    db, cfg_path, day = filled
    cfg = AppConfig.model_validate(json.loads(cfg_path.read_text()))
    start = reports.to_epoch(day)
    with open_store(db, create=False) as store:
        data = load_dashboard(store, cfg, now=start + 12 * 3600)
        with store.read_session() as s:
            f = sales_reports.ReportFilter(start, start + 86400)
            zones = {r.zone: r for r in sales_reports.zone_report(s, f)}
            (day_row,) = sales_reports.footfall_report(s, f, reports.ZoneInfo("UTC"))
            k = kpi_queries.period_kpis(s, kpi_queries.KpiParams.from_config(cfg), day, day)
    # finished visits: the dashboard card and list, the histogram, Reports > Footfall
    assert sum(data.visits_by_zone.values()) == sum(data.dwell_hist) == day_row.visits > 0
    # zone entries: Reports > Zones and the KPIs' zone hours
    for zone, row in zones.items():
        assert row.visitors == sum(z.zone_entries for z in k.zone_hours if z.zone == zone)
    # entries: the dashboard card, Reports > Footfall and the KPIs
    assert data.entries == day_row.entries == k.visitors


def test_a_period_ending_before_it_starts_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    open_store(db).close()
    rc = main(["report", "--db", str(db), "kpis", "--from", "2026-12-05", "--to", "2026-12-01"])
    assert rc == 2
    assert "--to is before --from" in capsys.readouterr().err


@pytest.mark.slow
def test_the_weekly_report_on_demand_and_on_schedule(
    filled: tuple[Path, Path, dt.date], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.store import weekly_report

    db, cfg_path, day = filled
    out = tmp_path / "week.html"
    args = ["report", "--db", str(db), "--config", str(cfg_path), "weekly"]
    assert main([*args, "--week-of", str(day), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    monday = day - dt.timedelta(days=day.weekday())
    assert f"week {monday} to {monday + dt.timedelta(days=6)}" in page
    assert page.count("<svg") == 2 and "Sales conversion" in page and "Queue abandonment" in page
    assert ">path<" in page  # the queue area's row
    assert (out.stat().st_mode & 0o777) == 0o600
    # on schedule: last week's report into the data folder, once
    cfg = AppConfig.model_validate(json.loads(cfg_path.read_text()))
    later = day + dt.timedelta(days=7)
    with open_store(db, create=False) as store:
        written = weekly_report.write_last_week_if_missing(store, cfg, later)
        assert written is not None and written.name == f"weekly-{monday}.html"
        assert weekly_report.write_last_week_if_missing(store, cfg, later) is None
        # the engine's scheduler: the week before today has no data (the clip is today's)
        sched = weekly_report.WeeklyReportScheduler(store, cfg)
        sched.start()
        try:
            assert sched.ran.wait(60)
        finally:
            sched.stop()
    assert sched.written == []
