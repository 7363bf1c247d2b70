"""The chain's KPIs: pure functions of the figures HQ receives (no database here).

Every function returns None when its denominator is zero or unknown: "no data" is not
"zero". Ratios are not rounded here; the pages and CSV round them for display.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta


def ratio(num: float, den: float | None) -> float | None:
    """num / den, None when den is 0 or None."""
    return num / den if den else None


def traffic_index(visitors: float, expected: float | None) -> float | None:
    """Traffic index = visitors / expected visitors, where expected is the sum, over the
    period's days, of the mean visitors of the same weekday during the weeks before
    the period (see weekday_baseline). 1.0 = a usual period, 1.2 = 20 % busier."""
    return ratio(visitors, expected)


def capture_rate(entered: float, passed_by: float) -> float | None:
    """Capture rate = entered / (entered + passed by): the share of people passing the
    shop front who came in."""
    return ratio(entered, entered + passed_by)


def sales_conversion(transactions: float, visitors: float) -> float | None:
    """Sales conversion = POS transactions / visitors counted at the entrance."""
    return ratio(transactions, visitors)


def service_conversion(converted_sessions: float, sessions: float) -> float | None:
    """Service conversion = served sessions that led to a sale / served sessions."""
    return ratio(converted_sessions, sessions)


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


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change = current / previous - 1 (None without a previous value)."""
    if current is None or not previous:
        return None
    return current / previous - 1.0


def growth_momentum(recent_4w: float, previous_4w: float) -> float | None:
    """Growth momentum = visitors of the last 4 weeks / visitors of the 4 weeks before - 1."""
    return change(recent_4w, previous_4w)


def weekday_baseline(history: Mapping[date, float], days: Iterable[date]) -> float | None:
    """Expected total for `days`: for each day, the mean of `history` on the same weekday
    (history holds the weeks before the period). None if a weekday has no history."""
    by_dow: dict[int, list[float]] = {}
    for d, v in history.items():
        by_dow.setdefault(d.weekday(), []).append(v)
    total = 0.0
    for d in days:
        vals = by_dow.get(d.weekday())
        if not vals:
            return None
        total += sum(vals) / len(vals)
    return total


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


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
