"""What the Analytics page (and `report kpis`) says when a KPI cannot be computed because
a store setting is missing: which setting, with a link ("kpis.capacity"…) that opens
Settings at its input (app/ui/kpi_settings.py), or the config.toml line to write. No Qt
here: the CLI uses it too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from app.config import AppConfig
from app.drift_check import store_zone

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# a KPI card -> the setting without which it shows "–"
CARD_SETTING = {
    "congestion_peak": "kpis.capacity",
    "utilisation_mean": "kpis.capacity",
    "staffing_adequacy": "kpis.visitors_per_salesperson",
    "abandonment": "kpis.queue_service",
}


TOML = {
    "kpis.capacity": "capacity = <people the store holds>",
    "kpis.visitors_per_salesperson": "visitors_per_salesperson = <visitors an hour>",
    "kpis.schedule": "schedule = [{ weekday = 0, start_hour = 9, end_hour = 18, staff = 2 }, …]",
    "kpis.queue_service": 'queue_service = { "<queue area>" = "<the zone it serves>" }',
}


@dataclass(frozen=True)
class Hint:
    key: str  # the setting, also the link's target
    text: str
    action: str  # the link's words

    def toml(self) -> str:
        """The line of config.toml's [kpis] that sets it, for a store without a window."""
        return TOML[self.key]

    def html(self) -> str:
        return f'{escape(self.text, quote=False)}: <a href="{self.key}">{escape(self.action, quote=False)}</a>.'


def missing_settings(cfg: AppConfig, period: Any | None = None) -> list[Hint]:
    """The settings the KPIs miss, in the order of the cards. With the `period`'s figures
    (app.store.kpi_queries.PeriodKpis) also: nobody on duty at all while no schedule is
    set, and the queue areas whose service zone is not set."""
    k = cfg.kpis
    out: list[Hint] = []
    if k.capacity is None:
        out.append(Hint("kpis.capacity", "Congestion and utilisation need the store's "
                        "capacity", "set it in Settings"))  # fmt: skip
    if k.visitors_per_salesperson is None:
        out.append(Hint("kpis.visitors_per_salesperson", "Staffing adequacy needs how many "
                        "visitors one salesperson looks after", "set it in Settings"))  # fmt: skip
    elif (
        not k.schedule
        and period is not None
        and period.visitors
        and not any(h.on_duty for h in period.hours)
    ):
        out.append(Hint("kpis.schedule", "Nobody was on duty on the tablets in this period, "
                        "so staffing adequacy is 0", "enter the staffing schedule"))  # fmt: skip
    elif k.schedule and period is not None:
        gap = schedule_gap(period.hours, store_zone(cfg))
        if gap is not None:
            days, visitors = gap
            out.append(Hint("kpis.schedule", f"The staffing schedule has nobody on duty at "
                            f"hours when {visitors} visitor{'s' if visitors != 1 else ''} "
                            f"came ({days}), so staffing adequacy is 0 then",
                            "complete the schedule"))  # fmt: skip
    queues = {z.name for z in cfg.zones if z.kind == "queue"}
    unserved = sorted(q for q in queues if not k.queue_service.get(q))
    if unserved:
        names = ", ".join(f"“{q}”" for q in unserved)
        out.append(Hint("kpis.queue_service", f"Queue abandonment needs the zone {names} "
                        f"{'serves' if len(unserved) == 1 else 'serve'}", "choose it in Settings"))  # fmt: skip
    return out


def schedule_gap(hours: list[Any], zone: tzinfo) -> tuple[str, int] | None:
    """The weekdays ("Sat, Sun") of the hours when visitors came and the schedule put
    nobody on duty, and those hours' visitors; None when there is no such hour."""
    days: set[int] = set()
    visitors = 0
    for h in hours:
        if h.visitors and h.on_duty == 0:
            days.add(datetime.fromtimestamp(h.hour_start, zone).weekday())
            visitors += h.visitors
    if not days:
        return None
    return ", ".join(WEEKDAYS[d] for d in sorted(days)), visitors


def card_link(attr: str, hints: list[Hint]) -> str:
    """The link a card shows under its "–" when its setting is missing, else ""."""
    keys = [CARD_SETTING.get(attr)]
    if attr == "staffing_adequacy":
        keys.append("kpis.schedule")  # no schedule and nobody on the tablets: a 0
    key = next((h.key for h in hints if h.key in keys), None)
    if key is None:
        return ""
    what = {"kpis.capacity": "Set the capacity", "kpis.queue_service": "Set the served zone",
            "kpis.visitors_per_salesperson": "Set the staffing target",
            "kpis.schedule": "Enter the schedule"}[key]  # fmt: skip
    return f'<a href="{key}">{what}…</a>'
