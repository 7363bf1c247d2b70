"""Does batching frames of several cameras into one YOLOX inference pay on this CPU?

    python bench/bench_batching.py [--threads 2] [--rounds 5]

Pure inference on real PETS09 frames, letterboxed beforehand: the shipped model
(batch fixed at 1) against the batch-dynamic edit (app.vision.detectors.batching) at
batch 1, 2, 4 and 8, in interleaved rounds so that load from other processes hits every
configuration alike; then the full detector (pre- and post-processing included):
`detect` per frame against `detect_batch` of 4 frames; and the motion gate's cost per
frame. Prints frames/s (best of the rounds, medians too) and the ratio to the shipped
model measured in the same run.
Figures are from a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config import DetectorConfig, MotionConfig  # noqa: E402
from app.vision.detectors.batching import make_batch_dynamic  # noqa: E402
from app.vision.detectors.onnx_base import open_session  # noqa: E402
from app.vision.detectors.preprocess import letterbox_top_left, to_blob  # noqa: E402
from app.vision.detectors.yolox import YoloxDetector  # noqa: E402
from app.vision.motion import MotionGate  # noqa: E402

SHARED = REPO.parent / "shared"
MODEL = SHARED / "models" / "yolox_nano.onnx"
CLIP = SHARED / "media" / "video" / "pets09_s2l1_480x360.avi"
CPU = ["CPUExecutionProvider"]


def load_frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(CLIP))
    frames: list[np.ndarray] = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def fps_of(run: object, images: list[np.ndarray], batch: int) -> float:
    """Frames/s of `run(blob)` over all images in chunks of `batch`."""
    blobs = [
        to_blob(images[i : i + batch], rgb=False, scale=1.0) for i in range(0, len(images), batch)
    ]
    t0 = time.perf_counter()
    for blob in blobs:
        run(blob)  # type: ignore[operator]
    return len(blobs) * batch / (time.perf_counter() - t0)


def inference(threads: int, rounds: int, frames: list[np.ndarray]) -> dict[str, float]:
    images = [letterbox_top_left(f, (416, 416))[0] for f in frames]
    static = open_session(str(MODEL), CPU, threads)
    dyn_model, fixed = make_batch_dynamic(onnx.load(str(MODEL)))
    dynamic = open_session(dyn_model.SerializeToString(), CPU, threads)
    print(f"graph edit: {fixed} Reshape constants rewritten; input dim 0 is 'batch'")
    configs = {"shipped model, batch 1": (static, 1)}
    for b in (1, 2, 4, 8):
        configs[f"dynamic model, batch {b}"] = (dynamic, b)
    for sess, b in configs.values():  # warm up every shape once
        sess.run(None, {"images": to_blob(images[:b], rgb=False, scale=1.0)})
    results: dict[str, list[float]] = {k: [] for k in configs}
    for _ in range(rounds):
        for name, (sess, b) in configs.items():
            results[name].append(fps_of(lambda x, s=sess: s.run(None, {"images": x}), images, b))
    return summarise(results)


def summarise(results: dict[str, list[float]]) -> dict[str, float]:
    """Best round (least disturbed by other processes) of each configuration; the
    medians are printed too."""
    for k, v in results.items():
        print(f"  rounds of {k}: median {statistics.median(v):.1f}, best {max(v):.1f} frames/s")
    return {k: max(v) for k, v in results.items()}


def full_detector(threads: int, rounds: int, frames: list[np.ndarray]) -> dict[str, float]:
    det = YoloxDetector(DetectorConfig(threads=threads, batch=True), MODEL)
    out: dict[str, list[float]] = {"detect() per frame": [], "detect_batch() of 4": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        for f in frames:
            det.detect(f)
        out["detect() per frame"].append(len(frames) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for i in range(0, len(frames), 4):
            det.detect_batch(frames[i : i + 4])
        out["detect_batch() of 4"].append(len(frames) / (time.perf_counter() - t0))
    return summarise(out)


def motion_cost(frames: list[np.ndarray]) -> float:
    gate = MotionGate(MotionConfig())
    n = 2000
    t0 = time.perf_counter()
    for k in range(n):
        gate.should_detect(frames[k % len(frames)], k * 1e-4)
    return (time.perf_counter() - t0) / n * 1e6


def report(title: str, figures: dict[str, float]) -> None:
    base = next(iter(figures.values()))
    print(f"\n{title}")
    for name, fps in figures.items():
        print(f"  {name:<28} {fps:7.1f} frames/s   x{fps / base:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="ORT intra-op threads")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    ap.add_argument("--frames", type=int, default=32, help="frames per round (x8)")
    args = ap.parse_args()
    frames = load_frames(args.frames)
    print(f"{len(frames)} PETS09 frames, {args.threads} ORT threads, {args.rounds} rounds")
    report("pure inference (letterboxed in advance)", inference(args.threads, args.rounds, frames))
    report(
        "full detector (pre/post-processing included)",
        full_detector(args.threads, args.rounds, frames),
    )
    print(f"\nmotion gate: {motion_cost(frames):.0f} us per 480x360 frame")
    print("(shared 2-core machine: compare ratios within this run, not across runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
