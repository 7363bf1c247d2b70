"""Acceptance: alerts without a screen. `serve` runs as a child process with a camera
pointed at a closed port: `python main.py alerts --json` lists an open camera-offline
alert within the configured delay, the real HQ receiver (real PostgreSQL) gets it, and
it resolves, here and at HQ, once a real RTSP camera answers on that port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import tomli_w
from sqlalchemy import text

from tests.conftest import REPO
from tests.sync.conftest import Hq
from tests.vision.conftest import RtspServer, _check_system_gstreamer, free_port

DELAY_S = 3.0
T = TypeVar("T")


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "VITRINE_DATA_DIR": str(data), "VITRINE_STORE_PASSPHRASE": "test-pw-1234",
            "PYTHONPATH": str(REPO)}  # fmt: skip


def _config(hq: Hq, camera_port: int) -> dict[str, Any]:
    return {
        "store": {"id": hq.store_id, "name": "Alert test", "timezone": "Europe/Paris"},
        "cameras": [
            {"name": "door", "type": "rtsp", "url": f"rtsp://127.0.0.1:{camera_port}/cam"}
        ],
        "analysis": {"fps": 2, "detector": {"type": "fake"}},
        "lan": {"host": "127.0.0.1", "port": free_port(), "allow_http": True},
        "sync": {"enabled": True, "hq_url": hq.base_url, "store_key": hq.key, "interval_s": 5},
        "alerts": {"camera_offline": {"delay_s": DELAY_S}, "check_s": 5},
    }


class Serve:
    """`python main.py serve` with its stderr collected on a thread."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", "serve"], cwd=REPO, env=_env(data),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="serve-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(10)
        return code


def alerts_cli(data: Path, *args: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "main.py", "alerts", "--json", *args],
        cwd=REPO, env=_env(data), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if out.returncode != 0:
        return []  # e.g. the store is still being created by serve
    return list(json.loads(out.stdout)["alerts"])


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, serve: Serve) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        assert serve.proc.poll() is None, "serve exited:\n" + "\n".join(serve.lines[-30:])
        time.sleep(0.5)
    raise AssertionError(f"no {what} after {timeout:g} s; serve said:\n" + "\n".join(serve.lines))


def hq_alerts(hq: Hq) -> list[Any]:
    q = text(
        "SELECT alert_id, kind, subject, camera, ts, resolved_at, count FROM alerts "
        "WHERE store_id = :s"
    )
    with hq.engine.connect() as conn:
        return list(conn.execute(q, {"s": hq.store_id}))


def _log_time(line: str) -> float:
    """Seconds of the day of a log line ("2026-12-06 15:04:05,123 WARNING ...")."""
    clock = line.split()[1]
    h, m, rest = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))


@pytest.fixture
def camera_port() -> Iterator[int]:
    _check_system_gstreamer()
    yield free_port()  # nothing listens there (yet)


def test_camera_offline_alert_headless_listed_synced_and_resolved(
    hq: Hq, camera_port: int, _isolated_data_dir: Path, tmp_path: Path
) -> None:
    data = _isolated_data_dir
    (data / "config.toml").write_text(tomli_w.dumps(_config(hq, camera_port)))
    serve = Serve(data)
    camera: RtspServer | None = None
    try:
        started = time.monotonic()

        def open_alert() -> dict[str, Any] | None:
            return next(
                (a for a in alerts_cli(data) if a["kind"] == "camera_offline"
                 and a["subject"] == "door" and a["state"] == "open"),
                None,
            )  # fmt: skip

        alert = wait_for("open camera-offline alert", open_alert, 60, serve)
        took = time.monotonic() - started
        # the store's start-up, the first failed connection, then the delay
        assert alert["camera"] == "door" and alert["resolved_at"] is None
        assert "door is down: offline" in alert["message"]
        assert alert["opened_at"] >= time.time() - took - 1
        print(f"open alert listed {took:.1f} s after serve started (delay {DELAY_S:g} s)")
        assert took < 45

        rows = wait_for("the alert at HQ", lambda: hq_alerts(hq), 30, serve)
        assert [(r.alert_id, r.kind, r.subject, r.camera, r.resolved_at) for r in rows] == [
            (alert["id"], "camera_offline", "door", "door", None)
        ]

        camera = RtspServer(tmp_path, camera_port).start()

        def resolved() -> dict[str, Any] | None:
            if any(a["id"] == alert["id"] for a in alerts_cli(data)):
                return None  # still open
            return next((a for a in alerts_cli(data, "--all") if a["id"] == alert["id"]), None)

        done = wait_for("resolved alert", resolved, 90, serve)
        assert done["state"] == "resolved" and done["resolved_at"] >= alert["opened_at"]

        def resolved_at_hq() -> list[Any] | None:
            rows = hq_alerts(hq)
            return rows if rows and rows[0].resolved_at is not None else None

        rows = wait_for("the resolve at HQ", resolved_at_hq, 30, serve)
        assert len(rows) == 1 and rows[0].alert_id == alert["id"]
        assert abs(rows[0].resolved_at.timestamp() - done["resolved_at"]) < 0.01
    finally:
        code = serve.stop()
        if camera is not None:
            camera.stop()
    assert code == 0
    warn = [ln for ln in serve.lines if "WARNING app.alert_monitor" in ln]
    info = [ln for ln in serve.lines if "INFO app.alert_monitor" in ln]
    assert len(warn) == 1 and "[camera_offline door]" in warn[0], serve.lines
    # opened within the delay (plus the monitor's 1 s tick) of the camera's first failure
    first_down = next(ln for ln in serve.lines if "camera door: offline" in ln)
    lag = _log_time(warn[0]) - _log_time(first_down)
    assert DELAY_S - 0.1 <= lag <= DELAY_S + 1.5, (first_down, warn[0])
    print(f"alert opened {lag:.2f} s after the camera's first failure (delay {DELAY_S:g} s)")
    assert len(info) == 1 and "resolved after" in info[0], serve.lines
    # no free text at HQ: the alert's message stays in the store
    with hq.engine.connect() as conn:
        cols = {r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'alerts'"
        ))}  # fmt: skip
    assert "message" not in cols
