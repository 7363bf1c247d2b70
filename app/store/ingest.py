"""Vision events -> rows, rollups and outbox entries, applied in the writer's transaction.

Events of one batch are grouped by table and written with `executemany`; rollup deltas
are summed in memory and upserted once per touched 15-minute bucket; each touched bucket
is queued (or refreshed) in the sync outbox. Rollup meaning per scope:

- line (name = line):  a door line (`LineCross.door`): entries/exits = in/out crossings;
                       passersby = PassedBy on that line
- aisle (name = line): the same for a line inside the store (not a door): never footfall
- zone (name = zone):  entries = ZoneEnter (not revisits); exits, dwell = VisitClosed
                       (bucket of the exit time); occupancy_peak = max Occupancy count
- entrance:            entries = EntranceEntered; passersby = PassedBy
- camera:              entries/exits = its door lines' crossings; passersby; occupancy_peak

A `StaffRetracted` (a track recognised as staff after it was counted) takes its counts
back: its crossings, entrance entries and zone visits are deleted, the rollups they
went into are decremented (which queues the changed buckets for HQ again: a bucket
already sent is corrected by a newer row), its person crops leave the tablets' list
and its visitor row is marked staff.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app import alerts
from app import events as ev
from app.store.outbox import alert_outbox, dumps, enqueue_json, rollup_key, rollup_payload

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
    ev.StaffRetracted,
    ev.CameraStatus,
    ev.Alert,
    alerts.AlertRecord,
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
    "alert": "INSERT INTO alerts (id, kind, message, camera, zone, ts, acknowledged_by, subject, "
    "last_seen, count) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, 1) ON CONFLICT(id) DO NOTHING",
}
# an alert kept by a rule, upserted by id: times and counts only grow; an acknowledgement
# (made through the store, unknown to the rules) is kept by a later change, unless the
# change is a reopening (a higher count: trouble again, to be acknowledged again); the
# new state goes to the outbox
_KEEP_ACK = "CASE WHEN excluded.count > count THEN excluded.{0} ELSE {1} END"
ALERT_UPSERT = (
    "INSERT INTO alerts (id, kind, subject, message, camera, zone, ts, last_seen, count, "
    "resolved_at, acknowledged_at, acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET message = excluded.message, "
    "last_seen = max(last_seen, excluded.last_seen), count = max(count, excluded.count), "
    "resolved_at = excluded.resolved_at, "
    "acknowledged_by = "
    + _KEEP_ACK.format(
        "acknowledged_by",
        "CASE WHEN acknowledged_at IS NULL THEN excluded.acknowledged_by ELSE acknowledged_by END",
    )
    + ", "
    "acknowledged_at = "
    + _KEEP_ACK.format("acknowledged_at", "COALESCE(acknowledged_at, excluded.acknowledged_at)")
    + " "
    "RETURNING id, kind, subject, camera, zone, ts, last_seen, count, resolved_at, acknowledged_at"
)
ALERT_COLS = ("id", "kind", "subject", "camera", "zone", "ts", "last_seen", "count",
              "resolved_at", "acknowledged_at")  # fmt: skip
# a staff track's counted rows taken back (after the batch's inserts: they may be in it)
RETRACT_SQL = {
    "line": "DELETE FROM line_crossings WHERE camera = ? AND line = ? AND direction = ? "
    "AND track_id = ? AND ts = ?",
    "entrance": "DELETE FROM entrance_events WHERE camera = ? AND entrance = ? AND track_id = ? "
    "AND ts = ?",
    "visit": "DELETE FROM zone_visits WHERE id = ?",
    "crops": "DELETE FROM person_crops WHERE visitor_id = ?",
    "staff": "UPDATE visitors SET is_staff = 1 WHERE id = ?",
}
# order in which row groups are written (visits before their updates)
ORDER = (
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
    "camera = excluded.camera, entries = max(0, entries + excluded.entries), "
    "exits = max(0, exits + excluded.exits), passersby = passersby + excluded.passersby, "
    "occupancy_peak = max(occupancy_peak, excluded.occupancy_peak), "
    "dwell_count = max(0, dwell_count + excluded.dwell_count), "
    "dwell_sum_s = max(0, dwell_sum_s + excluded.dwell_sum_s), "
    "dwell_max_s = max(dwell_max_s, excluded.dwell_max_s), updated_at = excluded.updated_at"
)
ROLLUP_RETURNING = (
    " RETURNING scope, camera, name, bucket_start, entries, exits, passersby, occupancy_peak, "
    "dwell_count, dwell_sum_s, dwell_max_s"
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


@dataclass
class _VisitFold:
    """What a batch does to one visit: its opening row, its closing row, the last change."""

    open: tuple[Any, ...] | None = None
    close: tuple[Any, ...] | None = None
    last: tuple[str, tuple[Any, ...]] = ("", ())


def raw_cursor(session: Session) -> Any:
    """A DB-API cursor on the session's connection, inside its transaction (fast path)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


class Ingestor:
    """Stateful only for occupancy sampling (last stored sample per camera/zone)."""

    def __init__(self, options: IngestOptions | None = None) -> None:
        self.options = options or IngestOptions()
        self._occ_last: dict[tuple[str, str], tuple[float, int]] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.LineCross: self._line,
            ev.ZoneEnter: self._enter,
            ev.ZoneExit: self._exit,
            ev.VisitClosed: self._closed,
            ev.PassedBy: self._passby,
            ev.EntranceEntered: self._entrance,
            ev.Occupancy: self._occupancy,
            ev.NewVisitor: self._new_visitor,
            ev.StaffRetracted: self._retract,
            ev.CameraStatus: self._status,
            ev.Alert: self._alert,
            alerts.AlertOpened: self._alert_change,
            alerts.AlertUpdated: self._alert_change,
            alerts.AlertResolved: self._alert_change,
        }

    # --- batch --------------------------------------------------------------------

    def apply(self, session: Session, events: list[Any]) -> None:
        """Write `events` in the session's (writer) transaction: raw DB-API executemany."""
        self._rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._deltas: dict[tuple[str, str, float], _Delta] = {}
        self._outbox: list[tuple[str, str, dict[str, Any]]] = []
        self._visits: dict[str, _VisitFold] = {}
        self._visitors: dict[str, list[Any]] = {}
        self._alert_changes: list[tuple[Any, ...]] = []
        self._retracted: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for e in events:
            handler = self._handlers.get(type(e))
            if handler is None:
                raise TypeError(f"the store does not persist {type(e).__name__} events")
            handler(e)
        cur = raw_cursor(session)
        try:
            if self._visitors:
                cur.executemany(SQL["visitor"], [(k, *v) for k, v in self._visitors.items()])
            self._write_visits(cur)
            for name in ORDER:
                rows = self._rows.get(name)
                if rows:
                    cur.executemany(SQL[name], rows)
            for name, rows in self._retracted.items():
                cur.executemany(RETRACT_SQL[name], rows)
            self._write_rollups(cur)
            self._write_alert_changes(cur)
            now = time.time()
            for kind, key, data in self._outbox:
                enqueue_json(cur, kind, key, dumps(data), now)
        finally:
            cur.close()

    def _write_visits(self, cur: Any) -> None:
        """Visit changes folded per visit (open, then close, then the last exit/reopen)."""
        if not self._visits:
            return
        folds = self._visits.values()
        opens = [f.open for f in folds if f.open is not None]
        closes = [f.close for f in folds if f.close is not None]
        exits = [(*f.last[1], vid) for vid, f in self._visits.items() if f.last[0] == "exit"]
        reopens = [(vid,) for vid, f in self._visits.items() if f.last[0] == "reopen"]
        for name, rows in (("visit_open", opens), ("visit_close", closes),
                           ("visit_exit", exits), ("visit_reopen", reopens)):  # fmt: skip
            if rows:
                cur.executemany(SQL[name], rows)

    def _write_rollups(self, cur: Any) -> None:
        if not self._deltas:
            return
        now = time.time()
        params = [
            (b, scope, d.camera, name, *d.v, now) for (scope, name, b), d in self._deltas.items()
        ]
        if not self.options.outbox:
            cur.executemany(ROLLUP_UPSERT, params)
            return
        for p in params:  # one upsert per bucket, returning the new totals for the outbox
            row = cur.execute(ROLLUP_UPSERT + ROLLUP_RETURNING, p).fetchone()
            data = rollup_payload(dict(zip(_COLS, row, strict=True)))
            enqueue_json(cur, "rollup", rollup_key(row[0], row[2], row[3]), dumps(data), now)

    def _write_alert_changes(self, cur: Any) -> None:
        """Rule alerts in the order they changed; each new state is queued for HQ."""
        for params in self._alert_changes:
            row = cur.execute(ALERT_UPSERT, params).fetchone()
            if self.options.outbox and row is not None:
                key, data = alert_outbox(dict(zip(ALERT_COLS, row, strict=True)))
                self._outbox.append(("alert", key, data))

    def _roll(self, scope: str, name: str, camera: str, ts: float) -> list[float]:
        k = (scope, name, bucket_of(ts))
        d = self._deltas.get(k)
        if d is None:
            d = self._deltas[k] = _Delta(camera)
        return d.v

    def _touch(self, visitor_id: str, ts: float, camera: str) -> None:
        if visitor_id:
            v = self._visitors.get(visitor_id)
            if v is None:
                self._visitors[visitor_id] = [ts, ts, camera]
            else:
                v[0] = min(v[0], ts)
                v[1] = max(v[1], ts)

    def _visit(self, visit_id: str) -> _VisitFold:
        f = self._visits.get(visit_id)
        if f is None:
            f = self._visits[visit_id] = _VisitFold()
        return f

    # --- one handler per event type -----------------------------------------------------

    def _line(self, e: ev.LineCross) -> None:
        self._rows["line"].append((e.camera, e.line, e.direction, e.ts, e.track_id, e.visitor_id))
        i = 0 if e.direction == "in" else 1
        if e.door:
            self._roll("line", e.line, e.camera, e.ts)[i] += 1
            self._roll("camera", e.camera, e.camera, e.ts)[i] += 1
        else:  # a line inside the store: its own counts, no footfall
            self._roll("aisle", e.line, e.camera, e.ts)[i] += 1
        self._touch(e.visitor_id, e.ts, e.camera)

    def _enter(self, e: ev.ZoneEnter) -> None:
        self._touch(e.visitor_id, e.ts, e.camera)
        if e.revisit:
            self._visit(e.visit_id).last = ("reopen", ())
            return
        f = self._visit(e.visit_id)
        if f.open is None:
            f.open = (e.visit_id, e.visitor_id, e.camera, e.zone, e.ts)
        self._roll("zone", e.zone, e.camera, e.ts)[0] += 1

    def _exit(self, e: ev.ZoneExit) -> None:
        self._visit(e.visit_id).last = ("exit", (e.ts, e.dwell_s))
        self._touch(e.visitor_id, e.ts, e.camera)

    def _closed(self, e: ev.VisitClosed) -> None:
        f = self._visit(e.visit_id)
        f.close = (e.visit_id, e.visitor_id, e.camera, e.zone, e.enter_ts, e.exit_ts, e.dwell_s)
        f.last = ("close", ())
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

    def _retract(self, e: ev.StaffRetracted) -> None:
        """Take back what a track recognised as staff was counted for."""
        out = self._retracted
        for c in e.lines:
            i = 0 if c.direction == "in" else 1
            scopes = (("line", c.line), ("camera", e.camera)) if c.door else (("aisle", c.line),)
            for scope, name in scopes:
                self._roll(scope, name, e.camera, c.ts)[i] -= 1
            out["line"].append((e.camera, c.line, c.direction, e.track_id, c.ts))
        for n in e.entrances:
            self._roll("entrance", n.entrance, e.camera, n.ts)[0] -= 1
            out["entrance"].append((e.camera, n.entrance, e.track_id, n.ts))
        for v in e.visits:
            self._roll("zone", v.zone, e.camera, v.enter_ts)[0] -= 1
            if v.exit_ts is not None:  # its closing was counted: exits and dwell too
                d = self._roll("zone", v.zone, e.camera, v.exit_ts)
                d[1] -= 1
                d[4] -= 1
                d[5] -= v.dwell_s
            out["visit"].append((v.visit_id,))
        out["crops"].append((e.visitor_id,))
        out["staff"].append((e.visitor_id,))

    def _status(self, e: ev.CameraStatus) -> None:
        self._rows["health"].append((e.camera, e.ts, e.status, e.source_fps, e.message))

    def _alert(self, e: ev.Alert) -> None:
        """A one-off notice (no rule resolves it): open until acknowledged."""
        subject = e.zone or e.camera
        self._rows["alert"].append((e.id, e.kind, e.message, e.camera, e.zone, e.ts, subject, e.ts))
        if self.options.outbox:
            key, data = alert_outbox(
                {"id": e.id, "kind": e.kind, "subject": subject, "camera": e.camera,
                 "zone": e.zone, "ts": e.ts, "last_seen": e.ts, "count": 1,
                 "resolved_at": None, "acknowledged_at": None}
            )  # fmt: skip
            self._outbox.append(("alert", key, data))

    def _alert_change(self, e: alerts.AlertRecord) -> None:
        self._alert_changes.append(
            (e.id, e.kind, e.subject, e.message, e.camera, e.zone, e.opened_at, e.last_seen,
             e.count, e.resolved_at, e.acknowledged_at, e.acknowledged_by)
        )  # fmt: skip
