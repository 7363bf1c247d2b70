"""The salesperson's first hour, in a real headless Chromium at a tablet's 1024x768 and a
phone's 390x844, against the real LAN server and encrypted store (issue 23): customers
arrive over the live stream (real street crops from MOT15 TUD-Stadtmitte), people who
left age out, the status pill says what it means, a repeated item shows "×2" and counts
once (as in the reports), a typo or a wrong check digit is asked about, a wrong scan is
removed and undone, a missing camera closes its sheet, the title and the item list fit
the phone's screen, the service gets an outcome and a note, "My services today" lists
it, and unpairing is a confirmed, secondary action.

Set VITRINE_SCREENSHOTS=1 to refresh docs/screenshots/tablet-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import pytest
from sqlalchemy import select

from app.config import LanConfig
from app.events import EventBus, NewVisitor, ZoneExit
from app.store.db import Store, open_store
from app.store.models import ItemScan, ServiceSession
from app.store.sales_reports import ReportFilter, item_report, service_report
from app.sync.catalog import create_salesperson, upsert_product
from app.sync.lan.server import LanServer
from tests.conftest import MEDIA
from tests.e2e.test_tablet_e2e import ARGS, CHROMIUM, ITEMS, _shot
from tests.sync.test_lan_tablet_daily import GTIN_TABLE

playwright_sync = pytest.importorskip("playwright.sync_api")

TUD = MEDIA / "MOT15" / "TUD-Stadtmitte"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
    pytest.mark.skipif(not TUD.exists(), reason="needs ../shared/media"),
]

ZONE = "Shoes & bags"
TRAIL, TRAIL_NAME = ITEMS[0][0], ITEMS[0][1]
TOTE = ITEMS[1][0]
SIZES = {"tablet": (1024, 768), "phone": (390, 844)}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "daily.db", "pw")
    create_salesperson(s, "Anna Moreau", "E100", "1234", [ZONE])
    for code, name, cat, price in ITEMS:
        upsert_product(s, code, name, cat, price)
    try:
        yield s
    finally:
        s.close()


def _crops(n: int) -> list[bytes]:
    """People of TUD-Stadtmitte's first frame, cut out by its ground-truth boxes (JPEG)."""
    cap = cv2.VideoCapture(str(TUD / "TUD-Stadtmitte.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    out = []
    for line in (TUD / "gt" / "gt.txt").read_text().splitlines():
        f, _, x, y, w, h, *_ = (float(v) for v in line.split(","))
        if int(f) == 1 and w > 50:
            x0, y0 = max(0, int(x - w * 0.15)), max(0, int(y - 8))
            crop = frame[y0 : int(y + h + 8), x0 : int(x + w * 1.15)]
            out.append(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes())
    assert len(out) >= n
    return out[:n]


def _people(bus: EventBus) -> None:
    """Two customers here, one who just left (40 s in the zone), one who left 130 s ago."""
    now = time.time()
    crops = _crops(4)
    for i, (vid, entered) in enumerate(
        [("v-here-1", now - 95), ("v-here-2", now - 25), ("v-left", now - 60), ("v-old", now - 300)]
    ):
        bus.publish(NewVisitor("door", entered, i, 0.0, ZONE, vid, i + 1, crops[i]))
    bus.publish(ZoneExit("door", now - 20, 9, 0.0, ZONE, 3, "v-left", "visit-3", 40.0))
    bus.publish(ZoneExit("door", now - 130, 9, 0.0, ZONE, 4, "v-old", "visit-4", 170.0))


def _scans(db: Store) -> list[str]:
    with db.read_session() as s:
        return list(s.scalars(select(ItemScan.barcode).order_by(ItemScan.id)))


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


def _until(page: Any, js: str, timeout_s: float = 15.0) -> None:
    """Wait until `js` is true in the page (wait_for_function evaluates strings, which the
    app's Content-Security-Policy forbids)."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(js):
        assert time.monotonic() < end, f"timed out waiting for {js}"
        page.wait_for_timeout(100)


def _name(size: str, shot: str) -> str:
    return f"tablet-{shot}.png" if size == "tablet" else f"tablet-{shot}-phone.png"


CODES_JS = """async (table) => {
  const c = await import('/tablet/js/codes.js');
  return table.map(([code]) => c.codeKind(code));
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_a_salespersons_first_hour(db: Store, tmp_path: Path, size: str) -> None:
    bus = EventBus()
    server = LanServer(
        db, bus, LanConfig(allow_http=True), store_name="Rue Vitrine", port=0, host="127.0.0.1"
    )
    server.start()
    try:
        with playwright_sync.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                w, h = SIZES[size]
                ctx = browser.new_context(
                    viewport={"width": w, "height": h}, has_touch=True, is_mobile=size == "phone"
                )
                ctx.grant_permissions(["camera"])  # granted, but the machine has none
                page = ctx.new_page()
                _walk(page, server, bus, db, tmp_path, size)
            finally:
                browser.close()
    finally:
        server.stop()


def _walk(page: Any, server: LanServer, bus: EventBus, db: Store, tmp: Path, size: str) -> None:
    w, h = SIZES[size]
    page.goto(f"{server.local_url}/tablet/#pair={server.new_pairing_code().code}")
    # the same check-digit table as the server's rule (tests/sync/test_lan_tablet_daily.py)
    assert page.evaluate(CODES_JS, GTIN_TABLE) == [kind for _, kind in GTIN_TABLE]
    page.click("[data-person='Anna Moreau']")
    for d in "1234":
        page.click(f".pinpad button:text-is('{d}')")
    page.click(".pinpad button:text-is('OK')")
    page.wait_for_selector(f"h1:text-is('{ZONE}')")

    # --- customers: live pill, "Just left" cards age out ---------------------------------
    page.wait_for_selector("#net[data-state='live']")
    assert page.text_content("#net-text") == "Live"
    assert "cameras see them" in page.get_attribute("#net", "title")
    _people(bus)
    page.wait_for_selector(".customer[data-visitor='v-left'] .since:text-is('Just left')")
    page.locator(".customer[data-visitor='v-here-2'] img").wait_for()
    assert page.text_content(".customer[data-visitor='v-left'] .sub") == "was here 40 s"
    assert page.locator(".customer[data-visitor='v-old']").count() == 0  # left 130 s ago
    assert page.locator(".customer").count() == 3
    page.wait_for_timeout(600)  # the cards' pop-in animation
    _shot(page, tmp, _name(size, "customers"))
    # the pill explains itself
    page.click("#net")
    page.wait_for_selector("#confirm-title:text-is('What the light says')")
    assert "Serving" in page.text_content("#confirm-text")
    page.click("#confirm-ok")

    # --- a service: pill, title and list on screen ---------------------------------------
    page.click(".customer[data-visitor='v-here-1']")
    page.wait_for_selector("#barcode")
    page.wait_for_selector("#net[data-state='serving']")
    assert page.text_content("#net-text") == "Serving"
    title = page.evaluate(
        "(() => { const t = document.getElementById('title'); const r = t.getBoundingClientRect();"
        " return {text: t.textContent, sw: t.scrollWidth, cw: t.clientWidth, right: r.right}; })()"
    )
    assert title["text"] == f"Serving · {ZONE}"
    assert title["sw"] <= title["cw"] and title["right"] <= w, title  # not cut
    for code in (TRAIL, TRAIL, TOTE):
        page.fill("#barcode", code)
        page.press("#barcode", "Enter")
        page.wait_for_selector(f".item[data-barcode='{code}'] .price:not(:empty)")
    _until(page, "document.querySelectorAll('.item .state').length === 0")
    # the same item twice: one row "×2", counted once (the reports' rule)
    assert page.get_attribute(f".item[data-barcode='{TRAIL}']", "data-count") == "2"
    assert page.text_content(f".item[data-barcode='{TRAIL}'] .qty") == "×2"
    assert page.text_content("#items-count") == "2 items shown"
    assert page.text_content("#items-value") == "339.00"
    assert _scans(db) == [TRAIL, TRAIL, TOTE]
    first = _box(page, "#items .item")
    assert first["y"] + first["height"] <= h, (size, first)  # above the fold
    assert _box(page, "#barcode")["y"] < h / 2

    # --- codes that are neither valid nor known: asked ------------------------------------
    page.fill("#barcode", "abc")
    page.press("#barcode", "Enter")
    page.wait_for_selector("#confirm-title:text-is('Add this code?')")
    assert "not an EAN or UPC barcode" in page.text_content("#confirm-text")
    page.click("#confirm-cancel")
    page.fill("#barcode", "4006381333932")
    page.press("#barcode", "Enter")
    page.wait_for_selector("#confirm-text:has-text('its last digit should be 1')")
    if size == "tablet":
        page.wait_for_timeout(300)
        _shot(page, tmp, "tablet-confirm-code.png")
    page.click("#confirm-cancel")
    page.fill("#barcode", "abc")
    page.press("#barcode", "Enter")
    page.click("#confirm-ok")
    page.wait_for_selector(".item[data-barcode='abc'] .name:text-is('Not in the catalogue')")
    assert _scans(db) == [TRAIL, TRAIL, TOTE, "abc"]
    assert page.text_content("#items-value") == "339.00"

    # --- a wrong scan removed, undone, removed ----------------------------------------------
    page.click(".item[data-barcode='abc'] .remove")
    page.wait_for_selector(".item[data-barcode='abc']", state="detached")
    page.wait_for_selector("#toast-action:text-is('Undo')")
    assert page.text_content("#toast span") == "Removed abc."
    _until(page, "!localStorage.getItem('vitrine.queue').includes('unscan')")
    assert _scans(db) == [TRAIL, TRAIL, TOTE]
    page.click("#toast-action")
    page.wait_for_selector(".item[data-barcode='abc'] .name:text-is('Not in the catalogue')")
    assert _scans(db) == [TRAIL, TRAIL, TOTE, "abc"]
    page.click(".item[data-barcode='abc'] .remove")
    _until(page, "localStorage.getItem('vitrine.queue') === '[]'")
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    _shot(page, tmp, _name(size, "session"))
    page.click(f".item[data-barcode='{TRAIL}'] .remove")  # ×2 -> one
    _until(page, "localStorage.getItem('vitrine.queue') === '[]'")
    assert page.locator(f".item[data-barcode='{TRAIL}'] .qty").count() == 0
    assert page.text_content("#items-value") == "339.00"
    assert sorted(_scans(db)) == sorted([TRAIL, TOTE])

    # --- no camera: the sheet closes, the field says why ------------------------------------
    page.click("#camera-btn")
    page.wait_for_selector("#scan-hint.bad", timeout=15_000)
    assert page.locator(".camera").count() == 0
    assert page.text_content("#scan-hint").startswith("No camera was found"), page.text_content(
        "#scan-hint"
    )
    assert page.evaluate("document.activeElement.id") == "barcode"

    # --- the end: same figures, an outcome and a note ---------------------------------------
    page.click("#end-service")
    page.wait_for_selector("text=Saved on the store server.", timeout=15_000)
    assert page.text_content("#summary-items") == "2"
    assert page.text_content("#summary-value") == "339.00"
    page.click(".chip[data-outcome='coming_back']")
    page.fill("#service-note", "Wants the tote in black; back on Saturday")
    page.click("#save-note")
    _until(page, "localStorage.getItem('vitrine.queue') === '[]'")
    with db.read_session() as s:
        ss = s.scalars(select(ServiceSession)).one()
        assert (ss.outcome, ss.note) == ("coming_back", "Wants the tote in black; back on Saturday")
        window = ReportFilter(time.time() - 3600, time.time() + 60)
        (row,) = service_report(s, window, ZoneInfo("UTC"))
        shown = {r.barcode: r.times_shown for r in item_report(s, window)}
    assert (row.items_shown, row.value_shown, row.outcome) == (2, 339.0, "Will come back")
    assert shown == {TRAIL: 1, TOTE: 1}  # the reports count as the tablet did
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    _shot(page, tmp, _name(size, "summary"))

    # --- my services today ----------------------------------------------------------------
    page.click("text=My services today")
    page.wait_for_selector(".svc .pill:text-is('Will come back')")
    assert page.text_content("#my-count") == "1 service · 0 bought"
    assert "back on Saturday" in page.text_content(".svc .svc-note")
    _shot(page, tmp, _name(size, "my-services"))

    # --- unpairing: secondary, confirmed ----------------------------------------------------
    page.click("#my-back")
    page.wait_for_selector(f"h1:text-is('{ZONE}')")
    page.click("#menu-btn")
    page.wait_for_selector("#unpair")
    assert "danger" in page.get_attribute("#unpair", "class")
    assert "primary" in page.get_attribute("#settings-back", "class")
    bg = page.evaluate("getComputedStyle(document.getElementById('unpair')).backgroundColor")
    assert bg == "rgb(255, 255, 255)", bg  # not the dark primary look
    assert _box(page, "#unpair")["y"] > _box(page, "#settings-back")["y"] + 40  # apart
    page.click("#unpair")
    page.wait_for_selector("#confirm-title:text-is('Unpair this tablet?')")
    page.click("#confirm-cancel")
    assert page.evaluate("!!localStorage.getItem('vitrine.token')")
    page.click("#unpair")
    page.click("#confirm-ok")
    page.wait_for_selector("h1:text-is('Pair this tablet')")
    assert not page.evaluate("localStorage.getItem('vitrine.token')")
