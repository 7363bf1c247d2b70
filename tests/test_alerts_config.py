"""The `alerts` settings table: defaults, ranges, unknown fields, TOML round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from app.alert_monitor import rule_params
from app.alerts import RULE_KINDS, RuleParams
from app.config import AppConfig, ConfigError, load_config, parse_config


def test_defaults() -> None:
    a = AppConfig().alerts
    assert a.camera_offline.delay_s == 30 and a.camera_offline.enabled
    assert (a.queue.max_length, a.queue.max_wait_s) == (6, 300)
    assert a.over_capacity.clear_s == 60 and a.disk.min_free_mb == 1024
    params = rule_params(AppConfig())
    assert set(params) == set(RULE_KINDS)
    assert params["camera_offline"] == RuleParams(True, 30, 0, 300)


@pytest.mark.parametrize(
    ("alerts", "where"),
    [
        ({"camera_offline": {"delay_s": -1}}, "alerts.camera_offline.delay_s"),
        ({"camera_offline": {"delay_s": 90000}}, "alerts.camera_offline.delay_s"),
        ({"queue": {"max_length": 5000}}, "alerts.queue.max_length"),
        ({"disk": {"min_free_pct": 100}}, "alerts.disk.min_free_pct"),
        ({"retention": {"max_age_h": 0}}, "alerts.retention.max_age_h"),
        ({"check_s": 0}, "alerts.check_s"),
        ({"camera_offline": {"delay": 5}}, "alerts.camera_offline.delay"),  # a typo
        ({"webhook": {}}, "alerts.webhook"),
    ],
)
def test_bad_values_are_one_line_naming_the_field(alerts: dict, where: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"alerts": alerts})
    assert where in str(err.value) and "\n" not in str(err.value)


def test_toml_round_trip(tmp_path: Path) -> None:
    data = {"alerts": {"camera_offline": {"delay_s": 5}, "queue": {"max_length": 0}}}
    p = tmp_path / "config.toml"
    p.write_text(tomli_w.dumps(data))
    cfg = load_config(p)
    assert cfg.alerts.camera_offline.delay_s == 5 and cfg.alerts.queue.max_length == 0
    again = parse_config(cfg.model_dump(mode="json"))
    assert again.alerts == cfg.alerts
