"""Live tiles carry the last analysed boxes forward to the newer frame on screen
(`tile_model.BoxMotion`): on made-up tracks, and on the real walkers of TUD-Stadtmitte's
ground truth analysed at 5 of its 25 frames a second."""

from __future__ import annotations

import collections

import numpy as np

from app.ui.tile_model import MAX_AHEAD, BoxMotion, TileView
from tests.conftest import TUD_DIR


def view(index: int, analysed: int, boxes: list[list[float]], ids: list[int]) -> TileView:
    return TileView(
        "door",
        frame_index=index,
        analysed_index=analysed,
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        track_ids=np.array(ids, np.int64),
    )


def test_a_walking_box_is_carried_to_the_frame_on_screen() -> None:
    m = BoxMotion()
    m.observe(0, np.array([[10, 20, 30, 80]], np.float32), np.array([7]))
    v = view(5, 5, [[30, 10, 50, 70]], [7])  # +4 px / frame right, -2 down
    m.observe(5, v.boxes, v.track_ids)
    assert m.at(v).tolist() == [[30, 10, 50, 70]]  # nothing newer on screen
    v.frame_index = 7
    assert m.at(v).tolist() == [[38, 6, 58, 66]]  # two frames on, same size
    v.frame_index = 5 + MAX_AHEAD + 20  # a stalled analysis: carried forward no further
    assert m.at(v).tolist() == [
        [30 + 4 * MAX_AHEAD, 10 - 2 * MAX_AHEAD, 50 + 4 * MAX_AHEAD, 70 - 2 * MAX_AHEAD]
    ]


def test_boxes_without_a_velocity_stay_put() -> None:
    m = BoxMotion()
    m.observe(0, np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float32), np.array([1, -1]))
    boxes = [[4, 0, 14, 10], [60, 50, 70, 60], [100, 100, 110, 110]]
    v = view(8, 2, boxes, [1, -1, 9])
    m.observe(2, v.boxes, v.track_ids)
    moved = m.at(v).tolist()
    assert moved[0] == [16, 0, 26, 10]  # track 1: 2 px / frame, 6 frames on
    assert moved[1:] == boxes[1:]  # untracked, and a track seen once: not moved
    m.observe(40, v.boxes, v.track_ids)  # seen again much later: no velocity from that
    assert m.at(view(42, 40, boxes, [1, -1, 9])).tolist() == boxes
    assert m.at(view(3, 5, boxes, [1, -1, 9])).tolist() == boxes  # looped clip: older frame


def test_real_walkers_sit_in_their_boxes() -> None:
    """TUD-Stadtmitte ground truth: analysed every 5th frame (5 fps of 25), the frames in
    between shown with the last analysed boxes, as a live tile does."""
    rows = np.loadtxt(TUD_DIR / "gt" / "gt.txt", delimiter=",")
    by_frame: dict[int, dict[int, np.ndarray]] = collections.defaultdict(dict)
    for f, tid, left, top, w, h, *_ in rows:
        by_frame[int(f)][int(tid)] = np.array([left, top, left + w, top + h], np.float32)
    m = BoxMotion()
    still, carried = [], []
    for k in sorted(by_frame)[::5]:
        ids = sorted(by_frame[k])
        v = view(k, k, [by_frame[k][i].tolist() for i in ids], ids)
        m.observe(k, v.boxes, v.track_ids)
        for ahead in range(1, 5):
            v.frame_index = k + ahead
            truth = by_frame.get(k + ahead, {})
            for box, moved, tid in zip(v.boxes, m.at(v), ids, strict=True):
                if tid in truth:
                    centre = lambda b: np.array([b[0] + b[2], b[1] + b[3]]) / 2  # noqa: E731
                    still.append(np.linalg.norm(centre(box) - centre(truth[tid])))
                    carried.append(np.linalg.norm(centre(moved) - centre(truth[tid])))
    assert len(carried) > 500
    # measured: mean centre error 4.5 px -> 1.0 px, p90 11.1 -> 2.0
    assert np.mean(carried) < 0.4 * np.mean(still)
    assert np.percentile(carried, 90) < 0.4 * np.percentile(still, 90)
