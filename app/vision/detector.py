"""The person detector API (`Detector`, `create_detector`); implementations live in
`app.vision.detectors`."""

from app.vision.detectors import (
    Detector,
    DetectorError,
    FakeDetector,
    OnnxDetector,
    UltralyticsDetector,
    YoloxDetector,
    choose_providers,
    create_detector,
    detector_types,
    register_detector,
)

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
    "register_detector",
]
