"""Opt-in recognition as a service of the store: enrol from photos, erase by photo,
compare two photos, and the gallery the analysis pipelines match against. Used the
same way by the desktop, `serve` and `python main.py faces ...`.

In anonymous mode none of this runs: `pipeline_recogniser` returns None without loading
a model, and the pipelines never look for a face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from app.config import AppConfig
from app.store.access import StoreAccess
from app.store.faces import Erasure, FaceStore, Templates
from app.vision.faces.factory import open_models, rules_of
from app.vision.faces.match import Gallery, robust_mean
from app.vision.faces.quality import QualityRules
from app.vision.faces.recogniser import FaceRecogniser, FaceSample, RecognitionRules, Tag

Role = Literal["staff", "optout"]
SAME_VISIT_S = 3600.0  # a return within the hour is the same visit


class RecognitionError(ValueError):
    """A user-facing problem (no face in a photo, missing consent...)."""


def _gallery(t: Templates) -> Gallery:
    def rows(a: np.ndarray) -> np.ndarray:
        return a if a.size else np.zeros((0, 1), np.float32)

    return Gallery(
        optout=rows(t.optout),
        staff=rows(t.staff),
        staff_keys=t.staff_keys,
        visitors=rows(t.visitors),
        visitor_keys=t.visitor_keys,
    )


class StoreGallery:
    """The pipelines' gallery (app.vision.faces.recogniser.GallerySink) on the store."""

    def __init__(self, faces: FaceStore) -> None:
        self.faces = faces

    def gallery(self) -> Gallery:
        return _gallery(self.faces.templates())

    def record(
        self, outcome: Tag, key: str, template: np.ndarray | None, visitor_id: str, camera: str
    ) -> Tag | None:
        """A "returning" match on a template from this very visit (younger than
        SAME_VISIT_S: the tracker lost and found the person again) is no return: it
        is neither counted again nor stored twice, and the track is "new"."""
        if outcome == "returning" and self.faces.template_age(key) < SAME_VISIT_S:
            return "new"
        self.faces.record(outcome, template, visitor_id, camera)
        return outcome


def face_store(cfg: AppConfig, store: StoreAccess) -> FaceStore:
    return FaceStore(store, visitor_days=cfg.faces.visitor_days)


def pipeline_recogniser(cfg: AppConfig, store: StoreAccess | None) -> FaceRecogniser | None:
    """The recogniser the pipelines share, or None (anonymous mode, or no store to keep
    the gallery in): then no face model is even loaded."""
    if cfg.store.privacy_mode == "anonymous" or store is None:
        return None
    detector, embedder = open_models(cfg)
    return FaceRecogniser(detector, embedder, StoreGallery(face_store(cfg, store)), rules_of(cfg))


@dataclass
class PhotoFaces:
    """Models to read faces off photos (enrolment, erasure, compare)."""

    rec: FaceRecogniser

    @classmethod
    def open(cls, cfg: AppConfig) -> PhotoFaces:
        detector, embedder = open_models(cfg)
        rules = RecognitionRules(
            mode="staff_exclusion",
            threshold=cfg.faces.threshold,
            quality=QualityRules(min_size_px=cfg.faces.min_face_px, min_sharpness=0.0),
        )
        return cls(FaceRecogniser(detector, embedder, _NoGallery(), rules))

    def sample(self, photo: Path | np.ndarray) -> FaceSample:
        """The main (largest) face of a photo; RecognitionError when there is none."""
        name = str(photo) if isinstance(photo, Path) else "the image"
        img = cv2.imread(str(photo)) if isinstance(photo, Path) else photo
        if img is None:
            raise RecognitionError(f"{name} is not a readable image")
        samples = self.rec.samples(img, limit=5)
        if not samples:
            raise RecognitionError(f"no clear face found in {name}")
        return max(samples, key=lambda s: s.face.size)

    def template(self, photos: Sequence[Path | np.ndarray]) -> tuple[np.ndarray, list[int]]:
        """An enrolment template from several photos (robust mean) and the photos kept."""
        if not photos:
            raise RecognitionError("give at least one photo")
        embs = np.stack([self.sample(p).embedding for p in photos])
        try:
            return robust_mean(embs)
        except ValueError as exc:
            raise RecognitionError(str(exc)) from None

    def similarity(self, a: Path | np.ndarray, b: Path | np.ndarray) -> float:
        return float(self.sample(a).embedding @ self.sample(b).embedding)


class _NoGallery:
    def gallery(self) -> Gallery:
        return Gallery()

    def record(self, *_: object) -> Tag | None:
        return None


def enrol(
    cfg: AppConfig,
    store: StoreAccess,
    name: str,
    role: Role,
    photos: Sequence[Path | np.ndarray],
    actor: str,
    *,
    consent: bool,
    faces: PhotoFaces | None = None,
) -> list[int]:
    """Enrol a staff member (consent required) or an opt-out; returns the photos used."""
    name = name.strip()
    if not name:
        raise RecognitionError("give a name")
    if role == "staff" and not consent:
        raise RecognitionError(
            "staff are enrolled only with their recorded consent: confirm that they agreed"
        )
    template, kept = (faces or PhotoFaces.open(cfg)).template(photos)
    fs = face_store(cfg, store)
    if role == "staff":
        fs.enrol_staff(name, template, actor)
    else:
        fs.enrol_optout(name, template, actor)
    return kept


def erase_by_photo(
    cfg: AppConfig,
    store: StoreAccess,
    photo: Path | np.ndarray,
    actor: str,
    *,
    faces: PhotoFaces | None = None,
    dry_run: bool = False,
) -> Erasure:
    """Delete every template and crop of the person in `photo` (audited)."""
    probe = (faces or PhotoFaces.open(cfg)).sample(photo).embedding
    return face_store(cfg, store).erase_like(probe, cfg.faces.threshold, actor, dry_run=dry_run)
