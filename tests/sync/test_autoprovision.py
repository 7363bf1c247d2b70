"""Silent provisioning at first start: the file an installer left in a known place is
used once against the real HQ receiver, then never sent again; a refused file is not
retried; no file, nothing happens."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from app.config import AppConfig
from app.hq import stores
from app.store.db import Store
from app.store.settings_store import load_config
from app.sync import autoprovision
from app.sync.autoprovision import auto_provision, find_file
from tests.sync.conftest import HqServer


def _file(hq_server: HqServer, path: Path) -> str:
    store_id = f"auto-{uuid.uuid4().hex[:8]}"
    prov = stores.create_store(hq_server.engine, store_id, "Rivoli", "Europe/Paris",
                               stores.Profile(), hq_server.process.base_url)  # fmt: skip
    path.write_text(json.dumps(prov), encoding="utf-8")
    return store_id


def test_no_file_nothing_happens(
    local_store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(autoprovision.ENV_FILE, raising=False)
    monkeypatch.setattr(autoprovision, "system_locations", lambda: [tmp_path / "none.json"])
    assert find_file() is None
    assert auto_provision(local_store, AppConfig()) is None


def test_file_in_the_data_dir_enrols_once(
    hq_server: HqServer, local_store: Store, _isolated_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv(autoprovision.ENV_FILE, raising=False)
    f = _isolated_data_dir / "provision.json"
    store_id = _file(hq_server, f)
    assert find_file() == f
    done = auto_provision(local_store, AppConfig())
    assert done is not None and done.ok and done.cfg is not None
    assert f"as store {store_id}; sync is on" in done.message
    cfg, _ = load_config(local_store)
    assert cfg.store.id == store_id and cfg.store.name == "Rivoli" and cfg.sync.enabled
    assert cfg.sync.store_key.get_secret_value()
    marker = json.loads((_isolated_data_dir / "provisioned.json").read_text())
    assert marker["outcome"] == "enrolled" and "token" not in json.dumps(marker).lower()
    assert auto_provision(local_store, cfg) is None  # used: the token is not sent again


def test_refused_file_is_not_retried_but_a_new_one_is(
    hq_server: HqServer, local_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "prov.json"
    _file(hq_server, f)
    data = json.loads(f.read_text())
    data["enrolment_token"] = "not-the-token"
    f.write_text(json.dumps(data))
    monkeypatch.setenv(autoprovision.ENV_FILE, str(f))
    done = auto_provision(local_store, AppConfig())
    assert done is not None and not done.ok and "refused the enrolment" in done.message
    assert auto_provision(local_store, AppConfig()) is None  # refused: not again
    store_id = _file(hq_server, f)  # HQ's new file for the store
    done = auto_provision(local_store, AppConfig())
    assert done is not None and done.ok and store_id in done.message
