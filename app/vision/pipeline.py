"""CameraPipeline: one camera's analysis, frame by frame.

    motion gate -> detector -> filters -> tracker -> stationary -> zones / lines /
    entrances -> analytics -> bus

An opt-in zoomed second detector pass around the counting lines, for people small at
the detector's input, is merged into the detections first (app/vision/zoom_pass.py).
The filters (app/vision/filters.py) drop detections in the camera's ignore masks or
outside its person size range; tracks flagged stationary (still for
analysis.stationary.after_s) are left out of the analysis and returned apart in
`FrameResult.stationary`.

`process(frame)` runs it all. The engine splits it in two so that frames of several
cameras can share one batched inference: `needs_detection(frame)` (motion gate), then
`consume(frame, detections)` with the detector's output, or with `None` when the gate
skipped the frame (the last tracked boxes are kept, tracks stay alive).

Visitor ids are random UUIDs per track, never derived from appearance. The first time a
visitor enters any zone, `NewVisitor` carries that id and a JPEG crop of the person.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from app.config import AppConfig
from app.events import Event, EventBus, NewVisitor, Occupancy, QueueStatus, ZoneEnter
from app.vision import kernels
from app.vision.adaptive import NearLines
from app.vision.analytics import Analytics, QueueState
from app.vision.crops import person_crop_jpeg
from app.vision.detections import Detections
from app.vision.entrance import EntranceWatcher
from app.vision.filters import DetectionFilter, FilterRules, StationaryWatcher
from app.vision.geometry import Point, bottom_centers
from app.vision.heat_hours import GRACE_S, HeatHours, RecentHeat
from app.vision.lines import LineCounter
from app.vision.staff_retraction import Counted, CountLedger, retract_track
from app.vision.staff_zones import StaffZoneRule
from app.vision.stamp import Stamp
from app.vision.stitching import StitchRules, TrackStitcher
from app.vision.zones import ZoneRules, ZoneTracker
from app.vision.zoom_pass import ZoomPass

log = logging.getLogger(__name__)

PERSON = 0
# a queue area's status goes on the bus when its length changes, and this often (stream
# seconds) while someone waits: the alert rules watch the longest wait
QUEUE_STATUS_EVERY_S = 1.0


def _nobody() -> Detections:
    """No rows, shared (read-only): what `held` is on most frames, without building a
    new empty record each time."""
    none = Detections.empty()
    for a in (none.xyxy, none.confidence, none.class_id, none.tracker_id):
        a.flags.writeable = False
    return none


NOBODY = _nobody()


class FrameLike(Protocol):
    """What the pipeline needs of a frame (`app.vision.cameras.Frame` has it)."""

    @property
    def image(self) -> np.ndarray: ...
    @property
    def index(self) -> int: ...
    @property
    def t(self) -> float: ...
    @property
    def ts(self) -> float: ...


class DetectorLike(Protocol):
    def detect(self, frame: np.ndarray) -> Detections: ...


class TrackerLike(Protocol):
    """Tracks one camera's people: `update` takes an analysed frame's detections and
    its stream time `t` (seconds: frames may come at a varying rate)."""

    def update(self, d: Detections, t: float) -> Detections: ...
    def reset(self) -> None: ...


class FacesLike(Protocol):
    """Opt-in recognition of one camera (app.vision.faces.recogniser.TrackFaces);
    None in anonymous mode, where no face is ever looked for."""

    @property
    def tags(self) -> dict[int, str]: ...
    def observe(
        self, image: np.ndarray, tracked: Detections, t: float, visitor_of: Callable[[int], str]
    ) -> dict[int, str]: ...
    def flush(self, visitor_of: Callable[[int], str]) -> None: ...


class GateLike(Protocol):
    def should_detect(self, frame: np.ndarray, t: float) -> bool: ...


@dataclass(frozen=True)
class FrameResult:
    """What one analysed frame produced."""

    camera: str
    frame_index: int
    t: float
    ts: float
    detections: Detections  # tracked people (tracker_id filled)
    events: list[Event]
    occupancy: dict[str, int]
    line_counts: dict[str, dict[str, int]]
    queues: dict[str, QueueState]
    visitor_ids: dict[int, str]
    detector_ms: float
    skipped_by_motion: bool
    image_shape: tuple[int, int] = (0, 0)
    # people a zone still counts though this frame did not show them (just lost by the
    # tracker), at their last box: so that a tile can show whom the count includes
    held: Detections = field(default_factory=Detections.empty)
    # tracks that have not moved for analysis.stationary.after_s (a sign, a mannequin):
    # not in `detections`, counts, occupancy or heatmaps; a tile draws them apart
    stationary: Detections = field(default_factory=Detections.empty)
    extra: dict[str, Any] = field(default_factory=dict)
    # per line, the crossings taken back out of `line_counts` so far (staff recognised
    # after they crossed; app/vision/staff_retraction.py)
    lines_taken_back: dict[str, dict[str, int]] = field(default_factory=dict)


def analysis_fps(cfg: AppConfig, camera: str) -> float:
    """The configured analysis rate of a camera (its own setting, else analysis.fps)."""
    cam = next((c for c in cfg.cameras if c.name == camera), None)
    return float(cam.analysis_fps) if cam and cam.analysis_fps else float(cfg.analysis.fps)


def default_tracker(cfg: AppConfig, fps: float) -> TrackerLike:
    from app.vision.tracker import ByteTracker

    return ByteTracker(cfg.analysis.tracker, fps)


def track_end_s(cfg: AppConfig) -> float:
    """How long an unseen track may still come back (tracker recovery or stitching)."""
    return max(cfg.analysis.tracker.max_lost_s, cfg.analysis.stitch_s)


def default_stitcher(cfg: AppConfig) -> TrackStitcher | None:
    a = cfg.analysis
    if a.stitch_s <= 0:
        return None
    return TrackStitcher(StitchRules(max_gap_s=a.stitch_s, radius=a.stitch_radius))


def default_gate(cfg: AppConfig) -> GateLike | None:
    if not cfg.analysis.motion.enabled:
        return None
    from app.vision.motion import MotionGate

    return MotionGate(cfg.analysis.motion)


def without_staff(tracked: Detections, tags: dict[int, str]) -> Detections:
    """The tracks that count: staff are left out of entries, exits, occupancy, dwell
    and queues (the recogniser counts them separately)."""
    staff = [tid for tid, tag in tags.items() if tag == "staff"]
    if not staff or not len(tracked):
        return tracked
    keep = ~np.isin(tracked.tracker_id, staff)
    return tracked if keep.all() else tracked[keep]


def _visitor_horizon(cfg: AppConfig) -> float:
    """How long a track's visitor id (and what it was counted for) is remembered."""
    return cfg.analysis.revisit_s + cfg.analysis.tracker.max_lost_s + 60.0


class CameraPipeline:
    """The analysis state of one camera. Not thread-safe for concurrent frames: the
    engine never analyses two frames of the same camera at once; `apply_config` may be
    called from any thread."""

    def __init__(
        self,
        camera: str,
        cfg: AppConfig,
        detector: DetectorLike | None,
        bus: EventBus | None = None,
        *,
        fps: float | None = None,
        tracker: TrackerLike | None = None,
        motion: GateLike | None | bool = True,
        crops: bool = True,
        stitcher: TrackStitcher | None | bool = True,
        clock: Callable[[], float] = time.time,
        faces: FacesLike | None = None,
    ) -> None:
        self.camera = camera
        self.faces = faces
        self.staff_zones: StaffZoneRule | None = None
        self._staff: set[int] = set()  # tracks tagged staff at the last frame
        self.ledger = CountLedger(horizon_s=_visitor_horizon(cfg))
        self.fps = float(fps or analysis_fps(cfg, camera))
        self.detector = detector
        self.bus = bus
        kernels.warm_up()  # compiled tracking loops: ready before the first frame
        self.tracker = tracker if tracker is not None else default_tracker(cfg, self.fps)
        self.gate: GateLike | None = (
            default_gate(cfg) if motion is True else (None if motion is False else motion)
        )
        self.crops = crops
        self.stitcher: TrackStitcher | None = (
            default_stitcher(cfg) if stitcher is True else (stitcher or None)
        )
        self._clock = clock
        self._lock = threading.RLock()
        self._last_tracked = Detections.empty()
        self._recent: deque[tuple[float, Detections]] = deque()  # (t, tracked), ~1 s
        self._visitors: dict[int, tuple[str, float]] = {}  # track -> (visitor id, last t)
        self._announced: set[str] = set()
        self._occupancy: dict[str, int] = {}
        self._queue_sent: dict[str, tuple[float, int]] = {}  # zone -> (t, length) published
        self.zones: dict[str, ZoneTracker] = {}
        self.lines: dict[str, LineCounter] = {}
        self.entrances: dict[str, EntranceWatcher] = {}
        self.analytics = Analytics(cell_px=cfg.analysis.heatmap_cell_px)
        # the same presence by wall-clock hour (the history) and fading (the live view);
        # an hour stays open past a stationary spell's length, for its take-back
        grace = max(GRACE_S, cfg.analysis.stationary.after_s + 60.0)
        self.heat_hours = HeatHours(cfg.analysis.heatmap_cell_px, grace_s=grace)
        self.recent_heat = RecentHeat(cfg.analysis.heatmap_cell_px)
        self.filter = DetectionFilter(FilterRules())
        self.stationary = StationaryWatcher(cfg.analysis.stationary)
        self._last: Stamp | None = None
        self.frames = 0
        self.apply_config(cfg)

    # --- configuration -------------------------------------------------------------

    def apply_config(self, cfg: AppConfig) -> list[Event]:
        """Adopt the zones, lines and entrances of this camera from `cfg`, keeping the
        state (counts, visits) of shapes whose geometry did not change. Removed zones
        are flushed; their events are returned and published."""
        with self._lock:
            self.cfg = cfg
            self._adopt_filters(cfg)
            rules = ZoneRules(
                hysteresis_px=cfg.analysis.zone_hysteresis_px,
                min_frames=cfg.analysis.zone_min_frames,
                revisit_s=cfg.analysis.revisit_s,
                lost_s=track_end_s(cfg),
            )
            mine, lines = cfg.zones_of(self.camera), cfg.lines_of(self.camera)
            flushed: list[Event] = []
            new_zones: dict[str, ZoneTracker] = {}
            for z in mine:
                old = self.zones.pop(z.name, None)
                if old is not None and old.same_geometry(z) and old.rules == rules:
                    old.cfg = z
                    new_zones[z.name] = old
                else:
                    if old is not None and self._last is not None:
                        flushed.extend(old.flush(self._last))
                    new_zones[z.name] = ZoneTracker(z, rules)
            if self._last is not None:
                for old in self.zones.values():
                    flushed.extend(old.flush(self._last))
            self.zones = new_zones
            counters: dict[str, LineCounter] = {}
            for ln in lines:
                kept = self.lines.get(ln.name)
                if kept is not None and kept.same_geometry(ln):
                    kept.cfg = ln  # counts kept; e.g. a line now marked as inside the store
                    counters[ln.name] = kept
                else:
                    counters[ln.name] = LineCounter(ln, track_end_s=rules.lost_s)
            self.lines = counters
            self.near = NearLines(cfg.analysis.adaptive, [(ln.start, ln.end) for ln in lines])
            self.zoom = ZoomPass(cfg.analysis.zoom, [(ln.start, ln.end) for ln in lines])
            self._build_entrances(cfg)
            self.analytics.queue_zones = {n for n, z in self.zones.items() if z.is_queue}
            self._staff_rule(cfg)
            self._occupancy = {n: self._occupancy.get(n, 0) for n in self.zones}
        self._publish(flushed)
        return flushed

    def _adopt_filters(self, cfg: AppConfig) -> None:
        cam = next((c for c in cfg.cameras if c.name == self.camera), None)
        rules = FilterRules.of(cam)
        if rules != self.filter.rules:
            self.filter = DetectionFilter(rules)
        self.stationary.rules = cfg.analysis.stationary

    def _staff_rule(self, cfg: AppConfig) -> None:
        f = cfg.faces
        zones = frozenset(z for z in f.staff_zones if z in self.zones)
        if f.staff_zone_minutes <= 0 or not zones:
            self.staff_zones = None
        elif self.staff_zones is None or (self.staff_zones.zones, self.staff_zones.minutes) != (
            zones,
            f.staff_zone_minutes,
        ):
            self.staff_zones = StaffZoneRule(zones, f.staff_zone_minutes)

    def _build_entrances(self, cfg: AppConfig) -> None:
        zones = {z.name: z for z in cfg.zones}
        lines = {ln.name: ln for ln in cfg.lines}
        entrances: dict[str, EntranceWatcher] = {}
        for e in cfg.entrances:
            if e.line in self.lines and e.zone in self.zones:
                old = self.entrances.get(e.name)
                keep = old is not None and old.cfg == e
                entrances[e.name] = (
                    old if keep and old else EntranceWatcher(e, lines[e.line], zones[e.zone])
                )
        self.entrances = entrances

    # --- per frame -----------------------------------------------------------------

    def fast(self, t: float) -> bool:
        """Whether the adaptive rate wants the frame at stream time `t` analysed: somebody
        was near a counting line (or heading for one) at the last analysed frames
        (`app.vision.adaptive`)."""
        return self.near.fast(t)

    @property
    def adaptive(self) -> bool:
        """Whether this camera's analysis rate adapts (enabled and it has lines)."""
        return self.near.active

    def needs_detection(
        self, frame: FrameLike, force: bool | Callable[[], bool] | None = None
    ) -> bool:
        """The motion gate's verdict (always True without a gate), overridden by `force`
        (a value, or a function asked only when the gate would skip the frame; default:
        whether someone tracked is walking or near a line as of the last analysed frame,
        `NearLines.busy`): a walking person far from the camera may change too few
        pixels for the gate. Live (`force` None), a frame at a busy time is detected
        without asking the gate: its comparison (a resize and a blur of the picture,
        ~2 % of a frame's CPU) would be overridden anyway. The gate's reference then
        stays the last picture it compared, so the first comparison after a busy time
        sees more change, not less."""
        if self.gate is None:
            return True
        if force is None:
            return self.near.busy(frame.t) or self.gate.should_detect(frame.image, frame.t)
        if self.gate.should_detect(frame.image, frame.t):
            return True
        if callable(force):
            force = force()
        if force:
            renew = getattr(self.gate, "renew", None)
            if renew is not None:
                renew(frame.image, frame.t)
        return force

    def process(self, frame: FrameLike) -> FrameResult:
        """Gate, detect, track and analyse one frame."""
        if not self.needs_detection(frame):
            return self.consume(frame, None)
        if self.detector is None:
            raise RuntimeError("this pipeline has no detector")
        t0 = time.perf_counter()
        dets = self.detector.detect(frame.image)
        return self.consume(frame, dets, (time.perf_counter() - t0) * 1000.0)

    def consume(
        self, frame: FrameLike, detections: Detections | None, detector_ms: float = 0.0
    ) -> FrameResult:
        """Track and analyse a frame's detections (None: skipped by the motion gate)."""
        with self._lock:
            stamp = Stamp(self.camera, int(frame.index), float(frame.t), float(frame.ts))
            skipped = detections is None
            origins: dict[int, Point] = {}
            if detections is None:
                tracked = self._last_tracked
            else:
                people = detections
                if (detections.class_id != PERSON).any():
                    people = detections[detections.class_id == PERSON]
                people = self._zoomed(frame, people)
                people = self.filter.apply(people, frame.image.shape[:2])
                tracked = self.tracker.update(people, stamp.t)
                if (tracked.tracker_id < 0).any():
                    tracked = tracked[tracked.tracker_id >= 0]
                first = getattr(self.tracker, "origins", {})
                tracker_ids = tracked.tracker_id.tolist()
                if self.stitcher is not None:
                    tracked = self.stitcher.update(tracked, stamp.t, image=frame.image)
                for tid, pid in zip(tracker_ids, tracked.tracker_id.tolist(), strict=True):
                    if tid in first:
                        x0, _, x1, y1 = (float(v) for v in first[tid])
                        origins[pid] = ((x0 + x1) / 2.0, y1)
                xyxy = tracked.xyxy
                sure = people.xyxy[people.confidence >= self.cfg.analysis.tracker.new_track_thresh]
                self.near.update(
                    stamp.t,
                    tracked.tracker_id,
                    bottom_centers(xyxy),
                    xyxy[:, 3] - xyxy[:, 1],
                    seen=(bottom_centers(sure), sure[:, 3] - sure[:, 1]),
                )
            self._last_tracked = tracked
            tags = self._face_tags(frame, stamp, tracked, skipped)
            retracted = self._retract_late_staff(stamp, tags)
            moving, still = self.stationary.split(tracked, stamp.t)
            self._take_back_heat()
            counted = without_staff(moving, tags)
            result = self._analyse(frame, stamp, counted, detector_ms, skipped, origins)
            self.ledger.note(result.events, stamp.t)
            self.ledger.seen(result.visitor_ids, stamp.t)
            if retracted:
                result = replace(result, events=[*retracted, *result.events])
            self._note_heat(counted)
            if tags or counted is not moving:  # staff are shown (tagged), not counted
                result = replace(result, detections=moving, extra={"face_tags": tags})
            if len(still):
                result = replace(result, stationary=still)
            self._last = stamp
            self.frames += 1
        self._publish(result.events)
        self._publish(self._queue_statuses(stamp, result.queues))
        return result

    def _zoomed(self, frame: FrameLike, detections: Detections) -> Detections:
        """The detections with a zoomed second pass around the lines merged in, when
        it is on and pays (`app.vision.zoom_pass`; only while fast if `only_fast`)."""
        zoom = self.zoom
        if not zoom.active or self.detector is None:
            return detections
        if zoom.cfg.only_fast and not self.near.fast(frame.t):
            return detections
        return zoom.run(self.detector, frame.image, detections)

    def _take_back_heat(self) -> None:
        """Objects just flagged stationary leave no hot spot: the presence their still
        spell added to the heatmap is taken back."""
        heat = self.analytics.heatmap
        for spent in self.stationary.take_flagged_heat():
            if heat is not None:
                heat.take_back(spent)
            self.heat_hours.take_back(spent)
            self.recent_heat.take_back(spent)

    def _note_heat(self, moving: Detections) -> None:
        heat = self.analytics.heatmap
        if heat is not None and len(moving):
            cells = heat.cells(bottom_centers(moving.xyxy))
            self.stationary.note_heat(moving.tracker_id.tolist(), cells, self.analytics.last_dt)

    def _visitor_of(self, tid: int) -> str:
        known = self._visitors.get(tid)
        return known[0] if known is not None else ""

    def _face_tags(
        self, frame: FrameLike, stamp: Stamp, tracked: Detections, skipped: bool
    ) -> dict[int, str]:
        """Opt-in only: the recogniser's tags of this frame's tracks ("staff",
        "returning", "new"); {} in anonymous mode."""
        tags: dict[int, str] = {}
        if self.faces is not None:
            tags = (
                self.faces.tags  # skipped: the boxes are the last frame's, no new look
                if skipped
                else self.faces.observe(frame.image, tracked, stamp.t, self._visitor_of)
            )
        if self.staff_zones is not None:  # the non-biometric rule: time in staff zones
            inside = {n: z.inside_track_ids() for n, z in self.zones.items()}
            for tid in self.staff_zones.update(stamp.t, inside):
                tags = {**tags, tid: "staff"}
        return tags

    def _retract_late_staff(self, stamp: Stamp, tags: dict[int, str]) -> list[Event]:
        """Tracks tagged staff since the last frame leave every counter; what they were
        already counted for is taken back (a StaffRetracted event each)."""
        staff = {tid for tid, tag in tags.items() if tag == "staff"}
        new, self._staff = staff - self._staff, staff
        out: list[Event] = []
        for tid in sorted(new):
            vid = self._visitor_of(tid)
            counted = self.ledger.take_back(vid) if vid else Counted()
            ev = retract_track(
                stamp, tid, vid, counted, self.zones.values(), self.lines.values(),
                self.entrances.values(),
            )  # fmt: skip
            if ev is not None:
                self.analytics.take_back(ev)
                out.append(ev)
        return out

    def _visitor_ids(self, tracked: Detections, t: float) -> dict[int, str]:
        ids: dict[int, str] = {}
        for tid in tracked.tracker_id.tolist():
            known = self._visitors.get(tid)
            vid = known[0] if known is not None else str(uuid.uuid4())
            self._visitors[tid] = (vid, t)
            ids[tid] = vid
        horizon = _visitor_horizon(self.cfg)
        if len(self._visitors) > 2 * len(ids) + 64:
            self._visitors = {k: v for k, v in self._visitors.items() if t - v[1] <= horizon}
        return ids

    def _analyse(
        self,
        frame: FrameLike,
        stamp: Stamp,
        tracked: Detections,
        detector_ms: float,
        skipped: bool,
        origins: dict[int, Point] | None = None,
    ) -> FrameResult:
        points = bottom_centers(tracked.xyxy)
        ids = tracked.tracker_id
        visitors = self._visitor_ids(tracked, stamp.t)
        events: list[Event] = []
        heights = tracked.xyxy[:, 3] - tracked.xyxy[:, 1]
        for line in self.lines.values():
            events.extend(line.update(stamp, ids, points, visitors, origins, heights))
        for zone in self.zones.values():
            events.extend(zone.update(stamp, ids, points, visitors))
        for entrance in self.entrances.values():
            events.extend(entrance.update(stamp, list(events)))
        events.extend(self._new_visitors(frame, stamp, tracked, events))
        events.extend(self._occupancy_changes(stamp))
        shape = (int(frame.image.shape[0]), int(frame.image.shape[1]))
        self.analytics.update(stamp.t, points, shape, events)
        dt = self.analytics.last_dt
        self.heat_hours.add(stamp.ts, points, dt, shape[1], shape[0])
        self.recent_heat.add(stamp.ts, points, dt, shape[1], shape[0])
        held = self._held(stamp.t, tracked)
        return FrameResult(
            camera=self.camera,
            frame_index=stamp.frame,
            t=stamp.t,
            ts=stamp.ts,
            detections=tracked,
            events=events,
            occupancy=dict(self._occupancy),
            line_counts={n: dict(ln.counts) for n, ln in self.lines.items()},
            lines_taken_back={
                n: dict(ln.taken_back)
                for n, ln in self.lines.items()
                if any(ln.taken_back.values())
            },
            queues={
                n: self.analytics.queue_state(z, stamp.t)
                for n, z in self.zones.items()
                if z.is_queue
            },
            visitor_ids=visitors,
            detector_ms=detector_ms,
            skipped_by_motion=skipped,
            image_shape=shape,
            held=held,
        )

    def _held(self, t: float, tracked: Detections) -> Detections:
        """The people zones count without this frame showing them, at the box they had
        when last seen; keeps the last second or so of tracked frames to find them."""
        recent = self._recent
        recent.append((t, tracked))
        grace = max((z.rules.occupancy_grace_s for z in self.zones.values()), default=0.0)
        while recent and t - recent[0][0] > grace + 0.5:  # a margin over rounding
            recent.popleft()
        wanted = {tid for z in self.zones.values() for tid in z.held_track_ids()}
        if not wanted:
            return NOBODY
        boxes: list[np.ndarray] = []
        ids: list[int] = []
        for _, past in reversed(recent):  # newest first: the last box of each
            for box, tid in zip(past.xyxy, past.tracker_id.tolist(), strict=True):
                if tid in wanted:
                    boxes.append(box)
                    ids.append(tid)
                    wanted.discard(tid)
            if not wanted:
                break
        if not ids:
            return NOBODY
        return Detections.create(np.stack(boxes), tracker_id=np.array(ids, np.int64))

    def _new_visitors(
        self, frame: FrameLike, stamp: Stamp, tracked: Detections, events: list[Event]
    ) -> list[Event]:
        out: list[Event] = []
        for ev in events:
            if not isinstance(ev, ZoneEnter) or ev.visitor_id in self._announced:
                continue
            self._announced.add(ev.visitor_id)
            rows = np.flatnonzero(tracked.tracker_id == ev.track_id)
            crop = b""
            if self.crops and len(rows):
                crop = person_crop_jpeg(frame.image, tracked.xyxy[rows[0]])
            out.append(
                stamp.event(
                    NewVisitor,
                    zone=ev.zone,
                    visitor_id=ev.visitor_id,
                    track_id=ev.track_id,
                    crop_jpeg=crop,
                )
            )
        return out

    def _occupancy_changes(self, stamp: Stamp) -> list[Event]:
        """An Occupancy event per zone whose count changed (the alert rules, app/alerts.py,
        decide about capacities)."""
        events: list[Event] = []
        for name, zone in self.zones.items():
            now, before = zone.occupancy, self._occupancy.get(name, 0)
            if now != before:
                self._occupancy[name] = now
                events.append(stamp.event(Occupancy, zone=name, count=now))
        return events

    def _queue_statuses(self, stamp: Stamp, queues: dict[str, QueueState]) -> list[Event]:
        """QueueStatus of the queue areas whose length changed, or that someone waits in
        and were last sent QUEUE_STATUS_EVERY_S ago (bus only, not in the frame's events)."""
        out: list[Event] = []
        for name, q in queues.items():
            sent = self._queue_sent.get(name)
            last_t, last_len = sent if sent is not None else (-1e18, -1)
            if last_len != q.length or (q.length and stamp.t - last_t >= QUEUE_STATUS_EVERY_S):
                self._queue_sent[name] = (stamp.t, q.length)
                out.append(
                    stamp.event(
                        QueueStatus,
                        zone=name,
                        length=q.length,
                        longest_wait_s=round(q.longest_wait_s, 1),
                    )
                )
        return out

    def flush(self) -> list[Event]:
        """End of stream: everyone still inside exits, open visits close, pending
        entrance crossings become passers-by. Events are published and returned."""
        with self._lock:
            if self._last is None:
                return []
            stamp = self._last
            events: list[Event] = []
            for line in self.lines.values():
                events.extend(line.flush())
            for entrance in self.entrances.values():
                events.extend(entrance.update(stamp, events))
                events.extend(entrance.flush(stamp))
            for zone in self.zones.values():
                events.extend(zone.flush(stamp))
            events.extend(self._occupancy_changes(stamp))
            for ev in events:
                self.analytics.on_event(ev)
            if self.faces is not None:
                self.faces.flush(self._visitor_of)
        self._publish(events)
        return events

    def _publish(self, events: list[Event]) -> None:
        if self.bus is None:
            return
        for ev in events:
            self.bus.publish(ev)
