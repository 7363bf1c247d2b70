"""CameraPipeline: wiring with scripted detections, then the real pipeline (YOLOX-Nano,
ByteTrack, motion gate) on the real PETS 2009 clip."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest

from app.config import AppConfig, parse_config
from app.events import (
    Alert,
    EventBus,
    LineCross,
    NewVisitor,
    Occupancy,
    QueueStatus,
    VisitClosed,
    ZoneEnter,
    ZoneExit,
)
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline
from tests.conftest import MODELS_DIR, PETS_CLIP


@dataclass(frozen=True)
class F:
    image: np.ndarray
    index: int
    t: float
    ts: float


class PassThroughTracker:
    """Unit-test stand-in: the scripted detections already carry their track ids."""

    def update(self, d: Detections, t: float) -> Detections:
        return d

    def reset(self) -> None:
        pass


class ScriptedDetector:
    def __init__(self, script: list[Detections]) -> None:
        self.script, self.calls = script, 0

    def detect(self, frame: np.ndarray) -> Detections:
        self.calls += 1
        return self.script[min(self.calls - 1, len(self.script) - 1)]


class Gate:
    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers

    def should_detect(self, frame: np.ndarray, t: float) -> bool:
        return self.answers.pop(0) if self.answers else True


CFG: dict[str, Any] = {
    "cameras": [{"name": "cam", "type": "fake"}],
    "lines": [{"name": "door", "start": [0, 200], "end": [400, 200]}],
    "zones": [{"name": "shop", "polygon": [[0, 0], [400, 0], [400, 150], [0, 150]], "capacity": 1}],
}


def person(track_id: int, x: float, feet_y: float) -> Detections:
    return Detections.create([[x - 15, feet_y - 80, x + 15, feet_y]], [0.9], [0], [track_id])


def frames(n: int) -> list[F]:
    img = np.full((300, 400, 3), 90, np.uint8)
    cv2.rectangle(img, (100, 50), (300, 250), (30, 160, 220), -1)
    return [F(img, i, i * 0.2, 1000.0 + i * 0.2) for i in range(n)]


def walk_in(track_id: int = 5, steps: int = 12) -> list[Detections]:
    """A person walking up the image: crosses the door line (y=200), into the shop."""
    return [person(track_id, 200, 260 - 15 * k) for k in range(steps)]


def make(script: list[Detections], cfg: dict | None = None, gate: Gate | None = None, stitch=False):
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    config = parse_config(cfg or CFG)
    p = CameraPipeline(
        "cam",
        config,
        ScriptedDetector(script),
        bus,
        tracker=PassThroughTracker(),
        motion=gate if gate is not None else False,
        stitcher=stitch,
    )
    return p, seen


def test_walk_in_produces_crossing_visit_and_new_visitor() -> None:
    p, seen = make(walk_in())
    results = [p.process(f) for f in frames(12)]
    events = [e for r in results for e in r.events]
    crossings = [e for e in events if isinstance(e, LineCross)]
    assert [(c.line, c.direction, c.track_id) for c in crossings] == [("door", "in", 5)]
    enters = [e for e in events if isinstance(e, ZoneEnter)]
    assert len(enters) == 1 and enters[0].zone == "shop"
    assert uuid.UUID(enters[0].visitor_id).version == 4
    assert crossings[0].visitor_id == enters[0].visitor_id  # one id per track
    new = [e for e in events if isinstance(e, NewVisitor)]
    assert len(new) == 1 and new[0].visitor_id == enters[0].visitor_id
    crop = cv2.imdecode(np.frombuffer(new[0].crop_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert crop is not None and 60 < crop.shape[0] < 120 and 20 < crop.shape[1] < 60
    assert results[-1].occupancy == {"shop": 1}
    assert results[-1].line_counts == {"door": {"in": 1, "out": 0}}
    assert [e for e in seen if not isinstance(e, Alert)] == events  # all went on the bus
    closing = p.flush()
    assert [type(e) for e in closing] == [ZoneExit, VisitClosed, Occupancy]
    assert closing[1].dwell_s == pytest.approx((11 - enters[0].frame) * 0.2)
    assert p.analytics.dwell["shop"].visits == 1


def test_a_person_just_lost_in_a_zone_is_held_at_their_last_box() -> None:
    # inside the shop for 10 frames, then the detector misses them (frames 0.2 s apart)
    walk = walk_in(5, steps=10)
    p, _ = make(walk + [Detections.empty()] * 6)
    results = [p.process(f) for f in frames(16)]
    assert len(results[9].held) == 0  # seen: drawn as a box, not held
    gone = results[10]
    assert gone.occupancy == {"shop": 1} and len(gone.detections) == 0
    assert gone.held.tracker_id.tolist() == [5]
    np.testing.assert_allclose(gone.held.xyxy, walk[9].xyxy)  # where last seen
    # held exactly as long as the zone counts them (the 1 s grace)
    for r in results[10:]:
        assert len(r.held) == r.occupancy["shop"], r.t
    assert results[13].held.tracker_id.tolist() == [5] and len(results[15].held) == 0


def test_a_walk_cut_in_two_at_the_line_counts_once() -> None:
    walk = walk_in(5, steps=4) + [Detections.empty()] * 2 + walk_in(8, steps=12)[6:]
    p, _ = make(walk, stitch=True)  # the tracker loses the person and finds them as 8
    events = [e for f in frames(len(walk)) for e in p.process(f).events]
    crossings = [e for e in events if isinstance(e, LineCross)]
    assert [(c.direction, c.track_id) for c in crossings] == [("in", 1)]
    assert len([e for e in events if isinstance(e, NewVisitor)]) == 1
    p2, _ = make(walk, stitch=False)
    events2 = [e for f in frames(len(walk)) for e in p2.process(f).events]
    assert not [e for e in events2 if isinstance(e, LineCross)]


def test_visitor_ids_are_random_per_track() -> None:
    script = [Detections.concat([a, b]) for a, b in zip(walk_in(1), walk_in(2), strict=True)]
    p, _ = make(script)
    ids = [p.process(f).visitor_ids for f in frames(3)]
    assert ids[0] == ids[2] and ids[0][1] != ids[0][2]
    p2, _ = make(script)
    assert p2.process(frames(1)[0]).visitor_ids[1] != ids[0][1]  # not derived from anything


def test_over_capacity_is_an_occupancy_event_and_no_alert() -> None:
    """The pipeline reports counts; deciding about capacities is the alert rules' job
    (app/alerts.py, fed by the engine's alert monitor: tests/test_alert_monitor.py)."""
    two = [Detections.concat([person(1, 100, 100), person(2, 300, 100)])] * 4
    p, seen = make(two)
    for f in frames(4):
        p.process(f)
    assert not [e for e in seen if isinstance(e, Alert)]
    assert [(e.zone, e.count) for e in seen if isinstance(e, Occupancy)][-1] == ("shop", 2)


def test_queue_status_on_the_bus_when_the_length_changes_and_each_second() -> None:
    cfg = {**CFG, "zones": [{**CFG["zones"][0], "kind": "queue"}]}
    script = [person(1, 100, 100)] * 12 + [Detections.empty()] * 30
    p, seen = make(script, cfg)
    results = [p.process(f) for f in frames(len(script))]
    statuses = [e for e in seen if isinstance(e, QueueStatus)]
    assert statuses and all(e.zone == "shop" for e in statuses)
    assert not [e for r in results for e in r.events if isinstance(e, QueueStatus)]
    waiting = [e for e in statuses if e.length == 1]
    # frames are 0.2 s apart: one status when the person joins, then about one a second
    assert 2 <= len(waiting) <= 4
    assert waiting[-1].longest_wait_s > waiting[0].longest_wait_s
    assert statuses[-1].length == 0 and statuses[-1].t > waiting[-1].t
    assert len([e for e in statuses if e.length == 0]) == 1  # nobody waits: no repeats


def test_motion_gate_skip_keeps_tracks_without_detecting() -> None:
    gate = Gate([True, False, False, True])
    fixed = {**CFG, "analysis": {"adaptive": {"enabled": False}}}  # the gate alone decides
    p, _ = make(walk_in(), cfg=fixed, gate=gate)
    rs = [p.process(f) for f in frames(4)]
    assert [r.skipped_by_motion for r in rs] == [False, True, True, False]
    assert isinstance(p.detector, ScriptedDetector) and p.detector.calls == 2
    assert rs[1].detections.tracker_id.tolist() == [5]
    np.testing.assert_array_equal(rs[1].detections.xyxy, rs[0].detections.xyxy)


def test_the_gate_does_not_skip_a_person_walking_near_a_line() -> None:
    """By default (the adaptive rate) a frame the gate would skip is detected anyway
    while someone tracked walks or is near a counting line."""
    gate = Gate([True, False, False, True])
    p, _ = make(walk_in(), gate=gate)
    rs = [p.process(f) for f in frames(4)]
    assert [r.skipped_by_motion for r in rs] == [False, False, False, False]
    assert isinstance(p.detector, ScriptedDetector) and p.detector.calls == 4
    # the gate was asked for the first frame only: at the busy times after it its
    # comparison would have been overridden, so it is not computed
    assert gate.answers == [False, False, True]


def test_apply_config_adds_a_line_live_and_keeps_counts() -> None:
    p, _ = make(walk_in(steps=20))
    fs = frames(20)
    for f in fs[:10]:
        p.process(f)
    assert p.lines["door"].counts["in"] == 1
    upper = {"name": "upper", "start": [0, 100], "end": [400, 100]}
    cfg = {
        **CFG,
        "lines": [CFG["lines"][0], upper],
        "zones": [],
    }  # the zone is removed: its open visit is flushed
    flushed = p.apply_config(parse_config(cfg))
    assert {type(e) for e in flushed} >= {ZoneExit, VisitClosed}
    for f in fs[10:]:
        p.process(f)
    assert p.lines["door"].counts == {"in": 1, "out": 0}
    assert p.lines["upper"].counts == {"in": 1, "out": 0}
    assert p.zones == {}


def test_a_line_marked_inside_the_store_says_so_in_its_crossings() -> None:
    """Unticking "a door of the store" on a line (same place) keeps its counts and the
    tracks it follows; its crossings from then on say they are not footfall."""
    walk_back = [person(5, 200, 110 + 15 * k) for k in range(10)]  # down across the line
    p, seen = make(walk_in(steps=10) + walk_back)
    fs = frames(20)
    for f in fs[:10]:
        p.process(f)
    crossed = [e for e in seen if isinstance(e, LineCross)]
    assert len(crossed) == 1 and crossed[0].door
    aisle = {**CFG["lines"][0], "door": False}
    p.apply_config(parse_config({**CFG, "lines": [aisle]}))
    assert p.lines["door"].counts == {"in": 1, "out": 0}  # the same counter, kept
    for f in fs[10:]:
        p.process(f)
    out = [e for e in seen if isinstance(e, LineCross)][1:]
    assert [(e.direction, e.door) for e in out] == [("out", False)]


# --- the real thing -------------------------------------------------------------------

PETS_CFG: dict[str, Any] = {
    "lines": [{"name": "plaza", "start": [240, 60], "end": [240, 350]}],
    "zones": [{"name": "lawn", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]]}],
    "analysis": {"revisit_s": 5},
}


@pytest.fixture(scope="module")
def yolox() -> object:
    from app.config import DetectorConfig
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    return create_detector(DetectorConfig(), ModelManager(MODELS_DIR, allow_download=False))


@pytest.mark.slow
def test_real_pipeline_on_pets_clip(yolox: object) -> None:
    from app.cli.analyze import clip_config
    from app.vision.video_io import iter_video

    cfg, camera = clip_config(AppConfig.model_validate(PETS_CFG), PETS_CLIP, None)
    p = CameraPipeline(camera, cfg, yolox, EventBus())  # type: ignore[arg-type]
    events = []
    people = []
    for frame in iter_video(PETS_CLIP, fps=5.0):
        if frame.t > 30.0:  # the first 30 s of the clip: 151 analysed frames
            break
        r = p.process(frame)
        events += r.events
        people.append(len(r.detections))
    events += p.flush()
    crossings = [e for e in events if isinstance(e, LineCross)]
    directions = {c.direction for c in crossings}
    assert len(crossings) >= 3 and directions == {"in", "out"}, crossings
    assert 3 <= np.median(people) <= 12  # several people on the plaza at any time
    closed = [e for e in events if isinstance(e, VisitClosed) and e.zone == "lawn"]
    assert len(closed) >= 2
    dwells = [v.dwell_s for v in closed]
    assert all(0.0 <= d <= 30.0 for d in dwells) and max(dwells) > 2.0, dwells
    new = [e for e in events if isinstance(e, NewVisitor)]
    assert new and all(len(e.crop_jpeg) > 300 for e in new)
    assert len({e.visitor_id for e in new}) == len(new)


def test_annotate_draws_on_a_copy() -> None:
    from app.vision.annotate import annotate, draw_heatmap, track_color

    cfg = parse_config(CFG)
    img = frames(1)[0].image
    before = img.copy()
    dets = Detections.concat([person(3, 100, 220), person(4, 300, 120)])
    out = annotate(img, dets, cfg.zones, cfg.lines, {"shop": 1}, {"door": {"in": 2, "out": 1}},
                   ["hello"])  # fmt: skip
    np.testing.assert_array_equal(img, before)  # the input is untouched
    assert out.shape == img.shape and out.dtype == np.uint8
    changed = np.any(out != img, axis=2)
    assert changed[220, 85:115].any()  # box bottom edge of track 3
    assert changed[200, 150:250].any()  # the door line
    assert track_color(3) != track_color(4)
    heat = draw_heatmap(img, np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert np.any(heat[:100, 300:] != img[:100, 300:])  # the hot cell
    np.testing.assert_array_equal(heat[250:, :80], img[250:, :80])  # far from it: untouched


def test_person_crop_is_clipped_and_downscaled() -> None:
    from app.vision.crops import person_crop_jpeg

    img = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    big = person_crop_jpeg(img, (100, 0, 500, 700), max_side=256)
    decoded = cv2.imdecode(np.frombuffer(big, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and max(decoded.shape[:2]) == 256
    edge = person_crop_jpeg(img, (1270, 700, 1400, 900))  # mostly outside the frame
    edge_img = cv2.imdecode(np.frombuffer(edge, np.uint8), cv2.IMREAD_COLOR)
    assert edge_img is not None and edge_img.shape[:2] == (
        36,
        21,
    )  # padded 8 %, clipped
    assert person_crop_jpeg(img, (2000, 2000, 2100, 2100)) == b""
