"""Repeat vs new visitors at HQ, from the daily counts that stores with opt-in
recognition send (`visit_days`; the store counts them, app/store/faces.py): per local
day and per store over a period, with the day's staff-excluded footfall (`store_days`)
beside them. Counts only: HQ holds no template, id or name, so nobody can be looked up.

A store in anonymous mode sends no `visit_day` rows: it does not appear here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from sqlalchemy import Engine, text

from app.hq import html

esc = html.esc

SQL = text(
    """
SELECT v.store_id, v.day, v.new_visitors, v.returning_visitors, v.staff_excluded,
       COALESCE(d.footfall, 0) AS footfall
FROM visit_days v
LEFT JOIN store_days d ON d.store_id = v.store_id AND d.day = v.day
WHERE v.store_id = ANY(:ids) AND v.day BETWEEN :a AND :b
ORDER BY v.day, v.store_id
"""
)


@dataclass(frozen=True)
class VisitCounts:
    new: int = 0
    returning: int = 0
    staff: int = 0  # recognised as staff, left out of the counts
    footfall: int = 0  # the day's entries (staff already left out)

    def __add__(self, o: VisitCounts) -> VisitCounts:
        return VisitCounts(self.new + o.new, self.returning + o.returning,
                           self.staff + o.staff, self.footfall + o.footfall)  # fmt: skip

    @property
    def recognised(self) -> int:
        return self.new + self.returning

    @property
    def returning_share(self) -> float | None:
        """Returning visitors among the recognised ones (None: nobody recognised)."""
        return self.returning / self.recognised if self.recognised else None


@dataclass(frozen=True)
class VisitDays:
    by_day: dict[date, VisitCounts]  # summed over the stores
    by_store: dict[str, VisitCounts]  # summed over the days

    @property
    def chain(self) -> VisitCounts:
        return sum(self.by_store.values(), VisitCounts())


def load(engine: Engine, ids: Sequence[str], a: date, b: date) -> VisitDays:
    by_day: dict[date, VisitCounts] = {}
    by_store: dict[str, VisitCounts] = {}
    with engine.connect() as conn:
        rows = conn.execute(SQL, {"ids": list(ids), "a": a, "b": b}).all()
    for r in rows:
        c = VisitCounts(int(r.new_visitors), int(r.returning_visitors), int(r.staff_excluded),
                        int(r.footfall))  # fmt: skip
        by_day[r.day] = by_day.get(r.day, VisitCounts()) + c
        by_store[r.store_id] = by_store.get(r.store_id, VisitCounts()) + c
    return VisitDays(by_day, by_store)


OPEN_DAYS = 14  # a longer period's days are folded under the period's total
HEADS = ["New", "Returning", "Returning share", "", "Staff left out", "Footfall"]


def _cells(c: VisitCounts) -> list[str]:
    share = c.returning_share
    # a bar of SVG attributes: the dashboard's CSP allows no inline style
    bar = (
        "" if share is None else
        f'<svg class=mixbar width="80" height="10" role=img aria-label="returning '
        f'{html.pct(share)}"><rect width="80" height="10" fill="#cfe0fb"/>'
        f'<rect width="{round(80 * share)}" height="10" fill="#2563eb"/></svg>'
    )  # fmt: skip
    return [html.num(c.new), html.num(c.returning), html.pct(share), bar, html.num(c.staff),
            html.num(c.footfall)]  # fmt: skip


def day_table(v: VisitDays) -> str:
    """One store's (or the selection's) days: new vs returning, staff left out."""
    if not v.by_day:
        return (
            "<p class=muted>No repeat-visitor counts for this period (the store counts "
            "anonymously, or has not sent them yet).</p>"
        )
    rows = [[esc(d.isoformat()), *_cells(c)] for d, c in sorted(v.by_day.items())]
    total = html.table(["", *HEADS], [["<b>Period</b>", *_cells(v.chain)]], "visits total")
    days = html.table(["Day", *HEADS], rows, "visits days")
    opened = " open" if len(rows) <= OPEN_DAYS else ""
    return f"{total}<details{opened}><summary>Per day ({len(rows)})</summary>{days}</details>"


def store_table(v: VisitDays, names: Iterable[tuple[str, str]]) -> str:
    """Per store over the period, and the chain (the stores that send counts)."""
    if not v.by_store:
        return "<p class=muted>No store with repeat-visitor counts in this period.</p>"
    rows = [
        [f'<a href="/hq/stores/{quote(sid)}">{esc(name)}</a>', *_cells(v.by_store[sid])]
        for sid, name in names
        if sid in v.by_store
    ]
    rows.append(["<b>Chain</b>", *_cells(v.chain)])
    return html.table(["Store", *HEADS], rows, "visits")


def section(body: str) -> str:
    return (
        "<h2>Repeat vs new visitors</h2><p class=muted>From stores that opted in to "
        "recognition: counts only (no face data leaves a store).</p>" + body
    )
