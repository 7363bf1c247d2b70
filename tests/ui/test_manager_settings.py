"""Settings a manager can reach: the HQ sync group (form, vault, status line) and the
Backup and restore group (a real encrypted store, real backups, the desktop's restore)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.config import AppConfig
from app.settings import STORE_KEY_SECRET
from app.store.db import Store, open_store
from app.store.secrets import open_vault
from app.sync.outbox_sender import SyncStatus
from app.ui import restore_flow
from app.ui.app import DesktopApp
from app.ui.backup_settings import BackupGroup
from app.ui.config_store import save_config
from app.ui.settings_view import SettingsView
from app.ui.sync_settings import KEY_NONE, KEY_SAVED, status_text

NOW = 1_000_000.0
KEY = "vsk_" + "k" * 40
REFUSED = (
    "HQ refused this store's key (HTTP 401: unknown store key); check the store id and "
    "store key in the sync settings; will retry in 5 s"
)
DOWN = "cannot reach HQ at https://hq.example (connection refused: HQ is down?); will retry in 10 s"


def st(state: str = "idle", last: float | None = None, backlog: int = 0, err: str | None = None):  # noqa: ANN201
    return SyncStatus(state, last, backlog, err, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("enabled", "status", "expected"),
    [
        (False, None, "Off: this store's figures stay on this computer."),
        (True, None, "Not sending: sync starts when the settings are saved and the cameras run."),
        (True, st(last=NOW - 30), "Working: last upload just now, all sent."),
        (True, st(last=NOW - 600, backlog=12), "Working: last upload 10 min ago, 12 rows waiting."),
        (True, st("sending", None, 40), "Sending to HQ now… (nothing sent yet, 40 rows waiting)"),
        (
            True,
            st("waiting", None, 15, REFUSED),
            f"HQ refused the store key: {REFUSED}. (nothing sent yet, 15 rows waiting)",
        ),
        (
            True,
            st("waiting", NOW - 7200, 3, DOWN),
            f"HQ unreachable: {DOWN}. (last upload 2 h ago, 3 rows waiting)",
        ),
    ],
)
def test_status_line_in_plain_words(
    enabled: bool, status: SyncStatus | None, expected: str
) -> None:
    assert status_text(enabled, status, NOW) == expected


def test_hq_key_typed_in_the_page_goes_to_the_vault_not_to_config_toml(
    qtbot,
    store: Store,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    view = SettingsView(backups=store)
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    assert view.sync.key.placeholderText() == KEY_NONE
    view.show()  # the status is refreshed only while the page is seen
    assert view.sync.timer.isActive()
    view.hide()
    assert not view.sync.timer.isActive()
    view.sync.enabled.setChecked(True)
    view.sync.url.setText("https://hq.example.com")
    view.sync.key.setText(KEY)
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    cfg: AppConfig = sig.args[0]
    assert cfg.sync.enabled and cfg.sync.hq_url == "https://hq.example.com"
    toml = tmp_path / "config.toml"
    save_config(store, cfg, "test", path=toml).result(timeout=10)
    assert open_vault(store).load()[STORE_KEY_SECRET] == KEY
    assert KEY not in toml.read_text() and "hq.example.com" in toml.read_text()
    view.set_config(cfg)  # shown again: never the key itself
    assert view.sync.key.text() == "" and view.sync.key.placeholderText() == KEY_SAVED
    with qtbot.waitSignal(view.save_requested) as sig:  # saving again keeps the key
        assert view.save()
    assert sig.args[0].sync.store_key.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("url", "key", "beside", "message"),
    [
        (
            "http://hq.example.com",
            KEY,
            "plain http://",
            "HQ address: hq_url 'http://hq.example.com'",
        ),
        ("", KEY, "give the address", "HQ address: give the address"),
        ("https://hq.example.com", "", "", "Store key: type the key"),
    ],
)
def test_bad_sync_settings_are_refused_beside_the_field(
    qtbot,
    url: str,
    key: str,
    beside: str,
    message: str,  # noqa: ANN001
) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    view.sync.enabled.setChecked(True)
    view.sync.url.setText(url)
    view.sync.key.setText(key)
    emitted: list[AppConfig] = []
    view.save_requested.connect(emitted.append)
    assert not view.save()
    assert view.error.text().startswith(message), view.error.text()
    assert beside in view.sync.url_error.text() and "\n" not in view.error.text()
    assert emitted == []


def test_loopback_http_is_accepted(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()
    qtbot.addWidget(view)
    cfg = AppConfig()
    cfg.sync = cfg.sync.model_copy(update={"store_key": SecretStr(KEY)})
    view.set_config(cfg)
    view.sync.enabled.setChecked(True)
    view.sync.url.setText("http://127.0.0.1:8800")
    assert view.save(), view.error.text()
    assert view.sync.url_error.text() == ""


def test_back_up_now_with_progress_then_restore_request(qtbot, store: Store) -> None:  # noqa: ANN001
    store.writer.submit(lambda s: s.connection().exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS padding (x BLOB)")).result(10)  # fmt: skip
    store.writer.submit(lambda s: s.connection().exec_driver_sql(
        "INSERT INTO padding VALUES (randomblob(10000000))")).result(10)  # fmt: skip
    asked: list[str] = []
    group = BackupGroup(store, confirm=lambda _w, text: asked.append(text) or True)
    qtbot.addWidget(group)
    assert group.recent.item(0).text() == "No backup yet."
    seen: list[tuple[int, int]] = []
    group._progress.connect(lambda d, t: seen.append((d, t)))
    with qtbot.waitSignal(group.backup_done, timeout=30000) as sig:
        qtbot.mouseClick(group.back_up, qtbot_button())
        assert not group.back_up.isEnabled() and group.progress.isVisibleTo(group)
    dest: Path = sig.args[0]
    assert dest.exists() and dest.parent == store.path.parent / "backups"
    assert len(seen) >= 2 and seen[-1][0] == seen[-1][1] > 0  # pages done == total
    assert group.progress.isHidden() and group.show_folder.isVisibleTo(group)
    assert group.result.text().startswith(f"Saved: {dest.name}")
    assert dest.name in group.recent.item(0).text()
    with qtbot.waitSignal(group.restore_requested, timeout=10000) as req:
        group.restore_from(dest)
    assert req.args[0] == dest and "backed up first" in asked[0]
    group.background.shutdown()


def qtbot_button():  # noqa: ANN201
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_a_bad_backup_is_refused_in_the_page(qtbot, store: Store, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "holiday.db"
    bad.write_bytes(b"\x00" * 4096)
    asked: list[str] = []
    group = BackupGroup(store, confirm=lambda _w, text: asked.append(text) or True)
    qtbot.addWidget(group)
    requested: list[Path] = []
    group.restore_requested.connect(requested.append)
    group.restore_from(bad)
    qtbot.waitUntil(lambda: group.restore_error.text().startswith("Not restored:"), timeout=10000)
    assert "holiday.db" in group.restore_error.text()
    assert asked == [] and requested == []
    group.background.shutdown()


def test_desktop_restore_closes_restores_and_says_so(
    qtbot,
    _isolated_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    db = _isolated_data_dir / "vitrine.db"
    store = open_store(db)
    save_config(store, AppConfig.model_validate({"store": {"name": "Before"}}), "t").result(10)
    backup = store.backup()
    save_config(store, AppConfig.model_validate({"store": {"name": "After"}}), "t").result(10)
    told: list[tuple[bool, str]] = []
    monkeypatch.setattr(restore_flow, "tell", lambda _p, ok, text: told.append((ok, text)))
    desktop = DesktopApp(store)
    try:
        desktop.open_window()
        assert desktop.window is not None
        desktop.window.settings.backup.restore_requested.emit(backup)
        assert told and told[0][0], told
        assert "start it again" in told[0][1] and "before-restore" in told[0][1]
        assert desktop.store is None and not desktop.window.isVisible()
    finally:
        desktop.close()
    with open_store(db) as reopened:
        from app.ui.config_store import load_startup_config

        assert load_startup_config(reopened)[0].store.name == "Before"
    assert list((db.parent / "backups").glob("*before-restore*.db"))
    assert 'name = "Before"' in (db.parent / "config.toml").read_text()  # the file wins at start
    kept = list((db.parent / "backups").glob("*before-restore*.toml"))
    assert len(kept) == 1 and 'name = "After"' in kept[0].read_text()


def test_send_now_without_a_sender_says_what_to_do(qtbot) -> None:  # noqa: ANN001
    view = SettingsView()  # no engine: nothing to wake
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    assert not view.sync.send_now.isEnabled()
    assert not view.sync.sync_now()
    assert view.sync.status.text() == "Not sending: save the settings with sync on first."
