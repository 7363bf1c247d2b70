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
    assert cfg.lines[0].door  # a line is a door of the store unless it says otherwise
    assert cfg.zones[0].in_store  # a zone is part of the head count unless it says otherwise


def test_a_line_inside_the_store_is_not_a_door(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text(MINIMAL_TOML.replace("end = [432, 180]", "end = [432, 180]\ndoor = false"))
    cfg = load_config(p)
    assert cfg.lines[0].door is False
    assert parse_config(dump_config(cfg)).lines[0].door is False  # as saved
    with pytest.raises(ConfigError, match="lines.0.door"):
        parse_config({"lines": [{"name": "l", "start": [0, 0], "end": [1, 0], "door": "maybe"}]})


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
    assert_refused_in_one_line(data, fragment)


def assert_refused_in_one_line(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "store.toml")
    msg = str(err.value)
    assert msg.startswith("store.toml: ")
    assert fragment in msg
    assert "\n" not in msg


LINE = {"name": "door", "start": [48, 180], "end": [432, 180]}


def _zone(polygon: list[list[float]]) -> dict:
    return {"lines": [LINE], "zones": [{"name": "counter", "polygon": polygon}]}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"lines": [{**LINE, "start": [48, float("inf")]}]},
            "lines.0.start.1: must be a finite number, not inf",
        ),
        (
            _zone([[10, 10], [200, 10], [float("nan"), 150]]),
            "zones.0.polygon.2.0: must be a finite number, not nan",
        ),
        ({"analysis": {"fps": float("inf")}}, "analysis.fps: must be a finite number"),
        ({"analysis": {"stitch_radius": float("nan")}}, "analysis.stitch_radius: must be a finite"),
        ({"analysis": {"motion": {"min_changed": float("nan")}}}, "analysis.motion.min_changed"),
        ({"analysis": {"tracker": {"match_iou": float("nan")}}}, "analysis.tracker.match_iou"),
        ({"lines": [{**LINE, "hysteresis_px": float("-inf")}]}, "lines.0.hysteresis_px: must be"),
        ({"retention": {"raw_events_days": float("inf")}}, "retention.raw_events_days: must be"),
        (
            {"cameras": [{"name": "a", "type": "usb", "analysis_fps": float("nan")}]},
            "cameras.0.analysis_fps: must be a finite number",
        ),
        (
            _zone([[10, 10], [100, 100], [200, 200]]),
            "zones.0.polygon: zone 'counter': the polygon has no area",
        ),
        (
            _zone([[0, 0], [50, 0], [100, 0], [50, 0]]),
            "zones.0.polygon: zone 'counter': the polygon has no area",
        ),
        (
            _zone([[10, 10], [200, 150], [200, 10], [10, 150]]),
            "zones.0.polygon: zone 'counter': the polygon's edges cross each other",
        ),
        (
            _zone([[0, 0], [100, 0], [100, 100], [50, 0], [0, 100]]),
            "zone 'counter': the polygon's edges cross each other",
        ),
        (
            {"analysis": {"tracker": {"low_thresh": 0.9, "high_thresh": 0.2}}},
            "analysis.tracker: low_thresh (0.9) must be below high_thresh (0.2)",
        ),
        (
            {"analysis": {"tracker": {"low_thresh": 0.5}}},
            "low_thresh (0.5) must be below high_thresh (0.5)",
        ),
    ],
)
def test_stricter_checks_name_field_and_problem(data: dict, fragment: str) -> None:
    assert_refused_in_one_line(data, fragment)


@pytest.mark.parametrize(
    "polygon",
    [
        [[10, 10], [200, 10], [200, 150], [10, 150]],
        [[10, 10], [200, 10], [200, 150], [10, 150], [10, 10]],  # closed by repeating the first
        [[10, 10], [10, 10], [200, 10], [200, 150]],  # a point placed twice
        [[0, 0], [100, 0], [100, 100], [50, 20], [0, 100]],  # concave
        [[0, 0], [50, 0], [100, 0], [100, 100]],  # three vertices on one edge
        [[0.5, 0.25], [479.75, 0.5], [240.125, 359.5]],
    ],
)
def test_valid_polygons_still_load(polygon: list[list[float]]) -> None:
    cfg = parse_config(_zone(polygon))
    assert cfg.zones[0].polygon[0] == tuple(polygon[0])


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.json", '{"analysis": {"fps": 1e309}}'),
        ("c.json", '{"analysis": {"fps": NaN}}'),
        ("c.toml", "[analysis]\nfps = inf\n"),
        ("c.toml", "[analysis]\nfps = nan\n"),
    ],
)
def test_non_finite_numbers_in_files(tmp_path: Path, name: str, text: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ConfigError, match=r"analysis\.fps: must be a finite number, not (inf|nan)"):
        load_config(p)


@pytest.mark.parametrize(("name", "text"), [("c.json", MINIMAL_JSON), ("c.toml", MINIMAL_TOML)])
def test_byte_order_mark_is_accepted(tmp_path: Path, name: str, text: str) -> None:
    p = tmp_path / name
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cfg = load_config(p)
    assert cfg.lines[0].name == "door"
    assert cfg.zones[0].name == "counter"


def test_tracker_thresholds_checked_on_assignment() -> None:
    cfg = AppConfig()
    with pytest.raises(ValueError, match="low_thresh"):
        cfg.analysis.tracker.low_thresh = 0.7


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


SQUARE = [[10, 10], [200, 10], [200, 150], [10, 150]]


@pytest.mark.parametrize(
    ("cameras", "shape_camera", "resolved"),
    [
        ([], "", ""),  # no camera yet: nothing to resolve
        (["door", "till"], "", "door"),  # empty means the first camera
        (["door", "till"], "till", "till"),  # a named camera is kept
        (["door"], "door", "door"),
    ],
)
def test_camera_references_resolved_on_validation(
    cameras: list[str], shape_camera: str, resolved: str
) -> None:
    cfg = AppConfig.model_validate(
        {
            "cameras": [{"name": n, "type": "fake"} for n in cameras],
            "zones": [{"name": "z", "camera": shape_camera, "polygon": SQUARE}],
            "lines": [{"name": "l", "camera": shape_camera, "start": [0, 0], "end": [9, 9]}],
        }
    )
    assert (cfg.zones[0].camera, cfg.lines[0].camera) == (resolved, resolved)
    assert [z.name for z in cfg.zones_of(resolved)] == ["z"]
    assert [ln.name for ln in cfg.lines_of(resolved)] == ["l"]
    others = [n for n in cameras if n != resolved]
    assert all(not cfg.zones_of(n) and not cfg.lines_of(n) for n in others)


def test_resolving_cameras_keeps_shapes_when_the_first_camera_goes() -> None:
    from app.config import CameraConfig, ZoneConfig

    zone = ZoneConfig(name="z", polygon=SQUARE)  # type: ignore[arg-type]
    cfg = AppConfig(
        cameras=[CameraConfig(name="a", type="fake"), CameraConfig(name="b", type="fake")],
        zones=[zone],
    )
    assert cfg.zones[0].camera == "a" and zone.camera == "", "the caller's zone is not changed"
    data = cfg.model_dump()
    data["cameras"] = [c for c in data["cameras"] if c["name"] != "b"][::-1]
    data["cameras"].insert(0, {"name": "new", "type": "fake"})
    again = AppConfig.model_validate(data)  # a camera added in front: z stays on "a"
    assert again.zones_of("a") == again.zones and not again.zones_of("new")
    saved = dump_config(again)
    assert saved["zones"][0]["camera"] == "a"  # saved with its real camera name


def _store_with_two_cameras() -> AppConfig:
    return AppConfig.model_validate(
        {
            "cameras": [{"name": "a", "type": "fake"}, {"name": "b", "type": "fake"}],
            "zones": [
                {"name": "za", "camera": "a", "polygon": SQUARE},
                {"name": "zb", "camera": "b", "polygon": SQUARE},
            ],
            "lines": [
                {"name": "la", "camera": "a", "start": [0, 0], "end": [9, 9]},
                {"name": "lb", "camera": "b", "start": [0, 0], "end": [9, 9]},
            ],
            "entrances": [{"name": "ea", "line": "la", "zone": "za"}],
        }
    )


@pytest.mark.parametrize(
    ("name", "replacing", "cameras", "za_camera"),
    [
        ("c", None, ["a", "b", "c"], "a"),  # added at the end
        ("a", "a", ["a", "b"], "a"),  # edited in place
        ("front", "a", ["front", "b"], "front"),  # renamed: its zones and lines follow
    ],
)
def test_with_camera(name: str, replacing: str | None, cameras: list[str], za_camera: str) -> None:
    from app.config import CameraConfig

    cfg = _store_with_two_cameras()
    new = cfg.with_camera(CameraConfig(name=name, type="fake"), replacing)
    assert [c.name for c in new.cameras] == cameras
    assert [z.name for z in new.zones_of(za_camera)] == ["za"]
    assert [ln.name for ln in new.lines_of(za_camera)] == ["la"]
    assert [z.camera for z in cfg.zones] == ["a", "b"]  # the old config is unchanged


def test_without_camera_takes_its_zones_lines_and_entrances() -> None:
    cfg = _store_with_two_cameras().without_camera("a")
    assert [c.name for c in cfg.cameras] == ["b"]
    assert [z.name for z in cfg.zones] == ["zb"] and [ln.name for ln in cfg.lines] == ["lb"]
    assert cfg.entrances == []
    assert _store_with_two_cameras().without_camera("b").entrances[0].name == "ea"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("rtsp://10.0.0.5:554/stream", True),
        ("rtsp://admin:pw@cam.local/x", True),
        ("http://[::1]:8080/video", True),
        ("rtsp://", False),
        ("rtsp://admin:pw@", False),
        ("rtsp://u:p@h:99999/x", False),
        ("rtsp://admin:x@host:port/x", False),
        ("http://[::1", False),
        ("http://admin:secret2@[::1/x", False),
        ("ftp://cam/x", False),
    ],
)
def test_an_ip_camera_needs_an_address_that_opens(url: str, accepted: bool) -> None:
    """Refused when added (desktop, `cameras add`, a file), not later by the engine; the
    message never repeats a password typed in the address."""
    data = {"cameras": [{"name": "Door", "type": "rtsp", "url": url}]}
    if accepted:
        assert parse_config(data).cameras[0].url
        return
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "cameras.0" in str(err.value) and "address" in str(err.value)
    assert "secret2" not in str(err.value) and ":pw" not in str(err.value)
