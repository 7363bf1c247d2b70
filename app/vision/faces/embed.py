"""Face embeddings: MobileFaceNet (128-D) or a user-supplied ArcFace ONNX, run with
ONNX Runtime on 112x112 aligned faces; L2-normalised, compared by cosine similarity."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass(frozen=True)
class Normalisation:
    """How a recogniser wants its pixels: RGB or BGR, (x / scale - mean) / std."""

    rgb: bool = True
    scale: float = 255.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)


MOBILEFACENET = Normalisation()
# InsightFace ArcFace packs: (x - 127.5) / 127.5 on RGB
ARCFACE = Normalisation(rgb=True, scale=1.0, mean=(127.5,) * 3, std=(127.5,) * 3)


class Embedder:
    """One ONNX face recogniser. Thread-safe."""

    def __init__(self, model: Path, norm: Normalisation = MOBILEFACENET, threads: int = 1):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.norm = norm
        self._mean = np.array(norm.mean, np.float32)
        self._std = np.array(norm.std, np.float32)
        self._lock = threading.Lock()
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def blob(self, faces: list[np.ndarray]) -> np.ndarray:
        out = []
        for f in faces:
            img = cv2.cvtColor(f, cv2.COLOR_BGR2RGB) if self.norm.rgb else f
            x = (img.astype(np.float32) / self.norm.scale - self._mean) / self._std
            out.append(x.transpose(2, 0, 1))
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)

    def embed(self, aligned: list[np.ndarray]) -> np.ndarray:
        """(n, dim) unit vectors for n aligned 112x112 BGR faces."""
        if not aligned:
            return np.zeros((0, self.dim), np.float32)
        x = self.blob(aligned)
        with self._lock:
            rows = [
                self.session.run(None, {self.input_name: x[i : i + 1]})[0][0] for i in range(len(x))
            ]
        e = np.asarray(rows, np.float32)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
