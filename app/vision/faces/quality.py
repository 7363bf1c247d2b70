"""Which faces are worth embedding: size, sharpness and detector score, as one weight."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.vision.faces.detect import Face


@dataclass(frozen=True)
class QualityRules:
    min_size_px: float = 32.0  # smaller faces are skipped
    min_sharpness: float = 25.0  # variance of the Laplacian of the aligned face, grey
    good_size_px: float = 80.0  # faces this big or bigger get the full size weight


def sharpness(aligned: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned face (low: blurred)."""
    grey = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY) if aligned.ndim == 3 else aligned
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def face_weight(face: Face, sharp: float, rules: QualityRules) -> float:
    """A vote weight in (0, 1]; 0 when the face is too small or too blurred to use."""
    if face.size < rules.min_size_px or sharp < rules.min_sharpness:
        return 0.0
    size = min(1.0, face.size / rules.good_size_px)
    crisp = min(1.0, sharp / (4.0 * rules.min_sharpness)) if rules.min_sharpness > 0 else 1.0
    return float(max(1e-3, face.score * (0.5 * size + 0.5 * crisp)))
