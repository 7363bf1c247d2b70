"""POS CSV import into a real encrypted store: validation, dedupe, refusal, linking, and
hypothesis-generated malformed files (no crash, no partial import)."""

from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from lan_fixtures are test parameters)
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.store.db import Store
from app.store.models import ItemScan, PosImport, Purchase, ServiceSession
from app.sync.csvio import read_csv
from app.sync.pos import (
    ImportResult,
    PosImportError,
    PosMapping,
    file_date_order,
    guess_mapping,
    import_pos_csv,
    preview,
)
from app.sync.pos_dates import detect_date_order, sale_time
from app.sync.pos_values import TIME_FORMATS, parse_amount
from tests.sale_days import SALE_DAY, last_summer_day, sale_ts
from tests.sync.lan_fixtures import seeded, store  # noqa: F401

UTC_TZ = ZoneInfo("UTC")
NOW_DEC = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()
MAP = PosMapping("Receipt", "Sold at", "EAN", "Amount", "Clerk")
GOOD = f"""Receipt,Sold at,EAN,Amount,Clerk
T1,{SALE_DAY} 10:15:00,4006381333931,129.00,E100
T1,{SALE_DAY} 10:15:00,5012345678900,"210,00",E100
T2,{SALE_DAY}T11:00:00+00:00,4006381333948,89.50,
T3,not a time,4006381333948,89.50,
T4,{SALE_DAY} 12:00,,10,
T5,{SALE_DAY} 12:00,123,ten,
T6,{int(sale_ts(11, 13, 20))},7612345678904,45,E200
"""


def _run(store: Store, path: Path, mapping: PosMapping = MAP, **kw: object) -> ImportResult:
    result = None
    phases = []
    for p in import_pos_csv(store, path, mapping, **kw):  # type: ignore[arg-type]
        phases.append(p.phase)
        result = p.result or result
    assert phases[0] == "read" and phases[-1] == "done"
    assert result is not None
    return result


def _count(store: Store) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(Purchase)) or 0)


def test_valid_rows_imported_invalid_rows_reported_with_lines(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_text(GOOD, encoding="utf-8")
    r = _run(store, f)
    assert (r.rows_total, r.imported, r.duplicates) == (7, 4, 0)
    assert [(e.line, e.reason.split(" ")[0]) for e in r.errors] == [
        (5, "time"),
        (6, "no"),
        (7, "amount"),
    ]
    with store.read_session() as s:
        rows = s.execute(select(Purchase).order_by(Purchase.id)).scalars().all()
        assert [(p.transaction_id, p.line_no, p.amount) for p in rows] == [
            ("T1", 1, 129.0),
            ("T1", 2, 210.0),
            ("T2", 1, 89.5),
            ("T6", 1, 45.0),
        ]
        assert rows[0].salesperson_code == "E100"
        imp = s.execute(select(PosImport)).scalar_one()
        assert (imp.rows_total, imp.rows_imported, imp.rows_invalid) == (7, 4, 3)


def test_reimport_adds_nothing(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_text(GOOD, encoding="utf-8")
    _run(store, f)
    r = _run(store, f)
    assert (r.imported, r.duplicates) == (0, 4)
    assert _count(store) == 4


def test_naive_times_use_the_store_time_zone(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    summer = last_summer_day()  # 1 July: summer time in Paris
    f.write_text(f"Receipt,Sold at,EAN,Amount\nA,{summer} 12:00:00,111,1\n", encoding="utf-8")
    _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"), tz="Europe/Paris")
    with store.read_session() as s:
        ts = s.execute(select(Purchase.ts)).scalar_one()
    ten_utc = datetime.combine(summer, datetime.min.time(), UTC).timestamp() + 10 * 3600
    assert ts == ten_utc  # 10:00 UTC (Paris is UTC+2 in summer)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        (b"\x00\x01\x02 binary", "binary"),
        ("Receipt;Sold at\nT1;caf\xe9\n".encode("latin-1"), "not utf-8"),
        (b"", "empty"),
        (b"just one column\nvalue\n", "header"),
        (b'Receipt,Sold at,EAN,Amount\nT1,"unterminated,1,2\n', "not a valid CSV"),
    ],
)
def test_refused_files_import_nothing(
    store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(PosImportError, match=f"(?i){message}"):
        _run(store, f)
    assert _count(store) == 0


def test_missing_mapped_column_is_refused(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_text(f"Receipt,Sold at,EAN\nT1,{SALE_DAY} 10:00,111\n", encoding="utf-8")
    with pytest.raises(PosImportError, match="no column 'Amount'"):
        _run(store, f)
    assert _count(store) == 0


def test_latin1_file_with_its_encoding_chosen(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_bytes(f"Reçu;Date;EAN;Montant\nT1;{SALE_DAY} 10:00;111;12,5\n".encode("latin-1"))
    pv = preview(f, "latin-1")
    assert pv.delimiter == ";" and pv.header[0] == "Reçu"
    r = _run(store, f, PosMapping("Reçu", "Date", "EAN", "Montant"), encoding="latin-1")
    assert r.imported == 1


def test_guess_mapping_and_amounts() -> None:
    g = guess_mapping(["Transaction ID", "Date/Time", "EAN", "Total", "Cashier"])
    assert g == {
        "transaction_id": "Transaction ID",
        "time": "Date/Time",
        "barcode": "EAN",
        "amount": "Total",
        "salesperson_code": "Cashier",
    }
    assert parse_amount("1,234.50") == 1234.5
    assert parse_amount("€ 12,50") == 12.5
    with pytest.raises(ValueError):
        parse_amount("nan")


def test_imported_purchase_links_to_earlier_service(
    store: Store, seeded: dict[str, int], tmp_path: Path
) -> None:
    sid = str(uuid.uuid4())

    def _session(s):  # type: ignore[no-untyped-def]
        s.add(
            ServiceSession(
                id=sid,
                salesperson_id=seeded["anna"],
                zone="Shoes",
                started_at=1000.0,
                ended_at=1600.0,
            )
        )
        s.flush()
        s.add(ItemScan(session_id=sid, barcode="111", ts=1100.0, idempotency_key="k-" + sid))

    store.writer.submit(_session).result()
    f = tmp_path / "pos.csv"
    f.write_text(
        "Receipt,Sold at,EAN,Amount\n"
        "A,1970-01-01T00:33:20+00:00,111,5\n"
        "B,1970-01-01T00:28:20+00:00,222,6\n"
        "C,1970-01-02T03:46:39+00:00,111,7\n",
        encoding="utf-8",
    )
    r = _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"), now=100000.0)
    assert r.imported == 3 and r.linked == 1
    with store.read_session() as s:
        links = dict(s.execute(select(Purchase.transaction_id, Purchase.session_id)).all())
    assert links == {"A": sid, "B": None, "C": None}


def test_failure_during_write_leaves_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.sync.pos as pos

    def broken(*a: object, **k: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pos, "link_purchase_rows", broken)
    f = tmp_path / "pos.csv"
    f.write_text(GOOD, encoding="utf-8")
    with pytest.raises(RuntimeError):
        _run(store, f)
    assert _count(store) == 0
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(PosImport)) == 0


_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["T1", f"{SALE_DAY} 10:00", "123", "4,5", "", '"', "\n", ";", "\x00", "é"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(_cells, min_size=0, max_size=6), max_size=8).map(
            lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")
        ),
        st.lists(st.lists(_cells, min_size=4, max_size=5), max_size=8).map(
            lambda rows: (
                "Receipt,Sold at,EAN,Amount,Clerk\n" + "\n".join(",".join(r) for r in rows)
            ).encode("utf-8", "surrogatepass")
        ),
    )
)
@example(raw=b'0,",\n,"')  # a header cell holding a line break (found by hypothesis)
def test_malformed_csv_never_crashes_nor_imports_partially(
    store: Store, tmp_path: Path, raw: bytes
) -> None:
    f = tmp_path / f"h-{uuid.uuid4().hex}.csv"
    f.write_bytes(raw)
    before = _count(store)
    try:
        r = _run(store, f)
    except PosImportError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert _count(store) == before
        return
    after = _count(store)
    assert after - before == r.imported
    assert r.imported + r.duplicates + len(r.errors) == r.rows_total
    assert all(e.line >= 2 and e.reason for e in r.errors)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234,56", 1234.56),
        ("1 234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1234,56", 1234.56),
        ("1,234.56", 1234.56),
        ("1234.56", 1234.56),
        ("12.5", 12.5),
        ("1.234.567,89", 1234567.89),
        ("1,234,567", 1234567.0),
        ("0,125", 0.125),
        ("-3,50 €", -3.5),
        ("1234", 1234.0),
    ],
)
def test_amounts_in_european_and_english_formats(text: str, value: float) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "comma", "point"),
    [("1,234", 1.234, 1234.0), ("1.234", 1234.0, 1.234), ("-12,500", -12.5, -12500.0)],
)
def test_an_amount_that_reads_two_ways_is_refused_not_guessed(
    text: str, comma: float, point: float
) -> None:
    with pytest.raises(ValueError, match="is ambiguous .*: write"):
        parse_amount(text)
    assert parse_amount(text, decimal=",") == comma  # the file's decimal separator settles it
    assert parse_amount(text, decimal=".") == point


@pytest.mark.parametrize("text", ["12,34.5", "1.2.3", "1e5", "nan", "", "1,,2"])
def test_malformed_amounts_are_not_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_amount(text)


def test_ambiguous_amount_row_is_refused_by_its_line(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_text(
        f'Receipt,Sold at,EAN,Amount\nA,{SALE_DAY} 10:00,111,"1,234"\nB,{SALE_DAY} 10:00,222,12\n',
        encoding="utf-8",
    )
    r = _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"))
    assert r.imported == 1 and len(r.errors) == 1
    assert r.errors[0].line == 2
    assert r.errors[0].reason.startswith("amount '1,234' is ambiguous (1234 or 1.234?)")
    with store.read_session() as s:
        assert s.execute(select(Purchase.amount)).scalars().all() == [12.0]


@pytest.mark.parametrize(
    ("amounts", "values"),
    [
        (["12,50", "1.234"], [12.5, 1234.0]),  # the file writes decimals with a comma
        (["1.234,56", "1.234"], [1234.56, 1234.0]),
        (["12.50", "1,234"], [12.5, 1234.0]),  # ... with a point
        (["0.5", "1.234"], [0.5, 1.234]),
    ],
)
def test_ambiguous_amount_read_with_the_files_decimal_separator(
    store: Store, tmp_path: Path, amounts: list[str], values: list[float]
) -> None:
    f = tmp_path / "pos.csv"
    lines = [f'T{i};{SALE_DAY} 10:00;11{i};"{a}"' for i, a in enumerate(amounts)]
    f.write_text("Receipt;Sold at;EAN;Amount\n" + "\n".join(lines) + "\n", encoding="utf-8")
    r = _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"))
    assert r.errors == [] and r.imported == len(amounts)
    with store.read_session() as s:
        assert s.execute(select(Purchase.amount).order_by(Purchase.id)).scalars().all() == values


def test_semicolon_file_with_a_short_row_reports_that_row(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "pos.csv"
    f.write_text(
        "Ticket;Date;EAN;Montant\n"
        f"T1;{SALE_DAY} 10:00;111;12,50\n"
        f"T2;{SALE_DAY} 10:05\n"
        f"T3;{SALE_DAY} 10:10;222;3\n",
        encoding="utf-8",
    )
    assert preview(f).delimiter == ";"
    r = _run(store, f, PosMapping("Ticket", "Date", "EAN", "Montant"))
    assert r.imported == 2
    assert [(e.line, e.reason) for e in r.errors] == [(3, "2 fields where the header has 4")]


@pytest.mark.parametrize(
    ("head", "row", "delimiter"),
    [
        ("a,b,c", "1,2,3", ","),
        ("a\tb c\td", "1\t2\t3", "\t"),
        ("a|b|c", "1|2|3", "|"),
        ("Name;Price, EUR;Qty", "x;1,5;2", ";"),  # the header decides, not a comma inside
    ],
)
def test_delimiter_is_the_one_that_splits_the_header(
    tmp_path: Path, head: str, row: str, delimiter: str
) -> None:
    f = tmp_path / "t.csv"
    f.write_text(f"{head}\n{row}\n{row[:2]}\n", encoding="utf-8")
    assert preview(f).delimiter == delimiter


def test_french_column_names_are_guessed() -> None:
    header = ["N° ticket", "Date/Heure", "Code-barres", "Désignation", "Prix TTC", "Vendeur"]
    assert guess_mapping(header) == {
        "transaction_id": "N° ticket",
        "time": "Date/Heure",
        "barcode": "Code-barres",
        "amount": "Prix TTC",
        "salesperson_code": "Vendeur",
    }
    assert guess_mapping(["Ticket", "Date", "EAN", "Prix unitaire", "Montant"])["amount"] == (
        "Montant"
    )


@pytest.mark.parametrize(
    ("label", "text"),
    [("day/month/year", "04/12/2026 10:00"), ("month/day/year", "12/04/2026 10:00")],
)
def test_the_windows_date_formats_import_through_time_format(
    store: Store, tmp_path: Path, label: str, text: str
) -> None:
    fmt = next(f for name, f in TIME_FORMATS if name.startswith(label) and f)
    f = tmp_path / "pos.csv"
    f.write_text(f"Receipt,Sold at,EAN,Amount\nA,{text},111,1\n", encoding="utf-8")
    m = PosMapping("Receipt", "Sold at", "EAN", "Amount")
    r = _run(store, f, m, time_format=fmt)
    assert r.imported == 1
    with store.read_session() as s:
        assert s.execute(select(Purchase.ts)).scalar_one() == 1796378400.0  # 4 Dec 10:00 UTC


def test_date_and_time_in_separate_columns(store: Store, tmp_path: Path) -> None:
    """Many tills export the date and the time of a sale in two columns: the time of
    day gets a column of its own ("Date" then holds the date), guessed from the header,
    and the two are read together, in the chosen format too."""
    header = ["Ticket", "Date", "Heure", "EAN", "Montant"]
    guess = guess_mapping(header)
    assert (guess["time"], guess["time_of_day"]) == ("Date", "Heure")
    assert "time_of_day" not in guess_mapping(["Receipt", "Sold at", "EAN", "Amount"])
    f = tmp_path / "pos.csv"
    f.write_text(
        "Ticket;Date;Heure;EAN;Montant\nA;04/12/2026;10:00;111;1,50\nB;04/12/2026;;222;2\n",
        encoding="utf-8",
    )
    m = PosMapping("Ticket", "Date", "EAN", "Montant", time_of_day="Heure")
    fmt = next(f for name, f in TIME_FORMATS if name.startswith("day/month/year") and f)
    r = _run(store, f, m, time_format=fmt)
    assert r.imported == 1
    assert [(e.line, e.reason) for e in r.errors] == [
        (3, "time of sale missing: “04/12/2026” has no time of day (its column is empty)")
    ]
    with store.read_session() as s:
        assert s.execute(select(Purchase.ts)).scalar_one() == 1796378400.0  # 4 Dec 10:00 UTC


def _dates_file(tmp_path: Path, dates: list[str]) -> Path:
    f = tmp_path / "dates.csv"
    rows = "".join(f"T{i},{d},111,1\n" for i, d in enumerate(dates))
    f.write_text("Receipt,Sold at,EAN,Amount\n" + rows, encoding="utf-8")
    return f


def test_a_day_over_12_anywhere_in_the_file_decides_day_first(store: Store, tmp_path: Path) -> None:
    """The issue's file: day/month/year dates whose first rows read both ways; with the
    automatic format every row imports, read day first because of one later row."""
    dates = [f"0{d}/11/2026 1{d}:00" for d in range(1, 9)] + ["13/10/2026 09:30"]
    f = _dates_file(tmp_path, dates)
    order = file_date_order(read_csv(f), PosMapping("Receipt", "Sold at", "EAN", "Amount"), UTC_TZ)
    assert order.order == "dmy"
    assert "line 10 (“13/10/2026 09:30”) has a day over 12" in order.how
    r = _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"), now=NOW_DEC)
    assert (r.imported, r.errors) == (9, [])
    with store.read_session() as s:
        first = s.execute(select(Purchase.ts).order_by(Purchase.ts)).scalars().first()
    assert first == datetime(2026, 10, 13, 9, 30, tzinfo=UTC).timestamp()


def test_a_month_first_file_is_read_month_first(store: Store, tmp_path: Path) -> None:
    f = _dates_file(tmp_path, ["12/01/2026 10:00 AM", "11/30/2026 3:15 PM"])
    order = file_date_order(read_csv(f), PosMapping("Receipt", "Sold at", "EAN", "Amount"), UTC_TZ)
    assert order.order == "mdy" and "its second number" in order.how
    r = _run(store, f, PosMapping("Receipt", "Sold at", "EAN", "Amount"), now=NOW_DEC)
    assert (r.imported, r.errors) == (2, [])
    with store.read_session() as s:
        got = sorted(s.execute(select(Purchase.ts)).scalars())
    assert got == [
        datetime(2026, 11, 30, 15, 15, tzinfo=UTC).timestamp(),
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC).timestamp(),
    ]


def test_dates_that_read_both_ways_follow_the_store_time_zone_and_say_so() -> None:
    dates = [(2, "04/12/2026 10:00"), (3, "05/12/2026 11:00")]
    paris = detect_date_order(dates, "Europe/Paris")
    assert paris.order == "dmy"
    assert "assumed day/month/year, as in the store's time zone (Europe/Paris)" in paris.how
    assert detect_date_order(dates, "America/Chicago").order == "mdy"
    assert detect_date_order([(2, "2026-12-04 10:00")], "UTC").order is None
    mixed = detect_date_order([(2, "13/12/2026 10:00"), (3, "12/13/2026 10:00")], "UTC")
    assert "line 3 (“12/13/2026 10:00”) reads only as month/day/year" in mixed.how


def test_date_problems_are_said_in_words_with_the_rows_text() -> None:
    tz = ZoneInfo("UTC")
    dmy = detect_date_order([(2, "13/12/2026 10:00")], "UTC")
    with pytest.raises(ValueError) as e:
        sale_time("31/02/2026 10:00", None, tz, None, dmy)
    assert str(e.value) == (
        "time of sale “31/02/2026 10:00” is not a date and time: expected day/month/year "
        "with a time, like 04/12/2026 10:00"
    )
    fmt = next(f for name, f in TIME_FORMATS if name.startswith("day.month.year") and f)
    with pytest.raises(ValueError) as e:
        sale_time("06/12/2026", "", tz, fmt, dmy)
    assert "%" not in str(e.value) and "“06/12/2026”" in str(e.value)
    with pytest.raises(ValueError) as e:
        sale_time("06/12/2026 10:00", None, tz, fmt, dmy)
    assert str(e.value).endswith("expected day.month.year (04.12.2026 10:00)")
