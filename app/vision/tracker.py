"""Multi-object tracking with ByteTrack semantics (Zhang et al., 2022).

Per analysed frame: every track is moved by a constant-velocity Kalman filter; then
1. confirmed and lost tracks are matched to high-score detections (IoU x score,
   Hungarian assignment);
2. confirmed tracks still unmatched are matched to low-score detections (plain IoU,
   stricter), which keeps people through partial occlusion and motion blur;
3. tentative tracks are matched to the high-score detections left over;
4. left-over high-score detections above `new_track_thresh` start tentative tracks.
A track is reported once it has `min_hits` consecutive hits (it then gets the next id,
1, 2, ...; `origins` then holds the box of its first, unreported hit, so that a person
who crossed a line while still tentative is counted); a lost track is kept `max_lost_s` seconds (converted with the analysis fps)
and takes its id back when found again. All state lives on the instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.config import TrackerConfig
from app.vision import kalman, kernels
from app.vision.detections import Detections

log = logging.getLogger(__name__)

LOW_STAGE_IOU = 0.5  # second stage: low-score boxes must overlap a track this much
TENTATIVE_IOU = 0.3  # tentative tracks: fused IoU x score needed to continue
DUPLICATE_IOU = 0.85  # a lost track this close to a tracked one is the same person


class State(Enum):
    TENTATIVE = "tentative"
    TRACKED = "tracked"
    LOST = "lost"


@dataclass(eq=False)
class Track:
    """A track's bookkeeping; its Kalman state is a row of the tracker's arrays (the
    row of its position in `ByteTracker.tracks`)."""

    score: float
    start_frame: int
    last_frame: int
    hits: int = 1
    state: State = State.TENTATIVE
    track_id: int = -1  # assigned when confirmed
    first_box: np.ndarray | None = None  # the first hit's box (xyxy), until confirmed
    last_t: float = 0.0  # stream time of the last hit (seconds)

    @property
    def confirmed(self) -> bool:
        return self.track_id >= 0


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4) x (B, 4) xyxy -> (A, B) IoU."""
    return kernels.iou_matrix(kernels.as_boxes(a), kernels.as_boxes(b))


def associate(
    track_boxes: np.ndarray, det_boxes: np.ndarray, det_scores: np.ndarray | None, min_sim: float
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian matching on 1 - similarity (IoU, or IoU x score when scores are given);
    pairs below `min_sim` never match. Returns (matches, unmatched tracks, unmatched dets)."""
    nt, nd = len(track_boxes), len(det_boxes)
    if nt == 0 or nd == 0:
        return [], list(range(nt)), list(range(nd))
    sim = box_iou(track_boxes, det_boxes)
    if det_scores is not None:
        sim = sim * det_scores[None, :]
    # a forbidden pair costs as much as leaving both unmatched (like lapjv's cost_limit),
    # so the optimum maximises total similarity instead of the number of pairs
    cost = np.where(sim >= min_sim, 1.0 - sim, 1.0 - min_sim + 1e-4)
    rows, cols = linear_sum_assignment(cost)
    matches = [
        (r, c) for r, c in zip(rows.tolist(), cols.tolist(), strict=True) if sim[r, c] >= min_sim
    ]
    mt = {m[0] for m in matches}
    md = {m[1] for m in matches}
    return matches, [i for i in range(nt) if i not in mt], [j for j in range(nd) if j not in md]


class ByteTracker:
    """ByteTrack for one camera: `update(detections) -> tracked detections`."""

    def __init__(self, cfg: TrackerConfig, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"analysis fps must be positive, got {fps}")
        self.cfg = cfg
        self.fps = fps
        self.max_lost_frames = max(1, round(cfg.max_lost_s * fps))
        # in stream time, as the frame count did at a steady rate
        self._max_lost_s = (self.max_lost_frames + 1e-3) / fps
        self.reset()

    def reset(self) -> None:
        """Forget every track; ids start again at 1."""
        self.tracks: list[Track] = []
        # Kalman state, row i for tracks[i] (see app.vision.kalman)
        self._mean = np.zeros((0, 8))
        self._var = np.zeros((0, 3, 4))
        self.frame = 0
        self.now = 0.0  # stream time of the current update (seconds)
        self._step = 1.0 / self.fps  # the time step the Kalman velocities are per
        self._next_id = 1
        self.origins: dict[int, np.ndarray] = {}

    @property
    def active_ids(self) -> list[int]:
        """Ids of confirmed tracks currently tracked (not lost)."""
        return [t.track_id for t in self.tracks if t.confirmed and t.state is State.TRACKED]

    def update(self, detections: Detections, t: float | None = None) -> Detections:
        """Advance one analysed frame (at stream time `t` seconds; default: one analysis
        period after the last). Returns the input rows that belong to confirmed,
        currently matched tracks, with `tracker_id` set (boxes are the detections' own);
        the input is never modified. Frames may come at a varying rate (the adaptive
        analysis rate): the Kalman velocities are rescaled to each step's length, and a
        lost track is kept `max_lost_s` of stream time."""
        self.frame += 1
        self.origins = {}
        self._advance(self.frame / self.fps if t is None else float(t))
        boxes = kernels.as_boxes(detections.xyxy)
        scores = np.asarray(detections.confidence, np.float64)
        high, low = kernels.score_rows(boxes, scores, self.cfg.high_thresh, self.cfg.low_thresh)
        predicted = self._predict()  # row i: tracks[i], until a track is dropped
        assigned: dict[int, Track] = {}  # detection row -> track
        left_high = self._match_pool(predicted, boxes, scores, high, low, assigned)
        left_high = self._match_tentative(predicted, boxes, scores, left_high, assigned)
        self._start_tracks(boxes, scores, left_high)
        self._prune()
        kept = {id(t) for t in self.tracks}
        rows = sorted(r for r, t in assigned.items() if t.confirmed and id(t) in kept)
        ids = [assigned[r].track_id for r in rows]
        return detections[np.array(rows, np.int64)].with_tracker_id(np.array(ids, np.int64))

    # steps
    def _advance(self, now: float) -> None:
        """Move the clock to `now`; a step of another length than the last one rescales
        the velocities (and their variances) to it, so that one Kalman step predicts
        this step's motion."""
        dt = now - self.now if self.frame > 1 else self._step
        self.now = now
        if dt <= 0 or abs(dt - self._step) <= 1e-6 * self._step:
            return
        r = dt / self._step
        self._step = dt
        if len(self.tracks):
            self._mean[:, 4:] *= r
            self._var[:, kalman.XV] *= r
            self._var[:, kalman.VV] *= r * r

    def _predict(self) -> np.ndarray:
        """One Kalman step for every track; their predicted xyxy boxes."""
        lost = [i for i, t in enumerate(self.tracks) if t.state is State.LOST]
        if lost:
            self._mean[lost, 7] = 0.0  # a lost box keeps its size
        kalman.predict(self._mean, self._var)
        return kalman.xyah_to_xyxy(self._mean[:, :4])

    def _keep(self, keep: list[int]) -> None:
        """Keep only the tracks at these positions (in order)."""
        if len(keep) < len(self.tracks):
            self.tracks = [self.tracks[i] for i in keep]
            self._mean, self._var = self._mean[keep], self._var[keep]

    def _match_pool(
        self,
        predicted: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        assigned: dict[int, Track],
    ) -> np.ndarray:
        pool = [i for i, t in enumerate(self.tracks) if t.state is not State.TENTATIVE]
        matches, un_t, un_d = associate(
            predicted[pool], boxes[high], scores[high], self.cfg.match_iou
        )
        self._hit(pool, high, matches, boxes, scores, assigned)
        rest = [pool[i] for i in un_t if self.tracks[pool[i]].state is State.TRACKED]
        if rest and len(low):
            matches2, un_t2, _ = associate(predicted[rest], boxes[low], None, LOW_STAGE_IOU)
            self._hit(rest, low, matches2, boxes, scores, assigned)
        else:
            un_t2 = list(range(len(rest)))
        for i in un_t2:
            self.tracks[rest[i]].state = State.LOST
        return high[un_d]

    def _match_tentative(
        self,
        predicted: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        high: np.ndarray,
        assigned: dict[int, Track],
    ) -> np.ndarray:
        tentative = [i for i, t in enumerate(self.tracks) if t.state is State.TENTATIVE]
        if not tentative:
            return high
        matches, un_t, un_d = associate(
            predicted[tentative], boxes[high], scores[high], TENTATIVE_IOU
        )
        self._hit(tentative, high, matches, boxes, scores, assigned)
        dropped = {tentative[i] for i in un_t}  # a tentative track may not miss a frame
        self._keep([i for i in range(len(self.tracks)) if i not in dropped])
        return high[un_d]

    def _start_tracks(self, boxes: np.ndarray, scores: np.ndarray, rows: np.ndarray) -> None:
        rows = rows[scores[rows] >= self.cfg.new_track_thresh]
        if not len(rows):
            return
        mean, var = kalman.initiate(kalman.xyxy_to_xyah(boxes[rows]))
        self._mean = np.concatenate([self._mean, mean])
        self._var = np.concatenate([self._var, var])
        for r in rows:
            t = Track(float(scores[r]), self.frame, self.frame, last_t=self.now)
            t.first_box = boxes[r].copy()
            self.tracks.append(t)
            self._maybe_confirm(t)

    def _hit(
        self,
        tracks: list[int],
        rows: np.ndarray,
        matches: list[tuple[int, int]],
        boxes: np.ndarray,
        scores: np.ndarray,
        assigned: dict[int, Track],
    ) -> None:
        """Correct the matched tracks (positions in `self.tracks`; one vectorised Kalman
        update) and record them."""
        if not matches:
            return
        hit = [tracks[ti] for ti, _ in matches]
        det_rows = [int(rows[di]) for _, di in matches]
        kalman.update(self._mean, self._var, np.array(hit), kalman.xyxy_to_xyah(boxes[det_rows]))
        for i, row in zip(hit, det_rows, strict=True):
            t = self.tracks[i]
            t.hits = t.hits + 1 if t.last_frame == self.frame - 1 else 1
            t.score = float(scores[row])
            t.last_frame = self.frame
            t.last_t = self.now
            if t.state is State.LOST:
                t.state = State.TRACKED
            self._maybe_confirm(t)
            assigned[row] = t

    def _maybe_confirm(self, t: Track) -> None:
        if t.confirmed:
            t.state = State.TRACKED
        elif t.hits >= self.cfg.min_hits:
            t.track_id = self._next_id
            self._next_id += 1
            t.state = State.TRACKED
            if t.first_box is not None and t.hits > 1:
                self.origins[t.track_id] = t.first_box
            t.first_box = None

    def _prune(self) -> None:
        """Drop lost tracks past max_lost; of a live and a lost track on the same spot
        (IoU > DUPLICATE_IOU) keep the one that has existed longer, as ByteTrack does:
        a new track born on top of a lost one yields, and the lost one is found again."""
        self._keep(
            [
                i
                for i, t in enumerate(self.tracks)
                if t.state is not State.LOST or self.now - t.last_t <= self._max_lost_s
            ]
        )
        live: list[int] = []
        lost: list[int] = []
        for i, t in enumerate(self.tracks):
            (lost if t.state is State.LOST else live).append(i)
        if not live or not lost:
            return
        xyxy = kalman.xyah_to_xyxy(self._mean[:, :4])
        iou = box_iou(xyxy[live], xyxy[lost])
        drop: set[int] = set()
        for i, j in zip(*np.nonzero(iou > DUPLICATE_IOU), strict=True):
            a, b = self.tracks[live[i]], self.tracks[lost[j]]
            if a.last_frame - a.start_frame > b.last_frame - b.start_frame:
                drop.add(lost[j])
            else:
                drop.add(live[i])
        if drop:
            self._keep([i for i in range(len(self.tracks)) if i not in drop])
