"""app.settings: config.toml without secrets, secrets in a vault, migration of clear
secrets, credentials typed inside a camera URL, and the hq_url rule."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from app import settings
from app.config import (
    AppConfig,
    CameraConfig,
    ConfigError,
    SyncConfig,
    is_loopback_url,
    parse_config,
    split_url_credentials,
)
from app.settings import MemoryVault


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:pw@10.0.0.5:554/live", ("rtsp://10.0.0.5:554/live", "admin", "pw")),
        ("rtsp://admin@10.0.0.5/live", ("rtsp://10.0.0.5/live", "admin", "")),
        ("rtsp://a%40b:p%3Aw%40d@host/x", ("rtsp://host/x", "a@b", "p:w@d")),
        ("http://u:p@cam.local/video.mjpg?x=1", ("http://cam.local/video.mjpg?x=1", "u", "p")),
        ("rtsp://10.0.0.5/live", ("rtsp://10.0.0.5/live", "", "")),
        ("/videos/a@b.mp4", ("/videos/a@b.mp4", "", "")),  # a file, not a network URL
        ("", ("", "", "")),
    ],
    ids=["user+password", "user only", "percent-encoded", "http", "none", "file", "empty"],
)
def test_credentials_are_split_out_of_urls(url: str, expected: tuple[str, str, str]) -> None:
    assert split_url_credentials(url) == expected


@pytest.mark.parametrize(
    ("fields", "url", "user", "password"),
    [
        ({"url": "rtsp://admin:pw@h/x"}, "rtsp://h/x", "admin", "pw"),
        ({"url": "rtsp://admin:new@h/x", "password": "old"}, "rtsp://h/x", "admin", "new"),
        ({"url": "rtsp://bob:pw@h/x", "username": "alice"}, "rtsp://h/x", "alice", "pw"),
        ({"url": "rtsp://h/x", "username": "u", "password": "p"}, "rtsp://h/x", "u", "p"),
    ],
    ids=["moved", "url password wins", "username field wins", "fields kept"],
)
def test_camera_config_moves_url_credentials(
    fields: dict[str, str], url: str, user: str, password: str
) -> None:
    cam = CameraConfig.model_validate({"name": "Door", "type": "rtsp", **fields})
    assert (cam.url, cam.username, cam.password.get_secret_value()) == (url, user, password)


@pytest.mark.parametrize(
    ("hq_url", "allow", "ok"),
    [
        ("https://hq.example.com", False, True),
        ("http://127.0.0.1:8000", False, True),
        ("http://127.8.9.1", False, True),
        ("http://localhost:8000/", False, True),
        ("http://[::1]:8000", False, True),
        ("http://hq.example.com", False, False),
        ("HTTP://10.0.0.2:8000", False, False),
        ("http://hq.example.com", True, True),
        ("", False, True),
    ],
)
def test_plain_http_to_another_machine_needs_an_explicit_setting(
    hq_url: str, allow: bool, ok: bool
) -> None:
    data = {"sync": {"hq_url": hq_url, "allow_insecure_http": allow}}
    if ok:
        assert parse_config(data).sync.hq_url == hq_url
        return
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "config.toml")
    msg = str(exc.value)
    assert "\n" not in msg and "sync.allow_insecure_http" in msg and "https://" in msg


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1", True),
        ("http://localhost", True),
        ("http://192.168.1.2", False),
        ("http://localhost.evil.com", False),
        ("not a url", False),
    ],  # fmt: skip
)
def test_loopback(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def _cfg() -> AppConfig:
    return AppConfig(
        cameras=[
            CameraConfig(name="Door", type="rtsp", url="rtsp://admin:pw1@10.0.0.5/live"),
            CameraConfig(name="Till", type="rtsp", url="rtsp://10.0.0.6/live"),
        ],
        sync=SyncConfig(enabled=True, hq_url="https://hq.example", store_key=SecretStr("k3y")),
    )


def test_secrets_round_trip_through_the_vault_never_the_file(tmp_path: Path) -> None:
    path, vault = tmp_path / "config.toml", MemoryVault()
    settings.save_settings(_cfg(), vault, path)
    text = path.read_text()
    assert "pw1" not in text and "k3y" not in text and "admin" in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert vault.secrets == {"cameras.Door.password": "pw1", "sync.store_key": "k3y"}
    back = settings.load_settings(path, vault)
    assert back.cameras[0].password.get_secret_value() == "pw1"
    assert back.sync.store_key.get_secret_value() == "k3y"
    assert not back.cameras[1].password.get_secret_value()
    # a camera removed: its password is forgotten at the next save
    settings.save_settings(back.model_copy(update={"cameras": back.cameras[1:]}), vault, path)
    assert vault.secrets == {"sync.store_key": "k3y"}


def test_clear_secrets_in_an_old_file_move_to_the_vault(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "config.toml"
    path.write_text(
        '[[cameras]]\nname = "Door"\ntype = "rtsp"\nurl = "rtsp://admin:Pa55@10.0.0.5/x"\n'
        '[sync]\nhq_url = "https://hq.example"\nstore_key = "k3y"\n'
    )
    vault = MemoryVault({"cameras.Old.password": "kept"})
    cfg = settings.load_settings(path, vault)
    assert cfg.cameras[0].url == "rtsp://10.0.0.5/x" and cfg.cameras[0].username == "admin"
    assert vault.secrets == {
        "cameras.Old.password": "kept",
        "cameras.Door.password": "Pa55",
        "sync.store_key": "k3y",
    }
    text = path.read_text()
    assert "Pa55" not in text and "k3y" not in text
    assert "Pa55" not in caplog.text and "k3y" not in caplog.text


def test_the_file_wins_for_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    settings.write_file(_cfg(), path)
    vault = MemoryVault({"cameras.Door.password": "from-vault"})
    path.write_text(path.read_text().replace('name = "Till"', 'name = "Back"'))
    cfg = settings.load_settings(path, vault)
    assert [c.name for c in cfg.cameras] == ["Door", "Back"]
    assert cfg.cameras[0].password.get_secret_value() == "from-vault"


def test_without_a_file_the_fallback_or_defaults(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    default = settings.load_settings(missing, MemoryVault())
    assert default.cameras == [] and default.store.name == AppConfig().store.name
    assert not missing.exists()  # loading never writes a file
    fallback = settings.without_secrets(_cfg())
    got = settings.load_settings(missing, MemoryVault({"sync.store_key": "k3y"}), fallback)
    assert got.sync.store_key.get_secret_value() == "k3y" and got.cameras[0].name == "Door"


def test_a_bad_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sync]\nhq_url = "http://hq.example.com"\n')
    with pytest.raises(ConfigError) as exc:
        settings.load_settings(path, MemoryVault())
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (
            lambda c: settings.add_camera(c, {"name": "Door", "type": "rtsp", "url": "rtsp://h"}),
            "already a camera called 'Door'",
        ),
        (
            lambda c: settings.add_camera(c, {"name": "X", "type": "rtsp", "url": ""}),
            "needs its address",
        ),
        (lambda c: settings.remove_camera(c, "Nope"), "no camera called 'Nope'"),
    ],  # fmt: skip
    ids=["duplicate", "no url", "unknown"],
)
def test_camera_edits_refuse_bad_input_in_one_line(action, error: str) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError, match=error) as exc:
        action(_cfg())
    assert "\n" not in str(exc.value)


def test_camera_edits() -> None:
    cfg = settings.add_camera(
        _cfg(), {"name": "Back", "type": "rtsp", "url": "rtsp://u:s3@10.0.0.7/x"}
    )
    back = cfg.cameras[-1]
    assert back.url == "rtsp://10.0.0.7/x" and back.password.get_secret_value() == "s3"
    assert cfg.cameras[0].password.get_secret_value() == "pw1"  # the others keep theirs
    data = cfg.model_dump(mode="json")
    data["cameras"][-1]["password"] = "s3"
    data["zones"] = [{"name": "Z", "camera": "Back", "polygon": [(0, 0), (9, 0), (9, 9)]}]
    used = parse_config(data)
    with pytest.raises(ConfigError, match="used by Z"):
        settings.remove_camera(used, "Back")
    assert [c.name for c in settings.remove_camera(cfg, "Back").cameras] == ["Door", "Till"]
