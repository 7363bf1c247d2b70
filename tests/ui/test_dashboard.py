"""The dashboard over a real store: figures from events through the store writer, empty
states, alert acknowledgement."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from app import events as ev
from app.alerts import AlertOpened, AlertRecord, AlertResolved, AlertUpdated
from app.config import AppConfig
from app.store.models import AlertRow
from app.ui.dashboard import DashboardView
from app.ui.dashboard_data import acknowledge, load_dashboard

CFG = AppConfig.model_validate(
    {
        "cameras": [{"name": "door", "type": "fake"}],
        "zones": [{"name": "Door", "polygon": [[0, 0], [9, 0], [9, 9]]}],
        "lines": [{"name": "Pavement", "start": [0, 10], "end": [10, 10]}],
        "entrances": [{"name": "Main", "line": "Pavement", "zone": "Door"}],
    }
)


def seed(store, now: float) -> None:  # noqa: ANN001
    k: dict[str, Any] = {"camera": "door", "frame": 0, "t": 0.0}
    evs: list[object] = []
    for i in range(6):
        evs.append(
            ev.EntranceEntered(
                **k, ts=now - 60 - i, entrance="Main", zone="Door", track_id=i, visitor_id=""
            )
        )
    for i in range(4):
        evs.append(
            ev.PassedBy(**k, ts=now - 50 - i, entrance="Main", line="Pavement", track_id=20 + i)
        )
    for i in range(3):
        evs.append(ev.LineCross(**k, ts=now - 40 - i, line="Pavement", direction="out", track_id=i))
    for dwell in (20.0, 40.0):
        evs.append(
            ev.VisitClosed(
                **k,
                ts=now - 30,
                zone="Door",
                visitor_id="v",
                visit_id=f"v{dwell}",
                enter_ts=now - 30 - dwell,
                exit_ts=now - 30,
                dwell_s=dwell,
            )
        )
    evs.append(
        ev.EntranceEntered(
            **k, ts=now - 7 * 86400 - 5, entrance="Main", zone="Door", track_id=99, visitor_id=""
        )
    )
    evs.append(ev.Alert("lan_unavailable", "Tablets cannot connect: port in use", ts=now - 10))
    store.writer.ingest_many(evs).result(timeout=30)


def test_empty_store_shows_explanations_not_blank_charts(qtbot, store) -> None:  # noqa: ANN001
    data = load_dashboard(store, CFG)
    assert data.entries == 0 and data.capture_rate is None
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_data(data)
    for chart in (view.c_footfall, view.c_occ, view.c_dwell):
        assert chart.is_empty and len(chart.empty.text()) > 40
    assert view.k_entries.value.text() == "0"
    assert view.visible_alert_ids() == []

    # without any counting line, the entries card explains instead of showing a 0
    bare = load_dashboard(store, CFG.model_copy(update={"lines": [], "entrances": []}))
    view.set_data(bare)
    assert view.k_entries.value.text() == "—"
    assert "line at the door" in view.k_entries.hint.text()
    # nor with only a line inside the store (not a door)
    aisle = {"name": "Aisle", "start": [0, 5], "end": [10, 5], "door": False}
    inside = CFG.model_validate({**CFG.model_dump(), "lines": [aisle], "entrances": []})
    view.set_data(load_dashboard(store, inside))
    assert view.k_entries.value.text() == "—"


def test_charts_without_data_are_compact_cards(qtbot, store) -> None:  # noqa: ANN001
    """A chart with no data is its title and a few lines saying why, not a large blank
    card; with data it takes the page's spare height again."""
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1200, 1000)
    view.show()
    view.set_data(load_dashboard(store, CFG))
    qtbot.wait(50)
    for chart in (view.c_footfall, view.c_occ, view.c_dwell):
        assert chart.is_empty and chart.empty.isVisible() and not chart.plot.isVisible()
        assert chart.height() < 170, chart.height()  # title + two or three lines
    assert "Nobody has been counted today yet" in view.c_footfall.empty.text()
    inner = view.c_footfall.parentWidget()
    bottom = max(w.geometry().bottom() for w in (view.c_occ, view.c_dwell, view.zones_card))
    assert inner.height() - bottom < 60  # the cards below take the height: no blank
    seed(store, time.time())
    view.set_data(load_dashboard(store, CFG))
    qtbot.wait(50)
    assert not view.c_footfall.is_empty and view.c_footfall.plot.isVisible()
    assert view.c_footfall.height() > 300


def test_figures_come_from_the_store_and_alerts_can_be_acknowledged(qtbot, store) -> None:  # noqa: ANN001
    now = time.time()
    seed(store, now)
    data = load_dashboard(store, CFG, now)
    assert (data.entries, data.exits, data.passersby) == (6, 3, 4)
    assert data.capture_rate == 6 / 10
    assert data.dwell_by_zone == {"Door": 30.0}
    assert sum(data.dwell_hist) == 2
    assert sum(data.footfall_today) == 6 and sum(data.footfall_last_week) == 1
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_data(data)
    assert view.k_entries.value.text() == "6" and view.k_capture.value.text() == "60%"
    assert view.k_dwell.value.text() == "30 s"
    assert not view.c_footfall.is_empty and not view.c_dwell.is_empty
    ids = view.visible_alert_ids()
    assert len(ids) == 1
    with qtbot.waitSignal(view.alerts.acknowledge_requested) as sig:
        view.acknowledge(ids[0])
    assert view.visible_alert_ids() == []
    assert acknowledge(store, sig.args[0]).result(timeout=10).ids == ids
    with store.read_session() as s:
        row = s.scalars(select(AlertRow)).one()
    assert row.acknowledged_at is not None and row.acknowledged_by == "desktop"
    assert load_dashboard(store, CFG, now).alerts == []  # a notice acknowledged is over


def test_live_occupancy_and_alerts_from_the_engine(qtbot) -> None:  # noqa: ANN001
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_data(None)
    assert view.k_occ.value.text() == "—"
    view.on_event(ev.Occupancy("a", time.time(), 1, 0.1, zone="Door", count=2))
    view.on_event(ev.Occupancy("b", time.time(), 1, 0.1, zone="Till", count=3))
    assert view.k_occ.value.text() == "5"
    view.on_alert(ev.Alert("camera_offline", "b is offline", camera="b"))
    assert len(view.visible_alert_ids()) == 1


def _rule_alert(cls: type, id_: str, **kw: object) -> AlertRecord:
    base: dict[str, object] = dict(
        id=id_, kind="over_capacity", subject="Shoes", message="Shoes: 3 people (capacity 2)",
        opened_at=time.time(), last_seen=time.time(), zone="Shoes",
    )  # fmt: skip
    return cls(**{**base, **kw})  # type: ignore[no-any-return]


def test_rule_alerts_live_badge_count_and_acknowledge_all(qtbot) -> None:  # noqa: ANN001
    from app.ui.dashboard_data import AlertItem

    view = DashboardView()
    qtbot.addWidget(view)
    counts: list[int] = []
    view.alerts.open_count_changed.connect(counts.append)
    view.alerts.set_stored([AlertItem("s1", "camera_offline", "door is down", "door", "", 1.0)])
    view.on_alert(_rule_alert(AlertOpened, "r1"))
    view.on_alert(_rule_alert(AlertOpened, "r2", subject="Bags", message="Bags: 5 people"))
    assert counts[-1] == 3 and set(view.visible_alert_ids()) == {"s1", "r1", "r2"}
    view.on_alert(_rule_alert(AlertUpdated, "r1", count=2))  # changed: still one line
    assert len(view.visible_alert_ids()) == 3
    view.on_alert(_rule_alert(AlertResolved, "r2", resolved_at=time.time()))
    assert counts[-1] == 2 and "r2" not in view.visible_alert_ids()
    view.alerts.set_stored(  # a store read from before the resolve does not bring it back
        [AlertItem("s1", "camera_offline", "door is down", "door", "", 1.0),
         AlertItem("r2", "over_capacity", "Bags: 5 people", "", "Bags", 2.0)]
    )  # fmt: skip
    assert set(view.visible_alert_ids()) == {"s1", "r1"}
    assert view.alerts.summary.text() == "2 open"
    with qtbot.waitSignal(view.alerts.acknowledge_requested) as sig:
        view.alerts.ack_all.click()
    assert sorted(sig.args[0]) == ["r1", "s1"] and sig.args[1] == "desktop"
    assert counts[-1] == 0 and view.visible_alert_ids() == []
    assert not view.alerts.ack_all.isEnabled()
    assert view.alerts.summary.text() == "2 open · 2 acknowledged"  # both still listed
    # acknowledged rule alerts stay listed (greyed) until they resolve
    assert {a.id for a in view.alerts.open_items()} == {"s1", "r1"}
    view.on_alert(_rule_alert(AlertUpdated, "r1", count=1))  # seen again: still acknowledged
    assert "r1" not in view.visible_alert_ids()
    view.on_alert(_rule_alert(AlertOpened, "r1", count=3))  # trouble again: ask again
    assert "r1" in view.visible_alert_ids() and counts[-1] == 1
    view.on_alert(_rule_alert(AlertResolved, "r1", resolved_at=time.time()))
    assert {a.id for a in view.alerts.open_items()} == {"s1"}


def test_alert_times_are_in_the_store_time_zone(qtbot) -> None:  # noqa: ANN001
    """The machine's clock may be set to another zone than the store (UTC here): the
    dashboard's times, like its charts, are the store's."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from PySide6.QtWidgets import QLabel

    view = DashboardView()
    qtbot.addWidget(view)
    view.tz = ZoneInfo("Asia/Tokyo")  # UTC+9, no daylight saving
    at = datetime(2026, 12, 4, 11, 18, tzinfo=UTC).timestamp()
    view.on_alert(ev.Alert("over_capacity", "Plaza: 4 people (capacity 3)", zone="Plaza", ts=at))
    texts = [w.text() for w in view.findChildren(QLabel) if "Plaza: 4 people" in w.text()]
    assert len(texts) == 1 and "20:18" in texts[0], texts


def test_visit_length_bars_have_short_range_labels() -> None:
    from app.ui.dashboard_data import DWELL_BINS_S
    from app.ui.dashboard_widgets import dwell_bin_labels

    labels = dwell_bin_labels(DWELL_BINS_S)
    assert labels[:4] == ["0-10s", "10-30s", "30s-1m", "1-2m"] and labels[-1] == "30m+"
    assert len(labels) == len(DWELL_BINS_S) and max(map(len, labels)) <= 6


def test_the_dwell_card_the_zone_list_and_the_histogram_count_the_same_visits(
    qtbot,
    store,  # noqa: ANN001
) -> None:
    now = time.time()
    seed(store, now)  # two closed visits of 20 and 40 s
    k: dict[str, Any] = {"camera": "door", "frame": 0, "t": 0.0}
    ids = {"track_id": 50, "visitor_id": "w", "visit_id": "w1", "zone": "Door"}
    store.writer.ingest_many(  # a third visit has ended, its revisit window still open
        [ev.ZoneEnter(**k, **ids, ts=now - 20), ev.ZoneExit(**k, **ids, ts=now - 8, dwell_s=12.0)]
    ).result(timeout=30)
    data = load_dashboard(store, CFG, now)
    assert sum(data.dwell_hist) == sum(data.visits_by_zone.values()) == 3
    assert data.dwell_by_zone == {"Door": 24.0}
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_data(data)
    assert view.k_dwell.hint.text() == "over 3 finished visits"


def test_with_an_entrance_exits_are_its_lines_not_every_line(store) -> None:  # noqa: ANN001
    now = time.time()
    seed(store, now)  # 3 out-crossings of the entrance's line "Pavement"
    k: dict[str, Any] = {"camera": "door", "frame": 0, "t": 0.0}
    store.writer.ingest_many(  # a line across an aisle inside the shop
        [
            ev.LineCross(**k, ts=now - 5 - i, line="Aisle", direction="out", track_id=i)
            for i in range(4)
        ]
    ).result(timeout=30)
    assert load_dashboard(store, CFG, now).exits == 3
    no_entrance = CFG.model_copy(update={"entrances": []})
    assert load_dashboard(store, no_entrance, now).exits == 7  # then every line is a door


def test_a_line_inside_the_store_is_neither_entries_nor_exits(store) -> None:  # noqa: ANN001
    """Without entrances, the door lines' crossings are the entries and exits; a line
    marked as inside the store (an aisle) is counted on its own only."""
    now = time.time()
    k: dict[str, Any] = {"camera": "door", "frame": 0, "t": 0.0}
    door = [
        ev.LineCross(**k, ts=now - 20 - i, line="Front", direction=d, track_id=i)
        for i, d in enumerate(["in", "in", "out"])
    ]
    aisle = [
        ev.LineCross(**k, ts=now - 5 - i, line="Aisle", direction=d, track_id=10 + i, door=False)
        for i, d in enumerate(["in", "out", "out", "in", "in"])
    ]
    store.writer.ingest_many(door + aisle).result(timeout=30)
    lines = [
        {"name": "Front", "start": [0, 10], "end": [10, 10]},
        {"name": "Aisle", "start": [0, 5], "end": [10, 5], "door": False},
    ]
    cfg = CFG.model_validate({**CFG.model_dump(), "lines": lines, "entrances": []})
    data = load_dashboard(store, cfg, now)
    assert (data.entries, data.exits) == (2, 1)
    assert sum(data.footfall_today) == 2


def test_areas_outside_the_store_are_not_in_its_head_count(qtbot, store) -> None:  # noqa: ANN001
    """A zone marked as outside the store (`in_store = false`: a car park) is left out
    of "in the store now" and of the occupancy chart; its own counts stay on its tile."""
    zones = [
        {"name": "Shop", "camera": "a", "polygon": [[0, 0], [9, 0], [9, 9]]},
        {"name": "Car park", "camera": "b", "polygon": [[0, 0], [9, 0], [9, 9]], "in_store": False},
    ]
    cams = [{"name": n, "type": "file", "url": "x.mp4"} for n in ("a", "b")]
    cfg = AppConfig.model_validate({"cameras": cams, "zones": zones})
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_head_count_zones(cfg)
    view.on_event(ev.Occupancy("a", time.time(), 1, 0.1, zone="Shop", count=2))
    view.on_event(ev.Occupancy("b", time.time(), 1, 0.1, zone="Car park", count=7))
    assert view.k_occ.value.text() == "2"
    everything = cfg.model_validate(
        {**cfg.model_dump(), "zones": [{**z, "in_store": True} for z in zones]}
    )
    view.set_head_count_zones(everything)  # nothing outside: both count
    assert view.k_occ.value.text() == "9"
    # the car park renamed (or deleted): its last count is not added any more, nor is
    # a late count of the old name
    renamed = cfg.model_validate(
        {**cfg.model_dump(), "zones": [zones[0], {**zones[1], "name": "North car park"}]}
    )
    view.set_head_count_zones(renamed)
    assert view.k_occ.value.text() == "2"
    view.on_event(ev.Occupancy("b", time.time(), 2, 0.2, zone="Car park", count=8))
    view.set_head_count_zones(everything.model_validate({**renamed.model_dump()}))
    assert view.k_occ.value.text() == "2"
    only_outside = cfg.model_validate({**cfg.model_dump(), "zones": [zones[1]]})
    view.set_head_count_zones(only_outside)
    assert (view.k_occ.value.text(), view.k_occ.hint.text()) == (
        "—",
        "no zone counts in the store",
    )

    now = time.time()
    k: dict[str, Any] = {"frame": 0, "t": 0.0, "ts": now - 5}
    store.writer.ingest_many(
        [
            ev.Occupancy(camera="a", zone="Shop", count=2, **k),
            ev.Occupancy(camera="b", zone="Car park", count=7, **k),
        ]  # fmt: skip
    ).result(timeout=30)
    assert max(load_dashboard(store, cfg, now).occupancy_by_hour) == 2
    assert max(load_dashboard(store, everything, now).occupancy_by_hour) == 9


def test_a_new_store_has_no_last_week_line(qtbot, store) -> None:  # noqa: ANN001
    """On a store that started counting this week, the footfall chart draws no "same day
    last week" line (flat at 0 it would read as a week with nobody in) and says so;
    once last week has data, the line is there."""
    now = time.time()
    k: dict[str, Any] = {"camera": "door", "frame": 0, "t": 0.0}
    store.writer.ingest_many(
        [
            ev.EntranceEntered(
                **k, ts=now - 60, entrance="Main", zone="Door", track_id=1, visitor_id=""
            )
        ]  # fmt: skip
    ).result(timeout=30)
    view = DashboardView()
    qtbot.addWidget(view)

    def legend() -> list[str]:
        items = view.c_footfall.plot.plotItem.legend.items
        return [label.text for _, label in items]

    def lines() -> int:
        import pyqtgraph as pg

        items = view.c_footfall.plot.plotItem.listDataItems()
        return sum(isinstance(i, pg.PlotDataItem) for i in items)

    data = load_dashboard(store, CFG, now)
    assert not data.last_week_known
    view.set_data(data)
    assert lines() == 0 and legend() == ["today", "same day last week: no data yet"]
    seed(store, now)  # includes an entry on the same day last week
    data = load_dashboard(store, CFG, now)
    assert data.last_week_known
    view.set_data(data)
    assert lines() == 1 and legend() == ["today", "same day last week"]


def test_occupancy_is_one_bar_per_hour_begun_and_the_charts_fill_the_page(qtbot) -> None:  # noqa: ANN001
    """Issue 23: a lone busy hour drew a triangle (a line through its neighbours at 0),
    hours still to come were plotted as 0, and the cards left ~200 px blank below."""
    import pyqtgraph as pg

    from app.ui.dashboard_data import DashboardData

    d = DashboardData(day_start=0.0, hours_so_far=15)
    d.occupancy_by_hour[14] = 7
    d.footfall_today[14] = 12
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1200, 1000)
    view.show()
    view.set_data(d)
    items = view.c_occ.plot.plotItem.items
    assert not [i for i in items if isinstance(i, pg.PlotDataItem)]  # no line, no triangle
    [bars] = [i for i in items if isinstance(i, pg.BarGraphItem)]
    assert list(bars.opts["x"]) == list(range(15))  # 00h to 14h, nothing after
    assert list(bars.opts["height"])[-1] == 7
    qtbot.wait(50)
    inner = view.c_footfall.parentWidget()
    bottom = max(w.geometry().bottom() for w in (view.c_occ, view.c_dwell, view.zones_card))
    assert inner.height() - bottom < 60  # the cards reach the bottom of the page
    assert inner.width() <= view.width()  # and no sideways scrolling
    # the charts take the page's spare height (whatever the font the suite left set):
    # a taller window gives them all of the extra pixels
    before = view.c_footfall.plot.height()
    view.resize(1200, 1400)
    qtbot.wait(50)
    assert view.c_footfall.plot.height() > before + 100
    bottom = max(w.geometry().bottom() for w in (view.c_occ, view.c_dwell, view.zones_card))
    assert inner.height() - bottom < 60


def test_load_dashboard_counts_the_hours_begun(store) -> None:  # noqa: ANN001
    from app.ui.dashboard_data import day_bounds

    start, _ = day_bounds(CFG.store.timezone, time.time())
    assert load_dashboard(store, CFG, start + 14 * 3600 + 5).hours_so_far == 15
    assert load_dashboard(store, CFG, start + 60).hours_so_far == 1


def test_this_hours_occupancy_bar_counts_who_is_in_now(qtbot) -> None:  # noqa: ANN001
    """Walk-through finding: "In the store now: 4" beside "No zone occupancy yet today"
    (the stored peaks come in 15-minute rollups)."""
    import pyqtgraph as pg

    from app.ui.dashboard_data import DashboardData

    view = DashboardView()
    qtbot.addWidget(view)
    view.on_event(ev.Occupancy("a", time.time(), 1, 0.1, zone="Door", count=4))
    view.set_data(DashboardData(day_start=0.0, hours_so_far=10))
    assert view.k_occ.value.text() == "4" and not view.c_occ.is_empty
    [bars] = [i for i in view.c_occ.plot.plotItem.items if isinstance(i, pg.BarGraphItem)]
    assert list(bars.opts["height"]) == [0] * 9 + [4]
