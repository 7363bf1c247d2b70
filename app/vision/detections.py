"""`Detections`: the one record that flows through the vision pipeline.

Numpy columns (xyxy, confidence, class_id, tracker_id) plus a `data` dict of extra
per-row columns. Immutable by convention: stages return new objects and never mutate
their input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


def _f32(a: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    return arr.reshape(shape) if arr.size == 0 else arr


@dataclass(frozen=True)
class Detections:
    xyxy: np.ndarray  # (N, 4) float32, pixels of the source frame
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int32
    tracker_id: np.ndarray  # (N,) int64, -1 where not tracked
    data: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Detections:
        return cls.create(np.zeros((0, 4), np.float32))

    @classmethod
    def create(
        cls,
        xyxy: Any,
        confidence: Any = None,
        class_id: Any = None,
        tracker_id: Any = None,
        data: dict[str, np.ndarray] | None = None,
    ) -> Detections:
        box = _f32(xyxy, (0, 4)).reshape(-1, 4)
        n = len(box)
        conf = np.ones(n, np.float32) if confidence is None else _f32(confidence, (0,))
        cls_ = np.zeros(n, np.int32) if class_id is None else np.asarray(class_id, np.int32)
        tid = np.full(n, -1, np.int64) if tracker_id is None else np.asarray(tracker_id, np.int64)
        out = cls(box, conf.reshape(n), cls_.reshape(n), tid.reshape(n), dict(data or {}))
        for k, v in out.data.items():
            if len(v) != n:
                raise ValueError(f"data column {k!r} has {len(v)} rows, expected {n}")
        return out

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        """Select rows by boolean mask, index array or slice."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        return Detections(
            self.xyxy[index],
            self.confidence[index],
            self.class_id[index],
            self.tracker_id[index],
            {k: v[index] for k, v in self.data.items()},
        )

    def with_tracker_id(self, tracker_id: np.ndarray) -> Detections:
        tid = np.asarray(tracker_id, np.int64).reshape(len(self))
        return Detections(self.xyxy, self.confidence, self.class_id, tid, self.data)

    def with_data(self, **columns: np.ndarray) -> Detections:
        return replace(self, data={**self.data, **columns})

    def bottom_center(self) -> np.ndarray:
        """(N, 2) bottom-centre points: where a person stands."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        return np.stack([x, self.xyxy[:, 3]], axis=1)

    @staticmethod
    def concat(items: list[Detections]) -> Detections:
        if not items:
            return Detections.empty()
        keys = set(items[0].data)
        return Detections(
            np.concatenate([d.xyxy for d in items]).astype(np.float32).reshape(-1, 4),
            np.concatenate([d.confidence for d in items]).astype(np.float32),
            np.concatenate([d.class_id for d in items]).astype(np.int32),
            np.concatenate([d.tracker_id for d in items]).astype(np.int64),
            {k: np.concatenate([d.data[k] for d in items]) for k in keys},
        )
