"""The sales dialogs (pytest-qt, offscreen) on a real encrypted store and a real LAN
server: POS import, catalog, salespeople, reports, pairing."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import LanConfig
from app.store import sales_reports as sr
from app.store.db import Store, open_store
from app.store.models import ItemScan, Purchase, Rollup, ServiceSession, ZoneVisit
from app.sync import pos
from app.sync.catalog import create_salesperson, list_salespeople, upsert_product
from app.sync.lan.server import LanServer

pytest.importorskip("PySide6")

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QGroupBox, QMessageBox, QPushButton  # noqa: E402

from app.ui.catalog_dialog import CatalogDialog  # noqa: E402
from app.ui.dashboard_widgets import ChartCard  # noqa: E402
from app.ui.pairing_dialog import PairingDialog  # noqa: E402
from app.ui.pos_import_dialog import PosImportDialog  # noqa: E402
from app.ui.reports_view import TABS, ReportsView, plot_shown_bought  # noqa: E402
from app.ui.salespeople_dialog import SalespeopleDialog  # noqa: E402
from tests.sale_days import SALE_DAY  # noqa: E402

POS_CSV = f"""Receipt,Sold at,EAN,Total,Cashier
T1,{SALE_DAY} 10:15:00,4006381333931,129.00,E100
T1,{SALE_DAY} 10:15:00,5012345678900,210.00,E100
T2,yesterday,4006381333948,89.50,
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "ui.db", "pw")
    try:
        yield s
    finally:
        s.close()


def _purchases(store: Store) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Purchase)) or 0)


def test_pos_import_dialog_maps_checks_and_imports_once(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "till.csv"
    f.write_text(POS_CSV, encoding="utf-8")
    dlg = PosImportDialog(store, webhook_url="https://shop:8443/api/v1/pos/webhook")
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    assert dlg.combos["amount"].currentText() == "Total"
    assert dlg.combos["salesperson_code"].currentText() == "Cashier"
    assert dlg.preview.rowCount() == 3
    dlg.check()
    assert dlg.errors.rowCount() == 1 and dlg.errors.item(0, 0).text() == "4"
    assert "yesterday" in dlg.errors.item(0, 1).text()
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert dlg.last_result.imported == 2 and _purchases(store) == 2
    assert "Imported 2 sales" in dlg.status.text()
    dlg.last_result = None
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert dlg.last_result.imported == 0 and dlg.last_result.duplicates == 2
    assert _purchases(store) == 2
    dlg._reveal(True)
    assert len(dlg.secret.text()) == 64
    dlg.reject()


def test_pos_import_dialog_refuses_a_non_csv(qtbot, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "sales.xlsx"
    f.write_bytes(b"PK\x03\x04" + bytes(200))
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    assert not dlg.load(f)
    assert "Excel" in dlg.status.text()
    assert not dlg.import_btn.isEnabled()
    dlg.reject()


def test_pos_import_dialog_hides_the_progress_of_a_refused_file(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    good, bad = tmp_path / "till.csv", tmp_path / "garbled.csv"
    good.write_text(POS_CSV, encoding="utf-8")
    bad.write_text(
        "Receipt,Sold at,EAN,Total,Cashier\nT7,yesterday,4006381333931,12.00,\n"
        f"T8,{SALE_DAY} 11:00:00,4006381333931,lots,\n",
        encoding="utf-8",
    )
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()

    def run() -> pos.ImportResult:
        dlg.last_result = None
        dlg.start_import()
        qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
        assert dlg.last_result is not None
        return dlg.last_result

    assert dlg.load(good) and run().imported == 2
    assert dlg.progress.isVisible() and dlg.progress.value() == dlg.progress.maximum()
    assert dlg.load(bad)  # a new file: last file's progress goes away
    assert not dlg.progress.isVisible()
    r = run()  # every row malformed: refused, nothing written
    assert (r.imported, r.duplicates, len(r.errors)) == (0, 0, 2) and _purchases(store) == 2
    assert not dlg.progress.isVisible() and dlg.progress.value() == -1
    assert dlg.status.text().startswith("Nothing imported") and dlg.errors.rowCount() == 2
    assert dlg.load(good) and run().duplicates == 2  # a good file shows its progress again
    assert dlg.progress.isVisible()
    notcsv = tmp_path / "sales.xlsx"
    notcsv.write_bytes(b"PK\x03\x04" + bytes(200))
    assert not dlg.load(notcsv) and not dlg.progress.isVisible()
    dlg.reject()


def test_catalog_dialog_imports_and_searches(qtbot, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "catalog.csv"
    f.write_text(
        "EAN;Product name;Department;Retail price\n"
        "4006381333931;Trail runner GTX;Shoes;129,00\n"
        "5012345678900;Leather tote;Bags;210\n"
        ";No barcode;Bags;1\n",
        encoding="utf-8",
    )
    dlg = CatalogDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    assert dlg.mapping() == {
        "barcode": "EAN",
        "name": "Product name",
        "category": "Department",
        "price": "Retail price",
    }
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert (dlg.last_result.added, len(dlg.last_result.errors)) == (2, 1)
    assert dlg.table.rowCount() == 2 and dlg.count.text() == "2 products"
    dlg.search.setText("tote")
    assert dlg.table.rowCount() == 1 and dlg.table.item(0, 1).text() == "Leather tote"
    dlg.reject()


def test_salespeople_dialog_create_edit_and_errors(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    dlg = SalespeopleDialog(store, zones=["Shoes", "Bags", "Toys"])
    qtbot.addWidget(dlg)
    dlg.name.setText("Anna")
    dlg.code.setText("E100")
    dlg.pin.setText("12")
    assert not dlg.save()
    assert "4 to 8 digits" in dlg.status.text()
    dlg.pin.setText("1234")
    dlg.zone_checks["Shoes"].setChecked(True)
    assert dlg.save()
    assert dlg.table.rowCount() == 1 and dlg.table.item(0, 2).text() == "Shoes"
    dlg.table.selectRow(0)
    dlg.zone_checks["Toys"].setChecked(True)
    assert dlg.save()
    [p] = list_salespeople(store)
    assert p.zones == ["Shoes", "Toys"]
    dlg.new()
    dlg.name.setText("Other")
    dlg.code.setText("E100")
    dlg.pin.setText("5555")
    assert not dlg.save()
    assert "already used" in dlg.status.text()
    dlg.code.setText(" e100 ")  # the same code in another case is the same code
    assert not dlg.save()
    assert dlg.status.text() == (
        "employee code 'e100' is already used by Anna as 'E100' (upper and lower case count "
        "the same): choose another code"
    )
    assert [p.employee_code for p in list_salespeople(store)] == ["E100"]
    dlg.table.selectRow(0)  # Anna may change the case of her own code
    dlg.code.setText("e100")
    assert dlg.save()
    assert [p.employee_code for p in list_salespeople(store)] == ["e100"]
    dlg.reject()


def _service_showing_a1(s: Session, salesperson: int, now: float, ended_at: float) -> None:
    """In session `s`: a service in Shoes started 10 minutes ago, in which A1 was scanned."""
    s.add(
        ServiceSession(
            id="sess-0001",
            salesperson_id=salesperson,
            zone="Shoes",
            started_at=now - 600,
            ended_at=ended_at,
        )
    )
    s.flush()
    s.add(ItemScan(session_id="sess-0001", barcode="A1", ts=now - 500, idempotency_key="k-000001"))


def test_reports_view_shows_and_exports(qtbot, store: Store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sp = create_salesperson(store, "Anna", "E100", "1234", ["Shoes"])
    upsert_product(store, "A1", "Trail runner", "Footwear", 129)
    now = time.time()

    def fill(s):  # type: ignore[no-untyped-def]
        _service_showing_a1(s, sp, now, ended_at=now - 300)
        s.add(
            Purchase(
                transaction_id="T", ts=now - 100, barcode="A1", amount=129, session_id="sess-0001"
            )
        )

    store.writer.submit(fill).result()
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.refresh(wait=True)
    items = view.tables["Items"]
    assert items.rowCount() == 1
    assert items.item(0, 1).text() == "Trail runner"
    assert items.item(0, 6).text() == "100.0 %"
    assert view.tables["Salespeople"].item(0, 0).text() == "Anna"
    assert view.tables["Salespeople"].item(0, 2).text() == "5:00"
    assert not view.is_empty("Salespeople") and not view.is_empty("Categories")
    # the chart above the items: one bar shown, one bought, labelled with the name
    assert not view.chart.is_empty
    bars = [i for i in view.chart.plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert [list(b.opts["width"]) for b in bars] == [[1], [1]]
    assert view.chart.plot.getAxis("left")._tickLevels[0] == [(0, "Trail runner")]
    out = tmp_path / "items.csv"
    clicked = tmp_path / "clicked.csv"  # the button, as a manager uses it
    monkeypatch.setattr(
        "app.ui.reports_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(clicked), "")
    )
    button = next(b for b in view.findChildren(QPushButton) if b.text() == "Export CSV…")
    button.click()
    assert "Trail runner" in clicked.read_text(encoding="utf-8")
    assert view.export_current(str(out)) == 1
    assert "Trail runner" in out.read_text(encoding="utf-8")
    view.person.setCurrentIndex(view.person.findText("Anna"))
    view.zone.setCurrentText("Shoes")
    assert view.report_filter().salesperson_ids == (sp,)
    view.start.setDate(view.start.date().addYears(-5))  # a period with nothing sold
    view.end.setDate(view.start.date().addDays(3))
    view.refresh(wait=True)
    assert view.tables["Items"].rowCount() == 0 and view.chart.is_empty
    view.shutdown()


def test_reports_read_m_ss_and_no_rate_without_services_and_export_seconds(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    sp = create_salesperson(store, "Anna", "E100", "1234", ["Shoes"])
    upsert_product(store, "A1", "Trail runner", "Footwear", 129)
    upsert_product(store, "B2", "Leather tote", "Bags", 210)
    now = time.time()

    def fill(s):  # type: ignore[no-untyped-def]
        _service_showing_a1(s, sp, now, ended_at=now - 425)
        # the tote sold without a service; Toys had visitors and no service
        s.add(Purchase(transaction_id="T", ts=now - 100, barcode="B2", amount=210))
        s.add(
            Rollup(
                bucket_start=(now - 3600) // 900 * 900,
                scope="zone",
                name="Toys",
                entries=3,
                dwell_count=3,
                dwell_sum_s=3 * 75.0,
            )
        )
        for i, dwell in enumerate((60.0, 75.0, 90.0)):  # the mean over finished visits
            enter = now - 3000 + 100 * i
            s.add(ZoneVisit(visitor_id=f"v{i}", camera="cam", zone="Toys", enter_ts=enter,
                            exit_ts=enter + dwell, dwell_s=dwell))  # fmt: skip

    store.writer.submit(fill).result()
    view = ReportsView(store, zones=["Shoes", "Toys"])
    qtbot.addWidget(view)
    view.refresh(wait=True)

    def table(title: str) -> dict[str, dict[str, str]]:
        t = view.tables[title]
        heads = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
        assert not [h for h in heads if "(s)" in h or " id" in h]  # cells are m:ss, no ids
        return {
            t.item(r, 0).text(): {h: t.item(r, c).text() for c, h in enumerate(heads)}
            for r in range(t.rowCount())
        }

    items, zones, people = table("Items"), table("Zones"), table("Salespeople")
    assert items["A1"]["Conversion"] == "0.0 %"  # shown, not bought: a rate of 0
    assert items["B2"]["Conversion"] == "–"  # never shown: no rate
    assert table("Categories")["Bags"]["Conversion"] == "–"
    assert zones["Toys"]["Services"] == "0" and zones["Toys"]["Conversion"] == "–"
    assert zones["Toys"]["Mean dwell"] == "1:15"
    assert zones["Shoes"]["Conversion"] == "0.0 %"
    assert people["Anna"]["Average duration"] == "2:55"
    view.tabs.setCurrentIndex(2)  # Salespeople: the CSV stays in seconds, and says so
    out = tmp_path / "people.csv"
    assert view.export_current(str(out)) == 1
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert float(row["Average duration (s)"]) == 175.0 and row["Conversion"] == "0.0"
    view.tabs.setCurrentIndex(3)
    assert view.export_current(str(out)) == 2
    rows = {r["Zone"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert float(rows["Toys"]["Mean dwell (s)"]) == 75.0
    assert rows["Toys"]["Conversion"] == ""  # "–" on screen: no rate, not a rate of 0
    assert rows["Shoes"]["Conversion"] == "0.0"
    view.tabs.setCurrentIndex(0)
    assert view.export_current(str(out)) == 2
    rows = {r["Barcode"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["A1"]["Conversion"] == "0.0" and rows["B2"]["Conversion"] == ""
    view.shutdown()


def test_reports_never_run_a_period_that_ends_before_it_starts(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QDate

    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.start.setDate(QDate(2026, 12, 1))
    view.end.setDate(QDate(2026, 12, 4))
    view.start.setDate(QDate(2026, 12, 20))  # From after To: To follows
    assert view.end.date() == QDate(2026, 12, 20)
    assert "cannot end before it starts" in view.status.text()
    view.end.setDate(QDate(2026, 12, 4))  # nor can To be put before From
    assert view.end.date() == QDate(2026, 12, 20)
    f = view.report_filter()
    assert f.end - f.start >= 86400 - 3600  # one whole day (23 h across a DST change)
    view.start.setDate(QDate(2026, 11, 2))  # an earlier From leaves To alone
    assert view.end.date() == QDate(2026, 12, 20)
    view.shutdown()


def test_reports_explain_an_empty_salespeople_tab(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.refresh(wait=True)
    assert view.tables["Salespeople"].rowCount() == 0
    assert view.is_empty("Salespeople") and view.is_empty("Zones")
    shown = view.stacks["Salespeople"].currentWidget()
    assert "No service by a salesperson in this period" in shown.text()
    view.shutdown()


@pytest.mark.parametrize(("shown", "bought"), [(1, 1), (3, 0), (7, 2), (130, 41)])
def test_shown_vs_bought_counts_have_whole_ticks(qtbot, shown: int, bought: int) -> None:  # type: ignore[no-untyped-def]
    card = ChartCard("Shown vs bought", "nothing")
    qtbot.addWidget(card)
    card.resize(700, 260)
    card.show()
    plot_shown_bought(card, [sr.ItemRow("A1", "Tote", "Bags", shown, bought, bought, 0.5, 9.0)])
    axis = card.plot.getAxis("bottom")
    lo, hi = axis.range
    ticks = [v for _, values in axis.tickValues(lo, hi, axis.width()) for v in values]
    assert len(ticks) >= 2 and max(ticks) <= hi
    assert all(float(v).is_integer() for v in ticks), ticks
    assert all(s == str(int(v)) for s, v in zip(axis.tickStrings(ticks, 1, 1), ticks, strict=True))


def test_pairing_dialog_code_qr_devices_and_revoke(qtbot, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    asked: list[QMessageBox] = []
    answer = "Cancel"

    def click(box: QMessageBox) -> int:  # the manager answers the real question
        asked.append(box)
        next(b for b in box.buttons() if b.text().replace("&", "") == answer).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)
    sp = create_salesperson(store, "Anna", "E100", "1234", ["Shoes"])
    server = LanServer(store, None, LanConfig(allow_http=True), port=0, host="127.0.0.1")
    server.start()
    try:
        dlg = PairingDialog(server)
        qtbot.addWidget(dlg)
        assert dlg.code is None and server.codes._codes == {}  # opening mints nothing
        assert dlg.pair_btn.text() == "Pair a new tablet" and dlg.code_box.isHidden()
        dlg.pair_btn.click()
        assert not dlg.code_box.isHidden() and dlg.pair_btn.isHidden()
        code = dlg.code.code
        assert dlg.code_label.text().replace(" ", "") == code
        assert not dlg.qr.pixmap().isNull()
        assert (
            dlg.expiry.text().startswith("Valid for 4:5") or dlg.expiry.text() == "Valid for 5:00"
        )
        with httpx.Client(base_url=server.local_url) as c:
            r = c.post(
                "/api/v1/pairing",
                json={"code": code, "salesperson_id": sp, "pin": "1234", "label": "iPad 1"},
            )
            token = r.json()["token"]
            dlg._tick()  # a code pairs one tablet: the dialog says so and lists it
            assert "paired a tablet: press New code" in dlg.expiry.text()
            assert dlg.table.rowCount() == 1 and dlg.table.item(0, 0).text() == "iPad 1"
            dlg.stop_pairing()  # revoking needs no code
            assert dlg.code is None and not dlg.pair_btn.isHidden()
            me = {"Authorization": f"Bearer {token}"}
            dlg.table.selectRow(0)
            dlg.revoke_selected()  # Cancel: nothing happens
            [box] = asked
            assert box.text() == "Revoke iPad 1 (Anna)?"
            assert "signed out at once" in box.informativeText()
            assert "open services end" in box.informativeText()
            assert box.defaultButton().text().replace("&", "") == "Cancel"
            assert box.escapeButton() is box.defaultButton()
            assert dlg.table.rowCount() == 1 and [d.label for d in server.devices()] == ["iPad 1"]
            assert c.get("/api/v1/me", headers=me).status_code == 200
            answer = "Revoke"
            dlg.table.selectRow(0)
            dlg.revoke_selected()
            assert len(asked) == 2
            assert dlg.table.rowCount() == 0 and server.devices() == []
            assert "iPad 1 (Anna) can no longer connect" in dlg.status.text()
            assert c.get("/api/v1/me", headers=me).status_code == 401
            assert server.codes._codes == {}  # revoked without minting a code
        dlg.pair_btn.click()
        code = dlg.code.code
        dlg.reject()
        # closing the dialog cancels its code
        assert not server.codes.is_valid(code)
    finally:
        server.stop()


def test_pos_import_dialog_imports_day_first_dates(qtbot, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "caisse.csv"
    f.write_text(
        "N° ticket;Date/Heure;Code-barres;Montant;Vendeur\n"
        "T1;04/12/2026 10:00;4006381333931;1.234,50;E100\n"
        "T2;25/11/2026 18:30;5012345678900;12,00;\n",  # a past day (at most 1 day ahead)
        encoding="utf-8",
    )
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    assert dlg.mapping() == pos.PosMapping(
        "N° ticket", "Date/Heure", "Code-barres", "Montant", "Vendeur"
    )
    # checked on loading: the day 25 on line 3 says the file is day first
    assert dlg.errors.rowCount() == 0 and dlg.valid_rows == 2
    assert "day/month/year: line 3 (“25/11/2026 18:30”) has a day over 12" in (
        dlg.date_order.text()
    )
    assert "%" not in dlg.status.text() and dlg.import_btn.isEnabled()
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert dlg.last_result.imported == 2 and not dlg.last_result.errors
    with store.read_session() as s:
        got = s.execute(select(Purchase.ts, Purchase.amount).order_by(Purchase.id)).all()
    assert [tuple(r) for r in got] == [(1796378400.0, 1234.5), (1795631400.0, 12.0)]
    dlg.reject()


def test_pos_import_dialog_reads_date_and_time_from_two_columns(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "caisse.csv"
    f.write_text(
        "Ticket;Date;Heure;EAN;Montant\nT1;04/12/2026;10:00;4006381333931;9,90\n",
        encoding="utf-8",
    )
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    assert dlg.combos["time"].currentData() == "Date"
    assert dlg.combos["time_of_day"].currentData() == "Heure"
    dlg.time_format.setCurrentIndex(dlg.time_format.findText("day/month/year", Qt.MatchStartsWith))
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert dlg.last_result.imported == 1 and not dlg.last_result.errors
    with store.read_session() as s:
        assert s.execute(select(Purchase.ts)).scalar_one() == 1796378400.0  # 4 Dec 10:00 UTC
    dlg.reject()


def test_pos_import_dialog_leaves_an_unmatched_column_unchosen(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "till.csv"
    f.write_text(f"Receipt,Sold at,EAN,Col4\nT1,{SALE_DAY} 10:15:00,111,5\n", encoding="utf-8")
    dlg = PosImportDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    amount = dlg.combos["amount"]
    assert amount.currentText() == "— choose a column —" and amount.currentData() is None
    assert dlg.mapping() is None
    assert not dlg.check_btn.isEnabled() and not dlg.import_btn.isEnabled()
    assert dlg.mapping_hint.text() == "choose the column for Amount"
    amount.setCurrentIndex(amount.findData("EAN"))  # a column already used: still greyed
    assert not dlg.import_btn.isEnabled() and "both use the column 'EAN'" in dlg.mapping_hint.text()
    amount.setCurrentIndex(amount.findData("Col4"))
    assert dlg.import_btn.isEnabled() and dlg.check_btn.isEnabled()
    assert dlg.mapping_hint.text() == ""
    dlg.reject()


def test_catalog_dialog_leaves_an_unmatched_name_unchosen(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "catalog.csv"
    f.write_text("EAN;Colonne 2;Prix\n4006381333931;Trail runner;129,00\n", encoding="utf-8")
    dlg = CatalogDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.load(f)
    name = dlg.combos["name"]
    assert name.currentText() == "— choose a column —" and name.currentData() is None
    assert not dlg.import_btn.isEnabled()
    assert dlg.mapping_hint.text() == "choose the column for Name"
    name.setCurrentIndex(name.findData("Colonne 2"))
    assert dlg.import_btn.isEnabled() and dlg.mapping_hint.text() == ""
    assert dlg.mapping() == {"barcode": "EAN", "name": "Colonne 2", "price": "Prix"}
    dlg.start_import()
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=15000)
    assert dlg.table.item(0, 1).text() == "Trail runner" and dlg.table.item(0, 3).text() == "129.00"
    dlg.reject()


def test_catalog_dialog_rereads_the_file_in_the_chosen_encoding(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "catalogue.csv"
    f.write_bytes(
        "Code-barres;Libellé;Rayon;Prix TTC\n4006381333931;Café moulu;Épicerie;4,50\n".encode(
            "latin-1"
        )
    )
    dlg = CatalogDialog(store)
    qtbot.addWidget(dlg)
    assert not dlg.load(f)
    assert "not utf-8" in dlg.status.text() and not dlg.import_btn.isEnabled()
    assert dlg.combos["name"].count() == 1  # no columns offered from the refused file
    dlg.encoding.setCurrentIndex(dlg.encoding.findData("cp1252"))
    assert dlg.import_btn.isEnabled() and "4 columns" in dlg.status.text()
    assert dlg.mapping() == {
        "barcode": "Code-barres",
        "name": "Libellé",
        "category": "Rayon",
        "price": "Prix TTC",
    }
    dlg.reject()


@pytest.mark.parametrize("dialog", ["pos", "catalog"])
def test_file_pickers_start_in_the_home_folder_then_the_last_one(
    qtbot, store: Store, tmp_path: Path, monkeypatch, dialog: str
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "sales.csv"
    f.write_text(POS_CSV, encoding="utf-8")
    asked: list[str] = []

    def pick(parent, title, folder, filters):  # type: ignore[no-untyped-def]
        asked.append(folder)
        return str(f), ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", pick)
    dlg = PosImportDialog(store) if dialog == "pos" else CatalogDialog(store)
    qtbot.addWidget(dlg)
    button = next(b for b in dlg.findChildren(QPushButton) if b.text() == "Choose CSV…")
    button.click()
    button.click()
    assert asked == [str(Path.home()), str(tmp_path)]
    assert dlg.path == f
    dlg.reject()


def test_reports_show_footfall_day_by_day(qtbot, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Past days' entries are on the Reports page too: one row per day with people
    counted at a door (a line inside the store does not count), in the store's days;
    no capture rate without entrances; exported like the other reports."""
    import datetime as dt

    from app import events as ev

    tz = dt.UTC
    today = dt.datetime.now(tz).replace(hour=12, minute=0, second=0, microsecond=0)
    two_days_ago = today - dt.timedelta(days=2)
    k = {"camera": "door", "frame": 0, "t": 0.0}
    crossings = [
        ev.LineCross(**k, ts=two_days_ago.timestamp() + i, line="Front", direction="in",
                     track_id=i)
        for i in range(3)
    ] + [
        ev.LineCross(**k, ts=today.timestamp() + i, line="Front", direction="in", track_id=9)
        for i in range(2)
    ] + [
        ev.LineCross(**k, ts=today.timestamp() + 5, line="Aisle", direction="in", track_id=7,
                     door=False)
    ]  # fmt: skip
    store.writer.ingest_many(crossings).result(timeout=30)
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.start.setDate(view.start.date().addDays(-7))
    view.refresh(wait=True)
    t = view.tables["Footfall"]
    rows = [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
    assert [(r[0][:10], r[1], r[3]) for r in rows] == [
        (two_days_ago.date().isoformat(), "3", "–"),
        (today.date().isoformat(), "2", "–"),
    ]
    assert not view.is_empty("Footfall")
    view.tabs.setCurrentIndex([title for title, _ in TABS].index("Footfall"))
    out = tmp_path / "footfall.csv"
    assert view.export_current(str(out)) == 2
    exported = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["Entries"] for r in exported] == ["3", "2"] and exported[0]["Capture rate"] == ""


def test_reports_services_tab_shows_outcome_and_note(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: a service's outcome and note, given on the tablet, are in the reports;
    an item scanned twice is one item shown and its price counts once (the tablet's rule)."""
    sp = create_salesperson(store, "Anna", "E100", "1234", ["Shoes"])
    upsert_product(store, "A1", "Trail runner", "Footwear", 129)
    now = time.time()

    def fill(s):  # type: ignore[no-untyped-def]
        _service_showing_a1(s, sp, now, ended_at=now - 425)
        s.add(ItemScan(session_id="sess-0001", barcode="A1", ts=now - 480, idempotency_key="k-2"))
        ss = s.get(ServiceSession, "sess-0001")
        ss.outcome, ss.note = "not_in_stock", "asked for size 44"

    store.writer.submit(fill).result()
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.refresh(wait=True)
    assert "Services" in dict(TABS)
    t = view.tables["Services"]
    heads = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    row = {h: t.item(0, c).text() for c, h in enumerate(heads)}
    assert t.rowCount() == 1
    assert (row["Salesperson"], row["Zone"], row["Duration"]) == ("Anna", "Shoes", "2:55")
    assert (row["Items shown"], row["Value shown"]) == ("1", "129.00")
    assert (row["Outcome"], row["Note"]) == ("Not in stock", "asked for size 44")
    assert view.tables["Salespeople"].item(0, 3).text() == "1.00"  # items per service
    view.shutdown()
def test_pos_import_dialog_reads_the_issues_day_first_file_and_greys_import_for_nothing(
    qtbot, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: a dd/mm/yyyy till export whose first rows read both ways imported 0 of
    9 rows; problems showed format codes; the problem list was one row tall behind a
    splitter; Import stayed enabled with nothing valid; Close sat above the webhook."""
    days = [f"0{d}/11/2026 1{d}:00" for d in range(1, 9)] + ["13/11/2026 09:30"]
    f = tmp_path / "till.csv"
    f.write_text(
        "Receipt;Date;EAN;Total\n" + "".join(f"T{i};{d};111;1,00\n" for i, d in enumerate(days)),
        encoding="utf-8",
    )
    dlg = PosImportDialog(store, webhook_url="https://shop:8443/api/v1/pos/webhook")
    qtbot.addWidget(dlg)
    dlg.resize(980, 720)
    dlg.show()
    assert dlg.load(f)
    assert dlg.valid_rows == 9 and dlg.errors.rowCount() == 0
    assert dlg.status.text() == "9 valid rows, 0 rows with problems."
    assert "line 10 (“13/11/2026 09:30”)" in dlg.date_order.text()
    # the layout: a real problem list and preview, Close at the very bottom
    assert dlg.errors.height() >= 150 and dlg.preview.width() >= 420
    webhook = dlg.findChild(QGroupBox)
    assert webhook is not None
    assert dlg.close_btn.mapTo(dlg, dlg.close_btn.rect().topLeft()).y() > (
        webhook.mapTo(dlg, webhook.rect().bottomLeft()).y()
    )
    # a file with no valid row: the problems in words, Import greyed
    bad = tmp_path / "bad.csv"
    bad.write_text("Receipt;Date;EAN;Total\nT1;06/12/2026 ;111;1\nT2;31/02/2026 10:00;111;1\n")
    assert dlg.load(bad)
    assert dlg.valid_rows == 0 and not dlg.import_btn.isEnabled()
    problems = [dlg.errors.item(r, 1).text() for r in range(dlg.errors.rowCount())]
    assert problems == [
        "time of sale “06/12/2026” is not a date and time: expected day/month/year with a "
        "time, like 04/12/2026 10:00",
        "time of sale “31/02/2026 10:00” is not a date and time: expected day/month/year "
        "with a time, like 04/12/2026 10:00",
    ]
    assert dlg.status.text().startswith("No valid row: 2 rows with problems")
    assert all("%" not in p for p in problems)
    dlg.time_format.setCurrentIndex(1)  # another format: to be checked again
    assert dlg.valid_rows is None and dlg.import_btn.isEnabled()
    dlg.reject()


def test_paired_tablets_show_whole_names(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: the salesperson column read "Camil…"."""
    from types import SimpleNamespace

    device = SimpleNamespace(
        id=1, label="iPad of the shoe department", salesperson_name="Camille Dupont-Laurent",
        created_at=time.time(), last_seen=time.time(),
    )  # fmt: skip
    server = SimpleNamespace(devices=lambda: [device], url="https://shop:8443", cert=None)
    dlg = PairingDialog(server)
    qtbot.addWidget(dlg)
    dlg.show()
    fm = dlg.table.fontMetrics()
    for col, text in ((0, device.label), (1, device.salesperson_name)):
        assert dlg.table.columnWidth(col) >= fm.horizontalAdvance(text), text
    vis = dlg.table.viewport().width()
    assert sum(dlg.table.columnWidth(c) for c in range(4)) <= vis + 2  # no scrolling
    dlg.reject()


def test_revoke_is_enabled_only_with_a_tablet_selected(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Revoke acts on the selected tablet: greyed until one is selected, greyed again
    when the selection goes (and after a refresh that empties the list)."""
    from types import SimpleNamespace

    devices = [
        SimpleNamespace(
            id=i, label=f"iPad {i}", salesperson_name="Anna",
            created_at=time.time(), last_seen=None,
        )
        for i in (1, 2)
    ]  # fmt: skip
    server = SimpleNamespace(devices=lambda: list(devices), url="https://shop:8443", cert=None)
    dlg = PairingDialog(server)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.table.rowCount() == 2 and not dlg.revoke_btn.isEnabled()
    dlg.table.selectRow(1)
    assert dlg.revoke_btn.isEnabled()
    dlg.table.clearSelection()
    assert not dlg.revoke_btn.isEnabled()
    dlg.table.selectRow(0)
    devices.clear()
    dlg.refresh()
    assert dlg.table.rowCount() == 0 and not dlg.revoke_btn.isEnabled()
    dlg.reject()


def test_catalogue_adds_and_edits_a_product_by_hand(qtbot, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: a product could only come from a CSV. The form checks as the manager
    types (Save greyed with the reason), refuses a wrong check digit and a barcode
    already there, then the product is in the store and the list; editing keeps its
    barcode."""
    from PySide6.QtWidgets import QDialogButtonBox

    from app.sync.catalog import get_product
    from app.ui.product_dialog import ProductDialog

    upsert_product(store, "4006381333931", "Pen", "Office", 2.5)
    dlg = CatalogDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "Product catalogue" and dlg.count.text() == "1 product"
    forms: list[ProductDialog] = []

    def fill(form: ProductDialog) -> int:
        forms.append(form)
        save = form.buttons.button(QDialogButtonBox.StandardButton.Save)
        if form.editing:
            assert not form.barcode.isEnabled() or form.barcode.isReadOnly()
            form.price.setText("3,20")
            form.name.setText("Pen, blue")
        else:
            assert not save.isEnabled() and form.problem.text() == ""  # nothing typed yet
            form.barcode.setText("4006381333932")  # one digit wrong
            form.name.setText("Bag")
            assert not save.isEnabled() and "check digit" in form.problem.text()
            form.barcode.setText("4006381333931")  # already there
            form.price.setText("ten")
            assert "price" in form.problem.text().lower()
            form.price.setText("89.50")
            assert save.isEnabled()
            form.save()
            assert "already in the catalogue" in form.problem.text() and form.saved is None
            form.barcode.setText("5012345678900")
            form.category.setCurrentText("Bags")
        save.click()
        return int(form.result())

    monkeypatch.setattr(ProductDialog, "exec", fill)
    dlg.add_btn.click()
    bag = get_product(store, "5012345678900")
    assert bag is not None and (bag.name, bag.category, bag.price) == ("Bag", "Bags", 89.5)
    assert dlg.count.text() == "2 products" and "Bag (5012345678900) added" in dlg.status.text()
    row = next(r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text().startswith("40"))
    dlg.table.selectRow(row)
    assert dlg.edit_btn.isEnabled()
    dlg.edit_btn.click()
    assert forms[-1].editing and forms[-1].category.findText("Bags") >= 0
    pen = get_product(store, "4006381333931")
    assert pen is not None and (pen.name, pen.price) == ("Pen, blue", 3.2)
    dlg.reject()


def test_report_tables_stretch_a_name_never_a_number(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: the Salespeople report's "Services" column was stretched across the page."""
    from PySide6.QtWidgets import QHeaderView

    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    for title, _kind in TABS:
        t = view.tables[title]
        hh = t.horizontalHeader()
        stretched = [
            t.horizontalHeaderItem(c).text()
            for c in range(t.columnCount())
            if hh.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch
        ]
        assert len(stretched) <= 1 and not (set(stretched) & {"Services", "Visitors"}), title
    people = view.tables["Salespeople"]
    assert people.horizontalHeader().sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch
