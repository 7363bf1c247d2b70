"""The Settings page's "Alerts" group: each rule on or off and its threshold (the rules
themselves live in app/alerts.py; their timings beyond these are in config.toml)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout

from app.config import AppConfig

ALERT_LABELS = {
    "alerts.camera_offline.delay_s": "Alerts: camera offline after",
    "alerts.queue.max_length": "Alerts: queue longer than",
    "alerts.queue.max_wait_s": "Alerts: wait longer than",
    "alerts.sync_backlog.max_age_h": "Alerts: HQ data waiting more than",
    "alerts.disk.min_free_pct": "Alerts: free disk space under",
    "alerts.retention.max_age_h": "Alerts: retention not run for",
    "alerts.camera_moved.min_similarity": "Alerts: camera view alike its reference under",
    "alerts.count_drift.max_z": "Alerts: entries off their weekday pattern beyond",
}
# (settings rule, field, label, suffix, lo, hi, decimals, scale: shown = stored / scale);
# the ranges may be wider than allowed: the settings tree says what is valid
ROWS: list[tuple[str, str, str, str, float, float, int, float]] = [
    ("camera_offline", "delay_s", "A camera is offline for", " s", 0, 10**6, 0, 1),
    ("queue", "max_length", "A queue is longer than", " people", 0, 1000, 0, 1),
    ("queue", "max_wait_s", "Someone waits in a queue more than", " min", 0, 1440, 1, 60),
    ("sync_backlog", "max_age_h", "Data for HQ waits more than", " h", 0.1, 2160, 1, 1),
    ("disk", "min_free_pct", "The data disk has less free than", " %", 0, 99, 0, 1),
    ("retention", "max_age_h", "Old data is not deleted for", " h", 1, 2160, 0, 1),
    # the drift check: both ask for a new counting audit (README "Counting audit")
    ("camera_moved", "min_similarity", "A camera's view is alike its reference under", "",
     0, 1, 2, 1),
    ("count_drift", "max_z", "A camera's entries are off their weekday pattern beyond",
     " z", 0.5, 100, 1, 1),
]  # fmt: skip


class AlertsGroup(QGroupBox):
    """One row per rule: a check box (the rule on) and its threshold (a queue limit
    of 0 is off)."""

    def __init__(self) -> None:
        super().__init__("Alerts")
        f = QFormLayout(self)
        self.enabled: dict[str, QCheckBox] = {}
        self.values: dict[tuple[str, str], QDoubleSpinBox] = {}
        capacity = QCheckBox("A zone has more people than its capacity (set in the zone editor)")
        self.enabled["over_capacity"] = capacity
        for rule, field, label, suffix, lo, hi, decimals, _ in ROWS:
            row = QHBoxLayout()
            row.setSpacing(8)
            box = self.enabled.get(rule)
            if box is None:
                box = self.enabled[rule] = QCheckBox()
                row.addWidget(box)
            else:  # a second limit of the same rule: in line with the first one's field
                row.addSpacing(box.sizeHint().width() + row.spacing())
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setDecimals(decimals)
            spin.setSuffix(suffix)
            self.values[(rule, field)] = spin
            box.toggled.connect(spin.setEnabled)  # one switch per rule, for all its limits
            row.addWidget(spin, 1)
            f.addRow(label, row)
        f.addRow("", capacity)

    def set_config(self, cfg: AppConfig) -> None:
        a = cfg.alerts
        for rule, box in self.enabled.items():
            box.setChecked(bool(getattr(a, rule).enabled))
        for rule, field, *_, scale in ROWS:
            value = getattr(getattr(a, rule), field)
            spin = self.values[(rule, field)]
            spin.setValue(float(value) / scale)
            spin.setEnabled(self.enabled[rule].isChecked())

    def apply(self, alerts: dict[str, Any]) -> None:
        """Write the form into the `alerts` part of a config dict."""
        for rule, box in self.enabled.items():
            alerts[rule]["enabled"] = box.isChecked()
        for rule, field, *_, decimals, scale in ROWS:
            value = self.values[(rule, field)].value() * scale
            alerts[rule][field] = round(value) if decimals == 0 else value
