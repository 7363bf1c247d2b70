"""Issue 17's acceptance test: an RTSP camera with a password (typed inside its URL) and
an HQ store key, configured through the desktop's own code, then `serve` started as a
child process with no passphrase and no one at the keyboard (automatic unlock): the
camera goes live with its password and HQ accepts batches signed with the store key.
No secret appears in clear in any file of the data directory, nor in serve's output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

import app.ui.app as desktop
from app.config import AppConfig, StoreIdentity, SyncConfig, ZoneConfig
from app.store.db import default_path, open_store
from app.store.keys import PASSPHRASE_ENV, resolve_key
from app.ui.camera_dialog import CameraForm
from app.ui.config_store import save_config
from app.ui.workers import Background
from tests.conftest import REPO
from tests.sync.conftest import Hq
from tests.vision.conftest import RtspServer, free_port, rtsp_server_factory  # noqa: F401

CAM_USER, CAM_PASSWORD = "admin", "Cam-S3cret-42"
PASSPHRASE = "test-passphrase"  # tests/conftest.py


def _configure_in_the_desktop(qtbot, camera: RtspServer, hq: Hq, monkeypatch) -> str:  # noqa: ANN001
    """What a manager does in the desktop: the store opened with its passphrase and "Unlock
    automatically on this computer" ticked, an IP camera typed with its password inside
    the URL, HQ sync with the store key. Returns the recovery key shown once."""
    shown: list[str] = []
    monkeypatch.setattr(desktop, "show_recovery_key", lambda key, parent: shown.append(key))
    store = open_store(passphrase=PASSPHRASE)
    background = Background()
    try:
        desktop.set_auto_unlock(store.path, PASSPHRASE, True, None)
        form = CameraForm(background)
        qtbot.addWidget(form)
        form.set_kind("rtsp")
        form.name.setText("Door")
        form.url.setText(camera.url.replace("rtsp://", f"rtsp://{CAM_USER}:{CAM_PASSWORD}@"))
        cam = form.camera_config()
        cfg = AppConfig(
            store=StoreIdentity(id=hq.store_id, name="Rivoli", timezone="Europe/Paris"),
            cameras=[cam],
            zones=[ZoneConfig(name="All", polygon=[(0, 0), (480, 0), (480, 360), (0, 360)])],
            sync=SyncConfig(
                enabled=True, hq_url=hq.base_url, store_key=SecretStr(hq.key), interval_s=5
            ),
        )
        save_config(store, cfg, "desktop").result(timeout=30)
    finally:
        background.shutdown()
        store.close()
    assert len(shown) == 1
    return shown[0]


class _Serve:
    """`python main.py -v serve` with no passphrase in its environment and no stdin."""

    def __init__(self, data: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
        self.stderr_path = data.parent / "serve-stderr.log"
        self._err = self.stderr_path.open("wb")
        cmd = [sys.executable, "main.py", "-v", "serve", "--http", "--host", "127.0.0.1",
               "--port", str(free_port())]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._err, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="serve-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, what: Callable[[], bool], timeout: float, why: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited ({self.proc.returncode}): {self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{why} within {timeout:.0f} s: {self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        return "".join(self.lines) + self.stderr_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(10)
        self._err.close()


def test_desktop_settings_run_headless_with_secrets_kept_secret(
    qtbot,  # noqa: ANN001
    hq: Hq,
    rtsp_server_factory: Callable[..., RtspServer],  # noqa: F811
    _isolated_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    camera = rtsp_server_factory(user=CAM_USER, password=CAM_PASSWORD, auth="basic")
    recovery = _configure_in_the_desktop(qtbot, camera, hq, monkeypatch)
    store_key = resolve_key(default_path(), PASSPHRASE, create=False)
    serve = _Serve(_isolated_data_dir)
    try:
        serve.wait_for(
            lambda: any("camera Door: live" in ln for ln in serve.lines), 90, "no live camera"
        )
        serve.wait_for(lambda: hq.count("batches") > 0, 120, "HQ got no batch")
    finally:
        serve.stop()
    assert serve.proc.returncode == 0, serve.output()

    secrets = {
        "camera password": CAM_PASSWORD.encode(),
        "HQ store key": hq.key.encode(),
        "store passphrase": PASSPHRASE.encode(),
        "recovery key": recovery.encode(),
        "store key (hex)": store_key.hex().encode(),
        "store key (raw)": store_key,
    }
    files = [p for p in _isolated_data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "config.toml" for p in files) and len(files) >= 4
    for path in files:
        data = path.read_bytes()
        for what, secret in secrets.items():
            assert secret not in data, f"{what} in clear in {path}"
            assert secret.lower() not in data.lower(), f"{what} in clear in {path}"
    text = serve.output() + serve.stderr_path.read_text(errors="replace")
    for what, secret in secrets.items():
        if what != "store key (raw)":
            assert secret.decode() not in text, f"{what} in serve's output"
