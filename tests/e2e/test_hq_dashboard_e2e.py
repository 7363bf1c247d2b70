"""The HQ dashboard end to end: the real receiver (`python main.py hq`, uvicorn) over a
real PostgreSQL with known data, driven by a real headless Chromium: login, a regional
manager kept to their region (page and API: 403), a promotion recorded in the form and
its uplift on the page, a store created in the form whose provisioning file enrols the
store and whose key the receiver then accepts; anonymous pages go to the login.

Set VITRINE_SCREENSHOTS=1 to refresh docs/screenshots/hq-*.png.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.hq import db
from app.hq.testing_pg import HqProcess, TempPostgres
from tests.conftest import REPO
from tests.sync.hq_dash_data import (
    PASSWORD,
    Day,
    day_rows,
    seed,
    send_audit,
    send_health,
    send_visit_days,
)

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
PERIOD = "from=2026-02-09&to=2026-03-15"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def hq(pg_server: TempPostgres) -> Iterator[HqProcess]:
    url = pg_server.create_database(f"hq_e2e_{uuid.uuid4().hex[:8]}")
    engine = db.make_engine(url, pool_size=2)
    db.migrate(engine)
    seed(engine)
    send_audit(engine, "N1", 0.967, 3, "entrance")
    send_audit(engine, "N2", 0.9, 12, "door")
    # N1 recognises (repeat visitors mode): its last week's new / returning / staff
    week = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
    send_visit_days(engine, "N1", {d: (60 + 5 * i, 20 + 3 * i, 4) for i, d in enumerate(week)})
    # the stores' latest batches (the backlog shown is the last batch's)
    send_health(engine, "N1", {"door": "live", "floor": "live"}, 0, backlog=(0, None))
    send_health(engine, "N2", {"door": "live", "till": "stalled"}, 2, backlog=(1234, 3 * 3600))
    send_health(engine, "S1", {"door": "live"}, 0)
    engine.dispose()
    proc = HqProcess(url).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, hq: HqProcess) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=hq.base_url)
    external: list[str] = []
    ctx.on("request", lambda r: None if r.url.startswith(hq.base_url) or r.url.startswith("data:")
           else external.append(r.url))  # fmt: skip
    p = ctx.new_page()
    try:
        yield p
    finally:
        ctx.close()
    assert external == []  # nothing loads from outside HQ


def _shot(page: Any, tmp: Path, name: str) -> None:
    """A page (full) or one element of it."""
    out = tmp / name
    if hasattr(page, "goto"):
        page.screenshot(path=str(out), full_page=True)
    else:
        page.screenshot(path=str(out))
    assert out.stat().st_size > 2000
    if os.environ.get("VITRINE_SCREENSHOTS"):
        dest = REPO / "docs" / "screenshots"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, dest / name)


def _login(page: Any, user: str, password: str = PASSWORD) -> None:
    page.goto("/hq/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_login_and_the_stores_page(page: Any, tmp_path: Path) -> None:
    page.goto("/hq/kpis")
    assert "/hq/login" in page.url  # anonymous: sent to the login page
    _login(page, "admin", "wrong password!!")
    assert "Wrong user name or password" in page.inner_text("main")
    _login(page, "admin")
    page.wait_for_url("**/hq/stores")
    rows = page.locator("table.stores tbody tr")
    assert rows.count() == 3
    n2 = page.locator("table.stores tr", has_text="North Two").inner_text()
    assert "1/2" in n2 and "\t2\t" in n2  # one camera of two live, two open alerts
    assert "90.0 % (door)" in n2 and "12 days ago" in n2  # the last counting audit
    assert "1,234 rows, oldest made 3 h ago" in n2  # what still waits at the store
    assert "all sent" in page.locator("table.stores tr", has_text="North One").inner_text()
    s1 = page.locator("table.stores tr", has_text="S1").inner_text()
    assert "never" in s1 and "not reported" in s1  # no audit; an older store's batches
    _shot(page, tmp_path, "hq-stores.png")
    page.goto(f"/hq/stores/N1?{PERIOD}")
    assert "Traffic index" in page.inner_text("table.kpi")
    assert page.locator("svg.chart polyline").count() == 1
    repeat = page.locator("table.visits.total").inner_text()
    assert "525" in repeat and "203" in repeat and "27.9 %" in repeat  # 7 days of N1
    assert "Per day (7)" in page.inner_text("main")
    _shot(page, tmp_path, "hq-store.png")
    page.goto("/hq/kpis?from=2026-03-02&to=2026-03-08")
    section = page.locator("h2", has_text="Repeat vs new visitors")
    assert section.count() == 1
    chain = page.locator("table.visits tr", has_text="Chain").inner_text()
    assert "525" in chain and "203" in chain and "North One" in page.inner_text("table.visits")
    _shot(page.locator("table.visits"), tmp_path, "hq-repeat-visitors.png")


def test_a_regional_manager_cannot_see_another_region(page: Any) -> None:
    _login(page, "nora")
    page.wait_for_url("**/hq/stores")
    text = page.inner_text("table.stores")
    assert "North One" in text and "North Two" in text and "S1" not in text
    resp = page.goto("/hq/stores/S1")
    assert resp.status == 403 and "outside your region" in page.inner_text("main")
    page.goto("/hq/stores")
    status = page.evaluate("fetch('/hq/api/stores/S1').then(r => r.status)")
    assert status == 403
    page.goto(f"/hq/kpis?{PERIOD}")
    ranking = page.inner_text("table.ranking")
    assert "North One" in ranking and "South One" not in ranking


def test_promotion_uplift_on_known_data(page: Any, tmp_path: Path) -> None:
    _login(page, "admin")
    page.wait_for_url("**/hq/stores")
    page.goto("/hq/promotions")
    page.select_option("select[name=kind]", "promotion")
    page.fill("input[name=title]", "Spring week")
    page.fill("input[name=starts_on]", "2026-03-02")
    page.fill("input[name=ends_on]", "2026-03-08")
    page.fill("input[name=regions]", "North")
    page.fill("input[name=description]", "-20 % on running shoes")
    page.click("form.wide button")
    page.wait_for_url("**/hq/promotions")
    row = page.locator("table.promos tr", has_text="Spring week").inner_text()
    assert "+20.0 %" in row  # 1440 visitors vs 1200 expected from the 4 weeks before
    assert "+9.1 %" in row  # the South store rose 10 % meanwhile: 1.2 / 1.1 - 1
    _shot(page, tmp_path, "hq-promotions.png")
    page.goto(f"/hq/kpis?{PERIOD}&sort=traffic_index")
    assert page.locator("svg.chart rect.band").count() == 1
    page.locator("input[name=store][value=N1]").check()
    page.locator("input[name=store][value=S1]").check()
    _shot(page, tmp_path, "hq-kpis.png")
    page.click("text=Compare selected stores")
    assert page.locator("table.compare").count() == 1
    _shot(page, tmp_path, "hq-compare.png")


def _batch(store_id: str) -> bytes:
    rows = day_rows(date(2026, 3, 9), Day(7), "Europe/Paris", 1)
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": store_id,
             "timezone": "Europe/Paris", "sent_at": 1_773_100_000, "rows": rows}  # fmt: skip
    return gzip.compress(json.dumps(batch).encode())


def test_store_creation_provisioning_file_is_accepted(
    page: Any, hq: HqProcess, tmp_path: Path
) -> None:
    _login(page, "admin")
    page.wait_for_url("**/hq/stores")
    page.click("text=New store")
    page.fill("input[name=store_id]", "lyon-01")
    page.fill("input[name=name]", "Lyon Part-Dieu")
    page.fill("input[name=region]", "South")
    page.fill("input[name=capacity]", "120")
    page.fill("input[name=opening_hours]", "Mon-Sat 10-20")
    page.click("main form button")
    prov = json.loads(page.inner_text("pre#provisioning"))
    _shot(page, tmp_path, "hq-provisioning.png")
    assert prov["format"] == "vitrine-provisioning" and prov["version"] == 1
    assert prov["hq_url"] == hq.base_url and "store_key" not in prov
    enrol = httpx.post(prov["hq_url"] + prov["enrol_path"], json={
        "store_id": prov["store_id"], "enrolment_token": prov["enrolment_token"]})  # fmt: skip
    assert enrol.status_code == 200
    key = enrol.json()["store_key"]
    up = httpx.post(hq.base_url + "/api/v1/batches", content=_batch("lyon-01"), headers={
        "X-Vitrine-Store": "lyon-01", "Authorization": f"Bearer {key}",
        "Content-Encoding": "gzip", "Content-Type": "application/json"})  # fmt: skip
    assert up.status_code == 200 and up.json()["status"] == "stored"
    page.goto("/hq/stores")
    assert "Lyon Part-Dieu" in page.locator("table.stores tr", has_text="lyon-01").inner_text()
