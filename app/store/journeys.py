"""Journeys: per visit, the sequence of zones; the transitions between zones; the funnel
entered the store -> visited the zone -> served there -> bought, per zone.

A visit here is one anonymous visitor id (a person from when the tracker first saw them
until they left); its sequence is its zone visits in the order they started (a zone
visited twice in a row counts once). Served: a service session in that zone linked to
the visitor (the tablet's "serve this person"); bought: such a session with a POS
purchase linked to it (app/sync/linking.py).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.store.figures import not_staff

ENTRY = "(entrance)"
EXIT = "(left)"


@dataclass(frozen=True)
class FunnelRow:
    zone: str
    entered: int  # visitors who came into the store in the period
    visited: int  # visitors who visited the zone
    served: int
    bought: int


@dataclass
class Journeys:
    visits: int = 0  # visitors with at least one zone visit
    top_paths: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    transitions: dict[tuple[str, str], int] = field(default_factory=dict)
    funnel: list[FunnelRow] = field(default_factory=list)


Paths = Counter[tuple[str, ...]]
VisitList = list[tuple[float, str]]  # (enter_ts, zone) of one visitor's visits


def path_of(zones: list[str]) -> tuple[str, ...]:
    """A visitor's zones in the order the visits started, a zone twice in a row once."""
    p: list[str] = []
    for z in zones:
        if not p or p[-1] != z:
            p.append(z)
    return tuple(p)


def _visits(s: Session, start: float, end: float) -> dict[str, VisitList]:
    out: dict[str, VisitList] = {}
    for vid, zone, t in s.connection().exec_driver_sql(
        "SELECT visitor_id, zone, enter_ts FROM zone_visits WHERE enter_ts >= ? AND enter_ts < ? "
        f"{not_staff(s)} ORDER BY visitor_id, enter_ts, zone",
        (start, end),
    ):
        out.setdefault(str(vid), []).append((float(t), str(zone)))
    return out


def day_paths(s: Session, start: float, end: float) -> tuple[Paths, dict[str, VisitList]]:
    """One day's journeys, for the per-day cache (app/store/kpi_cache.py): the paths of
    the visitors whose visits all started that day, and the visits of the visitors
    who also have visits on another day (their path is joined over the period)."""
    visits = _visits(s, start, end)
    elsewhere = {
        str(v)
        for (v,) in s.connection().exec_driver_sql(
            "SELECT DISTINCT z.visitor_id FROM zone_visits z WHERE z.enter_ts >= ? "
            "AND z.enter_ts < ? AND EXISTS (SELECT 1 FROM zone_visits o WHERE "
            "o.visitor_id = z.visitor_id AND (o.enter_ts < ? OR o.enter_ts >= ?))",
            (start, end, start, end),
        )
    }
    paths: Paths = Counter()
    crossing: dict[str, VisitList] = {}
    for vid, vs in visits.items():
        if vid in elsewhere:
            crossing[vid] = vs
        else:
            paths[path_of([z for _, z in vs])] += 1
    return paths, crossing


def joined(paths: Paths, crossing: dict[str, VisitList]) -> Paths:
    """The paths of a period: its days' paths plus the joined paths of the visitors
    seen on several of its days."""
    out = Counter(paths)
    for vs in crossing.values():
        out[path_of([z for _, z in sorted(vs)])] += 1
    return out


def journeys(s: Session, start: float, end: float, entered: int, top: int = 10) -> Journeys:
    """Journeys of the visitors whose zone visits started in [start, end), read at once
    (the reference of the per-day cache's `kpi_cache.journeys`); `entered` is the
    store's entries over the period (the funnel's first step)."""
    paths: Paths = Counter(path_of([z for _, z in vs]) for vs in _visits(s, start, end).values())
    return from_paths(s, start, end, entered, paths, top)


def from_paths(
    s: Session, start: float, end: float, entered: int, seqs: Paths, top: int = 10
) -> Journeys:
    """The journeys of a period from its paths (with how many visitors took each)."""
    trans: Counter[tuple[str, str]] = Counter()
    visited: Counter[str] = Counter()
    for p, n in seqs.items():
        for z in set(p):
            visited[z] += n
        steps = [ENTRY, *p, EXIT]
        for a, b in zip(steps, steps[1:], strict=False):
            trans[(a, b)] += n
    served: Counter[str] = Counter()
    bought: Counter[str] = Counter()
    for zone, n_served, n_bought in s.connection().exec_driver_sql(
        "SELECT s.zone, COUNT(DISTINCT s.visitor_id), COUNT(DISTINCT CASE WHEN EXISTS "
        "(SELECT 1 FROM purchases p WHERE p.session_id = s.id) THEN s.visitor_id END) "
        "FROM service_sessions s WHERE s.started_at >= ? AND s.started_at < ? "
        "AND s.visitor_id != '' GROUP BY s.zone",
        (start, end),
    ):
        served[str(zone)] = int(n_served or 0)
        bought[str(zone)] = int(n_bought or 0)
    zones = sorted(set(visited) | set(served), key=lambda z: (-visited[z], z))
    funnel = [FunnelRow(z, entered, visited[z], served[z], bought[z]) for z in zones]
    top_paths = heapq.nsmallest(top, seqs.items(), key=lambda pn: (-pn[1], pn[0]))
    return Journeys(sum(seqs.values()), top_paths, dict(trans), funnel)
