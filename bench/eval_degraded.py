"""Counting accuracy on degraded pictures: detector-side remedies, measured on every clip.

    python bench/eval_degraded.py                          # TUD + PETS, all variants
    python bench/eval_degraded.py --clips tud --methods current,denoise
    python bench/eval_degraded.py --markdown /tmp/degraded.md

Same clips, degraded copies, line placement sweep and matching as
bench/eval_agreement.py (whose helpers this reuses): TUD-Stadtmitte against its ground
truth, PETS09 S2.L1 against every-frame counts. PETS is scored twice: against
every-frame analysis of the same copy with the same method (the agreement check), and
against every-frame analysis of the *original* clip with the current detector (what a
degraded camera loses against a clean one; lines are fractions of the picture, so they
are the same lines).

Methods (the product's offline analysis at the default adaptive rate, all sweep lines on
one camera; only the detector's side changes):

- `current`: the detector as before this change (no smoothing);
- `denoise`: the default now: grainy pictures smoothed before detection
  (`analysis.detector.denoise = "auto"`, app/vision/denoise.py);
- `low-score`: detector confidence 0.1 instead of 0.3, so that ByteTrack's second
  stage (scores 0.1-0.5: extend tracks, never start one) sees the weak boxes;
- `clahe`: contrast-limited histogram equalisation of the luminance when the picture is
  dim (mean luminance below 80 of 255), before detection;
- `zoom`: `denoise` plus the zoomed second pass around the counting lines
  (`analysis.zoom.enabled`, app/vision/zoom_pass.py): when people measure less than
  64 input pixels, the lines' surroundings are cut into at most 2 tiles enlarged to
  the detector's input, while the camera is fast.

Printed per clip and method: frames analysed per second of video, detector inferences per
analysed frame (the CPU cost), right / missed / extra, precision, recall, accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from eval_agreement import (  # noqa: E402
    CLIPS,
    MODELS,
    VARIANTS,
    CachedDetector,
    Run,
    degraded,
    gt_crossings,
    run_mode,
    scores,
    sweep_lines,
)

from app.config import AppConfig  # noqa: E402
from app.vision.detections import Detections  # noqa: E402
from app.vision.geometry import Point  # noqa: E402

METHODS = ("current", "denoise", "low-score", "clahe", "zoom")
DIM_LUMA = 80.0
ZOOM_ON = {"zoom": {"enabled": True}}  # the product's zoomed pass, its default rules


class Counting:
    """Counts inferences (the CPU cost) of a wrapped detector."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        return self.inner.detect(image)


class Clahe:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))

    def detect(self, image: np.ndarray) -> Detections:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if float(grey.mean()) < DIM_LUMA:
            lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
            lab[:, :, 0] = self.clahe.apply(lab[:, :, 0])
            image = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
        return self.inner.detect(image)


def detectors(methods: list[str]) -> dict[str, Any]:
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    models = ModelManager(MODELS, allow_download=False)
    base = AppConfig().analysis.detector
    made: dict[str, Any] = {}
    for m in methods:
        if m == "denoise":
            made[m] = create_detector(base.model_copy(update={"denoise": "auto"}), models)
        elif m == "low-score":
            made[m] = create_detector(
                base.model_copy(update={"denoise": "off", "confidence": 0.1}), models
            )
        elif m == "zoom":
            made[m] = create_detector(base.model_copy(update={"denoise": "auto"}), models)
        else:
            made[m] = create_detector(base.model_copy(update={"denoise": "off"}), models)
    return made


def wrap(method: str, det: Any, lines: dict[str, tuple[Point, Point]]) -> Any:
    if method == "clahe":
        return Clahe(det)
    return det


def line(label: str, run: Run, ref: list[Any], tol: float, calls: int | None) -> str:
    right, missed, extra = scores(ref, run.counted, tol)
    prec = right / max(right + extra, 1)
    rec = right / max(right + missed, 1)
    acc = right / max(right + missed + extra, 1)
    cost = f"{calls / max(run.frames, 1):.2f}" if calls is not None else "-"
    return (
        f"| {label} | {run.frames / run.video_s:.1f} | {cost} | {right} / {missed} / {extra} "
        f"| {prec:.3f} | {rec:.3f} | **{acc:.3f}** |"
    )


def evaluate(
    clip: str, variant: str, work: Path, dets: dict[str, Any], tol: float, orig_ref: list[Any]
) -> tuple[list[str], list[Any]]:
    from app.vision.video_io import probe_video

    src, gt = CLIPS[clip]
    path = degraded(src, variant, work)
    info, orig = probe_video(path), probe_video(src)
    lines = sweep_lines(info.width, info.height, clip)
    t0 = time.perf_counter()
    out = [
        f"#### {clip} / {variant} ({info.width}x{info.height}, {info.fps:g} fps, "
        f"{len(lines)} lines)",
        "",
        "| method | frames/s of video | inferences per analysed frame | right / missed / extra "
        "| precision | recall | accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    truth = gt_crossings(gt, info.width / orig.width, info.fps, lines)[0] if gt else None
    every_current: list[Any] = []
    for method, det in dets.items():
        counter = Counting(det)
        cached = CachedDetector(wrap(method, counter, lines))
        over = ZOOM_ON if method == "zoom" else None
        run = run_mode(path, lines, "default (adaptive)", cached, analysis=over)
        calls = counter.calls
        if truth is not None:
            out.append(line(method, run, truth, tol, calls))
            continue
        every = run_mode(path, lines, "every frame", cached, analysis=over)
        if method == "current":
            every_current = every.counted
        out.append(line(f"{method} vs its every-frame counts", run, every.counted, tol, calls))
        if variant != "orig":
            out.append(line(f"{method} vs the original's every frame", run, orig_ref, tol, None))
    out += ["", f"({time.perf_counter() - t0:.0f} s)", ""]
    print("\n".join(out), flush=True)
    return out, every_current


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="tud,pets")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/vitrine-eval"))
    ap.add_argument("--tolerance", type=float, default=1.0)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    dets = detectors(args.methods.split(","))
    out: list[str] = []
    for clip in args.clips.split(","):
        orig_ref: list[Any] = []
        variants = args.variants.split(",")
        if clip == "pets" and "orig" not in variants:
            variants = ["orig", *variants]  # the original's every-frame counts come first
        for variant in variants:
            text, every = evaluate(clip, variant, args.work, dets, args.tolerance, orig_ref)
            if variant == "orig":
                orig_ref = every
            out += text
    if args.markdown:
        args.markdown.write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
