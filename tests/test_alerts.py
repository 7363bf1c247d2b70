"""Alert rules (app/alerts.py): the decision `step`, the conditions, and every rule
played on a fake clock: threshold, delay, cooldown, de-duplication, resolve."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest

from app import alerts as r
from app.alerts import AlertBook, AlertRecord, Memo, Observation, RuleParams, step
from app.config import AppConfig

# --- step: one observation -----------------------------------------------------------

P = RuleParams(delay_s=30, clear_s=10, cooldown_s=300)


@pytest.mark.parametrize(
    ("params", "memo", "bad", "now", "action", "after"),
    [
        # trouble starts: remembered, no alert before the delay
        (P, Memo(), True, 100, "none", Memo(bad=True, bad_since=100)),
        (P, Memo(bad=True, bad_since=100), True, 129.9, "none", Memo(bad=True, bad_since=100)),
        # the delay ran out (by an observation or a tick with no news)
        (P, Memo(bad=True, bad_since=100), True, 130, "open",
         Memo(bad=True, bad_since=100, is_open=True)),
        (P, Memo(bad=True, bad_since=100), None, 130, "open",
         Memo(bad=True, bad_since=100, is_open=True)),
        # no delay: at once
        (RuleParams(), Memo(), True, 5, "open", Memo(bad=True, bad_since=5, is_open=True)),
        # dedup: open already, more trouble changes nothing
        (P, Memo(bad=True, bad_since=100, is_open=True), True, 500, "none",
         Memo(bad=True, bad_since=100, is_open=True)),
        # trouble gone before the delay: forgotten, nothing to resolve
        (P, Memo(bad=True, bad_since=100), False, 110, "none", Memo(ok_since=110)),
        # no news keeps the last answer
        (P, Memo(ok_since=110), None, 200, "none", Memo(ok_since=110)),
        # open, trouble gone: resolves after clear_s
        (P, Memo(bad=True, bad_since=100, is_open=True), False, 200, "none",
         Memo(ok_since=200, is_open=True)),
        (P, Memo(ok_since=200, is_open=True), None, 209.9, "none",
         Memo(ok_since=200, is_open=True)),
        (P, Memo(ok_since=200, is_open=True), None, 210, "resolve",
         Memo(ok_since=200, resolved_at=210)),
        (RuleParams(), Memo(bad=True, bad_since=1, is_open=True), False, 7, "resolve",
         Memo(ok_since=7, resolved_at=7)),
        # flicker while open: the clear time starts again
        (P, Memo(ok_since=200, is_open=True), True, 205, "none",
         Memo(bad=True, bad_since=205, is_open=True)),
        # trouble again within the cooldown of a resolve: the same alert reopens
        (P, Memo(bad=True, bad_since=400, resolved_at=210), True, 430, "reopen",
         Memo(bad=True, bad_since=400, is_open=True, resolved_at=210)),
        # ... after the cooldown: a new alert
        (P, Memo(bad=True, bad_since=600, resolved_at=210), True, 630, "open",
         Memo(bad=True, bad_since=600, is_open=True, resolved_at=210)),
        # a rule switched off resolves what it holds open, and then stays quiet
        (RuleParams(enabled=False), Memo(bad=True, bad_since=1, is_open=True), True, 9,
         "resolve", Memo(resolved_at=9)),
        (RuleParams(enabled=False), Memo(), True, 9, "none", Memo()),
    ],
)  # fmt: skip
def test_step(
    params: RuleParams, memo: Memo, bad: bool | None, now: float, action: str, after: Memo
) -> None:
    assert step(params, memo, bad, now) == (after, action)


# --- the conditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "down"),
    [("offline", True), ("auth_failed", True), ("stalled", True), ("live", False),
     ("stopped", False), ("ended", False), ("connecting", None)],
)  # fmt: skip
def test_camera_down(status: str, down: bool | None) -> None:
    assert r.camera_down(status) is down


@pytest.mark.parametrize(
    ("value", "limit", "over"), [(3, 2, True), (2, 2, False), (0, 2, False), (99, None, False)]
)
def test_above(value: float, limit: float | None, over: bool) -> None:
    assert r.above(value, limit) is over


@pytest.mark.parametrize(
    ("oldest", "now", "max_age", "old"),
    [(None, 1e6, 10, False), (100, 110, 10, False), (100, 110.5, 10, True)],
)
def test_backlog_too_old(oldest: float | None, now: float, max_age: float, old: bool) -> None:
    assert r.backlog_too_old(oldest, now, max_age) is old


GB = 2**30


@pytest.mark.parametrize(
    ("free", "total", "pct", "min_bytes", "low"),
    [
        (50 * GB, 100 * GB, 5, GB, False),
        (4 * GB, 100 * GB, 5, GB, True),  # under 5 %
        (GB - 1, 10 * GB, 5, GB, True),  # under 1 GB though 10 %
        (GB, 10 * GB, 5, GB, False),
        (0, 0, 5, GB, False),  # no size known: no answer
    ],
)
def test_disk_low(free: int, total: int, pct: float, min_bytes: int, low: bool) -> None:
    assert r.disk_low(free, total, pct, min_bytes) is low


H = 3600.0


@pytest.mark.parametrize(
    ("last_ok", "started", "now", "failing"),
    [
        (None, 0, 300, False),  # just started: the start-up run has not finished
        (None, 0, 37 * H, True),  # never succeeded since the start
        (None, 0, 35 * H, False),
        (10 * H, 0, 40 * H, False),  # the last run is recent enough
        (1 * H, 0, 40 * H, True),
        (-100 * H, 0, 300, False),  # an old run: retention runs at every start (grace)
        (-100 * H, 0, 700, True),
    ],
)
def test_retention_failing(
    last_ok: float | None, started: float, now: float, failing: bool
) -> None:
    assert r.retention_failing(last_ok, started, now, 36 * H) is failing


# --- every rule on a fake clock ------------------------------------------------------------

# how each rule reads what it watches: (value, now) -> in trouble?
Cond = Callable[[Any, float], "bool | None"]
CONDITIONS: dict[str, Cond] = {
    r.CAMERA_OFFLINE: lambda status, now: r.camera_down(status),
    r.OVER_CAPACITY: lambda people, now: r.above(people, 2),  # a zone of capacity 2
    r.QUEUE_LENGTH: lambda length, now: r.above(length, 6),
    r.QUEUE_WAIT: lambda wait_s, now: r.above(wait_s, 300),
    r.SYNC_BACKLOG: lambda oldest, now: r.backlog_too_old(oldest, now, 6 * H),
    r.DISK_LOW: lambda free, now: r.disk_low(free, 100 * GB, 5, GB),
    r.RETENTION_FAILING: lambda last_ok, now: r.retention_failing(last_ok, 0, now, 36 * H),
    r.CAMERA_MOVED: lambda sim, now: r.view_moved(sim, 0.5),
    r.COUNT_DRIFT: lambda z, now: r.counts_off(z, 4.0),
}
DEFAULTS = AppConfig().alerts
PARAMS = {
    r.CAMERA_OFFLINE: DEFAULTS.camera_offline,
    r.OVER_CAPACITY: DEFAULTS.over_capacity,
    r.QUEUE_LENGTH: DEFAULTS.queue,
    r.QUEUE_WAIT: DEFAULTS.queue,
    r.SYNC_BACKLOG: DEFAULTS.sync_backlog,
    r.DISK_LOW: DEFAULTS.disk,
    r.RETENTION_FAILING: DEFAULTS.retention,
    r.CAMERA_MOVED: DEFAULTS.camera_moved,
    r.COUNT_DRIFT: DEFAULTS.count_drift,
}


def play(
    kind: str, timeline: list[tuple[float, Any]], end: float, tick_s: float = 1.0, **over: Any
) -> list[tuple[float, str, int, int]]:
    """Observe `timeline` [(t, value)] and tick every `tick_s` until `end`, on the rule's
    default timings (`over` replaces some); returns [(t, change, alert number, count)]."""
    cfg = PARAMS[kind]
    params = RuleParams(
        over.get("enabled", cfg.enabled),
        over.get("delay_s", cfg.delay_s),
        over.get("clear_s", cfg.clear_s),
        over.get("cooldown_s", cfg.cooldown_s),
    )
    ids = count(1)
    book = AlertBook({kind: params}, seen_every_s=1e9, new_id=lambda: str(next(ids)))
    events = sorted(timeline, key=lambda e: e[0])
    out: list[tuple[float, str, int, int]] = []
    t, last = 0.0, None
    while t <= end:
        while events and events[0][0] <= t:
            at, value = events.pop(0)
            last = value
            for d in book.observe(Observation(kind, "x", CONDITIONS[kind](value, at)), at):
                out.append((at, d.change, int(d.alert.id), d.alert.count))
        if last is not None:  # a tick: re-read the condition (time-based ones change)
            for d in book.observe(Observation(kind, "x", CONDITIONS[kind](last, t)), t):
                out.append((t, d.change, int(d.alert.id), d.alert.count))
        t = round(t + tick_s, 6)
    return out


CASES: list[tuple[str, str, list[tuple[float, Any]], float, dict[str, Any], list[Any]]] = [
    # camera offline: 30 s delay, resolved when it is back, 300 s cooldown
    ("camera: a blip under the delay is no alert", r.CAMERA_OFFLINE,
     [(0, "live"), (10, "offline"), (12, "connecting"), (20, "live")], 100, {}, []),
    ("camera: down for the delay opens, back resolves", r.CAMERA_OFFLINE,
     [(0, "live"), (10, "offline"), (60, "live")], 100, {},
     [(40, "opened", 1, 1), (60, "resolved", 1, 1)]),
    ("camera: statuses while down are one alert (dedup)", r.CAMERA_OFFLINE,
     [(10, "offline"), (15, "connecting"), (20, "offline"), (50, "auth_failed"),
      (80, "stalled"), (90, "offline")], 120, {}, [(40, "opened", 1, 1)]),
    ("camera: down again within the cooldown reopens it", r.CAMERA_OFFLINE,
     [(0, "offline"), (40, "live"), (100, "offline"), (200, "live")], 250, {},
     [(30, "opened", 1, 1), (40, "resolved", 1, 1), (130, "reopened", 1, 2),
      (200, "resolved", 1, 2)]),
    ("camera: down again after the cooldown is a new alert", r.CAMERA_OFFLINE,
     [(0, "offline"), (40, "live"), (400, "offline")], 450, {},
     [(30, "opened", 1, 1), (40, "resolved", 1, 1), (430, "opened", 2, 1)]),
    ("camera: a camera stopped on purpose resolves", r.CAMERA_OFFLINE,
     [(0, "offline"), (50, "stopped")], 60, {}, [(30, "opened", 1, 1), (50, "resolved", 1, 1)]),
    ("camera: a short delay from the settings", r.CAMERA_OFFLINE,
     [(0, "offline")], 10, {"delay_s": 2}, [(2, "opened", 1, 1)]),
    ("camera: the rule switched off", r.CAMERA_OFFLINE,
     [(0, "offline")], 100, {"enabled": False}, []),
    # over capacity (2): at once, resolved after 60 s within capacity, 600 s cooldown
    ("capacity: at the capacity is fine", r.OVER_CAPACITY, [(0, 2)], 100, {}, []),
    ("capacity: over opens at once", r.OVER_CAPACITY, [(0, 2), (5, 3)], 10, {},
     [(5, "opened", 1, 1)]),
    ("capacity: flicker around the limit for 7 minutes is one alert", r.OVER_CAPACITY,
     [(t, 3 if (t // 5) % 2 else 2) for t in range(0, 420, 5)], 420, {},
     [(5, "opened", 1, 1)]),
    ("capacity: back within it for clear_s resolves", r.OVER_CAPACITY,
     [(0, 3), (10, 1)], 100, {}, [(0, "opened", 1, 1), (70, "resolved", 1, 1)]),
    ("capacity: over again within the cooldown reopens", r.OVER_CAPACITY,
     [(0, 3), (10, 1), (200, 4)], 210, {},
     [(0, "opened", 1, 1), (70, "resolved", 1, 1), (200, "reopened", 1, 2)]),
    ("capacity: over again after the cooldown is new", r.OVER_CAPACITY,
     [(0, 3), (10, 1), (700, 4)], 710, {},
     [(0, "opened", 1, 1), (70, "resolved", 1, 1), (700, "opened", 2, 1)]),
    # queue length over 6 for 10 s
    ("queue: long for less than the delay", r.QUEUE_LENGTH, [(0, 7), (5, 3)], 100, {}, []),
    ("queue: long for the delay opens, short for 60 s resolves", r.QUEUE_LENGTH,
     [(0, 7), (3, 8), (30, 2)], 100, {}, [(10, "opened", 1, 1), (90, "resolved", 1, 1)]),
    ("queue: at the limit is fine", r.QUEUE_LENGTH, [(0, 6)], 100, {}, []),
    # the longest wait over 300 s
    ("wait: over the limit opens after the delay", r.QUEUE_WAIT,
     [(0, 100), (10, 301), (15, 320), (30, 0)], 100, {},
     [(20, "opened", 1, 1), (90, "resolved", 1, 1)]),
    ("wait: under the limit never", r.QUEUE_WAIT, [(0, 299.9)], 100, {}, []),
    # the oldest row waiting for HQ, older than 6 h (checked on the clock)
    ("backlog: rows waiting 6 h open it, a landed batch resolves", r.SYNC_BACKLOG,
     [(0, 0.0), (8 * H, None)], 9 * H, {"tick_s": 600},
     [(6 * H + 600, "opened", 1, 1), (8 * H, "resolved", 1, 1)]),
    ("backlog: fresh rows keep coming, none old", r.SYNC_BACKLOG,
     [(t * H, t * H - 60) for t in range(10)], 10 * H, {"tick_s": 600}, []),
    # disk: under 5 % or under 1 GB free
    ("disk: plenty free", r.DISK_LOW, [(0, 50 * GB)], 100, {}, []),
    ("disk: nearly full, then cleaned up for 10 min", r.DISK_LOW,
     [(0, 50 * GB), (10, 4 * GB), (50, 20 * GB)], 700, {},
     [(10, "opened", 1, 1), (650, "resolved", 1, 1)]),
    ("disk: hovering at the limit is one alert", r.DISK_LOW,
     [(t, 4 * GB if t % 20 else 6 * GB) for t in range(0, 200, 10)], 200, {},
     [(10, "opened", 1, 1)]),
    # retention: no successful run for 36 h
    ("retention: a run every day", r.RETENTION_FAILING,
     [(d * 24 * H, d * 24 * H) for d in range(4)], 4 * 24 * H, {"tick_s": H}, []),
    ("retention: runs stop, then one succeeds", r.RETENTION_FAILING,
     [(0, 0.0), (50 * H, 50 * H)], 60 * H, {"tick_s": H},
     [(37 * H, "opened", 1, 1), (50 * H, "resolved", 1, 1)]),
    # camera moved: the view under 0.5 of its reference for 15 min; back for 15 min resolves
    ("moved: the same view (light changes) never", r.CAMERA_MOVED,
     [(0, 0.95), (600, 0.82), (1200, 0.97)], 3600, {"tick_s": 60}, []),
    ("moved: changed for 15 min opens, a new reference resolves", r.CAMERA_MOVED,
     [(0, 0.95), (600, 0.41), (3000, 0.96)], 4500, {"tick_s": 60},
     [(1500, "opened", 1, 1), (3900, "resolved", 1, 1)]),
    ("moved: a crowd for 5 min is no alert", r.CAMERA_MOVED,
     [(0, 0.95), (600, 0.45), (900, 0.95)], 3600, {"tick_s": 60}, []),
    ("moved: no reference yet, nothing to say", r.CAMERA_MOVED, [(0, None)], 3600,
     {"tick_s": 60}, []),
    # counts off the pattern: |robust z| over 4 opens at once, back for an hour resolves
    ("counts: within the pattern", r.COUNT_DRIFT, [(0, 1.5), (H, -3.9)], 3 * H,
     {"tick_s": 600}, []),
    ("counts: far below opens, back resolves after an hour", r.COUNT_DRIFT,
     [(0, 0.5), (H, -6.0), (3 * H, -1.0)], 5 * H, {"tick_s": 600},
     [(H, "opened", 1, 1), (4 * H, "resolved", 1, 1)]),
    ("counts: too little history to judge", r.COUNT_DRIFT, [(0, None)], 3 * H,
     {"tick_s": 600}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "timeline", "end", "over", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rule(
    kind: str, timeline: list[tuple[float, Any]], end: float, over: dict[str, Any], expected: list
) -> None:
    tick = over.pop("tick_s", 1.0)
    assert play(kind, timeline, end, tick, **over) == expected


def test_every_rule_has_cases() -> None:
    assert {c[1] for c in CASES} == set(r.RULE_KINDS)


# --- the book: subjects, acknowledgement, restore, seen ----------------------------------


def book(**params: RuleParams) -> AlertBook:
    ids = count(1)
    return AlertBook(
        {r.OVER_CAPACITY: RuleParams(), **params}, seen_every_s=60, new_id=lambda: f"a{next(ids)}"
    )


def over(zone: str, people: int) -> Observation:
    return Observation(
        r.OVER_CAPACITY, zone, people > 2, f"{zone}: {people} people", camera="c", zone=zone
    )


def test_one_open_alert_per_rule_and_subject() -> None:
    b = book()
    made = b.observe(over("Shoes", 3), 0) + b.observe(over("Bags", 4), 1)
    made += b.observe(over("Shoes", 5), 2)
    assert [(d.change, d.alert.subject, d.alert.message) for d in made] == [
        ("opened", "Shoes", "Shoes: 3 people"),
        ("opened", "Bags", "Bags: 4 people"),
    ]
    assert {a.subject for a in b.open_alerts()} == {"Shoes", "Bags"}


def test_an_open_alert_is_seen_again_at_most_every_seen_every_s() -> None:
    b = book()
    b.observe(over("Shoes", 3), 0)
    seen = [d for t in range(1, 200) for d in b.observe(over("Shoes", 3), t)]
    assert [(d.change, d.alert.last_seen) for d in seen] == [(("seen"), 60), ("seen", 120),
                                                            ("seen", 180)]  # fmt: skip


def test_acknowledged_alerts_stay_open_until_resolved() -> None:
    b = book()
    alert = b.observe(over("Shoes", 3), 0)[0].alert
    ack = b.acknowledge(alert.id, "manager", 5)
    assert ack is not None and ack.change == "acknowledged"
    assert (ack.alert.acknowledged_at, ack.alert.acknowledged_by) == (5, "manager")
    assert b.acknowledge(alert.id, "again", 6) is None  # once
    assert b.open_alerts()[0].acknowledged_by == "manager"
    gone = b.observe(over("Shoes", 1), 10)
    assert [(d.change, d.alert.acknowledged_by) for d in gone] == [("resolved", "manager")]
    assert b.open_alerts() == []


def test_restored_alerts_are_not_raised_twice() -> None:
    b = book(**{r.CAMERA_OFFLINE: RuleParams(delay_s=30)})
    held = AlertRecord("old", r.CAMERA_OFFLINE, "door", "door is down", 100, 150, camera="door")
    b.restore([held, AlertRecord("n", "lan_unavailable", "", "port busy", 1, 1)])
    assert [a.id for a in b.open_alerts()] == ["old"]  # notices are not the rules'
    still = b.observe(Observation(r.CAMERA_OFFLINE, "door", True), 400)
    assert [(d.change, d.alert.id) for d in still] == [("seen", "old")]  # not a new one
    back = b.observe(Observation(r.CAMERA_OFFLINE, "door", False), 410)
    assert [(d.change, d.alert.id) for d in back] == [("resolved", "old")]


def test_forget_resolves_the_alerts_of_subjects_that_are_gone() -> None:
    b = book()
    b.observe(over("Shoes", 3), 0)
    b.observe(over("Bags", 3), 0)
    gone = b.forget(r.OVER_CAPACITY, ["Bags"], 10)
    assert [(d.change, d.alert.subject) for d in gone] == [("resolved", "Shoes")]
    assert [a.subject for a in b.open_alerts()] == ["Bags"]


def test_a_kind_without_a_rule_is_ignored() -> None:
    assert book().observe(Observation("lan_unavailable", "", True), 0) == []


def test_trouble_again_within_the_cooldown_asks_for_a_new_acknowledgement() -> None:
    b = book(**{r.OVER_CAPACITY: RuleParams(cooldown_s=600)})
    alert = b.observe(over("Shoes", 3), 0)[0].alert
    b.acknowledge(alert.id, "manager", 5)
    b.observe(over("Shoes", 1), 10)
    (again,) = b.observe(over("Shoes", 4), 100)
    assert (again.change, again.alert.id, again.alert.count) == ("reopened", alert.id, 2)
    assert (again.alert.acknowledged_at, again.alert.message) == (None, "Shoes: 4 people")
    assert type(again.event()).__name__ == "AlertOpened"
