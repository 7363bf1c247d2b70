"""Build the recogniser from the settings. Called only when the store opted in: in
anonymous mode nothing here runs and no face model is loaded."""

from __future__ import annotations

from pathlib import Path

from app.config import AppConfig
from app.vision.faces.detect import FaceDetector
from app.vision.faces.embed import Embedder
from app.vision.faces.pack import open_pack
from app.vision.faces.quality import QualityRules
from app.vision.faces.recogniser import FaceRecogniser, GallerySink, RecognitionRules
from app.vision.models import ModelManager

DETECTOR = "face_detection_yunet_2023mar"
EMBEDDER = "mobilefacenet"


def open_models(cfg: AppConfig) -> tuple[FaceDetector, Embedder]:
    """The face detector and embedder: a store's InsightFace pack when configured
    (its recogniser; detection stays YuNet), else the shipped YuNet + MobileFaceNet."""
    mm = ModelManager.from_config(cfg.models)
    detector = FaceDetector(mm.path(DETECTOR))
    if cfg.faces.pack_dir:
        return detector, open_pack(Path(cfg.faces.pack_dir)).embedder()
    return detector, Embedder(mm.path(EMBEDDER))


def rules_of(cfg: AppConfig) -> RecognitionRules:
    f = cfg.faces
    mode = cfg.store.privacy_mode
    if mode == "anonymous":
        raise ValueError("anonymous mode recognises nobody")
    return RecognitionRules(
        mode=mode,
        threshold=f.threshold,
        attempts_known=f.attempts_known,
        attempts_unknown=f.attempts_unknown,
        quality=QualityRules(min_size_px=f.min_face_px, min_sharpness=f.min_sharpness),
    )


def build_recogniser(cfg: AppConfig, sink: GallerySink) -> FaceRecogniser | None:
    """The recogniser of an opted-in store, None in anonymous mode (no model loaded)."""
    if cfg.store.privacy_mode == "anonymous":
        return None
    detector, embedder = open_models(cfg)
    return FaceRecogniser(detector, embedder, sink, rules_of(cfg))
