"""ONNX Runtime plumbing shared by the ONNX detectors: execution provider choice,
session options, warm-up, timing, the input trimmed to the picture (YOLOX) and the
optional batched session."""

from __future__ import annotations

import logging
import sys
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import onnxruntime as ort

from app.config import DetectorConfig
from app.vision import denoise
from app.vision.detections import Detections
from app.vision.detectors.base import Detector, DetectorError, as_bgr
from app.vision.detectors.batching import make_batch_dynamic
from app.vision.detectors.input_size import fix_size, make_size_dynamic, trimmed_size
from app.vision.detectors.preprocess import Letterbox, letterbox_blob, pixel_table

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
PROVIDERS = {"cpu": CPU, "cuda": "CUDAExecutionProvider", "coreml": "CoreMLExecutionProvider"}


def choose_providers(
    requested: str, available: list[str], platform: str = sys.platform
) -> list[str]:
    """Providers to ask ONNX Runtime for, best first. `auto`: CoreML on macOS, then CUDA,
    then CPU. A forced provider that is not available is an error, not a silent fallback."""
    if requested != "auto":
        name = PROVIDERS.get(requested)
        if name is None:
            raise DetectorError(f"unknown execution provider {requested!r}")
        if name not in available:
            raise DetectorError(
                f"execution provider {requested!r} ({name}) is not available here "
                f"(available: {', '.join(available) or 'none'})"
            )
        return [name] if name == CPU else [name, CPU]
    chosen = []
    if platform == "darwin" and PROVIDERS["coreml"] in available:
        chosen.append(PROVIDERS["coreml"])
    if PROVIDERS["cuda"] in available:
        chosen.append(PROVIDERS["cuda"])
    chosen.append(CPU)
    return chosen


def open_session(
    model: str | bytes, providers: list[str], threads: int, *, spin: bool = False
) -> ort.InferenceSession:
    """An ORT session. Intra-op threads do not spin-wait by default: on a busy 2-core
    machine spinning doubled the CPU a frame costs (bench/bench_batching.py), CPU that
    the other cameras' decoding and inference need. Without spinning, though, a second
    intra-op thread hardly speeds up one inference (each operator waits for the
    sleeping thread to wake up): two single-thread inferences side by side use the
    cores better (what `analyze` does; bench/bench_analyze.py)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if threads:
        opts.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(model, opts, providers=providers)
    except Exception as exc:  # ORT raises its own exception types for bad files
        what = model if isinstance(model, str) else "model"
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DetectorError(f"cannot load {what}: {msg}") from None


Layout = Literal["yolox", "ultralytics"]

# how to tell the user which `analysis.detector.type` a model's output layout fits
_LAYOUT_NAMES: dict[Layout, str] = {
    "yolox": "a YOLOX export ([1, anchors, 85]: anchors first, with objectness)",
    "ultralytics": "an Ultralytics YOLOv8/YOLO11 export ([1, 4 + classes, anchors])",
}


def guess_layout(shape: tuple[Any, ...]) -> Layout | None:
    """Which detector type a model's first output fits, from its shape alone. YOLOX:
    `[N, anchors, 85]` (4 box values, objectness, 80 COCO classes per anchor). Ultralytics
    YOLOv8/YOLO11: `[N, 4 + classes, anchors]`, channels first, and anchors outnumber
    channels (3549 or 8400 anchors against 84 channels). Dynamic dimensions (names or
    None) fit either side. None: neither layout."""
    if len(shape) != 3:
        return None
    rows, cols = shape[1], shape[2]
    rows_n = rows if isinstance(rows, int) else None
    cols_n = cols if isinstance(cols, int) else None
    if cols_n == 85 and (rows_n is None or rows_n > cols_n):
        return "yolox"
    if rows_n is not None and rows_n >= 5 and (cols_n is None or cols_n > rows_n):
        return "ultralytics"
    return None


def layout_hint(shape: tuple[Any, ...], kind: str) -> str:
    """What to set when a model's output fits another detector type than `kind` (a phrase
    to append to a DetectorError message), else ""."""
    other = guess_layout(shape)
    if other is None or other == kind:
        return ""
    return f': it looks like {_LAYOUT_NAMES[other]}, set analysis.detector.type = "{other}"'


@dataclass(frozen=True, eq=False)
class Prepared:
    """One frame made ready for inference (`OnnxDetector.prepare`)."""

    blob: np.ndarray  # 1 x 3 x H x W float32 network input (H x W: `net_hw`)
    lb: Letterbox  # where the frame sits in it
    shape: tuple[int, ...]  # the frame's shape


class OnnxDetector(Detector):
    """An ONNX Runtime detector: subclasses say how to letterbox and how to decode."""

    kind = "onnx"
    rgb = False  # channel order of the network input
    scale = 1.0  # pixel scale of the network input
    centered = False  # letterbox: top-left corner (YOLOX) or centred (Ultralytics)
    # > 0: infer on the letterboxed picture only, its padding cut down to this multiple
    # (`net_hw`; a fully convolutional graph decoded outside the graph, top-left
    # letterbox, see input_size.py); 0: always the model's full input
    trim_multiple = 0

    def __init__(self, cfg: DetectorConfig, model_path: Path) -> None:
        self.cfg = cfg
        self.model_path = Path(model_path)
        self.name = f"{self.kind}:{self.model_path.stem}"
        providers = choose_providers(cfg.provider, ort.get_available_providers())
        self.session = open_session(str(self.model_path), providers, cfg.threads)
        self.provider = self.session.get_providers()[0]
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.input_hw = self._input_hw(inp.shape)  # the model's own input size
        self._table = pixel_table(self.rgb, self.scale)
        self._check_outputs([tuple(o.shape) for o in self.session.get_outputs()])
        self._net_sizes: dict[tuple[int, int], tuple[int, int]] = {}
        # with `trimmed`: one session per network input size, the graph fixed at that size
        self._providers = providers
        self._fixed: dict[tuple[int, int], Any] = {}
        self._fixed_lock = threading.Lock()
        self._sized: onnx.ModelProto | None = self._trimmed_graph(inp.shape, providers)
        self.trimmed = self._sized is not None
        self.batch_session = self._batch_session(inp.shape, providers) if cfg.batch else None
        self.batched = self.batch_session is not None
        self._warm_up()
        log.info("%s on %s (batched=%s)", self.name, self.provider, self.batched)

    # what subclasses provide
    @abstractmethod
    def decode(self, out: np.ndarray, lb: Letterbox, frame_shape: tuple[int, ...]) -> Detections:
        """One image's raw output -> person Detections in frame pixels."""

    def check_outputs(self, shapes: list[tuple[Any, ...]]) -> None:
        """Refuse a model whose outputs this detector cannot decode (DetectorError)."""

    def default_input_hw(self) -> tuple[int, int]:
        return (640, 640)

    def expected_anchors(self, input_hw: tuple[int, int]) -> int | None:
        """How many output rows an input of this size gives (None: unknown, and the
        input is never trimmed)."""
        return None

    # shared machinery
    def _check_outputs(self, shapes: list[tuple[Any, ...]]) -> None:
        """`check_outputs`, its refusal completed with the detector type the outputs fit."""
        try:
            self.check_outputs(shapes)
        except DetectorError as exc:
            hint = layout_hint(shapes[0], self.kind) if shapes else ""
            raise DetectorError(f"{exc}{hint}") from None

    def _input_hw(self, shape: list[Any]) -> tuple[int, int]:
        if len(shape) != 4:
            raise DetectorError(f"{self.model_path.name}: expected a 4-D image input, got {shape}")
        h, w = shape[2], shape[3]
        if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
            return (h, w)
        return self.default_input_hw()

    def net_hw(self, frame_shape: tuple[int, ...]) -> tuple[int, int]:
        """The network input size for frames of this shape (h, w, ...): the model's own,
        or with `trimmed` the letterboxed picture's extent (320x416 for 4:3 in 416x416)."""
        if not self.trimmed:
            return self.input_hw
        frame_hw = (int(frame_shape[0]), int(frame_shape[1]))
        hw = self._net_sizes.get(frame_hw)
        if hw is None:
            hw = trimmed_size(frame_hw, self.input_hw, self.trim_multiple)
            self._net_sizes[frame_hw] = hw
        return hw

    def _trimmed_graph(self, shape: list[Any], providers: list[str]) -> onnx.ModelProto | None:
        """With `cfg.trim_input` and `trim_multiple`: the size-dynamic edit of a fixed-size
        model, its session in `self.session`, once it ran on a shorter input and gave the
        anchors expected; None (the model's full input, with a warning when the edit
        failed) otherwise."""
        h, w = shape[2], shape[3]
        if not (self.cfg.trim_input and self.trim_multiple) or self.centered:
            return None
        if not isinstance(h, int) or not isinstance(w, int) or h <= self.trim_multiple:
            return None
        short = (h - self.trim_multiple, w)
        try:
            model = make_size_dynamic(onnx.load(str(self.model_path)))
            session = open_session(model.SerializeToString(), providers, self.cfg.threads)
            blob = np.full((1, 3, *short), 114.0, np.float32)
            got = np.asarray(session.run(None, {self.input_name: blob})[0]).shape
        except Exception as exc:  # an edited graph that does not load or run
            log.warning("%s: full-size input only: %s", self.model_path.name, exc)
            return None
        if len(got) != 3 or got[1] != self.expected_anchors(short):
            name = self.model_path.name
            log.warning("%s: full-size input only (output %s at %s)", name, got, short)
            return None
        self.session = session
        return model

    def _batch_session(self, shape: list[Any], providers: list[str]) -> Any:
        if not isinstance(shape[0], int):
            return self.session  # already dynamic
        try:
            base = self._sized if self._sized is not None else onnx.load(str(self.model_path))
            model, _ = make_batch_dynamic(base)
            return open_session(model.SerializeToString(), providers, self.cfg.threads)
        except (ValueError, DetectorError, onnx.checker.ValidationError) as exc:
            log.warning("batching disabled for %s: %s", self.model_path.name, exc)
            return None

    def _warm_up(self) -> None:
        blank = self.prepare(np.full((*self.input_hw, 3), 114, np.uint8))
        self._run(self.session, [blank])
        if self.batch_session is not None:
            try:
                self._run(self.batch_session, [blank, blank])
            except Exception as exc:  # an edited graph that still fails at run time
                log.warning("batching disabled for %s: %s", self.model_path.name, exc)
                self.batch_session, self.batched = None, False
                return
            # the batch-dynamic graph is as fast at batch 1 (bench/bench_batching.py):
            # one session serves both paths
            self.session = self.batch_session

    def _run(self, session: Any, prepared: list[Prepared]) -> np.ndarray:
        if len(prepared) == 1:
            blob = prepared[0].blob
        else:
            blob = np.concatenate([p.blob for p in prepared])
        return np.asarray(session.run(None, {self.input_name: blob})[0])

    def prepare(self, frame: np.ndarray) -> Prepared:
        """Letterbox, channel order, scale and NCHW float32 in one pass (no inference);
        a grainy picture is smoothed first (`app.vision.denoise`)."""
        frame = denoise.for_detection(as_bgr(frame), self.cfg.denoise, self.cfg.noise_sigma)
        blob, lb = letterbox_blob(
            frame,
            self.input_hw,
            centered=self.centered,
            rgb=self.rgb,
            table=self._table,
            canvas=self.net_hw(frame.shape[:2]),
        )
        return Prepared(blob, lb, frame.shape)

    def infer(self, prepared: Prepared) -> np.ndarray:
        """The raw network output for one prepared frame (batch of 1)."""
        return self._run(self._session_for(prepared.blob.shape[2:]), [prepared])

    def _session_for(self, hw: tuple[int, ...]) -> Any:
        """The session for one network input size: with `trimmed`, a session of the graph
        fixed at that size (made once per size; the size-dynamic one if that fails)."""
        if self._sized is None or self.batched:
            return self.session
        key = (int(hw[0]), int(hw[1]))
        session = self._fixed.get(key)
        if session is not None:
            return session
        with self._fixed_lock:
            session = self._fixed.get(key)
            if session is None:
                anchors = self.expected_anchors(key)
                try:
                    if anchors is None:
                        raise ValueError("unknown output size")
                    model = fix_size(self._sized, key, anchors)
                    session = open_session(
                        model.SerializeToString(), self._providers, self.cfg.threads
                    )
                except Exception as exc:  # keep the size-dynamic session
                    log.warning("%s: no fixed-size graph at %s: %s", self.name, key, exc)
                    session = self.session
                self._fixed[key] = session
        return session

    def finish(self, raw: np.ndarray, prepared: Prepared) -> Detections:
        return self.decode(raw[0], prepared.lb, prepared.shape)

    def detect(self, frame: np.ndarray) -> Detections:
        t0 = time.perf_counter()
        prepared = self.prepare(frame)
        det = self.finish(self.infer(prepared), prepared)
        self.last_ms = (time.perf_counter() - t0) * 1000
        return det

    def detect_batch(self, frames: list[np.ndarray]) -> list[Detections]:
        if self.batch_session is None or len(frames) < 2:
            return [self.detect(f) for f in frames]
        t0 = time.perf_counter()
        prepared = [self.prepare(f) for f in frames]
        found: list[Detections | None] = [None] * len(prepared)
        # one inference per network input size (cameras of different shapes)
        for size in dict.fromkeys(p.blob.shape for p in prepared):
            idx = [i for i, p in enumerate(prepared) if p.blob.shape == size]
            out = self._run(self.batch_session, [prepared[i] for i in idx])
            for k, i in enumerate(idx):
                found[i] = self.decode(out[k], prepared[i].lb, prepared[i].shape)
        dets = [d for d in found if d is not None]
        self.last_ms = (time.perf_counter() - t0) * 1000 / len(frames)
        return dets

    def close(self) -> None:
        self.session = None
        self._fixed.clear()
        self.batch_session = None
