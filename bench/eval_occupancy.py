"""Zone occupancy on MOT15 TUD-Stadtmitte: what the pipeline reports vs ground truth.

    python bench/eval_occupancy.py [--fps 5]

Three zones drawn over the walking area (left half, right half, a middle band). Truth
per analysed frame: how many gt boxes have their bottom-centre inside the zone (the
product's rule for "in a zone"). Reported: the real pipeline's occupancy (YOLOX-Nano,
ByteTrack, stitching, zones with their grace period) on the same frames, as the
difference reported - true: its mean (bias), mean absolute value, and how often it is
exact, above and below. gt includes people hidden behind others, whom no camera sees.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from eval_tud import CLIP_FPS, TUD, eval_config, load_gt  # noqa: E402

from app.cli.analyze import build_detector  # noqa: E402
from app.vision.geometry import points_in_polygon  # noqa: E402
from app.vision.pipeline import CameraPipeline  # noqa: E402
from app.vision.video_io import iter_video  # noqa: E402

ZONES = {
    "left": [[0, 200], [320, 200], [320, 480], [0, 480]],
    "right": [[320, 200], [640, 200], [640, 480], [320, 480]],
    "middle": [[160, 250], [480, 250], [480, 480], [160, 480]],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=5.0, help="analysis rate (default 5)")
    args = ap.parse_args()
    feet: dict[int, list[tuple[float, float]]] = {}
    for rows in load_gt(TUD / "gt" / "gt.txt").values():
        for f, x, y, w, h in rows:
            feet.setdefault(f, []).append((x + w / 2, y + h))
    cfg = eval_config({"zones": [{"name": n, "polygon": p} for n, p in ZONES.items()]})
    pipeline = CameraPipeline(
        "tud", cfg, build_detector(cfg), None, fps=min(args.fps, CLIP_FPS), crops=False
    )
    errors: list[int] = []
    frames = 0
    for frame in iter_video(TUD / "TUD-Stadtmitte.mp4", fps=args.fps, start_ts=0.0):
        result = pipeline.process(frame)
        frames += 1
        pts = np.array(feet.get(frame.index, []), float).reshape(-1, 2)
        for name, poly in ZONES.items():
            true = int(points_in_polygon(pts, np.array(poly, float)).sum()) if len(pts) else 0
            errors.append(result.occupancy[name] - true)
    e = np.array(errors)
    print(
        f"TUD-Stadtmitte, {frames} frames at {args.fps:g} fps, {len(ZONES)} zones: occupancy "
        f"reported - true: mean {e.mean():+.2f}, mean |error| {np.abs(e).mean():.2f} people; "
        f"exact {np.mean(e == 0):.1%}, above {np.mean(e > 0):.1%}, below {np.mean(e < 0):.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
