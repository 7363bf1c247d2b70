"""Render the Analytics page into docs/screenshots/analytics-*.png (offscreen Qt).

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_analytics.py

The store is a real encrypted store in a temporary folder, filled through the store's
writer with three weeks of sample rows (footfall, zone visits with a queue at the till,
tablet services and POS sales), so that every tab has something to show.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
TZ = ZoneInfo("Europe/Paris")
ZONES = ("entrance hall", "shoes", "bags", "women", "till")
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]


def _t(day: dt.date, hour: int, minute: float = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ).timestamp() + 60 * minute


def fill(s, first: dt.date, days: int) -> None:  # noqa: ANN001
    from app.store.models import Purchase, Rollup, ServiceSession, ZoneVisit

    rnd = random.Random(3)
    n = 0
    for d in range(days):
        day = first + dt.timedelta(days=d)
        trend = 1 + 0.02 * d
        for hour in range(9, 20):
            people = int(
                trend
                * (6 + 10 * (1 if hour in (12, 13, 17, 18) else 0.4))
                * (1.5 if day.weekday() == 5 else 1)
            )
            t = _t(day, hour)
            s.add(
                Rollup(
                    bucket_start=t,
                    scope="entrance",
                    name="front",
                    entries=people,
                    passersby=people * 3,
                )
            )
            for z in ZONES:
                s.add(
                    Rollup(
                        bucket_start=t,
                        scope="zone",
                        name=z,
                        entries=people // 2,
                        occupancy_peak=min(30, people // 2 + rnd.randint(0, 4)),
                    )
                )
            for _ in range(people):
                n += 1
                vid = f"v{n}"
                a = t + rnd.uniform(0, 3000)
                path = ["entrance hall", *rnd.sample(["shoes", "bags", "women"], rnd.randint(1, 3))]
                if rnd.random() < 0.5:
                    path.append("till")
                for z in path:
                    dwell = rnd.uniform(20, 300) if z != "till" else rnd.uniform(10, 420)
                    s.add(
                        ZoneVisit(
                            visitor_id=vid,
                            camera="c",
                            zone=z,
                            enter_ts=a,
                            exit_ts=a + dwell,
                            dwell_s=dwell,
                        )
                    )
                    a += dwell + 10
                if path[-1] == "till" and rnd.random() < 0.8:
                    s.add(
                        ZoneVisit(
                            visitor_id=vid,
                            camera="c",
                            zone="women",
                            enter_ts=a,
                            exit_ts=a + 30,
                            dwell_s=30.0,
                        )
                    )
                if rnd.random() < 0.15:
                    sid = f"s{n}"
                    s.add(
                        ServiceSession(
                            id=sid,
                            salesperson_id=rnd.randint(1, 3),
                            zone=path[1],
                            visitor_id=vid,
                            started_at=t + 60,
                            ended_at=t + 600,
                        )
                    )
                    if rnd.random() < 0.5:
                        s.add(
                            Purchase(
                                transaction_id=f"T{n}",
                                ts=t + 900,
                                barcode="A",
                                amount=rnd.uniform(20, 200),
                                session_id=sid,
                            )
                        )
                elif rnd.random() < 0.1:
                    s.add(
                        Purchase(
                            transaction_id=f"W{n}",
                            ts=t + 1200,
                            barcode="B",
                            amount=rnd.uniform(10, 90),
                        )
                    )


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="shots-analytics-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    from PySide6.QtWidgets import QApplication

    from app.config import AppConfig
    from app.store.db import open_store
    from app.ui.analytics_view import AnalyticsView
    from app.ui.style import apply_style

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    apply_style(app)
    cfg = AppConfig.model_validate(
        {
            "store": {"name": "Rue de la Paix", "timezone": "Europe/Paris"},
            "zones": [
                {
                    "name": z,
                    "polygon": SQUARE,
                    "kind": "queue" if z == "till" else "zone",
                    "capacity": 25,
                }
                for z in ZONES
            ],
            "kpis": {
                "capacity": 60,
                "visitors_per_salesperson": 12,
                "queue_service": {"till": "women"},
            },
        }
    )
    store = open_store(tmp / "store.db", "screenshots-passphrase")
    monday = dt.date(2026, 11, 9)
    store.writer.submit(lambda s: fill(s, monday, 21)).result(300)
    view = AnalyticsView(store, cfg)
    view.resize(1500, 980)
    view.set_period("Week", monday + dt.timedelta(days=14))
    view.refresh(wait=True)
    view.show()
    for i, name in enumerate(
        ["analytics-week", "analytics-queues", "analytics-journeys", "analytics-bottlenecks"]
    ):
        view.tabs.setCurrentIndex(i)
        app.processEvents()
        view.grab().save(str(OUT / f"{name}.png"))
        print(f"wrote docs/screenshots/{name}.png")
    view.shutdown()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
