"""Promotions and events recorded at HQ, and a promotion's uplift.

A promotion or event covers days (starts_on..ends_on, inclusive) and stores: the listed
store ids plus every store of the listed regions. The uplift compares the promoted
stores' visitors with their own baseline (same weekdays of the 4 weeks before) and with
the stores without the promotion over the same days (kpis.promotion_uplift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from app.hq import kpis
from app.hq.dash_models import PROMOTIONS
from app.hq.dash_queries import StoreInfo, store_series

BASELINE_WEEKS = 4


class PromotionError(ValueError):
    """A promotion HQ refuses; one line for a person."""


@dataclass(frozen=True)
class Promotion:
    id: int
    kind: str
    title: str
    description: str
    starts_on: date
    ends_on: date
    store_ids: tuple[str, ...]
    regions: tuple[str, ...]
    created_by: str

    def covers(self, store: StoreInfo) -> bool:
        return store.store_id in self.store_ids or (
            bool(store.region) and store.region in self.regions
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "store_ids": list(self.store_ids),
            "regions": list(self.regions),
            "created_by": self.created_by,
        }


def _split(text: str) -> tuple[str, ...]:
    return tuple(sorted({p.strip() for p in text.replace("\n", ",").split(",") if p.strip()}))


def create(
    engine: Engine, *, kind: str, title: str, description: str, starts_on: str, ends_on: str,
    store_ids: str, regions: str, created_by: str, known_stores: Sequence[str],
) -> Promotion:  # fmt: skip
    """Validate form/API fields and store the promotion."""
    if kind not in ("promotion", "event"):
        raise PromotionError("kind is 'promotion' or 'event'")
    if not title.strip():
        raise PromotionError("give the promotion a title")
    try:
        a, b = date.fromisoformat(starts_on.strip()), date.fromisoformat(ends_on.strip())
    except ValueError:
        raise PromotionError("dates are YYYY-MM-DD") from None
    if b < a:
        raise PromotionError("the promotion ends before it starts")
    if (b - a).days > 366:
        raise PromotionError("a promotion lasts at most a year")
    sids, regs = _split(store_ids), _split(regions)
    unknown = sorted(set(sids) - set(known_stores))
    if unknown:
        raise PromotionError(f"unknown store(s): {', '.join(unknown[:5])}")
    if not sids and not regs:
        raise PromotionError("name at least one store or region")
    values = {
        "kind": kind, "title": title.strip()[:120], "description": description.strip()[:2000],
        "starts_on": a, "ends_on": b, "store_ids": list(sids), "regions": list(regs),
        "created_by": created_by,
    }  # fmt: skip
    try:
        with engine.begin() as conn:
            pid = conn.execute(
                PROMOTIONS.insert().values(**values).returning(PROMOTIONS.c.id)
            ).scalar_one()
    except IntegrityError:
        raise PromotionError("HQ refused this promotion") from None
    return Promotion(pid, kind, title.strip()[:120], description.strip()[:2000], a, b, sids,
                     regs, created_by)  # fmt: skip


def list_all(
    engine: Engine, a: date | None = None, b: date | None = None, pid: int | None = None
) -> list[Promotion]:
    """Every promotion, those overlapping a..b, or the one with id pid; newest first."""
    q = select(PROMOTIONS).order_by(PROMOTIONS.c.starts_on.desc(), PROMOTIONS.c.id.desc())
    if a is not None and b is not None:
        q = q.where(PROMOTIONS.c.starts_on <= b, PROMOTIONS.c.ends_on >= a)
    if pid is not None:
        q = q.where(PROMOTIONS.c.id == pid)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        Promotion(r.id, r.kind, r.title, r.description, r.starts_on, r.ends_on,
                  tuple(r.store_ids), tuple(r.regions), r.created_by)
        for r in rows
    ]  # fmt: skip


def visible(promos: Sequence[Promotion], stores: Sequence[StoreInfo]) -> list[Promotion]:
    """The promotions touching at least one of these stores."""
    return [p for p in promos if any(p.covers(s) for s in stores)]


def get(engine: Engine, pid: int) -> Promotion | None:
    found = list_all(engine, pid=pid)
    return found[0] if found else None


def uplift(engine: Engine, promo: Promotion, stores: Sequence[StoreInfo]) -> kpis.Uplift:
    """Visitors' uplift of `promo` over `stores` (the promoted ones vs the others)."""
    ids = [s.store_id for s in stores]
    first = promo.starts_on - timedelta(weeks=BASELINE_WEEKS)
    series = store_series(engine, ids, first, promo.ends_on)
    promoted = [s.store_id for s in stores if promo.covers(s)]
    return kpis.promotion_uplift(
        series, promoted, promo.starts_on, promo.ends_on, baseline_weeks=BASELINE_WEEKS
    )
