"""The tablet's daily-use rules on the real LAN server and encrypted store (issue 23):
EAN/UPC check digits (one pure rule, a table), a code neither valid nor in the catalogue
refused until confirmed, a wrong scan removed (idempotent, relinking its purchase), an
item scanned twice counted once the same way in the service and in the reports, a
service's outcome and note stored and shown in the Services report, and a
salesperson's own services of the day."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import time
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.db import Store
from app.store.models import SERVICE_OUTCOMES, Purchase
from app.store.sales_reports import (
    ReportFilter,
    item_report,
    salesperson_report,
    service_report,
    shown_cell,
)
from app.sync import gtin
from app.sync.aggregates import load_outbox_entries
from app.sync.lan import schemas
from app.sync.lan.server import LanServer
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

TRAIL, TOTE = PRODUCTS[0][0], PRODUCTS[2][0]
# code, kind: the same table as the tablet's (tests/e2e/test_tablet_daily.py runs codes.js)
GTIN_TABLE = [
    ("4006381333931", "ean_13"),
    ("4006381333932", "bad_check_digit"),
    ("5012345678900", "ean_13"),
    ("0000000000017", "ean_13"),
    ("96385074", "ean_8"),
    ("96385075", "bad_check_digit"),
    ("036000291452", "upc_a"),
    ("036000291453", "bad_check_digit"),
    ("abc", "other"),
    ("ABC-123", "other"),
    ("12345", "other"),
    ("40063813339310", "other"),  # 14 digits: not one of the three
    ("４００６３８１３３３９３１", "other"),  # full-width digits are not a barcode
]


@pytest.mark.parametrize(("code", "kind"), GTIN_TABLE)
def test_code_kind_table(code: str, kind: str) -> None:
    assert gtin.code_kind(code) == kind
    assert gtin.is_valid_gtin(code) == (kind in gtin.NAMES)


def test_problem_names_the_right_check_digit() -> None:
    assert gtin.problem("4006381333932") == (
        "4006381333932 is not a valid EAN-13 barcode: its last digit should be 1. "
        "Scan it again or check the number you typed."
    )
    assert gtin.problem("4006381333931") == gtin.problem("abc") == ""


def test_outcomes_agree_between_api_and_store() -> None:
    allowed = set(schemas.OutcomeIn.model_json_schema()["properties"]["outcome"]["enum"])
    assert allowed == {"", *SERVICE_OUTCOMES}


@pytest.fixture
def anna(client: httpx.Client, server: LanServer, seeded: dict[str, int]) -> str:
    return pair(client, server, seeded["anna"], "1234")


def _scan(client: httpx.Client, token: str, sid: str, code: str, **extra: object) -> httpx.Response:
    body = {"barcode": code, "idempotency_key": str(uuid.uuid4()), **extra}
    return client.post(f"/api/v1/sessions/{sid}/scans", json=body, headers=auth(token))


def test_unknown_codes_need_a_confirmation(client: httpx.Client, anna: str) -> None:
    sid = start_session(client, anna, "Shoes")["id"]
    bad = _scan(client, anna, sid, "4006381333932")
    assert bad.status_code == 409
    assert bad.json()["detail"].startswith("4006381333932 is not a valid EAN-13 barcode")
    typo = _scan(client, anna, sid, "abc")
    assert typo.status_code == 409
    assert typo.json()["detail"] == (
        "abc is not an EAN or UPC barcode and is not in the catalogue: "
        "check it, and confirm to add it anyway."
    )
    # valid EAN not in the catalogue, a catalogue code with a wrong check digit, and a
    # confirmed code: recorded
    assert _scan(client, anna, sid, "0000000000017").status_code == 200
    assert _scan(client, anna, sid, PRODUCTS[3][0]).status_code == 200  # 7612345678904
    ok = _scan(client, anna, sid, "abc", confirmed=True)
    assert ok.status_code == 200 and ok.json()["product"] is None
    items = client.get(f"/api/v1/sessions/{sid}", headers=auth(anna)).json()["items"]
    assert [i["barcode"] for i in items] == ["0000000000017", PRODUCTS[3][0], "abc"]
    # `confirmed` must be a JSON boolean
    assert _scan(client, anna, sid, "abc", confirmed="yes").status_code == 422


def test_a_wrong_scan_is_removed_and_its_purchase_relinked(
    client: httpx.Client, anna: str, store: Store
) -> None:
    sess = start_session(client, anna, "Shoes")
    sid = sess["id"]
    key = str(uuid.uuid4())
    assert scan(client, anna, sid, TRAIL, key).status_code == 200
    assert scan(client, anna, sid, TOTE).status_code == 200

    def _buy(s: Session) -> None:
        s.add(
            Purchase(transaction_id="T9", line_no=1, ts=time.time() + 5, barcode=TRAIL, amount=129)
        )

    write(store, _buy)
    assert scan(client, anna, sid, TRAIL).status_code == 200  # links the purchase
    with store.read_session() as s:
        assert s.scalar(select(Purchase.session_id)) == sid
    first = client.delete(f"/api/v1/sessions/{sid}/scans/{key}", headers=auth(anna))
    assert first.status_code == 200, first.text
    assert [i["barcode"] for i in first.json()["items"]] == [TOTE, TRAIL]
    with store.read_session() as s:  # the other scan of TRAIL still explains it
        assert s.scalar(select(Purchase.session_id)) == sid
    last = first.json()["items"][1]["key"]
    r = client.delete(f"/api/v1/sessions/{sid}/scans/{last}", headers=auth(anna))
    assert [i["barcode"] for i in r.json()["items"]] == [TOTE]
    with store.read_session() as s:  # no scan of TRAIL left: the purchase is unlinked
        assert s.scalar(select(Purchase.session_id)) is None
    again = client.delete(f"/api/v1/sessions/{sid}/scans/{key}", headers=auth(anna))
    assert again.status_code == 200 and len(again.json()["items"]) == 1  # a retry
    client.post(f"/api/v1/sessions/{sid}/end", headers=auth(anna))
    tote_key = again.json()["items"][0]["key"]
    ended = client.delete(f"/api/v1/sessions/{sid}/scans/{tote_key}", headers=auth(anna))
    assert ended.status_code == 409 and "ended" in ended.json()["detail"]


def test_an_item_scanned_twice_counts_once_here_and_in_the_reports(
    client: httpx.Client, anna: str, store: Store
) -> None:
    sid = start_session(client, anna, "Shoes")["id"]
    for code in (TOTE, TOTE, TRAIL):
        assert scan(client, anna, sid, code).status_code == 200
    out = client.post(f"/api/v1/sessions/{sid}/end", headers=auth(anna)).json()
    assert len(out["items"]) == 3  # every scan is kept
    assert out["items_shown"] == 2 and out["total"] == 339.0  # 210 + 129, the tote once
    window = ReportFilter(time.time() - 3600, time.time() + 60)
    with store.read_session() as s:
        items = {r.barcode: r.times_shown for r in item_report(s, window)}
        (person,) = salesperson_report(s, window)
        (svc,) = service_report(s, window, ZoneInfo("UTC"))
    assert items == {TOTE: 1, TRAIL: 1}
    assert person.items_per_session == 2
    assert (svc.items_shown, svc.value_shown) == (2, 339.0)
    with store.read_session() as s:  # and what HQ is sent
        sent = [e.data for e in load_outbox_entries(s, window.start, window.end)]
    (agg,) = [p for p in sent if "items_scanned" in p]
    assert agg["items_scanned"] == 2


def test_outcome_and_note_are_stored_and_reported(
    client: httpx.Client, anna: str, store: Store
) -> None:
    sid = start_session(client, anna, "Bags")["id"]
    scan(client, anna, sid, TOTE)
    client.post(f"/api/v1/sessions/{sid}/end", headers=auth(anna))
    body = {"outcome": "coming_back", "note": "  wants it in black, back on Saturday "}
    r = client.put(f"/api/v1/sessions/{sid}/outcome", json=body, headers=auth(anna))
    assert r.status_code == 200, r.text
    assert (r.json()["outcome"], r.json()["note"]) == (
        "coming_back",
        "wants it in black, back on Saturday",
    )
    bad = client.put(
        f"/api/v1/sessions/{sid}/outcome", json={"outcome": "maybe"}, headers=auth(anna)
    )
    assert bad.status_code == 422
    window = ReportFilter(time.time() - 3600, time.time() + 60)
    with store.read_session() as s:
        (row,) = service_report(s, window, ZoneInfo("Europe/Paris"))
    assert (row.salesperson, row.zone, row.outcome, row.note) == (
        "Anna",
        "Bags",
        "Will come back",
        "wants it in black, back on Saturday",
    )
    assert shown_cell(row, "duration_s").count(":") == 1


def test_my_services_today(
    client: httpx.Client, server: LanServer, seeded: dict[str, int], anna: str
) -> None:
    ben = pair(client, server, seeded["ben"], "5678")
    first = start_session(client, anna, "Shoes")["id"]
    client.post(f"/api/v1/sessions/{first}/end", headers=auth(anna))
    second = start_session(client, anna, "Bags")["id"]
    start_session(client, ben, "Toys")
    r = client.get(f"/api/v1/me/services?since={time.time() - 600:.0f}", headers=auth(anna))
    assert r.status_code == 200, r.text
    got = r.json()["sessions"]
    assert [s["id"] for s in got] == [second, first]
    assert got[0]["ended_at"] is None and got[1]["ended_at"] is not None
    later = client.get(f"/api/v1/me/services?since={time.time() + 600:.0f}", headers=auth(anna))
    assert later.json()["sessions"] == []
