"""`python main.py serve`: a headless LAN server that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "VITRINE_DATA_DIR": str(tmp), "VITRINE_STORE_PASSPHRASE": "test-pw-1234"}


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "serve",
            "--http",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--no-engine",
            "--pair",
        ],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "pairing code" in line:
                break
        assert any(f"http://127.0.0.1:{port}/tablet/" in ln for ln in lines), lines
        code = lines[-1].split("pairing code ")[1].split()[0]
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/me").status_code == 401
        assert httpx.get(f"{base}/api/v1/pairing", params={"code": code}).status_code == 200
        page = httpx.get(f"{base}/tablet/")
        assert page.status_code == 200 and "js/app.js" in page.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_bad_arguments_are_one_line(tmp_path: Path) -> None:
    for args, want in (
        (["--port", "70000"], "--port must be 1 to 65535"),
        (["--config", str(tmp_path / "nope.toml")], "no such config file"),
    ):
        r = subprocess.run(
            [sys.executable, "main.py", "serve", "--no-engine", *args],
            cwd=REPO,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2
        assert r.stderr.strip().count("\n") == 0 and want in r.stderr


def test_serve_says_what_it_counts_or_that_nothing_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from app.cli.serve import _cameras_line
    from app.config import AppConfig

    monkeypatch.setenv("VITRINE_DATA_DIR", str(tmp_path))
    line = _cameras_line(AppConfig(), argparse.Namespace(config=None))
    assert line.startswith("no cameras configured") and str(tmp_path / "config.toml") in line
    cfg = AppConfig.model_validate(
        {
            "cameras": [{"name": "Front", "type": "file", "url": "clip.mp4"}],
            "zones": [{"name": "Door", "polygon": [[0, 0], [9, 0], [9, 9]]}],
        }
    )
    assert _cameras_line(cfg, argparse.Namespace(config=None)) == "cameras: Front; zones: Door"


def test_serve_prints_when_a_camera_is_live_and_when_it_is_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import threading

    from app.cli.serve import _LivePrinter
    from app.events import CameraStatus

    stop = threading.Event()
    printer = _LivePrinter(stop)
    for status, message in [
        ("connecting", ""),
        ("live", "rtsp://***@cam/1"),
        ("live", "rtsp://***@cam/1 (10.0 fps)"),  # the rate: not news
        ("offline", "stream lost; reconnecting"),  # logged as a warning, not printed
        ("connecting", ""),
        ("live", "rtsp://***@cam/1"),
    ]:
        printer(CameraStatus(camera="door", status=status, message=message))  # type: ignore[arg-type]
    stop.set()
    printer(CameraStatus(camera="door", status="offline"))
    printer(CameraStatus(camera="door", status="live"))
    lines = [ln.split(" ", 1)[1] for ln in capsys.readouterr().out.splitlines()]
    assert lines == ["camera door: live", "camera door: live again (was offline)"]
