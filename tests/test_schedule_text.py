"""The staffing schedule as a manager writes it (app/config/schedule_text.py): days,
hours and salespeople read into `[kpis] schedule` shifts, written back as the same rows,
and every wrong row refused with a sentence naming it."""

from __future__ import annotations

import pytest

from app.config import AppConfig
from app.config.schedule_text import (
    ScheduleRow,
    days_text,
    parse_days,
    parse_hour,
    parse_rows,
    rows_of,
    staff_grid,
)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Mon", (0,)),
        ("monday", (0,)),
        ("Mon-Fri", (0, 1, 2, 3, 4)),
        ("mon - fri", (0, 1, 2, 3, 4)),
        ("Mon to Wed", (0, 1, 2)),
        ("Mon, Wed, Fri", (0, 2, 4)),
        ("Fri-Mon", (0, 4, 5, 6)),  # wraps over the weekend
        ("Sat-Sun", (5, 6)),
        ("weekend", (5, 6)),
        ("Weekdays", (0, 1, 2, 3, 4)),
        ("every day", (0, 1, 2, 3, 4, 5, 6)),
        ("Tu, Th", (1, 3)),
    ],
)
def test_days_as_a_manager_writes_them(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("text", "end", "hour"),
    [("9", False, 9), ("09:00", False, 9), ("18h", False, 18), ("0", False, 0),
     ("24:00", True, 24), ("00:00", True, 24), ("18:00", True, 18)],
)  # fmt: skip
def test_hours(text: str, end: bool, hour: int) -> None:
    assert parse_hour(text, end=end) == hour


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (ScheduleRow("Mon-Fir", "9", "18", "2"), "Row 1: “Fir” is not a day"),
        (ScheduleRow("", "9", "18", "2"), "Row 1: say which days"),
        (ScheduleRow("Mon", "18:00", "09:00", "2"), "Row 1: the shift ends (09:00) before it starts (18:00)"),
        (ScheduleRow("Mon", "9:30", "18", "2"), "Row 1: “9:30”: the schedule is per whole hour"),
        (ScheduleRow("Mon", "nine", "18", "2"), "Row 1: “nine” is not an hour"),
        (ScheduleRow("Mon", "9", "25", "2"), "Row 1: “25” is not an hour of the day"),
        (ScheduleRow("Mon", "24", "24", "2"), "Row 1: “24” is not an hour of the day"),
        (ScheduleRow("Mon", "24:00", "24:00", "2"), "Row 1: “24:00” is not an hour of the day for a start (00:00 to 23:00; 24:00 is allowed as an end)"),
        (ScheduleRow("Mon", "9", "25:00", "2"), "Row 1: “25:00” is not an hour of the day (a shift ends at 24:00, midnight, at the latest)"),
        (ScheduleRow("Mon", "9", "18", "two"), "Row 1: “two” is not a number of salespeople"),
        (ScheduleRow("Mon", "9", "18", "-1"), "Row 1: “-1” is not a number of salespeople"),
        (ScheduleRow("Mon", "9", "18", "900"), "Row 1: 900 salespeople at once: at most 500"),
        (ScheduleRow("Mon", "", "18", "2"), "Row 1: give the hours"),
    ],
)  # fmt: skip
def test_a_wrong_row_is_refused_with_a_sentence(row: ScheduleRow, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_rows([row])


def test_the_row_number_counts_blank_rows_too() -> None:
    rows = [ScheduleRow("Mon", "9", "18", "1"), ScheduleRow("", "", "", ""),
            ScheduleRow("Sun", "9", "8", "1")]  # fmt: skip
    with pytest.raises(ValueError, match="^Row 3: "):
        parse_rows(rows)


def test_rows_read_into_shifts_and_back() -> None:
    rows = [
        ScheduleRow("Mon-Fri", "09:00", "18:00", "3"),
        ScheduleRow("Sat", "10:00", "00:00", "2"),  # until midnight
        ScheduleRow("", "", "", ""),  # a blank row is skipped
        ScheduleRow("Mon, Wed", "12:00", "14:00", "1"),  # overlaps Monday's: adds up
    ]
    shifts = parse_rows(rows)
    assert len(shifts) == 5 + 1 + 2
    assert (shifts[5].weekday, shifts[5].start_hour, shifts[5].end_hour) == (5, 10, 24)
    # the config holds them (one per weekday), and they read back as the rows typed
    cfg = AppConfig.model_validate({"kpis": {"schedule": [s.model_dump() for s in shifts]}})
    assert cfg.kpis.scheduled(0, 12) == 4 and cfg.kpis.scheduled(1, 12) == 3
    assert cfg.kpis.scheduled(0, 8) == 0 and cfg.kpis.scheduled(5, 23) == 2
    assert rows_of(cfg.kpis.schedule) == [
        ScheduleRow("Mon-Fri", "09:00", "18:00", "3"),
        ScheduleRow("Sat", "10:00", "24:00", "2"),
        ScheduleRow("Mon, Wed", "12:00", "14:00", "1"),
    ]
    grid = staff_grid(shifts)
    assert grid[0][9:18] == [3, 3, 3, 4, 4, 3, 3, 3, 3] and grid[6] == [0] * 24


@pytest.mark.parametrize(
    ("days", "text"),
    [((0, 1, 2, 3, 4), "Mon-Fri"), ((5, 6), "Sat-Sun"), ((0, 2, 3), "Mon, Wed-Thu"),
     (tuple(range(7)), "Every day"), ((6,), "Sun")],
)  # fmt: skip
def test_days_written_back(days: tuple[int, ...], text: str) -> None:
    assert days_text(days) == text
    assert parse_days(text) == days


def test_a_shift_may_end_at_24_00_as_the_messages_say() -> None:
    (shift,) = parse_rows([ScheduleRow("Mon", "18:00", "24:00", "2")])
    assert (shift.start_hour, shift.end_hour) == (18, 24)
