"""The values of a POS row, from text: the time of a sale (ISO 8601, epoch seconds or a
chosen format; bounded to a window around now) and money amounts written with '.' or ','
as the decimal separator. Pure functions, re-exported by `app.sync.pos`."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

MAX_SALE_AGE_DAYS = 730  # two years back: last year's sales compare with this year's
MAX_SALE_AHEAD_S = 86400.0  # a day ahead: a POS clock or time zone off by hours


def _time_formats() -> tuple[tuple[str, str | None], ...]:
    day = datetime(2026, 12, 4, 10, 0)  # 4 December: a day and month that can be told apart
    named = [
        ("day/month/year", "%d/%m/%Y %H:%M"),
        ("day/month/year", "%d/%m/%Y %H:%M:%S"),
        ("month/day/year", "%m/%d/%Y %H:%M"),
        ("month/day/year", "%m/%d/%Y %H:%M:%S"),
        ("day.month.year", "%d.%m.%Y %H:%M"),
        ("day-month-year", "%d-%m-%Y %H:%M"),
    ]
    auto = "automatic: read from the file (day or month first, ISO 8601, epoch seconds)"
    return ((auto, None),) + tuple(
        (f"{name} ({day.strftime(fmt)})", fmt) for name, fmt in named
    )


TIME_FORMATS = _time_formats()  # (label, `time_format` for parse_time) the window offers


def parse_time(text: str, tz: ZoneInfo, fmt: str | None = None) -> float:
    """Epoch seconds from ISO 8601, epoch seconds, or `fmt`; naive times are in `tz`."""
    s = text.strip()
    if not s:
        raise ValueError("empty time")
    if fmt:
        d = datetime.strptime(s, fmt)
    else:
        try:
            v = float(s)
        except ValueError:
            d = datetime.fromisoformat(s)
        else:
            if not 1e8 < v < 1e11:
                raise ValueError(f"{s!r} is not a date")
            return v
    if d.tzinfo is None:
        d = d.replace(tzinfo=tz)
    return d.timestamp()


_FIRST_DAY, _LAST_DAY = -62135596800.0, 253402300799.0


def sale_time_problem(ts: float, now: float) -> str:
    """Why a sale time is refused, for the person who wrote it ('' when it is fine)."""
    if not math.isfinite(ts):
        return "the time of sale is not a number"
    shown = min(max(ts, _FIRST_DAY), _LAST_DAY)  # what datetime can show (years 1 to 9999)
    when = datetime.fromtimestamp(shown, UTC).isoformat(sep=" ", timespec="minutes")[:16]
    if ts < now - MAX_SALE_AGE_DAYS * 86400.0:
        return (
            f"the time of sale ({when} UTC) is more than {MAX_SALE_AGE_DAYS // 365} years "
            "ago: check the date and its format"
        )
    if ts > now + MAX_SALE_AHEAD_S:
        return f"the time of sale ({when} UTC) is in the future: check the date and its format"
    return ""


_NOT_DIGITS = re.compile(r"[\s\u00a0\u202f$€£¥]")  # spaces (thousands) and currency signs
_NUMBER = re.compile(r"[+-]?(\d[\d.,]*|[.,]\d+)")


def _could_be_thousands(whole: str, frac: str) -> bool:
    """'1,234' and '12.500': one separator then 3 digits, read as a thousands group too."""
    return len(frac) == 3 and re.fullmatch(r"[1-9]\d{0,2}", whole) is not None


def decimal_mark(text: str) -> str | None:
    """The decimal separator ('.' or ',') an amount shows beyond doubt, else None: None
    for '12' (no separator) and for '1,234' (one separator then 3 digits: 1234 or 1.234)."""
    s = _NOT_DIGITS.sub("", text).lstrip("+-")
    seps = [c for c in s if c in ".,"]
    if not seps or not _NUMBER.fullmatch(s):
        return None
    last = seps[-1]
    if len(set(seps)) == 2:
        return last  # 1.234,56 / 1,234.56
    if len(seps) > 1:
        return "." if last == "," else ","  # 1,234,567: a repeated thousands separator
    whole, _, frac = s.partition(last)
    return None if _could_be_thousands(whole, frac) else last


def file_decimal_mark(amounts: Iterable[str]) -> str | None:
    """The decimal separator a file's amounts agree on, if any of them shows it."""
    marks = {decimal_mark(a) for a in amounts} - {None}
    return marks.pop() if len(marks) == 1 else None


def parse_amount(text: str, decimal: str | None = None, what: str = "amount") -> float:
    """A money amount written with '.' or ',' as the decimal separator, with or without
    thousands separators ('1.234,56', '1 234,56', '1,234.56', '12.5'). A value that reads
    two ways ('1,234') needs `decimal`, the separator the rest of the file uses; raises
    ValueError with a message for the person who wrote the file."""
    s = _NOT_DIGITS.sub("", text)
    if not _NUMBER.fullmatch(s):
        raise ValueError(f"{what} {text!r} is not a number")
    sign, s = ("-" if s[0] == "-" else ""), s.lstrip("+-")
    mark = decimal_mark(s) or decimal
    if mark is None and ("," in s or "." in s):
        whole, sep, frac = s.partition("," if "," in s else ".")
        other = "." if sep == "," else ","
        raise ValueError(
            f"{what} {text!r} is ambiguous ({sign}{whole}{frac} or {sign}{whole}.{frac}?): "
            f"write {sign}{whole}{frac} or {sign}{s}{other}00"
        )
    whole, _, frac = s.partition(mark or ".")
    thousands = "," if mark == "." else "."
    if not re.fullmatch(rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+|\d*", whole):
        raise ValueError(f"{what} {text!r} is not a number")
    v = float(sign + (whole.replace(thousands, "") or "0") + "." + (frac or "0"))
    if abs(v) >= 1e9:
        raise ValueError(f"{what} {text!r} is out of range")
    return round(v, 4)
