"""Counting accuracy on every clip, at the default (adaptive) rate, fixed 5 fps and every frame.

    python bench/eval_agreement.py                     # TUD + PETS, originals + degraded
    python bench/eval_agreement.py --clips tud,pets --variants orig
    python bench/eval_agreement.py --markdown /tmp/agreement.md

Clips: MOT15 TUD-Stadtmitte (ground truth: true crossings from gt.txt, as
bench/eval_tud.py, and IDF1 / MOTA) and PETS09 S2.L1 (no ground truth here: the
reference is every-frame analysis of the same footage, the check that works on any
video). Each also degraded with ffmpeg (into --work): `small` (320x240, x264 crf 35)
and `dim` (brightness -0.2 and grain noise); the ground truth and the lines scale
with the picture. Lines: a placement sweep (vertical segments across the picture every
tenth of its width, horizontal ones every tenth of its height from 30 % to 80 %), the
same fractions on every variant; no threshold is tuned here.

Each mode runs the real offline analysis (`app.vision.offline.analyze_clip`, the path of
`python main.py analyze`) with the product defaults; the detector's output is cached
per frame (detections do not depend on the rate), so every mode sees the same
detections. Printed per clip and mode: frames analysed per second of video (the CPU
cost), crossings right / missed / extra against the reference, precision, recall,
accuracy = right / (right + missed + extra), and with ground truth IDF1 / MOTA.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from eval_tud import Crossing, _iou, match  # noqa: E402

from app.config import AppConfig  # noqa: E402
from app.events import LineCross  # noqa: E402
from app.vision.detections import Detections  # noqa: E402
from app.vision.geometry import Point, segment_crossing  # noqa: E402
from app.vision.offline import analyze_clip, plan_clip  # noqa: E402
from app.vision.pipeline import CameraPipeline  # noqa: E402

SHARED = REPO.parent / "shared"
MODELS = SHARED / "models"
TUD = SHARED / "media" / "MOT15" / "TUD-Stadtmitte"
CLIPS: dict[str, tuple[Path, Path | None]] = {
    "tud": (TUD / "TUD-Stadtmitte.mp4", TUD / "gt" / "gt.txt"),
    "pets": (SHARED / "media" / "video" / "pets09_s2l1_480x360.avi", None),
}
# ffmpeg video filters and x264 crf of the degraded copies (None: the original)
VARIANTS: dict[str, tuple[str, int] | None] = {
    "orig": None,
    "small": ("scale=320:240", 35),
    "dim": ("eq=brightness=-0.2,noise=alls=20:allf=t", 23),
}
MODES = ("every frame", "fixed 5 fps", "default (adaptive)", "default, one line at a time")


def sweep_lines(w: int, h: int, clip: str) -> dict[str, tuple[Point, Point]]:
    """Vertical segments every tenth of the width, horizontal ones every tenth of the
    height (30-80 %), as fractions of the picture. TUD: people walk left and right with
    their feet at 40-70 % of the height, so its segments are eval_tud's: vertical ones
    spanning 37-88 % of the height and one horizontal segment (h300) that the diagonal
    walkers cross (a line along a walking path counts nothing a person could say)."""
    y0, y1 = (0.375, 0.875) if clip == "tud" else (0.1, 0.95)
    lines: dict[str, tuple[Point, Point]] = {}
    for k in range(1, 10):
        x = round(w * k / 10)
        lines[f"v{k}0"] = ((x, round(h * y0)), (x, round(h * y1)))
    if clip == "tud":
        lines["h300"] = (
            (round(w * 300 / 640), round(h * 0.625)),
            (round(w * 630 / 640), round(h * 0.625)),
        )
        return lines
    for k in range(3, 9):
        y = round(h * k / 10)
        lines[f"h{k}0"] = ((round(w * 0.05), y), (round(w * 0.95), y))
    return lines


def degraded(src: Path, variant: str, work: Path) -> Path:
    spec = VARIANTS[variant]
    if spec is None:
        return src
    vf, crf = spec
    out = work / f"{src.stem}-{variant}.mp4"
    if not out.exists():
        work.mkdir(parents=True, exist_ok=True)
        cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", vf, "-c:v", "libx264",
               "-crf", str(crf), "-pix_fmt", "yuv420p", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True)
    return out


class CachedDetector:
    """The real detector, its output kept per frame content (each mode sees the same)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[bytes, Detections] = {}
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
        hit = self.cache.get(key)
        if hit is None:
            self.calls += 1
            hit = self.cache[key] = self.inner.detect(image)
        return hit


@dataclass
class Run:
    counted: list[Crossing]
    tracks: dict[int, list[tuple[int, np.ndarray]]]
    frames: int
    video_s: float


def run_mode(
    clip: Path,
    lines: dict[str, tuple[Point, Point]],
    mode: str,
    det: Any,
    adaptive: dict[str, Any] | None = None,
    analysis: dict[str, Any] | None = None,
) -> Run:
    data: dict[str, Any] = {
        "cameras": [{"name": "clip", "type": "file", "url": str(clip)}],
        "lines": [{"name": n, "start": list(s), "end": list(e)} for n, (s, e) in lines.items()],
        "models": {"dir": str(MODELS), "allow_download": False},
        "analysis": {"adaptive": adaptive or {}, **(analysis or {})},
    }
    cfg = AppConfig.model_validate(data)
    plan = plan_clip(clip, cfg.analysis.fps, mode == "every frame", mode.startswith("default"))
    pipeline = CameraPipeline("clip", cfg, det, None, fps=plan.fps, crops=False)
    counted: list[Crossing] = []
    tracks: dict[int, list[tuple[int, np.ndarray]]] = {}
    frames, last_t = 0, 0.0
    events: list[Any] = []
    for frame, r in analyze_clip(pipeline, plan, start_ts=0.0, at_once=1):
        frames += 1
        last_t = frame.t
        tracks[frame.index] = [
            (int(i), b) for i, b in zip(r.detections.tracker_id, r.detections.xyxy, strict=True)
        ]
        events += r.events
    events += pipeline.flush()
    counted = [
        Crossing(e.line, e.direction, e.t, e.track_id) for e in events if isinstance(e, LineCross)
    ]
    return Run(counted, tracks, frames, last_t + 1.0 / plan.info.fps)


def gt_crossings(
    gt: Path, scale: float, fps: float, lines: dict[str, tuple[Point, Point]]
) -> tuple[list[Crossing], np.ndarray]:
    rows = np.loadtxt(gt, delimiter=",")
    rows[:, 2:6] *= scale
    tracks = load_gt_rows(rows)
    out: list[Crossing] = []
    for tid, pts in tracks.items():
        for (a, _), (b, fb) in zip(pts, pts[1:], strict=False):
            for name, (s, e) in lines.items():
                d = segment_crossing(s, e, a, b)
                if d:
                    out.append(Crossing(name, d, fb / fps, tid))
    return out, rows


def load_gt_rows(rows: np.ndarray) -> dict[int, list[tuple[Point, int]]]:
    tracks: dict[int, list[tuple[Point, int]]] = {}
    for r in rows[np.argsort(rows[:, 0], kind="stable")]:
        x, y, w, h = (float(v) for v in r[2:6])
        tracks.setdefault(int(r[1]), []).append(((x + w / 2, y + h), int(r[0]) - 1))
    return tracks


def mot(rows: np.ndarray, run: Run) -> dict[str, float]:
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=True)
    for f, hyp in sorted(run.tracks.items()):
        g = rows[rows[:, 0] == f + 1]
        hb = np.array([[b[0], b[1], b[2] - b[0], b[3] - b[1]] for _, b in hyp]).reshape(-1, 4)
        iou = _iou(g[:, 2:6], hb)
        acc.update(
            g[:, 1].astype(int).tolist(), [i for i, _ in hyp], np.where(iou >= 0.5, 1 - iou, np.nan)
        )
    s = mm.metrics.create().compute(acc, metrics=["idf1", "mota", "precision", "recall"])
    return {k: float(s[k].iloc[0]) for k in s.columns}


def scores(truth: list[Crossing], counted: list[Crossing], tol: float) -> tuple[int, int, int]:
    right = missed = extra = 0
    keys = {(c.line, c.direction) for c in truth + counted}
    for key in keys:
        t = [c for c in truth if (c.line, c.direction) == key]
        c = [c for c in counted if (c.line, c.direction) == key]
        r, m, e = match(t, c, tol)
        right, missed, extra = right + r, missed + m, extra + e
    return right, missed, extra


def row(label: str, run: Run, ref: list[Crossing], tol: float, m: dict[str, float] | None) -> str:
    right, missed, extra = scores(ref, run.counted, tol)
    prec = right / max(right + extra, 1)
    rec = right / max(right + missed, 1)
    acc = right / max(right + missed + extra, 1)
    mcols = (
        f"{100 * m['idf1']:.1f} | {100 * m['mota']:.1f} | {100 * m['precision']:.1f}"
        if m
        else "- | - | -"
    )
    return (
        f"| {label} | {run.frames / run.video_s:.1f} | {right} / {missed} / {extra} "
        f"| {prec:.3f} | {rec:.3f} | **{acc:.3f}** | {mcols} |"
    )


def evaluate(
    clip: str,
    variant: str,
    work: Path,
    det: Any,
    tol: float,
    others: list[dict[str, Any]] | None = None,
) -> list[str]:
    from app.vision.video_io import probe_video

    src, gt = CLIPS[clip]
    path = degraded(src, variant, work)
    info = probe_video(path)
    orig = probe_video(src)
    lines = sweep_lines(info.width, info.height, clip)
    cached = CachedDetector(det)
    t0 = time.perf_counter()
    runs: dict[str, Run] = {mode: run_mode(path, lines, mode, cached) for mode in MODES[:3]}
    # a camera usually has one door line: the adaptive rate then follows that line only
    alone = [run_mode(path, {n: seg}, MODES[2], cached) for n, seg in lines.items()]
    runs[MODES[3]] = Run(
        [c for r in alone for c in r.counted],
        {},
        round(sum(r.frames for r in alone) / len(alone)),
        alone[0].video_s,
    )
    for over in others or []:  # other adaptive settings (sensitivity), one line at a time
        label = "adaptive " + ", ".join(f"{k}={v}" for k, v in over.items()) + ", one line"
        alone = [run_mode(path, {n: seg}, MODES[2], cached, over) for n, seg in lines.items()]
        runs[label] = Run(
            [c for r in alone for c in r.counted],
            {},
            round(sum(r.frames for r in alone) / len(alone)),
            alone[0].video_s,
        )
    ref_label = "ground truth" if gt else "every-frame counts"
    if gt is not None:
        truth, rows = gt_crossings(gt, info.width / orig.width, info.fps, lines)
    else:
        truth, rows = runs["every frame"].counted, None
    out = [
        f"#### {clip} / {variant} ({info.width}x{info.height}, {info.fps:g} fps, "
        f"{len(lines)} lines, reference: {ref_label}, {len(truth)} crossings)",
        "",
        "| mode | frames/s of video | right / missed / extra | precision | recall "
        "| accuracy | IDF1 % | MOTA % | box precision % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, run in runs.items():
        if gt is None and mode == "every frame":
            out.append(
                f"| {mode} | {run.frames / run.video_s:.1f} | (reference) | | | | - | - | - |"
            )
            continue
        m = mot(rows, run) if rows is not None and run.tracks else None
        out.append(row(mode, run, truth, tol, m))
    out += ["", f"({cached.calls} detector calls, {time.perf_counter() - t0:.0f} s)", ""]
    print("\n".join(out), flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="tud,pets")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/vitrine-eval"))
    ap.add_argument("--tolerance", type=float, default=1.0)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument(
        "--adaptive",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="also run these analysis.adaptive settings, e.g. near_heights=0.5,horizon_s=0.5",
    )
    args = ap.parse_args()
    others = [
        {k: float(v) for k, v in (kv.split("=") for kv in spec.split(","))}
        for spec in args.adaptive
    ]
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    det = create_detector(AppConfig().analysis.detector, ModelManager(MODELS, allow_download=False))
    lines: list[str] = []
    for clip in args.clips.split(","):
        for variant in args.variants.split(","):
            lines += evaluate(clip, variant, args.work, det, args.tolerance, others)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
