"""The JSON a tablet gets for a service session (its scans, their products, the total,
the purchases linked to it) and for a product.

The counting rule, the same as the sales reports' (`app.store.sales_reports`): an item
scanned several times in one service is one item shown, and its price counts once in
the value shown. `items` keeps every scan (the tablet shows a repeated one as "x2");
`items_shown` and `total` count each barcode once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.models import ItemScan, Product, Purchase, ServiceSession


def product_json(p: Product | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"barcode": p.barcode, "name": p.name, "category": p.category, "price": p.price}


def session_json(s: Session, ss: ServiceSession, now: float) -> dict[str, Any]:
    scans = s.execute(
        select(ItemScan, Product)
        .outerjoin(Product, Product.barcode == ItemScan.barcode)
        .where(ItemScan.session_id == ss.id)
        .order_by(ItemScan.ts, ItemScan.id)
    ).all()
    items = [
        {
            "id": sc.id,
            "session_id": ss.id,
            "barcode": sc.barcode,
            "ts": sc.ts,
            "duplicate": False,
            "key": sc.idempotency_key,
            "product": product_json(p),
        }
        for sc, p in scans
    ]
    prices = {sc.barcode: (p.price if p is not None else 0.0) for sc, p in scans}
    linked = s.scalar(select(func.count()).where(Purchase.session_id == ss.id)) or 0
    end = ss.ended_at if ss.ended_at is not None else now
    return {
        "id": ss.id,
        "zone": ss.zone,
        "visitor_id": ss.visitor_id,
        "salesperson_id": ss.salesperson_id,
        "started_at": ss.started_at,
        "ended_at": ss.ended_at,
        "duration_s": max(0.0, end - ss.started_at),
        "items": items,
        "items_shown": len(prices),
        "total": round(sum(prices.values()), 2),
        "purchases_linked": int(linked),
        "outcome": ss.outcome or "",
        "note": ss.note or "",
    }
