"""The chain's KPIs: pure functions of the figures HQ receives (no database here).

The KPIs themselves are defined once, in app/kpis.py (re-exported here); what is HQ's
own is the day-level reading of utilisation and congestion (HQ's daily table holds
each day's peak occupancy; the stores' hourly congestion and staffing arrive as
`kpi_hours`, app/hq/kpi_hours.py), the 4-weeks-on-4-weeks growth of the ranking, and
a promotion's uplift.

Every function returns None when its denominator is zero or unknown: "no data" is not
"zero". Ratios are not rounded here; the pages and CSV round them for display.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from app.kpis import (
    capture_rate,
    change,
    days_between,
    ratio,
    sales_conversion,
    service_conversion,
    traffic_index,
    weekday_baseline,
)

__all__ = [
    "capture_rate", "change", "congestion", "days_between", "growth_momentum",
    "promotion_uplift", "ratio", "sales_conversion", "service_conversion",
    "traffic_index", "utilisation", "weekday_baseline", "Uplift",
]  # fmt: skip


def utilisation(peak_occupancy: float, capacity: int | None) -> float | None:
    """Utilisation = the period's highest occupancy / the store's capacity (people)."""
    return ratio(peak_occupancy, capacity) if capacity else None


def congestion(
    daily_peaks: Iterable[float], capacity: int | None, level: float = 0.9
) -> float | None:
    """Congestion = share of the period's days whose peak occupancy reached `level`
    (90 %) of the capacity."""
    peaks = list(daily_peaks)
    if not capacity or not peaks:
        return None
    return sum(1 for p in peaks if p >= level * capacity) / len(peaks)


def growth_momentum(recent_4w: float, previous_4w: float) -> float | None:
    """Growth momentum = visitors of the last 4 weeks / visitors of the 4 weeks before - 1."""
    return change(recent_4w, previous_4w)


@dataclass(frozen=True)
class Uplift:
    """A promotion's effect on a daily metric (visitors by default)."""

    actual: float  # promoted stores during the promotion
    expected: float | None  # same stores, same weekdays of the baseline weeks
    control_actual: float  # stores without the promotion, during it
    control_expected: float | None

    @property
    def vs_baseline(self) -> float | None:
        """Uplift vs own baseline = actual / expected - 1."""
        return change(self.actual, self.expected)

    @property
    def control_change(self) -> float | None:
        return change(self.control_actual, self.control_expected)

    @property
    def vs_control(self) -> float | None:
        """Uplift vs stores without it = (1 + own uplift) / (1 + control stores' change) - 1:
        what the promotion added beyond what every store saw (weather, season)."""
        own, ctl = self.vs_baseline, self.control_change
        if own is None or ctl is None or ctl == -1.0:
            return None
        return (1.0 + own) / (1.0 + ctl) - 1.0


def _group_totals(
    series: Mapping[str, Mapping[date, float]],
    stores: Iterable[str],
    period: list[date],
    baseline_days: set[date],
) -> tuple[float, float | None]:
    actual, expected = 0.0, 0.0
    for s in stores:
        daily = series.get(s, {})
        history = {d: v for d, v in daily.items() if d in baseline_days}
        exp = weekday_baseline(history, period)
        if exp is None:
            continue  # a store without baseline weeks is left out of both sums
        actual += sum(daily.get(d, 0.0) for d in period)
        expected += exp
    return actual, (expected or None)


def promotion_uplift(
    series: Mapping[str, Mapping[date, float]],
    promoted: Iterable[str],
    starts_on: date,
    ends_on: date,
    baseline_weeks: int = 4,
) -> Uplift:
    """Uplift of a promotion from daily figures per store (`series[store][day]`).

    Baseline: the `baseline_weeks` weeks just before `starts_on`; each promotion day is
    expected to see its weekday's baseline mean. Control: every store of `series` not
    promoted, measured the same way over the same days."""
    promoted_set = set(promoted)
    period = days_between(starts_on, ends_on)
    base = set(days_between(starts_on - timedelta(weeks=baseline_weeks), starts_on - timedelta(1)))
    a, e = _group_totals(series, sorted(promoted_set), period, base)
    control = sorted(s for s in series if s not in promoted_set)
    ca, ce = _group_totals(series, control, period, base)
    return Uplift(a, e, ca, ce)
