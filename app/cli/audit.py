"""`python main.py audit CLIP --config FILE --line NAME --marks marks.csv [--json]`: the
counting audit, headless.

The clip runs through the real pipeline exactly as `analyze` runs it (same analysis
rate, detector and rules); the crossings it counts on `--line` are matched with the
marks (rows `t,direction`: seconds into the clip, in/out), one-to-one within
`--tolerance` seconds on the same direction (app/count_audit.py). Prints matched /
missed / extra, accuracy = matched / (matched + missed + extra), and each miss and
extra with its time.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from app.cli.analyze import _load, _progress, build_detector
from app.count_audit import TOLERANCE_S, AuditResult, Crossing, MarksError, parse_marks
from app.errors import CliError
from app.vision.audit_clip import count_clip
from app.vision.offline import as_batch_job
from app.vision.video_io import VideoError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file the marks were made on")
    p.add_argument("--config", type=Path, required=True, help="TOML or JSON with the line")
    p.add_argument("--line", required=True, help="the counting line audited (its name)")
    p.add_argument(
        "--marks", type=Path, required=True, help="CSV of true crossings: t,direction per row"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--camera", help="which configured camera the clip stands for")
    p.add_argument(
        "--tolerance",
        type=float,
        default=TOLERANCE_S,
        help=f"seconds between a mark and a count that still match (default {TOLERANCE_S:g})",
    )
    rate = p.add_mutually_exclusive_group()
    rate.add_argument(
        "--fps", type=float, help="analysed frames per second of video (default: analysis.fps)"
    )
    rate.add_argument("--every-frame", action="store_true", help="analyse every frame")
    p.add_argument(
        "--fixed-rate",
        action="store_true",
        help="only the base rate (default: the adaptive rate, as `analyze` and the cameras)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def read_marks(path: Path, line: str) -> list[Crossing]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"--marks {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--marks {path}: cannot read it ({exc})") from None
    try:
        marks = parse_marks(text, line)
    except MarksError as exc:
        raise CliError(f"--marks {path}: {exc}; nothing was audited") from None
    if not marks:
        raise CliError(
            f"--marks {path}: no marks in it (one 't,direction' row per true crossing, "
            "e.g. '12.5,in'); nothing was audited"
        )
    return marks


def count_line(args: argparse.Namespace) -> tuple[list[Crossing], float]:
    """The pipeline's crossings of `args.line` on the clip (app.vision.audit_clip, as
    the desktop audit counts a clip), and the clip's length in seconds."""
    args.duration = None  # `analyze`'s loader reads it
    cfg, camera, plan = _load(args)
    names = [ln.name for ln in cfg.lines_of(camera)]
    if args.line not in names:
        known = ", ".join(names) or "none"
        raise CliError(f"--line {args.line}: no such line for camera {camera} (lines: {known})")
    detector = build_detector(cfg)
    job = count_clip(
        cfg, camera, args.line, plan.path, detector, plan.fps, plan.every_frame, plan.adaptive
    )
    with _progress(plan, None, args.no_progress) as bar:
        total = bar.total or 1000  # the frames analysed, as `analyze` shows them
        try:
            while True:
                try:
                    done = next(job)
                except StopIteration as stop:
                    counted: list[Crossing] = stop.value
                    break
                bar.update(min(total, round(done * total)) - bar.n)
        except VideoError as exc:
            raise CliError(f"{exc}; nothing was audited") from None
    return counted, plan.info.duration_s


def result_dict(r: AuditResult, line: str, marks: int, counted: int) -> dict[str, Any]:
    return {
        "line": line,
        "marks": marks,
        "counted": counted,
        **r.figures(),
        "tolerance_s": r.tolerance_s,
        "missed_at": [{"t": round(c.t, 3), "direction": c.direction} for c in r.missed],
        "extra_at": [
            {"t": round(c.t, 3), "direction": c.direction, "track_id": c.ref} for c in r.extra
        ],
    }


def result_lines(r: AuditResult, line: str, marks: int, counted: int) -> list[str]:
    total = r.matched + len(r.missed) + len(r.extra)
    out = [
        f"line {line}: {marks} marked, {counted} counted (match within {r.tolerance_s:g} s)",
        f"matched {r.matched}, missed {len(r.missed)}, extra {len(r.extra)}",
        f"accuracy {100 * r.accuracy:.1f} % ({r.matched}/{total})",
    ]
    out += [f"  missed {c.direction:<3} at {c.t:7.2f} s (mark row {c.ref})" for c in r.missed]
    out += [f"  extra  {c.direction:<3} at {c.t:7.2f} s (track {c.ref})" for c in r.extra]
    return out


def run(args: argparse.Namespace) -> int:
    if not 0 < args.tolerance < math.inf:
        raise CliError(f"--tolerance {args.tolerance}: must be a number of seconds above 0")
    marks = read_marks(args.marks, args.line)  # a bad marks file fails before the analysis
    from app.count_audit import match_crossings

    with as_batch_job():
        counted, clip_s = count_line(args)
    late = [m for m in marks if m.t > clip_s + args.tolerance]
    if late:
        print(
            f"note: {len(late)} mark(s) after the end of the clip ({clip_s:.1f} s), e.g. row "
            f"{late[0].ref} at {late[0].t:g} s",
            file=sys.stderr,
        )
    result = match_crossings(marks, counted, args.tolerance)
    if args.json:
        print(json.dumps(result_dict(result, args.line, len(marks), len(counted)), indent=2))
    else:
        print("\n".join(result_lines(result, args.line, len(marks), len(counted))))
    return 0
