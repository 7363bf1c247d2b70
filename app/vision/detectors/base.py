"""The `Detector` ABC and the registry that builds one from `DetectorConfig.type`."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar, cast

import cv2
import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.models import ModelManager

log = logging.getLogger(__name__)


class DetectorError(RuntimeError):
    """A detector that cannot be built or run; the message is one line for a person."""


class Detector(ABC):
    """Finds people in BGR frames. `provider` names the execution provider actually in
    use, `last_ms` the wall time of the last `detect` (per frame for `detect_batch`)."""

    name: str = "detector"
    provider: str = "none"
    last_ms: float = 0.0
    batched: bool = False  # True when detect_batch runs one inference for many frames

    @abstractmethod
    def detect(self, frame: np.ndarray) -> Detections:
        """People in one frame: boxes in the frame's pixels, class 0, scores."""

    def detect_batch(self, frames: list[np.ndarray]) -> list[Detections]:
        """People in several frames (e.g. one per camera); same result as `detect` on each."""
        return [self.detect(f) for f in frames]

    # `detect` in three stages, so that a pipeline can run them in different threads:
    # finish(infer(prepare(frame)), prepared) is detect(frame). The defaults do all the
    # work in `infer`; ONNX detectors prepare the network input and decode its output
    # in the other two, leaving `infer` nothing but the inference itself.
    def prepare(self, frame: np.ndarray) -> Any:
        """What `infer` needs for one frame (thread-safe, cheap)."""
        return frame

    def infer(self, prepared: Any) -> Any:
        """The expensive part of `detect` on a `prepare`d frame."""
        return self.detect(prepared)

    def finish(self, raw: Any, prepared: Any) -> Detections:
        """The Detections of one frame from `infer`'s result (thread-safe, cheap)."""
        return cast(Detections, raw)

    def close(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release resources (sessions); the detector is unusable afterwards."""


Factory = Callable[[DetectorConfig, ModelManager], Detector]
F = TypeVar("F", bound=Factory)
_REGISTRY: dict[str, Factory] = {}


def register_detector(kind: str) -> Callable[[F], F]:
    """Class or function decorator: make `kind` buildable by `create_detector`."""

    def deco(factory: F) -> F:
        _REGISTRY[kind] = factory
        return factory

    return deco


def detector_types() -> list[str]:
    return sorted(_REGISTRY)


def create_detector(cfg: DetectorConfig, models: ModelManager | None = None) -> Detector:
    """Build the detector selected by `cfg.type` (models resolved through `models`)."""
    try:
        factory = _REGISTRY[cfg.type]
    except KeyError:
        raise DetectorError(
            f"unknown detector type {cfg.type!r} (known: {', '.join(detector_types())})"
        ) from None
    return factory(cfg, models or ModelManager())


def as_bgr(frame: np.ndarray) -> np.ndarray:
    """Accept HxWx3 BGR (returned as is), HxW grey or HxWx4 BGRA; refuse anything else."""
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise DetectorError("frame is empty or not an image array")
    if frame.dtype != np.uint8:
        raise DetectorError(f"frame must be uint8, got {frame.dtype}")
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    raise DetectorError(f"frame must be HxWx3 BGR, got shape {frame.shape}")
