"""YuNet face detection (OpenCV's cv2.FaceDetectorYN): boxes, 5 landmarks, scores."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class Face:
    """One detected face, in the coordinates of the image it was found in."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    landmarks: np.ndarray  # (5, 2): eyes, nose tip, mouth corners
    score: float

    @property
    def size(self) -> float:
        """The face's side in pixels (the smaller of width and height)."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])

    def shifted(self, dx: float, dy: float) -> Face:
        x0, y0, x1, y1 = self.box
        return Face((x0 + dx, y0 + dy, x1 + dx, y1 + dy), self.landmarks + (dx, dy), self.score)


class FaceDetector:
    """YuNet. Thread-safe (one detector object is shared, calls are serialised)."""

    def __init__(self, model: Path, score: float = 0.7, max_side: int = 640) -> None:
        self._net = cv2.FaceDetectorYN.create(str(model), "", (320, 320), score, 0.3, 50)
        self.max_side = max_side
        self._lock = threading.Lock()
        self.calls = 0  # how many images it looked at (tests: "never ran")

    def detect(self, image: np.ndarray) -> list[Face]:
        """The faces of a BGR image, best score first."""
        h, w = image.shape[:2]
        if h < 10 or w < 10:
            return []
        k = min(1.0, self.max_side / max(h, w))
        small = image if k == 1.0 else cv2.resize(image, (int(w * k), int(h * k)))
        with self._lock:
            self.calls += 1
            self._net.setInputSize((small.shape[1], small.shape[0]))
            _, rows = self._net.detect(small)
        if rows is None:
            return []
        faces = []
        for r in rows:
            x, y, bw, bh = (float(v) / k for v in r[:4])
            lm = np.asarray(r[4:14], np.float64).reshape(5, 2) / k
            faces.append(Face((x, y, x + bw, y + bh), lm, float(r[14])))
        return sorted(faces, key=lambda f: -f.score)
