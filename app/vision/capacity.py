"""First-start probe: what this machine is (cores, memory, ONNX Runtime execution
providers, disk) and how many cameras it can analyse at which rate, measured with a
short run of the configured detector, not guessed.

    hw = probe_hardware(data_dir())
    cap = measure_capacity(detector, frames, seconds=2.0)
    for line in describe(hw, cap): print(line)

The estimate: a camera at r frames/s costs r detector runs per second (the motion gate
only lowers that); the detector's measured time per frame gives the frames per second
the machine sustains, of which HEADROOM is left to the analysis (decoding, tracking, the
store and the window take the rest)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HEADROOM = 0.7  # share of the detector's sustained rate given to analysis
RATES = (10.0, 5.0, 2.0)
# providers that are not this machine's hardware (Azure runs the model remotely)
NOT_LOCAL = ("CPUExecutionProvider", "AzureExecutionProvider")  # analysis rates shown (frames/s per camera; the default is 5)


@dataclass(frozen=True)
class Hardware:
    cores: int
    memory_gb: float | None
    providers: tuple[str, ...]  # ONNX Runtime execution providers present
    disk_free_gb: float
    disk_path: str

    @property
    def accelerators(self) -> tuple[str, ...]:
        return tuple(p for p in self.providers if p not in NOT_LOCAL)


@dataclass(frozen=True)
class Capacity:
    detector: str
    provider: str
    ms_per_frame: float  # median of the measured runs
    runs: int

    @property
    def frames_per_s(self) -> float:
        """Detector frames per second left to analysis on this machine."""
        return HEADROOM * 1000.0 / self.ms_per_frame if self.ms_per_frame > 0 else 0.0

    def cameras_at(self, rate: float) -> int:
        return int(self.frames_per_s // rate)

    def plans(self) -> list[tuple[float, int]]:
        return [(r, self.cameras_at(r)) for r in RATES]


def _memory_gb() -> float | None:
    try:
        if sys.platform == "darwin":
            out = subprocess.run(["sysctl", "-n", "hw.memsize"], capture_output=True,
                                 text=True, timeout=5, check=True).stdout  # fmt: skip
            return int(out.strip()) / 1e9
        if sys.platform.startswith("win"):
            import ctypes

            class _Mem(ctypes.Structure):
                _fields_ = [("len", ctypes.c_ulong), ("load", ctypes.c_ulong),
                            ("total", ctypes.c_ulonglong), ("avail", ctypes.c_ulonglong),
                            ("tp", ctypes.c_ulonglong), ("ap", ctypes.c_ulonglong),
                            ("tv", ctypes.c_ulonglong), ("av", ctypes.c_ulonglong),
                            ("ae", ctypes.c_ulonglong)]  # fmt: skip

            m = _Mem()
            m.len = ctypes.sizeof(_Mem)
            ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(m))  # type: ignore[attr-defined]
            return m.total / 1e9
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (OSError, ValueError, subprocess.SubprocessError, AttributeError):
        return None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers too)
    except AttributeError:
        return os.cpu_count() or 1


def probe_hardware(disk_path: Path) -> Hardware:
    import onnxruntime as ort

    usage = shutil.disk_usage(disk_path)
    return Hardware(
        cores=_cores(),
        memory_gb=_memory_gb(),
        providers=tuple(ort.get_available_providers()),
        disk_free_gb=usage.free / 1e9,
        disk_path=str(disk_path),
    )


def measure_capacity(
    detector: Any, frames: Sequence[np.ndarray], seconds: float = 2.0, max_runs: int = 30
) -> Capacity:
    """Run `detector` over `frames` (cycling) for about `seconds` after one warm-up run."""
    if not frames:
        raise ValueError("no frames to measure the detector on")
    detector.detect(frames[0])  # warm-up: first run allocates
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < max_runs and (len(times) < 3 or time.perf_counter() < deadline):
        f = frames[len(times) % len(frames)]
        t0 = time.perf_counter()
        detector.detect(f)
        times.append((time.perf_counter() - t0) * 1000.0)
    return Capacity(detector.name, detector.provider, statistics.median(times), len(times))


def describe(hw: Hardware, cap: Capacity | None) -> list[str]:
    """Lines for the selftest output and the settings page."""
    mem = f"{hw.memory_gb:.1f} GB memory" if hw.memory_gb is not None else "memory unknown"
    accel = ", ".join(hw.accelerators) or "none (CPU only)"
    lines = [
        f"{hw.cores} cores, {mem}, {hw.disk_free_gb:.1f} GB free at {hw.disk_path}",
        f"ONNX Runtime accelerators: {accel}",
    ]
    if cap is not None:
        plans = ", ".join(f"{n} at {r:g} fps" for r, n in cap.plans())
        lines.append(
            f"{cap.detector} on {cap.provider}: {cap.ms_per_frame:.0f} ms/frame "
            f"({cap.runs} runs) -> cameras this machine holds: {plans}"
        )
    return lines
