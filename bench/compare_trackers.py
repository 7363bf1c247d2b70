"""Our ByteTracker against supervision's sv.ByteTrack on the SAME detections.

    python bench/compare_trackers.py            # TUD-Stadtmitte (gt) and PETS09 (no gt)
    python bench/compare_trackers.py --markdown docs/tracker-table.md

YOLOX-Nano (../shared/models) runs once per clip at confidence 0.1 (ByteTrack's
second stage needs the low-score boxes); every tracker then sees the same detections.
TUD-Stadtmitte: IDF1, MOTA, ID switches (motmetrics, IoU >= 0.5; video frame i is gt
frame i + 1; every gt row has conf 1 in MOT15, so none is ignored) at the clip's 25 fps
and at the product's 5 fps analysis rate (every 5th frame). PETS09 has no ground truth
here: we print the number of distinct ids and of ids that live under 1 s (fragments),
fewer being better for the same detections. Figures are from a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config import DetectorConfig, TrackerConfig  # noqa: E402
from app.vision import kernels  # noqa: E402
from app.vision.detections import Detections  # noqa: E402
from app.vision.detector import create_detector  # noqa: E402
from app.vision.models import ModelManager  # noqa: E402
from app.vision.tracker import ByteTracker, box_iou  # noqa: E402

SHARED = REPO.parent / "shared"
TUD = SHARED / "media" / "MOT15" / "TUD-Stadtmitte"
PETS = SHARED / "media" / "video" / "pets09_s2l1_480x360.avi"

TrackFn = Callable[[Detections], Detections]


@dataclass
class Row:
    clip: str
    tracker: str
    idf1: float = float("nan")
    mota: float = float("nan")
    switches: int = -1
    ids: int = 0
    short_ids: int = 0
    ms: float = 0.0


def detect_clip(path: Path, every: int = 1) -> list[Detections]:
    det = create_detector(DetectorConfig(confidence=0.1), ModelManager(SHARED / "models"))
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(det.detect(frame))
    cap.release()
    return out


def ours(cfg: TrackerConfig, fps: float) -> TrackFn:
    kernels.warm_up()  # its compiled loops: loaded before the clock starts
    return ByteTracker(cfg, fps).update


def supervision(cfg: TrackerConfig | None, fps: float) -> TrackFn:
    import supervision as sv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cfg is None:  # the library's defaults
            t = sv.ByteTrack(frame_rate=fps)
        else:  # our thresholds, translated to its parameters
            t = sv.ByteTrack(
                track_activation_threshold=cfg.high_thresh,
                lost_track_buffer=round(cfg.max_lost_s * 30),
                minimum_matching_threshold=1 - cfg.match_iou,
                frame_rate=fps,
                minimum_consecutive_frames=cfg.min_hits,
            )

    def update(d: Detections) -> Detections:
        s = sv.Detections(xyxy=d.xyxy.copy(), confidence=d.confidence.copy(), class_id=d.class_id)
        r = t.update_with_detections(s)
        return Detections.create(r.xyxy, r.confidence, r.class_id, r.tracker_id)

    return update


def run(fn: TrackFn, dets: list[Detections]) -> tuple[list[Detections], float]:
    t0 = time.perf_counter()
    out = [fn(d) for d in dets]
    return out, (time.perf_counter() - t0) * 1000 / max(1, len(dets))


def mot_scores(tracks: list[Detections], frames: list[int], gt: np.ndarray) -> tuple:
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=False)
    for tr, f in zip(tracks, frames, strict=True):
        g = gt[gt[:, 0] == f + 1]
        gbox = g[:, 2:6].copy()
        gbox[:, 2:] += gbox[:, :2]
        # motmetrics' iou_matrix uses np.asfarray (gone in numpy 2): same formula here
        iou = box_iou(gbox, tr.xyxy.astype(np.float64))
        dist = np.where(iou >= 0.5, 1 - iou, np.nan)
        acc.update(g[:, 1].astype(int).tolist(), tr.tracker_id.tolist(), dist, frameid=f)
    m = mm.metrics.create().compute(acc, metrics=["idf1", "mota", "num_switches"], name="x")
    return float(m["idf1"].iloc[0]), float(m["mota"].iloc[0]), int(m["num_switches"].iloc[0])


def id_stats(tracks: list[Detections], fps: float) -> tuple[int, int]:
    frames: dict[int, int] = {}
    for tr in tracks:
        for i in tr.tracker_id.tolist():
            frames[i] = frames.get(i, 0) + 1
    return len(frames), sum(1 for n in frames.values() if n < fps)


def evaluate(
    clip: str,
    dets: list[Detections],
    every: int,
    fps: float,
    cfg: TrackerConfig,
    gt: np.ndarray | None,
) -> list[Row]:
    frames = list(range(0, len(dets), every))
    sub = [dets[i] for i in frames]
    makers = {
        "ours (TrackerConfig defaults)": lambda: ours(cfg, fps),
        "sv.ByteTrack (library defaults)": lambda: supervision(None, fps),
        "sv.ByteTrack (our thresholds)": lambda: supervision(cfg, fps),
    }
    rows = []
    for name, make in makers.items():
        tracks, ms = run(make(), sub)
        row = Row(f"{clip} @ {fps:g} fps", name, ms=ms)
        row.ids, row.short_ids = id_stats(tracks, fps)
        if gt is not None:
            row.idf1, row.mota, row.switches = mot_scores(tracks, frames, gt)
        rows.append(row)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| clip | tracker | IDF1 | MOTA | ID switches | ids | ids < 1 s | ms/frame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gt = r.switches >= 0
        lines.append(
            f"| {r.clip} | {r.tracker} | {f'{r.idf1:.3f}' if gt else '-'} | "
            f"{f'{r.mota:.3f}' if gt else '-'} | {r.switches if gt else '-'} | {r.ids} | "
            f"{r.short_ids} | {r.ms:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--no-pets", action="store_true", help="skip the PETS09 clip")
    args = ap.parse_args()
    cfg = TrackerConfig()
    print(f"tracker defaults: {cfg.model_dump()}")
    gt = np.loadtxt(TUD / "gt" / "gt.txt", delimiter=",")
    t0 = time.perf_counter()
    tud = detect_clip(TUD / "TUD-Stadtmitte.mp4")
    print(f"TUD: {len(tud)} frames detected in {time.perf_counter() - t0:.1f} s")
    rows = evaluate("TUD-Stadtmitte", tud, 1, 25.0, cfg, gt)
    rows += evaluate("TUD-Stadtmitte", tud, 5, 5.0, cfg, gt)
    if not args.no_pets:
        pets = detect_clip(PETS)
        print(f"PETS09: {len(pets)} frames detected")
        rows += evaluate("PETS09-S2L1", pets, 1, 10.0, cfg, None)
        rows += evaluate("PETS09-S2L1", pets, 2, 5.0, cfg, None)
    text = table(rows)
    print(text)
    print("(shared 2-core machine; ms/frame is the tracker alone, detections precomputed)")
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
