"""What `analyze --store` keeps besides the events: the clip's heatmap history (its
presence per hour, added to the store's) and, when the camera has none yet, a reference
view for the drift check and for drawing the heatmap on (the median of small grayscale
pictures spread over the clip: people passing leave it; as the live drift check does).
"""

from __future__ import annotations

import logging
import time
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from app.vision import view_drift

log = logging.getLogger(__name__)

KEEP = 15  # pictures whose median is the reference view


class HeatKeeper:
    def __init__(self, every_s: float = 2.0) -> None:
        self.every_s = every_s
        self._views: list[np.ndarray] = []
        self._next = 0.0

    def see(self, t: float, image: np.ndarray) -> None:
        """Keep a small gray picture every `every_s` seconds of video (at most KEEP,
        evenly spread: when full, every other one goes and the step doubles)."""
        if t < self._next:
            return
        self._views.append(view_drift.small_gray(image))
        self._next = t + self.every_s
        if len(self._views) >= 2 * KEEP:
            self._views = self._views[::2]
            self.every_s *= 2

    def save(self, store: Any, camera: str, pipeline: Any, timezone: str = "UTC") -> None:
        """Add the clip's hours to the heatmap history (days of the store's time zone);
        the reference view if the camera has none."""
        from app.store.count_audits import get_reference, set_reference
        from app.store.heat_history import add_hours

        try:
            tz: tzinfo | None = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        add_hours(store, camera, pipeline.heat_hours.deltas(time.time(), final=True), tz)
        if len(self._views) < 3:
            return
        with store.read_session() as s:
            known = get_reference(s, camera) is not None
        if not known:
            view = view_drift.background(self._views)
            set_reference(store, camera, view_drift.encode_view(view), "setup")
