"""The heatmap history: one aggregated grid per camera and hour (`heatmap_hours`), the
seconds of presence per cell of the counted people, never a picture.

The engine adds what each open hour gained since its last save (`add_hours`: the
rows are sums, so a restart, or two clips of the same hour, add up); `heat_sum` adds
a camera's hours over a period, optionally only some hours of the day (store time).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import HeatmapHour

WRITE_TIMEOUT_S = 30.0


class HourGrid(Protocol):
    """One hour's presence (app.vision.heat_hours.HourDelta has these)."""

    @property
    def hour_start(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def cell(self) -> int: ...
    @property
    def grid(self) -> np.ndarray: ...


F16_MAX = 65504.0  # the largest float16: 18 people standing all hour in one cell


def pack(grid: np.ndarray) -> bytes:
    """Seconds per cell as float16 (3 significant digits: plenty for a heatmap, and
    half the bytes to read back for a period), zlib-compressed."""
    g = np.clip(np.asarray(grid, np.float32), 0.0, F16_MAX).astype(np.float16)
    return zlib.compress(np.ascontiguousarray(g).tobytes(), 6)


def unpack(blob: bytes, rows: int, cols: int) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), np.float16).reshape(rows, cols).astype(np.float32)


def add_hours(store: Any, camera: str, hours: Iterable[HourGrid]) -> int:
    """Add each hour's grid to the stored one (a new row when there is none, or when the
    camera's picture size changed: the newest size wins). Returns the rows written."""
    todo = [h for h in hours if h.grid.size]
    if not todo:
        return 0

    def job(s: Session) -> int:
        for h in todo:
            rows, cols = h.grid.shape
            grid = np.asarray(h.grid, np.float32)
            row = s.get(HeatmapHour, (camera, float(h.hour_start)))
            if row is not None and (row.rows, row.cols, row.width, row.height) == (
                rows,
                cols,
                h.width,
                h.height,
            ):
                grid = np.maximum(unpack(row.grid, rows, cols) + grid, 0.0)
            else:
                grid = np.maximum(grid, 0.0)
            s.merge(
                HeatmapHour(
                    camera=camera, hour_start=float(h.hour_start), width=h.width,
                    height=h.height, cell=h.cell, rows=rows, cols=cols, grid=pack(grid),
                    updated_at=time.time(),
                )
            )  # fmt: skip
        return len(todo)

    return int(store.writer.submit(job).result(WRITE_TIMEOUT_S))


@dataclass(frozen=True)
class HeatSum:
    """A camera's presence summed over a period."""

    camera: str
    grid: np.ndarray  # float32 seconds of presence per cell (rows, cols)
    width: int  # the camera picture the grid covers, pixels
    height: int
    cell: int
    hours: int  # hours with presence in the sum
    first: float  # the first and last of those hours (epoch seconds)
    last: float
    left_out: int = 0  # hours recorded at another picture size, not in the sum

    @property
    def seconds(self) -> float:
        return float(self.grid.sum())


def in_hours(hour: int, hours_of_day: tuple[int, int] | None) -> bool:
    """Whether a local hour (0-23) is in [from, to) (wrapping past midnight: 22-2)."""
    if hours_of_day is None:
        return True
    lo, hi = hours_of_day
    if lo == hi:
        return True
    return lo <= hour < hi if lo < hi else hour >= lo or hour < hi


def heat_sum(
    session: Session,
    camera: str,
    start: float,
    end: float,
    hours_of_day: tuple[int, int] | None = None,
    tz: tzinfo | None = None,
) -> HeatSum | None:
    """The presence of `camera` in the hours starting in [start, end), only those whose
    local hour (in `tz`) is in `hours_of_day` when given; None when there is none. Hours
    recorded at another picture size than the newest are left out (and counted)."""
    where = (
        HeatmapHour.camera == camera,
        HeatmapHour.hour_start >= start,
        HeatmapHour.hour_start < end,
    )
    # the hours and their picture sizes first (from the index and small columns), so
    # that only the grids to add are read
    keys = session.execute(
        select(
            HeatmapHour.hour_start,
            HeatmapHour.width,
            HeatmapHour.height,
            HeatmapHour.cell,
            HeatmapHour.rows,
            HeatmapHour.cols,
        )
        .where(*where)
        .order_by(HeatmapHour.hour_start.desc())
    ).all()
    if hours_of_day is not None:
        keys = [k for k in keys if in_hours(datetime.fromtimestamp(k[0], tz).hour, hours_of_day)]
    if not keys:
        return None
    shape = tuple(keys[0][1:6])  # the newest: width, height, cell, rows, cols
    used = [float(k[0]) for k in keys if tuple(k[1:6]) == shape]
    width, height, cell, rows, cols = (int(v) for v in shape)
    if len(used) == len(keys) and hours_of_day is None:
        blobs = session.execute(select(HeatmapHour.grid).where(*where)).scalars().all()
    else:
        blobs = []
        for i in range(0, len(used), 500):  # SQLite's limit on parameters
            chunk = used[i : i + 500]
            blobs += (
                session.execute(
                    select(HeatmapHour.grid).where(
                        HeatmapHour.camera == camera, HeatmapHour.hour_start.in_(chunk)
                    )
                )
                .scalars()
                .all()
            )
    raw = b"".join(zlib.decompress(b) for b in blobs)  # one array, one sum
    stack = np.frombuffer(raw, np.float16).reshape(len(blobs), rows, cols)
    total = stack.sum(axis=0, dtype=np.float32)
    return HeatSum(
        camera, total, width, height, cell, len(used), min(used), max(used),
        left_out=len(keys) - len(used),
    )  # fmt: skip


def heat_cameras(session: Session) -> list[str]:
    """The cameras with a heatmap history, by name."""
    return list(
        session.execute(select(HeatmapHour.camera).distinct().order_by(HeatmapHour.camera))
        .scalars()
        .all()
    )
