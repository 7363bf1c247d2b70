"""The tablet API on a real server (uvicorn on 127.0.0.1) over a real encrypted store."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import ssl
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from app.events import EventBus, NewVisitor, ZoneEnter, ZoneExit
from app.store.db import Store
from app.store.models import ItemScan, PairedDevice
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

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


def _visitor(bus: EventBus, zone: str, vid: str, crop: bytes = JPEG) -> None:
    now = time.time()
    bus.publish(ZoneEnter("cam", now, 1, 0.1, zone, 7, vid, "visit-" + vid))
    bus.publish(NewVisitor("cam", now, 1, 0.1, zone, vid, 7, crop))


def test_every_api_route_needs_a_valid_token(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/zones/Shoes/customers"),
        ("GET", "/api/v1/products/4006381333931"),
        ("GET", "/api/v1/sessions"),
        ("POST", "/api/v1/sessions"),
    ]:
        assert client.request(method, path).status_code == 401, path
        bad = client.request(method, path, headers=auth("not-a-token"))
        assert bad.status_code == 401, path
        assert bad.json()["detail"]


def test_pair_then_me_shows_assigned_zones(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    code = server.new_pairing_code().code
    people = client.get("/api/v1/pairing", params={"code": code}).json()["salespeople"]
    assert [p["name"] for p in people] == ["Anna", "Ben"]
    token = pair(client, server, seeded["anna"], "1234")
    me = client.get("/api/v1/me", headers=auth(token)).json()
    assert me["salesperson_name"] == "Anna"
    assert me["zones"] == ["Bags", "Shoes"]
    assert me["store_name"] == "Test store"


def test_token_is_stored_hashed(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], store: Store
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    with store.read_session() as s:
        hashes = list(s.execute(select(PairedDevice.token_hash)).scalars())
    assert len(hashes) == 1 and token not in hashes[0] and len(hashes[0]) == 64


def test_pairing_code_expires_after_five_minutes(
    store: Store, seeded: dict[str, int], bus: EventBus
) -> None:
    clock = [1_000_000.0]
    srv = LanServer(store, bus, port=0, host="127.0.0.1", clock=lambda: clock[0])
    srv.cfg.allow_http = True
    srv.start()
    try:
        with httpx.Client(base_url=srv.local_url) as c:
            code = srv.new_pairing_code().code
            assert c.get("/api/v1/pairing", params={"code": code}).status_code == 200
            clock[0] += 299
            assert c.get("/api/v1/pairing", params={"code": code.lower()}).status_code == 200
            clock[0] += 2
            assert c.get("/api/v1/pairing", params={"code": code}).status_code == 401
            body = {"code": code, "salesperson_id": seeded["anna"], "pin": "1234"}
            assert c.post("/api/v1/pairing", json=body).status_code == 401
    finally:
        srv.stop()


def test_wrong_pins_are_rate_limited(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    code = server.new_pairing_code().code
    body = {"code": code, "salesperson_id": seeded["anna"], "pin": "0000"}
    codes = [client.post("/api/v1/pairing", json=body).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    # even the right PIN is refused while locked, and Retry-After says how long
    r = client.post("/api/v1/pairing", json={**body, "pin": "1234"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_revoked_device_gets_401(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    [dev] = server.devices()
    assert dev.salesperson_name == "Anna" and dev.label == "test tablet"
    assert server.revoke_device(dev.id)
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
    assert server.devices() == []


def test_other_zone_customers_are_forbidden(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], bus: EventBus
) -> None:
    _visitor(bus, "Toys", "v-toys")
    token = pair(client, server, seeded["anna"], "1234")
    r = client.get("/api/v1/zones/Toys/customers", headers=auth(token))
    assert r.status_code == 403
    assert client.get("/api/v1/zones/Toys/events", headers=auth(token)).status_code == 403
    crop = client.get("/api/v1/zones/Toys/customers/v-toys/crop", headers=auth(token))
    assert crop.status_code == 403
    r = client.post(
        "/api/v1/sessions",
        json={"id": str(uuid.uuid4()), "zone": "Toys", "visitor_id": "v-toys"},
        headers=auth(token),
    )
    assert r.status_code == 403
    ben = pair(client, server, seeded["ben"], "5678")
    r = client.get("/api/v1/zones/Toys/customers", headers=auth(ben))
    assert r.status_code == 200 and [c["visitor_id"] for c in r.json()["customers"]] == ["v-toys"]


def test_customer_list_newest_first_with_crop_and_exit(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], bus: EventBus
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    _visitor(bus, "Shoes", "v1")
    time.sleep(0.01)
    _visitor(bus, "Shoes", "v2")
    r = client.get("/api/v1/zones/Shoes/customers", headers=auth(token)).json()
    assert [c["visitor_id"] for c in r["customers"]] == ["v2", "v1"]
    assert all(c["has_crop"] and c["present"] for c in r["customers"])
    img = client.get("/api/v1/zones/Shoes/customers/v1/crop", headers=auth(token))
    assert img.status_code == 200 and img.content == JPEG
    assert img.headers["content-type"] == "image/jpeg"
    bus.publish(ZoneExit("cam", time.time(), 2, 0.2, "Shoes", 7, "v1", "visit-v1", 3.0))
    r = client.get("/api/v1/zones/Shoes/customers", headers=auth(token)).json()
    left = {c["visitor_id"]: c["present"] for c in r["customers"]}
    assert left == {"v2": True, "v1": False}


def test_sse_pushes_new_customer_within_a_second(
    server: LanServer, seeded: dict[str, int], bus: EventBus
) -> None:
    with httpx.Client(base_url=server.local_url, timeout=10) as c:
        token = pair(c, server, seeded["anna"], "1234")
        got: list[tuple[str, float]] = []
        ready = threading.Event()

        def listen() -> None:
            with c.stream("GET", "/api/v1/zones/Shoes/events", headers=auth(token)) as r:
                assert r.status_code == 200
                event = ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                        if event == "snapshot":
                            ready.set()
                    if line.startswith("data: ") and event == "arrive":
                        got.append((line, time.monotonic()))
                        return

        t = threading.Thread(target=listen, name="sse-listener")
        t.start()
        assert ready.wait(5)
        t0 = time.monotonic()
        _visitor(bus, "Shoes", "v-live")
        t.join(5)
        assert got and '"v-live"' in got[0][0]
        assert got[0][1] - t0 < 1.0


def test_sse_stream_of_a_revoked_tablet_ends(
    server: LanServer, seeded: dict[str, int], bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.sync.lan import api

    monkeypatch.setattr(api, "REAUTH_S", 0.3)
    with httpx.Client(base_url=server.local_url, timeout=10) as c:
        token = pair(c, server, seeded["anna"], "1234")
        device_id = server.devices()[0].id
        ready, ended = threading.Event(), threading.Event()
        after: list[str] = []

        def listen() -> None:
            with c.stream("GET", "/api/v1/zones/Shoes/events", headers=auth(token)) as r:
                for line in r.iter_lines():
                    if line == "event: snapshot":
                        ready.set()
                    elif ready.is_set() and line.startswith("event: "):
                        after.append(line)
            ended.set()

        t = threading.Thread(target=listen, name="sse-listener")
        t.start()
        assert ready.wait(5)
        assert server.revoke_device(device_id)
        assert ended.wait(5), "the stream went on after the revocation"
        t.join(5)
        _visitor(bus, "Shoes", "v-after")  # nothing more reaches the revoked tablet
        assert after == []
        r = c.get("/api/v1/zones/Shoes/events", headers=auth(token))
        assert r.status_code == 401


def test_service_session_scans_are_idempotent(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], store: Store, bus: EventBus
) -> None:
    _visitor(bus, "Shoes", "v9")
    token = pair(client, server, seeded["anna"], "1234")
    sess = start_session(client, token, "Shoes", "v9")
    again = client.post(
        "/api/v1/sessions",
        json={"id": sess["id"], "zone": "Shoes", "visitor_id": "v9"},
        headers=auth(token),
    )
    assert again.status_code == 200 and again.json()["id"] == sess["id"]
    served = client.get("/api/v1/zones/Shoes/customers", headers=auth(token)).json()
    assert served["customers"][0]["served_by"] == "Anna"
    key = str(uuid.uuid4())
    first = scan(client, token, sess["id"], PRODUCTS[0][0], key)
    second = scan(client, token, sess["id"], PRODUCTS[0][0], key)
    assert first.status_code == second.status_code == 200
    assert first.json()["product"]["name"] == "Trail runner GTX"
    assert second.json()["duplicate"] is True and second.json()["id"] == first.json()["id"]
    unknown = scan(client, token, sess["id"], "0000000000017")
    assert unknown.status_code == 200 and unknown.json()["product"] is None
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(ItemScan)) == 2
    end = client.post(f"/api/v1/sessions/{sess['id']}/end", json={}, headers=auth(token))
    assert end.status_code == 200
    summary = end.json()
    assert summary["ended_at"] is not None and len(summary["items"]) == 2
    assert summary["total"] == 129.0
    # ending twice is harmless; scanning after the end is refused
    assert client.post(f"/api/v1/sessions/{sess['id']}/end", headers=auth(token)).json()[
        "ended_at"
    ] == pytest.approx(summary["ended_at"])
    assert scan(client, token, sess["id"], PRODUCTS[1][0]).status_code == 409
    # another salesperson cannot touch it
    ben = pair(client, server, seeded["ben"], "5678")
    assert client.get(f"/api/v1/sessions/{sess['id']}", headers=auth(ben)).status_code == 403


def test_product_lookup_and_openapi(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    p = client.get(f"/api/v1/products/{PRODUCTS[2][0]}", headers=auth(token)).json()
    assert p == {
        "barcode": PRODUCTS[2][0],
        "name": "Leather tote",
        "category": "Bags",
        "price": 210.0,
    }
    assert client.get("/api/v1/products/123", headers=auth(token)).status_code == 404
    doc = client.get("/openapi.json").json()
    assert "/api/v1/sessions/{session_id}/scans" in doc["paths"]
    assert "/api/v1/pos/webhook" in doc["paths"]
    assert client.get("/").status_code in (200, 307)
    page = client.get("/tablet/")
    assert page.status_code == 200 and "js/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/api/v1/me", headers=auth(token)).headers["cache-control"] == "no-store"


def test_https_by_default_with_self_signed_cert(
    store: Store, seeded: dict[str, int], tmp_path: object
) -> None:
    srv = LanServer(store, None, port=0, host="127.0.0.1")
    srv.start()
    try:
        assert srv.scheme == "https" and srv.cert is not None
        assert "127.0.0.1" in srv.cert.ip_addresses and "localhost" in srv.cert.dns_names
        with httpx.Client(verify=ssl.create_default_context(cafile=srv.cert.cert_path)) as c:
            r = c.get(f"https://localhost:{srv.port}/api/v1/me")
            assert r.status_code == 401
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{srv.port}/api/v1/me")  # untrusted by default
    finally:
        srv.stop()
    assert not srv.running


def test_restart_reloads_customers_still_inside(
    store: Store, seeded: dict[str, int], bus: EventBus
) -> None:
    now = time.time()
    store.writer.ingest(ZoneEnter("cam", now - 60, 1, 0.1, "Shoes", 7, "v-old", "visit-old"))
    store.writer.ingest(NewVisitor("cam", now - 60, 1, 0.1, "Shoes", "v-old", 7, JPEG)).result()
    srv = LanServer(store, bus, port=0, host="127.0.0.1")
    srv.cfg.allow_http = True
    srv.start()
    try:
        with httpx.Client(base_url=srv.local_url) as c:
            token = pair(c, srv, seeded["anna"], "1234")
            r = c.get("/api/v1/zones/Shoes/customers", headers=auth(token)).json()
            [cust] = r["customers"]
            assert cust["visitor_id"] == "v-old" and cust["has_crop"]
            assert cust["entered_at"] == pytest.approx(now - 60)
            img = c.get("/api/v1/zones/Shoes/customers/v-old/crop", headers=auth(token))
            assert img.content == JPEG
    finally:
        srv.stop()
