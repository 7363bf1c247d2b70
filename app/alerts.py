"""Alert rules: pure decisions plus a small book of the alerts they keep open.

One rule per kind. A rule watches subjects (a camera, a zone, the store's disk...) and
says whether each is in trouble; `step` turns that into opening, reopening or resolving
an alert, with three timings:

- `delay_s`: the trouble must last this long before an alert opens (a camera that
  reconnects within a second is no outage);
- `clear_s`: the trouble must be gone this long before the alert resolves (occupancy
  flickers around a capacity as people pass behind each other);
- `cooldown_s`: trouble coming back within this long of a resolve reopens the same alert
  (its count grows) instead of adding a new one.

At most one alert is open per (kind, subject): that is the de-duplication. Time is
always passed in, so tests run on a fake clock. This module imports nothing of the app:
the engine's alert monitor feeds it, the store keeps what it decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Final, Literal

CAMERA_OFFLINE: Final = "camera_offline"
OVER_CAPACITY: Final = "over_capacity"
QUEUE_LENGTH: Final = "queue_length"
QUEUE_WAIT: Final = "queue_wait"
SYNC_BACKLOG: Final = "sync_backlog"
DISK_LOW: Final = "disk_low"
RETENTION_FAILING: Final = "retention_failing"
CAMERA_MOVED: Final = "camera_moved"  # the view changed: a new counting audit is needed
COUNT_DRIFT: Final = "count_drift"  # counts far from the usual pattern: audit again
RULE_KINDS: Final = (
    CAMERA_OFFLINE,
    OVER_CAPACITY,
    QUEUE_LENGTH,
    QUEUE_WAIT,
    SYNC_BACKLOG,
    DISK_LOW,
    RETENTION_FAILING,
    CAMERA_MOVED,
    COUNT_DRIFT,
)
# the subjects of the store-wide rules
HQ_SUBJECT: Final = "hq"
DISK_SUBJECT: Final = "data"
STORE_SUBJECT: Final = "store"

Action = Literal["none", "open", "reopen", "resolve"]


@dataclass(frozen=True)
class RuleParams:
    """The timings of one rule (its threshold is the caller's: see the `*_bad` helpers)."""

    enabled: bool = True
    delay_s: float = 0.0
    clear_s: float = 0.0
    cooldown_s: float = 0.0


@dataclass(frozen=True)
class Memo:
    """What a rule remembers of one subject between two observations."""

    bad: bool = False
    bad_since: float | None = None  # in trouble since (while `bad`)
    ok_since: float | None = None  # out of trouble since (while not `bad`)
    is_open: bool = False
    resolved_at: float | None = None  # the last resolve (for the cooldown)


def step(p: RuleParams, m: Memo, bad: bool | None, now: float) -> tuple[Memo, Action]:
    """One observation of a subject at `now`: `bad` says whether it is in trouble (None:
    no news, e.g. a camera reconnecting, or a clock tick). Returns the new memo and what
    to do with the subject's alert."""
    if bad is None:
        bad = m.bad
    if not p.enabled:
        closed = Memo(resolved_at=now if m.is_open else m.resolved_at)
        return closed, "resolve" if m.is_open else "none"
    if bad:
        since = m.bad_since if m.bad and m.bad_since is not None else now
        m2 = replace(m, bad=True, bad_since=since, ok_since=None)
        if m.is_open or now - since < p.delay_s:
            return m2, "none"
        cooling = m.resolved_at is not None and now - m.resolved_at < p.cooldown_s
        return replace(m2, is_open=True), "reopen" if cooling else "open"
    ok = m.ok_since if not m.bad and m.ok_since is not None else now
    m2 = replace(m, bad=False, bad_since=None, ok_since=ok)
    if m.is_open and now - ok >= p.clear_s:
        return replace(m2, is_open=False, resolved_at=now), "resolve"
    return m2, "none"


# --- the conditions: is a subject in trouble? ---------------------------------------

CAMERA_DOWN_STATUSES: Final = ("stalled", "offline", "auth_failed")
CAMERA_FINE_STATUSES: Final = ("live", "ended", "stopped")


def camera_down(status: str) -> bool | None:
    """A camera status: down, fine (live, or stopped on purpose), or no news
    (connecting: an outage goes on while the reader retries)."""
    if status in CAMERA_DOWN_STATUSES:
        return True
    if status in CAMERA_FINE_STATUSES:
        return False
    return None


def above(value: float, limit: float | None) -> bool:
    """Over a limit (no limit: never)."""
    return limit is not None and value > limit


def backlog_too_old(oldest_unsent: float | None, now: float, max_age_s: float) -> bool:
    """The oldest row not yet accepted by HQ waited longer than `max_age_s`."""
    return oldest_unsent is not None and now - oldest_unsent > max_age_s


def disk_low(free: int, total: int, min_free_pct: float, min_free_bytes: int) -> bool:
    """Less free space than either limit (a share of the disk, or bytes)."""
    if total <= 0:
        return False
    return free < min_free_bytes or 100.0 * free / total < min_free_pct


def retention_failing(
    last_ok: float | None, started: float, now: float, max_age_s: float, grace_s: float = 600.0
) -> bool:
    """No successful retention run for `max_age_s` (counted from `started`, the start of
    watching, while none ever succeeded). Retention runs at every start, so for the first
    `grace_s` after one an old last run is no news yet."""
    if now - started < grace_s:
        return False
    ref = last_ok if last_ok is not None else started
    return now - ref > max_age_s


# --- the book of alerts -----------------------------------------------------------------


def view_moved(similarity: float | None, min_similarity: float) -> bool | None:
    """A camera's view against its reference (app/vision/view_drift.py): moved when
    less alike than `min_similarity`; None without a view or reference to compare."""
    return None if similarity is None else similarity < min_similarity


def counts_off(z: float | None, max_z: float) -> bool | None:
    """Today's entries against the usual pattern (app/count_pattern.py): off when the
    robust z-score is beyond `max_z` either way; None when there is too little to judge."""
    return None if z is None else abs(z) > max_z


@dataclass(frozen=True)
class AlertRecord:
    """One alert as the store keeps it (`opened_at` is the store's `ts`). On the bus it
    travels as one of the three subclasses below, as it is after a change: the store
    upserts it by id (an acknowledgement is never undone by a later change)."""

    id: str
    kind: str
    subject: str
    message: str
    opened_at: float
    last_seen: float
    camera: str = ""
    zone: str = ""
    count: int = 1  # episodes folded into this alert (reopened within the cooldown)
    resolved_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str = ""

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class AlertOpened(AlertRecord):
    """A new alert, or one reopened within its rule's cooldown (count > 1)."""


@dataclass(frozen=True)
class AlertUpdated(AlertRecord):
    """Still open (seen again), or acknowledged."""


@dataclass(frozen=True)
class AlertResolved(AlertRecord):
    """The trouble is over (`resolved_at`)."""


Change = Literal["opened", "reopened", "seen", "resolved", "acknowledged"]
EVENTS: Final[dict[str, type[AlertRecord]]] = {
    "opened": AlertOpened,
    "reopened": AlertOpened,
    "resolved": AlertResolved,
}


@dataclass(frozen=True)
class Decision:
    """A change to one alert, with the alert after it."""

    change: Change
    alert: AlertRecord

    def event(self) -> AlertRecord:
        """The alert as the bus carries it: AlertOpened, AlertUpdated or AlertResolved."""
        cls = EVENTS.get(self.change, AlertUpdated)
        return cls(**{f.name: getattr(self.alert, f.name) for f in fields(AlertRecord)})


@dataclass(frozen=True)
class Observation:
    """Whether a subject is in trouble, and what to say about it if an alert opens."""

    kind: str
    subject: str
    bad: bool | None
    message: str = ""
    camera: str = ""
    zone: str = ""


@dataclass
class AlertBook:
    """The rules' memory and their alerts (one thread at a time: the monitor locks)."""

    params: Mapping[str, RuleParams]
    seen_every_s: float = 60.0  # an open alert's `last_seen` is reported this often
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    memos: dict[tuple[str, str], Memo] = field(default_factory=dict)
    alerts: dict[tuple[str, str], AlertRecord] = field(default_factory=dict)  # latest per key
    _reported_seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _notes: dict[tuple[str, str], Observation] = field(default_factory=dict)

    def observe(self, obs: Observation, now: float) -> list[Decision]:
        key = (obs.kind, obs.subject)
        if obs.bad is not None or key not in self._notes:
            self._notes[key] = obs
        return self._step(key, obs.bad, now)

    def tick(self, now: float) -> list[Decision]:
        """Time passes: delays and clear times run out, open alerts are seen again."""
        out: list[Decision] = []
        for key in list(self.memos):
            out += self._step(key, None, now)
        return out

    def forget(self, kind: str, keep: Iterable[str], now: float) -> list[Decision]:
        """Subjects of `kind` that are gone (a camera or zone removed): their alerts
        resolve and their memory goes."""
        wanted = set(keep)
        out: list[Decision] = []
        for key in [k for k in self.memos if k[0] == kind and k[1] not in wanted]:
            out += self._step(key, False, now, params=RuleParams(clear_s=0.0))
            self.memos.pop(key, None)
            self._notes.pop(key, None)
        return out

    def restore(self, alerts: Iterable[AlertRecord]) -> None:
        """Alerts the store holds open (after a restart): they stay the open ones."""
        for a in alerts:
            if a.kind in self.params and a.is_open:
                key = (a.kind, a.subject)
                self.alerts[key] = replace(a)
                self.memos[key] = Memo(bad=True, bad_since=a.opened_at, is_open=True)
                self._reported_seen[key] = a.last_seen

    def acknowledge(self, alert_id: str, who: str, now: float) -> Decision | None:
        for key, a in self.alerts.items():
            if a.id == alert_id and a.acknowledged_at is None:
                a = self.alerts[key] = replace(a, acknowledged_at=now, acknowledged_by=who)
                return Decision("acknowledged", a)
        return None

    def open_alerts(self) -> list[AlertRecord]:
        return [a for a in self.alerts.values() if a.is_open]

    def _step(
        self, key: tuple[str, str], bad: bool | None, now: float, params: RuleParams | None = None
    ) -> list[Decision]:
        p = params or self.params.get(key[0])
        if p is None:
            return []
        memo, action = step(p, self.memos.get(key, Memo()), bad, now)
        self.memos[key] = memo
        a = self.alerts.get(key)
        if action == "open" or (action == "reopen" and a is None):
            a = self.alerts[key] = self._new(key, now)
            self._reported_seen[key] = now
            return [Decision("opened", a)]
        if a is None:
            return []
        if action == "reopen":
            note = self._notes.get(key)
            message = note.message if note is not None and note.message else a.message
            a = self.alerts[key] = replace(  # trouble again: to be acknowledged again
                a, resolved_at=None, count=a.count + 1, last_seen=now, message=message,
                acknowledged_at=None, acknowledged_by="",
            )  # fmt: skip
            self._reported_seen[key] = now
            return [Decision("reopened", a)]
        if action == "resolve":
            a = self.alerts[key] = replace(a, resolved_at=now, last_seen=max(a.last_seen, now))
            return [Decision("resolved", a)]
        if a.is_open and memo.bad:
            a = self.alerts[key] = replace(a, last_seen=now)
            if now - self._reported_seen.get(key, now) >= self.seen_every_s:
                self._reported_seen[key] = now
                return [Decision("seen", a)]
        return []

    def _new(self, key: tuple[str, str], now: float) -> AlertRecord:
        note = self._notes.get(key) or Observation(key[0], key[1], True)
        return AlertRecord(
            id=self.new_id(),
            kind=key[0],
            subject=key[1],
            message=note.message or f"{key[0].replace('_', ' ')}: {key[1]}",
            opened_at=now,
            last_seen=now,
            camera=note.camera,
            zone=note.zone,
        )
