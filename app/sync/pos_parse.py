"""Reading a POS file's times and money amounts: ISO 8601, epoch seconds or a chosen
day/month order; amounts with '.' or ',' as the decimal mark, with or without
thousands separators, and the decimal mark a whole file agrees on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo


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
    return (("automatic: ISO 8601 (2026-12-04 10:00) or epoch seconds", None),) + tuple(
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
