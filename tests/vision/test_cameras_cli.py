"""`python main.py cameras list|add|remove|test` against a real RTSP camera with Basic
auth: the password typed in the URL (or on stdin) goes to the secret store, never to
config.toml, the output or the logs; `test` connects with it."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli.main import main
from app.store.db import open_store
from app.store.settings_store import config_path, load_config
from tests.vision.conftest import RtspServer

USER, PASSWORD = "viewer", "Rtsp-S3cret-9"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["cameras", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cameras_command_end_to_end(
    rtsp_server_factory: Callable[..., RtspServer],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    _isolated_data_dir: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    cam = rtsp_server_factory(user=USER, password=PASSWORD)
    with_creds = cam.url.replace("rtsp://", f"rtsp://{USER}:{PASSWORD}@")
    code, out, _ = _run(capsys, "add", "Door", with_creds)
    assert code == 0 and f"camera Door added: rtsp {cam.url} " in out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, _ = _run(capsys, "add", "Till", cam.url, "--user", USER, "--password-stdin")
    assert code == 0
    code, out, _ = _run(capsys, "add", "Wrong", f"rtsp://{USER}:nope@127.0.0.1:{cam.port}/cam")
    assert code == 0
    code, listing, _ = _run(capsys, "list")
    assert code == 0 and listing.count("password in the encrypted store") == 3
    assert f"Door: rtsp {cam.url} (user {USER}, password in the encrypted store)" in listing

    for name in ("Door", "Till"):
        code, out, _ = _run(capsys, "test", name)
        assert (code, out.strip()) == (0, f"camera {name}: ok, a 480x360 picture from {cam.url}")
    code, out, _ = _run(capsys, "test", "Wrong")
    assert code == 1 and "FAILED" in out and "wrong user name or password" in out

    code, out, err = _run(capsys, "remove", "Nope")
    assert code == 2 and err.count("\n") == 1 and "no camera called 'Nope'" in err
    code, out, err = _run(capsys, "add", "Door", cam.url)
    assert code == 2 and "already a camera called 'Door'" in err
    assert _run(capsys, "remove", "Wrong")[0] == 0

    assert PASSWORD not in config_path().read_text() and "nope" not in config_path().read_text()
    assert PASSWORD not in caplog.text and PASSWORD not in listing
    with open_store() as store:  # the desktop reads what the command saved
        cfg, _ = load_config(store)
    assert [c.name for c in cfg.cameras] == ["Door", "Till"]
    assert all(c.password.get_secret_value() == PASSWORD for c in cfg.cameras)
