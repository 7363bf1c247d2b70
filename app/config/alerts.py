"""The alert rules' settings: thresholds, delays and cooldowns (the rules themselves are
app/alerts.py; README "Alerts")."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.config.base import Strict


def _seconds(default: float, description: str, le: float = 86400) -> Any:
    """A duration field of an alert rule, in seconds (0 to `le`)."""
    return Field(default, ge=0, le=le, description=description)


class AlertRule(Strict):
    """The timings every alert rule has (see app/alerts.py)."""

    enabled: bool = Field(True, description="Whether this rule raises alerts.")
    delay_s: float = _seconds(0, "Seconds the trouble must last before an alert opens.")
    clear_s: float = _seconds(0, "Seconds the trouble must be gone before it resolves.")
    cooldown_s: float = _seconds(
        600,
        "Trouble back within this many seconds of a resolve reopens the same alert "
        "instead of raising a new one.",
        le=7 * 86400,
    )


class CameraOfflineRule(AlertRule):
    delay_s: float = _seconds(30, "Seconds a camera is down before an alert opens.")
    cooldown_s: float = _seconds(
        300, "A new outage within this reopens the last alert.", le=7 * 86400
    )


class CapacityRule(AlertRule):
    """Per zone, over the zone's own `capacity` (zones without one never alert)."""

    clear_s: float = _seconds(60, "Seconds back within capacity before it resolves.")


class QueueRule(AlertRule):
    """Per queue area (zones of kind "queue")."""

    max_length: int = Field(
        6, ge=0, le=1000, description="People in a queue above which an alert opens (0: off)."
    )
    max_wait_s: float = Field(
        300, ge=0, le=86400, description="Longest wait in seconds above which it opens (0: off)."
    )
    delay_s: float = _seconds(10, "Seconds over the limit before an alert opens.")
    clear_s: float = _seconds(60, "Seconds back under the limit before it resolves.")


class SyncBacklogRule(AlertRule):
    max_age_h: float = Field(
        6, gt=0, le=24 * 90, description="Hours the oldest unsent row may wait for HQ."
    )


class DiskRule(AlertRule):
    clear_s: float = _seconds(600, "Seconds with enough free space before it resolves.")
    min_free_pct: float = Field(
        5, ge=0, le=99, description="Free space (percent of the disk) below which it opens."
    )
    min_free_mb: int = Field(
        1024, ge=0, le=10_000_000, description="Free megabytes below which it opens."
    )


class RetentionRule(AlertRule):
    max_age_h: float = Field(
        36, ge=1, le=24 * 90, description="Hours without a successful retention run."
    )


class CameraMovedRule(AlertRule):
    """Per camera: its static background against the reference view taken at setup or
    at the last counting audit (app/vision/view_drift.py)."""

    min_similarity: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Similarity of the view to its reference (0..1) below which the camera "
        "counts as moved: on the shared clips the same view scores 0.77-0.97 (0.62 with the "
        "light at 60 %), a 5 % shift or a 10 % zoom under 0.45.",
    )
    delay_s: float = _seconds(900, "Seconds the view must stay changed before an alert opens.")
    clear_s: float = _seconds(900, "Seconds back to its reference before it resolves.")


class CountDriftRule(AlertRule):
    """Per camera: today's entries against the same weekday of previous weeks
    (app/count_pattern.py)."""

    max_z: float = Field(
        4.0, gt=0, le=100, description="Robust z-score beyond which today's entries are off."
    )
    clear_s: float = _seconds(3600, "Seconds back within the pattern before it resolves.")
    cooldown_s: float = _seconds(
        86400, "Off the pattern again within this reopens the last alert.", le=7 * 86400
    )


def _rule(cls: type[AlertRule], description: str) -> Any:
    return Field(default_factory=cls, description=description)


class AlertsConfig(Strict):
    """The alert rules' thresholds and timings (app/alerts.py; README "Alerts")."""

    camera_offline: CameraOfflineRule = _rule(CameraOfflineRule, "A camera down for a while.")
    over_capacity: CapacityRule = _rule(CapacityRule, "A zone over its capacity.")
    queue: QueueRule = _rule(QueueRule, "A queue area too long, or a wait too long.")
    sync_backlog: SyncBacklogRule = _rule(SyncBacklogRule, "Data waiting too long for HQ.")
    disk: DiskRule = _rule(DiskRule, "The data directory's disk nearly full.")
    retention: RetentionRule = _rule(RetentionRule, "Retention (deleting old data) not running.")
    camera_moved: CameraMovedRule = _rule(
        CameraMovedRule, "A camera's view changed (moved?): asks for a new counting audit."
    )
    count_drift: CountDriftRule = _rule(
        CountDriftRule, "A camera's counts far from its usual pattern: asks for a new audit."
    )
    check_s: float = Field(
        60, ge=1, le=3600, description="Seconds between checks of disk, sync and retention."
    )
