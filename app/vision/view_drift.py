"""Has a camera been moved? Its static background now against a reference taken at
setup or at the last counting audit.

A view is a small grayscale picture (`SIZE`) of the background: the per-pixel median
of a few frames taken over time, so that people passing leave it. Two views are
compared with the structural similarity (SSIM, Gaussian window) of their edge
pictures (gradient magnitude): edges stay where the shelves, doors and floor marks
are whatever the light does, and move with the camera.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

SIZE = (160, 120)  # width, height of a view
MOVED_BELOW = 0.5  # similarity under which the view has changed (tests/vision/test_view_drift.py)


def small_gray(image: np.ndarray) -> np.ndarray:
    """A frame (BGR or gray, any size) as a SIZE grayscale float32 picture."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)


def background(frames: Sequence[np.ndarray]) -> np.ndarray:
    """The static background of a few frames: the per-pixel median of their small gray
    pictures (uint8, SIZE)."""
    if not frames:
        raise ValueError("no frames")
    stack = np.stack([small_gray(f) for f in frames])
    return np.asarray(np.median(stack, axis=0).round().clip(0, 255).astype(np.uint8))


def _edges(view: np.ndarray) -> np.ndarray:
    v = cv2.GaussianBlur(view.astype(np.float32), (3, 3), 0)
    gx = cv2.Sobel(v, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(v, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two same-size float pictures (Gaussian 7x7 window,
    the usual constants scaled to the pictures' range)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    rng = max(float(a.max() - a.min()), float(b.max() - b.min()), 1e-6)
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.GaussianBlur(x, (7, 7), 1.5))

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(s.mean())


def similarity(reference: np.ndarray, current: np.ndarray) -> float:
    """How alike two views are (1: the same scene from the same place)."""
    return ssim(_edges(reference), _edges(current))


def encode_view(view: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", view)
    if not ok:
        raise ValueError("could not encode the view")
    return bytes(buf.tobytes())


def decode_view(png: bytes) -> np.ndarray | None:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return None if img is None or img.shape[::-1] != SIZE else np.asarray(img)
