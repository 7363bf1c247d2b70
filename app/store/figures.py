"""One definition per figure: what each count on the dashboard, in Reports, in the CLI
and in the weekly report counts, said once (`FIGURES`: a label and the tooltip that
explains it) and read by one query each.

"Visits" used to show three numbers for the same day (zone entries, finished visits
bucketed by their exit, and visit rows by their start): there are two figures, with two
names, and every screen uses these functions:

- zone entries: people who stepped into a zone, counted when they stepped in (a return
  within the revisit window continues the same visit and is not counted again);
- finished visits: zone visits that ended, counted when the person left the zone (a
  visit paused within its revisit window counts as ended until the person comes back);
  the mean dwell time is the mean over them.

Zone entries come from the zone rollups (15-minute buckets); finished visits from the
visit rows through their exit-time index (revision 0007), which carries zone and dwell.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Figure:
    label: str
    tooltip: str


FIGURES: dict[str, Figure] = {
    "entries": Figure(
        "Entries",
        "People who came into the store: crossed an entrance's outer line and reached the "
        "zone inside the door (without entrances: the door lines' in-crossings).",
    ),
    "passersby": Figure("Passers-by", "People who walked past an entrance without coming in."),
    "capture_rate": Figure(
        "Capture rate",
        "Entries / (entries + passers-by): the share of people at the door who came in.",
    ),
    "zone_entries": Figure(
        "Zone entries",
        "People who stepped into the zone, counted when they stepped in (coming back "
        "within the revisit window is the same visit).",
    ),
    "finished_visits": Figure(
        "Finished visits",
        "Zone visits that ended in the period, counted when the person left the zone; "
        "the mean dwell time is over these visits.",
    ),
    "mean_dwell": Figure(
        "Mean dwell", "Mean time spent in a zone, over the finished visits of the period."
    ),
}


def tooltip(name: str) -> str:
    f = FIGURES.get(name)
    return f.tooltip if f else ""


@dataclass(frozen=True)
class ZoneFigures:
    zone: str
    zone_entries: int
    finished_visits: int
    dwell_sum_s: float
    dwell_max_s: float
    occupancy_peak: int

    @property
    def mean_dwell_s(self) -> float:
        return self.dwell_sum_s / self.finished_visits if self.finished_visits else 0.0


def not_staff(s: Session) -> str:
    """The condition leaving out the visits of people tagged staff after the fact
    (`visitors.is_staff`), as the pipeline leaves out the tracks it tags at once; ""
    while nobody is tagged (the partial index of revision 0010 answers at once)."""
    tagged = s.connection().exec_driver_sql(
        "SELECT 1 FROM visitors WHERE is_staff = 1 LIMIT 1"
    ).first()
    return "AND visitor_id NOT IN (SELECT id FROM visitors WHERE is_staff = 1)" if tagged else ""


def zone_figures(s: Session, start: float, end: float) -> dict[str, ZoneFigures]:
    """Zone entries and finished visits (with their dwell) per zone in [start, end)."""
    conn = s.connection()
    entries = {
        str(z): (int(e or 0), int(p or 0))
        for z, e, p in conn.exec_driver_sql(
            "SELECT name, SUM(entries), MAX(occupancy_peak) FROM rollups WHERE scope = 'zone' "
            "AND bucket_start >= ? AND bucket_start < ? GROUP BY name",
            (start, end),
        )
    }
    visits = {
        str(z): (int(n or 0), float(d or 0.0), float(m or 0.0))
        for z, n, d, m in conn.exec_driver_sql(
            "SELECT zone, COUNT(*), SUM(dwell_s), MAX(dwell_s) FROM zone_visits "
            f"WHERE exit_ts >= ? AND exit_ts < ? AND dwell_s IS NOT NULL {not_staff(s)} "
            "GROUP BY zone",
            (start, end),
        )
    }
    out = {}
    for z in sorted(set(entries) | set(visits)):
        e, peak = entries.get(z, (0, 0))
        n, total, mx = visits.get(z, (0, 0.0, 0.0))
        out[z] = ZoneFigures(z, e, n, total, mx, peak)
    return out


def finished_visit_dwells(s: Session, start: float, end: float) -> list[tuple[str, float]]:
    """(zone, dwell seconds) of the visits that ended in [start, end): the dwell
    histogram's rows (the same visits `zone_figures` counts as finished)."""
    rows = s.connection().exec_driver_sql(
        "SELECT zone, dwell_s FROM zone_visits WHERE exit_ts >= ? AND exit_ts < ? "
        f"AND dwell_s IS NOT NULL {not_staff(s)}",
        (start, end),
    )
    return [(str(z), float(d)) for z, d in rows]
