"""A cheap appearance cue: colour histograms of a person's clothes.

Geometry alone cannot tell who is who after people pass behind each other at a low
analysis rate; the colours of their clothes usually can. `describe` reduces each box to
two HSV histograms (upper body, lower body) of a small resized crop; `distance` is the
mean Bhattacharyya distance of the two (0: same colours, 1: nothing in common). Nothing
here identifies anybody: descriptors live in memory for a few seconds, are never stored
and are not biometric (a change of coat changes them).
"""

from __future__ import annotations

import cv2
import numpy as np

from app.vision import kernels

H_BINS, S_BINS, V_BINS = 8, 4, 4
BINS = H_BINS * S_BINS * V_BINS
CROP_W, CROP_H = 12, 32  # each crop is resized to this before counting colours
# parts of the box height: upper body (below the head), lower body (above the feet)
PARTS = ((0.15, 0.5), (0.5, 0.9))
X_MARGIN = 0.25  # left and right quarter of the box are mostly background
MIN_VISIBLE_PART = 0.3  # a part less visible than this is unknown
_SPAN = PARTS[-1][1] - PARTS[0][0]
_ROWS = tuple(
    (round((a - PARTS[0][0]) / _SPAN * CROP_H), round((b - PARTS[0][0]) / _SPAN * CROP_H))
    for a, b in PARTS
)

# histogram bin of a pixel = _H_CODE[h] + _S_CODE[s] + _V_CODE[v] (OpenCV's 8-bit HSV:
# hue 0-179, saturation and value 0-255)
_LEVELS = np.arange(256)
_H_CODE = (np.minimum(_LEVELS, 179) * H_BINS // 180) * S_BINS * V_BINS
_S_CODE = (_LEVELS * S_BINS // 256) * V_BINS
_V_CODE = _LEVELS * V_BINS // 256
_PART_ROWS = np.array(_ROWS, np.int64)  # crop rows of each part

UNKNOWN = np.zeros((len(PARTS), BINS), np.float32)  # a look with no part seen
UNKNOWN.flags.writeable = False


def describe(
    image: np.ndarray, xyxy: np.ndarray, others: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) boxes on a BGR image -> ((N, parts, BINS) normalised histograms, (N,)
    visible fraction). Pixels hidden behind a box in front (one of `others`, default
    `xyxy` itself, whose bottom edge is lower in the picture: closer to the camera) are
    left out. A part with too little left, or a box off the image, is all-zero
    (unknown)."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4).tolist()
    fronts = kernels.as_boxes(xyxy if others is None else others)
    out = np.zeros((len(boxes), len(PARTS), BINS), np.float32)
    visible = np.zeros(len(boxes), np.float64)
    for i, box in enumerate(boxes):
        look = describe_one(image, box, fronts)
        if look is not None:
            out[i], visible[i] = look
    return out, visible


def describe_one(
    image: np.ndarray, box: list[float], fronts: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """`describe` for one box (x0, y0, x1, y1) with the boxes that may stand in front
    ((M, 4) float64): ((parts, BINS) histograms, visible fraction), or None when the box
    is off the image."""
    region = _region(image.shape, box)
    if region is None:
        return None
    left, top, right, bottom = region
    crop = cv2.resize(image[top:bottom, left:right], (CROP_W, CROP_H), interpolation=cv2.INTER_AREA)
    hists, visible = kernels.clothes_histograms(
        cv2.cvtColor(crop, cv2.COLOR_BGR2HSV),
        fronts,
        float(box[3]),
        np.array(region, np.float64),
        _H_CODE,
        _S_CODE,
        _V_CODE,
        _PART_ROWS,
        MIN_VISIBLE_PART,
        BINS,
    )
    return hists, float(visible)


def plain_view(box: list[float], boxes: list[list[float]], shape: tuple[int, ...]) -> float:
    """Roughly how much of `box`'s clothes region is in plain view: 1 minus the largest
    share of it that one of `boxes` standing in front (bottom edge lower) covers. Plain
    Python: it runs for a few boxes per frame."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    left = min(max(x0 + X_MARGIN * w, 0), shape[1])
    top = min(max(y0 + PARTS[0][0] * h, 0), shape[0])
    right = min(max(x1 - X_MARGIN * w, 0), shape[1])
    bottom = min(max(y0 + PARTS[-1][1] * h, 0), shape[0])
    area = max(right - left, 0.0) * max(bottom - top, 0.0)
    if not area > 0:
        return 0.0
    cover = 0.0
    for fx0, fy0, fx1, fy1 in boxes:
        if fy1 > y1 + 1.0:  # only boxes in front hide
            inter = max(min(right, fx1) - max(left, fx0), 0.0) * max(
                min(bottom, fy1) - max(top, fy0), 0.0
            )
            cover = max(cover, inter)
    return 1.0 - min(max(cover / area, 0.0), 1.0)


def _region(shape: tuple[int, ...], box: list[float]) -> tuple[int, int, int, int] | None:
    """The clothes region of a box (left, top, right, bottom) clipped to the image, or
    None when too small."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    left = int(max(0, round(x0 + X_MARGIN * bw)))
    right = int(min(shape[1], round(x1 - X_MARGIN * bw)))
    top = int(max(0, round(y0 + PARTS[0][0] * bh)))
    bottom = int(min(shape[0], round(y0 + PARTS[-1][1] * bh)))
    if right - left < 2 or bottom - top < 4:
        return None
    return left, top, right, bottom


def known(desc: np.ndarray) -> bool:
    """A descriptor computed from pixels (not the all-zero 'unknown')."""
    return bool(desc.any())


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Bhattacharyya distance over the parts known in both (parts, BINS)
    descriptors, in [0, 1]; 0.0 when no part is known in both (no evidence)."""
    return float(kernels.look_distance(a, b))
