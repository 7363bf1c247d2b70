"""The POS webhook on the real server: valid, forged, stale, replayed; linking to a
service that scanned the item; rejections counted, not stored."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from app.events import EventBus
from app.store.db import Store
from app.store.models import AuditLog, Purchase
from app.sync import pos
from app.sync.lan.server import LanServer
from tests.sync.lan_fixtures import (  # noqa: F401  (fixtures)
    PRODUCTS,
    auth,
    bus,
    client,
    pair,
    scan,
    seeded,
    server,
    start_session,
    store,
)

URL = "/api/v1/pos/webhook"
JSON = {"Content-Type": "application/json"}


def _body(txn: str, barcode: str = PRODUCTS[0][0], ts: float | None = None) -> bytes:
    doc = {
        "transaction_id": txn,
        "ts": time.time() if ts is None else ts,
        "salesperson_code": "E100",
        "lines": [{"barcode": barcode, "amount": 129.0}],
    }
    return json.dumps(doc).encode()


def _post(
    client: httpx.Client, secret: str, body: bytes, ts: float | None = None, sig: str | None = None
) -> httpx.Response:
    stamp = str(int(time.time() if ts is None else ts))
    headers = {
        "Content-Type": "application/json",
        pos.TIMESTAMP_HEADER: stamp,
        pos.SIGNATURE_HEADER: sig or pos.sign_webhook(secret, body, stamp),
    }
    return client.post(URL, content=body, headers=headers)


def _purchases(store: Store) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Purchase)) or 0)


def _rejections(store: Store) -> list[str]:
    with store.read_session() as s:
        q = select(AuditLog.detail).where(AuditLog.target == "pos_webhook")
        return list(s.execute(q).scalars())


def test_valid_purchase_is_recorded_once(
    client: httpx.Client, server: LanServer, store: Store
) -> None:
    secret = server.webhook_secret()
    body = _body("POS-1")
    r = _post(client, secret, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "recorded", "transaction_id": "POS-1", "lines": 1, "linked": 0}
    replay = _post(client, secret, body)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert _purchases(store) == 1


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("forged", "bad signature"),
        ("wrong_secret", "bad signature"),
        ("stale", "stale"),
        ("future", "stale"),
        ("no_headers", "missing"),
        ("tampered_body", "bad signature"),
        ("refreshed_timestamp", "bad signature"),
    ],
)
def test_rejected_requests_are_logged_and_store_nothing(
    client: httpx.Client, server: LanServer, store: Store, case: str, expect: str
) -> None:
    secret = server.webhook_secret()
    body = _body("POS-X")
    now = time.time()
    if case == "forged":
        r = _post(client, secret, body, sig="sha256=" + "0" * 64)
    elif case == "wrong_secret":
        r = _post(client, "not-the-secret", body)
    elif case == "stale":
        r = _post(client, secret, body, ts=now - 301)
    elif case == "future":
        r = _post(client, secret, body, ts=now + 400)
    elif case == "no_headers":
        r = client.post(URL, content=body, headers={"Content-Type": "application/json"})
    elif case == "tampered_body":
        stamp = str(int(now))
        sig = pos.sign_webhook(secret, body, stamp)
        evil = body.replace(b"129.0", b"1.0")
        r = client.post(
            URL,
            content=evil,
            headers={**JSON, pos.TIMESTAMP_HEADER: stamp, pos.SIGNATURE_HEADER: sig},
        )
    else:  # an old captured request replayed with a fresh timestamp header
        old = str(int(now - 3600))
        sig = pos.sign_webhook(secret, body, old)
        r = client.post(
            URL,
            content=body,
            headers={**JSON, pos.TIMESTAMP_HEADER: str(int(now)), pos.SIGNATURE_HEADER: sig},
        )
    assert r.status_code == 401
    assert expect in r.json()["detail"]
    assert _purchases(store) == 0
    # counted in memory, not one audit row each (see tests/sync/test_lan_hardening.py)
    assert sum(v for k, v in server.rejections.by_reason.items() if expect in k) == 1
    assert _rejections(store) == []


def test_signed_but_invalid_body_is_422(
    client: httpx.Client, server: LanServer, store: Store
) -> None:
    secret = server.webhook_secret()
    r = _post(client, secret, b'{"transaction_id": "", "lines": []}')
    assert r.status_code == 422
    r = _post(client, secret, b"not json")
    assert r.status_code == 422
    assert _purchases(store) == 0


def test_webhook_purchase_links_to_the_service_that_showed_it(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], store: Store, bus: EventBus
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    sess = start_session(client, token, "Shoes")
    assert scan(client, token, sess["id"], PRODUCTS[0][0]).status_code == 200
    client.post(f"/api/v1/sessions/{sess['id']}/end", headers=auth(token))
    r = _post(client, server.webhook_secret(), _body("POS-2"))
    assert r.json()["linked"] == 1
    with store.read_session() as s:
        assert s.execute(select(Purchase.session_id)).scalar_one() == sess["id"]
    summary = client.get(f"/api/v1/sessions/{sess['id']}", headers=auth(token)).json()
    assert summary["purchases_linked"] == 1


def test_purchase_before_the_scan_arrives_is_linked_later(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], store: Store
) -> None:
    """A tablet offline for a while: its queued scan reaches the server after the sale."""
    token = pair(client, server, seeded["anna"], "1234")
    t0 = time.time() - 120
    sess = client.post(
        "/api/v1/sessions",
        json={"id": "0b3c2f8e-aaaa-4bbb-8ccc-123456789abc", "zone": "Shoes", "ts": t0},
        headers=auth(token),
    ).json()
    assert _post(client, server.webhook_secret(), _body("POS-3")).json()["linked"] == 0
    r = client.post(
        f"/api/v1/sessions/{sess['id']}/scans",
        json={"barcode": PRODUCTS[0][0], "idempotency_key": "offline-scan-1", "ts": t0 + 10},
        headers=auth(token),
    )
    assert r.status_code == 200
    with store.read_session() as s:
        assert s.execute(select(Purchase.session_id)).scalar_one() == sess["id"]
