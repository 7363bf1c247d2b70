"""Days of sale for the tests. Sale times must lie within the last two years
(app/sync/pos_values.MAX_SALE_AGE_DAYS): a fixed date in a test would be refused once it
is that old, so the tests' sales are a month before the day they run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

SALE_DATE = date.today() - timedelta(days=30)
SALE_DAY = SALE_DATE.isoformat()  # YYYY-MM-DD


def sale_ts(hour: int, minute: int = 0, second: int = 0) -> float:
    """The epoch time of `hour:minute:second` UTC on the day of sale."""
    return datetime.combine(SALE_DATE, time(hour, minute, second), UTC).timestamp()


def last_summer_day() -> date:
    """The last 1 July before today (summer time in Europe), within the sale window."""
    today = date.today()
    year = today.year if today > date(today.year, 7, 1) else today.year - 1
    return date(year, 7, 1)
