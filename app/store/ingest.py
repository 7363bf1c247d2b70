"""Vision events -> rows, rollups and outbox entries, applied in the writer's transaction.

Events of one batch are grouped by table and written with `executemany`; rollup deltas
are summed in memory and upserted once per touched 15-minute bucket; each touched bucket
is queued (or refreshed) in the sync outbox. Rollup meaning per scope:

- line (name = line):  entries/exits = in/out crossings; passersby = PassedBy on that line
- zone (name = zone):  entries = ZoneEnter (not revisits); exits, dwell = VisitClosed
                       (bucket of the exit time); occupancy_peak = max Occupancy count
- entrance:            entries = EntranceEntered; passersby = PassedBy
- camera:              entries/exits = its line crossings; passersby; occupancy_peak
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app import events as ev
from app.store.outbox import alert_outbox, enqueue, rollup_key, rollup_payload

log = logging.getLogger(__name__)

BUCKET_S = 900
VISION_EVENT_TYPES: tuple[type, ...] = (
    ev.LineCross,
    ev.ZoneEnter,
    ev.ZoneExit,
    ev.VisitClosed,
    ev.PassedBy,
    ev.EntranceEntered,
    ev.Occupancy,
    ev.NewVisitor,
    ev.CameraStatus,
    ev.Alert,
)

SQL = {
    "line": "INSERT INTO line_crossings (camera, line, direction, ts, track_id, visitor_id) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "passby": "INSERT INTO passby_events (camera, entrance, ts) VALUES (?, ?, ?)",
    "entrance": "INSERT INTO entrance_events (camera, entrance, zone, ts, track_id, visitor_id) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "occupancy": "INSERT INTO occupancy_samples (camera, zone, ts, count) VALUES (?, ?, ?, ?)",
    "visit_open": "INSERT INTO zone_visits (id, visitor_id, camera, zone, enter_ts) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
    "visit_reopen": "UPDATE zone_visits SET exit_ts = NULL WHERE id = ?",
    "visit_exit": "UPDATE zone_visits SET exit_ts = ?, dwell_s = ? WHERE id = ?",
    "visit_close": "INSERT INTO zone_visits (id, visitor_id, camera, zone, enter_ts, exit_ts, "
    "dwell_s) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
    "exit_ts = excluded.exit_ts, dwell_s = excluded.dwell_s",
    "visitor": "INSERT INTO visitors (id, first_seen, last_seen, camera, is_staff) "
    "VALUES (?, ?, ?, ?, 0) ON CONFLICT(id) DO UPDATE SET "
    "last_seen = max(last_seen, excluded.last_seen), first_seen = min(first_seen, excluded.first_seen)",
    "crop": "INSERT INTO person_crops (visitor_id, zone, created_at, expires_at, jpeg) "
    "VALUES (?, ?, ?, ?, ?)",
    "health": "INSERT INTO camera_health (camera, ts, status, source_fps, message) "
    "VALUES (?, ?, ?, ?, ?)",
    "alert": "INSERT INTO alerts (id, kind, message, camera, zone, ts, acknowledged_by) "
    "VALUES (?, ?, ?, ?, ?, ?, '') ON CONFLICT(id) DO NOTHING",
}
# order in which row groups are written (visits before their updates)
VISIT_OPS = ("visit_open", "visit_reopen", "visit_exit", "visit_close")  # applied in event order
ORDER = (
    "visitor",
    "line",
    "passby",
    "entrance",
    "occupancy",
    "crop",
    "health",
    "alert",
)

ROLLUP_UPSERT = (
    "INSERT INTO rollups (bucket_start, scope, camera, name, entries, exits, passersby, "
    "occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(scope, name, bucket_start) DO UPDATE SET "
    "camera = excluded.camera, entries = entries + excluded.entries, "
    "exits = exits + excluded.exits, passersby = passersby + excluded.passersby, "
    "occupancy_peak = max(occupancy_peak, excluded.occupancy_peak), "
    "dwell_count = dwell_count + excluded.dwell_count, "
    "dwell_sum_s = dwell_sum_s + excluded.dwell_sum_s, "
    "dwell_max_s = max(dwell_max_s, excluded.dwell_max_s), updated_at = excluded.updated_at"
)
ROLLUP_SELECT = (
    "SELECT scope, camera, name, bucket_start, entries, exits, passersby, occupancy_peak, "
    "dwell_count, dwell_sum_s, dwell_max_s FROM rollups "
    "WHERE scope = ? AND name = ? AND bucket_start = ?"
)
_COLS = ("scope", "camera", "name", "bucket_start", "entries", "exits", "passersby",
         "occupancy_peak", "dwell_count", "dwell_sum_s", "dwell_max_s")  # fmt: skip


def bucket_of(ts: float) -> float:
    return float(math.floor(ts / BUCKET_S) * BUCKET_S)


@dataclass
class IngestOptions:
    crop_ttl_s: float = 7 * 86400.0  # person crops expire (retention: person_crops_days)
    occupancy_min_interval_s: float = 5.0  # a changed count is stored at most this often
    occupancy_max_interval_s: float = 60.0  # an unchanged count is stored this often
    outbox: bool = True  # queue touched rollups for HQ


@dataclass
class _Delta:
    camera: str
    v: list[float] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0.0, 0.0])
    # entries, exits, passersby, occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s


class Ingestor:
    """Stateful only for occupancy sampling (last stored sample per camera/zone)."""

    def __init__(self, options: IngestOptions | None = None) -> None:
        self.options = options or IngestOptions()
        self._occ_last: dict[tuple[str, str], tuple[float, int]] = {}
        self._handlers = {
            ev.LineCross: self._line,
            ev.ZoneEnter: self._enter,
            ev.ZoneExit: self._exit,
            ev.VisitClosed: self._closed,
            ev.PassedBy: self._passby,
            ev.EntranceEntered: self._entrance,
            ev.Occupancy: self._occupancy,
            ev.NewVisitor: self._new_visitor,
            ev.CameraStatus: self._status,
            ev.Alert: self._alert,
        }

    # --- batch --------------------------------------------------------------------

    def apply(self, session: Session, events: list[Any]) -> None:
        self._rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._deltas: dict[tuple[str, str, float], _Delta] = {}
        self._outbox: list[tuple[str, str, dict[str, Any]]] = []
        self._visit_ops: list[tuple[str, tuple[Any, ...]]] = []
        for e in events:
            handler = self._handlers.get(type(e))
            if handler is None:
                raise TypeError(f"the store does not persist {type(e).__name__} events")
            handler(e)
        conn = session.connection()
        for name in ORDER:
            rows = self._rows.get(name)
            if rows:
                conn.exec_driver_sql(SQL[name], rows)
        for name, run in itertools.groupby(self._visit_ops, key=lambda op: op[0]):
            conn.exec_driver_sql(SQL[name], [params for _, params in run])
        self._write_rollups(session)
        for kind, key, payload in self._outbox:
            enqueue(session, kind, key, payload)

    def _write_rollups(self, session: Session) -> None:
        if not self._deltas:
            return
        conn = session.connection()
        now = time.time()
        params = [
            (b, scope, d.camera, name, *d.v, now) for (scope, name, b), d in self._deltas.items()
        ]
        conn.exec_driver_sql(ROLLUP_UPSERT, params)
        if not self.options.outbox:
            return
        for scope, name, b in self._deltas:
            row = conn.exec_driver_sql(ROLLUP_SELECT, (scope, name, b)).fetchone()
            payload = rollup_payload(dict(zip(_COLS, row, strict=True)))
            enqueue(session, "rollup", rollup_key(scope, name, b), payload)

    def _roll(self, scope: str, name: str, camera: str, ts: float) -> list[float]:
        k = (scope, name, bucket_of(ts))
        d = self._deltas.get(k)
        if d is None:
            d = self._deltas[k] = _Delta(camera)
        return d.v

    def _touch(self, visitor_id: str, ts: float, camera: str) -> None:
        if visitor_id:
            self._rows["visitor"].append((visitor_id, ts, ts, camera))

    # --- one handler per event type -----------------------------------------------------

    def _line(self, e: ev.LineCross) -> None:
        self._rows["line"].append((e.camera, e.line, e.direction, e.ts, e.track_id, e.visitor_id))
        i = 0 if e.direction == "in" else 1
        self._roll("line", e.line, e.camera, e.ts)[i] += 1
        self._roll("camera", e.camera, e.camera, e.ts)[i] += 1
        self._touch(e.visitor_id, e.ts, e.camera)

    def _enter(self, e: ev.ZoneEnter) -> None:
        self._touch(e.visitor_id, e.ts, e.camera)
        if e.revisit:
            self._visit_ops.append(("visit_reopen", (e.visit_id,)))
            return
        self._visit_ops.append(("visit_open", (e.visit_id, e.visitor_id, e.camera, e.zone, e.ts)))
        self._roll("zone", e.zone, e.camera, e.ts)[0] += 1

    def _exit(self, e: ev.ZoneExit) -> None:
        self._visit_ops.append(("visit_exit", (e.ts, e.dwell_s, e.visit_id)))
        self._touch(e.visitor_id, e.ts, e.camera)

    def _closed(self, e: ev.VisitClosed) -> None:
        row = (e.visit_id, e.visitor_id, e.camera, e.zone, e.enter_ts, e.exit_ts, e.dwell_s)
        self._visit_ops.append(("visit_close", row))
        v = self._roll("zone", e.zone, e.camera, e.exit_ts)
        v[1] += 1
        v[4] += 1
        v[5] += e.dwell_s
        v[6] = max(v[6], e.dwell_s)

    def _passby(self, e: ev.PassedBy) -> None:
        self._rows["passby"].append((e.camera, e.entrance, e.ts))
        self._roll("entrance", e.entrance, e.camera, e.ts)[2] += 1
        self._roll("line", e.line, e.camera, e.ts)[2] += 1
        self._roll("camera", e.camera, e.camera, e.ts)[2] += 1

    def _entrance(self, e: ev.EntranceEntered) -> None:
        self._rows["entrance"].append(
            (e.camera, e.entrance, e.zone, e.ts, e.track_id, e.visitor_id)
        )
        self._roll("entrance", e.entrance, e.camera, e.ts)[0] += 1
        self._touch(e.visitor_id, e.ts, e.camera)

    def _occupancy(self, e: ev.Occupancy) -> None:
        for scope, name in (("zone", e.zone), ("camera", e.camera)):
            if name:
                v = self._roll(scope, name, e.camera, e.ts)
                v[3] = max(v[3], e.count)
        last = self._occ_last.get((e.camera, e.zone))
        o = self.options
        if last is not None:
            age = e.ts - last[0]
            changed = e.count != last[1]
            if not (
                (changed and age >= o.occupancy_min_interval_s) or age >= o.occupancy_max_interval_s
            ):
                return
        self._occ_last[(e.camera, e.zone)] = (e.ts, e.count)
        self._rows["occupancy"].append((e.camera, e.zone, e.ts, e.count))

    def _new_visitor(self, e: ev.NewVisitor) -> None:
        self._touch(e.visitor_id, e.ts, e.camera)
        if e.crop_jpeg:
            expires = e.ts + self.options.crop_ttl_s
            self._rows["crop"].append((e.visitor_id, e.zone, e.ts, expires, e.crop_jpeg))

    def _status(self, e: ev.CameraStatus) -> None:
        self._rows["health"].append((e.camera, e.ts, e.status, e.source_fps, e.message))

    def _alert(self, e: ev.Alert) -> None:
        self._rows["alert"].append((e.id, e.kind, e.message, e.camera, e.zone, e.ts))
        if self.options.outbox:
            key, data = alert_outbox(
                {"id": e.id, "kind": e.kind, "message": e.message, "camera": e.camera,
                 "zone": e.zone, "ts": e.ts, "acknowledged_at": None}
            )  # fmt: skip
            self._outbox.append(("alert", key, data))
