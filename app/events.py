"""A small thread-safe publish/subscribe bus and the typed events that travel on it.

The engine publishes; the store writer, the Qt bridge and the LAN server subscribe. A
subscriber is a callable run on the publisher's thread, so it must be quick (hand the
event to a queue); one subscriber's exception is logged and never reaches the others.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    """Base of every event: where and when (wall clock seconds, and clip time/frame)."""

    camera: str
    ts: float  # wall-clock epoch seconds (for a clip: start time + t)
    frame: int  # 0-based index of the analysed source frame
    t: float  # seconds into the stream / clip


@dataclass(frozen=True)
class LineCross(Event):
    line: str
    direction: Literal["in", "out"]
    track_id: int
    visitor_id: str = ""
    door: bool = True  # a door of the store (footfall), not a line inside it


@dataclass(frozen=True)
class ZoneEnter(Event):
    zone: str
    track_id: int
    visitor_id: str
    visit_id: str
    revisit: bool = False  # came back within the revisit window: same visit continues


@dataclass(frozen=True)
class ZoneExit(Event):
    zone: str
    track_id: int
    visitor_id: str
    visit_id: str
    dwell_s: float  # time inside for this visit so far (final once the visit closes)


@dataclass(frozen=True)
class VisitClosed(Event):
    """A zone visit ended for good (the revisit window passed without a return)."""

    zone: str
    visitor_id: str
    visit_id: str
    enter_ts: float
    exit_ts: float
    dwell_s: float


@dataclass(frozen=True)
class PassedBy(Event):
    """Crossed an entrance's outer line but did not reach its zone: a passer-by."""

    entrance: str
    line: str
    track_id: int


@dataclass(frozen=True)
class EntranceEntered(Event):
    entrance: str
    zone: str
    track_id: int
    visitor_id: str


@dataclass(frozen=True)
class Occupancy(Event):
    zone: str
    count: int


@dataclass(frozen=True)
class QueueStatus(Event):
    """A queue area now: how many wait, and the longest wait so far (published when the
    length changes, and about once a second while someone waits)."""

    zone: str
    length: int
    longest_wait_s: float


@dataclass(frozen=True)
class NewVisitor(Event):
    """A person first seen in a zone: anonymous id plus a JPEG crop for the tablets."""

    zone: str
    visitor_id: str
    track_id: int
    crop_jpeg: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class CountedLine:
    """A line crossing taken back (see StaffRetracted)."""

    line: str
    direction: Literal["in", "out"]
    door: bool
    ts: float


@dataclass(frozen=True)
class CountedEntrance:
    entrance: str
    ts: float


@dataclass(frozen=True)
class CountedVisit:
    """A zone visit taken back: its entry, and its exit and dwell if it had closed."""

    zone: str
    visit_id: str
    enter_ts: float
    exit_ts: float | None = None  # set when its VisitClosed was counted
    dwell_s: float = 0.0


@dataclass(frozen=True)
class StaffRetracted(Event):
    """A track recognised as staff after it was counted (it crossed the door before its
    face was matched, or spent the staff-only zones' minutes after coming in): the
    counts it made are taken back, here and in every aggregate (store, tiles, HQ)."""

    track_id: int
    visitor_id: str
    lines: tuple[CountedLine, ...] = ()
    entrances: tuple[CountedEntrance, ...] = ()
    visits: tuple[CountedVisit, ...] = ()


# a camera in one of these is down: its picture and its counts are not current
CAMERA_DOWN = ("stalled", "offline", "auth_failed")


@dataclass(frozen=True)
class CameraStatus:
    camera: str
    status: Literal["connecting", "live", "stalled", "offline", "auth_failed", "ended", "stopped"]
    message: str = ""
    source_fps: float = 0.0
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class FrameStats:
    """Per analysed frame: for tiles (fps, latency) and health rows."""

    camera: str
    ts: float
    analysed_fps: float
    detector_ms: float
    people: int
    skipped_by_motion: bool


@dataclass(frozen=True)
class Alert:
    """A one-off notice (lan_unavailable, disk_full): no rule resolves it, it is over
    once acknowledged. The alert rules' alerts are app.alerts.AlertOpened and kin."""

    kind: str
    message: str
    camera: str = ""
    zone: str = ""
    ts: float = field(default_factory=_now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    """Thread-safe publish/subscribe; handlers may filter by event type."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[tuple[tuple[type, ...], Handler]] = []

    def subscribe(self, handler: Handler, *types: type) -> Callable[[], None]:
        """Call `handler(event)` for every event (or only those of `types`); returns an
        unsubscribe function."""
        entry = (types, handler)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def publish(self, event: object) -> None:
        with self._lock:
            subs = list(self._subs)
        for types, handler in subs:
            if types and not isinstance(event, types):
                continue
            try:
                handler(event)
            except Exception:  # a broken subscriber must not break the others
                log.exception("event handler %r failed on %s", handler, type(event).__name__)


def event_type(event: object) -> str:
    """snake_case name of an event class: LineCross -> "line_cross"."""
    name = type(event).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def event_to_dict(event: object) -> dict[str, Any]:
    """A JSON-ready dict of an event: its fields plus "type"; bytes become their length
    (`<field>_bytes`), so a crop never lands in a log or a JSON line."""
    from dataclasses import fields, is_dataclass

    if not is_dataclass(event) or isinstance(event, type):
        raise TypeError(f"not an event: {event!r}")
    out: dict[str, Any] = {"type": event_type(event)}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, bytes | bytearray):
            out[f"{f.name}_bytes"] = len(value)
        else:
            out[f.name] = value
    return out
