"""Journeys: per visit, the sequence of zones; the transitions between zones; the funnel
entered the store -> visited the zone -> served there -> bought, per zone.

A visit here is one anonymous visitor id (a person from when the tracker first saw them
until they left); its sequence is its zone visits in the order they started (a zone
visited twice in a row counts once). Served: a service session in that zone linked to
the visitor (the tablet's "serve this person"); bought: such a session with a POS
purchase linked to it (app/sync/linking.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.store.figures import not_staff

ENTRY = "(entrance)"
EXIT = "(left)"
MAX_VISITS = 200_000  # a period's journeys are read up to this many visits


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


def journeys(s: Session, start: float, end: float, entered: int, top: int = 10) -> Journeys:
    """Journeys of the visitors whose zone visits started in [start, end); `entered` is
    the store's entries over the period (the funnel's first step)."""
    conn = s.connection()
    rows = conn.exec_driver_sql(
        "SELECT visitor_id, zone FROM zone_visits WHERE enter_ts >= ? AND enter_ts < ? "
        f"{not_staff(s)} ORDER BY visitor_id, enter_ts LIMIT ?",
        (start, end, MAX_VISITS),
    )
    paths: dict[str, list[str]] = {}
    for vid, zone in rows:
        p = paths.setdefault(str(vid), [])
        if not p or p[-1] != zone:
            p.append(str(zone))
    trans: Counter[tuple[str, str]] = Counter()
    seqs: Counter[tuple[str, ...]] = Counter()
    visited: Counter[str] = Counter()
    for p in paths.values():
        seqs[tuple(p)] += 1
        for z in set(p):
            visited[z] += 1
        steps = [ENTRY, *p, EXIT]
        for a, b in zip(steps, steps[1:], strict=False):
            trans[(a, b)] += 1
    served: Counter[str] = Counter()
    bought: Counter[str] = Counter()
    for zone, n_served, n_bought in conn.exec_driver_sql(
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
    return Journeys(len(paths), seqs.most_common(top), dict(trans), funnel)
