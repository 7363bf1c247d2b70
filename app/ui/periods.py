"""The periods a manager picks (the Analytics page and its heatmap history)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit

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


DATE_FORMAT = "ddd d MMM yyyy"  # "Sun 6 Dec 2026": the system's short format can be "6 12 2026"


def date_edit(day: dt.date, enabled: bool = True) -> QDateEdit:
    """A picker's date field: a calendar popup, the date written with its month's name."""
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_FORMAT)
    edit.setEnabled(enabled)
    return edit


def _date(edit: QDateEdit) -> dt.date:
    d = edit.date()
    return dt.date(d.year(), d.month(), d.day())


def picked_period(kind: QComboBox, day: QDateEdit, last: QDateEdit) -> tuple[dt.date, dt.date]:
    """The period a picker's period kind, day and (Custom) last day mean."""
    return period_of(kind.currentText(), _date(day), _date(last))


def show_period(
    widgets: tuple[QComboBox, QDateEdit, QDateEdit],
    kind: str,
    day: dt.date,
    last: dt.date | None = None,
) -> None:
    """Set a picker's period kind, day and (when given) last day."""
    k, d, e = widgets
    k.setCurrentText(kind)
    d.setDate(QDate(day.year, day.month, day.day))
    if last is not None:
        e.setDate(QDate(last.year, last.month, last.day))
