"""The periods a manager picks (the Analytics page and its heatmap history)."""

from __future__ import annotations

import datetime as dt

PERIODS = ("Day", "Week", "Month", "Custom")


def period_of(kind: str, day: dt.date, last: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period a choice means: the day, its week (Monday to Sunday), its month, or
    day..last."""
    if kind == "Week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if kind == "Month":
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        return first, nxt - dt.timedelta(days=1)
    if kind == "Custom" and last is not None:
        return (day, last) if last >= day else (last, day)
    return day, day
