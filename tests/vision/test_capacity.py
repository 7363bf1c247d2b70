"""The first-start capacity estimate: measured on the real detector, then simple sums."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.config import DetectorConfig
from app.vision.capacity import Capacity, Hardware, describe, measure_capacity, probe_hardware
from app.vision.detector import create_detector
from app.vision.models import ModelManager


def test_cameras_per_rate_follow_the_measured_time() -> None:
    cap = Capacity("yolox", "CPUExecutionProvider", ms_per_frame=35.0, runs=10)
    assert round(cap.frames_per_s, 1) == 20.0  # 70 % of 1000/35
    assert cap.plans() == [(10.0, 2), (5.0, 4), (2.0, 10)]
    assert Capacity("x", "cpu", 2000.0, 3).cameras_at(2.0) == 0


def test_probe_and_measure_on_this_machine(tmp_path: Path) -> None:
    hw = probe_hardware(tmp_path)
    assert hw.cores >= 1 and hw.disk_free_gb > 0 and "CPUExecutionProvider" in hw.providers
    assert hw.memory_gb is not None and hw.memory_gb > 0.5
    assert "CPUExecutionProvider" not in hw.accelerators
    det = create_detector(DetectorConfig(), ModelManager())
    try:
        cap = measure_capacity(det, [np.full((360, 480, 3), 114, np.uint8)], seconds=0.5)
    finally:
        det.close()
    assert cap.runs >= 3 and cap.ms_per_frame > 0 and cap.provider == "CPUExecutionProvider"
    lines = describe(hw, cap)
    assert len(lines) == 3 and "cameras this machine holds" in lines[2]


def test_describe_without_accelerators() -> None:
    hw = Hardware(2, None, ("CPUExecutionProvider", "AzureExecutionProvider"), 40.0, "/data")
    assert describe(hw, None) == [
        "2 cores, memory unknown, 40.0 GB free at /data",
        "ONNX Runtime accelerators: none (CPU only)",
    ]
