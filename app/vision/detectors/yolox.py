"""YOLOX (default, YOLOX-Nano, Apache-2.0): top-left letterbox with pad 114, BGR, no
normalisation; output `[N, A, 85]` = cx, cy, w, h (grid offsets, log sizes), objectness,
80 class scores; strides 8/16/32; person score = objectness x class 0 score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detectors.base import DetectorError, register_detector
from app.vision.detectors.onnx_base import OnnxDetector
from app.vision.detectors.preprocess import (
    Letterbox,
    cxcywh_to_frame,
    nms_persons,
)
from app.vision.models import ModelManager

STRIDES = (8, 16, 32)


def yolox_grid(input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Anchor-point grid (A, 2) and strides (A, 1) in YOLOX output order."""
    grids, strides = [], []
    for s in STRIDES:
        gh, gw = input_hw[0] // s, input_hw[1] // s
        ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), s))
    return (
        np.concatenate(grids).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )


@register_detector("yolox")
class YoloxDetector(OnnxDetector):
    kind = "yolox"
    trim_multiple = STRIDES[-1]  # the grid decode is ours: any multiple of 32 works

    def __init__(self, cfg: DetectorConfig, models: ModelManager | Path) -> None:
        path = models if isinstance(models, Path) else models.path(cfg.model)
        super().__init__(cfg, path)
        self.grid, self.strides = yolox_grid(self.input_hw)  # the full input's
        self._grids = {self.input_hw: (self.grid, self.strides)}
        if len(self.grid) != self.anchors:
            raise DetectorError(
                f"{self.model_path.name}: {self.anchors} outputs do not match a YOLOX grid "
                f"for {self.input_hw} ({len(self.grid)} expected)"
            )

    def default_input_hw(self) -> tuple[int, int]:
        return (416, 416)

    def expected_anchors(self, input_hw: tuple[int, int]) -> int | None:
        return sum((input_hw[0] // s) * (input_hw[1] // s) for s in STRIDES)

    def _grid(self, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        got = self._grids.get(input_hw)
        if got is None:
            got = self._grids[input_hw] = yolox_grid(input_hw)
        return got

    def check_outputs(self, shapes: list[tuple[Any, ...]]) -> None:
        shape = shapes[0]
        if len(shape) != 3 or shape[2] != 85:
            raise DetectorError(
                f"{self.model_path.name}: not a YOLOX COCO export (output {shape}, "
                "expected [1, anchors, 85])"
            )
        self.anchors = int(shape[1]) if isinstance(shape[1], int) else -1

    def decode(self, out: np.ndarray, lb: Letterbox, frame_shape: tuple[int, ...]) -> Detections:
        grid, strides = self._grid(self.net_hw(frame_shape))
        scores = out[:, 4] * out[:, 5]
        keep = np.flatnonzero(scores > self.cfg.confidence)
        rows = out[keep]
        stride = strides[keep]
        cxcy = (rows[:, 0:2] + grid[keep]) * stride
        wh = np.exp(rows[:, 2:4]) * stride
        xyxy = cxcywh_to_frame(np.concatenate([cxcy, wh], axis=1), lb, frame_shape)
        return nms_persons(xyxy, scores[keep], self.cfg.nms_iou)
