"""The drift check: is a camera's counting still what its last audit measured?

Two signs that it is not, each an alert asking for a new counting audit (the rules
are app/alerts.py's `view_moved` and `counts_off`, run by app/alert_monitor.py):

- the camera was moved: the median of its last few pictures (people passing leave
  it) against the reference view kept in the store, taken at setup (the first
  median, when there is no reference yet) or at the last audit
  (app/vision/view_drift.py);
- its counts fall far from its usual pattern: today's entries up to the last whole
  hour against the same weekday of the previous weeks (app/count_pattern.py).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import select

from app import alerts as rules
from app.alerts import Observation
from app.config import AppConfig
from app.count_pattern import check_pattern
from app.store.count_audits import get_reference, set_reference
from app.store.models import Rollup
from app.vision import view_drift

log = logging.getLogger(__name__)

VIEW_SAMPLES = 5  # pictures whose median is a camera's current view
HISTORY_WEEKS = 8  # same weekdays looked back at


def store_zone(cfg: AppConfig) -> ZoneInfo:
    try:
        return ZoneInfo(cfg.store.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def entries_by_hour(store: Any, camera: str, day: date, tz: ZoneInfo) -> dict[int, int] | None:
    """Entries counted on `camera`'s lines during `day` (local), by local hour; None
    when the camera has no rollup at all that day (not running, not installed yet)."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    with store.read_session() as s:
        rows = s.execute(
            select(Rollup.bucket_start, Rollup.entries).where(
                Rollup.scope == "line",
                Rollup.camera == camera,
                Rollup.bucket_start >= start.timestamp(),
                Rollup.bucket_start < end.timestamp(),
            )
        ).all()
    if not rows:
        return None
    out: dict[int, int] = {}
    for bucket, n in rows:
        h = datetime.fromtimestamp(float(bucket), tz).hour
        out[h] = out.get(h, 0) + int(n or 0)
    return out


class DriftCheck:
    """The drift observations of every camera, at most every `every_s` seconds.
    `views(camera)` gives the camera's newest picture (BGR array) or None."""

    def __init__(self, views: Callable[[str], Any] | None, every_s: float) -> None:
        self.views = views
        self.every_s = every_s
        self._next = 0.0
        self._seen: dict[str, deque[np.ndarray]] = {}

    def observations(self, cfg: AppConfig, store: Any, now: float) -> list[Observation]:
        if now < self._next:
            return []
        self._next = now + self.every_s
        out: list[Observation] = []
        for cam in cfg.cameras:
            if not cam.enabled:
                continue
            try:
                out += self._view(cam.name, cfg, store, now)
                out += self._counts(cam.name, cfg, store, now)
            except Exception:  # one camera's check must not stop the others'
                log.exception("drift check of %s failed", cam.name)
        return out

    def _view(self, camera: str, cfg: AppConfig, store: Any, now: float) -> list[Observation]:
        image = self.views(camera) if self.views is not None else None
        if image is None:
            return []
        seen = self._seen.setdefault(camera, deque(maxlen=VIEW_SAMPLES))
        seen.append(view_drift.small_gray(image))
        if len(seen) < VIEW_SAMPLES:
            return []
        current = view_drift.background(list(seen))
        with store.read_session() as s:
            ref = get_reference(s, camera)
        reference = view_drift.decode_view(ref[1]) if ref else None
        if ref is None or reference is None:
            set_reference(store, camera, view_drift.encode_view(current), "setup", now)
            return []
        sim = view_drift.similarity(reference, current)
        since = datetime.fromtimestamp(ref[0], store_zone(cfg)).date().isoformat()
        msg = (
            f"{camera}: the picture no longer looks like it did on {since} ({sim:.0%} "
            "alike): was the camera moved? Check its lines and run a new counting audit "
            "(Cameras > Counting audit…)"
        )
        bad = rules.view_moved(sim, cfg.alerts.camera_moved.min_similarity)
        return [Observation(rules.CAMERA_MOVED, camera, bad, msg, camera)]

    def _counts(self, camera: str, cfg: AppConfig, store: Any, now: float) -> list[Observation]:
        if not cfg.lines_of(camera):
            return []
        tz = store_zone(cfg)
        local = datetime.fromtimestamp(now, tz)
        hour = local.hour - 1  # the last whole hour
        if hour < 0:
            return []
        today = entries_by_hour(store, camera, local.date(), tz) or {}
        previous = [
            h
            for k in range(1, HISTORY_WEEKS + 1)
            if (h := entries_by_hour(store, camera, local.date() - timedelta(weeks=k), tz))
            is not None
        ]
        check = check_pattern(today, previous, hour)
        z = check.z if check.judged else None
        way = "more" if check.z > 0 else "fewer"
        msg = (
            f"{camera}: {check.today} entries by {hour + 1}:00, usually {check.expected:.0f} "
            f"on a {local:%A} (far {way} than usual): check the camera and its lines and "
            "run a new counting audit (Cameras > Counting audit…)"
        )
        bad = rules.counts_off(z, cfg.alerts.count_drift.max_z)
        return [Observation(rules.COUNT_DRIFT, camera, bad, msg, camera)]
