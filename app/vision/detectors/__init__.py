"""Person detectors: an ABC plus a registry selected by `DetectorConfig.type`
(yolox, ultralytics, fake). Importing this package registers all of them."""

from app.vision.detectors import fake, ultralytics, yolox
from app.vision.detectors.base import (
    Detector,
    DetectorError,
    create_detector,
    detector_types,
    register_detector,
)
from app.vision.detectors.fake import FakeDetector
from app.vision.detectors.onnx_base import OnnxDetector, choose_providers
from app.vision.detectors.ultralytics import UltralyticsDetector
from app.vision.detectors.yolox import YoloxDetector

__all__ = [
    "Detector",
    "DetectorError",
    "FakeDetector",
    "OnnxDetector",
    "UltralyticsDetector",
    "YoloxDetector",
    "choose_providers",
    "create_detector",
    "detector_types",
    "fake",
    "register_detector",
    "ultralytics",
    "yolox",
]
