"""`Stamp`: when an analysed frame happened, carried into every event it produces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class Stamp:
    camera: str
    frame: int  # 0-based source frame index
    t: float  # seconds into the stream / clip
    ts: float  # wall-clock epoch seconds

    def event(self, cls: Callable[..., E], **fields: Any) -> E:
        """Build an `app.events` event stamped with this frame's time."""
        return cls(camera=self.camera, ts=self.ts, frame=self.frame, t=self.t, **fields)
