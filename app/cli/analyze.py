"""`python main.py analyze VIDEO --config FILE`: the real pipeline on a clip, headless.

Outputs (all optional): `--out` events as JSON lines, `--tracks` MOTChallenge tracks
(frames 1-based), `--annotate` an mp4 with boxes, ids, zones, lines and counts,
`--store` events persisted through the store writer (and the clip's heatmap per hour,
with a reference view of a camera that has none: app/cli/analyze_heat.py). Analysis
rate: adaptive by default (every frame while someone is near a counting line or heading
for one, analysis.fps from the config elsewhere: 5 frames per second of video;
`app.vision.adaptive`),
`--fps N` to change that base rate, `--fixed-rate` to analyse at the base rate only,
`--every-frame` to analyse every source frame.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from app.cli.analyze_heat import HeatKeeper
from app.config import AppConfig, ConfigError, LineConfig, ZoneConfig, load_config
from app.errors import CliError
from app.events import Event, EventBus, event_to_dict
from app.vision.annotate import annotate
from app.vision.camera_net import redact
from app.vision.detections import Detections
from app.vision.offline import (
    ClipPlan,
    analyze_clip,
    as_batch_job,
    offline_detector_config,
    open_clip,
    plan_clip,
)
from app.vision.pipeline import CameraPipeline, FrameResult
from app.vision.video_io import Frame, VideoError, probe_video

log = logging.getLogger(__name__)

CLIP_CAMERA = "clip"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file to analyse")
    p.add_argument("--config", type=Path, required=True, help="TOML or JSON with lines/zones")
    p.add_argument("--out", type=Path, help="write events as JSON lines to this file (- : stdout)")
    p.add_argument("--tracks", type=Path, help="write tracks in MOTChallenge format (- : stdout)")
    p.add_argument("--annotate", type=Path, help="write an annotated mp4 to this file")
    p.add_argument("--store", type=Path, help="persist events into this (encrypted) store")
    p.add_argument("--camera", help="which configured camera the clip stands for")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument(
        "--fps", type=float, help="analysed frames per second of video (default: analysis.fps)"
    )
    rate.add_argument("--every-frame", action="store_true", help="analyse every frame")
    p.add_argument(
        "--fixed-rate",
        action="store_true",
        help="analyse at the base rate only (default: every frame while someone is near a line)",
    )
    p.add_argument(
        "--duration", type=float, help="analyse only the first DURATION seconds of the clip"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def clip_config(cfg: AppConfig, video: Path, camera: str | None) -> tuple[AppConfig, str]:
    """The config with the clip as its camera. A config without cameras gets the clip as
    one, named after the camera its lines and zones name (if they all name the same
    one), else "clip"."""
    if not cfg.cameras:
        shapes: list[ZoneConfig | LineConfig] = [*cfg.zones, *cfg.lines]
        named = {shape.camera for shape in shapes if shape.camera}
        if camera:
            raise CliError(f"--camera {camera}: the config has no cameras")
        if len(named) > 1:
            raise CliError(
                f"the lines and zones name cameras {', '.join(sorted(named))} but the config "
                "has no cameras: add them under [[cameras]] and pick one with --camera"
            )
        name = named.pop() if named else CLIP_CAMERA
        data = cfg.model_dump()
        data["cameras"] = [{"name": name, "type": "file", "url": str(video)}]
        return AppConfig.model_validate(data), name
    names = [c.name for c in cfg.cameras]
    name = camera or names[0]
    if name not in names:
        raise CliError(f"--camera {name}: not in the config (cameras: {', '.join(names)})")
    return cfg, name


def build_detector(cfg: AppConfig) -> Any:
    from app.vision.detector import DetectorError, create_detector
    from app.vision.models import ModelError, ModelManager

    try:
        dcfg = offline_detector_config(cfg.analysis.detector)
        return create_detector(dcfg, ModelManager.from_config(cfg.models))
    except (ModelError, DetectorError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None


STDOUT = Path("-")


class Outputs:
    """The optional output files, their paths checked by `run` first (`_check_paths`: a
    bad path fails before analysis, and no output may be the clip or the config). Each
    file is written beside its final name (beside a symbolic link's target, which keeps
    the link) and moved into place only when the run succeeds, so a failed run (corrupt
    clip, full disk) leaves no partial or empty result behind. `-`, a device or a pipe (such as
    /dev/stdout) is written as it is. Write errors become one-line `CliError`s."""

    def __init__(self, args: argparse.Namespace, plan: ClipPlan, stack: ExitStack) -> None:
        if args.annotate is not None and args.annotate.suffix.lower() != ".mp4":
            raise CliError(f"--annotate {args.annotate}: the file name must end in .mp4")
        self._pending: list[tuple[Path, Path]] = []  # (partial, final)
        stack.callback(self._discard)
        self.events_path: Path | None = args.out
        self.tracks_path: Path | None = args.tracks
        self.events: IO[str] | None = self._open(args.out, stack)
        self.tracks: IO[str] | None = self._open(args.tracks, stack)
        self.to_stdout = any(_is_stdout(p) for p in (args.out, args.tracks) if p is not None)
        self.video: Any = None
        self._video_check: tuple[Path, Path] | None = None  # (partial, final) to read back
        if args.annotate:
            partial = self._partial(args.annotate)
            self.video = _video_writer(partial, args.annotate, plan)
            stack.callback(self.video.release)
            if partial != args.annotate:
                self._video_check = (partial, args.annotate)

    def _partial(self, final: Path) -> Path:
        """Where to write `final`: beside it (or beside the file a link points to),
        unless it is a stream (a device, a pipe, /dev/stdout), which is written as it
        is."""
        target = _written_file(final)
        if target is None:
            return final
        partial = target.with_name(f".{target.stem}.partial{target.suffix}")
        self._pending.append((partial, target))
        return partial

    def _open(self, path: Path | None, stack: ExitStack) -> IO[str] | None:
        if path is None:
            return None
        if path == STDOUT:
            return sys.stdout
        with _writing(path):
            return stack.enter_context(self._partial(path).open("w", encoding="utf-8"))

    def write_events(self, events: list[Event]) -> None:
        if self.events is not None and self.events_path is not None:
            with _writing(self.events_path):
                for ev in events:
                    self.events.write(json.dumps(_json_event(ev)) + "\n")

    def write_tracks(self, result: FrameResult) -> None:
        if self.tracks is None or self.tracks_path is None:
            return
        d: Detections = result.detections
        with _writing(self.tracks_path):
            for (x1, y1, x2, y2), tid, conf in zip(
                d.xyxy.tolist(), d.tracker_id.tolist(), d.confidence.tolist(), strict=True
            ):
                self.tracks.write(
                    f"{result.frame_index + 1},{tid},{x1:.2f},{y1:.2f},{x2 - x1:.2f},"
                    f"{y2 - y1:.2f},{conf:.4f},-1,-1,-1\n"
                )

    def commit(self) -> None:
        """The run succeeded: flush and close every file, check the video can be read
        back (its encoder does not report a full disk), then move each into place."""
        for f, path in ((self.events, self.events_path), (self.tracks, self.tracks_path)):
            if f is not None and path is not None:
                with _writing(path):
                    if f is sys.stdout:
                        f.flush()
                    else:
                        f.close()
        if self.video is not None:
            self.video.release()
            self._check_video()
        for partial, final in self._pending:
            with _writing(final):
                partial.replace(final)
        self._pending = []

    def _check_video(self) -> None:
        if self._video_check is None:
            return  # written to a stream: nothing to read back
        partial, final = self._video_check
        try:
            probe_video(partial)
        except VideoError:
            raise CliError(
                f"cannot write {final}: the video could not be finished (is the disk full?)"
            ) from None

    def _discard(self) -> None:
        for partial, _ in self._pending:
            partial.unlink(missing_ok=True)


def _json_event(event: Event) -> dict[str, Any]:
    """An event as a JSON line's dict: times and durations in seconds to the
    millisecond (a dwell of 4.2 s, not 4.199999999999999), wall-clock times as they are."""
    d = event_to_dict(event)
    return {
        k: round(v, 3) if isinstance(v, float) and not k.endswith("ts") else v for k, v in d.items()
    }


def _link_hops(path: Path) -> list[Path]:
    """`path` and each path its chain of symbolic links leads to (at most 40 hops)."""
    hops = [path]
    while hops[-1].is_symlink() and len(hops) <= 40:
        nxt = Path(os.readlink(hops[-1]))
        hops.append(nxt if nxt.is_absolute() else hops[-1].parent / nxt)
    return hops


def _written_file(path: Path) -> Path | None:
    """The plain file that writing `path` should replace (the link's target for a
    symbolic link), or None for a stream: `-`, a device, a pipe, anything under /dev
    or /proc (/dev/stdout leads through /proc/self/fd to whatever stdout is)."""
    if path == STDOUT:
        return None
    hops = _link_hops(path)
    if any(str(h.absolute()).startswith(("/dev/", "/proc/")) for h in hops):
        return None
    target = hops[-1]
    if target.exists() and not target.is_file():
        return None
    return target


def _is_stdout(path: Path) -> bool:
    """Whether writing `path` writes this process's standard output."""
    if path == STDOUT:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):
        return False


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OSError while writing `path` (full disk, I/O error) is a one-line CliError; a
    reader that went away (`| head`) ends the run quietly (app.cli.main)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _check_paths(paths: dict[str, Path], inputs: dict[str, Path] | None = None) -> None:
    """Each output a file name in an existing directory, no two the same file and none
    of them one of the `inputs` (the clip, the config)."""
    seen: dict[Path, str] = {}
    for opt, path in paths.items():
        if path == STDOUT:
            if opt in ("--annotate", "--store"):
                raise CliError(f"{opt} -: give a file name")
            if STDOUT in seen:
                raise CliError(f"{seen[STDOUT]} and {opt} both write to standard output")
            seen[STDOUT] = opt
            continue
        if path.is_dir():
            raise CliError(f"{opt} {path}: is a directory, give a file name")
        if not path.parent.is_dir():
            raise CliError(f"{opt} {path}: no such directory {path.parent}")
        for what, source in (inputs or {}).items():
            if _same_file(path, source):
                raise CliError(f"{opt} {path}: is the {what}; give another file name")
        key = path.resolve()
        if key in seen:
            raise CliError(f"{seen[key]} and {opt} are the same file ({path})")
        seen[key] = opt


def _video_writer(path: Path, final: Path, plan: ClipPlan) -> Any:
    import cv2

    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    size = (plan.info.width, plan.info.height)
    # the adaptive rate's frames come unevenly: the video runs at the source rate and
    # each analysed frame stands until the next (see `_run`)
    fps = plan.info.fps if plan.adaptive else plan.fps
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise CliError(f"cannot write {final}: the mp4 encoder did not open")
    return writer


def _annotated(frame: Frame, result: FrameResult, cfg: AppConfig, camera: str) -> np.ndarray:
    zones, lines = cfg.zones_of(camera), cfg.lines_of(camera)
    info = [f"frame {result.frame_index}  t={result.t:.1f}s  people {len(result.detections)}"]
    return annotate(
        frame.image, result.detections, zones, lines, result.occupancy, result.line_counts, info
    )


def summary_lines(
    pipeline: CameraPipeline,
    frames: int,
    wall_s: float,
    plan: ClipPlan | None = None,
    last_t: float | None = None,
) -> list[str]:
    out = [f"analysed {frames} frames in {wall_s:.1f} s ({frames / max(wall_s, 1e-9):.1f} fps)"]
    if plan is not None and plan.adaptive and last_t is not None:
        video_s = last_t + 1.0 / plan.info.fps
        out.append(
            f"adaptive rate: {frames / video_s:.1f} frames per second of video on average "
            f"(base {plan.fps:g}, source {plan.info.fps:g})"
        )
    for name, line in pipeline.lines.items():
        c = line.counts
        out.append(f"line {name}: in {c['in']}, out {c['out']}")
    for name in pipeline.zones:
        st = pipeline.analytics.dwell.get(name)
        visits = st.visits if st else 0
        if st and visits:
            out.append(f"zone {name}: {visits} visits, mean dwell {st.mean_s:.1f} s")
        else:
            out.append(f"zone {name}: no visits")
    return out


class _Bar(tqdm):
    monitor_interval = 0  # no tqdm monitor thread: every thread we cause is joined


def _progress(plan: ClipPlan, duration: float | None, quiet: bool) -> tqdm[Any]:
    total = plan.expected_frames
    rate = plan.info.fps if plan.adaptive else plan.fps  # the bar counts frames of video
    if duration is not None:
        total = min(total, int(duration * rate) + 1) if total else int(duration * rate) + 1
    return _Bar(
        total=total or None,
        unit="frame",
        desc="analyse",
        disable=quiet,
        file=sys.stderr,
        leave=False,
    )


def _load(args: argparse.Namespace) -> tuple[AppConfig, str, ClipPlan]:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise CliError(f"--fps {args.fps}: must be more than 0 and at most 1000")
    if args.duration is not None and not 0 < args.duration < math.inf:
        raise CliError(f"--duration {args.duration}: must be a number of seconds above 0")
    if "://" in args.video:
        raise CliError(
            f"{redact(args.video)}: analyze reads video files; watch a camera stream from "
            "the app or `main.py serve` (add it to the config's cameras)"
        )
    try:
        adaptive = cfg.analysis.adaptive.enabled and not args.fixed_rate
        plan = plan_clip(args.video, args.fps or cfg.analysis.fps, args.every_frame, adaptive)
    except VideoError as exc:
        raise CliError(str(exc)) from None
    cfg, camera = clip_config(cfg, plan.path, args.camera)
    own: list[ZoneConfig | LineConfig] = [*cfg.zones_of(camera), *cfg.lines_of(camera)]
    if not own:
        print(
            f"note: the config has no lines or zones for camera {camera}: nothing will be "
            "counted (tracks and the annotated video are still written)",
            file=sys.stderr,
        )
    w, h = plan.info.width, plan.info.height
    for shape in own:
        points = shape.polygon if isinstance(shape, ZoneConfig) else [shape.start, shape.end]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if max(xs) < 0 or min(xs) > w or max(ys) < 0 or min(ys) > h:
            kind = "zone" if isinstance(shape, ZoneConfig) else "line"
            print(
                f"note: {kind} {shape.name!r} lies outside the {w}x{h} picture "
                "(points are pixels of the clip): it will count nothing",
                file=sys.stderr,
            )
    return cfg, camera, plan


def _open_store(path: Path, bus: EventBus, stack: ExitStack) -> Any:
    from app.store.db import open_store
    from app.store.errors import StoreError

    try:
        store = open_store(path)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    stack.callback(store.close)
    store.attach(bus)
    return store


def _faces(cfg: AppConfig, store: Any, camera: str) -> Any:
    """Opt-in recognition (with a store to keep its gallery); None in anonymous mode,
    where no face model is loaded."""
    from app.recognition import pipeline_recogniser
    from app.vision.models import ModelMissing

    if store is None and cfg.store.privacy_mode != "anonymous":
        print(
            "note: recognition needs --store (the enrolled staff and the opt-out list live "
            "there): this run looks for no face",
            file=sys.stderr,
        )
    try:
        rec = pipeline_recogniser(cfg, store)
    except ModelMissing as exc:
        raise CliError(f"recognition needs its face models: {exc}") from None
    return rec.for_camera(camera) if rec is not None else None


def run(args: argparse.Namespace) -> int:
    with as_batch_job():  # before any thread starts: they inherit it
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    cfg, camera, plan = _load(args)
    detector = build_detector(cfg)
    bus = EventBus()
    frames = 0
    written = {
        "--out": args.out,
        "--tracks": args.tracks,
        "--annotate": args.annotate,
        "--store": args.store,
    }
    _check_paths(
        {k: v for k, v in written.items() if v is not None},
        {"clip": plan.path, "config": args.config},
    )
    with ExitStack() as stack:
        outputs = Outputs(args, plan, stack)
        store = _open_store(args.store, bus, stack) if args.store else None
        pipeline = CameraPipeline(
            camera, cfg, detector, bus, fps=plan.fps, faces=_faces(cfg, store, camera)
        )
        bar = stack.enter_context(_progress(plan, args.duration, args.no_progress))
        heat = HeatKeeper() if store is not None else None
        try:
            clip = open_clip(plan, until_s=args.duration)
            # the rate reported is the analysis's own: start-up (config, model load, the
            # pipeline's compiled kernels, ~0.2 s the first time, opening the clip) is
            # not in it
            t0 = time.perf_counter()
            shown = -1  # the progress bar counts frames of video (the rate may vary)
            for frame, result in analyze_clip(pipeline, plan, frames=clip):
                frames += 1
                last_t = frame.t
                step = frame.index - shown if plan.adaptive else 1
                shown = frame.index
                outputs.write_events(result.events)
                outputs.write_tracks(result)
                if heat is not None:
                    heat.see(frame.t, frame.image)
                if outputs.video is not None:
                    picture = _annotated(frame, result, cfg, camera)
                    for _ in range(step):
                        outputs.video.write(picture)
                bar.update(step)
        except VideoError as exc:
            hint = (
                f" (--duration {math.floor(last_t)} analyses the part before it)" if frames else ""
            )
            raise CliError(f"{exc}; nothing was written{hint}") from None
        outputs.write_events(pipeline.flush())
        if frames == 0:
            raise CliError(f"{plan.path}: no frames could be decoded")
        if heat is not None:
            heat.save(store, camera, pipeline, cfg.store.timezone)
        outputs.commit()
    summary = summary_lines(pipeline, frames, time.perf_counter() - t0, plan, last_t)
    print("\n".join(summary), file=sys.stderr if outputs.to_stdout else sys.stdout)
    return 0
