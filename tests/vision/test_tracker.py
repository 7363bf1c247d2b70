"""ByteTracker: frames of detections in, ids out (parametrized scenarios), instance
state, reset, no mutation, and real TUD-Stadtmitte tracks against ground truth and
against supervision's ByteTrack on the same detections."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from app.config import DetectorConfig, TrackerConfig
from app.vision.detections import Detections
from app.vision.detector import create_detector
from app.vision.models import ModelManager
from app.vision.tracker import ByteTracker, associate, box_iou
from tests.conftest import TUD_DIR

FPS = 5.0  # the product's default analysis rate: max_lost 3 s = 15 frames
# The scenarios pin the settings they were written for (3 hits to confirm, loose IoU
# gate); the product's defaults are tuned for line counting (see docs/accuracy.md).
SCENARIO = TrackerConfig(new_track_thresh=0.6, match_iou=0.1, min_hits=3)
Box = tuple[float, float, float, float, float]  # x1, y1, x2, y2, score
Frame = list[tuple[str | None, Box]]  # (expected label or None = not reported, box)


def person(x: float, y: float = 100, w: float = 40, h: float = 100, s: float = 0.9) -> Box:
    return (x, y, x + w, y + h, s)


def walk(label: str | None, x0: float, dx: float, n: int, **kw: float) -> list[Frame]:
    frames: list[Frame] = [[(label, person(x0 + dx * k, **kw))] for k in range(n)]
    return frames


def unconfirmed(frames: list[Frame], k: int = 2) -> list[Frame]:
    """The first k frames of a new track are not reported (min_hits = 3)."""
    return [[(None, b) for _, b in f] if i < k else f for i, f in enumerate(frames)]


def steady_walk() -> list[Frame]:
    return unconfirmed(walk("a", 20, 10, 14))


def standing_with_jitter() -> list[Frame]:
    rng = np.random.default_rng(0)
    frames: list[Frame] = [
        [("a", person(200 + rng.normal(0, 2), 100 + rng.normal(0, 2)))] for _ in range(15)
    ]
    return unconfirmed(frames)


def crossing() -> list[Frame]:
    """A walks right, B walks left, passing each other (B is further away: smaller, and
    occluded at the crossing so its score drops to 0.4 for three frames)."""
    frames: list[Frame] = []
    for k in range(24):
        xa, xb = 50 + 12 * k, 330 - 12 * k
        sb = 0.4 if abs(xa - xb) < 30 else 0.85
        frames.append([("a", person(xa, 100, 48, 120)), ("b", person(xb, 105, 40, 100, s=sb))])
    return unconfirmed(frames)


def gap_within_max_lost() -> list[Frame]:
    """Unseen for 8 frames (1.6 s < 3 s), reappears where the walk leads: same id."""
    before = walk("a", 20, 10, 8)
    after = walk("a", 20 + 10 * 16, 10, 6)
    return unconfirmed(before) + [[] for _ in range(8)] + after


def gap_beyond_max_lost() -> list[Frame]:
    """Unseen for 20 frames (4 s > 3 s): a new person as far as the tracker knows."""
    before = walk("a", 20, 3, 8)
    after = walk("b", 20 + 3 * 28, 3, 6)
    return unconfirmed(before) + [[] for _ in range(20)] + unconfirmed(after)


def low_score_rescued() -> list[Frame]:
    """Scores 0.3 (between low_thresh 0.1 and high_thresh 0.5) for two frames: the second
    stage keeps the person tracked and reported under the same id."""
    frames = walk("a", 20, 10, 12)
    for k in (6, 7):
        frames[k] = [("a", person(20 + 10 * k, s=0.3))]
    return unconfirmed(frames)


def too_low_score_is_a_miss() -> list[Frame]:
    """Score 0.05 is below low_thresh: that frame is a miss, the id comes back after."""
    frames = walk("a", 20, 10, 12)
    frames[6] = [(None, person(80, s=0.05))]
    return unconfirmed(frames)


def flicker_and_weak_never_reported() -> list[Frame]:
    """A one-frame false positive and a person who is only ever seen at score 0.45 (below
    new_track_thresh) never get an id; the steady walker does."""
    frames = unconfirmed(walk("a", 20, 10, 10))
    frames[4] = [*frames[4], (None, person(400, 300, s=0.95))]
    for f in frames:
        f.append((None, person(300, 20, s=0.45)))
    return frames


def three_in_a_row() -> list[Frame]:
    frames: list[Frame] = []
    for k in range(12):
        frames.append(
            [
                ("a", person(10 + 8 * k, 50)),
                ("b", person(150 + 8 * k, 60)),
                ("c", person(400 - 8 * k, 200, 50, 120)),
            ]
        )
    return unconfirmed(frames)


SCENARIOS = {
    "steady walk keeps its id": steady_walk,
    "standing still with jitter": standing_with_jitter,
    "crossing people keep their ids": crossing,
    "gap within max_lost keeps the id": gap_within_max_lost,
    "gap beyond max_lost gets a new id": gap_beyond_max_lost,
    "low-score frames rescued by stage two": low_score_rescued,
    "score below low_thresh is a miss": too_low_score_is_a_miss,
    "flicker and weak boxes never reported": flicker_and_weak_never_reported,
    "three people, three ids": three_in_a_row,
}


def to_detections(frame: Frame) -> Detections:
    if not frame:
        return Detections.empty()
    arr = np.array([b for _, b in frame], np.float32)
    return Detections.create(arr[:, :4], arr[:, 4])


def run_scenario(tracker: ByteTracker, frames: list[Frame]) -> None:
    """Feed the frames; check that exactly the labelled rows are reported and that
    labels and ids correspond one to one."""
    label_to_id: dict[str, int] = {}
    for k, frame in enumerate(frames):
        det = to_detections(frame)
        out = tracker.update(det)
        got = {
            tuple(np.round(b, 3).tolist()): int(i)
            for b, i in zip(out.xyxy, out.tracker_id, strict=True)
        }
        expected: dict[tuple[float, ...], str] = {
            tuple(np.round(np.array(b[:4], np.float32), 3).tolist()): label
            for label, b in frame
            if label
        }
        assert set(got) == set(expected), f"frame {k}: reported {got}, expected {expected}"
        for box, label in expected.items():
            tid = got[box]
            assert label_to_id.setdefault(label, tid) == tid, f"frame {k}: {label} changed id"
    ids = list(label_to_id.values())
    assert len(set(ids)) == len(ids), f"two people share an id: {label_to_id}"
    assert sorted(ids) == list(range(1, len(ids) + 1)), label_to_id  # ids 1, 2, ... in order


@pytest.mark.parametrize("make", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenarios(make: Callable[[], list[Frame]]) -> None:
    run_scenario(ByteTracker(SCENARIO, FPS), make())


def test_reset_clears_ids_and_tracks() -> None:
    tracker = ByteTracker(SCENARIO, FPS)
    run_scenario(tracker, three_in_a_row())
    assert sorted(tracker.active_ids) == [1, 2, 3]
    tracker.reset()
    assert tracker.tracks == [] and tracker.frame == 0 and tracker.active_ids == []
    run_scenario(tracker, steady_walk())  # ids start at 1 again
    assert tracker.active_ids == [1]


def test_instances_share_no_state() -> None:
    a, b = ByteTracker(SCENARIO, FPS), ByteTracker(SCENARIO, FPS)
    run_scenario(a, three_in_a_row())
    run_scenario(b, steady_walk())
    assert b.active_ids == [1]


def test_input_is_never_mutated_and_rows_keep_their_data() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1), FPS)
    det = Detections.create(
        [[10, 10, 50, 110], [200, 10, 240, 110]],
        [0.9, 0.8],
        data={"crop_key": np.array(["p", "q"])},
    )
    snapshot = (det.xyxy.copy(), det.confidence.copy(), det.tracker_id.copy())
    for _ in range(3):
        out = tracker.update(det)
    np.testing.assert_array_equal(det.xyxy, snapshot[0])
    np.testing.assert_array_equal(det.confidence, snapshot[1])
    np.testing.assert_array_equal(det.tracker_id, snapshot[2])
    assert (det.tracker_id == -1).all()
    np.testing.assert_array_equal(out.xyxy, det.xyxy)  # detection boxes, not Kalman boxes
    assert out.data["crop_key"].tolist() == ["p", "q"]
    assert out.tracker_id.tolist() == [1, 2]


def test_invalid_boxes_are_ignored() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1), FPS)
    det = Detections.create(
        [[10, 10, 50, 110], [np.nan, 0, 10, 10], [100, 100, 100, 150], [300, 50, 340, 0]],
        [0.9, 0.9, 0.9, 0.9],
    )
    for _ in range(3):
        out = tracker.update(det)
    assert out.xyxy.tolist() == [[10, 10, 50, 110]]
    assert len(tracker.update(Detections.empty())) == 0


@pytest.mark.parametrize(("fps", "frames"), [(5.0, 15), (25.0, 75), (10.0, 30), (0.2, 1)])
def test_max_lost_is_converted_with_the_analysis_fps(fps: float, frames: int) -> None:
    assert ByteTracker(TrackerConfig(max_lost_s=3.0), fps).max_lost_frames == frames


def test_fps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="fps"):
        ByteTracker(TrackerConfig(), 0)


def test_associate_prefers_total_similarity() -> None:
    tracks = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float64)
    dets = np.array([[21, 0, 31, 10], [1, 0, 11, 10], [100, 0, 110, 10]], np.float64)
    matches, un_t, un_d = associate(tracks, dets, None, 0.3)
    assert sorted(matches) == [(0, 1), (1, 0)] and un_t == [] and un_d == [2]
    assert box_iou(tracks, tracks).diagonal().tolist() == [1.0, 1.0]


# real footage ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tud_detections() -> list[Detections]:
    det = create_detector(DetectorConfig(confidence=0.1, threads=2), ModelManager())
    cap = cv2.VideoCapture(str(TUD_DIR / "TUD-Stadtmitte.mp4"))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(det.detect(frame))
    cap.release()
    assert len(out) == 179
    return out


def mot_scores(tracks: list[Detections], frames: list[int]) -> tuple[float, int]:
    mm = pytest.importorskip("motmetrics")
    gt = np.loadtxt(TUD_DIR / "gt" / "gt.txt", delimiter=",")
    acc = mm.MOTAccumulator(auto_id=False)
    for tr, f in zip(tracks, frames, strict=True):
        g = gt[gt[:, 0] == f + 1]  # video frame f is gt frame f + 1
        gbox = g[:, 2:6].copy()
        gbox[:, 2:] += gbox[:, :2]
        iou = box_iou(gbox, tr.xyxy.astype(np.float64))
        acc.update(
            g[:, 1].astype(int).tolist(),
            tr.tracker_id.tolist(),
            np.where(iou >= 0.5, 1 - iou, np.nan),
            frameid=f,
        )
    m = mm.metrics.create().compute(acc, metrics=["idf1", "num_switches"], name="t")
    return float(m["idf1"].iloc[0]), int(m["num_switches"].iloc[0])


@pytest.mark.parametrize(("every", "fps"), [(1, 25.0), (5, 5.0)])
def test_tud_tracks_against_ground_truth_and_supervision(
    tud_detections: list[Detections], every: int, fps: float
) -> None:
    """On TUD's ground truth our tracker scores IDF1 >= 0.78 with at most 8 switches,
    and no worse than sv.ByteTrack with its defaults on the same detections."""
    frames = list(range(0, len(tud_detections), every))
    ours = ByteTracker(SCENARIO, fps)
    idf1, switches = mot_scores([ours.update(tud_detections[f]) for f in frames], frames)
    assert idf1 >= 0.78 and switches <= 8, (idf1, switches)
    sv = pytest.importorskip("supervision")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sv.ByteTrack(frame_rate=fps)
    theirs = []
    for f in frames:
        d = tud_detections[f]
        r = ref.update_with_detections(
            sv.Detections(xyxy=d.xyxy.copy(), confidence=d.confidence.copy(), class_id=d.class_id)
        )
        theirs.append(Detections.create(r.xyxy, r.confidence, r.class_id, r.tracker_id))
    ref_idf1, ref_switches = mot_scores(theirs, frames)
    assert idf1 >= ref_idf1 - 0.005 and switches <= ref_switches, (idf1, ref_idf1)


def test_origins_hold_the_first_sighting_of_tracks_confirmed_now() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=2), FPS)
    first = Detections.create([[100, 100, 140, 200]], [0.9])
    assert len(tracker.update(first)) == 0 and tracker.origins == {}  # tentative
    out = tracker.update(Detections.create([[104, 100, 144, 200]], [0.9]))
    assert out.tracker_id.tolist() == [1]
    np.testing.assert_array_equal(tracker.origins[1], [100, 100, 140, 200])
    tracker.update(Detections.create([[108, 100, 148, 200]], [0.9]))
    assert tracker.origins == {}  # only in the update that confirms
    once = ByteTracker(TrackerConfig(min_hits=1), FPS)
    once.update(first)
    assert once.origins == {}  # reported at its first sighting: nothing earlier


def test_kalman_steps_match_the_textbook_formulas() -> None:
    """predict/update are written out per 2x2 block for speed; over a run of steps from
    `initiate` they must equal the 8x8 matrix forms x' = F x, P' = F P F^T + Q and
    K = P H^T S^-1, x + K (z - H x), P - K S K^T, and the covariance must stay in the
    four (coordinate, its velocity) blocks that `var` keeps."""
    from app.vision import kalman

    rng = np.random.default_rng(7)
    n = 5
    f = np.eye(8)
    f[:4, 4:] = np.eye(4)
    h = np.eye(4, 8)
    sp, sv = kalman.STD_POSITION, kalman.STD_VELOCITY
    start = np.column_stack(
        [rng.uniform(50, 400, (n, 2)), rng.uniform(0.3, 0.6, n), rng.uniform(60, 200, n)]
    )
    mean, var = kalman.initiate(start)
    ref_mean, ref_cov = mean.copy(), kalman.full_cov(var)
    ht0 = start[:, 3]
    p0 = np.square([[2 * sp * x, 2 * sp * x, 1e-2, 2 * sp * x] for x in ht0])
    v0 = np.square([[10 * sv * x, 10 * sv * x, 1e-5, 10 * sv * x] for x in ht0])
    np.testing.assert_allclose(ref_cov, [np.diag(np.r_[a, b]) for a, b in zip(p0, v0, strict=True)])
    for step in range(6):
        kalman.predict(mean, var)
        for i in range(n):
            ht = ref_mean[i, 3]
            q = np.diag(
                np.square([sp * ht, sp * ht, 1e-2, sp * ht, sv * ht, sv * ht, 1e-5, sv * ht])
            )
            ref_mean[i] = f @ ref_mean[i]
            ref_cov[i] = f @ ref_cov[i] @ f.T + q
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
        np.testing.assert_allclose(kalman.full_cov(var), ref_cov, rtol=1e-12, atol=1e-12)
        if step == 3:
            continue  # a frame without a measurement
        z = ref_mean[:, :4] + rng.normal(0, 5, (n, 4))
        kalman.update(mean, var, np.arange(n), z)
        for i in range(n):
            ht = ref_mean[i, 3]
            s = h @ ref_cov[i] @ h.T + np.diag(np.square([sp * ht, sp * ht, 1e-1, sp * ht]))
            k = ref_cov[i] @ h.T @ np.linalg.inv(s)
            ref_mean[i] = ref_mean[i] + k @ (z[i] - h @ ref_mean[i])
            ref_cov[i] = ref_cov[i] - k @ s @ k.T
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-9)
        np.testing.assert_allclose(kalman.full_cov(var), ref_cov, rtol=1e-7, atol=1e-9)
    boxes = np.array([[10.0, 20.0, 50.0, 120.0], [0.0, 0.0, 3.0, 9.0]])
    np.testing.assert_allclose(kalman.xyah_to_xyxy(kalman.xyxy_to_xyah(boxes)), boxes)
    np.testing.assert_allclose(kalman.xyxy_to_xyah(boxes[:1]), [[30.0, 70.0, 0.4, 100.0]])


def test_box_iou_matches_the_plain_formula() -> None:
    """The compiled IoU against the definition, on overlapping, nested, touching,
    disjoint and zero-area boxes."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 200, (40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0, 60, (40, 2))], axis=1)
    boxes[0] = [10, 10, 10, 50]  # zero width
    boxes[1] = [0, 0, 10, 10]
    boxes[2] = [10, 0, 20, 10]  # touches boxes[1]
    boxes[3] = [2, 2, 8, 8]  # inside boxes[1]
    want = np.zeros((40, 40))
    for i, (a0, a1, a2, a3) in enumerate(boxes):
        for j, (b0, b1, b2, b3) in enumerate(boxes):
            inter = max(min(a2, b2) - max(a0, b0), 0) * max(min(a3, b3) - max(a1, b1), 0)
            union = (a2 - a0) * (a3 - a1) + (b2 - b0) * (b3 - b1) - inter
            want[i, j] = inter / union if union > 0 else 0.0
    got = box_iou(boxes, boxes)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[1, 2] == 0.0 and got[1, 3] == pytest.approx(36 / 100)
    assert box_iou(boxes[:0], boxes).shape == (0, 40)


def test_score_rows_match_the_plain_formula() -> None:
    """The compiled split of detections into high- and low-score rows against the numpy
    form it replaced: unusable boxes (not finite, no width or height, no score) are in
    neither, and the thresholds are inclusive below."""
    from app.vision.kernels import score_rows

    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 200, (60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0, 60, (60, 2))], axis=1)
    scores = rng.uniform(0, 1, 60)
    boxes[0, 2] = boxes[0, 0]  # no width
    boxes[1, 3] = boxes[1, 1] - 5  # negative height
    boxes[2, 1] = np.nan
    boxes[3, 2] = np.inf
    scores[4] = np.nan
    scores[5], scores[6], scores[7] = 0.6, 0.1, 0.0999
    high_t, low_t = 0.6, 0.1
    wh = boxes[:, 2:] - boxes[:, :2]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(boxes).all(axis=1) & np.isfinite(scores) & (wh > 0).all(axis=1)
    want_high = np.flatnonzero(valid & (scores >= high_t))
    want_low = np.flatnonzero(valid & (scores >= low_t) & (scores < high_t))
    high, low = score_rows(boxes, scores, high_t, low_t)
    assert high.tolist() == want_high.tolist() and low.tolist() == want_low.tolist()
    assert 5 in high and 6 in low and 7 not in low
    assert not {0, 1, 2, 3, 4} & {*high.tolist(), *low.tolist()}
    assert len(high) > 10 and len(low) > 10  # the random rows landed on both sides
