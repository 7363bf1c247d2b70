"""`python main.py sales ...` on a real encrypted store (and a real LAN server where a
tablet is involved): what a store with a screenless server does instead of the dialogs."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.cli.main import main
from app.config import LanConfig
from app.paths import data_dir
from app.store.db import Store, open_store
from app.store.models import AuditLog, Product, Purchase, ServiceSession
from app.sync.catalog import list_salespeople
from app.sync.lan import admin
from app.sync.lan.server import LanServer
from app.sync.lan.service import CACHE_S
from tests.sale_days import SALE_DAY, sale_ts
from tests.sync.lan_fixtures import (  # noqa: F401  (fixtures)
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
from tests.sync.test_pos_webhook import _body, _post

CATALOG = (
    "EAN,Product name,Department,Retail price\n"
    "4006381333931,Trail runner GTX,Shoes,129.00\n"
    "bad code,Thing,Misc,1\n"
    "5012345678900,Leather tote,Bags,210\n"
    "4006381333948,City sneaker,Shoes,abc\n"
)
TILL = (
    "Receipt,Sold at,EAN,Total,Cashier\n"
    "T1,{day} 10:15:00,4006381333931,129.00,E100\n"
    "T1,{day} 10:15:00,5012345678900,210.00,E100\n"
    "T2,yesterday,4006381333948,89.50,\n"
)


def _sales(db: Path, *argv: str) -> int:
    return main(["sales", "--db", str(db), *argv])


def _count(db: Path, model: type) -> int:
    with open_store(db, create=False) as s, s.read_session() as r:
        return int(r.scalar(select(func.count()).select_from(model)) or 0)


def _till(tmp_path: Path, day: str) -> Path:
    f = tmp_path / "till.csv"
    f.write_text(TILL.format(day=day), encoding="utf-8")
    return f


def test_catalog_import_lists_bad_rows_and_imports_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    f = tmp_path / "catalog.csv"
    f.write_text(CATALOG, encoding="utf-8")
    assert _sales(db, "catalog", str(f), "--no-progress") == 0
    out = capsys.readouterr().out
    assert "4 rows, 2 products added, 0 updated, 2 rows with problems" in out
    assert "line 3: barcode 'bad code'" in out and "line 5: price 'abc' is not a number" in out
    assert _count(db, Product) == 2
    # a missing mapped column: refused, nothing written
    assert _sales(db, "catalog", str(f), "--map", "price=Cost") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'Cost'" in err


def test_salespeople_added_with_a_pin_on_stdin_and_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[zones]]\nname = "Shoes"\npolygon = [[0, 0], [10, 0], [10, 10]]\n', encoding="utf-8"
    )
    add = ["--config", str(cfg), "add-person"]
    monkeypatch.setattr("sys.stdin", io.StringIO("1234\n"))
    assert _sales(db, *add, "Anna Lopez", "--code", "E100", "--zones", "Shoes") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert _sales(db, *add, "Ben", "--code", "E200") == 2  # PIN too short
    monkeypatch.setattr("sys.stdin", io.StringIO("5678\n"))
    assert _sales(db, *add, "Ben", "--code", "E100") == 2  # code taken
    assert _sales(db, *add, "Ben", "--code", "E200", "--zones", "Toys") == 2  # unknown zone
    err = capsys.readouterr().err.splitlines()
    assert "a PIN is 4 to 8 digits" in err[0]
    assert "'E100' is already used" in err[1]
    assert "unknown zone 'Toys'; the zones are: Shoes" in err[2]
    with open_store(db, create=False) as s:
        people = list_salespeople(s)
    assert [(p.name, p.employee_code, p.zones) for p in people] == [
        ("Anna Lopez", "E100", ["Shoes"])
    ]
    assert _sales(db, "people") == 0
    assert "Anna Lopez" in capsys.readouterr().out
    assert _sales(db, "edit-person", "E100", "--name", "Anna L.", "--deactivate") == 0
    assert _sales(db, "people") == 0
    assert "no active salespeople (1 deactivated" in capsys.readouterr().out
    assert _sales(db, "people", "--all") == 0
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith("Anna L.                      Shoes; 0 tablets  (deactivated)")
    )
    assert _sales(db, "edit-person", "E999", "--activate") == 2
    assert "no salesperson with employee code 'E999'" in capsys.readouterr().err
    assert _sales(db, "edit-person", "e100", "--activate") == 0  # codes match in any case
    assert _sales(db, "people") == 0
    assert "Anna L." in capsys.readouterr().out


def test_pos_check_imports_nothing_then_import_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    till = _till(tmp_path, SALE_DAY)
    assert _sales(db, "pos", str(till), "--check") == 0
    assert "2 valid rows, 1 row with problems (nothing imported)" in capsys.readouterr().out
    assert _count(db, Purchase) == 0
    assert _sales(db, "pos", str(till), "--no-progress") == 0
    out = capsys.readouterr().out
    assert "3 rows, 2 purchases imported, 0 already there" in out
    assert "line 4: time of sale “yesterday” is not a date and time" in out
    assert _sales(db, "pos", str(till), "--no-progress") == 0
    assert "0 purchases imported, 2 already there" in capsys.readouterr().out
    assert _count(db, Purchase) == 2
    notcsv = tmp_path / "photo.csv"
    notcsv.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert _sales(db, "pos", str(notcsv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PNG picture" in err and "nothing was imported" in err
    assert _count(db, Purchase) == 2


def test_a_scan_on_a_tablet_then_a_pos_import_shows_in_the_item_report(
    store: Store,  # noqa: F811
    server: LanServer,  # noqa: F811
    client: httpx.Client,  # noqa: F811
    seeded: dict[str, int],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    sess = start_session(client, token, "Shoes")
    assert scan(client, token, sess["id"], "4006381333931").status_code == 200
    db = Path(store.path)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    till = tmp_path / "till.csv"
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 60))
    till.write_text(f"Receipt,Sold at,EAN,Total\nT9,{now},4006381333931,129.00\n", "utf-8")
    assert _sales(db, "pos", str(till), "--no-progress") == 0
    assert "1 linked to a service" in capsys.readouterr().out
    out_csv = tmp_path / "items.csv"
    assert _sales(db, "report", "items", "--from", today, "--csv", str(out_csv)) == 0
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [(r["Barcode"], r["Times shown"], r["Times bought"]) for r in rows] == [
        ("4006381333931", "1", "1")
    ]
    capsys.readouterr()
    assert _sales(db, "report", "salespeople", "--salesperson", "E100") == 0
    head, row = (re.split(r"\s{2,}", x) for x in capsys.readouterr().out.splitlines()[:2])
    # as the desktop shows it: the name (no internal id), durations m:ss, conversion in %
    assert head[:4] == ["Name", "Services", "Average duration", "Items shown per service"]
    assert row[:4] == ["Anna", "1", "0:00", "1.00"] and row[4] == "100.0 %"
    r = client.put(
        f"/api/v1/sessions/{sess['id']}/outcome",
        json={"outcome": "bought", "note": "gift wrap"},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    assert _sales(db, "report", "services") == 0
    head, row = (re.split(r"\s{2,}", x) for x in capsys.readouterr().out.splitlines()[:2])
    assert head[1:] == [
        "Salesperson",
        "Zone",
        "Duration",
        "Items shown",
        "Value shown",
        "Outcome",
        "Note",
    ]
    assert row[1:] == ["Anna", "Shoes", "0:00", "1", "129.00", "Bought", "gift wrap"]
    assert _sales(db, "report", "zones", "--from", "2026-13-01") == 2
    assert "is not a date" in capsys.readouterr().err


def test_revoked_tablet_is_refused_by_the_running_server(
    store: Store,  # noqa: F811
    server: LanServer,  # noqa: F811
    client: httpx.Client,  # noqa: F811
    seeded: dict[str, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = pair(client, server, seeded["anna"], "1234")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    sess = start_session(client, token, "Shoes")  # left open: the tablet goes away
    scanned = scan(client, token, sess["id"], "4006381333931").json()["ts"]
    db = Path(store.path)
    assert _sales(db, "devices") == 0
    line = capsys.readouterr().out.splitlines()[0]
    device_id = line.split()[0]
    assert "Anna" in line
    assert _sales(db, "revoke", device_id) == 0
    assert _sales(db, "revoke", device_id) == 2  # already revoked
    deadline = time.monotonic() + CACHE_S + 5
    status = 200
    while time.monotonic() < deadline:
        status = client.get("/api/v1/me", headers=auth(token)).status_code
        if status == 401:
            break
        time.sleep(0.25)
    assert status == 401
    with store.read_session() as s:
        audit = s.execute(select(AuditLog.action, AuditLog.target)).all()
    assert ("revoke", f"device {device_id}") in [tuple(a) for a in audit]
    with store.read_session() as s:  # its open service ended at its last scan
        ended = s.get(ServiceSession, sess["id"])
        assert ended is not None and ended.ended_at == scanned


def test_webhook_secret_shown_signs_requests_and_rotation_stops_the_old_one(
    store: Store,  # noqa: F811
    server: LanServer,  # noqa: F811
    client: httpx.Client,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = Path(store.path)

    def secret(*extra: str) -> str:
        assert _sales(db, "webhook", *extra) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("secret "))
        return line.split()[1]

    old = secret()
    assert secret() == old  # stable until rotated
    assert _post(client, old, _body("POS-CLI-1")).status_code == 200
    new = secret("--rotate")
    assert new != old
    assert _post(client, old, _body("POS-CLI-2")).status_code == 401
    assert _post(client, new, _body("POS-CLI-2")).status_code == 200


def test_pair_gets_a_code_from_the_running_server_and_only_locally(
    store: Store,  # noqa: F811
    server: LanServer,  # noqa: F811
    client: httpx.Client,  # noqa: F811
    seeded: dict[str, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    info = admin.read_admin_file(data_dir())
    assert info is not None and info.port == server.port
    assert oct((data_dir() / admin.ADMIN_FILE).stat().st_mode & 0o777) == "0o600"
    assert main(["sales", "pair"]) == 0
    out = capsys.readouterr().out
    code = out.split("pairing code ")[1].split()[0]
    r = client.post(
        "/api/v1/pairing",
        json={"code": code, "salesperson_id": seeded["anna"], "pin": "1234", "label": "t2"},
    )
    assert r.status_code == 200 and r.json()["token"]
    # the admin route wants the token, and is not in the published document
    url = "/api/v1/admin/pairing-code"
    assert client.post(url).status_code == 403
    assert client.post(url, headers={admin.ADMIN_HEADER: "guess"}).status_code == 403
    assert url not in client.get("/openapi.json").json()["paths"]


def test_pair_without_a_running_server_says_so(
    store: Store,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sales", "pair"]) == 2
    assert "no Vitrine server is running on this machine" in capsys.readouterr().err
    srv = LanServer(store, None, LanConfig(allow_http=True), port=0, host="127.0.0.1")
    srv.start()
    port = srv.port
    srv._admin_dir = None  # as if the process had been killed: the file stays behind
    srv.stop()
    assert admin.read_admin_file(data_dir()) == admin.AdminInfo(port, "http", srv._admin_token)
    assert main(["sales", "pair"]) == 2
    assert "does not answer" in capsys.readouterr().err


def test_pos_with_the_time_in_its_own_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--map time_of_day=COLUMN` (or the guess from the header) reads a date column and
    a time column together; the field is optional, like the salesperson code."""
    db = tmp_path / "cli.db"
    till = tmp_path / "till.csv"
    till.write_text(
        f"Receipt,Day,Clock,EAN,Amount\nR1,{SALE_DAY},10:15,4006381333931,12.00\n",
        encoding="utf-8",
    )
    args = ["pos", str(till), "--map", "time=Day", "--no-progress"]
    assert _sales(db, *args, "--map", "time_of_day=Clock") == 0
    assert "1 purchase imported" in capsys.readouterr().out
    with open_store(db, create=False) as s, s.read_session() as r:
        ts = r.scalar(select(Purchase.ts))
    assert ts == sale_ts(10, 15)
    with pytest.raises(SystemExit):
        main(["sales", "pos", "--help"])
    assert "time_of_day" in capsys.readouterr().out  # the field is in the help
