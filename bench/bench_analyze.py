"""End-to-end `analyze` speed against the pure-inference ceiling, measured in one run.

    python bench/bench_analyze.py [--rounds 2]

Ceiling: the same detector (YOLOX-Nano, same settings) on the PETS clip's frames decoded
beforehand into memory: frames / seconds spent in `detect` alone.
End-to-end: `python main.py analyze PETS --every-frame --out events.jsonl --tracks ...`
run in-process (decoder thread, detector thread with the motion gate, tracker, zones,
lines, writing events and tracks), frames / seconds of its analysis loop (the rate
`analyze` prints) and of the whole command (with start-up). Rounds alternate ceiling
and end-to-end so that a busy neighbour on the shared machine hits both alike; per-round
ratios and best-against-best are printed. With the motion gate on, still frames skip
inference, so that variant can beat the ceiling; the gate-off variant is the fair one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.cli.main import main as cli_main  # noqa: E402
from app.config import AppConfig  # noqa: E402
from app.vision.video_io import iter_video  # noqa: E402

PETS = REPO.parent / "shared" / "media" / "video" / "pets09_s2l1_480x360.avi"
MODELS = REPO.parent / "shared" / "models"
SHAPES = {
    "lines": [{"name": "plaza", "start": [240, 60], "end": [240, 350]}],
    "zones": [{"name": "lawn", "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]]}],
    "models": {"dir": str(MODELS), "allow_download": False},
}


def ceiling(frames: list, detector: object) -> float:
    t0 = time.perf_counter()
    for f in frames:
        detector.detect(f.image)  # type: ignore[attr-defined]
    return len(frames) / (time.perf_counter() - t0)


def end_to_end(cfg_path: Path, out_dir: Path, n_frames: int) -> tuple[float, float]:
    """(whole command frames/s, analysis loop frames/s as the command reports it)."""
    args = [
        "analyze", str(PETS), "--config", str(cfg_path), "--every-frame", "--no-progress",
        "--out", str(out_dir / "events.jsonl"), "--tracks", str(out_dir / "tracks.txt"),
    ]  # fmt: skip
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        rc = cli_main(args)
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"analyze failed with exit code {rc}")
    m = re.search(r"analysed (\d+) frames in ([\d.]+) s", out.getvalue())
    if not m or int(m.group(1)) != n_frames:
        raise SystemExit(f"unexpected analyze summary: {out.getvalue()[:200]}")
    return n_frames / wall, n_frames / float(m.group(2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("VITRINE_MODELS_DIR", str(MODELS))
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    frames = list(iter_video(PETS))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        variants = {
            "motion gate off": {**SHAPES, "analysis": {"motion": {"enabled": False}}},
            "product defaults (gate on)": SHAPES,
        }
        paths: dict[str, Path] = {}
        for name, data in variants.items():
            p = out / f"{len(paths)}.json"
            p.write_text(json.dumps(data))
            paths[name] = p
        cfg = AppConfig.model_validate(SHAPES)
        detector = create_detector(cfg.analysis.detector, ModelManager(MODELS))
        detector.detect(frames[0].image)
        ceilings: list[float] = []
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
        for r in range(args.rounds):
            ceilings.append(ceiling(frames, detector))
            for name, p in paths.items():
                runs[name].append(end_to_end(p, out, len(frames)))
            print(
                f"round {r + 1}: ceiling {ceilings[-1]:.1f} fps, "
                + ", ".join(f"{k} {v[-1][0]:.1f} / {v[-1][1]:.1f} fps" for k, v in runs.items()),
                flush=True,
            )
    print()
    print(
        f"PETS 2009 S2.L1, 480x360, {len(frames)} frames, every frame analysed; detector "
        f"{detector.name} on {detector.provider}; {os.cpu_count()} CPUs. Shared 2-core "
        f"machine: other work may run at the same time; {args.rounds} alternating rounds, "
        "ratios per round (same moment) and best against best."
    )
    print(f"pure-inference ceiling (pre-decoded frames): best {max(ceilings):.1f} frames/s")
    for name, vals in runs.items():
        whole = [v[0] / c for v, c in zip(vals, ceilings, strict=True)]
        loop = [v[1] / c for v, c in zip(vals, ceilings, strict=True)]
        best_w, best_l = max(v[0] for v in vals), max(v[1] for v in vals)
        print(
            f"end-to-end analyze, {name}:\n"
            f"  analysis loop (decode -> outputs, as analyze reports it): best {best_l:.1f} "
            f"frames/s = {best_l / max(ceilings):.3f} of the best ceiling; per round median "
            f"{statistics.median(loop):.3f} (min {min(loop):.3f}, max {max(loop):.3f})\n"
            f"  whole command (+ start-up: config, probe, model load): best {best_w:.1f} "
            f"frames/s = {best_w / max(ceilings):.3f}; per round median "
            f"{statistics.median(whole):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
