"""Counting lines with hysteresis: paths of one track in, crossings out."""

from __future__ import annotations

import numpy as np
import pytest

from app.config import LineConfig
from app.events import LineCross
from app.vision.lines import LineCounter, LineStepper
from app.vision.stamp import Stamp

H = ((100.0, 200.0), (300.0, 200.0))  # left to right: moving up the image is "in"
V = ((200.0, 100.0), (200.0, 300.0))  # top to bottom: moving right is "in"


def run(line, path, hysteresis=6.0) -> list[str]:
    stepper = LineStepper(line[0], line[1], hysteresis)
    out: list[str] = []
    for i, p in enumerate(path):
        if p is None:  # a missing frame: the track was not seen
            continue
        d = stepper.step(7, p, i * 0.2)
        if d:
            out.append(d)
    return out


def vertical_walk(x: float, y0: float, y1: float, n: int = 13):
    return [(x, y) for y in np.linspace(y0, y1, n)]


CASES = {
    "up through the middle": (H, vertical_walk(200, 260, 140), ["in"]),
    "down through the middle": (H, vertical_walk(200, 140, 260), ["out"]),
    "up beside it, past the end": (H, vertical_walk(320, 260, 140), []),
    "up beside it, before the start": (H, vertical_walk(90, 260, 140), []),
    "through near the end": (H, vertical_walk(299, 260, 140), ["in"]),
    "there and back": (
        H,
        vertical_walk(200, 260, 140) + vertical_walk(200, 140, 260),
        ["in", "out"],
    ),
    "jitter on the line": (
        H,
        [
            (200, 230),
            (200, 203),
            (200, 197),
            (200, 203),
            (200, 196),
            (200, 204),
            (200, 198),
            (200, 202),
            (200, 230),
        ],
        [],
    ),
    "jitter then through": (
        H,
        [(200, 230), (200, 203), (200, 197), (200, 203), (200, 197), (200, 185), (200, 160)],
        ["in"],
    ),
    "jitter after crossing": (
        H,
        [(200, 230), (200, 190), (200, 196), (200, 201), (200, 197), (200, 202), (200, 180)],
        ["in"],
    ),
    "stands just past the line": (
        H,
        [(200, 230), (200, 210), (200, 197), (200, 196), (200, 197)],
        [],
    ),
    "gap: lost below, found above": (
        H,
        [(200, 260), (200, 240), None, None, None, (200, 150), (200, 140)],
        ["in"],
    ),
    "gap around the end": (H, [(330, 260), (320, 240), None, None, (290, 150)], []),
    "vertical line, left to right": (V, [(x, 180) for x in np.linspace(140, 260, 9)], ["in"]),
    "vertical line, right to left": (V, [(x, 180) for x in np.linspace(260, 140, 9)], ["out"]),
    "vertical line, below its end": (V, [(x, 320) for x in np.linspace(140, 260, 9)], []),
    "walk along beside then cross": (H, [(350, 260), (350, 140), (250, 140), (250, 260)], ["out"]),
    "born inside the band, walks away": (H, [(200, 203), (200, 190), (200, 170)], []),
    "born inside the band, crosses": (H, [(200, 197), (200, 215), (200, 190)], ["in"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_crossings(case: str) -> None:
    line, path, expected = CASES[case]
    assert run(line, path) == expected


def test_zero_hysteresis_counts_every_flip() -> None:
    path = [(200, 230), (200, 197), (200, 203), (200, 197)]
    assert run(H, path, hysteresis=0) == ["in", "out", "in"]
    assert run(H, path, hysteresis=6) == []


def test_tracks_are_independent() -> None:
    stepper = LineStepper(*H, 6)
    assert stepper.step(1, (200, 240)) is None
    assert stepper.step(2, (200, 160)) is None
    assert stepper.step(1, (200, 160)) == "in"
    assert stepper.step(2, (200, 240)) == "out"
    assert stepper.ended(now=100.0, older_than_s=10.0) == [(1, None), (2, None)]
    assert len(stepper) == 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([(200, 230), (200, 197)], "in"),  # last seen 3 px past the line: it crossed
        ([(200, 230), (200, 203)], None),  # last seen before the line
        ([(200, 230), (200, 197), (200, 203)], None),  # back on its side
        ([(350, 230), (350, 197)], None),  # beside the segment
        ([(200, 230), (200, 150)], None),  # already counted while tracked
    ],
)
def test_a_track_ending_inside_the_band_is_resolved(path, expected) -> None:
    stepper = LineStepper(H[0], H[1], 6.0)
    counted = [stepper.step(1, p) for p in path]
    assert stepper.finish(1) == expected
    assert len(stepper) == 0 and counted.count("in") + (expected == "in") <= 1


def test_counter_resolves_ended_tracks_and_flush() -> None:
    counter = LineCounter(LineConfig(name="door", start=(100, 200), end=(300, 200)), 1.0)
    for i, y in enumerate([240, 220, 197]):  # walks up, is lost 3 px past the line
        counter.update(Stamp("c", i, i * 0.2, i * 0.2), np.array([3]), np.array([[200.0, y]]))
    later = counter.update(Stamp("c", 20, 4.0, 4.0), np.zeros(0, np.int64), np.zeros((0, 2)))
    assert [(e.direction, e.frame, e.t) for e in later] == [("in", 2, 0.4)]  # dated when last seen
    for i, y in enumerate([150, 203], start=30):  # another track, ends the stream past the line
        counter.update(Stamp("c", i, i * 0.2, i * 0.2), np.array([4]), np.array([[200.0, y]]))
    assert [(e.direction, e.track_id) for e in counter.flush()] == [("out", 4)]
    assert counter.counts == {"in": 1, "out": 1}


def test_counter_emits_stamped_events_and_counts() -> None:
    counter = LineCounter(LineConfig(name="door", start=(100, 200), end=(300, 200)))
    ys = [260, 230, 190, 150]
    events: list[LineCross] = []
    for i, y in enumerate(ys):
        stamp = Stamp("cam", frame=i * 5, t=i * 0.5, ts=1000 + i * 0.5)
        pts = np.array([[200, y], [500, y]], float)  # track 9 walks beside the line
        events += counter.update(stamp, np.array([4, 9]), pts, {4: "visitor-4"})
    assert [(e.line, e.direction, e.track_id, e.visitor_id) for e in events] == [
        ("door", "in", 4, "visitor-4")
    ]
    assert (events[0].frame, events[0].t, events[0].camera) == (10, 1.0, "cam")
    assert counter.counts == {"in": 1, "out": 0}


def test_untracked_rows_are_ignored() -> None:
    counter = LineCounter(LineConfig(name="door", start=(100, 200), end=(300, 200)))
    for i, y in enumerate([260, 140]):
        counter.update(Stamp("c", i, i, i), np.array([-1]), np.array([[200, y]], float))
    assert counter.counts == {"in": 0, "out": 0}


def test_a_track_reported_past_the_line_counts_from_its_origin() -> None:
    """The tracker confirms a person only at their second sighting; by then they may
    have crossed. The origin (first sighting) starts the path."""
    door = LineConfig(name="door", start=(100, 200), end=(300, 200))
    counter = LineCounter(door)
    stamp = Stamp("c", 5, 0.2, 0.2)
    first = counter.update(stamp, np.array([3]), np.array([[200.0, 170.0]]), None, {3: (200, 230)})
    assert [(e.direction, e.track_id, e.frame) for e in first] == [("in", 3, 5)]
    beside = LineCounter(door)  # an origin beside the segment: no crossing
    assert not beside.update(
        stamp, np.array([3]), np.array([[400.0, 170.0]]), None, {3: (400, 230)}
    )
    plain = LineCounter(door)  # without the origin the crossing is unknowable
    assert not plain.update(stamp, np.array([3]), np.array([[200.0, 170.0]]))


def test_a_step_faster_than_a_person_is_not_a_crossing() -> None:
    """Two people, 100 px tall, pass each other at a vertical line at 25 fps: the
    tracker's id leaps from one to the other, 40 px across the line in 0.04 s (10
    heights a second). No crossing; the id goes on from where it landed, so when that
    person walks over the line later, that crossing counts."""
    stepper = LineStepper(*V, 6)
    h = 100.0
    walk_in = [(180.0 + 1.5 * k, 0.04 * k) for k in range(8)]  # ~0.4 heights/s
    assert [stepper.step(1, (x, 250), t, h) for x, t in walk_in] == [None] * 8
    assert stepper.step(1, (230.0, 250), 0.32, h) is None  # the leap over the line
    later = [(230.0 - 2 * k, 0.32 + 0.04 * k) for k in range(1, 25)]
    assert [d for x, t in later if (d := stepper.step(1, (x, 250), t, h))] == ["out"]


@pytest.mark.parametrize(
    ("step_px", "dt", "height", "counted"),
    [
        (40.0, 0.04, 100.0, False),  # 10 heights/s and 0.4 of a height: a jump
        (20.0, 0.04, 100.0, True),  # 5 heights/s but 0.2 of a height: box jitter, a step
        (40.0, 0.2, 100.0, True),  # 0.4 of a height in 0.2 s (5 fps): a person walking
        (120.0, 0.2, 100.0, False),  # 1.2 heights in 0.2 s
        (40.0, 0.04, 0.0, True),  # no heights: no jump test (as before)
    ],
)
def test_jump_rule_in_body_heights(step_px: float, dt: float, height: float, counted: bool) -> None:
    stepper = LineStepper(*V, 6)
    x0 = 200.0 - step_px / 2
    assert stepper.step(1, (x0 - 10, 250), 0.0, height) is None
    assert stepper.step(1, (x0, 250), 0.1, height) is None
    d = stepper.step(1, (x0 + step_px, 250), 0.1 + dt, height)
    assert (d == "in") is counted


def test_the_counter_passes_the_boxes_heights() -> None:
    door = LineConfig(name="door", start=(200, 100), end=(200, 300))
    counter = LineCounter(door)
    ids = np.array([4])
    for i, (x, h) in enumerate([(170.0, 100.0), (180.0, 100.0), (230.0, 100.0)]):
        stamp = Stamp("c", i, 0.04 * i, 0.04 * i)
        events = counter.update(stamp, ids, np.array([[x, 250.0]]), None, None, np.array([h]))
    assert events == [] and counter.counts == {"in": 0, "out": 0}  # 50 px in 0.04 s
