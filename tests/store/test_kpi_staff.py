"""Staff are left out of the KPIs as they are out of the dashboard's counts: a staff
member and a customer walk in through the door into the shop, the recogniser tags the
staff member; the store's KPIs (visitors, people in the store, sales conversion, sales
per visitor, utilisation, the zone hours, journeys) count the customer only, and the
recognised staff are counted apart (`staff_seen`)."""

from __future__ import annotations

import datetime as dt

from app.config import parse_config
from app.events import EventBus
from app.store import figures, journeys, kpi_cache
from app.store import kpi_queries as kq
from app.store.db import Store
from tests.store.test_recognition_privacy import _run
from tests.vision.test_pipeline import CFG

DAY = dt.date(1970, 1, 1)  # the scripted clip's frames are stamped 1000 s after the epoch


def _params() -> kq.KpiParams:
    cfg = parse_config({**CFG, "kpis": {"capacity": 10, "visitors_per_salesperson": 1}})
    return kq.KpiParams.from_config(cfg)


def _sale_and_staff_count(store: Store) -> None:
    def job(s: object) -> None:
        conn = s.connection()  # type: ignore[attr-defined]
        conn.exec_driver_sql(
            "INSERT INTO purchases (transaction_id, line_no, ts, barcode, amount, "
            "salesperson_code) VALUES ('T1', 0, 1001.0, '400', 30.0, '')"
        )
        conn.exec_driver_sql(  # what the recogniser records of a staff track: a count
            "INSERT INTO face_visits (ts, camera, outcome) VALUES (1001.0, 'cam', 'staff')"
        )

    store.writer.submit(job).result(30)


def test_staff_are_left_out_of_every_kpi_and_counted_apart(store: Store) -> None:
    bus = EventBus()
    store.attach(bus)
    _run(bus)  # two people cross the door into the shop; one is tagged staff
    store.writer.flush()
    _sale_and_staff_count(store)
    p = _params()
    with store.read_session() as s:
        k = kq.period_kpis(s, p, DAY, DAY)
        assert k == kq.period_kpis_direct(s, p, DAY, DAY)
        j = kpi_cache.journeys(s, p, DAY, DAY, k.visitors)
        zones = figures.zone_figures(s, 0, 86400)
        crossings = s.connection().exec_driver_sql("SELECT COUNT(*) FROM line_crossings").scalar()
    assert crossings == 1  # the staff member's crossing was never recorded
    assert k.visitors == 1  # the customer; staff are not footfall
    assert max(h.people_peak for h in k.hours) == 1
    assert k.transactions == 1 and k.sales_conversion == 1.0  # 1 sale / 1 visitor, not 1 / 2
    assert k.sales_per_visitor == 30.0
    assert max(h.utilisation or 0 for h in k.hours) == 0.1
    assert sum(z.zone_entries for z in k.zone_hours if z.zone == "shop") == 1
    assert zones["shop"].zone_entries == 1
    assert j.visits == 1 and j.funnel[0].visited == 1
    assert k.staff_seen == 1  # counted apart
    assert k.as_json(p.tz)["staff_seen"] == 1


def test_staff_tagged_after_the_fact_leave_the_visit_figures(store: Store) -> None:
    """A visitor tagged staff later (`visitors.is_staff`) leaves the journeys and the
    finished visits too, cached or not."""
    bus = EventBus()
    store.attach(bus)
    _run(bus)
    store.writer.flush()
    p = _params()
    with store.read_session() as s:
        before = journeys.journeys(s, 0, 86400, 1)
    assert before.visits == 1
    store.writer.submit(
        lambda s: s.connection().exec_driver_sql("UPDATE visitors SET is_staff = 1")
    ).result(30)
    with store.read_session() as s:
        after = kpi_cache.journeys(s, p, DAY, DAY, 1)
        assert after == journeys.journeys(s, 0, 86400, 1)
        zones = figures.zone_figures(s, 0, 86400)
    assert after.visits == 0
    assert zones["shop"].finished_visits == 0
