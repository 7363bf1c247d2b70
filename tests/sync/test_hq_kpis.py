"""Case tables of the HQ dashboard's pure decisions: KPI formulas, the weekday
baseline, a promotion's uplift, CSV cell neutralisation, roles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.hq import kpis
from app.hq.kpi_report import PeriodError, parse_period, safe_cell
from app.hq.users import User


@pytest.mark.parametrize(
    ("visitors", "expected", "result"),
    [(120, 100, 1.2), (80, 100, 0.8), (0, 100, 0.0), (50, 0, None), (50, None, None)],
)
def test_traffic_index(visitors: float, expected: float | None, result: float | None) -> None:
    assert kpis.traffic_index(visitors, expected) == pytest.approx(result)


@pytest.mark.parametrize(
    ("entered", "passed", "result"),
    [(25, 75, 0.25), (10, 0, 1.0), (0, 40, 0.0), (0, 0, None)],
)
def test_capture_rate(entered: int, passed: int, result: float | None) -> None:
    assert kpis.capture_rate(entered, passed) == pytest.approx(result)


@pytest.mark.parametrize(
    ("transactions", "visitors", "result"),
    [(10, 100, 0.1), (0, 100, 0.0), (5, 0, None), (120, 100, 1.2)],
)
def test_sales_conversion(transactions: int, visitors: int, result: float | None) -> None:
    assert kpis.sales_conversion(transactions, visitors) == pytest.approx(result)


@pytest.mark.parametrize(
    ("peak", "capacity", "result"),
    [(46, 50, 0.92), (60, 50, 1.2), (10, None, None), (10, 0, None), (0, 50, 0.0)],
)
def test_utilisation(peak: int, capacity: int | None, result: float | None) -> None:
    assert kpis.utilisation(peak, capacity) == pytest.approx(result)


@pytest.mark.parametrize(
    ("peaks", "capacity", "result"),
    [
        ([46, 46, 20, 20], 50, 0.5),  # 46 >= 0.9 * 50
        ([44, 44], 50, 0.0),
        ([45], 50, 1.0),  # exactly 90 % counts
        ([], 50, None),
        ([60], None, None),
    ],
)
def test_congestion(peaks: list[int], capacity: int | None, result: float | None) -> None:
    assert kpis.congestion(peaks, capacity) == pytest.approx(result)


@pytest.mark.parametrize(
    ("current", "previous", "result"),
    [(120, 100, 0.2), (80, 100, -0.2), (100, 0, None), (None, 100, None), (0, 100, -1.0)],
)
def test_change_and_growth_momentum(
    current: float | None, previous: float | None, result: float | None
) -> None:
    assert kpis.change(current, previous) == pytest.approx(result)
    if current is not None and previous is not None:
        assert kpis.growth_momentum(current, previous) == pytest.approx(result)


MON = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("history", "days", "result"),
    [
        # two Mondays 100 and 140 -> a Monday is expected at 120
        ({MON - timedelta(weeks=1): 100, MON - timedelta(weeks=2): 140}, [MON], 120.0),
        # a week with Saturday double: Mon..Sun expected 6 * 100 + 200
        ({MON - timedelta(days=7 - i): (200 if i == 5 else 100) for i in range(7)},
         [MON + timedelta(days=i) for i in range(7)], 800.0),
        ({MON - timedelta(days=6): 100}, [MON], None),  # no Monday in the history
        ({}, [], 0.0),
    ],
)  # fmt: skip
def test_weekday_baseline(
    history: dict[date, float], days: list[date], result: float | None
) -> None:
    assert kpis.weekday_baseline(history, days) == pytest.approx(result)


def _week(level: float, start: date) -> dict[date, float]:
    return {start + timedelta(days=i): level for i in range(7)}


@pytest.mark.parametrize(
    ("promo_level", "control_level", "own", "vs_control"),
    [
        (120, 110, 0.2, 1.2 / 1.1 - 1),  # both rose; the promotion added ~9 %
        (120, 100, 0.2, 0.2),  # control flat: everything is the promotion's
        (100, 90, 0.0, 100 / 90 - 1),  # promoted flat while others fell
    ],
)
def test_promotion_uplift(
    promo_level: float, control_level: float, own: float, vs_control: float
) -> None:
    base_start = MON - timedelta(weeks=4)
    series: dict[str, dict[date, float]] = {"P": {}, "C": {}}
    for w in range(4):
        series["P"].update(_week(100, base_start + timedelta(weeks=w)))
        series["C"].update(_week(100, base_start + timedelta(weeks=w)))
    series["P"].update(_week(promo_level, MON))
    series["C"].update(_week(control_level, MON))
    up = kpis.promotion_uplift(series, ["P"], MON, MON + timedelta(days=6))
    assert up.vs_baseline == pytest.approx(own)
    assert up.vs_control == pytest.approx(vs_control)


def test_uplift_without_control_stores_has_no_comparison() -> None:
    series = {"P": {MON - timedelta(weeks=1): 100.0, MON: 150.0}}
    up = kpis.promotion_uplift(series, ["P"], MON, MON)
    assert up.vs_baseline == pytest.approx(0.5) and up.vs_control is None


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("Paris", "Paris"), ("", ""), (None, ""),
        (-0.25, "-0.25"), (42, "42"), (True, "true"),
    ],
)  # fmt: skip
def test_csv_cells_cannot_run_as_formulas(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


@pytest.mark.parametrize(
    ("role", "region", "store_region", "sees"),
    [
        ("admin", None, "South", True),
        ("analyst", None, "", True),
        ("regional", "North", "North", True),
        ("regional", "North", "South", False),
        ("regional", "North", "", False),  # a store without a region is HQ's only
    ],
)
def test_who_sees_which_store(role: str, region: str | None, store_region: str, sees: bool) -> None:
    assert User(1, "u", role, region).can_see_region(store_region) is sees


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [("2026-03-09", "2026-03-01", "ends before"), ("2026-13-01", None, "YYYY-MM-DD"),
     ("2020-01-01", "2026-01-01", "at most")],
)  # fmt: skip
def test_bad_periods_are_refused_in_one_line(first: str, last: str | None, error: str) -> None:
    with pytest.raises(PeriodError, match=error):
        parse_period(first, last, date(2026, 6, 1))


def test_default_period_is_the_28_days_to_yesterday() -> None:
    assert parse_period(None, None, date(2026, 6, 1)) == (date(2026, 5, 4), date(2026, 5, 31))
