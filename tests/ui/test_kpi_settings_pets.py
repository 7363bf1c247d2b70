"""Store figures typed in Settings change the KPIs of a store filled by `analyze --store`
on the PETS clip (real models): the form saved into config.toml, then `report kpis`
on the same store with the settings before and after."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from app.cli.main import main
from app.config import AppConfig
from app.settings import write_file
from app.ui.settings_view import SettingsView
from tests.store.test_kpi_report_cli import CONFIG
from tests.store.test_kpi_report_cli import filled as filled  # the module's store, re-used


def _period(
    filled: tuple[Path, Path, dt.date], cfg: Path, capsys: pytest.CaptureFixture[str]
) -> dict:
    db, _, day = filled
    rc = main(["report", "--db", str(db), "--config", str(cfg), "kpis", "--from", str(day),
               "--to", str(day), "--json"])  # fmt: skip
    assert rc == 0
    return json.loads(capsys.readouterr().out)["period"]


@pytest.mark.slow
def test_settings_change_congestion_and_staffing_on_an_analysed_store(
    qtbot, filled: tuple[Path, Path, dt.date], tmp_path: Path,  # noqa: ANN001
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _, before_path, day = filled
    before = _period(filled, before_path, capsys)  # capacity 8, 3 visitors a salesperson
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig.model_validate(CONFIG))
    fig = view.figures
    assert fig.capacity.value() == 8 and fig.table.rowCount() == 0
    fig.capacity.setValue(4)
    fig.add_row()
    for col, text in enumerate((day.strftime("%a"), "00:00", "24:00", "2")):
        item = fig.table.item(0, col)
        assert item is not None
        item.setText(text)
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    after_path = write_file(sig.args[0], tmp_path / "config.toml")  # as Settings saves it
    after = _period(filled, after_path, capsys)

    assert after["visitors"] == before["visitors"] >= 1
    hours = list(zip(before["hours"], after["hours"], strict=True))
    assert hours
    for b, a in hours:
        assert a["people_peak"] == b["people_peak"]
        # congestion: the same people over half the capacity
        assert a["congestion"] == pytest.approx(round(b["people_peak"] / 4, 4))
        # on duty: the schedule's 2 salespeople instead of nobody on a tablet
        assert (b["on_duty"], a["on_duty"]) == (0, 2)
        if a["visitors"]:
            need = math.ceil(a["visitors"] / 3)
            assert b["staffing_adequacy"] == 0.0
            assert a["staffing_adequacy"] == pytest.approx(round(2 / need, 4))
    assert after["congestion_peak"] == pytest.approx(2 * before["congestion_peak"], abs=1e-3)
    assert after["staffing_adequacy"] > before["staffing_adequacy"] == 0.0
