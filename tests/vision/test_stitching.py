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
