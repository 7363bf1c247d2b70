"""Smoothing of grainy pictures before person detection.

A camera filming a dim scene raises its gain, and the picture fills with grain: pixel
noise that YOLOX-Nano, trained on clean photos, takes for texture. On a dim and noisy
copy of TUD-Stadtmitte (bench/eval_degraded.py, docs/accuracy.md) the detector finds
fewer people than on the original; a 3x3 Gaussian smoothing before detection finds
many of them again, while brightening the picture (gain, gamma, CLAHE on luminance)
finds fewer: the grain, not the darkness, is what hides people.

Smoothing a clean picture gains nothing, so it is done only on a grainy one. The
grain is measured on each frame with Immerkaer's fast noise estimate (1996: the mean
absolute response to a Laplacian-difference kernel that cancels edges and smooth
shading, scaled to the standard deviation of white noise, in grey levels) over the
middle of the picture (half its width and height). Clean camera pictures and compressed ones measure 0.5-2
grey levels, a grainy one 8-12 (docs/accuracy.md); `noise_sigma` (4) sits between,
far from both. Cost at 640x480: about 0.2 ms a frame for the estimate, plus 0.25 ms
for the smoothing of a grainy frame (an inference takes about 16 ms).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Immerkaer's kernel: second differences along both axes, so that edges and linear
# shading give (almost) nothing and white noise of deviation s gives a mean absolute
# response of 6 s sqrt(2 / pi)
KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
TO_SIGMA = math.sqrt(math.pi / 2) / 6.0


def noise_sigma(image: np.ndarray) -> float:
    """The picture's pixel noise (standard deviation, grey levels), estimated over its
    middle (half its width and half its height; HxWx3 BGR or HxW grey, uint8)."""
    h, w = image.shape[:2]
    if min(h, w) >= 16:
        image = image[h // 4 : h - h // 4, w // 4 : w - w // 4]
    if min(image.shape[:2]) < 3:
        return 0.0
    band = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    response = cv2.filter2D(band, cv2.CV_16S, KERNEL)[1:-1, 1:-1]
    return float(np.abs(response).mean()) * TO_SIGMA


def smooth(image: np.ndarray) -> np.ndarray:
    """A 3x3 Gaussian smoothing (a new array)."""
    return cv2.GaussianBlur(image, (3, 3), 0)


def for_detection(image: np.ndarray, mode: str, threshold: float) -> np.ndarray:
    """The picture the detector should see: `image` smoothed when `mode` is "on", or
    "auto" and its noise is at least `threshold` grey levels; else `image` itself."""
    if mode == "off":
        return image
    if mode == "on" or noise_sigma(image) >= threshold:
        return smooth(image)
    return image
