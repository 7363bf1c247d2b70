"""Recording scans (the writer job of the tablets' hottest route), the token cache's
background refresh, and the live list's JSON, on a real encrypted store."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import dataclasses
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.db import Store
from app.store.models import ItemScan, Purchase
from app.sync.catalog import update_salesperson
from app.sync.lan.live import Customer
from app.sync.lan.schemas import ScanOut
from app.sync.lan.server import LanServer
from app.sync.lan.service import ApiError, DeviceCtx, TabletService
from app.sync.store_protocol import write
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

BARCODE = PRODUCTS[0][0]


def _scan(svc: TabletService, ctx: DeviceCtx, sid: str, key: str, barcode: str = BARCODE) -> dict:
    return dict(write(svc.store, svc.scan_job(ctx, sid, barcode, key, None)))


def _count_scans(store: Store) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(ItemScan)) or 0)


@pytest.fixture
def svc(server: LanServer) -> TabletService:
    return server.service


@pytest.fixture
def anna(svc: TabletService, seeded: dict[str, int]) -> DeviceCtx:
    return DeviceCtx("dev-anna", seeded["anna"], "Anna", frozenset({"Shoes", "Bags"}))


def _session(svc: TabletService, ctx: DeviceCtx, zone: str = "Shoes") -> str:
    sid = str(uuid.uuid4())
    svc.start_session(ctx, sid, zone, "", None)
    return sid


def test_scan_is_recorded_once_per_key_with_its_product(
    svc: TabletService, anna: DeviceCtx, store: Store
) -> None:
    sid = _session(svc, anna)
    key = str(uuid.uuid4())
    first = _scan(svc, anna, sid, key)
    again = _scan(svc, anna, sid, key)
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["id"] == first["id"] and again["ts"] == first["ts"]
    assert first["product"] == {
        "barcode": BARCODE,
        "name": "Trail runner GTX",
        "category": "Shoes",
        "price": 129.0,
    }
    assert _scan(svc, anna, sid, str(uuid.uuid4()), "0000000000017")["product"] is None
    assert _count_scans(store) == 2


def test_scan_refusals_keep_their_statuses(
    svc: TabletService, anna: DeviceCtx, seeded: dict[str, int], store: Store
) -> None:
    sid = _session(svc, anna)
    key = str(uuid.uuid4())
    _scan(svc, anna, sid, key)
    ben = DeviceCtx("dev-ben", seeded["ben"], "Ben", frozenset({"Toys"}))
    cases = [
        (lambda: _scan(svc, anna, str(uuid.uuid4()), str(uuid.uuid4())), 404),
        (lambda: _scan(svc, ben, sid, str(uuid.uuid4())), 403),
        (lambda: _scan(svc, anna, _session(svc, anna), key), 409),  # key of another session
    ]
    for call, status in cases:
        with pytest.raises(ApiError) as err:
            call()
        assert err.value.status == status, err.value.detail
    svc.end_session(anna, sid, None)
    with pytest.raises(ApiError) as ended:
        _scan(svc, anna, sid, str(uuid.uuid4()))
    assert ended.value.status == 409 and "ended" in ended.value.detail
    # a retry of a scan made before the end is still answered (the tablet's queue)
    assert _scan(svc, anna, sid, key)["duplicate"] is True
    assert _count_scans(store) == 1


def test_scan_links_a_waiting_purchase_only_of_its_barcode(
    svc: TabletService, anna: DeviceCtx, store: Store
) -> None:
    now = time.time()

    def _buy(s: Session) -> None:  # the POS told us first: two lines, one of them shown
        for line, code in ((1, BARCODE), (2, "X1")):
            s.add(Purchase(transaction_id="T1", line_no=line, ts=now + 30, barcode=code, amount=1))

    write(store, _buy)
    sid = _session(svc, anna)
    _scan(svc, anna, sid, str(uuid.uuid4()))
    with store.read_session() as s:
        links = dict(s.execute(select(Purchase.barcode, Purchase.session_id)).all())
    assert links == {BARCODE: sid, "X1": None}


def test_token_cache_refreshes_in_the_background_and_sees_deactivation(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], store: Store
) -> None:
    clock = [time.time()]
    svc = server.service
    svc._clock = lambda: clock[0]  # the cache's clock only; the server answers as usual
    token = pair(client, server, seeded["anna"], "1234")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    assert svc.cached_device(token) is not None
    assert not svc.claim_refresh(token)  # young entry: nothing to do
    clock[0] += 3.0
    assert svc.claim_refresh(token) and not svc.claim_refresh(token)  # one refresh at a time
    svc.refresh(token)
    # deactivated on the desktop (not through the service): the next refresh drops it
    update_salesperson(store, seeded["anna"], active=False)
    clock[0] += 3.0
    assert svc.cached_device(token) is not None  # still within its 5 s
    assert svc.claim_refresh(token)
    svc.refresh(token)
    assert svc.cached_device(token) is None
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401


def test_a_load_racing_a_revocation_is_not_cached(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    svc = server.service
    token = pair(client, server, seeded["anna"], "1234")
    load = svc._load_device

    def load_then_revoke(th: str) -> DeviceCtx:
        ctx = load(th)  # read before the revocation commits...
        [dev] = server.devices()
        assert server.revoke_device(dev.id)
        return ctx

    svc._load_device = load_then_revoke  # type: ignore[method-assign]
    svc.authenticate(token)  # ...answers this request, but is not kept
    svc._load_device = load  # type: ignore[method-assign]
    assert svc.cached_device(token) is None
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401


def test_customer_json_is_every_field() -> None:
    c = Customer("v1", "Shoes", "cam", 1.0, 2.0, present=False, left_at=3.0, has_crop=True)
    assert c.to_json() == dataclasses.asdict(c)
    copy = c.copy()
    assert copy == c and copy is not c


def test_scan_over_http_answers_the_documented_shape_with_server_timing(
    client: httpx.Client, server: LanServer, seeded: dict[str, int]
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    sess = start_session(client, token, "Shoes")
    r = scan(client, token, sess["id"], BARCODE)
    assert r.status_code == 200
    out = ScanOut.model_validate(r.json())
    assert out.session_id == sess["id"] and out.product and out.product.price == 129.0
    name, dur = r.headers["server-timing"].split(";")
    assert name == "app" and 0.0 < float(dur.removeprefix("dur=")) < 10_000
    other = scan(client, token, "0b3c2f8e-aaaa-4bbb-8ccc-123456789abc", BARCODE)
    assert other.status_code == 404 and other.json()["detail"] == "no such service session"
