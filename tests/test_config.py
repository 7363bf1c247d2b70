"""The settings tree: defaults, the minimal analyze form, and clear messages for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import AppConfig, ConfigError, dump_config, load_config, parse_config

MINIMAL_JSON = """{"lines": [{"name": "door", "start": [48, 180], "end": [432, 180]}],
 "zones": [{"name": "counter", "polygon": [[10, 10], [200, 10], [200, 150], [10, 150]]}]}"""

MINIMAL_TOML = """
[[lines]]
name = "door"
start = [48, 180]
end = [432, 180]

[[zones]]
name = "counter"
polygon = [[10, 10], [200, 10], [200, 150], [10, 150]]
"""


@pytest.mark.parametrize(("name", "text"), [("c.json", MINIMAL_JSON), ("c.toml", MINIMAL_TOML)])
def test_minimal_forms_load(tmp_path: Path, name: str, text: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    cfg = load_config(p)
    assert cfg.lines[0].name == "door"
    assert cfg.lines[0].start == (48, 180)
    assert cfg.zones[0].polygon[2] == (200, 150)
    assert cfg.analysis.fps == 5.0
    assert cfg.store.privacy_mode == "anonymous"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}, "zones.0.polygon"),
        ({"lines": [{"name": "l", "start": [0, 0], "end": [0, 0]}]}, "same point"),
        ({"analysis": {"fps": 0}}, "analysis.fps"),
        ({"analysis": {"fsp": 5}}, "analysis.fsp: Extra inputs are not permitted"),
        ({"cameras": [{"name": "a", "type": "rtsp"}]}, "needs its address"),
        (
            {"lines": [{"name": "l", "start": [0, 0], "end": [1, 0]}] * 2},
            "more than one is called “l”",
        ),
        ({"entrances": [{"name": "e", "line": "x", "zone": "y"}]}, "unknown line 'x'"),
        (
            {
                "cameras": [{"name": "a", "type": "usb"}],
                "zones": [{"name": "z", "camera": "b", "polygon": [[0, 0], [1, 0], [1, 1]]}],
            },
            "unknown camera 'b'",
        ),
    ],
)
def test_bad_config_names_field_and_problem(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "store.toml")
    msg = str(err.value)
    assert msg.startswith("store.toml: ")
    assert fragment in msg
    assert "\n" not in msg


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[lines]\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(bad_json)


def test_secrets_masked_in_display_and_kept_for_saving() -> None:
    cfg = AppConfig.model_validate(
        {"cameras": [{"name": "door", "type": "rtsp", "url": "rtsp://cam/1", "password": "s3cr3t"}]}
    )
    assert "s3cr3t" not in repr(cfg)
    assert "s3cr3t" not in str(dump_config(cfg, reveal_secrets=False))
    saved = dump_config(cfg)
    assert saved["cameras"][0]["password"] == "s3cr3t"
    assert AppConfig.model_validate(saved).cameras[0].password.get_secret_value() == "s3cr3t"


def test_every_field_is_described() -> None:
    from pydantic import BaseModel

    def walk(model: type[BaseModel]) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                missing += walk(ann)
            elif not field.description:
                missing.append(f"{model.__name__}.{name}")
        return missing

    undocumented = [m for m in walk(AppConfig) if not m.startswith("AppConfig.")]
    assert undocumented == []
