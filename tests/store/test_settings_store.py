"""The configuration of a store, saved and read the same way by the desktop and by
`serve`/commands: settings rows and config.toml without secrets, secrets in the vault
(the encrypted store, or the OS keychain when the store key is there)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from app.cli import serve
from app.cli.main import load_settings
from app.config import AppConfig, CameraConfig, SyncConfig, dump_config
from app.store.db import Store, open_store
from app.store.models import ConfigVersion, Setting
from app.store.secrets import SECRETS_ROW, KeyringVault, StoreVault, open_vault
from app.store.settings_store import SETTING_KEY, config_path, load_config, save_config
from tests.store.test_keys import MemoryKeyring, memory_keyring  # noqa: F401 (a fixture)

PASSWORD, HQ_KEY = "s3cret-Pa55", "k3y-from-hq"


def _cfg() -> AppConfig:
    return AppConfig(
        cameras=[CameraConfig(name="Door", type="rtsp", url=f"rtsp://admin:{PASSWORD}@h/x")],
        sync=SyncConfig(enabled=True, hq_url="https://hq.example", store_key=SecretStr(HQ_KEY)),
    )


def _setting(store: Store, key: str) -> str | None:
    with store.read_session() as s:
        row = s.get(Setting, key)
        return row.value if row is not None else None


def test_desktop_save_then_serve_load_keeps_the_secrets(store: Store) -> None:
    save_config(store, _cfg(), "desktop").result(timeout=10)
    assert isinstance(open_vault(store), StoreVault)  # no secure keychain on a test machine
    text = config_path().read_text()
    row = _setting(store, SETTING_KEY) or ""
    for where in (text, row):
        assert PASSWORD not in where and HQ_KEY not in where and "admin" in where
    assert json.loads(_setting(store, SECRETS_ROW) or "{}") == {
        "cameras.Door.password": PASSWORD,
        "sync.store_key": HQ_KEY,
    }
    # what `serve` and every command read (issue 17: they used to get '' and '')
    args = argparse.Namespace(config=None, port=None, http=False, host=None)
    for cfg in (load_settings(None, store), serve._load(args, store), load_config(store)[0]):
        assert cfg.cameras[0].password.get_secret_value() == PASSWORD
        assert cfg.sync.store_key.get_secret_value() == HQ_KEY
        assert cfg.cameras[0].url == "rtsp://h/x"


def test_without_config_toml_the_store_copy_and_vault_are_used(store: Store) -> None:
    save_config(store, _cfg()).result(timeout=10)
    config_path().unlink()
    cfg, first_run = load_config(store)
    assert not first_run and cfg.cameras[0].password.get_secret_value() == PASSWORD


def test_a_bad_config_toml_falls_back_to_the_store(store: Store) -> None:
    save_config(store, _cfg()).result(timeout=10)
    config_path().write_text("this is [not toml")
    cfg, _ = load_config(store)
    assert cfg.sync.store_key.get_secret_value() == HQ_KEY


def test_secrets_saved_by_an_older_version_move_to_the_vault(store: Store) -> None:
    full = json.dumps(dump_config(_cfg(), reveal_secrets=True))
    old_history = json.dumps({"cameras": [{"name": "Door", "type": "rtsp",
                                           "url": f"rtsp://admin:{PASSWORD}@h/x"}]})  # fmt: skip

    def legacy(s):  # noqa: ANN001, ANN202
        s.add(Setting(key=SETTING_KEY, value=full, updated_at=0.0))
        s.add(ConfigVersion(created_at=0.0, author="old", config_json=old_history))

    store.writer.submit(legacy).result(10)
    cfg, _ = load_config(store)
    assert cfg.cameras[0].password.get_secret_value() == PASSWORD
    assert open_vault(store).load()["sync.store_key"] == HQ_KEY
    assert PASSWORD not in (_setting(store, SETTING_KEY) or "")
    assert HQ_KEY not in (_setting(store, SETTING_KEY) or "")
    with store.read_session() as s:
        history = [v.config_json for v in s.scalars(select(ConfigVersion))]
    assert history and all(PASSWORD not in h for h in history)


def test_with_a_keychain_the_secrets_go_there(
    db_path: Path,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    with open_store(db_path) as store:
        vault = open_vault(store)
        assert isinstance(vault, KeyringVault)
        save_config(store, _cfg()).result(timeout=10)
        assert _setting(store, SECRETS_ROW) is None  # not in the store
        entries = [v for (svc, _), v in memory_keyring.items.items() if svc == vault.service]
        assert len(entries) == 1 and PASSWORD in entries[0] and HQ_KEY in entries[0]
        cfg, _ = load_config(store)
        assert cfg.sync.store_key.get_secret_value() == HQ_KEY
    assert PASSWORD not in config_path().read_text()


def test_a_settings_file_given_must_exist(store: Store, tmp_path: Path) -> None:
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="no such config file"):
        load_config(store, tmp_path / "nope.toml")
