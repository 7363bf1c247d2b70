"""Issue 24 against the real LAN server (real encrypted store, real HTTP): each attack is
refused, and a request that failed authentication writes nothing to the store."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from app.events import EventBus, NewVisitor
from app.store.db import Store
from app.store.models import Base, Purchase, ServiceSession, ZoneVisit
from app.sync import pos
from app.sync.catalog import create_salesperson
from app.sync.lan import guard
from app.sync.lan.auth import CODE_ALPHABET, CODE_LENGTH
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
from tests.sync.test_pos_webhook import JSON, URL, _body, _post


def _counts(store: Store) -> dict[str, int]:
    """Rows in every table of the store: what a refused request must leave as it was."""
    with store.read_session() as s:
        return {
            t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def before(store: Store, server: LanServer) -> Iterator[dict[str, int]]:
    server.webhook_secret()  # made at start; read here so that nothing changes later
    store.writer.submit(lambda s: None).result()  # earlier fire-and-forget writes landed
    yield _counts(store)


# --- 1. pairing codes ------------------------------------------------------------------


def test_wrong_pairing_codes_get_429_after_the_limit_and_write_nothing(
    client: httpx.Client, server: LanServer, store: Store, before: dict[str, int]
) -> None:
    statuses = []
    for i in range(guard.PAIR_CLIENT_FAILURES + 5):
        if i % 2:
            r = client.get("/api/v1/pairing", params={"code": f"WRONG{i:02d}"})
        else:
            body = {"code": f"WRONG{i:02d}", "salesperson_id": 1, "pin": "1234"}
            r = client.post("/api/v1/pairing", json=body)
        statuses.append(r.status_code)
    assert statuses == [401] * guard.PAIR_CLIENT_FAILURES + [429] * 5
    assert int(r.headers["Retry-After"]) > 60 and "Too many wrong pairing codes" in r.text
    # the right code is refused too while this client is locked out: no oracle
    good = server.new_pairing_code().code
    assert client.get("/api/v1/pairing", params={"code": good}).status_code == 429
    assert _counts(store) == before


def test_concurrent_wrong_codes_cannot_slip_past_the_limit(
    client: httpx.Client, server: LanServer
) -> None:
    def guess(i: int) -> int:
        return client.get("/api/v1/pairing", params={"code": f"RACE{i:04d}"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(guess, range(160)))
    assert statuses == {401: guard.PAIR_CLIENT_FAILURES, 429: 160 - guard.PAIR_CLIENT_FAILURES}


def test_a_pairing_code_pairs_one_tablet_only(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    code = server.new_pairing_code().code
    body = {"code": code, "salesperson_id": seeded["anna"], "pin": "1234"}
    assert client.post("/api/v1/pairing", json=body).status_code == 200
    again = client.post("/api/v1/pairing", json=body)
    assert again.status_code == 401 and "wrong or has expired" in again.json()["detail"]
    assert client.get("/api/v1/pairing", params={"code": code}).status_code == 401


def test_a_pairing_code_with_a_wrong_pin_is_not_used_up(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    code = server.new_pairing_code().code
    body = {"code": code, "salesperson_id": seeded["anna"], "pin": "9999"}
    assert client.post("/api/v1/pairing", json=body).status_code == 401
    assert client.post("/api/v1/pairing", json={**body, "pin": "1234"}).status_code == 200


class FakeClock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# (steps: (client, seconds to wait before), expected retry_after > 0 after each step)
GUARD_CASES = [
    pytest.param([("a", 0.0)] * 9, [False] * 9, id="9 wrong codes: still allowed"),
    pytest.param([("a", 0.0)] * 10, [False] * 9 + [True], id="10th wrong code locks the client"),
    pytest.param(
        [("a", 0.0)] * 10 + [("b", 0.0)], [False] * 9 + [True, False], id="other client not locked"
    ),
    pytest.param(
        [("a", 0.0)] * 10 + [("a", 301.0)], [False] * 9 + [True, False], id="lock ends in 5 min"
    ),
    pytest.param(
        [("a", 40.0)] * 12, [False] * 12, id="one wrong code every 40 s never locks (window)"
    ),
    pytest.param(
        [(f"c{i}", 0.0) for i in range(30)], [False] * 29 + [True], id="30 clients: all locked"
    ),
    pytest.param(
        [(f"c{i}", 0.0) for i in range(30)] + [("z", 61.0)],
        [False] * 29 + [True, False],
        id="global lock ends in 1 min",
    ),
]


@pytest.mark.parametrize(("steps", "locked"), GUARD_CASES)
def test_pairing_guard_limits(steps: list[tuple[str, float]], locked: list[bool]) -> None:
    clock = FakeClock()
    g = guard.PairingGuard(clock=clock)
    got = []
    for client_ip, wait in steps:
        clock.t += wait
        if g.retry_after(client_ip) == 0:
            g.wrong_code(client_ip)
        got.append(g.retry_after(client_ip) > 0)
    assert got == locked


def test_guessing_odds_are_what_the_readme_says() -> None:
    assert guard.max_guesses_per_code() == 150
    assert guard.guessing_odds() == pytest.approx(150 / len(CODE_ALPHABET) ** CODE_LENGTH)
    assert 1 / guard.guessing_odds() > 7_000_000


# --- 2. POS webhook ----------------------------------------------------------------------


def test_oversized_webhook_body_is_413_before_it_is_read(
    client: httpx.Client, server: LanServer, store: Store, before: dict[str, int]
) -> None:
    big = b"{" + b" " * (guard.MAX_BODY_BYTES + 10) + b"}"
    r = client.post(URL, content=big, headers=JSON)
    assert r.status_code == 413 and "larger than 256 KB" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: read up to the limit only
        for _ in range(40):
            yield b" " * 10_000

    r = client.post(URL, content=chunks(), headers=JSON)
    assert r.status_code == 413
    # the cap applies to every route, before authentication
    r = client.post("/api/v1/sessions", content=big, headers={**JSON, **auth("forged")})
    assert r.status_code == 413
    assert _counts(store) == before


@pytest.mark.parametrize(
    "ctype",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_webhook_takes_json_only(
    client: httpx.Client,
    server: LanServer,
    store: Store,
    before: dict[str, int],
    ctype: str | None,
) -> None:
    body = _body("POS-T")
    stamp = str(int(time.time()))
    headers = {
        pos.TIMESTAMP_HEADER: stamp,
        pos.SIGNATURE_HEADER: pos.sign_webhook(server.webhook_secret(), body, stamp),
    }
    if ctype:
        headers["Content-Type"] = ctype
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 415 and "application/json" in r.json()["detail"]
    assert _counts(store) == before


def test_2000_forged_webhooks_write_nothing_and_log_once(
    client: httpx.Client,
    server: LanServer,
    store: Store,
    before: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    body = _body("POS-F")
    t0 = time.monotonic()
    for i in range(2000):
        r = _post(client, "forged-secret", body) if i % 2 else _post(client, "x", body, ts=1.0)
        assert r.status_code == 401
    elapsed = time.monotonic() - t0
    assert server.rejections.total == 2000
    assert server.rejections.by_reason == {
        "bad signature": 1000,
        "stale timestamp": 1000,
    }
    lines = [r for r in caplog.records if "webhook" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert _counts(store) == before
    assert elapsed < 60


@pytest.mark.parametrize(
    ("ts", "why"),
    [
        (0.0, "greater than or equal"),
        (9.9e10, "less than or equal"),
        (-1.0, "greater than or equal"),
        (time.time() - 3 * 365 * 86400, "more than 2 years ago"),
        (time.time() + 3 * 86400, "in the future"),
    ],
)
def test_webhook_sale_time_is_bounded(
    client: httpx.Client, server: LanServer, store: Store, ts: float, why: str
) -> None:
    r = _post(client, server.webhook_secret(), _body("POS-TS", ts=ts))
    assert r.status_code == 422 and why in r.json()["detail"], r.text
    assert r.json()["detail"].startswith("invalid purchase: ")
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == 0


def test_a_signed_recent_sale_is_still_recorded(client: httpx.Client, server: LanServer) -> None:
    r = _post(client, server.webhook_secret(), _body("POS-OK", ts=time.time() - 30 * 86400))
    assert r.status_code == 200 and r.json()["status"] == "recorded"


# --- 4. a visitor of another zone ---------------------------------------------------------


@pytest.fixture
def shoes_only(store: Store, seeded: dict[str, int]) -> int:
    return create_salesperson(store, "Cleo", "E300", "4321", ["Shoes"])


def test_a_service_on_a_visitor_of_another_zone_is_refused(
    client: httpx.Client, server: LanServer, store: Store, bus: EventBus, shoes_only: int
) -> None:
    token = pair(client, server, shoes_only, "4321")
    bus.publish(NewVisitor("cam", time.time(), 1, 0.1, "Bags", "v-bags", 3, b""))
    bus.publish(NewVisitor("cam", time.time(), 2, 0.1, "Shoes", "v-shoes", 3, b""))
    store.writer.submit(lambda s: None).result()
    before = _counts(store)
    for visitor, status in (("v-bags", 403), ("v-nobody", 404)):
        r = client.post(
            "/api/v1/sessions",
            json={"id": str(uuid.uuid4()), "zone": "Shoes", "visitor_id": visitor},
            headers=auth(token),
        )
        assert r.status_code == status, r.text
    assert _counts(store) == before
    assert start_session(client, token, "Shoes", "v-shoes")["visitor_id"] == "v-shoes"


def test_a_visitor_the_store_saw_in_the_zone_lately_may_be_served(
    client: httpx.Client, server: LanServer, store: Store, shoes_only: int
) -> None:
    """A service queued on the tablet while offline: the live list forgot the visitor,
    the store's zone visits remember."""
    now = time.time()

    def _visits(s):  # type: ignore[no-untyped-def]
        s.add(ZoneVisit(visitor_id="v-old", zone="Shoes", camera="c", enter_ts=now - 600))
        s.add(ZoneVisit(visitor_id="v-old-bags", zone="Bags", camera="c", enter_ts=now - 600))

    store.writer.submit(_visits).result()
    token = pair(client, server, shoes_only, "4321")
    assert start_session(client, token, "Shoes", "v-old")["visitor_id"] == "v-old"
    r = client.post(
        "/api/v1/sessions",
        json={"id": str(uuid.uuid4()), "zone": "Shoes", "visitor_id": "v-old-bags"},
        headers=auth(token),
    )
    assert r.status_code == 403
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(ServiceSession)) == 1


# --- 6. what the OpenAPI document promises -------------------------------------------------


@pytest.mark.parametrize("path", ["end", "scans", "start"])
@pytest.mark.parametrize("bad", [False, True, "12", [1], {"a": 1}])
def test_ts_must_be_a_number(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], path: str, bad: object
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    sess = start_session(client, token, "Shoes")
    if path == "start":
        url, body = "/api/v1/sessions", {"id": str(uuid.uuid4()), "zone": "Shoes", "ts": bad}
    elif path == "scans":
        url = f"/api/v1/sessions/{sess['id']}/scans"
        body = {"barcode": PRODUCTS[0][0], "idempotency_key": str(uuid.uuid4()), "ts": bad}
    else:
        url, body = f"/api/v1/sessions/{sess['id']}/end", {"ts": bad}
    r = client.post(url, json=body, headers=auth(token))
    assert r.status_code == 422, (path, bad, r.text)
    assert client.get(f"/api/v1/sessions/{sess['id']}", headers=auth(token)).json()["items"] == []


def test_405_allow_lists_the_documented_methods(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    checked = 0
    for path, ops in doc["paths"].items():
        url = path.replace("{zone}", "Shoes").replace("{session_id}", "abcdefgh12")
        url = url.replace("{visitor_id}", "v1").replace("{barcode}", "123")
        documented = {m.upper() for m in ops}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - documented:
            r = client.request(method, url)
            assert r.status_code == 405, (method, url)
            assert set(r.headers["allow"].split(", ")) == documented, (method, url)
            checked += 1
    assert checked > 40


def test_a_body_that_is_not_json_is_a_documented_422(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    r = client.post("/api/v1/sessions", content=b"\x0cx\xff", headers={**JSON, **auth(token)})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "the body is not valid JSON"
    r = client.post("/api/v1/pairing", content=json.dumps([1]).encode(), headers=JSON)
    assert r.status_code == 422
