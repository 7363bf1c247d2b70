"""Offline analysis of a clip: decode, detect and analyse in overlapping threads.

`analyze_clip` is a generator yielding (Frame, FrameResult) per analysed frame (the CLI
draws a progress bar from it; closing the generator early stops and joins its
threads). A decoder thread decodes frames ahead and applies the motion gate, inference
threads prepare the network input and run inference (one single-thread inference per
core side by side, `side_by_side`), and the caller's thread decodes their outputs and
tracks, so that everything besides inference overlaps it. Frames travel between them
in bursts (`_Flow`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detectors.base import Detector
from app.vision.pipeline import CameraPipeline, DetectorLike, FrameResult
from app.vision.video_io import Frame, VideoInfo, frame_selector, iter_video, probe_video

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
# the adaptive rate decides about a frame from the analysis of the frames up to this
# long before it (the analysis runs behind the decoder; a fixed lag keeps the decisions,
# and so the counts, the same whatever the threads' timing)
ADAPTIVE_LAG_S = 0.2
MAX_SIDE_BY_SIDE = 8  # inferences at once (each holds its own buffers)
# offline frames in flight (see _Flow): decoded ahead of inference, refilled in bursts,
# handed to the caller in batches
AHEAD = 16
REFILL_AT = 8
BATCH = 8


@dataclass(frozen=True)
class ClipPlan:
    """What will be analysed: the clip's own properties and the analysis rate."""

    path: Path
    info: VideoInfo
    fps: float  # analysed frames per second of video (the base rate when adaptive)
    every_frame: bool
    # the adaptive rate: every frame near a counting line, `fps` elsewhere (the pipeline
    # decides, `CameraPipeline.fast`)
    adaptive: bool = False

    @property
    def expected_frames(self) -> int:
        """How many frames will be analysed (from the declared frame count; with the
        adaptive rate at most this many)."""
        if self.every_frame or self.adaptive or self.fps >= self.info.fps:
            return self.info.frame_count
        return int(self.info.frame_count * self.fps / self.info.fps + 0.999)


@contextmanager
def as_batch_job() -> Iterator[None]:
    """While inside, tell the OS scheduler that this thread and the threads it starts run
    a batch job (Linux SCHED_BATCH; elsewhere nothing): a thread that wakes up (the
    decoder, the caller) then waits for the running inference's time slice instead of
    preempting it, and interactive programs on the machine keep their priority. On PETS
    with the gate off: 0.945 of the ceiling against 0.930 (median of 6 alternating
    rounds, docs/performance.md); the ceiling itself ran the same either way. The
    calling thread gets its policy back on the way out."""
    policy = getattr(os, "SCHED_BATCH", None)
    before: int | None = None
    if policy is not None and hasattr(os, "sched_setscheduler"):
        try:
            before = os.sched_getscheduler(0)
            os.sched_setscheduler(0, policy, os.sched_param(0))
        except OSError:  # not allowed here: the default policy is fine too
            log.debug("SCHED_BATCH refused; analysing with the default policy")
            before = None
    try:
        yield
    finally:
        if before is not None:
            try:
                os.sched_setscheduler(0, before, os.sched_param(0))
            except OSError:
                log.debug("could not restore the scheduling policy")


def offline_detector_config(cfg: DetectorConfig) -> DetectorConfig:
    """The detector settings for analysing a clip: unless the config fixes the thread
    count, one intra-op thread per inference, since `analyze_clip` runs one inference
    per core side by side (on 2 cores ~1.9x the frames per second of one inference at
    a time on 2 threads, ~1.35x even spin-waiting ones; bench/bench_analyze.py). The
    detections are the same."""
    if cfg.threads == 0:
        return cfg.model_copy(update={"threads": 1})
    return cfg


def side_by_side(detector: object, cpus: int | None = None) -> int:
    """How many inferences `analyze_clip` runs at once with this detector: one per core
    for an ONNX detector on the CPU with one intra-op thread, else one."""
    session = getattr(detector, "session", None)
    if session is None or getattr(detector, "provider", "") != CPU:
        return 1
    if session.get_session_options().intra_op_num_threads != 1:
        return 1
    return max(1, min(MAX_SIDE_BY_SIDE, cpus or os.cpu_count() or 1))


def plan_clip(
    path: str | Path, fps: float | None, every_frame: bool, adaptive: bool = False
) -> ClipPlan:
    """Probe the clip (raises `VideoError`) and settle the analysis rate: `fps`, or with
    `adaptive` `fps` as the base rate and every frame while someone is near a line."""
    info = probe_video(path)
    if every_frame or fps is None or fps >= info.fps:
        return ClipPlan(Path(path), info, info.fps, True)
    return ClipPlan(Path(path), info, float(fps), False, adaptive)


@dataclass(frozen=True, eq=False)
class _Work:
    """A frame on its way through the threads: `detect` is False when the motion gate
    skips it; `prepared` and `raw` are the detector's input and output once inferred."""

    frame: Frame
    detect: bool = False
    prepared: Any = None
    raw: Any = None
    ms: float = 0.0  # time spent in the detector's stages for this frame


def open_clip(
    plan: ClipPlan, start_ts: float | None = None, until_s: float | None = None
) -> Iterator[Frame]:
    """The frames `analyze_clip` analyses, with the clip opened and its first frame
    decoded now (raises `VideoError` now): opening (~7 ms) and the decoder's first
    frame (~5 ms) would otherwise keep the inference threads waiting at the start of the
    analysis. Close the iterator (or exhaust it) to release the clip."""
    frames = _frames(plan, start_ts, until_s)
    try:
        first = next(frames)
    except StopIteration:
        return iter(())
    return _starting_with(first, frames)


def _starting_with(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    try:
        yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _frames(plan: ClipPlan, start_ts: float | None, until_s: float | None) -> Iterator[Frame]:
    fps = None if plan.every_frame or plan.adaptive else plan.fps
    frames = iter_video(plan.path, fps=fps, start_ts=start_ts)
    try:
        for frame in frames:
            if until_s is not None and frame.t > until_s:
                return
            yield frame
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


class _Whole(Detector):
    """A detector-like object with only `detect`: all its work happens in `infer`."""

    def __init__(self, inner: DetectorLike) -> None:
        self.inner = inner

    def detect(self, frame: np.ndarray) -> Detections:
        return self.inner.detect(frame)


def _staged(detector: DetectorLike | None) -> Detector | None:
    if detector is None or isinstance(detector, Detector):
        return detector
    return _Whole(detector)


# the adaptive rate's verdict on a frame: analyse it?, and (asked only when the motion
# gate would skip it) must it be detected anyway?
Selected = tuple[bool, Callable[[], bool]]


def _gated(
    pipeline: CameraPipeline,
    detector: Detector | None,
    frames: Iterable[Frame],
    select: Callable[[Frame], Selected] | None = None,
) -> Iterator[_Work]:
    """Decoder thread: `select` (the adaptive rate) says which frames are analysed and
    which must be detected whatever the motion gate says (someone walking), the motion
    gate which of the others need detection."""
    for frame in frames:
        force: Callable[[], bool] | bool = False
        if select is not None:
            wanted, force = select(frame)
            if not wanted:
                continue
        detect = detector is not None and pipeline.needs_detection(frame, force)
        yield _Work(frame, detect)


def _inferred(detector: Detector, item: _Work) -> _Work:
    """Inference thread: the detector's input preparation, then inference, in one
    thread as `detect` runs them (the network input is still in this core's cache)."""
    t0 = time.perf_counter()
    prepared = detector.prepare(item.frame.image)
    raw = detector.infer(prepared)
    return _Work(item.frame, True, prepared, raw, (time.perf_counter() - t0) * 1000.0)


def _finish(pipeline: CameraPipeline, detector: Detector | None, item: _Work) -> FrameResult:
    """Caller's thread: the detector's output decoding, then tracking and analysis."""
    if not item.detect or detector is None:
        return pipeline.consume(item.frame, None)
    t0 = time.perf_counter()
    dets = detector.finish(item.raw, item.prepared)
    ms = item.ms + (time.perf_counter() - t0) * 1000.0
    return pipeline.consume(item.frame, dets, ms)


class _Flow:
    """Frames in flight between the decoder thread, the inference threads and the
    caller, numbered to keep their order.

    Each thread works in bursts rather than a frame at a time: the decoder fills the
    queue to `AHEAD` frames and then sleeps until the inference threads have taken it
    down to `REFILL_AT`; the caller sleeps until `BATCH` results are ready in order.
    With both cores busy inferring, every wake-up of another thread interrupts an
    inference; waking once per burst, not once per frame, costs fewer interruptions
    and finds caches warm (bench/bench_analyze.py)."""

    def __init__(self, workers: int = 1) -> None:
        self._workers = workers  # inference threads
        lock = threading.Lock()
        self._space = threading.Condition(lock)  # the decoder waits for room
        self._todo_ready = threading.Condition(lock)  # inference threads wait for work
        self._done_ready = threading.Condition(lock)  # the caller waits for results
        self._todo: deque[tuple[int, _Work]] = deque()  # decoded, to detect
        self._done: dict[int, _Work | BaseException] = {}  # ready for the caller
        self._numbered = 0  # frames numbered so far by the decoder
        self._taken = 0  # the number of the next frame for the caller
        self._ended = False  # the decoder has numbered its last frame
        self._stopped = False
        # the adaptive rate (`select`): frames sent for analysis (index, in order), the
        # last frame the caller finished and each finished frame's `hot_until`
        self._sent: deque[int] = deque()
        self._finished = -1
        self._hot: dict[int, tuple[float, float]] = {}  # (hot_until, moving_until)
        self._decoder_waits = False

    def adaptive(self, pipeline: CameraPipeline, plan: ClipPlan) -> Callable[[Frame], Selected]:
        """The decoder's `select` for the adaptive rate. A frame is analysed when it is
        on the base rate's grid, or when the pipeline, as of the last analysed frame at
        least `ADAPTIVE_LAG_S` before it, wanted the full rate (someone near a line). It
        is detected whatever the motion gate says when, as of that frame, someone was
        walking or near a line (`NearLines.busy`; asked only when the gate would skip
        it). The decoder waits for that frame's analysis if it is not done yet."""
        base = frame_selector(plan.info.fps, plan.fps)
        top = pipeline.near.cfg.max_fps
        fast = frame_selector(plan.info.fps, top if top > 0 else None)
        lag = max(1, round(ADAPTIVE_LAG_S * plan.info.fps))
        start: tuple[float, float] = (math.inf, math.inf)

        def select(frame: Frame) -> Selected:
            on_grid, on_fast = next(base), next(fast)
            sent = self._sent
            while len(sent) > 1 and sent[1] <= frame.index - lag:
                sent.popleft()
            known = sent[0] if sent and sent[0] <= frame.index - lag else None

            def state() -> tuple[float, float]:
                # nothing analysed long enough before (the clip's first ADAPTIVE_LAG_S):
                # fast, someone may be crossing already
                return start if known is None else self._hot_after(known)

            wanted = on_grid or (on_fast and frame.t <= state()[0])
            if wanted:
                sent.append(frame.index)
            return wanted, lambda: frame.t <= max(state())

        return select

    def _hot_after(self, index: int) -> tuple[float, float]:
        """(decoder thread) The pipeline's `hot_until` and `moving_until` once frame
        `index` is analysed."""
        with self._space:
            if self._finished < index:
                self._decoder_waits = True
                if self._caller_may_go():
                    self._done_ready.notify()
                self._space.wait_for(lambda: self._finished >= index or self._stopped)
                self._decoder_waits = False
            for k in [k for k in self._hot if k < index]:
                del self._hot[k]
            return self._hot.get(index, (-math.inf, -math.inf))

    def finished(self, index: int, hot_until: float, moving_until: float) -> None:
        """Caller: frame `index` is analysed (the adaptive rate waits for this)."""
        with self._space:
            self._finished = index
            self._hot[index] = (hot_until, moving_until)
            if self._decoder_waits:
                self._space.notify_all()

    def decode(self, works: Iterator[_Work], frames: Iterator[Frame]) -> None:
        """Decoder thread: number the decoded frames and queue them for detection
        (frames the motion gate skips go straight to the caller)."""
        try:
            for work in works:
                with self._space:
                    if len(self._todo) >= AHEAD:
                        self._space.wait_for(lambda: len(self._todo) <= REFILL_AT or self._stopped)
                    if self._stopped:
                        return
                    self._add(work)
        except BaseException as exc:  # raised in the caller's thread, in its place
            with self._space:
                self._add(exc)
        finally:
            for it in (works, frames):  # e.g. releases a video capture at once
                close = getattr(it, "close", None)
                if close is not None:
                    close()
            with self._space:
                self._ended = True
                self._todo_ready.notify_all()
                if self._caller_may_go():
                    self._done_ready.notify()

    def _add(self, item: _Work | BaseException) -> None:
        """(lock held) Number `item`, queue it for inference or hand it on."""
        seq, self._numbered = self._numbered, self._numbered + 1
        if isinstance(item, _Work) and item.detect:
            self._todo.append((seq, item))
            self._todo_ready.notify()
        else:
            self._put_done(seq, item)

    def _put_done(self, seq: int, item: _Work | BaseException) -> None:
        """(lock held)"""
        self._done[seq] = item
        if self._caller_may_go():
            self._done_ready.notify()

    def _ready(self) -> int:
        """(lock held) How many results are ready in order for the caller."""
        n = 0
        while self._taken + n in self._done:
            n += 1
        return n

    def _caller_may_go(self) -> bool:
        """(lock held) A batch is ready, or all that is left of the clip, or, once the
        last frames are inferring, whatever is ready: the caller's work on it then
        overlaps them instead of waiting for the last one."""
        ready = self._ready()
        if self._decoder_waits and ready > 0:
            return True  # the adaptive rate waits for these results
        if ready >= BATCH or not self._ended:
            return ready >= BATCH
        pending = self._numbered - self._taken - ready
        return pending == 0 or (ready > 0 and pending <= self._workers)

    def infer(self, detector: Detector) -> None:
        """Inference thread: take the next frame to detect, prepare its network input,
        run inference, hand it on."""
        while True:
            with self._todo_ready:
                self._todo_ready.wait_for(lambda: self._todo or self._ended or self._stopped)
                if self._stopped or not self._todo:
                    return
                seq, work = self._todo.popleft()
                if len(self._todo) == REFILL_AT:
                    self._space.notify()
            result: _Work | BaseException
            try:
                result = _inferred(detector, work)
            except BaseException as exc:  # raised in the caller's thread, in its place
                result = exc
            with self._done_ready:
                self._put_done(seq, result)

    def take(self) -> list[_Work | BaseException]:
        """Caller: the next results in order, at least `BATCH` of them unless the clip's
        last frames are inferring; [] at the end."""
        with self._done_ready:
            self._done_ready.wait_for(lambda: self._caller_may_go() or self._stopped)
            n = self._ready()
            items = [self._done.pop(self._taken + i) for i in range(n)]
            self._taken += n
            return items

    def stop(self) -> None:
        with self._space:
            self._stopped = True
            self._space.notify_all()
            self._todo_ready.notify_all()
            self._done_ready.notify_all()


def analyze_clip(
    pipeline: CameraPipeline,
    plan: ClipPlan,
    start_ts: float | None = None,
    until_s: float | None = None,
    at_once: int | None = None,
    frames: Iterator[Frame] | None = None,
) -> Generator[tuple[Frame, FrameResult], None, None]:
    """Run `pipeline` over the clip; yields each frame with its result. Call
    `pipeline.flush()` afterwards to close the visits still open at the end. `until_s`
    stops after that many seconds of video. `at_once`: inferences run side by side
    (default: `side_by_side(pipeline.detector)`). `frames`: the clip already opened
    (`open_clip`, whose `start_ts` and `until_s` then apply); it is closed at the end.

    The work overlaps in three places: a decoder thread (decoding, motion gate),
    `at_once` inference threads (the detector's input preparation and inference, one per
    core with `offline_detector_config`'s single-thread sessions), and the caller's
    thread (decoding the detector's output, tracking, zones, lines, whatever the caller
    does with the results). Each frame is decoded once and detected
    at most once, with the same detections as `detector.detect(frame.image)`."""
    staged = _staged(pipeline.detector)
    n = side_by_side(pipeline.detector) if at_once is None else at_once
    inferring = max(1, n) if staged is not None else 0
    flow = _Flow(inferring)
    if frames is None:
        frames = _frames(plan, start_ts, until_s)
    # the adaptive rate (and, every frame, its override of the motion gate), unless the
    # config turned it off; a fixed rate (`--fixed-rate`) analyses as before
    adapt = (plan.adaptive or plan.every_frame) and pipeline.near.cfg.enabled
    select = flow.adaptive(pipeline, plan) if adapt else None
    works = _gated(pipeline, staged, frames, select)
    threads = [threading.Thread(target=flow.decode, args=(works, frames), name="clip-decoder")]
    if staged is not None:
        threads += [
            threading.Thread(target=flow.infer, args=(staged,), name=f"clip-infer-{i}")
            for i in range(inferring)
        ]
    for t in threads:
        t.daemon = True
        t.start()
    try:
        while items := flow.take():
            for item in items:
                if isinstance(item, BaseException):
                    raise item
                result = _finish(pipeline, staged, item)
                if select is not None:
                    near = pipeline.near
                    flow.finished(item.frame.index, near.hot_until, near.moving_until)
                yield item.frame, result
    finally:  # also when the consumer stops early: every thread stops and is joined
        flow.stop()
        for t in threads:
            t.join(timeout=10)
