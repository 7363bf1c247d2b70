"""The retail KPIs, defined once: pure functions of plain figures (no database, no Qt).

The store (`app.store.kpi_queries`: the desktop, `python main.py report kpis`, the
weekly report, the aggregates synced to HQ) and HQ (`app.hq.kpis`, its pages) compute
every KPI through these functions, so that a figure means the same everywhere.

Every function returns None when its denominator is zero or unknown: "no data" is not
"zero". Ratios are not rounded here; what shows them rounds them.

| KPI                | formula                                                              |
|--------------------|----------------------------------------------------------------------|
| traffic index      | visitors / sum over the period's days of the same weekday's mean     |
|                    | visitors during the 4-8 weeks before the period                      |
| capture rate       | entered / (entered + passed by)                                      |
| sales conversion   | POS transactions / visitors                                          |
| average basket     | revenue / POS transactions                                           |
| sales per visitor  | revenue / visitors                                                   |
| congestion         | people in the store (the hour's peak) / the store's capacity         |
| utilisation        | entries in the hour / the store's capacity                           |
| growth momentum    | least-squares slope of daily visitors over the last 28 days, x 7,    |
|                    | / the mean daily visitors: % per week                                |
| staffing adequacy  | salespeople on duty / required staff, required = ceil(visitors /     |
|                    | visitors-per-salesperson target)                                     |
| bottleneck score   | 0-100, weighted mean of congestion, queue wait and staff shortfall   |
|                    | (see `bottleneck_score`), per zone and hour; the worst hour is the   |
|                    | highest score                                                        |
| abandonment        | people who left a queue area without reaching its service zone /     |
|                    | people who entered the queue area                                    |
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# the weights of the bottleneck score's parts (they sum to 1); a part that cannot be
# measured (no capacity, no queue area, nobody to staff) is left out and the others
# are scaled up to sum to 1
BOTTLENECK_WEIGHTS: Mapping[str, float] = {"congestion": 0.4, "queue": 0.35, "staffing": 0.25}
DEFAULT_WAIT_TARGET_S = 180.0
MOMENTUM_DAYS = 28
MOMENTUM_MIN_DAYS = 14  # fewer days with data than this: no trend


def ratio(num: float, den: float | None) -> float | None:
    """num / den, None when den is 0 or None."""
    return num / den if den else None


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change = current / previous - 1 (None without a previous value)."""
    if current is None or not previous:
        return None
    return current / previous - 1.0


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


def traffic_index(visitors: float, expected: float | None) -> float | None:
    """Traffic index = visitors / expected visitors, where expected is the sum, over the
    period's days, of the mean visitors of the same weekday during the weeks before the
    period (`weekday_baseline`). 1.0 = a usual period, 1.2 = 20 % busier."""
    return ratio(visitors, expected)


def capture_rate(entered: float, passed_by: float) -> float | None:
    """Capture rate = entered / (entered + passed by): the share of the people passing
    the shop front who came in (a conversion proxy; needs an entrance)."""
    return ratio(entered, entered + passed_by)


def sales_conversion(transactions: float, visitors: float) -> float | None:
    """Sales conversion = POS transactions / visitors counted at the entrance."""
    return ratio(transactions, visitors)


def average_basket(revenue: float, transactions: float) -> float | None:
    """Average basket = revenue / POS transactions."""
    return ratio(revenue, transactions)


def sales_per_visitor(revenue: float, visitors: float) -> float | None:
    """Sales per visitor = revenue / visitors."""
    return ratio(revenue, visitors)


def service_conversion(converted_sessions: float, sessions: float) -> float | None:
    """Service conversion = services that led to a sale / services."""
    return ratio(converted_sessions, sessions)


def congestion(people: float, capacity: float | None) -> float | None:
    """Congestion = people in the store (the hour's peak) / the store's capacity.
    1.0 = full; above 1 = over capacity."""
    return ratio(people, capacity) if capacity else None


def utilisation(entries: float, capacity: float | None) -> float | None:
    """Utilisation = entries in the hour / the store's capacity: how many times over the
    store's room was used by new visitors in that hour."""
    return ratio(entries, capacity) if capacity else None


def growth_momentum(daily: Mapping[date, float], last_day: date) -> float | None:
    """Growth momentum = the least-squares slope of daily visitors over the 28 days up to
    `last_day` (visitors per day), x 7, / the mean daily visitors of those days: the
    trend in % of a usual day per week (0.05 = +5 % a week). Days missing from `daily`
    are days without data (left out, not zeros); fewer than 14 days: None."""
    first = last_day - timedelta(days=MOMENTUM_DAYS - 1)
    pts = [((d - first).days, float(v)) for d, v in daily.items() if first <= d <= last_day]
    if len(pts) < MOMENTUM_MIN_DAYS:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if not sxx or not my:
        return None
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx
    return slope * 7 / my


def required_staff(visitors: float, visitors_per_salesperson: float | None) -> int | None:
    """Required staff = ceil(visitors / the visitors-per-salesperson target); None
    without a target."""
    if not visitors_per_salesperson:
        return None
    return math.ceil(visitors / visitors_per_salesperson - 1e-9)


def staffing_adequacy(
    on_duty: float, visitors: float, visitors_per_salesperson: float | None
) -> float | None:
    """Staffing adequacy = salespeople on duty / required staff, required =
    ceil(visitors / visitors-per-salesperson target). 1.0 = as many as needed, 0.5 =
    half; None when nobody was required (no visitors) or there is no target."""
    req = required_staff(visitors, visitors_per_salesperson)
    return ratio(on_duty, req) if req else None


def abandonment(abandoned: float, entered_queue: float) -> float | None:
    """Abandonment = people who left a queue area without reaching its service zone /
    people who entered the queue area."""
    return ratio(abandoned, entered_queue)


def bottleneck_score(
    congestion_: float | None,
    queue_wait_s: float | None,
    adequacy: float | None,
    wait_target_s: float = DEFAULT_WAIT_TARGET_S,
) -> float | None:
    """Bottleneck score, 0 (flowing) to 100 (stuck), of one zone (or the store) in one
    hour: a weighted mean of three parts, each 0..1:

    - congestion part = min(congestion, 1)                       (weight 0.40)
    - queue part      = min(mean queue wait / wait target, 1)    (weight 0.35)
    - staffing part   = 1 - min(staffing adequacy, 1)            (weight 0.25)

    A part that is None (no capacity, no queue area, no staffing need) is left out and
    the weights of the others are scaled to sum to 1. All None: None."""
    parts: dict[str, float] = {}
    if congestion_ is not None:
        parts["congestion"] = min(max(congestion_, 0.0), 1.0)
    if queue_wait_s is not None and wait_target_s > 0:
        parts["queue"] = min(max(queue_wait_s, 0.0) / wait_target_s, 1.0)
    if adequacy is not None:
        parts["staffing"] = 1.0 - min(max(adequacy, 0.0), 1.0)
    if not parts:
        return None
    weight = sum(BOTTLENECK_WEIGHTS[k] for k in parts)
    return 100.0 * sum(BOTTLENECK_WEIGHTS[k] * v for k, v in parts.items()) / weight


@dataclass(frozen=True)
class HourScore:
    """A bottleneck score of one zone (or "" for the whole store) in one hour."""

    hour_start: float  # epoch seconds
    zone: str
    score: float


def worst_hour(scores: Sequence[HourScore]) -> HourScore | None:
    """The highest bottleneck score (the earliest hour, then the zone name, on a tie)."""
    if not scores:
        return None
    return min(scores, key=lambda h: (-round(h.score, 9), h.hour_start, h.zone))


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None (None if there are none)."""
    vs = [v for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


NO_VALUE = "–"  # a KPI that cannot be measured (no data, a setting missing): never a 0


def shown(value: float | int | None, kind: str) -> str:
    """A KPI's value for a person, one rule for the desktop, the CLI and the weekly
    report. `kind`: "%" (a ratio, 0.123 -> 12.3%), "+%" (a change, +12.3%), "x" (an
    index, 1.23), "money" (1,234.50), "s" (seconds, 12 s), else a count (1,234)."""
    if value is None:
        return NO_VALUE
    if kind == "%":
        return f"{value:.1%}"
    if kind == "+%":
        return f"{value:+.1%}"
    if kind == "x":
        return f"{value:.2f}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "s":
        return f"{value:.0f} s"
    return f"{value:,}"
