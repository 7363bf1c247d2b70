"""The engine's alert monitor: feeds the rules of app/alerts.py and publishes alerts.

Bus events feed the rules that watch the cameras and zones (`CameraStatus`,
`Occupancy`, `QueueStatus`); a thread ticks once a second for the rules that wait
(a camera down for `delay_s`) and every `alerts.check_s` looks at the store's disk,
its HQ backlog and its retention runs. What the rules decide goes on the bus as
`AlertOpened` / `AlertUpdated` / `AlertResolved` (app/alerts.py): the store writer keeps it (and
queues it for HQ), the desktop shows it, `serve` logs it. The desktop and the headless
server run the same monitor, so an alert never depends on a window being open.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from app import alerts as rules
from app.alerts import AlertBook, Decision, Observation, RuleParams
from app.config import AlertRule, AppConfig
from app.drift_check import DriftCheck
from app.events import CameraStatus, EventBus, Occupancy, QueueStatus

if TYPE_CHECKING:
    from app.store.db import Store

log = logging.getLogger(__name__)

TICK_S = 1.0
DRIFT_EVERY_S = 300.0  # a camera's view and its counts' pattern are looked at this often
# rules fed by events that only come on a change: after a restart their alerts cannot
# be confirmed, so they resolve (and reopen if the trouble is still there)
EVENT_FED = (rules.OVER_CAPACITY, rules.QUEUE_LENGTH, rules.QUEUE_WAIT)


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


def rule_params(cfg: AppConfig) -> dict[str, RuleParams]:
    """The timings of every rule, from the `alerts` settings."""
    a = cfg.alerts

    def p(r: AlertRule) -> RuleParams:
        return RuleParams(r.enabled, r.delay_s, r.clear_s, r.cooldown_s)

    return {
        rules.CAMERA_OFFLINE: p(a.camera_offline),
        rules.OVER_CAPACITY: p(a.over_capacity),
        rules.QUEUE_LENGTH: p(a.queue),
        rules.QUEUE_WAIT: p(a.queue),
        rules.SYNC_BACKLOG: p(a.sync_backlog),
        rules.DISK_LOW: p(a.disk),
        rules.RETENTION_FAILING: p(a.retention),
        rules.CAMERA_MOVED: p(a.camera_moved),
        rules.COUNT_DRIFT: p(a.count_drift),
    }


class AlertMonitor:
    """See the module docstring. `start()` / `stop()`; `apply_config()` live."""

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
        disk_usage: Callable[[Path], DiskUsage] | None = None,
        views: Callable[[str], Any] | None = None,
        drift_every_s: float = DRIFT_EVERY_S,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.store = store
        self.clock = clock
        self._disk_usage = disk_usage or (lambda p: DiskUsage(*shutil.disk_usage(p)))
        self.book = AlertBook(rule_params(cfg))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._started_at = clock()
        self._next_check = 0.0
        # the drift check (app/drift_check.py): the cameras' current pictures, if any
        self.drift = DriftCheck(views, drift_every_s)

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._started_at = self.clock()
        self._restore()
        for handler, kind in (
            (self._on_camera, CameraStatus),
            (self._on_occupancy, Occupancy),
            (self._on_queue, QueueStatus),
        ):
            self._unsubscribe.append(self.bus.subscribe(handler, kind))
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="alert-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; open alerts stay open in the store (a camera still down at a
        restart keeps its alert)."""
        for unsub in self._unsubscribe:
            unsub()
        self._unsubscribe.clear()
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)

    def apply_config(self, cfg: AppConfig) -> None:
        """New thresholds and timings; alerts of cameras or zones that are gone resolve."""
        with self._lock:
            self.cfg = cfg
            self.book.params = rule_params(cfg)
            self._next_check = 0.0
            self._forget_missing(self.clock())

    def open_alerts(self) -> list[rules.AlertRecord]:
        with self._lock:
            return self.book.open_alerts()

    # --- feeding the rules -----------------------------------------------------------

    def observe(self, obs: Observation) -> None:
        with self._lock:
            self._publish(self.book.observe(obs, self.clock()))

    def _on_camera(self, e: CameraStatus) -> None:
        if e.camera not in {c.name for c in self.cfg.cameras}:
            return
        why = "refused the user name or password" if e.status == "auth_failed" else e.status
        detail = f" ({e.message})" if e.message else ""
        self.observe(
            Observation(
                rules.CAMERA_OFFLINE,
                e.camera,
                rules.camera_down(e.status),
                message=f"{e.camera} is down: {why}{detail}",
                camera=e.camera,
            )
        )

    def _on_occupancy(self, e: Occupancy) -> None:
        cap = next((z.capacity for z in self.cfg.zones if z.name == e.zone), None)
        msg = f"{e.zone}: {e.count} people (capacity {cap})"
        self.observe(
            Observation(
                rules.OVER_CAPACITY, e.zone, rules.above(e.count, cap), msg, e.camera, e.zone
            )
        )

    def _on_queue(self, e: QueueStatus) -> None:
        q = self.cfg.alerts.queue
        length = Observation(
            rules.QUEUE_LENGTH,
            e.zone,
            rules.above(e.length, q.max_length or None),
            f"{e.zone}: {e.length} people waiting (limit {q.max_length})",
            e.camera,
            e.zone,
        )
        wait = Observation(
            rules.QUEUE_WAIT,
            e.zone,
            rules.above(e.longest_wait_s, q.max_wait_s or None),
            f"{e.zone}: someone has waited {e.longest_wait_s / 60:.0f} min "
            f"(limit {q.max_wait_s / 60:.0f} min)",
            e.camera,
            e.zone,
        )
        with self._lock:
            now = self.clock()
            self._publish(self.book.observe(length, now) + self.book.observe(wait, now))

    # --- the clock ----------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception:  # a broken check must not end the watching
                log.exception("alert check failed")

    def tick(self) -> None:
        """Time passes (delays run out); every `check_s` the store-wide checks run."""
        now = self.clock()
        due = now >= self._next_check
        found = self._store_checks(now) if due else []
        if self.store is not None:
            found += self.drift.observations(self.cfg, self.store, now)
        with self._lock:
            if due:
                self._next_check = now + self.cfg.alerts.check_s
            for obs in found:
                self._publish(self.book.observe(obs, now))
            self._publish(self.book.tick(now))

    def _store_checks(self, now: float) -> list[Observation]:
        """Disk space of the data directory, the HQ backlog, retention (outside the lock:
        they read the disk and the store)."""
        if self.store is None:
            return []
        a = self.cfg.alerts
        out = []
        du = self._disk_usage(Path(self.store.path).parent)
        low = rules.disk_low(du.free, du.total, a.disk.min_free_pct, a.disk.min_free_mb << 20)
        msg = f"the data disk is nearly full: {du.free / 2**30:.1f} GB free"
        out.append(Observation(rules.DISK_LOW, rules.DISK_SUBJECT, low, msg))
        if self.cfg.sync.enabled:
            oldest = _oldest_unsent(self.store)
            old = rules.backlog_too_old(oldest, now, a.sync_backlog.max_age_h * 3600)
            age = (now - oldest) / 3600 if oldest is not None else 0.0
            msg = f"data for HQ has waited {age:.1f} h: check the HQ address, key and network"
            out.append(Observation(rules.SYNC_BACKLOG, rules.HQ_SUBJECT, old, msg))
        last = _last_retention(self.store)
        failing = rules.retention_failing(last, self._started_at, now, a.retention.max_age_h * 3600)
        msg = "old images and events are not being deleted: retention has not run"
        out.append(Observation(rules.RETENTION_FAILING, rules.STORE_SUBJECT, failing, msg))
        return out

    # --- helpers --------------------------------------------------------------------------

    def _restore(self) -> None:
        """Alerts the store holds open stay the open ones (no second alert after a
        restart); those that cannot be confirmed any more resolve."""
        if self.store is None:
            return
        from app.store.alert_log import list_alerts

        with self.store.read_session() as s:
            held = list_alerts(s)
        with self._lock:
            self.book.restore(held)
            now = self.clock()
            for kind in EVENT_FED:
                self._publish(self.book.forget(kind, (), now))
            self._forget_missing(now)

    def _forget_missing(self, now: float) -> None:
        """Cameras removed or switched off, zones removed or without a capacity any more,
        queue areas no longer queues: their alerts resolve."""
        cfg = self.cfg
        cams = [c.name for c in cfg.cameras if c.enabled]
        capped = [z.name for z in cfg.zones if z.capacity is not None]
        queues = [z.name for z in cfg.zones if z.kind == "queue"]
        self._publish(self.book.forget(rules.CAMERA_OFFLINE, cams, now))
        for kind in (rules.CAMERA_MOVED, rules.COUNT_DRIFT):
            self._publish(self.book.forget(kind, cams, now))
        self._publish(self.book.forget(rules.OVER_CAPACITY, capped, now))
        for kind in (rules.QUEUE_LENGTH, rules.QUEUE_WAIT):
            self._publish(self.book.forget(kind, queues, now))

    def _publish(self, decisions: list[Decision]) -> None:
        for d in decisions:
            a = d.alert
            if d.change in ("opened", "reopened"):
                again = f" (again, {a.count} times)" if d.change == "reopened" else ""
                log.warning("alert %s [%s %s]: %s%s", a.id[:8], a.kind, a.subject, a.message,
                            again)  # fmt: skip
            elif d.change == "resolved":
                log.info("alert %s [%s %s] resolved after %s", a.id[:8], a.kind, a.subject,
                         _duration((a.resolved_at or a.last_seen) - a.opened_at))  # fmt: skip
            self.bus.publish(d.event())


def _duration(s: float) -> str:
    s = max(0.0, s)
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def _oldest_unsent(store: Any) -> float | None:
    with store.read_session() as s:
        row = (
            s.connection()
            .exec_driver_sql("SELECT min(created_at) FROM sync_outbox WHERE sent_at IS NULL")
            .first()
        )
    return None if row is None or row[0] is None else float(row[0])


def _last_retention(store: Any) -> float | None:
    from app.store.retention import last_run

    return last_run(store)
