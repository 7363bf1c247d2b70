"""Letterboxing and box decoding helpers shared by the ONNX detectors (pure numpy/cv2)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.vision.detections import Detections


@dataclass(frozen=True)
class Letterbox:
    """How a frame was placed into the network input: input = frame * scale + (left, top)."""

    scale: float
    left: int
    top: int


def letterbox_top_left(frame: np.ndarray, size: tuple[int, int], pad: int = 114) -> tuple:
    """YOLOX style: resize keeping the aspect ratio, paste at the top-left corner of a
    `size` (h, w) canvas filled with `pad`. Returns (HxWx3 uint8, Letterbox)."""
    h, w = frame.shape[:2]
    r = min(size[0] / h, size[1] / w)
    nh, nw = int(h * r), int(w * r)
    canvas = np.full((size[0], size[1], 3), pad, np.uint8)
    canvas[:nh, :nw] = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, Letterbox(r, 0, 0)


def letterbox_center(frame: np.ndarray, size: tuple[int, int], pad: int = 114) -> tuple:
    """Ultralytics style: resize keeping the aspect ratio, centre on a `pad` canvas."""
    h, w = frame.shape[:2]
    r = min(size[0] / h, size[1] / w)
    nh, nw = round(h * r), round(w * r)
    top = round((size[0] - nh) / 2 - 0.1)
    left = round((size[1] - nw) / 2 - 0.1)
    canvas = np.full((size[0], size[1], 3), pad, np.uint8)
    resized = (
        frame if (nw, nh) == (w, h) else cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    )
    canvas[top : top + nh, left : left + nw] = resized
    return canvas, Letterbox(r, left, top)


def to_blob(images: list[np.ndarray], *, rgb: bool, scale: float) -> np.ndarray:
    """HxWx3 uint8 images -> NCHW float32 (optionally RGB and scaled)."""
    return cv2.dnn.blobFromImages(images, scalefactor=scale, swapRB=rgb, crop=False)


def cxcywh_to_frame(cxcywh: np.ndarray, lb: Letterbox, frame_shape: tuple[int, ...]) -> np.ndarray:
    """(N, 4) centre boxes in network pixels -> (N, 4) xyxy in frame pixels, clipped."""
    half = cxcywh[:, 2:4] / 2
    xyxy = np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1)
    xyxy -= np.array([lb.left, lb.top, lb.left, lb.top], np.float32)
    xyxy /= lb.scale
    h, w = frame_shape[:2]
    np.clip(xyxy[:, 0::2], 0, w, out=xyxy[:, 0::2])
    np.clip(xyxy[:, 1::2], 0, h, out=xyxy[:, 1::2])
    return xyxy.astype(np.float32)


def nms_persons(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> Detections:
    """Non-maximum suppression; returns person Detections sorted by score."""
    if len(xyxy) == 0:
        return Detections.empty()
    wh = xyxy[:, 2:4] - xyxy[:, :2]
    ok = (wh > 1).all(axis=1)  # drop boxes squashed to nothing by clipping
    xyxy, scores, wh = xyxy[ok], scores[ok], wh[ok]
    xywh = np.concatenate([xyxy[:, :2], wh], axis=1).astype(np.float64)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(float).tolist(), 0.0, iou)
    keep = np.asarray(kept, np.int64).reshape(-1)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    return Detections.create(xyxy[keep], scores[keep], np.zeros(len(keep), np.int32))
