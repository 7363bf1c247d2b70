"""Store-side provisioning end to end: HQ creates the store and its provisioning file,
`main.py provision FILE` enrols with the real HQ receiver (real PostgreSQL), the key lands
in the vault of the real encrypted store, and the outbox sender's batches are accepted.
Plus the file checks as a case table, and refusals that make no request."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.cli.main import main
from app.config import AppConfig
from app.hq import stores
from app.hq.testing_pg import free_port
from app.store.db import Store, default_path, open_store
from app.store.settings_store import load_config
from app.sync.outbox_sender import SyncOptions, start_sync
from app.sync.provisioning import (
    ProvisioningError,
    holds_data,
    identity_problem,
    parse,
    provision,
    provisioned_config,
)
from tests.sync.conftest import HqServer
from tests.sync.test_hq_sync import FAST, produce, wait_until

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "format": "vitrine-provisioning", "version": 1, "store_id": "paris-01",
    "store_name": "Paris Rivoli", "hq_url": "https://hq.example.com/",
    "enrol_path": "/api/v1/enrol", "enrolment_token": "vet_" + "a" * 43,
    "expires_at": "2026-12-13T10:00:00+00:00",
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "insecure", "problem"),
    [
        ({}, False, None),
        ({"hq_url": "http://127.0.0.1:8000"}, False, None),
        ({"hq_url": "http://localhost:8000"}, False, None),
        ({"hq_url": "http://10.0.0.5:8000"}, False, "plain http:// to another machine"),
        ({"hq_url": "http://10.0.0.5:8000"}, True, None),
        ({"hq_url": "ftp://hq.example.com"}, False, "not an http(s):// address"),
        ({"hq_url": "https://"}, False, "not an http(s):// address"),
        ({"format": "something-else"}, False, "not a Vitrine provisioning file"),
        ({"version": 2}, False, "version 2 is not supported"),
        ({"version": "1"}, False, "version '1' is not supported"),
        ({"version": True}, False, "version True is not supported"),
        ({"store_id": ""}, False, "missing store_id"),
        ({"enrolment_token": None}, False, "missing enrolment_token"),
        ({"expires_at": "2026-12-06T11:59:59+00:00"}, False, "expired on 2026-12-06 11:59"),
        ({"expires_at": "2026-12-13T10:00:00"}, False, "has no time zone"),
        ({"expires_at": "next week"}, False, "is not a date"),
        ({"enrol_path": "api/v1/enrol"}, False, "must start with /"),
    ],
)
def test_file_checks(change: dict[str, Any], insecure: bool, problem: str | None) -> None:
    data = {**GOOD, **change}
    if problem is None:
        p = parse(data, insecure, NOW)
        assert p.store_id == "paris-01" and not p.hq_url.endswith("/")
        assert p.token not in repr(p)
    else:
        with pytest.raises(ProvisioningError, match=re.escape(problem)):
            parse(data, insecure, NOW)


@pytest.mark.parametrize("data", [[], "x", None, {"version": 1}])
def test_not_a_provisioning_object(data: Any) -> None:
    with pytest.raises(ProvisioningError, match="not a Vitrine provisioning file"):
        parse(data, False, NOW)


@pytest.mark.parametrize(
    ("same_id", "has_data", "name", "refused", "new_name"),
    [
        (False, False, "My store", False, "Paris Rivoli"),  # fresh install: takes HQ's
        (False, False, "Chez Paul", False, "Chez Paul"),  # named: keeps its name
        (True, True, "My store", False, "Paris Rivoli"),  # same store, re-enrolled
        (False, True, "My store", True, ""),  # someone else's data: refused
    ],
)
def test_identity_rules(
    same_id: bool, has_data: bool, name: str, refused: bool, new_name: str
) -> None:
    p = parse(GOOD, False, NOW)
    cfg = AppConfig.model_validate(
        {"store": {"name": name, **({"id": "paris-01"} if same_id else {})}}
    )
    problem = identity_problem(cfg, p, has_data)
    assert (problem is not None) == refused
    if refused:
        assert problem is not None and "already holds data" in problem
        return
    new = provisioned_config(cfg, p, "k" * 40)
    assert new.store.id == "paris-01" and new.store.name == new_name
    assert new.sync.enabled and new.sync.hq_url == "https://hq.example.com"
    assert new.sync.store_key.get_secret_value() == "k" * 40


class NoRequests(httpx.BaseTransport):
    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(500)


def _write(tmp_path: Path, data: Any, name: str = "prov.json") -> Path:
    f = tmp_path / name
    f.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return f


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({**GOOD, "expires_at": "2020-01-01T00:00:00+00:00"}, "expired on 2020-01-01"),
        ({**GOOD, "version": 9}, "version 9 is not supported"),
        ("{not json", "not JSON"),
        (None, "no such file"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    tmp_path: Path, local_store: Store, capsys: pytest.CaptureFixture[str], content: Any,
    problem: str,
) -> None:  # fmt: skip
    f = tmp_path / "missing.json" if content is None else _write(tmp_path, content)
    transport = NoRequests()
    with pytest.raises(ProvisioningError, match=problem):
        provision(f, local_store, AppConfig(), transport)
    assert transport.calls == 0
    assert main(["provision", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem in err and "Traceback" not in err


def test_a_store_with_data_under_another_id_is_refused_before_the_token_is_spent(
    tmp_path: Path, local_store: Store
) -> None:
    produce(local_store, 0, 2)
    assert holds_data(local_store)
    transport = NoRequests()
    with pytest.raises(ProvisioningError, match="already holds data as store"):
        provision(_write(tmp_path, {**GOOD, "expires_at": "2099-01-01T00:00:00+00:00"}),
                  local_store, AppConfig(), transport)  # fmt: skip
    assert transport.calls == 0


# --- against the real HQ ----------------------------------------------------------------


def _hq_file(hq_server: HqServer, tmp_path: Path, base_url: str | None = None) -> tuple[str, Path]:
    store_id = f"prov-{uuid.uuid4().hex[:8]}"
    prov = stores.create_store(
        hq_server.engine, store_id, "Lyon Part-Dieu", "Europe/Paris", stores.Profile(),
        base_url or hq_server.process.base_url,
    )  # fmt: skip
    return store_id, _write(tmp_path, prov, f"{store_id}.json")


def _batches(hq_server: HqServer, store_id: str) -> int:
    with hq_server.engine.connect() as conn:
        q = text("SELECT count(*) FROM batches WHERE store_id = :s")
        return int(conn.execute(q, {"s": store_id}).scalar_one())


def test_provision_command_then_uploads_are_accepted(
    hq_server: HqServer, tmp_path: Path, _isolated_data_dir: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    store_id, f = _hq_file(hq_server, tmp_path)
    assert main(["-v", "provision", str(f)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"enrolled with HQ at {hq_server.process.base_url} as store {store_id}; sync is on"
    )
    store = open_store(default_path())
    try:
        cfg, _ = load_config(store)
        key = cfg.sync.store_key.get_secret_value()
        assert cfg.store.id == store_id and cfg.store.name == "Lyon Part-Dieu"
        assert cfg.sync.enabled and cfg.sync.hq_url == hq_server.process.base_url and key
        with store.read_session() as s:
            assert s.execute(text("SELECT id FROM store_info")).scalar_one() == store_id
        produce(store, 0, 20)
        before = _batches(hq_server, store_id)
        worker = start_sync(store, cfg, options=SyncOptions(**FAST))  # type: ignore[arg-type]
        assert worker is not None
        try:
            wait_until(lambda: worker.status().backlog == 0 and worker.status().rows_sent > 0)
            assert worker.status().last_error is None
        finally:
            worker.stop()
        assert _batches(hq_server, store_id) > before
    finally:
        store.close()
    time.sleep(0.1)
    for p in _isolated_data_dir.rglob("*"):  # the key is in the vault, nowhere in clear
        if p.is_file():
            assert key.encode() not in p.read_bytes(), p
    assert key not in caplog.text and key not in out  # never logged nor printed
    assert 'store_key = ""' in (_isolated_data_dir / "config.toml").read_text()
    # the same file a second time: HQ refuses the spent token, one line
    assert main(["provision", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused the enrolment" in err and key not in err


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("wrong-id", "refused the enrolment of store 'someone-else' (HTTP 401"),
        ("unreachable", "cannot reach HQ at http://127.0.0.1:"),
        ("tls", "the secure (TLS) connection to HQ at https://127.0.0.1:"),
    ],
)
def test_hq_refusals_are_one_line(
    hq_server: HqServer, tmp_path: Path, local_store: Store, how: str, problem: str
) -> None:
    base = hq_server.process.base_url
    if how == "unreachable":
        base = f"http://127.0.0.1:{free_port()}"
    elif how == "tls":
        base = base.replace("http://", "https://")
    _, f = _hq_file(hq_server, tmp_path, base)
    if how == "wrong-id":
        f.write_text(json.dumps({**json.loads(f.read_text()), "store_id": "someone-else"}))
    with pytest.raises(ProvisioningError, match=re.escape(problem)) as err:
        provision(f, local_store, AppConfig())
    assert "\n" not in str(err.value)
    assert local_store.path.exists() and not holds_data(local_store)


def test_expired_file_is_refused_before_the_store_is_touched(
    hq_server: HqServer, tmp_path: Path
) -> None:
    _, f = _hq_file(hq_server, tmp_path)
    data = json.loads(f.read_text())
    data["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    f.write_text(json.dumps(data))
    assert main(["provision", str(f)]) == 2
    assert not default_path().exists()
