"""The per-camera face step of the pipeline (opt-in only).

`FaceRecogniser` holds the shared models and the gallery; `for_camera()` gives each
pipeline a `TrackFaces`, whose `observe(image, tracked, t)` looks for a face in the
upper part of each tracked person's box, a few attempts per track (more while the track
is unrecognised), embeds the usable ones, matches them (opt-out list first) and returns
each decided track's tag: "staff", "returning" or "new".

Privacy in code:
- a face matching the opt-out list ends the track's recognition at once; nothing about
  it is kept (the embeddings already taken for that track are dropped too);
- in staff exclusion mode an embedding that matches no staff member is dropped at once;
- in repeat visitors mode a track's embeddings live in memory until the track is
  decided, then only the track's mean template goes to the gallery (the encrypted store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from app.vision.detections import Detections
from app.vision.faces.align import align
from app.vision.faces.detect import Face, FaceDetector
from app.vision.faces.embed import Embedder
from app.vision.faces.match import Gallery, Match, Vote, decide, match, unit
from app.vision.faces.quality import QualityRules, face_weight, sharpness

Mode = Literal["staff_exclusion", "repeat_visitors"]
Tag = Literal["staff", "returning", "new"]


class GallerySink(Protocol):
    """The store side of recognition (app/store/faces.py implements it)."""

    def gallery(self) -> Gallery: ...

    def record(
        self, outcome: Tag, key: str, template: np.ndarray | None, visitor_id: str, camera: str
    ) -> Tag | None:
        """Keep a decided track's outcome; may correct it (returns the final tag)."""
        ...


@dataclass(frozen=True)
class RecognitionRules:
    mode: Mode
    threshold: float
    attempts_known: int = 3  # attempts per track once it is recognised
    attempts_unknown: int = 10  # attempts per track while it is not
    every_s: float = 0.4  # between two attempts on one track
    max_per_frame: int = 3  # tracks looked at per analysed frame
    upper: float = 0.45  # the part of the person box searched for a face, from the top
    forget_s: float = 5.0  # a track unseen this long is finished
    quality: QualityRules = field(default_factory=QualityRules)


@dataclass(frozen=True)
class FaceSample:
    """One usable face: its embedding and vote weight (also for enrolment)."""

    face: Face
    embedding: np.ndarray
    weight: float


class FaceRecogniser:
    """Models and gallery, shared by the cameras."""

    def __init__(
        self,
        detector: FaceDetector,
        embedder: Embedder,
        sink: GallerySink,
        rules: RecognitionRules,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.sink = sink
        self.rules = rules

    def samples(self, image: np.ndarray, limit: int = 1) -> list[FaceSample]:
        """The usable faces of an image (best first), embedded."""
        out: list[FaceSample] = []
        for face in self.detector.detect(image)[:limit]:
            aligned = align(image, face.landmarks)
            w = face_weight(face, sharpness(aligned), self.rules.quality)
            if w <= 0:
                continue
            out.append(FaceSample(face, self.embedder.embed([aligned])[0], w))
        return out

    def for_camera(self, camera: str) -> TrackFaces:
        return TrackFaces(self, camera)


@dataclass
class _Track:
    vote: Vote = field(default_factory=Vote)
    last_try: float = -1e18
    last_seen: float = 0.0
    looks: int = 0
    embeddings: list[tuple[np.ndarray, float]] = field(default_factory=list)
    tag: Tag | None = None
    optout: bool = False
    recorded: bool = False


class TrackFaces:
    """One camera's tracks and their face attempts. Not thread-safe (one pipeline)."""

    def __init__(self, rec: FaceRecogniser, camera: str) -> None:
        self.rec = rec
        self.camera = camera
        self.tracks: dict[int, _Track] = {}

    @property
    def tags(self) -> dict[int, str]:
        return {tid: tr.tag for tid, tr in self.tracks.items() if tr.tag is not None}

    def observe(
        self,
        image: np.ndarray,
        tracked: Detections,
        t: float,
        visitor_of: Callable[[int], str] = lambda _tid: "",
    ) -> dict[int, str]:
        """Attempt faces on this frame's tracks; returns the tags of decided tracks."""
        r = self.rec.rules
        due: list[tuple[float, int, np.ndarray]] = []
        for box, tid in zip(tracked.xyxy, tracked.tracker_id.tolist(), strict=True):
            tr = self.tracks.setdefault(tid, _Track())
            tr.last_seen = t
            limit = r.attempts_known if tr.tag is not None else r.attempts_unknown
            if tr.optout or tr.looks >= limit or t - tr.last_try < r.every_s:
                continue
            due.append((tr.looks, tid, box))
        due.sort(key=lambda d: d[0])  # the least tried first
        gallery = self.rec.sink.gallery() if due else None
        for _, tid, box in due[: r.max_per_frame]:
            tr = self.tracks[tid]
            tr.last_try = t
            tr.looks += 1
            assert gallery is not None
            self._attempt(image, box, tid, tr, gallery, visitor_of)
        self._finish_old(t, visitor_of)
        return self.tags

    def _attempt(
        self,
        image: np.ndarray,
        box: np.ndarray,
        tid: int,
        tr: _Track,
        gallery: Gallery,
        visitor_of: Callable[[int], str],
    ) -> None:
        r = self.rec.rules
        x0, y0, x1, y1 = (float(v) for v in box)
        h, w = image.shape[:2]
        pad = 0.1 * (x1 - x0)
        cx0, cx1 = int(max(0, x0 - pad)), int(min(w, x1 + pad))
        cy0, cy1 = int(max(0, y0 - pad)), int(min(h, y0 + r.upper * (y1 - y0)))
        if cx1 - cx0 < r.quality.min_size_px or cy1 - cy0 < r.quality.min_size_px:
            return
        samples = self.rec.samples(image[cy0:cy1, cx0:cx1])
        if not samples:
            return
        s = samples[0]
        m = match(s.embedding, gallery, r.threshold, visitors=r.mode == "repeat_visitors")
        if m.kind == "optout":  # checked first: drop everything about this track
            tr.optout, tr.tag, tr.embeddings, tr.vote = True, None, [], Vote()
            return
        tr.vote.add(m, s.weight)
        if r.mode == "repeat_visitors" and m.kind != "staff":
            tr.embeddings.append((s.embedding, s.weight))  # memory only, until decided
        self._decide(tid, tr, visitor_of, final=False)

    def _decide(
        self, tid: int, tr: _Track, visitor_of: Callable[[int], str], *, final: bool
    ) -> None:
        if tr.recorded or tr.optout:
            return
        kind, key = decide(tr.vote)
        r = self.rec.rules
        if kind == "staff":
            tr.tag, tr.recorded, tr.embeddings = "staff", True, []
            self.rec.sink.record("staff", key, None, visitor_of(tid), self.camera)
            return
        if r.mode != "repeat_visitors":
            return
        if kind == "visitor":
            tr.tag = "returning"
        elif final or tr.looks >= r.attempts_unknown:
            if not tr.embeddings or sum(w for _, w in tr.embeddings) < 0.5:
                return  # never a good enough look: no decision, nothing kept
            tr.tag = "new"
        else:
            return
        template = _weighted_mean(tr.embeddings)
        tr.recorded, tr.embeddings = True, []
        # the gallery may find that this "returning" visitor's template is from this
        # very visit (a person the tracker lost and found again): then they are new
        tr.tag = self.rec.sink.record(tr.tag, key, template, visitor_of(tid), self.camera) or tr.tag

    def _finish_old(self, t: float, visitor_of: Callable[[int], str]) -> None:
        r = self.rec.rules
        for tid in [k for k, tr in self.tracks.items() if t - tr.last_seen > r.forget_s]:
            tr = self.tracks.pop(tid)
            self._decide(tid, tr, visitor_of, final=True)

    def flush(self, visitor_of: Callable[[int], str] = lambda _tid: "") -> None:
        """End of stream: decide the open tracks, drop the rest."""
        for tid, tr in list(self.tracks.items()):
            self._decide(tid, tr, visitor_of, final=True)
        self.tracks.clear()


def _weighted_mean(items: list[tuple[np.ndarray, float]]) -> np.ndarray:
    e = np.stack([v for v, _ in items])
    w = np.array([max(x, 1e-6) for _, x in items], np.float32)
    return unit((e * w[:, None]).sum(0))


__all__ = ["FaceRecogniser", "FaceSample", "GallerySink", "Match", "RecognitionRules", "TrackFaces"]
