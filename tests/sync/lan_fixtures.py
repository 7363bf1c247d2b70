"""Fixtures for the tablet/POS tests: a real encrypted store, seeded salespeople and
products, and a real LAN server on 127.0.0.1 (import the fixtures you use)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import LanConfig
from app.events import EventBus
from app.store.db import Store, open_store
from app.sync.catalog import create_salesperson, upsert_product
from app.sync.lan.server import LanServer

PRODUCTS = [
    ("4006381333931", "Trail runner GTX", "Shoes", 129.0),
    ("4006381333948", "City sneaker", "Shoes", 89.5),
    ("5012345678900", "Leather tote", "Bags", 210.0),
    ("7612345678904", "Wooden train set", "Toys", 45.0),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "store.db", "test-passphrase")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def seeded(store: Store) -> dict[str, int]:
    ids = {
        "anna": create_salesperson(store, "Anna", "E100", "1234", ["Shoes", "Bags"]),
        "ben": create_salesperson(store, "Ben", "E200", "5678", ["Toys"]),
    }
    for code, name, cat, price in PRODUCTS:
        upsert_product(store, code, name, cat, price)
    return ids


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def server(store: Store, seeded: dict[str, int], bus: EventBus) -> Iterator[LanServer]:
    srv = LanServer(
        store, bus, LanConfig(allow_http=True), store_name="Test store", port=0, host="127.0.0.1"
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(server: LanServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.local_url, timeout=10) as c:
        yield c


def pair(client: httpx.Client, server: LanServer, sp_id: int, pin: str) -> str:
    code = server.new_pairing_code().code
    r = client.post(
        "/api/v1/pairing",
        json={"code": code, "salesperson_id": sp_id, "pin": pin, "label": "test tablet"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_session(client: httpx.Client, token: str, zone: str, visitor: str = "") -> dict[str, Any]:
    r = client.post(
        "/api/v1/sessions",
        json={"id": str(uuid.uuid4()), "zone": zone, "visitor_id": visitor},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def scan(client: httpx.Client, token: str, session_id: str, barcode: str, key: str = "") -> Any:
    return client.post(
        f"/api/v1/sessions/{session_id}/scans",
        json={"barcode": barcode, "idempotency_key": key or str(uuid.uuid4())},
        headers=auth(token),
    )
