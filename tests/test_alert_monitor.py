"""The engine's alert monitor: rules fed from the bus and a clock, alerts on the bus and
in the real encrypted store; restarts do not raise an alert twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import alerts as rules
from app.alert_monitor import AlertMonitor, DiskUsage
from app.alerts import AlertRecord, AlertUpdated
from app.config import AppConfig, parse_config
from app.events import Alert, CameraStatus, EventBus, Occupancy, QueueStatus
from app.store import alert_log, keys
from app.store.db import Store, open_store
from app.store.models import AlertRow

T0 = 1_780_000_000.0
GB = 2**30


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def config(**alerts: Any) -> AppConfig:
    return parse_config(
        {
            "cameras": [{"name": "door", "type": "fake"}, {"name": "till", "type": "fake"}],
            "zones": [
                {"name": "Shoes", "camera": "door", "capacity": 2,
                 "polygon": [[0, 0], [100, 0], [100, 100]]},
                {"name": "Queue", "camera": "till", "kind": "queue",
                 "polygon": [[0, 0], [100, 0], [100, 100]]},
            ],
            "alerts": alerts,
        }
    )  # fmt: skip


@pytest.fixture
def store(_isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(keys, "SCRYPT_N", 2**12)
    s = open_store(_isolated_data_dir / "vitrine.db")
    try:
        yield s
    finally:
        s.close()


class Rig:
    """A started monitor on its own bus, a fake clock and a fake disk."""

    def __init__(self, cfg: AppConfig, store: Store | None, free: int = 50 * GB) -> None:
        self.bus = EventBus()
        self.seen: list[AlertRecord] = []
        self.bus.subscribe(self.seen.append, AlertRecord)
        if store is not None:
            store.attach(self.bus)
        self.clock = Clock()
        self.free = free
        self.monitor = AlertMonitor(
            cfg, self.bus, store, clock=self.clock,
            disk_usage=lambda p: DiskUsage(100 * GB, 100 * GB - self.free, self.free),
        )  # fmt: skip
        self.monitor.start()

    def at(self, t: float, *events: object) -> None:
        self.clock.t = T0 + t
        for e in events:
            self.bus.publish(e)
        self.monitor.tick()

    def changes(self) -> list[tuple[str, str, str, int]]:
        """Opened and resolved (not the "seen again" updates)."""
        return [
            (type(e).__name__, e.kind, e.subject, e.count)
            for e in self.seen
            if not isinstance(e, AlertUpdated)
        ]


def rig_of(rigs: list[Rig], cfg: AppConfig, store: Store | None, **kw: Any) -> Rig:
    r = Rig(cfg, store, **kw)
    rigs.append(r)
    return r


@pytest.fixture
def rigs() -> Iterator[list[Rig]]:
    """Rigs to stop at the end of the test (their monitor threads)."""
    made: list[Rig] = []
    yield made
    for r in made:
        r.monitor.stop()


def status(camera: str, s: str, t: float) -> CameraStatus:
    return CameraStatus(camera=camera, status=s, message="connection refused", ts=T0 + t)  # type: ignore[arg-type]


def occupancy(zone: str, n: int, t: float) -> Occupancy:
    return Occupancy("door", T0 + t, 0, t, zone, n)


def test_camera_offline_after_the_delay_resolved_when_back(store: Store, rigs: list[Rig]) -> None:
    rig = rig_of(rigs, config(camera_offline={"delay_s": 30}), store)
    try:
        rig.at(0, status("door", "offline", 0))
        rig.at(10, status("door", "connecting", 10), status("door", "offline", 11))
        rig.at(29)
        assert rig.seen == []
        rig.at(30)
        assert rig.changes() == [("AlertOpened", "camera_offline", "door", 1)]
        assert rig.seen[0].message == "door is down: offline (connection refused)"
        rig.at(45, status("door", "live", 45))
        assert rig.changes()[-1] == ("AlertResolved", "camera_offline", "door", 1)
        rig.at(46, status("elsewhere", "offline", 46))  # not a camera of this store
        rig.at(200)
    finally:
        rig.monitor.stop()
    store.writer.flush()
    with store.read_session() as s:
        row = s.scalars(select(AlertRow)).one()
    assert (row.kind, row.subject, row.ts, row.resolved_at) == (
        "camera_offline", "door", T0 + 30, T0 + 45
    )


def test_flickering_occupancy_is_one_alert_reopened_after_it_resolved(rigs: list[Rig]) -> None:
    """The six "Shoes: 3 people (capacity 2)" of seven minutes are one alert now."""
    rig = rig_of(rigs, config(), None)
    for k in range(84):  # every 5 s for 7 minutes: 3, 2, 3, 2 ...
        rig.at(5 * k, occupancy("Shoes", 3 if k % 2 == 0 else 2, 5 * k))
    assert rig.changes() == [("AlertOpened", "over_capacity", "Shoes", 1)]
    assert rig.seen[0].message == "Shoes: 3 people (capacity 2)"
    seen = [e.last_seen - T0 for e in rig.seen if isinstance(e, AlertUpdated)]
    assert seen == [60, 120, 180, 240, 300, 360]  # still there: reported once a minute
    rig.at(500, occupancy("Shoes", 1, 500))
    rig.at(561)
    assert rig.changes()[-1] == ("AlertResolved", "over_capacity", "Shoes", 1)
    rig.at(600, occupancy("Shoes", 4, 600))  # within the cooldown: the same alert again
    assert rig.changes()[-1] == ("AlertOpened", "over_capacity", "Shoes", 2)
    assert rig.seen[-1].message == "Shoes: 4 people (capacity 2)"  # what it is now
    assert len({e.id for e in rig.seen}) == 1
    rig.at(700, occupancy("Queue", 9, 700))  # a zone without capacity never alerts
    assert len(rig.changes()) == 3


def test_pipeline_and_monitor_together(rigs: list[Rig]) -> None:
    """The real pipeline publishes occupancy; the monitor alone raises the alert."""
    import numpy as np

    from app.vision.detections import Detections
    from app.vision.pipeline import CameraPipeline

    cfg = config()

    class Scripted:
        def detect(self, frame: np.ndarray) -> Detections:
            boxes = [[40, 5, 50, 30], [60, 5, 70, 30], [80, 5, 90, 30]]  # feet in Shoes
            return Detections.create(boxes, [0.9] * 3, [0] * 3, [1, 2, 3])

    class Same:
        def update(self, d: Detections, t: float) -> Detections:
            return d

        def reset(self) -> None:
            pass

    rig = rig_of(rigs, cfg, None)
    pipe = CameraPipeline("door", cfg, Scripted(), rig.bus, tracker=Same(), motion=False)
    img = np.zeros((120, 120, 3), np.uint8)
    for i in range(6):
        rig.clock.t = T0 + i * 0.2

        class F:
            image, index, t, ts = img, i, i * 0.2, T0 + i * 0.2

        pipe.process(F())
    assert rig.changes() == [("AlertOpened", "over_capacity", "Shoes", 1)]


def test_queue_length_and_wait(rigs: list[Rig]) -> None:
    rig = rig_of(rigs, config(queue={"max_length": 3, "max_wait_s": 120, "delay_s": 5}), None)

    def q(n: int, wait: float, t: float) -> QueueStatus:
        return QueueStatus("till", T0 + t, 0, t, "Queue", n, wait)

    rig.at(0, q(4, 10, 0))
    rig.at(6, q(4, 16, 6))
    assert rig.changes() == [("AlertOpened", "queue_length", "Queue", 1)]
    rig.at(100, q(2, 125, 100))
    rig.at(106, q(2, 131, 106))
    assert rig.changes()[-1] == ("AlertOpened", "queue_wait", "Queue", 1)
    rig.at(200, q(0, 0, 200))
    rig.at(261)
    assert sorted(rig.changes()[-2:]) == [
        ("AlertResolved", "queue_length", "Queue", 1),
        ("AlertResolved", "queue_wait", "Queue", 1),
    ]


def test_store_wide_checks(store: Store, rigs: list[Rig]) -> None:
    cfg = config(check_s=60, disk={"clear_s": 0}, sync_backlog={"max_age_h": 1})
    cfg = cfg.model_copy(update={"sync": cfg.sync.model_copy(update={"enabled": True})})
    rig = rig_of(rigs, cfg, store, free=int(0.5 * GB))
    # a row waiting for HQ since T0
    store.writer.submit(
        lambda s: s.connection().exec_driver_sql(
            "INSERT INTO sync_outbox (kind, key, payload, created_at, attempts) "
            "VALUES ('rollup', 'k', '{}', ?, 0)", (T0,),
        )
    ).result(10)  # fmt: skip
    rig.at(0)
    assert rig.changes() == [("AlertOpened", "disk_low", "data", 1)]
    rig.free = 30 * GB
    rig.at(30)  # not checked again before check_s
    assert len(rig.seen) == 1
    rig.at(3700)
    assert rig.changes()[1:] == [
        ("AlertResolved", "disk_low", "data", 1),
        ("AlertOpened", "sync_backlog", "hq", 1),
    ]
    store.writer.submit(
        lambda s: s.connection().exec_driver_sql("UPDATE sync_outbox SET sent_at = created_at")
    ).result(10)
    rig.at(3800)
    assert rig.changes()[-1] == ("AlertResolved", "sync_backlog", "hq", 1)
    # no retention run at all for 36 h after the start
    rig.at(37 * 3600)
    assert rig.changes()[-1] == ("AlertOpened", "retention_failing", "store", 1)


def test_a_restart_keeps_open_camera_alerts_and_resolves_unconfirmable_ones(
    store: Store, rigs: list[Rig]
) -> None:
    first = rig_of(rigs, config(camera_offline={"delay_s": 0}), store)
    first.at(0, status("door", "offline", 0), occupancy("Shoes", 5, 0))
    first.bus.publish(Alert("lan_unavailable", "port in use", ts=T0))
    store.writer.flush()
    assert sorted(first.changes()) == [
        ("AlertOpened", "camera_offline", "door", 1),
        ("AlertOpened", "over_capacity", "Shoes", 1),
    ]
    door_id = next(e.id for e in first.seen if e.kind == "camera_offline")
    first.monitor.stop()
    second = rig_of(rigs, config(camera_offline={"delay_s": 0}), store)
    try:
        store.writer.flush()
        assert second.changes() == [("AlertResolved", "over_capacity", "Shoes", 1)]
        second.at(10, status("door", "offline", 10))  # still down: the same alert
        assert [a.id for a in second.monitor.open_alerts()] == [door_id]
        second.at(20, status("door", "live", 20))
        assert second.changes()[-1] == ("AlertResolved", "camera_offline", "door", 1)
        assert second.seen[-1].id == door_id
    finally:
        second.monitor.stop()
    store.writer.flush()
    with store.read_session() as s:
        still = alert_log.list_alerts(s)
    assert [a.kind for a in still] == ["lan_unavailable"]  # a notice waits to be acknowledged


def test_a_camera_removed_from_the_settings_resolves_its_alert(rigs: list[Rig]) -> None:
    cfg = config(camera_offline={"delay_s": 0})
    rig = rig_of(rigs, cfg, None)
    rig.at(0, status("till", "offline", 0))
    fewer = cfg.model_copy(update={"cameras": cfg.cameras[:1]})
    rig.monitor.apply_config(fewer)
    assert rig.changes() == [
        ("AlertOpened", "camera_offline", "till", 1),
        ("AlertResolved", "camera_offline", "till", 1),
    ]
    assert rig.monitor.open_alerts() == []
    assert rules.CAMERA_OFFLINE in rig.monitor.book.params


def test_a_zone_without_a_capacity_any_more_resolves_its_alert(rigs: list[Rig]) -> None:
    cfg = config()
    rig = rig_of(rigs, cfg, None)
    rig.at(0, occupancy("Shoes", 5, 0))
    assert rig.changes() == [("AlertOpened", "over_capacity", "Shoes", 1)]
    zones = [cfg.zones[0].model_copy(update={"capacity": None}), cfg.zones[1]]
    rig.monitor.apply_config(cfg.model_copy(update={"zones": zones}))
    assert rig.changes()[-1] == ("AlertResolved", "over_capacity", "Shoes", 1)
