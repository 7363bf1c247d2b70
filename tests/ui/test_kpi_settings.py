"""Settings > Store figures (app/ui/kpi_settings.py): the capacity, the staffing target
and the weekly staffing schedule edited on the page, saved like every setting (the store
and config.toml), kept when the page is opened again, applied to the Analytics page
without a restart and used by `python main.py report kpis`; a wrong schedule row is
refused with a sentence; the Analytics page links a missing setting to its input."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit, QStyleOptionViewItem

from app.cli.main import main
from app.config import AppConfig
from app.store.db import Store
from app.ui import main_window as mw
from app.ui.analytics_view import AnalyticsView
from app.ui.config_store import config_path, load_startup_config, save_config
from app.ui.kpi_hints import missing_settings
from app.ui.kpi_settings import PLACEHOLDERS, PlaceholderDelegate
from app.ui.settings_view import SettingsView
from app.ui.wizard import FirstRunWizard
from app.ui.workers import Background
from tests.conftest import PETS_CLIP
from tests.ui.test_analytics_view import MONDAY, SQUARE, fill
from tests.ui.test_main_window import open_desktop

WEEK2 = MONDAY + dt.timedelta(days=7)  # the busier week of `fill`: 8 visitors at 10:00, 12 at 15:00
BASE = {
    "store": {"name": "Rue Test", "timezone": "Europe/Paris"},
    "cameras": [{"name": "Front", "type": "file", "url": str(PETS_CLIP)}],
    "zones": [{"name": z, "polygon": SQUARE, "kind": "queue" if z == "till" else "zone",
               "capacity": 6} for z in ("shoes", "bags", "till")],
    "kpis": {"visitors_per_salesperson": 4},
}  # fmt: skip


def settings_view(qtbot, data: dict[str, Any] = BASE) -> SettingsView:  # noqa: ANN001
    """A Settings page (closed with the test) showing the config `data`."""
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig.model_validate(data))
    return view


def set_row(view: SettingsView, row: int, *cells: str) -> None:
    table = view.figures.table
    while table.rowCount() <= row:
        view.figures.add_row()
    for col, text in enumerate(cells):
        item = table.item(row, col)
        assert item is not None
        item.setText(text)


def test_store_figures_are_saved_and_kept(qtbot, store: Store) -> None:  # noqa: ANN001
    cfg = AppConfig.model_validate(BASE)
    view = SettingsView(backups=store)
    qtbot.addWidget(view)
    view.set_config(cfg)
    fig = view.figures
    assert fig.capacity.text() == "not set" and fig.table.rowCount() == 0
    assert list(fig.serves) == ["till"]  # one choice per queue area, of the other zones
    assert [fig.serves["till"].itemText(i) for i in range(3)] == ["— not set —", "shoes", "bags"]
    fig.capacity.setValue(40)
    fig.per_salesperson.setValue(12)
    fig.wait_target.setValue(2.5)
    fig.serves["till"].setCurrentText("bags")
    set_row(view, 0, "Mon-Fri", "09:00", "18:00", "3")
    set_row(view, 1, "Sat", "10", "20", "4")
    set_row(view, 2, "Sat", "12", "16", "1")
    assert fig.preview.grid[5][12] == 5 and fig.preview.grid[0][8] == 0  # the grid follows
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    saved: AppConfig = sig.args[0]
    k = saved.kpis
    assert (k.capacity, k.visitors_per_salesperson, k.wait_target_s) == (40, 12.0, 150.0)
    assert k.queue_service == {"till": "bags"}
    assert len(k.schedule) == 5 + 2 and k.scheduled(5, 13) == 5 and k.scheduled(6, 13) == 0
    # saved as every setting is (the store, config.toml), then opened again
    save_config(store, saved, "settings").result(timeout=10)
    text = config_path().read_text(encoding="utf-8")
    assert "[kpis]" in text and "capacity = 40" in text
    again, first_run = load_startup_config(store)
    assert not first_run and again.kpis == k
    reopened = SettingsView(backups=store)
    qtbot.addWidget(reopened)
    reopened.set_config(again)
    f2 = reopened.figures
    assert (f2.capacity.value(), f2.per_salesperson.value(), f2.wait_target.value()) == (
        40,
        12,
        2.5,
    )
    assert f2.serves["till"].currentText() == "bags"
    assert [tuple(r.__dict__.values()) for r in f2.rows()] == [
        ("Mon-Fri", "09:00", "18:00", "3"), ("Sat", "10:00", "20:00", "4"),
        ("Sat", "12:00", "16:00", "1"),
    ]  # fmt: skip
    # emptied again: "not set" is saved as no setting at all, the schedule as none
    f2.capacity.setValue(0)
    assert not f2.remove.isEnabled()  # nothing selected: Remove removes nothing
    f2.remove_row()
    assert f2.table.rowCount() == 3
    f2.table.selectAll()
    assert f2.remove.isEnabled()
    f2.remove_row()
    assert f2.table.rowCount() == 0 and not f2.remove.isEnabled()
    assert reopened.save()
    assert reopened.cfg.kpis.capacity is None and reopened.cfg.kpis.schedule == []


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (("Mon-Fir", "9", "18", "2"), "Staffing schedule, row 2: “Fir” is not a day"),
        (("Mon", "18:00", "9:00", "2"), "Staffing schedule, row 2: the shift ends (9:00) before"),
        (("Mon", "9:30", "18", "2"), "Staffing schedule, row 2: “9:30”: the schedule is per whole hour"),
        (("Mon", "9", "18", "two"), "Staffing schedule, row 2: “two” is not a number of salespeople"),
    ],
)  # fmt: skip
def test_a_wrong_schedule_row_is_refused_with_a_message(
    qtbot,
    cells: tuple[str, ...],
    message: str,  # noqa: ANN001
) -> None:
    view = settings_view(qtbot)
    set_row(view, 0, "every day", "10", "16", "1")
    set_row(view, 1, *cells)
    assert view.figures.problem.text().startswith(message)  # said while typing
    before = view.cfg
    assert not view.save()  # and on Save: nothing applied
    assert view.error.text().startswith(message) and view.cfg is before


def test_the_wizard_asks_the_capacity_and_may_skip_it(qtbot) -> None:  # noqa: ANN001
    bg = Background()
    try:
        wiz = FirstRunWizard(bg, AppConfig())
        qtbot.addWidget(wiz)
        page = wiz.store_page
        assert page.capacity.text() == "skip (set it later in Settings)"
        page.name.setText("Rivoli")
        assert wiz.build_config().kpis.capacity is None  # skipped
        page.capacity.setValue(35)
        assert wiz.build_config().kpis.capacity == 35
    finally:
        bg.shutdown()


def test_missing_settings_say_which_one() -> None:
    cfg = AppConfig.model_validate({**BASE, "kpis": {}})
    assert [h.key for h in missing_settings(cfg)] == [
        "kpis.capacity", "kpis.visitors_per_salesperson", "kpis.queue_service"]  # fmt: skip
    done = AppConfig.model_validate({**BASE, "kpis": {
        "capacity": 10, "visitors_per_salesperson": 3, "queue_service": {"till": "bags"},
        "schedule": [{"weekday": 0, "start_hour": 9, "end_hour": 18, "staff": 2}]}})  # fmt: skip
    assert missing_settings(done) == []


def test_a_schedule_that_leaves_out_hours_with_visitors_says_so() -> None:
    """A schedule that puts nobody on duty when visitors came (here Sunday, and Monday
    before 9) gives 0 % staffing adequacy then: the hint names those weekdays and the
    visitors, and links to the schedule; hours without visitors do not count."""
    from app.store.kpi_queries import PeriodKpis
    from app.store.kpi_sql import HourKpis

    cfg = AppConfig.model_validate({**BASE, "kpis": {
        "capacity": 10, "visitors_per_salesperson": 3, "queue_service": {"till": "bags"},
        "schedule": [{"weekday": 0, "start_hour": 9, "end_hour": 18, "staff": 2}]}})  # fmt: skip
    paris = dt.timezone(dt.timedelta(hours=1))  # December in Paris

    def hour(day: int, h: int, visitors: int, on_duty: int) -> HourKpis:
        start = dt.datetime(2026, 12, day, h, tzinfo=paris).timestamp()
        return HourKpis(start, visitors, 0, 1, on_duty, None, None, None, None, None)

    period = PeriodKpis(dt.date(2026, 12, 6), dt.date(2026, 12, 7), visitors=30, hours=[
        hour(6, 11, 12, 0),  # Sunday, nobody scheduled
        hour(7, 8, 3, 0),  # Monday before the shift
        hour(7, 10, 15, 2),  # Monday, scheduled
        hour(7, 20, 0, 0),  # Monday evening, nobody came
    ])  # fmt: skip
    (hint,) = missing_settings(cfg, period)
    assert hint.key == "kpis.schedule"
    assert "(Mon, Sun)" in hint.text and "when 15 visitors came" in hint.text
    assert 'href="kpis.schedule"' in hint.html()
    covered = PeriodKpis(period.first, period.last, visitors=15, hours=period.hours[2:])
    assert missing_settings(cfg, covered) == []


@pytest.fixture
def desktop(qtbot, store, pets_frames):  # noqa: ANN001, ANN201
    store.writer.submit(fill).result(60)
    d = open_desktop(qtbot, store, pets_frames[0], AppConfig.model_validate(BASE))
    yield d
    d.close()


def test_analytics_and_report_kpis_follow_the_saved_store_figures(
    qtbot,
    desktop,
    capsys: pytest.CaptureFixture[str],  # noqa: ANN001
) -> None:
    win = desktop.window
    win.nav.setCurrentRow(mw.ANALYTICS)
    view = win.analytics
    assert isinstance(view, AnalyticsView)
    qtbot.waitUntil(lambda: view.data is not None, timeout=10000)  # its first, own period
    view.set_period("Week", WEEK2)
    view.refresh(wait=True)
    cards = view.cards
    # no capacity: congestion cannot be measured, and the page says what to set
    assert cards["congestion_peak"].value.text() == "–"
    assert "Set the capacity" in cards["congestion_peak"].compare.text()
    assert "Congestion and utilisation need the store's capacity" in view.hints.text()
    # no schedule: the tablets' services (one salesperson in both hours)
    assert cards["staffing_adequacy"].value.text() == f"{(1 / 2 + 1 / 3) / 2:.1%}"
    # the link opens Settings at the capacity's input
    view.hints.linkActivated.emit("kpis.capacity")
    assert win.stack.currentWidget() is win.settings
    fig = win.settings.figures
    assert win.focusWidget() is fig.capacity

    fig.capacity.setValue(22)
    set_row(win.settings, 0, "every day", "10:00", "16:00", "3")
    assert win.settings.save()
    # applied without a restart: the Analytics page computes the period again
    qtbot.waitUntil(lambda: cards["congestion_peak"].value.text() == "50.0%", timeout=10000)
    assert view.cfg.kpis.capacity == 22 and "capacity" not in view.hints.text()
    # (9 + 2) people at the peak / 22; on duty: the schedule's 3 instead of the tablets' 1
    assert cards["staffing_adequacy"].value.text() == f"{(3 / 2 + 3 / 3) / 2:.1%}"
    assert cards["utilisation_mean"].value.text() == f"{(8 / 22 + 12 / 22) / 2:.1%}"

    # saved like every setting: `report kpis` (config.toml in the data folder) uses them
    qtbot.waitUntil(lambda: "capacity = 22" in config_path().read_text(), timeout=10000)
    rc = main(["report", "kpis", "--from", str(WEEK2), "--to", str(WEEK2 + dt.timedelta(6)),
               "--json"])  # fmt: skip
    assert rc == 0
    period = json.loads(capsys.readouterr().out)["period"]
    assert period["congestion_peak"] == 0.5
    assert period["staffing_adequacy"] == 1.25
    assert {h["on_duty"] for h in period["hours"]} == {3}


def test_report_kpis_says_which_setting_is_missing(
    store: Store,
    tmp_path,
    capsys: pytest.CaptureFixture[str],  # noqa: ANN001
) -> None:
    store.writer.submit(fill).result(60)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**BASE, "kpis": {}}), encoding="utf-8")
    rc = main(["report", "--config", str(cfg), "kpis", "--from", str(WEEK2),
               "--to", str(WEEK2 + dt.timedelta(6))])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert (
        "Setting wanted: Congestion and utilisation need the store's capacity: in config.toml "
        "[kpis], capacity = <people the store holds> (or Settings > Store figures)" in out
    )
    assert "visitors_per_salesperson = " in out and 'queue_service = { "<queue area>"' in out


def test_a_new_shift_starts_empty_and_counts_nobody_until_filled_in(qtbot) -> None:  # noqa: ANN001
    view = settings_view(qtbot)
    fig = view.figures
    set_row(view, 0, "Mon-Fri", "09:00", "18:00", "3")
    assert fig.preview.grid[0][9] == 3
    r = fig.add_row()  # not a copy of the row above: the grid does not change
    assert r == 1 and [fig.table.item(1, c).text() for c in range(4)] == ["", "", "", ""]
    assert fig.preview.grid[0][9] == 3 and fig.preview.grid[5][9] == 0
    assert fig.problem.text() == "" and fig.preview.isEnabled()
    # its cells say what to write, grey (painted by the delegate, and in the editor)
    delegate = fig.table.itemDelegate()
    assert isinstance(delegate, PlaceholderDelegate)
    editor = delegate.createEditor(fig.table.viewport(), QStyleOptionViewItem(),
                                   fig.table.model().index(1, 3))  # fmt: skip
    assert isinstance(editor, QLineEdit) and editor.placeholderText() == PLACEHOLDERS[3] == "0"
    set_row(view, 1, "Sat", "10", "12", "2")
    assert fig.preview.grid[5][10] == 2


def test_a_wrong_row_greys_the_week_instead_of_showing_old_numbers(qtbot) -> None:  # noqa: ANN001
    view = settings_view(qtbot)
    fig = view.figures
    set_row(view, 0, "Mon-Fri", "09:00", "18:00", "3")
    set_row(view, 1, "Sat", "10", "20", "4")
    assert fig.preview.grid[5][10] == 4
    fig.table.item(1, 0).setText("Sta")  # a typo: the week of the rows before is not shown
    assert fig.problem.text().startswith("Staffing schedule, row 2: “Sta” is not a day")
    assert fig.preview.waiting == "Fix row 2 to see the week" and not fig.preview.isEnabled()
    assert all(n == 0 for row in fig.preview.grid for n in row)
    assert fig.preview.item(0, 0).text() == "Fix row 2 to see the week"
    assert fig.preview.columnSpan(0, 0) == 24 and fig.preview.item(0, 9) is None
    fig.table.item(1, 0).setText("Sat")
    assert fig.preview.waiting == "" and fig.preview.isEnabled() and fig.problem.text() == ""
    assert fig.preview.grid[5][10] == 4 and fig.preview.item(0, 9).text() == "3"
    assert fig.preview.columnSpan(0, 0) == 1


def test_remove_takes_the_selected_shift_only(qtbot) -> None:  # noqa: ANN001
    view = settings_view(qtbot, {**BASE, "kpis": {"schedule": [
        {"weekday": 0, "start_hour": 9, "end_hour": 18, "staff": 2},
        {"weekday": 5, "start_hour": 10, "end_hour": 12, "staff": 1}]}})  # fmt: skip
    fig = view.figures
    assert fig.table.rowCount() == 2 and not fig.remove.isEnabled()
    fig.remove_row()  # nothing selected: nothing removed (not the last row)
    assert fig.table.rowCount() == 2
    fig.table.selectRow(0)
    assert fig.remove.isEnabled()
    fig.remove.click()
    assert [r.days for r in fig.rows()] == ["Sat"] and not fig.remove.isEnabled()
    assert fig.preview.grid[0][9] == 0 and fig.preview.grid[5][10] == 1
