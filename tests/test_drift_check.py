"""The drift check: a camera moved (real frames shifted and cropped) or counts far from
the usual pattern (fake rollups) open an alert asking for a new counting audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import alerts as rules
from app.alert_monitor import AlertMonitor, DiskUsage
from app.alerts import AlertRecord
from app.config import AppConfig, parse_config
from app.count_pattern import check_pattern, off_pattern, robust_z
from app.events import EventBus
from app.store import keys
from app.store.count_audits import get_reference
from app.store.db import Store, open_store
from app.store.models import Rollup
from app.vision import view_drift
from app.vision.video_io import iter_video
from tests.conftest import PETS_CLIP, TUD_DIR

GB = 2**30
# a Wednesday at 15:10 UTC
NOW = datetime(2026, 11, 25, 15, 10, tzinfo=UTC).timestamp()


@pytest.fixture
def store(_isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(keys, "SCRYPT_N", 2**12)
    s = open_store(_isolated_data_dir / "vitrine.db")
    try:
        yield s
    finally:
        s.close()


def config() -> AppConfig:
    return parse_config({
        "store": {"timezone": "UTC"},
        "cameras": [{"name": "door", "type": "fake"}],
        "lines": [{"name": "entry", "camera": "door", "start": [0, 100], "end": [200, 100]}],
    })  # fmt: skip


class Rig:
    def __init__(self, store: Store, views: dict[str, np.ndarray | None]) -> None:
        self.bus = EventBus()
        self.seen: list[AlertRecord] = []
        self.bus.subscribe(self.seen.append, AlertRecord)
        store.attach(self.bus)
        self.t = NOW
        self.views = views
        self.monitor = AlertMonitor(
            config(), self.bus, store, clock=lambda: self.t,
            disk_usage=lambda p: DiskUsage(100 * GB, 10 * GB, 90 * GB),
            views=lambda cam: self.views.get(cam), drift_every_s=60,
        )  # fmt: skip

    def at(self, dt: float) -> None:
        self.t = NOW + dt
        self.monitor.tick()

    def opened(self, kind: str) -> list[AlertRecord]:
        return [a for a in self.seen if a.kind == kind and type(a).__name__ == "AlertOpened"]


# --- the view ----------------------------------------------------------------------------


def _frames(path: Path, fps: float) -> list[np.ndarray]:
    return [f.image for f in iter_video(path, fps=fps)]


def _shift(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = np.array([[1, 0, dx * w], [0, 1, dy * h]], dtype=np.float32)
    return np.asarray(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT))


def _zoom(img: np.ndarray, z: float) -> np.ndarray:
    h, w = img.shape[:2]
    dy, dx = int(h * z / 2), int(w * z / 2)
    return np.asarray(cv2.resize(img[dy : h - dy, dx : w - dx], (w, h)))


@pytest.mark.parametrize("clip", [PETS_CLIP, TUD_DIR / "TUD-Stadtmitte.mp4"])
def test_view_similarity_on_real_frames(clip: Path) -> None:
    frames = _frames(clip, 0.5 if clip == PETS_CLIP else 2.0)
    ref = view_drift.background(frames[:5])
    later = frames[-5:]
    limit = view_drift.MOVED_BELOW
    same = view_drift.similarity(ref, view_drift.background(later))
    darker = view_drift.similarity(
        ref, view_drift.background([(f * 0.6).astype(np.uint8) for f in later])
    )
    assert same > limit + 0.2 and darker > limit + 0.1  # people moved, light changed
    for moved in (
        [_shift(f, 0.05, 0.02) for f in later],
        [_shift(f, 0.1, 0.0) for f in later],
        [_zoom(f, 0.1) for f in later],
    ):
        assert view_drift.similarity(ref, view_drift.background(moved)) < limit
    png = view_drift.encode_view(ref)
    decoded = view_drift.decode_view(png)
    assert decoded is not None and np.array_equal(decoded, ref)


def test_a_moved_camera_raises_an_alert_asking_for_an_audit(store: Store) -> None:
    frames = _frames(PETS_CLIP, 0.5)
    views: dict[str, np.ndarray | None] = {"door": None}
    rig = Rig(store, views)
    t = 0.0
    for f in frames[:5]:  # the first five pictures: the reference ("setup")
        views["door"] = f
        rig.at(t)
        t += 60
    with store.read_session() as s:
        ref = get_reference(s, "door")
    assert ref is not None
    for f in frames[5:20]:  # the same view, people moving: no alert
        views["door"] = f
        rig.at(t)
        t += 60
    assert rig.opened(rules.CAMERA_MOVED) == []
    for f in frames[20:40]:  # someone turned the camera: 20 minutes of a shifted view
        views["door"] = _shift(f, 0.06, 0.03)
        rig.at(t)
        t += 60
    (alert,) = rig.opened(rules.CAMERA_MOVED)
    assert alert.subject == "door" and "run a new counting audit" in alert.message
    assert "was the camera moved?" in alert.message and "% alike" in alert.message
    open_kinds = {a.kind for a in rig.monitor.open_alerts()}
    assert rules.CAMERA_MOVED in open_kinds


# --- the counts' pattern ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "history", "off"),
    [
        (100, [98, 105, 101, 96], False),
        (40, [98, 105, 101, 96], True),  # far fewer
        (200, [98, 105, 101, 96], True),  # far more
        (85, [98, 105, 101, 96], False),  # a quiet day, within sqrt-noise
        (40, [98, 105], None),  # two weeks: too little history
        (3, [10, 12, 11], None),  # too few entries to judge
    ],
)
def test_pattern_rule(today: int, history: list[int], off: bool | None) -> None:
    check = check_pattern({10: today}, [{10: n} for n in history], 12)
    assert off_pattern(check) is off


def test_robust_z_ignores_one_odd_week() -> None:
    assert abs(robust_z(100, [98, 105, 101, 400, 96])) < 1  # a sale week does not skew it


def _rollups(store: Store, day: datetime, per_hour: int) -> None:
    rows = [
        Rollup(bucket_start=(day + timedelta(hours=h, minutes=m)).timestamp(), scope="line",
               camera="door", name="entry", entries=per_hour // 4, exits=per_hour // 4)
        for h in range(9, 19) for m in (0, 15, 30, 45)
    ]  # fmt: skip
    store.writer.submit(lambda s: s.add_all(rows)).result(30)


@pytest.mark.parametrize(("today_per_hour", "alert"), [(120, False), (20, True)])
def test_counts_far_from_the_pattern_raise_an_alert(
    store: Store, today_per_hour: int, alert: bool
) -> None:
    midnight = datetime(2026, 11, 25, tzinfo=UTC)
    for k, per_hour in enumerate([120, 128, 112, 124], start=1):  # the last four Wednesdays
        _rollups(store, midnight - timedelta(weeks=k), per_hour)
    _rollups(store, midnight - timedelta(days=1), 10)  # Tuesday: another weekday, ignored
    _rollups(store, midnight, today_per_hour)  # today: 9:00 to 15:10 so far (and beyond)
    rig = Rig(store, {})
    rig.at(0)
    opened = rig.opened(rules.COUNT_DRIFT)
    assert bool(opened) is alert
    if alert:
        assert opened[0].subject == "door"
        assert "entries by 15:00, usually" in opened[0].message
        assert "than usual" in opened[0].message and "robust z" not in opened[0].message
        assert "run a new counting audit" in opened[0].message
