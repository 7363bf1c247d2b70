"""Ultralytics YOLOv8 / YOLO11 ONNX exports that the user brings (AGPL-3.0: never the
default, never bundled). Centred letterbox with pad 114, RGB, /255; output `[N, 4+C, A]`
= cx, cy, w, h in input pixels and C class scores (no objectness); person = class 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detectors.base import DetectorError, register_detector
from app.vision.detectors.onnx_base import OnnxDetector, guess_layout
from app.vision.detectors.preprocess import (
    Letterbox,
    cxcywh_to_frame,
    nms_persons,
)
from app.vision.models import ModelManager


@register_detector("ultralytics")
class UltralyticsDetector(OnnxDetector):
    kind = "ultralytics"
    rgb = True
    scale = 1 / 255
    centered = True

    def __init__(self, cfg: DetectorConfig, models: ModelManager | Path) -> None:
        path = models if isinstance(models, Path) else models.path(cfg.model)
        super().__init__(cfg, path)

    def check_outputs(self, shapes: list[tuple[Any, ...]]) -> None:
        """Refuse any layout but channels first: a YOLOX `[1, anchors, 85]` output would be
        decoded as garbage (row 4 would be anchor 4's values, not the person scores)."""
        shape = shapes[0]
        if guess_layout(shape) != "ultralytics":
            raise DetectorError(
                f"{self.model_path.name}: not an Ultralytics YOLOv8/YOLO11 detection export "
                f"(output {list(shape)}, expected [1, 4 + classes, anchors])"
            )

    def decode(self, out: np.ndarray, lb: Letterbox, frame_shape: tuple[int, ...]) -> Detections:
        # out: (4 + C, A); the person score is row 4 (class 0)
        scores = out[4]
        keep = np.flatnonzero(scores > self.cfg.confidence)
        boxes = np.ascontiguousarray(out[:4, keep].T)
        xyxy = cxcywh_to_frame(boxes, lb, frame_shape)
        return nms_persons(xyxy, scores[keep].astype(np.float32), self.cfg.nms_iou)
