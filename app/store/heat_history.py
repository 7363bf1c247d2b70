"""The heatmap history: one aggregated grid per camera and hour (`heatmap_hours`), the
seconds of presence per cell of the counted people, never a picture; and their sum per
local day (`heatmap_days`), kept as the hours are added, so that a long period reads
one grid a day.

The engine adds what each open hour gained since its last save (`add_hours`: the
rows are sums, so a restart, or two clips of the same hour, add up); `heat_sum` adds
a camera's presence over a period, optionally only some hours of the day (store time):
the whole local days from the day rows, the rest (and any hours-of-day filter) from
the hour rows. Day rows are days of the store's time zone as given to `add_hours`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import HeatmapDay, HeatmapHour

WRITE_TIMEOUT_S = 30.0
F16_MAX = 65504.0  # the largest float16: 18 people standing all hour in one cell
IN_CHUNK = 500  # hour starts per IN (...) (SQLite's limit on parameters)

Shape = tuple[int, int, int, int, int]  # width, height, cell, rows, cols


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


def pack(grid: np.ndarray) -> bytes:
    """An hour's seconds per cell as float16 (3 significant digits: plenty for a
    heatmap, and half the bytes to read back), zlib-compressed."""
    g = np.clip(np.asarray(grid, np.float32), 0.0, F16_MAX).astype(np.float16)
    return zlib.compress(np.ascontiguousarray(g).tobytes(), 6)


def unpack(blob: bytes, rows: int, cols: int) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), np.float16).reshape(rows, cols).astype(np.float32)


def pack_day(grid: np.ndarray) -> bytes:
    """A day's seconds per cell (float32: a day can exceed float16's range)."""
    g = np.maximum(np.asarray(grid, np.float32), 0.0)
    return zlib.compress(np.ascontiguousarray(g).tobytes(), 6)


def unpack_day(blob: bytes, rows: int, cols: int) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), np.float32).reshape(rows, cols)


def local_midnight(ts: float, tz: tzinfo) -> float:
    """The start of the local day (in `tz`) that `ts` falls in, epoch seconds."""
    day = datetime.fromtimestamp(ts, tz).date()
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def add_hours(store: Any, camera: str, hours: Iterable[HourGrid], tz: tzinfo | None = None) -> int:
    """Add each hour's grid to the stored one (a new row when there is none, or when the
    camera's picture size changed: the newest size wins), and to its local day's row
    (days of `tz`, default UTC). Returns the hour rows written."""
    todo = [h for h in hours if h.grid.size]
    if not todo:
        return 0
    zone = tz or UTC

    def job(s: Session) -> int:
        for h in todo:
            rows, cols = h.grid.shape
            shape: Shape = (int(h.width), int(h.height), int(h.cell), rows, cols)
            delta = np.asarray(h.grid, np.float32)
            start = float(h.hour_start)
            row = s.get(HeatmapHour, (camera, start))
            same = row is not None and _shape(row) == shape
            grid = np.maximum(unpack(row.grid, rows, cols) + delta, 0.0) if same else delta  # type: ignore[union-attr]
            s.merge(
                HeatmapHour(
                    camera=camera, hour_start=start, width=h.width, height=h.height,
                    cell=h.cell, rows=rows, cols=cols, grid=pack(grid), updated_at=time.time(),
                )
            )  # fmt: skip
            _add_to_day(s, camera, start, shape, delta, new_hour=not same, tz=zone)
        return len(todo)

    return int(store.writer.submit(job).result(WRITE_TIMEOUT_S))


def _shape(row: HeatmapHour | HeatmapDay) -> Shape:
    return (row.width, row.height, row.cell, row.rows, row.cols)


def _add_to_day(
    s: Session, camera: str, hour: float, shape: Shape, delta: np.ndarray, new_hour: bool,
    tz: tzinfo,
) -> None:  # fmt: skip
    day_start = local_midnight(hour, tz)
    row = s.get(HeatmapDay, (camera, day_start))
    width, height, cell, rows, cols = shape
    if row is not None and _shape(row) == shape:
        grid = unpack_day(row.grid, rows, cols) + delta
        hours = row.hours + (1 if new_hour else 0)
        first, last = min(row.first_hour, hour), max(row.last_hour, hour)
    else:  # the day's first hour, or a new picture size (the newest wins)
        grid, hours, first, last = delta, 1, hour, hour
    s.merge(
        HeatmapDay(
            camera=camera, day_start=day_start, width=width, height=height, cell=cell,
            rows=rows, cols=cols, hours=hours, first_hour=first, last_hour=last,
            grid=pack_day(grid), updated_at=time.time(),
        )
    )  # fmt: skip


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


def full_days(start: float, end: float, tz: tzinfo) -> tuple[float, float]:
    """The whole local days inside [start, end), as [lo, hi) (lo == hi: none)."""
    lo = local_midnight(start, tz)
    if lo < start:
        d = datetime.fromtimestamp(lo, tz).date() + timedelta(days=1)
        lo = datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()
    hi = local_midnight(end, tz)
    return (lo, hi) if lo < hi else (end, end)


@dataclass(frozen=True)
class _Part:
    day: bool  # a day row (else an hour row)
    start: float
    shape: Shape
    hours: int
    first: float
    last: float


def heat_sum(
    session: Session,
    camera: str,
    start: float,
    end: float,
    hours_of_day: tuple[int, int] | None = None,
    tz: tzinfo | None = None,
) -> HeatSum | None:
    """The presence of `camera` in the hours starting in [start, end), only those whose
    local hour (in `tz`, default UTC) is in `hours_of_day` when given; None when there
    is none. Whole local days come from the day rows. Hours recorded at another
    picture size than the newest are left out (and counted)."""
    zone = tz or UTC
    lo, hi = full_days(start, end, zone) if hours_of_day is None else (end, end)
    parts = _hour_parts(session, camera, [(start, lo), (hi, end)] if lo < hi else [(start, end)])
    if hours_of_day is not None:
        parts = [p for p in parts if in_hours(datetime.fromtimestamp(p.start, zone).hour,
                                              hours_of_day)]  # fmt: skip
    if lo < hi:
        parts += _day_parts(session, camera, lo, hi)
    if not parts:
        return None
    shape = max(parts, key=lambda p: p.last).shape  # the newest picture size
    used = [p for p in parts if p.shape == shape]
    width, height, cell, rows, cols = shape
    total = np.zeros((rows, cols), np.float32)
    hour_starts = [p.start for p in used if not p.day]
    for i in range(0, len(hour_starts), IN_CHUNK):
        blobs = (
            session.execute(
                select(HeatmapHour.grid).where(
                    HeatmapHour.camera == camera,
                    HeatmapHour.hour_start.in_(hour_starts[i : i + IN_CHUNK]),
                )
            )
            .scalars()
            .all()
        )
        raw = b"".join(zlib.decompress(b) for b in blobs)  # one array, one sum
        total += (
            np.frombuffer(raw, np.float16)
            .reshape(len(blobs), rows, cols)
            .sum(axis=0, dtype=np.float32)
        )
    day_starts = [p.start for p in used if p.day]
    for i in range(0, len(day_starts), IN_CHUNK):
        for blob in session.execute(
            select(HeatmapDay.grid).where(
                HeatmapDay.camera == camera, HeatmapDay.day_start.in_(day_starts[i : i + IN_CHUNK])
            )
        ).scalars():
            total += unpack_day(blob, rows, cols)
    return HeatSum(
        camera, total, width, height, cell, sum(p.hours for p in used),
        min(p.first for p in used), max(p.last for p in used),
        left_out=sum(p.hours for p in parts) - sum(p.hours for p in used),
    )  # fmt: skip


def _hour_parts(session: Session, camera: str, spans: Sequence[tuple[float, float]]) -> list[_Part]:
    out: list[_Part] = []
    for lo, hi in spans:
        if lo >= hi:
            continue
        for r in session.execute(
            select(HeatmapHour.hour_start, HeatmapHour.width, HeatmapHour.height,
                   HeatmapHour.cell, HeatmapHour.rows, HeatmapHour.cols)
            .where(HeatmapHour.camera == camera, HeatmapHour.hour_start >= lo,
                   HeatmapHour.hour_start < hi)
        ):  # fmt: skip
            t = float(r[0])
            out.append(_Part(False, t, (r[1], r[2], r[3], r[4], r[5]), 1, t, t))
    return out


def _day_parts(session: Session, camera: str, lo: float, hi: float) -> list[_Part]:
    return [
        _Part(True, float(r[0]), (r[1], r[2], r[3], r[4], r[5]), int(r[6]), float(r[7]),
              float(r[8]))
        for r in session.execute(
            select(HeatmapDay.day_start, HeatmapDay.width, HeatmapDay.height, HeatmapDay.cell,
                   HeatmapDay.rows, HeatmapDay.cols, HeatmapDay.hours, HeatmapDay.first_hour,
                   HeatmapDay.last_hour)
            .where(HeatmapDay.camera == camera, HeatmapDay.day_start >= lo,
                   HeatmapDay.day_start < hi)
        )
    ]  # fmt: skip


def heat_cameras(session: Session) -> list[str]:
    """The cameras with a heatmap history, by name."""
    return list(
        session.execute(select(HeatmapHour.camera).distinct().order_by(HeatmapHour.camera))
        .scalars()
        .all()
    )
