"""The HQ dashboard over a real PostgreSQL (the FastAPI app in-process): login, sessions,
CSRF, throttling, roles and regions, every route refusing anonymous requests, KPIs
and a promotion's uplift on known data, CSV export, store creation -> provisioning
file -> enrolment -> uploads with the enrolled key."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.routing import Route

from app.hq import db
from app.hq.app import create_app
from app.hq.testing_pg import TempPostgres
from app.paths import REPO_ROOT
from tests.sync.hq_dash_data import PASSWORD, Day, seed


@pytest.fixture(scope="module")
def engine(pg_server: TempPostgres) -> Iterator[Engine]:
    name = f"hqdash_{uuid.uuid4().hex[:10]}"
    url = pg_server.create_database(name)
    eng = db.make_engine(url, pool_size=4)
    db.migrate(eng)
    seed(eng, s1_name='=HYPERLINK("http://x")')
    yield eng
    eng.dispose()
    pg_server.drop_database(name)


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, analyst_token="analyst-t0ken"), follow_redirects=False) as c:
        yield c


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/hq/login")
    token = re.search(r'name=login_token value="([^"]+)"', page.text)
    assert token
    r = client.post("/hq/login", data={"login_token": token[1], "username": user,
                                       "password": password})  # fmt: skip
    assert r.status_code == 303, r.text
    return str(client.get("/hq/api/me").json()["csrf"])


def test_login_sets_a_strict_httponly_session_cookie(app_client: TestClient) -> None:
    page = app_client.get("/hq/login")
    token = re.search(r'name=login_token value="([^"]+)"', page.text)
    assert token
    bad = app_client.post("/hq/login", data={"login_token": token[1], "username": "admin",
                                             "password": "wrong password!"})  # fmt: skip
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    ok = app_client.post("/hq/login?next=/hq/kpis", data={
        "login_token": token[1], "username": "admin", "password": PASSWORD})  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/hq/kpis"
    cookie = ok.headers["set-cookie"].lower()
    assert "vitrine_hq_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP here; behind HTTPS the cookie is Secure
    assert app_client.get("/hq/api/me").json()["role"] == "admin"
    assert "script-src 'self'" in app_client.get("/hq/stores").headers["content-security-policy"]


def test_login_needs_the_form_token_and_is_throttled(
    app_client: TestClient, engine: Engine
) -> None:
    r = app_client.post("/hq/login", data={"username": "ana", "password": PASSWORD})
    assert r.status_code == 403  # no double-submit token: a cross-site login is refused
    page = app_client.get("/hq/login")
    tok = re.search(r'name=login_token value="([^"]+)"', page.text)
    assert tok
    form = {"login_token": tok[1], "username": "ana"}
    for _ in range(5):
        assert (
            app_client.post("/hq/login", data={**form, "password": "nope-nope-nope"}).status_code
            == 401
        )
    blocked = app_client.post("/hq/login", data={**form, "password": PASSWORD})
    assert blocked.status_code == 429  # even the right password, until the window passes
    assert login(app_client, "admin")  # another user from the same client is not blocked
    # HQ restarted (a new app on the same database): still blocked
    with TestClient(create_app(engine), follow_redirects=False) as again:
        page = again.get("/hq/login")
        tok2 = re.search(r'name=login_token value="([^"]+)"', page.text)
        assert tok2
        r = again.post("/hq/login", data={"login_token": tok2[1], "username": "ana",
                                           "password": PASSWORD})  # fmt: skip
        assert r.status_code == 429
    with engine.begin() as conn:  # the window has passed (for the other tests)
        conn.execute(text("DELETE FROM hq_login_failures"))


def test_state_changes_need_the_csrf_token(app_client: TestClient) -> None:
    csrf = login(app_client, "admin")
    promo = {"title": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02", "regions": ["X"]}
    assert app_client.post("/hq/api/promotions", json=promo).status_code == 403
    bad = app_client.post("/hq/api/promotions", json=promo, headers={"X-CSRF-Token": "nope"})
    assert bad.status_code == 403
    assert app_client.post("/hq/logout").status_code == 403  # a form without the token
    assert app_client.post("/hq/logout", data={"csrf": csrf}).status_code == 303
    assert app_client.get("/hq/api/me").status_code == 401  # the session is gone


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


PUBLIC = {"/health", "/hq/login", "/hq/static/{name}", "/openapi.json", "/docs", "/redoc",
          "/docs/oauth2-redirect"}  # fmt: skip


def test_every_route_refuses_anonymous_requests(app_client: TestClient) -> None:
    checked = 0
    for route in app_client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute | Route) or route.path in PUBLIC:
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            body = {"store_id": "N1", "enrolment_token": "vet_" + "a" * 43}
            r = app_client.request(method, _fill(route.path), json=body)
            if route.path.startswith("/hq") and not route.path.startswith("/hq/api/"):
                assert r.status_code == 303, (method, route.path, r.status_code)
                assert r.headers["location"].startswith("/hq/login"), route.path
            else:
                assert r.status_code == 401, (method, route.path, r.status_code, r.text)
            checked += 1
    assert checked >= 25


def test_a_regional_manager_sees_only_their_region(app_client: TestClient) -> None:
    login(app_client, "nora")
    ids = {s["store_id"] for s in app_client.get("/hq/api/stores").json()}
    assert ids == {"N1", "N2"}
    assert app_client.get("/hq/api/stores/S1").status_code == 403
    assert app_client.get("/hq/api/stores/nowhere").status_code == 403  # no existence leak
    assert app_client.get("/hq/stores/S1").status_code == 403
    assert app_client.get("/hq/api/kpis", params={"store": "S1"}).status_code == 403
    page = app_client.get("/hq/stores")
    assert "North One" in page.text and "S1" not in page.text
    kp = app_client.get("/hq/api/kpis", params={"from": "2026-03-02", "to": "2026-03-08"}).json()
    assert {r["store_id"] for r in kp["stores"]} == {"N1", "N2"}
    assert app_client.get("/hq/users").status_code == 403
    promo = {"title": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-02", "regions": ["North"]}
    csrf = app_client.get("/hq/api/me").json()["csrf"]
    denied = app_client.post("/hq/api/promotions", json=promo, headers={"X-CSRF-Token": csrf})
    assert denied.status_code == 403  # read-only


def test_kpis_on_known_data(app_client: TestClient) -> None:
    login(app_client, "ana")
    r = app_client.get("/hq/api/kpis", params={"from": "2026-03-02", "to": "2026-03-08",
                                               "sort": "traffic_index"})  # fmt: skip
    body = r.json()
    n1 = next(x for x in body["stores"] if x["store_id"] == "N1")
    assert n1["visitors"] == 6 * 120 + 240
    assert n1["visitors_prev"] == 800 and n1["visitors_vs_prev"] == pytest.approx(0.2)
    assert n1["visitors_last_year"] == 400 and n1["visitors_vs_last_year"] == pytest.approx(1.4)
    assert n1["traffic_index"] == pytest.approx(1.2)
    assert n1["capture_rate"] == pytest.approx(0.25)
    assert n1["conversion"] == pytest.approx((6 * 12 + 24) / 960, abs=1e-4)
    assert n1["utilisation"] == pytest.approx(46 / 50)
    assert n1["congestion"] == pytest.approx(2 / 7, abs=1e-4)  # Saturday and Sunday at 46 >= 45
    n2 = next(x for x in body["stores"] if x["store_id"] == "N2")
    assert n2["utilisation"] is None and n2["congestion"] is None  # capacity unknown
    assert [x["store_id"] for x in body["stores"]] == ["N1", "N2", "S1"]  # by traffic index
    assert body["chain"]["visitors"] == 960 + 480 + 6 * 88 + 176


def test_csv_export_neutralises_formulas(app_client: TestClient) -> None:
    login(app_client, "admin")
    r = app_client.get("/hq/kpis.csv", params={"from": "2026-03-02", "to": "2026-03-08"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    s1 = next(x for x in rows if x["store_id"] == "S1")
    assert s1["name"].startswith("'=HYPERLINK")
    assert [x["store_id"] for x in rows][-1] == "(chain)"
    assert int(next(x for x in rows if x["store_id"] == "N1")["visitors"]) == 960


def test_promotion_uplift_on_known_data(app_client: TestClient) -> None:
    csrf = login(app_client, "admin")
    promo = {"title": "Spring week", "starts_on": "2026-03-02", "ends_on": "2026-03-08",
             "regions": ["North"], "description": "-20 % on shoes"}  # fmt: skip
    r = app_client.post("/hq/api/promotions", json=promo, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    up = app_client.get(f"/hq/api/promotions/{r.json()['id']}/uplift").json()
    assert up["actual"] == 1440 and up["expected"] == pytest.approx(1200)
    assert up["uplift_vs_baseline"] == pytest.approx(0.2)
    assert up["control_actual"] == 704 and up["control_expected"] == pytest.approx(640)
    assert up["uplift_vs_control"] == pytest.approx(1.2 / 1.1 - 1, abs=1e-9)
    page = app_client.get("/hq/promotions")
    assert "Spring week" in page.text and "+20.0 %" in page.text and "+9.1 %" in page.text
    chart = app_client.get("/hq/kpis", params={"from": "2026-02-16", "to": "2026-03-15"})
    assert "<rect class=band" in chart.text and "promotion: Spring week" in chart.text


def _batch(store_id: str) -> bytes:
    from tests.sync.hq_dash_data import day_rows

    batch = {
        "schema_version": 1,
        "batch_id": str(uuid.uuid4()),
        "store_id": store_id,
        "timezone": "Europe/Paris",
        "sent_at": 1_773_100_000,
        "rows": day_rows(date(2026, 3, 9), Day(7), "Europe/Paris", 1),
    }
    return gzip.compress(json.dumps(batch).encode())  # fmt: skip


def _upload(client: TestClient, store_id: str, key: str) -> int:
    headers = {"X-Vitrine-Store": store_id, "Authorization": f"Bearer {key}",
               "Content-Encoding": "gzip", "Content-Type": "application/json"}  # fmt: skip
    return client.post("/api/v1/batches", content=_batch(store_id), headers=headers).status_code


def test_store_creation_provisioning_enrolment_rotation_revocation(app_client: TestClient) -> None:
    csrf = login(app_client, "admin")
    h = {"X-CSRF-Token": csrf}
    new = {"store_id": "W9", "name": "West Nine", "timezone": "Europe/Paris", "region": "West",
           "capacity": 80, "opening_hours": "Mon-Sat 9-20"}  # fmt: skip
    prov = app_client.post("/hq/api/stores", json=new, headers=h).json()
    assert prov["format"] == "vitrine-provisioning" and prov["version"] == 1
    assert prov["store_id"] == "W9" and prov["hq_url"] == "http://testserver"
    enrol = {"store_id": "W9", "enrolment_token": prov["enrolment_token"]}
    key = app_client.post(prov["enrol_path"], json=enrol).json()["store_key"]
    assert app_client.post(prov["enrol_path"], json=enrol).status_code == 401  # one time
    assert _upload(app_client, "W9", key) == 200
    store = app_client.get("/hq/api/stores/W9").json()
    assert store["region"] == "West" and store["capacity"] == 80 and store["data_until"]
    new_key = app_client.post("/hq/api/stores/W9/rotate-key", headers=h).json()["store_key"]
    assert _upload(app_client, "W9", key) == 401 and _upload(app_client, "W9", new_key) == 200
    assert app_client.post("/hq/api/stores/W9/revoke", headers=h).status_code == 200
    assert _upload(app_client, "W9", new_key) == 403
    back = app_client.post("/hq/stores/W9/reinstate", data={"csrf": csrf})  # the page's form
    assert back.status_code == 303 and _upload(app_client, "W9", new_key) == 200
    dup = app_client.post("/hq/api/stores", json=new, headers=h)
    assert dup.status_code == 422 and "already exists" in dup.json()["detail"]


def test_cli_adds_the_first_admin(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    env = {"VITRINE_HQ_PASSWORD": "another long password", "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", str(REPO_ROOT))
    run = [sys.executable, str(REPO_ROOT / "main.py"), "hq", "users"]
    out = subprocess.run([*run, "add", "root", "--role", "admin", "--database-url", url],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "user root added (admin)" in out.stdout
    again = subprocess.run([*run, "add", "root", "--role", "admin", "--database-url", url],
                           capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert again.returncode != 0 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    listed = subprocess.run([*run, "list", "--database-url", url], capture_output=True,
                            text=True, env=env, timeout=120)  # fmt: skip
    assert "root\tadmin" in listed.stdout


def test_migration_partitions_the_data_and_fills_store_days(hq_engine: Engine) -> None:
    from sqlalchemy import text

    db.downgrade(hq_engine, "0001")
    with hq_engine.begin() as conn:
        conn.execute(text("INSERT INTO stores (store_id, name, key_hash, timezone) "
                          "VALUES ('old', 'Old', 'x', 'Europe/Paris')"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO rollups (store_id, scope, name, bucket_start, camera, entries, exits, "
            "passersby, occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s, seq, batch_id) "
            "VALUES ('old', 'entrance', 'main', '2019-05-04 23:00+00', 'door', 9, 9, 27, 0, 0, "
            "0, 0, 1, 1)"))  # fmt: skip
    db.migrate(hq_engine)
    with hq_engine.connect() as conn:
        day = conn.execute(text("SELECT day, footfall, passersby FROM store_days")).one()
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'rollups'")).scalar()
        where = conn.execute(text("SELECT tableoid::regclass::text FROM rollups")).scalar()
    assert (day.day, day.footfall, day.passersby) == (date(2019, 5, 5), 9, 27)  # Paris time
    assert kind == "p" and where == "rollups_default"  # 2019: before the monthly partitions


def test_the_session_cookie_is_secure_over_https(engine: Engine) -> None:
    app = create_app(engine)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get("/hq/login")
        token = re.search(r'name=login_token value="([^"]+)"', page.text)
        assert token
        r = client.post("/hq/login", data={"login_token": token[1], "username": "ana",
                                           "password": PASSWORD})  # fmt: skip
        assert r.status_code == 303
        assert "; secure" in r.headers["set-cookie"].lower()


def test_an_admin_adds_and_disables_a_user(engine: Engine) -> None:
    with TestClient(create_app(engine), follow_redirects=False) as admin, \
            TestClient(create_app(engine), follow_redirects=False) as other:  # fmt: skip
        csrf = login(admin, "admin")
        form = {"csrf": csrf, "username": "wes", "role": "regional", "region": "East",
                "password": "short"}  # fmt: skip
        weak = admin.post("/hq/users", data=form)
        assert weak.status_code == 422 and "at least 10 characters" in weak.text
        assert admin.post("/hq/users", data={**form, "password": PASSWORD}).status_code == 303
        login(other, "wes")
        assert other.get("/hq/api/me").json() == {
            "username": "wes", "role": "regional", "region": "East",
            "csrf": other.get("/hq/api/me").json()["csrf"]}  # fmt: skip
        assert other.get("/hq/api/stores").json() == []  # no store in East
        assert admin.post("/hq/users/wes/disable", data={"csrf": csrf}).status_code == 303
        assert other.get("/hq/api/me").status_code == 401  # its sessions ended


def test_backlog_in_words() -> None:
    from datetime import UTC, datetime, timedelta

    from app.hq.dash_queries import StoreInfo
    from app.hq.web_pages import backlog

    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    base = StoreInfo("s", "S", "UTC", "", None, "", now, False, 0, 0, 0, None)
    assert backlog(base, now) == "not reported"
    assert backlog(replace(base, backlog_rows=0), now) == "all sent"
    late = replace(base, backlog_rows=1234, backlog_oldest_at=now - timedelta(hours=3))
    assert backlog(late, now) == "1,234 rows, oldest made 3 h ago"
    assert backlog(replace(base, backlog_rows=1, backlog_oldest_at=now), now) == (
        "1 row, oldest made 0 s ago"
    )


@pytest.mark.parametrize(
    ("ages", "blocked"),
    [
        ([], False),
        ([10, 20, 30, 40], False),  # 4 recent failures: one more try allowed
        ([10, 20, 30, 40, 50], True),
        ([1000, 20, 30, 40, 50], False),  # the oldest is outside the window (900 s)
    ],
)
def test_login_throttle_counts_in_the_database(
    engine: Engine, ages: list[float], blocked: bool
) -> None:
    """The failures live in PostgreSQL: a second throttle (another HQ process, or HQ after
    a restart) sees them; another client address or user name is not blocked; a success
    clears them."""
    from app.hq.users import LoginThrottle

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM hq_login_failures"))
        for a in ages:
            conn.execute(
                text(
                    "INSERT INTO hq_login_failures (username, client, at) "
                    "VALUES ('ann', '10.0.0.9', now() - make_interval(secs => :a))"
                ),
                {"a": a},
            )
    first, second = LoginThrottle(engine, 5, 900), LoginThrottle(engine, 5, 900)
    assert second.blocked("Ann", "10.0.0.9") is blocked
    assert not second.blocked("ann", "10.0.0.10")
    assert not second.blocked("bob", "10.0.0.9")
    first.failed("ann", "10.0.0.9")
    assert second.blocked("ann", "10.0.0.9") is (len([a for a in ages if a < 900]) + 1 >= 5)
    with engine.connect() as conn:  # failures out of every window are pruned
        old = conn.execute(
            text("SELECT count(*) FROM hq_login_failures WHERE at < now() - interval '900 s'")
        ).scalar()
    assert old == 0
    first.succeeded("ann", "10.0.0.9")
    assert not second.blocked("ann", "10.0.0.9")
def test_stores_list_shows_the_last_counting_audit(app_client: TestClient, engine: Engine) -> None:
    from datetime import UTC, datetime

    from app.hq.ingest import ingest_batch

    now = datetime.now(UTC).timestamp()

    def audit(seq: int, ts: float, matched: int, accuracy: float) -> dict[str, object]:
        return {"kind": "count_audit", "seq": seq, "data": {
            "audit_id": str(uuid.uuid4()), "ts": ts, "camera": "door", "line": "entry",
            "duration_s": 180.0, "matched": matched, "missed": 1, "extra": 2,
            "accuracy": accuracy}}  # fmt: skip

    rows = [audit(1, now - 10 * 86400, 40, 0.9302), audit(2, now - 3 * 86400, 19, 0.8636)]
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": "N2",
             "timezone": "Europe/Paris", "sent_at": now, "rows": rows}  # fmt: skip
    from app.wire import validate_envelope

    validate_envelope(batch)
    assert ingest_batch(engine, "N2", batch, str(batch["batch_id"]), 100).applied == 2
    login(app_client, "admin")
    api = {s["store_id"]: s for s in app_client.get("/hq/api/stores").json()}
    assert api["N2"]["last_audit_accuracy"] == pytest.approx(0.8636)  # the newest audit
    assert api["N2"]["last_audit_line"] == "entry"
    assert api["N1"]["last_audit_at"] is None
    page = app_client.get("/hq/stores").text
    assert "Last counting audit" in page
    assert '<span class="warn">86.4 %</span> (entry)' in page and "3 days ago" in page
    assert "never" in page  # the stores never audited
