"""Detector recall on TUD-Stadtmitte and its degraded copies, per picture treatment.

    python bench/eval_detection_tud.py
    python bench/eval_detection_tud.py --variants dim --methods none,smooth

For every frame: the ground-truth boxes (gt.txt, scaled with the picture) found by a
detection of score >= 0.3 (the detector's confidence) and >= 0.5 (what starts a track)
at IoU >= 0.5, one-to-one, and the detections that match nobody (false positives;
gt.txt leaves out some people, so these are an upper bound). Treatments of the picture
before detection: none, `smooth` (app/vision/denoise.py's 3x3 Gaussian), `gain` (mean
luminance brought to 110), `stretch` (1st-99th percentile to 0-255), `clahe` (CLAHE on
the luminance). See docs/accuracy.md, "Degraded pictures".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from eval_agreement import CLIPS, MODELS, VARIANTS, degraded  # noqa: E402

from app.config import AppConfig  # noqa: E402
from app.vision import denoise  # noqa: E402
from app.vision.tracker import box_iou  # noqa: E402


def gain(img: np.ndarray) -> np.ndarray:
    mean = float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean())
    return cv2.convertScaleAbs(img, alpha=min(3.0, 110.0 / max(mean, 1.0)), beta=0)


def stretch(img: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (1, 99))
    a = 255.0 / max(float(hi - lo), 1.0)
    return cv2.convertScaleAbs(img, alpha=a, beta=-float(lo) * a)


def clahe(img: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda img: img,
    "smooth": denoise.smooth,
    "gain": gain,
    "stretch": stretch,
    "clahe": clahe,
}


def matched(truth: np.ndarray, boxes: np.ndarray) -> int:
    if not len(truth) or not len(boxes):
        return 0
    m = box_iou(truth, boxes)
    used: set[int] = set()
    for r in np.argsort(-m.max(axis=1)):
        for c in np.argsort(-m[r]):
            if m[r, c] >= 0.5 and int(c) not in used:
                used.add(int(c))
                break
    return len(used)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/vitrine-eval"))
    args = ap.parse_args()
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    cfg = AppConfig().analysis.detector.model_copy(update={"denoise": "off"})
    det = create_detector(cfg, ModelManager(MODELS, allow_download=False))
    src, gt_path = CLIPS["tud"]
    assert gt_path is not None
    gt = np.loadtxt(gt_path, delimiter=",")
    print(
        "| copy | treatment | found, score >= 0.3 | false pos. | found, score >= 0.5 | false pos. |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for variant in args.variants.split(","):
        path = degraded(src, variant, args.work)
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
        cap.release()
        scale = frames[0].shape[1] / 640.0
        for name in args.methods.split(","):
            treat = METHODS[name]
            found = {0.3: 0, 0.5: 0}
            extra = {0.3: 0, 0.5: 0}
            total = 0
            for i, img in enumerate(frames):
                d = det.detect(treat(img))
                g = gt[gt[:, 0] == i + 1][:, 2:6] * scale
                truth = np.c_[g[:, :2], g[:, :2] + g[:, 2:]]
                total += len(truth)
                for th in found:
                    boxes = d.xyxy[d.confidence >= th]
                    n = matched(truth, boxes)
                    found[th] += n
                    extra[th] += len(boxes) - n
            print(
                f"| {variant} | {name} | {100 * found[0.3] / total:.1f} % | {extra[0.3]} "
                f"| {100 * found[0.5] / total:.1f} % | {extra[0.5]} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
