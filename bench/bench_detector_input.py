"""What inferring on the picture instead of the whole square letterbox saves, and whether
the detections stay the same.

    python bench/bench_detector_input.py [--rounds 8] [--per 10] [--counts]

YOLOX-Nano's input is 416x416; a 4:3 camera fills 416x312 of it. The detector runs the
same graph with a symbolic input size (app/vision/detectors/input_size.py) on 416x320
(the picture padded to the next multiple of 32). Measured on real PETS09 (480x360),
TUD-Stadtmitte (640x480) and street (640x360, eye level) frames, single-thread sessions as the live workers run them:
CPU time of the calling thread per `detect` (letterbox, inference, decode, NMS), the
full input against the trimmed one in interleaved rounds (so that load from other
processes hits both alike), median and best round, and their ratio; then the
detections of both on every frame of both clips: how many match (IoU >= 0.9) and how
far their scores differ. `--counts`: the line crossings counted with each on both
clips (bench/eval_agreement.py's line placement sweep, every frame and the default
adaptive rate), the trimmed input's against the full input's (same line and direction
within 1 s, one-to-one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from app.config import DetectorConfig  # noqa: E402
from app.vision.detectors.yolox import YoloxDetector  # noqa: E402
from app.vision.tracker import box_iou  # noqa: E402
from app.vision.video_io import serial_opencv  # noqa: E402

SHARED = REPO.parent / "shared"
MODEL = SHARED / "models" / "yolox_nano.onnx"
CLIPS = {
    "PETS09 480x360": SHARED / "media" / "video" / "pets09_s2l1_480x360.avi",
    "TUD 640x480": SHARED / "media" / "MOT15" / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4",
    # eye level, people close to the camera and cut by the bottom edge
    "street 640x360": SHARED / "media" / "video" / "short_hamilton_clip.mp4",
}


def read(path: Path, limit: int = 10**9) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out: list[np.ndarray] = []
    while len(out) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame)
    cap.release()
    return out


def cpu_ms(det: YoloxDetector, frames: list[np.ndarray], start: int, per: int) -> float:
    t0 = time.thread_time()
    for i in range(per):
        det.detect(frames[(start + i) % len(frames)])
    return (time.thread_time() - t0) * 1000 / per


def speed(dets: dict[str, YoloxDetector], frames: list[np.ndarray], rounds: int, per: int) -> None:
    times: dict[str, list[float]] = {k: [] for k in dets}
    for r in range(rounds):
        order = list(dets.items()) if r % 2 == 0 else list(dets.items())[::-1]
        for name, det in order:
            times[name].append(cpu_ms(det, frames, r * per, per))
    base_med, base_min = statistics.median(times["full"]), min(times["full"])
    for name, t in times.items():
        med, best = statistics.median(t), min(t)
        print(
            f"  {name:8s} {med:6.2f} ms CPU per detect (median of {rounds}; best {best:6.2f})"
            f"  ratio {med / base_med:.3f} (best {best / base_min:.3f})",
            flush=True,
        )


def agreement(full: YoloxDetector, trimmed: YoloxDetector, frames: list[np.ndarray]) -> None:
    n_full = n_trim = matched = only_full = only_trim = 0
    diffs: list[float] = []
    for f in frames:
        a, b = full.detect(f), trimmed.detect(f)
        n_full, n_trim = n_full + len(a), n_trim + len(b)
        iou = box_iou(a.xyxy, b.xyxy) if len(a) and len(b) else np.zeros((len(a), len(b)))
        if len(a) and len(b):
            ok = iou.max(axis=1) >= 0.9
            matched += int(ok.sum())
            diffs += np.abs(a.confidence[ok] - b.confidence[iou.argmax(axis=1)[ok]]).tolist()
        only_full += int((iou.max(axis=1, initial=0) < 0.5).sum())
        only_trim += int((iou.max(axis=0, initial=0) < 0.5).sum())
    print(
        f"  {len(frames)} frames: {n_full} people found on the full input, {n_trim} on the "
        f"trimmed one, {matched} the same box (IoU >= 0.9); score difference mean "
        f"{np.mean(diffs) if diffs else 0:.4f}, max {max(diffs, default=0):.4f}; "
        f"{only_full} found only on the full input, {only_trim} only on the trimmed one "
        "(IoU < 0.5)",
        flush=True,
    )


def counts(dets: dict[str, YoloxDetector]) -> None:
    from eval_agreement import CLIPS as EVAL_CLIPS
    from eval_agreement import CachedDetector, run_mode, scores, sweep_lines

    from app.vision.video_io import probe_video

    for clip, (path, _) in EVAL_CLIPS.items():
        info = probe_video(path)
        lines = sweep_lines(info.width, info.height, clip)
        cached = {name: CachedDetector(d) for name, d in dets.items()}
        for mode in ("every frame", "default (adaptive)"):
            full = run_mode(path, lines, mode, cached["full"]).counted
            trimmed = run_mode(path, lines, mode, cached["trimmed"]).counted
            same, only_full, only_trimmed = scores(full, trimmed, 1.0)
            print(
                f"{clip}, {mode}, {len(lines)} lines: {len(full)} crossings counted with the "
                f"full input, {len(trimmed)} with the trimmed one; {same} the same, "
                f"{only_full} only with the full input, {only_trimmed} only with the trimmed",
                flush=True,
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--per", type=int, default=10, help="detect calls per round")
    ap.add_argument("--no-agreement", action="store_true")
    ap.add_argument("--counts", action="store_true", help="compare the line counts too")
    args = ap.parse_args()
    serial_opencv()
    cfg = DetectorConfig(threads=1)
    dets: dict[str, YoloxDetector] = {
        "full": YoloxDetector(cfg.model_copy(update={"trim_input": False}), MODEL),
        "trimmed": YoloxDetector(cfg, MODEL),
    }
    if not dets["trimmed"].trimmed:
        raise SystemExit("the trimmed input did not load (see the log)")
    for name, path in CLIPS.items():
        frames = read(path)
        hw = dets["trimmed"].net_hw(frames[0].shape[:2])
        print(f"{name}: network input {hw[0]}x{hw[1]} instead of 416x416", flush=True)
        speed(dets, frames[::4], args.rounds, args.per)
        if not args.no_agreement:
            agreement(dets["full"], dets["trimmed"], frames)
    if args.counts:
        counts(dets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
