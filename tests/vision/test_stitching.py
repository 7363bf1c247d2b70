"""TrackStitcher: fragments of one walk become one person id; nobody else's."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.vision.detections import Detections
from app.vision.stitching import StitchRules, TrackStitcher

Row = tuple[int, float, float]


def boxes(*rows: Row) -> Detections:
    """(tracker id, centre x, feet y) per person; boxes 40 x 100 px."""
    xyxy = [[x - 20, y - 100, x + 20, y] for _, x, y in rows]
    return Detections.create(xyxy, tracker_id=[r[0] for r in rows])


def run(frames: Sequence[Sequence[Row]], dt: float = 0.2, size=None) -> list[list[int]]:
    s = TrackStitcher(StitchRules(max_gap_s=1.5, radius=0.6))
    return [s.update(boxes(*f), i * dt, size).tracker_id.tolist() for i, f in enumerate(frames)]


def test_a_fragment_where_the_walker_was_heading_continues_the_person() -> None:
    walk: list[list[Row]] = [[(7, 100 + 20 * i, 300)] for i in range(5)]  # 100 px/s to the right
    gap: list[list[Row]] = [[] for _ in range(3)]  # hidden for 0.6 s: the tracker forgets the id
    back: list[list[Row]] = [
        [(9, 100 + 20 * i, 300)] for i in range(8, 11)
    ]  # found again as tracker id 9
    ids = run(walk + gap + back)
    assert {i for f in ids for i in f} == {1}


def test_a_new_person_far_away_gets_a_new_id() -> None:
    ids = run([[(7, 100, 300)], [(7, 120, 300)], [], [(9, 400, 300)]])
    assert ids[-1] == [2]


def test_no_takeover_after_the_gap_window() -> None:
    ids = run([[(7, 100, 300)], *[[] for _ in range(9)], [(9, 100, 300)]])  # 2 s later
    assert ids[-1] == [2]


def test_a_person_still_visible_is_never_taken_over() -> None:
    ids = run([[(7, 100, 300)], [(7, 100, 300), (9, 110, 300)]])
    assert ids[-1] == [1, 2]


def test_someone_walking_into_view_at_the_border_is_new() -> None:
    frames = [[(7, 600, 300)], [(7, 610, 300)], [], [(9, 622, 300)]]
    assert run(frames, size=(640, 480))[-1] == [2]  # box touches x = 640
    assert run(frames)[-1] == [1]  # without the image size it would have been stitched


def test_two_fragments_two_people_matched_one_to_one() -> None:
    frames = [
        [(1, 100, 300), (2, 300, 300)],
        [(1, 110, 300), (2, 290, 300)],
        [],
        [(5, 282, 300), (6, 128, 300)],
    ]
    ids = run(frames)
    assert ids[-1] == [2, 1]


def test_rows_without_track_id_pass_through() -> None:
    s = TrackStitcher()
    d = Detections.create([[0, 0, 10, 10], [20, 20, 40, 40]], tracker_id=[-1, 4])
    out = s.update(d, 0.0)
    assert out.tracker_id.tolist() == [-1, 1]
    np.testing.assert_array_equal(out.xyxy, d.xyxy)
    assert d.tracker_id.tolist() == [-1, 4]  # the input is not modified


# clothes colours: the stitcher weighs them when it is given the frame


def painted(people: Sequence[tuple[float, float, tuple[int, int, int]]]) -> np.ndarray:
    """A grey 640x480 frame with a 40x100 box of solid colour (BGR) per (x, feet y)."""
    img = np.full((480, 640, 3), 128, np.uint8)
    for x, y, bgr in people:
        img[int(y) - 100 : int(y), int(x) - 20 : int(x) + 20] = bgr
    return img


RED, BLUE = (30, 30, 200), (200, 60, 30)


def test_a_fragment_in_other_clothes_is_somebody_else() -> None:
    s = TrackStitcher(StitchRules(max_gap_s=1.5, radius=0.6))
    for i in range(3):  # a person in red walks right, then vanishes
        x = 100 + 20 * i
        s.update(boxes((7, x, 300)), 0.2 * i, image=painted([(x, 300, RED)]))
    s.update(boxes(), 0.6, image=painted([]))
    # where the red walker was heading, somebody in blue appears
    blue = s.update(boxes((9, 180, 300)), 0.8, image=painted([(180, 300, BLUE)]))
    assert blue.tracker_id.tolist() == [2]
    s2 = TrackStitcher(StitchRules(max_gap_s=1.5, radius=0.6))
    for i in range(3):
        x = 100 + 20 * i
        s2.update(boxes((7, x, 300)), 0.2 * i, image=painted([(x, 300, RED)]))
    s2.update(boxes(), 0.6, image=painted([]))
    red = s2.update(boxes((9, 180, 300)), 0.8, image=painted([(180, 300, RED)]))
    assert red.tracker_id.tolist() == [1]  # the same walk in the same clothes continues


def test_a_recovered_track_goes_to_the_person_it_fits() -> None:
    """The tracker re-finds lost track 7 (a small, far, still person in blue) on a tall
    person in red whose own track 8 was lost a moment ago: the red person keeps the id."""
    s = TrackStitcher(StitchRules(max_gap_s=1.5, radius=0.6))
    far = Detections.create([[300, 150, 330, 220]], tracker_id=[7])  # 70 px tall, blue
    img = np.full((480, 640, 3), 128, np.uint8)
    img[150:220, 300:330] = BLUE
    assert s.update(far, 0.0, image=img).tracker_id.tolist() == [1]
    for i in range(1, 4):  # the red walker, 100 px tall, walks left towards x = 320
        x = 400 - 20 * i
        frame = img.copy()
        frame[200:300, x - 20 : x + 20] = RED
        d = Detections.create([[x - 20, 200, x + 20, 300]], tracker_id=[8])
        assert s.update(d, 0.2 * i, image=frame).tracker_id.tolist() == [2]
    s.update(Detections.create(np.zeros((0, 4)), tracker_id=[]), 0.8, image=img)
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[200:300, 300:340] = RED
    back = Detections.create([[300, 200, 340, 300]], tracker_id=[7])  # tracker's choice
    assert s.update(back, 1.0, image=frame).tracker_id.tolist() == [2]
