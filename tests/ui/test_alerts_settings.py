"""The Settings page's Alerts group: each rule's switch and threshold, saved into the
`alerts` settings and checked by the settings tree."""

from __future__ import annotations

from app.config import AppConfig
from app.ui.settings_view import SettingsView


def test_alert_thresholds_show_and_save(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    group = view.alerts
    assert group.values[("camera_offline", "delay_s")].value() == 30
    assert group.values[("queue", "max_wait_s")].value() == 5  # minutes
    assert all(box.isChecked() for box in group.enabled.values())
    group.values[("camera_offline", "delay_s")].setValue(45)
    group.values[("queue", "max_length")].setValue(4)
    group.values[("queue", "max_wait_s")].setValue(2.5)
    group.values[("disk", "min_free_pct")].setValue(10)
    group.enabled["over_capacity"].setChecked(False)
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    a = sig.args[0].alerts
    assert (a.camera_offline.delay_s, a.queue.max_length, a.queue.max_wait_s) == (45, 4, 150)
    assert a.disk.min_free_pct == 10 and not a.over_capacity.enabled
    assert a.camera_offline.cooldown_s == AppConfig().alerts.camera_offline.cooldown_s  # kept
    view.set_config(sig.args[0])
    assert not group.enabled["over_capacity"].isChecked()
    assert group.values[("queue", "max_wait_s")].value() == 2.5
    # the queue's switch turns both of its limits off (length and wait), visibly
    group.enabled["queue"].setChecked(False)
    assert not group.values[("queue", "max_length")].isEnabled()
    assert not group.values[("queue", "max_wait_s")].isEnabled()
    view.set_config(AppConfig.model_validate({"alerts": {"queue": {"enabled": False}}}))
    assert not group.values[("queue", "max_wait_s")].isEnabled()
    assert group.values[("disk", "min_free_pct")].isEnabled()


def test_an_alert_threshold_out_of_range_is_refused_with_its_name(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    view.alerts.values[("camera_offline", "delay_s")].setValue(200000)
    emitted: list[AppConfig] = []
    view.save_requested.connect(emitted.append)
    assert not view.save()
    assert view.error.text().startswith("Alerts: camera offline after"), view.error.text()
    assert emitted == []
