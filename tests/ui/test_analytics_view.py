"""The Analytics page on a real store with two weeks of known data: a chosen week with
the week before, every KPI card, the queue page, the journeys flow and funnel, the
bottlenecks, PNG and CSV exports, and the weekly report."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.config import AppConfig
from app.store.db import Store
from app.store.models import Purchase, Rollup, ServiceSession, ZoneVisit
from app.ui.analytics_view import AnalyticsView
from app.ui.periods import period_of

TZ = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 11, 16)
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
CFG = AppConfig.model_validate({
    "store": {"name": "Rue Test", "timezone": "Europe/Paris"},
    "zones": [{"name": z, "polygon": SQUARE, "kind": "queue" if z == "till" else "zone",
               "capacity": 6} for z in ("shoes", "bags", "till")],
    "kpis": {"capacity": 12, "visitors_per_salesperson": 4, "queue_service": {"till": "bags"}},
})  # fmt: skip


def _t(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).timestamp()


def fill(s) -> None:  # noqa: ANN001
    """Two weeks: the second busier. Each day 10:00 and 15:00 hours; each visitor goes
    shoes -> till -> bags (or leaves the till: an abandonment)."""
    n = 0
    for d in range(14):
        day = MONDAY + dt.timedelta(days=d)
        busy = 2 if d >= 7 else 1
        for hour, people in ((10, 4 * busy), (15, 6 * busy)):
            t = _t(day, hour)
            s.add(Rollup(bucket_start=t, scope="line", name="door", entries=people))
            s.add(Rollup(bucket_start=t, scope="zone", name="shoes", entries=people,
                         occupancy_peak=min(people, 9)))  # fmt: skip
            s.add(Rollup(bucket_start=t, scope="zone", name="till", entries=people,
                         occupancy_peak=2))  # fmt: skip
            for i in range(people):
                n += 1
                vid = f"v{n}"
                a = t + 60 * i
                s.add(ZoneVisit(visitor_id=vid, camera="c", zone="shoes", enter_ts=a,
                                exit_ts=a + 120, dwell_s=120.0))  # fmt: skip
                s.add(ZoneVisit(visitor_id=vid, camera="c", zone="till", enter_ts=a + 130,
                                exit_ts=a + 130 + 30 * (i + 1), dwell_s=30.0 * (i + 1)))  # fmt: skip
                if i % 3:  # every third one leaves the queue
                    s.add(ZoneVisit(visitor_id=vid, camera="c", zone="bags",
                                    enter_ts=a + 140 + 30 * (i + 1), exit_ts=a + 400,
                                    dwell_s=100.0))  # fmt: skip
            sid = f"s{d}-{hour}"
            s.add(ServiceSession(id=sid, salesperson_id=1, zone="shoes", visitor_id=f"v{n}",
                                 started_at=t + 300, ended_at=t + 900))  # fmt: skip
            s.add(Purchase(transaction_id=f"T{d}-{hour}", ts=t + 1000, barcode="A",
                           amount=50.0 * busy, session_id=sid))  # fmt: skip


@pytest.fixture
def filled(store: Store) -> Store:
    store.writer.submit(fill).result(60)
    return store


def test_period_choices() -> None:
    d = dt.date(2026, 11, 26)  # a Thursday
    assert period_of("Day", d) == (d, d)
    assert period_of("Week", d) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert period_of("Month", d) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert period_of("Custom", d, dt.date(2026, 11, 20)) == (dt.date(2026, 11, 20), d)


def test_a_week_against_the_week_before(qtbot, filled: Store, tmp_path: Path) -> None:  # noqa: ANN001
    view = AnalyticsView(filled, CFG)
    qtbot.addWidget(view)
    view.set_period("Week", MONDAY + dt.timedelta(days=9))
    view.refresh(wait=True)
    cur = view.data.compared.current  # type: ignore[union-attr]
    prev = view.data.compared.previous  # type: ignore[union-attr]
    assert (cur.first, cur.last) == (MONDAY + dt.timedelta(7), MONDAY + dt.timedelta(13))
    assert cur.visitors == 7 * 20 and prev is not None and prev.visitors == 7 * 10
    assert view.data.compared.last_year is None  # type: ignore[union-attr]
    assert view.cards["visitors"].value.text() == "140"
    assert view.cards["visitors"].compare.text() == "prev. +100%"
    assert view.cards["sales_conversion"].value.text() == f"{14 / 140:.1%}"
    assert (
        "Sales conversion = POS transactions / visitors" in view.cards["sales_conversion"].toolTip()
    )
    assert view.cards["congestion_peak"].value.text() == f"{(9 + 2) / 12:.1%}"
    assert "Worst hour:" in view.worst.text() and "/100" in view.worst.text()
    # queues: 20 a day queued at the till, a third of them left before the bags
    (q,) = cur.queues
    assert q.waits == 140 and q.abandoned == sum(1 for i in range(8) if not i % 3) * 7 + sum(
        1 for i in range(12) if not i % 3) * 7  # fmt: skip
    assert view.t_queue.rowCount() == 14 and "abandonment" in view.queue_summary.text()
    # journeys: entrance -> shoes -> till -> bags / left
    t = view.flow.transitions
    assert t[("(entrance)", "shoes")] == 140 and t[("shoes", "till")] == 140
    assert t[("till", "bags")] + t[("till", "(left)")] == 140
    funnel = {r[0]: r for r in view._funnel_rows}
    assert funnel["shoes"] == ["shoes", 140, 140, 14, 14]
    assert view.t_bottle.rowCount() > 0
    # exports
    png = tmp_path / "days.png"
    view.export_png(view.c_days, "days", str(png))
    assert png.stat().st_size > 1000
    flow = tmp_path / "flow.png"
    view.export_png(view.flow, "flow", str(flow))
    assert flow.stat().st_size > 1000
    out = tmp_path / "funnel.csv"
    assert view.export_csv("funnel", str(out)) == 3
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["zone", "entered_store", "visited_zone", "served", "bought"]
    assert view.export_csv("hours", str(tmp_path / "hours.csv")) == 14
    # the weekly report of the same week, into the data folder
    report = view.write_weekly(open_it=False)
    assert report is not None and report.exists() and "Rue Test" in report.read_text()
    view.shutdown()


def test_a_day_without_data_explains_itself(qtbot, filled: Store) -> None:  # noqa: ANN001
    view = AnalyticsView(filled, CFG)
    qtbot.addWidget(view)
    view.set_period("Day", dt.date(2026, 10, 1))
    view.refresh(wait=True)
    assert view.c_days.is_empty and view.cards["visitors"].value.text() == "0"
    assert view.cards["sales_conversion"].value.text() == "–"
    view.shutdown()
