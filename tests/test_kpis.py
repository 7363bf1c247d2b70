"""The KPI definitions (app/kpis.py): one table of cases per KPI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import kpis

D0 = date(2026, 11, 2)  # a Monday


@pytest.mark.parametrize(
    ("visitors", "expected", "index"),
    [(120, 100, 1.2), (80, 100, 0.8), (0, 100, 0.0), (50, None, None), (50, 0, None)],
)
def test_traffic_index(visitors: float, expected: float | None, index: float | None) -> None:
    assert kpis.traffic_index(visitors, expected) == pytest.approx(index)


def test_weekday_baseline_is_the_mean_of_the_same_weekdays() -> None:
    history = {D0 - timedelta(weeks=w): 100.0 + 10 * w for w in range(1, 5)}  # Mondays
    history |= {D0 + timedelta(days=1) - timedelta(weeks=w): 50.0 for w in range(1, 5)}
    assert kpis.weekday_baseline(history, [D0]) == pytest.approx(125.0)
    assert kpis.weekday_baseline(history, [D0, D0 + timedelta(days=1)]) == pytest.approx(175.0)
    assert kpis.weekday_baseline(history, [D0 + timedelta(days=2)]) is None  # no Wednesday


@pytest.mark.parametrize(
    ("entered", "passed", "rate"), [(25, 75, 0.25), (10, 0, 1.0), (0, 40, 0.0), (0, 0, None)]
)
def test_capture_rate(entered: float, passed: float, rate: float | None) -> None:
    assert kpis.capture_rate(entered, passed) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("tx", "revenue", "visitors", "conv", "basket", "per_visitor"),
    [
        (20, 1000.0, 100, 0.2, 50.0, 10.0),
        (0, 0.0, 100, 0.0, None, 0.0),
        (5, 250.0, 0, None, 50.0, None),
    ],
)
def test_sales_kpis(
    tx: int, revenue: float, visitors: int, conv: float | None, basket: float | None,
    per_visitor: float | None,
) -> None:  # fmt: skip
    assert kpis.sales_conversion(tx, visitors) == pytest.approx(conv)
    assert kpis.average_basket(revenue, tx) == pytest.approx(basket)
    assert kpis.sales_per_visitor(revenue, visitors) == pytest.approx(per_visitor)


@pytest.mark.parametrize(
    ("people", "capacity", "value"),
    [(30, 60, 0.5), (75, 60, 1.25), (0, 60, 0.0), (10, None, None), (10, 0, None)],
)
def test_congestion(people: float, capacity: int | None, value: float | None) -> None:
    assert kpis.congestion(people, capacity) == pytest.approx(value)


@pytest.mark.parametrize(
    ("entries", "capacity", "value"), [(120, 60, 2.0), (15, 60, 0.25), (15, None, None)]
)
def test_utilisation(entries: float, capacity: int | None, value: float | None) -> None:
    assert kpis.utilisation(entries, capacity) == pytest.approx(value)


def _series(f: object, days: int = 28, skip: frozenset[int] = frozenset()) -> dict[date, float]:
    last = D0 + timedelta(days=27)
    first = last - timedelta(days=days - 1)
    return {first + timedelta(days=i): f(i) for i in range(days) if i not in skip}  # type: ignore[operator]


@pytest.mark.parametrize(
    ("series", "momentum"),
    [
        (_series(lambda i: 100.0), 0.0),  # flat
        (_series(lambda i: 100.0 + (i - 13.5)), 0.07),  # +1 a day around a mean of 100
        (_series(lambda i: 200.0 - 2 * (i - 13.5)), -0.07),  # -2 a day around 200
        (_series(lambda i: 100.0 + (i - 13.5), skip=frozenset({3, 24})), 0.07),  # days without data
        (_series(lambda i: 100.0, days=13), None),  # too few days
        (_series(lambda i: 0.0), None),  # nobody at all
    ],
)
def test_growth_momentum(series: dict[date, float], momentum: float | None) -> None:
    assert kpis.growth_momentum(series, D0 + timedelta(days=27)) == pytest.approx(momentum)


def test_growth_momentum_ignores_days_outside_the_four_weeks() -> None:
    series = _series(lambda i: 100.0)
    series[D0 - timedelta(days=30)] = 10_000.0
    assert kpis.growth_momentum(series, D0 + timedelta(days=27)) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("on_duty", "visitors", "target", "required", "adequacy"),
    [
        (2, 40, 20, 2, 1.0),
        (1, 41, 20, 3, 1 / 3),
        (3, 20, 20, 1, 3.0),
        (0, 10, 20, 1, 0.0),
        (2, 0, 20, 0, None),  # nobody to serve: no need
        (2, 40, None, None, None),  # no target set
    ],
)
def test_staffing_adequacy(
    on_duty: int, visitors: int, target: float | None, required: int | None,
    adequacy: float | None,
) -> None:  # fmt: skip
    assert kpis.required_staff(visitors, target) == required
    assert kpis.staffing_adequacy(on_duty, visitors, target) == pytest.approx(adequacy)


@pytest.mark.parametrize(
    ("congestion", "wait", "adequacy", "score"),
    [
        (0.0, 0.0, 1.0, 0.0),  # empty, no wait, enough staff
        (1.0, 180.0, 0.0, 100.0),  # full, waits at the target, nobody on duty
        (2.0, 900.0, 0.0, 100.0),  # parts are capped at 1
        (0.5, 90.0, 0.5, 50.0),  # every part half way
        (1.0, None, None, 100.0),  # congestion only
        (None, 90.0, None, 50.0),  # queue only
        (0.5, None, 1.0, 100 * 0.4 * 0.5 / 0.65),  # no queue area: reweighted
        (None, None, None, None),
    ],
)
def test_bottleneck_score(
    congestion: float | None, wait: float | None, adequacy: float | None, score: float | None
) -> None:
    assert kpis.bottleneck_score(congestion, wait, adequacy) == pytest.approx(score)


def test_worst_hour_is_the_highest_score_then_the_earliest() -> None:
    hs = [kpis.HourScore(3600.0 * h, z, s) for h, z, s in
          [(9, "a", 20.0), (10, "b", 70.0), (11, "a", 70.0), (12, "b", 10.0)]]  # fmt: skip
    assert kpis.worst_hour(hs) == hs[1]
    assert kpis.worst_hour([]) is None


@pytest.mark.parametrize(
    ("abandoned", "entered", "rate"), [(3, 12, 0.25), (0, 5, 0.0), (0, 0, None)]
)
def test_abandonment(abandoned: int, entered: int, rate: float | None) -> None:
    assert kpis.abandonment(abandoned, entered) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (None, "%", "–"),  # cannot be measured: a dash, never a 0
        (0.1234, "%", "12.3%"),
        (0.0, "%", "0.0%"),
        (-0.05, "+%", "-5.0%"),
        (0.2, "+%", "+20.0%"),
        (1.234, "x", "1.23"),
        (1234.5, "money", "1,234.50"),
        (75.4, "s", "75 s"),
        (12345, "n", "12,345"),
    ],
)
def test_shown(value: float | None, kind: str, text: str) -> None:
    assert kpis.shown(value, kind) == text
