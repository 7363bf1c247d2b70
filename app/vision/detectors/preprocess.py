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


def placement(
    frame_hw: tuple[int, int], size: tuple[int, int], *, centered: bool
) -> tuple[Letterbox, int, int]:
    """Where a frame goes in a `size` (h, w) network input, keeping its aspect ratio:
    (Letterbox, resized height, resized width). YOLOX style (`centered=False`): top-left
    corner, sizes truncated; Ultralytics style: centred, sizes rounded."""
    h, w = frame_hw
    r = min(size[0] / h, size[1] / w)
    if not centered:
        return Letterbox(r, 0, 0), int(h * r), int(w * r)
    nh, nw = round(h * r), round(w * r)
    top = round((size[0] - nh) / 2 - 0.1)
    left = round((size[1] - nw) / 2 - 0.1)
    return Letterbox(r, left, top), nh, nw


def _resized(frame: np.ndarray, nh: int, nw: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if (nw, nh) == (w, h):
        return frame
    return cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)


def letterbox_top_left(frame: np.ndarray, size: tuple[int, int], pad: int = 114) -> tuple:
    """YOLOX style: resize keeping the aspect ratio, paste at the top-left corner of a
    `size` (h, w) canvas filled with `pad`. Returns (HxWx3 uint8, Letterbox)."""
    return _letterbox(frame, size, pad, centered=False)


def letterbox_center(frame: np.ndarray, size: tuple[int, int], pad: int = 114) -> tuple:
    """Ultralytics style: resize keeping the aspect ratio, centre on a `pad` canvas."""
    return _letterbox(frame, size, pad, centered=True)


def _letterbox(frame: np.ndarray, size: tuple[int, int], pad: int, *, centered: bool) -> tuple:
    lb, nh, nw = placement(frame.shape[:2], size, centered=centered)
    canvas = np.full((size[0], size[1], 3), pad, np.uint8)
    canvas[lb.top : lb.top + nh, lb.left : lb.left + nw] = _resized(frame, nh, nw)
    return canvas, lb


def pixel_table(rgb: bool, scale: float) -> np.ndarray | None:
    """The float32 network value of each uint8 pixel value, computed by the same OpenCV
    conversion as `to_blob` (so `letterbox_blob` equals `to_blob(letterbox(...))` bit for
    bit); None when the value is the pixel itself (scale 1)."""
    if scale == 1.0:
        return None
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    return to_blob([levels], rgb=rgb, scale=scale)[0, 0].reshape(256)


def letterbox_blob(
    frame: np.ndarray,
    size: tuple[int, int],
    *,
    centered: bool,
    rgb: bool,
    table: np.ndarray | None = None,
    pad: int = 114,
    canvas: tuple[int, int] | None = None,
) -> tuple[np.ndarray, Letterbox]:
    """The network input of one frame, 1x3xHxW float32, written straight into the blob
    (no padded canvas, no interleaved float copy): the same values as
    `to_blob([letterbox_...(frame, size, pad)], ...)`, about 4x cheaper. `table` maps
    pixel values to input values (`pixel_table`; None: the value itself). `canvas`
    (h, w): a blob of another size than `size`, the frame placed and scaled as in
    `size` (top-left: the blob is that letterbox cut at the bottom and right)."""
    lb, nh, nw = placement(frame.shape[:2], size, centered=centered)
    out_h, out_w = canvas or size
    if lb.top + nh > out_h or lb.left + nw > out_w:
        raise ValueError(f"a {nh}x{nw} picture does not fit a {out_h}x{out_w} input")
    blob = np.empty((1, 3, out_h, out_w), np.float32)
    pad_value = float(pad) if table is None else float(table[pad])
    top, left = lb.top, lb.left
    blob[0, :, :top, :] = pad_value
    blob[0, :, top + nh :, :] = pad_value
    blob[0, :, top : top + nh, :left] = pad_value
    blob[0, :, top : top + nh, left + nw :] = pad_value
    planes = cv2.split(_resized(frame, nh, nw))
    if rgb:
        planes = planes[::-1]
    for c, plane in enumerate(planes):
        blob[0, c, top : top + nh, left : left + nw] = plane if table is None else table[plane]
    return blob, lb


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
