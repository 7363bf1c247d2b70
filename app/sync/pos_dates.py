"""The dates of a POS file in words: whether its numeric dates are day/month/year or
month/day/year, decided from the whole file (a day over 12 decides; when every day is 12
or less, the store's time zone says which order its country writes), and why a row's date
cannot be read, quoting the row's own text. Pure functions, used by `app.sync.pos`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.sync.pos_values import TIME_FORMATS, parse_time

DMY, MDY = "dmy", "mdy"
ORDER_WORDS = {DMY: "day/month/year", MDY: "month/day/year"}
EXAMPLE = {DMY: "04/12/2026 10:00", MDY: "12/04/2026 10:00", None: "2026-12-04 10:00"}

_NUMERIC = re.compile(
    r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$"
)
# where dates are written month first (US, its territories, the Philippines)
_MONTH_FIRST_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "America/Detroit",
    "America/Boise",
    "America/Juneau",
    "America/Sitka",
    "America/Nome",
    "America/Yakutat",
    "America/Adak",
    "America/Metlakatla",
    "America/Menominee",
    "America/Puerto_Rico",
    "Pacific/Honolulu",
    "Pacific/Guam",
    "Asia/Manila",
]


@dataclass(frozen=True)
class DateOrder:
    """How a file's numeric dates are read: `order` is DMY, MDY, or None when the file
    has none (ISO 8601 or epoch seconds); `how` says why, in a sentence."""

    order: str | None
    how: str

    @property
    def words(self) -> str:
        return ORDER_WORDS.get(self.order or "", "ISO 8601 (year-month-day)")


def zone_order(tz_name: str) -> str:
    """The date order the store's country writes, from its time zone."""
    if tz_name in _MONTH_FIRST_ZONES or tz_name.startswith(("US/", "America/Indiana/")):
        return MDY
    if tz_name.startswith(("America/Kentucky/", "America/North_Dakota/")):
        return MDY
    return DMY


def detect_date_order(dates: Iterable[tuple[int, str]], tz_name: str) -> DateOrder:
    """Day or month first, from every (line, date text) of a file."""
    first: dict[str, tuple[int, str]] = {}
    counts = {DMY: 0, MDY: 0}
    numeric = 0
    for line, text in dates:
        m = _NUMERIC.match(text)
        if m is None:
            continue
        numeric += 1
        a, b = int(m.group(1)), int(m.group(3))
        order = DMY if a > 12 >= b else MDY if b > 12 >= a else None
        if order is not None:
            counts[order] += 1
            first.setdefault(order, (line, text.strip()))
    if not numeric:
        return DateOrder(None, "The dates are read as ISO 8601 (2026-12-04 10:00).")
    if counts[DMY] and counts[MDY]:
        order = DMY if counts[DMY] >= counts[MDY] else MDY
        other = MDY if order == DMY else DMY
        line, text = first[other]
        return DateOrder(
            order,
            f"The dates are read as {ORDER_WORDS[order]} (most rows), but line {line} "
            f"(“{text}”) reads only as {ORDER_WORDS[other]}: the file mixes both.",
        )
    for order in (DMY, MDY):
        if counts[order]:
            line, text = first[order]
            which = "first" if order == DMY else "second"
            return DateOrder(
                order,
                f"The dates are read as {ORDER_WORDS[order]}: line {line} (“{text}”) has "
                f"a day over 12 (its {which} number).",
            )
    order = zone_order(tz_name)
    return DateOrder(
        order,
        f"Every date in the file reads both ways (no day over 12): assumed "
        f"{ORDER_WORDS[order]}, as in the store's time zone ({tz_name}). Choose the date "
        "format if that is wrong.",
    )


def parse_numeric(text: str, tz: ZoneInfo, order: str) -> float:
    """Epoch seconds from '04/12/2026 10:00' (or with '.', '-', seconds, AM/PM) in `order`."""
    m = _NUMERIC.match(text)
    if m is None or m.group(5) is None:
        raise ValueError(text)
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    day, month = (a, b) if order == DMY else (b, a)
    year += 2000 if len(m.group(4)) == 2 else 0
    hour, minute, second = int(m.group(5)), int(m.group(6)), int(m.group(7) or 0)
    ampm = (m.group(8) or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    return datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp()


def format_words(fmt: str) -> str:
    """A chosen strptime format in the words the window shows it with."""
    for label, f in TIME_FORMATS:
        if f == fmt:
            return label
    return "the chosen format"


def sale_time(
    date: str, time_of_day: str | None, tz: ZoneInfo, fmt: str | None, order: DateOrder
) -> float:
    """Epoch seconds of a sale from its date (and time-of-day column, if the file has one);
    raises ValueError whose message says, in words and with the row's text, what is wrong."""
    date = date.strip()
    tod = (time_of_day or "").strip()
    if not date:
        raise ValueError("time of sale is empty")
    if time_of_day is not None and not tod:
        raise ValueError(f"time of sale missing: “{date}” has no time of day (its column is empty)")
    text = f"{date} {tod}" if tod else date
    try:
        if fmt:
            return parse_time(text, tz, fmt)
        if order.order is not None and _NUMERIC.match(text):
            return parse_numeric(text, tz, order.order)
        return parse_time(text, tz, None)
    except (ValueError, OverflowError, OSError):
        pass
    if fmt:
        expected = format_words(fmt)
    elif _NUMERIC.match(text) and order.order is not None:
        expected = f"{ORDER_WORDS[order.order]} with a time, like {EXAMPLE[order.order]}"
    else:
        expected = "a date and a time, like 2026-12-04 10:00 or 04/12/2026 10:00"
    raise ValueError(f"time of sale “{text}” is not a date and time: expected {expected}")
