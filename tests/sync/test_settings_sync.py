"""The Settings page's HQ sync group on the real engine, the real sender and the real HQ
receiver: the key typed in the page reaches the vault and HQ accepts it; "Send now"
sends at once what would otherwise wait an hour; refused keys and a dead HQ are said."""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import SecretStr

from app.config import AppConfig
from app.engine import Engine
from app.events import EventBus
from app.hq.testing_pg import free_port
from app.settings import STORE_KEY_SECRET
from app.store.db import Store
from app.store.secrets import open_vault
from app.sync.outbox_sender import SyncOptions, SyncStatus, SyncWorker, start_sync
from app.ui.config_store import save_config
from app.ui.settings_view import SettingsView
from app.ui.sync_settings import SyncGroup
from app.vision.detector import FakeDetector
from tests.sync.conftest import Hq
from tests.sync.test_hq_sync import produce


def _config(store_id: str) -> AppConfig:
    return AppConfig.model_validate(
        {
            "store": {"id": store_id, "name": "Test"},
            "cameras": [{"name": "a", "type": "fake", "url": "fake://320x240@5"}],
            "lan": {"enabled": False},
            "sync": {"interval_s": 3600},  # without "Send now", nothing goes before an hour
        }
    )


def test_key_typed_in_settings_syncs_and_send_now_sends_at_once(
    qtbot,
    hq: Hq,
    local_store: Store,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    cfg = _config(hq.store_id)
    engine = Engine(cfg, EventBus(), store=local_store, detector=FakeDetector())
    view = SettingsView(sync=engine)
    qtbot.addWidget(view)
    try:
        engine.start()
        view.set_config(cfg)
        assert view.sync.status.text().startswith("Off")
        view.sync.enabled.setChecked(True)
        view.sync.url.setText(hq.base_url)
        view.sync.key.setText(hq.key)
        with qtbot.waitSignal(view.save_requested) as sig:
            assert view.save()
        new: AppConfig = sig.args[0]
        toml = tmp_path / "config.toml"
        save_config(local_store, new, "test", path=toml).result(timeout=10)
        assert open_vault(local_store).load()[STORE_KEY_SECRET] == hq.key
        assert hq.key not in toml.read_text()
        engine.apply_config(new)  # as the desktop's engine host does: the sender starts
        view.set_config(new)
        qtbot.waitUntil(lambda: _idle(engine.sync_status()), timeout=30000)
        produce(local_store, 0, 5)  # 15 rows that would wait for the next hourly run
        batches = hq.count("batches")
        view.sync.refresh_status()
        assert "15 rows waiting" in view.sync.status.text(), view.sync.status.text()
        qtbot.mouseClick(view.sync.send_now, _left())
        qtbot.waitUntil(lambda: hq.count("batches") > batches, timeout=30000)
        qtbot.waitUntil(lambda: _idle(engine.sync_status()), timeout=30000)
        view.sync.refresh_status()
        assert view.sync.status.text() == "Working: last upload just now, all sent."
    finally:
        engine.stop()


def _idle(status: SyncStatus | None) -> bool:
    return status is not None and status.state == "idle" and status.next_attempt_at is not None


def _left():  # noqa: ANN202
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


class _WorkerPort:
    def __init__(self, worker: SyncWorker) -> None:
        self.worker = worker

    def sync_status(self) -> SyncStatus:
        return self.worker.status()

    def sync_now(self) -> bool:
        self.worker.wake()
        return True


def _status_line(qtbot, local_store: Store, url: str, store_id: str, key: str, want: str) -> str:  # noqa: ANN001
    cfg = _config(store_id)
    cfg.sync = cfg.sync.model_copy(
        update={"enabled": True, "hq_url": url, "store_key": SecretStr(key)}
    )
    opts = SyncOptions(interval_s=3600, backoff_base_s=60, connect_timeout_s=2, timeout_s=5)
    worker = start_sync(local_store, cfg, options=opts)
    assert worker is not None
    group = SyncGroup(_WorkerPort(worker))
    qtbot.addWidget(group)
    try:
        group.set_config(cfg)
        deadline = time.monotonic() + 30
        while want not in group.status.text() and time.monotonic() < deadline:
            qtbot.wait(100)
            group.refresh_status()
        return group.status.text()
    finally:
        worker.stop()


def test_status_line_says_hq_refused_the_key(qtbot, hq: Hq, local_store: Store) -> None:  # noqa: ANN001
    produce(local_store, 0, 2)
    text = _status_line(qtbot, local_store, hq.base_url, hq.store_id, "vsk_wrong", "refused")
    assert text.startswith("HQ refused the store key: HQ refused this store's key (HTTP 401"), text
    assert "nothing sent yet, 6 rows waiting" in text


def test_status_line_says_hq_is_unreachable(qtbot, local_store: Store) -> None:  # noqa: ANN001
    produce(local_store, 0, 1)
    url = f"http://127.0.0.1:{free_port()}"
    text = _status_line(qtbot, local_store, url, "store-x", "vsk_any", "unreachable")
    assert text.startswith(f"HQ unreachable: cannot reach HQ at {url}"), text
    assert "will retry in" in text and "3 rows waiting" in text
