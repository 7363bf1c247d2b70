"""Person crops: a small JPEG of a new visitor for the salesperson's list."""

from __future__ import annotations

import cv2
import numpy as np


def person_crop(
    image: np.ndarray, xyxy: np.ndarray | tuple[float, float, float, float], pad: float = 0.08
) -> np.ndarray | None:
    """The box (padded by `pad` of its size, clipped to the image) as a view; None if
    nothing of it is inside the image."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in np.asarray(xyxy, np.float64).reshape(4))
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    left, top = max(0, int(x1 - px)), max(0, int(y1 - py))
    right, bottom = min(w, int(np.ceil(x2 + px))), min(h, int(np.ceil(y2 + py)))
    if right - left < 2 or bottom - top < 2:
        return None
    return image[top:bottom, left:right]


def person_crop_jpeg(
    image: np.ndarray,
    xyxy: np.ndarray | tuple[float, float, float, float],
    max_side: int = 256,
    quality: int = 80,
) -> bytes:
    """JPEG bytes of the person's crop, downscaled so its longer side is <= max_side;
    empty bytes if the box is outside the image."""
    crop = person_crop(image, xyxy)
    if crop is None:
        return b""
    scale = max_side / max(crop.shape[:2])
    if scale < 1:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return buf.tobytes() if ok else b""
