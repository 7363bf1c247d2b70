"""New store figures saved in Settings reach the running engine's weekly report and the
hourly KPIs it sends to HQ at once: the same HQ sender, its KPI settings replaced."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import SecretStr

from app.config import AppConfig
from app.engine import Engine
from app.events import EventBus
from app.store.db import open_store
from app.vision.detector import FakeDetector


def test_store_figures_reach_the_weekly_report_and_the_hq_kpis_live(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens there: the sender only waits
    cfg = AppConfig.model_validate({
        "cameras": [{"name": "a", "type": "fake", "url": "fake://320x240@20", "realtime": True}],
        "lan": {"enabled": False},
        "sync": {"enabled": True, "hq_url": f"http://127.0.0.1:{dead}"},
        "kpis": {"capacity": 10},
    })  # fmt: skip
    cfg.sync = cfg.sync.model_copy(update={"store_key": SecretStr("k" * 32)})
    store = open_store(tmp_path / "v.db", "pw")
    engine = Engine(cfg, EventBus(), store=store, detector=FakeDetector())
    try:
        engine.start()
        sender = engine.sync_worker
        assert sender is not None and sender.kpi_params is not None
        assert sender.kpi_params.capacity == 10
        schedule = [{"weekday": 0, "start_hour": 9, "end_hour": 18, "staff": 2}]
        data = cfg.model_dump()
        data["kpis"].update(capacity=30, visitors_per_salesperson=5, schedule=schedule)
        engine.apply_config(AppConfig.model_validate(data))
        assert engine.sync_worker is sender  # not restarted
        assert sender.kpi_params.capacity == 30
        assert sender.kpi_params.visitors_per_salesperson == 5
        assert sender.kpi_params.schedule(0, 10) == 2
        assert engine._weekly is not None and engine._weekly.cfg.kpis.capacity == 30
        assert engine._kpi_cache is not None and engine._kpi_cache.params.capacity == 30
    finally:
        engine.stop()
        store.close()
