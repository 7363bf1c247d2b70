"""The staffing schedule as a manager writes it: rows of days, hours and salespeople
("Mon-Fri", "09:00", "18:00", "3"), read into the `StaffShift`s of `[kpis] schedule`
(one per weekday) and written back as the same rows.

Days: a day (Mon, monday, Tue…), a range (Mon-Fri, Fri-Sun; "to" works too), several
separated by commas (Mon, Wed, Fri), or "every day", "weekdays", "weekend". Hours: 9,
09, 9:00, 09:00, 9h; the schedule is per whole hour; the end may be 24:00 (or 00:00,
midnight). Rows that overlap add up (two rows of 1 salesperson = 2 on duty then).
Every problem is one line naming the row: "Row 2: “Mon-Fir” is not a day (…)".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.config.kpis import StaffShift

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_GROUPS = {
    "every day": tuple(range(7)),
    "everyday": tuple(range(7)),
    "daily": tuple(range(7)),
    "all": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekend": (5, 6),
}
_HOUR = re.compile(r"^(\d{1,2})(?:(?::|h)(\d{2})?)?$")
MAX_STAFF = 500
DAYS_HELP = "write Mon, Tue… Sun, a range like Mon-Fri, or “every day”"


@dataclass(frozen=True)
class ScheduleRow:
    """One row as written: the days, the first hour, the end hour, the salespeople."""

    days: str
    start: str
    end: str
    staff: str


def _day(word: str) -> int | None:
    w = word.strip().lower().rstrip(".")
    if len(w) < 2:
        return None
    for i, full in enumerate(_FULL):
        if full.startswith(w) and (len(w) >= 3 or w in ("mo", "tu", "we", "th", "fr", "sa", "su")):
            return i
    return None


def parse_days(text: str) -> tuple[int, ...]:
    """The weekdays (0 = Monday) `text` names, in week order; ValueError (a sentence)."""
    t = " ".join(text.split())
    if not t:
        raise ValueError(f"say which days ({DAYS_HELP})")
    if t.lower() in _GROUPS:
        return _GROUPS[t.lower()]
    found: list[int] = []
    for part in re.split(r"[,;/&+]| and ", t, flags=re.IGNORECASE):
        part = part.strip()
        if not part:
            continue
        if part.lower() in _GROUPS:
            found.extend(_GROUPS[part.lower()])
            continue
        ends = re.split(r"\s*(?:-|–|\bto\b)\s*", part, flags=re.IGNORECASE)
        if len(ends) > 2:
            raise ValueError(f"“{part}” is not a day or a range of days ({DAYS_HELP})")
        idx = [_day(e) for e in ends]
        bad = next((e for e, i in zip(ends, idx, strict=True) if i is None), None)
        if bad is not None:
            raise ValueError(f"“{bad.strip() or part}” is not a day ({DAYS_HELP})")
        a, b = idx[0], idx[-1]
        assert a is not None and b is not None
        found.extend((a + k) % 7 for k in range((b - a) % 7 + 1))  # Fri-Mon wraps
    if not found:
        raise ValueError(f"say which days ({DAYS_HELP})")
    return tuple(sorted(set(found)))


def parse_hour(text: str, *, end: bool = False) -> int:
    """A whole local hour, 0-23 (an end: 1-24, 00:00 being midnight = 24)."""
    t = text.strip().lower()
    m = _HOUR.match(t)
    if m is None:
        raise ValueError(f"“{text.strip()}” is not an hour (write 9, 09:00 or 18:00)")
    hour, minutes = int(m.group(1)), m.group(2)
    if minutes not in (None, "00"):
        raise ValueError(
            f"“{text.strip()}”: the schedule is per whole hour (write {hour:02d}:00 or "
            f"{(hour + 1) % 24:02d}:00)"
        )
    if end and hour == 0:
        hour = 24
    if end and hour > 24:
        raise ValueError(
            f"“{text.strip()}” is not an hour of the day (a shift ends at 24:00, midnight, "
            "at the latest)"
        )
    if not end and hour > 23:
        raise ValueError(
            f"“{text.strip()}” is not an hour of the day for a start (00:00 to 23:00; "
            "24:00 is allowed as an end)"
        )
    return hour


def parse_row(row: ScheduleRow) -> list[StaffShift]:
    """The row's shifts (one per weekday); ValueError (a sentence, without the row number)."""
    days = parse_days(row.days)
    if not row.start.strip() or not row.end.strip():
        raise ValueError("give the hours the salespeople are on duty (from 09:00 to 18:00)")
    start = parse_hour(row.start)
    stop = parse_hour(row.end, end=True)
    if stop <= start:
        raise ValueError(
            f"the shift ends ({row.end.strip()}) before it starts ({row.start.strip()}); "
            "a shift past midnight is two rows"
        )
    s = row.staff.strip()
    if not s.isdigit():
        raise ValueError(f"“{s}” is not a number of salespeople (a whole number, 0 or more)")
    staff = int(s)
    if staff > MAX_STAFF:
        raise ValueError(f"{staff} salespeople at once: at most {MAX_STAFF}")
    return [StaffShift(weekday=d, start_hour=start, end_hour=stop, staff=staff) for d in days]


def is_blank(row: ScheduleRow) -> bool:
    return not any(x.strip() for x in (row.days, row.start, row.end, row.staff))


def parse_rows(rows: Sequence[ScheduleRow]) -> list[StaffShift]:
    """Every row's shifts, in order (blank rows are skipped); ValueError "Row n: …"."""
    out: list[StaffShift] = []
    for n, row in enumerate(rows, 1):
        if is_blank(row):
            continue
        try:
            out.extend(parse_row(row))
        except ValueError as exc:
            raise ValueError(f"Row {n}: {exc}") from None
    return out


def days_text(days: Sequence[int]) -> str:
    """Weekdays as a manager writes them: "Mon-Fri", "Sat, Sun" -> "Sat-Sun", "Mon, Wed"."""
    ds = sorted(set(days))
    if ds == list(range(7)):
        return "Every day"
    runs: list[list[int]] = []
    for d in ds:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def rows_of(shifts: Sequence[StaffShift]) -> list[ScheduleRow]:
    """The rows that read back into `shifts`: consecutive shifts with the same hours and
    salespeople (on different days) make one row, as `parse_rows` wrote them."""
    groups: list[tuple[tuple[int, int, int], list[int]]] = []
    for s in shifts:
        key = (s.start_hour, s.end_hour, s.staff)
        if groups and groups[-1][0] == key and s.weekday not in groups[-1][1]:
            groups[-1][1].append(s.weekday)
        else:
            groups.append((key, [s.weekday]))
    return [
        ScheduleRow(days_text(ds), f"{a:02d}:00", f"{b:02d}:00", str(n)) for (a, b, n), ds in groups
    ]


def staff_grid(shifts: Sequence[StaffShift]) -> list[list[int]]:
    """Salespeople on duty per weekday (rows, Monday first) and hour (24 columns)."""
    grid = [[0] * 24 for _ in range(7)]
    for s in shifts:
        for h in range(s.start_hour, s.end_hour):
            grid[s.weekday][h] += s.staff
    return grid
