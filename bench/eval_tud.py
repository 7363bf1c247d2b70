"""Counting accuracy on MOT15 TUD-Stadtmitte: true crossings from gt.txt vs the pipeline.

    python bench/eval_tud.py                  # product defaults: the adaptive rate,
                                              # and fixed 25 (every frame), 10, 5 fps
    python bench/eval_tud.py --fps 5 --set analysis.tracker.min_hits=1
    python bench/eval_tud.py --markdown /tmp/accuracy-tables.md

Truth: each ground-truth id's bottom-centre path (video frame i is gt frame i + 1),
crossings of each drawn segment counted with `geometry.segment_crossing` (no
hysteresis: the plain geometric answer). Counted: the real pipeline (YOLOX-Nano from
../shared/models, ByteTrack, stitching, LineCounter with its hysteresis) on the mp4. A
counted crossing is right when it matches a true crossing of the same line and
direction within --tolerance seconds (one-to-one, optimal: app.count_audit). Reported for six
drawn lines and for a line placement sweep (13 segments), plus IDF1 / MOTA of the
tracks against gt (motmetrics, IoU >= 0.5) on the analysed frames. See docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config import AppConfig  # noqa: E402
from app.count_audit import Crossing, match_crossings  # noqa: E402
from app.events import LineCross  # noqa: E402
from app.vision.geometry import Point, segment_crossing  # noqa: E402
from app.vision.offline import analyze_clip, plan_clip  # noqa: E402
from app.vision.pipeline import CameraPipeline  # noqa: E402
from app.vision.video_io import iter_video  # noqa: E402

TUD = REPO.parent / "shared" / "media" / "MOT15" / "TUD-Stadtmitte"
MODELS = REPO.parent / "shared" / "models"
CLIP_FPS = 25.0

# Segments drawn as an installer would: across the walking paths (people walk left/right
# with their feet at y ~ 230..330 in this 640x480 view), away from the image borders
# where people are cut off, plus one horizontal segment crossed at a shallow angle by
# the people walking diagonally.
LINES: dict[str, tuple[Point, Point]] = {
    "v160": ((160, 180), (160, 420)),
    "v280": ((280, 180), (280, 420)),
    "v400": ((400, 180), (400, 420)),
    "v480": ((480, 180), (480, 420)),
    "v560": ((560, 180), (560, 420)),
    "h300": ((300, 300), (630, 300)),
}
# Line placement sweep: a vertical segment every 40 px from x=120 to x=560 (+ h300), so
# that the result does not hang on where five lines happen to be drawn.
DENSE: dict[str, tuple[Point, Point]] = {
    **{f"v{x}": ((x, 180), (x, 420)) for x in range(120, 600, 40)},
    "h300": LINES["h300"],
}


def load_gt(path: Path) -> dict[int, list[tuple[int, float, float, float, float]]]:
    """id -> [(video frame 0-based, left, top, width, height)] sorted by frame."""
    rows = np.loadtxt(path, delimiter=",")
    tracks: dict[int, list[tuple[int, float, float, float, float]]] = {}
    for r in rows[np.argsort(rows[:, 0])]:
        x, y, w, h = (float(v) for v in r[2:6])
        tracks.setdefault(int(r[1]), []).append((int(r[0]) - 1, x, y, w, h))
    return tracks


def true_crossings(
    gt: dict[int, list[tuple[int, float, float, float, float]]],
    lines: dict[str, tuple[Point, Point]] = DENSE,
) -> list[Crossing]:
    out: list[Crossing] = []
    for tid, rows in gt.items():
        pts = [((x + w / 2, y + h), f) for f, x, y, w, h in rows]
        for (a, _), (b, fb) in zip(pts, pts[1:], strict=False):
            for name, (s, e) in lines.items():
                d = segment_crossing(s, e, a, b)
                if d:
                    out.append(Crossing(name, d, fb / CLIP_FPS, tid))
    return out


def match(truth: list[Crossing], counted: list[Crossing], tol: float) -> tuple[int, int, int]:
    """(right, missed, extra): one-to-one matches on line + direction within tol seconds
    (app.count_audit's optimal matcher, the one the `audit` command uses)."""
    r = match_crossings(truth, counted, tol)
    return r.matched, len(r.missed), len(r.extra)


def eval_config(overrides: dict[str, Any]) -> AppConfig:
    data: dict[str, Any] = {
        "cameras": [{"name": "tud", "type": "file", "url": str(TUD / "TUD-Stadtmitte.mp4")}],
        "lines": [{"name": n, "start": list(s), "end": list(e)} for n, (s, e) in DENSE.items()],
        "models": {"dir": str(MODELS), "allow_download": False},
    }
    for key, value in overrides.items():  # dotted keys: analysis.tracker.min_hits=1
        node = data
        *path, leaf = key.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = value
    return AppConfig.model_validate(data)


def run_pipeline(
    cfg: AppConfig, fps: float | None, detector: Any, adaptive: bool = False
) -> dict[str, Any]:
    """Every frame (fps None), a fixed rate, or (`adaptive`) the default adaptive rate
    with `fps` as its base."""
    pipeline = CameraPipeline("tud", cfg, detector, None, fps=fps or CLIP_FPS, crops=False)
    counted: list[Crossing] = []
    tracks: dict[int, list[tuple[int, np.ndarray]]] = {}
    frames: list[int] = []
    t0 = time.perf_counter()
    results: Any
    if adaptive:  # the default: `python main.py analyze`'s offline analysis
        plan = plan_clip(TUD / "TUD-Stadtmitte.mp4", fps, False, adaptive=True)
        results = analyze_clip(pipeline, plan, start_ts=0.0, at_once=1)
    else:
        results = (
            (f, pipeline.process(f))
            for f in iter_video(TUD / "TUD-Stadtmitte.mp4", fps=fps, start_ts=0.0)
        )
    for frame, r in results:
        frames.append(frame.index)
        tracks[frame.index] = [
            (int(i), b) for i, b in zip(r.detections.tracker_id, r.detections.xyxy, strict=True)
        ]
        counted += [
            Crossing(e.line, e.direction, e.t, e.track_id)
            for e in r.events
            if isinstance(e, LineCross)
        ]
    counted += [
        Crossing(e.line, e.direction, e.t, e.track_id)
        for e in pipeline.flush()
        if isinstance(e, LineCross)
    ]
    return {
        "counted": counted,
        "tracks": tracks,
        "frames": frames,
        "wall_s": time.perf_counter() - t0,
    }


def _iou(gt: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """IoU matrix of (N,4) and (M,4) xywh boxes (motmetrics' own helper needs numpy<2)."""
    if len(gt) == 0 or len(hyp) == 0:
        return np.zeros((len(gt), len(hyp)))
    ax2, ay2 = gt[:, None, 0] + gt[:, None, 2], gt[:, None, 1] + gt[:, None, 3]
    bx2, by2 = hyp[None, :, 0] + hyp[None, :, 2], hyp[None, :, 1] + hyp[None, :, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(gt[:, None, 0], hyp[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(gt[:, None, 1], hyp[None, :, 1]), 0, None)
    inter = iw * ih
    union = gt[:, None, 2] * gt[:, None, 3] + hyp[None, :, 2] * hyp[None, :, 3] - inter
    return np.asarray(inter / np.maximum(union, 1e-9))


def mot_metrics(gt_path: Path, run: dict[str, Any]) -> dict[str, float]:
    import motmetrics as mm

    rows = np.loadtxt(gt_path, delimiter=",")
    acc = mm.MOTAccumulator(auto_id=True)
    for f in run["frames"]:
        g = rows[rows[:, 0] == f + 1]
        hyp = run["tracks"][f]
        hb = np.array([[b[0], b[1], b[2] - b[0], b[3] - b[1]] for _, b in hyp]).reshape(-1, 4)
        iou = _iou(g[:, 2:6], hb)
        dist = np.where(iou >= 0.5, 1.0 - iou, np.nan)
        acc.update(g[:, 1].astype(int).tolist(), [i for i, _ in hyp], dist)
    mh = mm.metrics.create()
    s = mh.compute(acc, metrics=["idf1", "mota", "num_switches", "precision", "recall"])
    return {k: float(s[k].iloc[0]) for k in s.columns}


def table(
    truth: list[Crossing], counted: list[Crossing], tol: float, lines: dict[str, Any] = LINES
) -> list[dict[str, Any]]:
    rows = []
    for name in lines:
        for d in ("in", "out"):
            t = [c for c in truth if (c.line, c.direction) == (name, d)]
            c = [c for c in counted if (c.line, c.direction) == (name, d)]
            if not t and not c:
                continue
            right, missed, extra = match(t, c, tol)
            rows.append(
                {
                    "line": name,
                    "dir": d,
                    "true": len(t),
                    "counted": len(c),
                    "right": right,
                    "missed": missed,
                    "extra": extra,
                }
            )
    return rows


def totals(rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    return (
        sum(r["true"] for r in rows),
        sum(r["right"] for r in rows),
        sum(r["extra"] for r in rows),
    )


def report(
    label: str, rows: list[dict[str, Any]], dense: list[dict[str, Any]], mot: dict[str, float],
    wall: float,
) -> list[str]:  # fmt: skip
    out = [f"#### {label}", "", "| line | dir | true | counted | right | missed | extra |",
           "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        out.append(
            f"| {r['line']} | {r['dir']} | {r['true']} | {r['counted']} | {r['right']} "
            f"| {r['missed']} | {r['extra']} |"
        )
    true, right, extra = totals(rows)
    counted = sum(r["counted"] for r in rows)
    out.append(
        f"| **all** | | **{true}** | **{counted}** | **{right}** | **{true - right}** "
        f"| **{extra}** |"
    )
    dtrue, dright, dextra = totals(dense)
    out += [
        "",
        f"Crossings right: **{right}/{true} = {100 * right / max(true, 1):.1f} %**, extra "
        f"counts {extra} (strict accuracy right / (true + extra) = "
        f"{100 * right / max(true + extra, 1):.1f} %).",
        f"Line placement sweep ({len(DENSE)} segments, every 40 px): {dright}/{dtrue} right "
        f"= {100 * dright / max(dtrue, 1):.1f} %, {dextra} extra.",
        f"Tracks vs gt (IoU >= 0.5, analysed frames): IDF1 {100 * mot['idf1']:.1f} %, "
        f"MOTA {100 * mot['mota']:.1f} %, ID switches {int(mot['num_switches'])}, "
        f"precision {100 * mot['precision']:.1f} %, recall {100 * mot['recall']:.1f} %.",
        f"Wall time {wall:.1f} s (shared 2-core machine).",
        "",
    ]
    return out


def evaluate(name: str, overrides: dict[str, Any], rates: list[float], tol: float) -> list[str]:
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    gt_path = TUD / "gt" / "gt.txt"
    truth = true_crossings(load_gt(gt_path))
    cfg = eval_config(overrides)
    detector = create_detector(cfg.analysis.detector, ModelManager(MODELS, allow_download=False))
    shown = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "none"
    out = [f"### {name}", "", f"Overrides: {shown}; detector {detector.name} on "
           f"{detector.provider}; match tolerance {tol} s.", ""]  # fmt: skip
    for fps in rates:
        adaptive = fps == 0
        run = run_pipeline(
            cfg, cfg.analysis.fps if adaptive else (None if fps >= CLIP_FPS else fps), detector,
            adaptive,
        )  # fmt: skip
        rows = table(truth, run["counted"], tol)
        dense = table(truth, run["counted"], tol, DENSE)
        label = "every frame (25 fps)" if fps >= CLIP_FPS else f"{fps:g} fps analysis"
        if adaptive:
            n = len(run["frames"])
            label = (
                f"default: adaptive rate ({cfg.analysis.fps:g} fps base, every frame near a "
                f"line; {n} frames = {n / (179 / CLIP_FPS):.1f} per second of video)"
            )
        out += report(label, rows, dense, mot_metrics(gt_path, run), run["wall_s"])
        print(f"{name}, {label}: {totals(rows)[1]}/{totals(rows)[0]} right", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--fps",
        type=float,
        action="append",
        help="fixed analysis rate (repeatable; 0: the default adaptive rate)",
    )
    ap.add_argument("--tolerance", type=float, default=1.0, help="seconds for a match")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="config override, e.g. analysis.tracker.min_hits=1",
    )
    ap.add_argument("--markdown", type=Path, help="also write the tables here")
    ap.add_argument("--truth", action="store_true", help="print the true crossings and exit")
    args = ap.parse_args()
    if args.truth:
        truth = true_crossings(load_gt(TUD / "gt" / "gt.txt"), LINES)
        for c in sorted(truth, key=lambda c: c.t):
            print(f"t={c.t:5.2f}s gt id {c.ref:2d} {c.line} {c.direction}")
        print(f"{len(truth)} true crossings")
        return 0
    rates = args.fps or [0.0, CLIP_FPS, 10.0, 5.0]
    if args.set:
        overrides: dict[str, Any] = {}
        for item in args.set:
            key, _, value = item.partition("=")
            overrides[key] = json.loads(value)
        runs = [("custom settings", overrides)]
    else:
        runs = [("product defaults", {})]
    lines: list[str] = []
    for name, over in runs:
        lines += evaluate(name, over, rates, args.tolerance)
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
