"""`python main.py analyze VIDEO --config FILE`: the real pipeline on a clip, headless.

Outputs (all optional): `--out` events as JSON lines, `--tracks` MOTChallenge tracks
(frames 1-based), `--annotate` an mp4 with boxes, ids, zones, lines and counts,
`--store` events persisted through the store writer. Analysis rate: analysis.fps from
the config (default 5 frames per second of video), `--fps N` to override it,
`--every-frame` to analyse every source frame (for evaluation).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from app.cli.main import CliError
from app.config import AppConfig, ConfigError, LineConfig, ZoneConfig, load_config
from app.events import Event, EventBus, event_to_dict
from app.vision.annotate import annotate
from app.vision.detections import Detections
from app.vision.offline import ClipPlan, analyze_clip, offline_detector_config, plan_clip
from app.vision.pipeline import CameraPipeline, FrameResult
from app.vision.video_io import Frame, VideoError

log = logging.getLogger(__name__)

CLIP_CAMERA = "clip"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, help="video file to analyse")
    p.add_argument("--config", type=Path, required=True, help="TOML or JSON with lines/zones")
    p.add_argument("--out", type=Path, help="write events as JSON lines to this file")
    p.add_argument("--tracks", type=Path, help="write tracks in MOTChallenge format")
    p.add_argument("--annotate", type=Path, help="write an annotated mp4 to this file")
    p.add_argument("--store", type=Path, help="persist events into this (encrypted) store")
    p.add_argument("--camera", help="which configured camera the clip stands for")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument(
        "--fps", type=float, help="analysed frames per second of video (default: analysis.fps)"
    )
    rate.add_argument("--every-frame", action="store_true", help="analyse every frame")
    p.add_argument(
        "--duration", type=float, help="analyse only the first DURATION seconds of the clip"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def clip_config(cfg: AppConfig, video: Path, camera: str | None) -> tuple[AppConfig, str]:
    """The config with the clip as its camera (added as "clip" if none is configured)."""
    if not cfg.cameras:
        if camera:
            raise CliError(f"--camera {camera}: the config has no cameras")
        data = cfg.model_dump()
        data["cameras"] = [{"name": CLIP_CAMERA, "type": "file", "url": str(video)}]
        return AppConfig.model_validate(data), CLIP_CAMERA
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


class Outputs:
    """The optional output files. Paths are checked up front (a bad path fails before
    analysis); each file is written beside its final name and moved into place only
    when the run succeeds, so a failed run (corrupt clip, full disk) leaves no partial
    or empty result behind. Write errors become one-line `CliError`s."""

    def __init__(self, args: argparse.Namespace, plan: ClipPlan, stack: ExitStack) -> None:
        wanted = {"--out": args.out, "--tracks": args.tracks, "--annotate": args.annotate}
        _check_paths({k: v for k, v in wanted.items() if v is not None})
        if args.annotate is not None and args.annotate.suffix.lower() != ".mp4":
            raise CliError(f"--annotate {args.annotate}: the file name must end in .mp4")
        self._pending: list[tuple[Path, Path]] = []  # (partial, final)
        stack.callback(self._discard)
        self.events_path: Path | None = args.out
        self.tracks_path: Path | None = args.tracks
        self.events: IO[str] | None = self._open(args.out, stack)
        self.tracks: IO[str] | None = self._open(args.tracks, stack)
        self.video: Any = None
        if args.annotate:
            partial = self._partial(args.annotate)
            self.video = _video_writer(partial, args.annotate, plan)
            stack.callback(self.video.release)

    def _partial(self, final: Path) -> Path:
        """Where to write `final`: beside it, unless it is not a plain file (a device
        such as /dev/stdout, a pipe), which is written as it is."""
        if final.exists() and not final.is_file():
            return final
        partial = final.with_name(f".{final.stem}.partial{final.suffix}")
        self._pending.append((partial, final))
        return partial

    def _open(self, path: Path | None, stack: ExitStack) -> IO[str] | None:
        if path is None:
            return None
        with _writing(path):
            return stack.enter_context(self._partial(path).open("w", encoding="utf-8"))

    def write_events(self, events: list[Event]) -> None:
        if self.events is not None and self.events_path is not None:
            with _writing(self.events_path):
                for ev in events:
                    self.events.write(json.dumps(event_to_dict(ev)) + "\n")

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
        """The run succeeded: flush and close every file, then move each into place."""
        for f, path in ((self.events, self.events_path), (self.tracks, self.tracks_path)):
            if f is not None and path is not None:
                with _writing(path):
                    f.close()
        if self.video is not None:
            self.video.release()
        for partial, final in self._pending:
            with _writing(final):
                partial.replace(final)
        self._pending = []

    def _discard(self) -> None:
        for partial, _ in self._pending:
            partial.unlink(missing_ok=True)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OSError while writing `path` (full disk, I/O error) is a one-line CliError."""
    try:
        yield
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def _check_paths(paths: dict[str, Path]) -> None:
    """Each output a file name in an existing directory, no two the same file."""
    seen: dict[Path, str] = {}
    for opt, path in paths.items():
        if path.is_dir():
            raise CliError(f"{opt} {path}: is a directory, give a file name")
        if not path.parent.is_dir():
            raise CliError(f"{opt} {path}: no such directory {path.parent}")
        key = path.resolve()
        if key in seen:
            raise CliError(f"{seen[key]} and {opt} are the same file ({path})")
        seen[key] = opt


def _video_writer(path: Path, final: Path, plan: ClipPlan) -> Any:
    import cv2

    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    size = (plan.info.width, plan.info.height)
    writer = cv2.VideoWriter(str(path), fourcc, plan.fps, size)
    if not writer.isOpened():
        raise CliError(f"cannot write {final}: the mp4 encoder did not open")
    return writer


def _annotated(frame: Frame, result: FrameResult, cfg: AppConfig, camera: str) -> np.ndarray:
    zones = [z for z in cfg.zones if cfg.camera_of(z.camera) == camera]
    lines = [ln for ln in cfg.lines if cfg.camera_of(ln.camera) == camera]
    info = [f"frame {result.frame_index}  t={result.t:.1f}s  people {len(result.detections)}"]
    return annotate(
        frame.image, result.detections, zones, lines, result.occupancy, result.line_counts, info
    )


def summary_lines(pipeline: CameraPipeline, frames: int, wall_s: float) -> list[str]:
    out = [f"analysed {frames} frames in {wall_s:.1f} s ({frames / max(wall_s, 1e-9):.1f} fps)"]
    for name, line in pipeline.lines.items():
        c = line.counts
        out.append(f"line {name}: in {c['in']}, out {c['out']}")
    for name in pipeline.zones:
        st = pipeline.analytics.dwell.get(name)
        visits = st.visits if st else 0
        mean = st.mean_s if st else 0.0
        out.append(f"zone {name}: {visits} visits, mean dwell {mean:.1f} s")
    return out


class _Bar(tqdm):
    monitor_interval = 0  # no tqdm monitor thread: every thread we cause is joined


def _progress(plan: ClipPlan, duration: float | None, quiet: bool) -> tqdm[Any]:
    total = plan.expected_frames
    if duration is not None:
        total = min(total, int(duration * plan.fps) + 1) if total else int(duration * plan.fps) + 1
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
    if args.duration is not None and args.duration <= 0:
        raise CliError(f"--duration {args.duration}: must be more than 0 seconds")
    try:
        plan = plan_clip(args.video, args.fps or cfg.analysis.fps, args.every_frame)
    except VideoError as exc:
        raise CliError(str(exc)) from None
    cfg, camera = clip_config(cfg, args.video, args.camera)
    shapes: list[ZoneConfig | LineConfig] = [*cfg.zones, *cfg.lines]
    if not any(cfg.camera_of(shape.camera) == camera for shape in shapes):
        print(
            f"note: the config has no lines or zones for camera {camera}: nothing will be "
            "counted (tracks and the annotated video are still written)",
            file=sys.stderr,
        )
    return cfg, camera, plan


def _open_store(path: Path, bus: EventBus, stack: ExitStack) -> None:
    from app.store.db import open_store
    from app.store.errors import StoreError

    _check_paths({"--store": path})
    try:
        store = open_store(path)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    stack.callback(store.close)
    store.attach(bus)


def run(args: argparse.Namespace) -> int:
    cfg, camera, plan = _load(args)
    detector = build_detector(cfg)
    bus = EventBus()
    frames = 0
    t0 = time.perf_counter()
    with ExitStack() as stack:
        outputs = Outputs(args, plan, stack)
        if args.store:
            _open_store(args.store, bus, stack)
        pipeline = CameraPipeline(camera, cfg, detector, bus, fps=plan.fps)
        bar = stack.enter_context(_progress(plan, args.duration, args.no_progress))
        try:
            for frame, result in analyze_clip(pipeline, plan, until_s=args.duration):
                frames += 1
                outputs.write_events(result.events)
                outputs.write_tracks(result)
                if outputs.video is not None:
                    outputs.video.write(_annotated(frame, result, cfg, camera))
                bar.update(1)
        except VideoError as exc:
            raise CliError(str(exc)) from None
        outputs.write_events(pipeline.flush())
        if frames == 0:
            raise CliError(f"{args.video}: no frames could be decoded")
        outputs.commit()
    print("\n".join(summary_lines(pipeline, frames, time.perf_counter() - t0)))
    return 0
