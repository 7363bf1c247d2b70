"""Detectors: provider choice, the real YOLOX-Nano on real PETS and TUD frames, the
batch-dynamic graph edit, the Ultralytics decode through a real (tiny) ONNX graph, the
fake detector, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from app.cli.main import main as cli_main
from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detector import (
    Detector,
    DetectorError,
    FakeDetector,
    UltralyticsDetector,
    YoloxDetector,
    choose_providers,
    create_detector,
    detector_types,
)
from app.vision.detectors.batching import make_batch_dynamic
from app.vision.detectors.onnx_base import guess_layout
from app.vision.detectors.preprocess import (
    letterbox_blob,
    letterbox_center,
    letterbox_top_left,
    pixel_table,
    to_blob,
)
from app.vision.detectors.yolox import yolox_grid
from app.vision.models import ModelManager, ModelMissing
from app.vision.tracker import box_iou
from tests.conftest import MODELS_DIR, PETS_CLIP, TUD_DIR

YOLOX = MODELS_DIR / "yolox_nano.onnx"


def read_frames(path: Path, indices: set[int] | None = None) -> dict[int, np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out: dict[int, np.ndarray] = {}
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if indices is None or i in indices:
            out[i] = frame
        i += 1
        if indices is not None and i > max(indices):
            break
    cap.release()
    return out


@pytest.fixture(scope="module")
def yolox() -> Detector:
    return create_detector(DetectorConfig(threads=2), ModelManager())


# provider choice ---------------------------------------------------------------------
CPU, CUDA, COREML = "CPUExecutionProvider", "CUDAExecutionProvider", "CoreMLExecutionProvider"


@pytest.mark.parametrize(
    ("requested", "available", "platform", "expected"),
    [
        ("auto", [CPU], "linux", [CPU]),
        ("auto", ["AzureExecutionProvider", CPU], "linux", [CPU]),
        ("auto", [CUDA, CPU], "linux", [CUDA, CPU]),
        ("auto", [COREML, CPU], "darwin", [COREML, CPU]),
        ("auto", [COREML, CPU], "linux", [CPU]),
        ("cpu", [CUDA, CPU], "linux", [CPU]),
        ("cuda", [CUDA, CPU], "linux", [CUDA, CPU]),
        ("coreml", [COREML, CPU], "darwin", [COREML, CPU]),
    ],
)
def test_choose_providers(
    requested: str, available: list[str], platform: str, expected: list[str]
) -> None:
    assert choose_providers(requested, available, platform) == expected


def test_forced_provider_that_is_missing_is_a_clear_error() -> None:
    with pytest.raises(DetectorError, match="'cuda'.*not available here"):
        choose_providers("cuda", [CPU], "linux")
    if CUDA not in ort.get_available_providers():
        with pytest.raises(DetectorError, match="not available"):
            create_detector(DetectorConfig(provider="cuda"), ModelManager())


# real YOLOX-Nano -------------------------------------------------------------------------
def test_yolox_reports_provider_and_times_inference(yolox: Detector) -> None:
    assert isinstance(yolox, YoloxDetector)
    assert yolox.provider == ort.get_available_providers()[-1] == CPU  # CPU on this machine
    assert yolox.name == "yolox:yolox_nano"
    frame = np.full((360, 480, 3), 90, np.uint8)
    assert len(yolox.detect(frame)) == 0  # a blank frame has nobody
    assert 0 < yolox.last_ms < 2000


def test_threads_setting_reaches_the_session() -> None:
    det = YoloxDetector(DetectorConfig(threads=1), YOLOX)
    opts = det.session.get_session_options()
    assert opts.intra_op_num_threads == 1
    # no spin-waiting: on a busy 2-core machine it nearly doubled the CPU per frame
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_one_thread_and_the_three_stages_give_the_same_detections(yolox: Detector) -> None:
    single = YoloxDetector(DetectorConfig(threads=1), YOLOX)  # what `analyze` runs
    for frame in read_frames(PETS_CLIP, {0, 150, 400}).values():
        ref = yolox.detect(frame)  # two intra-op threads
        prepared = single.prepare(frame)
        staged = single.finish(single.infer(prepared), prepared)
        assert len(ref) > 0
        np.testing.assert_array_equal(staged.xyxy, ref.xyxy)
        np.testing.assert_array_equal(staged.confidence, ref.confidence)


# Frame 0 of PETS09-S2L1, looked at by eye (2x zoom): three people walking on the plaza,
# at these standing points (bottom-centre, 480x360 pixels), and nobody else visible. A
# signpost on the lawn top-left is the one known false positive (score ~0.5).
PETS0_PEOPLE = [(414, 202), (166, 193), (322, 144)]


def test_finds_the_people_in_a_real_pets_frame(yolox: Detector) -> None:
    frame = read_frames(PETS_CLIP, {0})[0]
    det = yolox.detect(frame)
    assert 3 <= len(det) <= 4, det.confidence
    assert (det.class_id == 0).all()
    assert np.all(det.xyxy[:, 2:] > det.xyxy[:, :2])
    feet = det.bottom_center()
    for x, y in PETS0_PEOPLE:
        dist = np.hypot(feet[:, 0] - x, feet[:, 1] - y)
        assert dist.min() < 8, f"nobody detected standing at {(x, y)}"
        assert det.confidence[dist.argmin()] > 0.7


def test_recall_and_precision_on_tud_against_ground_truth(yolox: Detector) -> None:
    """All 179 TUD-Stadtmitte frames at confidence 0.3, matched to gt.txt at IoU 0.5.
    Measured on this machine: recall 0.837, precision 0.943."""
    from scipy.optimize import linear_sum_assignment

    gt = np.loadtxt(TUD_DIR / "gt" / "gt.txt", delimiter=",")
    frames = read_frames(TUD_DIR / "TUD-Stadtmitte.mp4")
    assert len(frames) == 179
    tp = n_det = n_gt = 0
    for i, frame in frames.items():
        g = gt[gt[:, 0] == i + 1][:, 2:6].copy()
        g[:, 2:] += g[:, :2]
        d = yolox.detect(frame).xyxy.astype(np.float64)
        n_det, n_gt = n_det + len(d), n_gt + len(g)
        if len(d) and len(g):
            iou = box_iou(g, d)
            r, c = linear_sum_assignment(-iou)
            tp += int((iou[r, c] >= 0.5).sum())
    recall, precision = tp / n_gt, tp / n_det
    assert recall >= 0.80, recall
    assert precision >= 0.90, precision


# batching ----------------------------------------------------------------------------------
def test_batch_dynamic_graph_gives_the_same_outputs() -> None:
    model = onnx.load(str(YOLOX))
    dyn, fixed = make_batch_dynamic(model)
    assert fixed == 3
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1  # copy, not edit
    single = ort.InferenceSession(str(YOLOX), providers=[CPU])
    batched = ort.InferenceSession(dyn.SerializeToString(), providers=[CPU])
    frames = read_frames(PETS_CLIP, {0, 100, 300})
    imgs = [letterbox_top_left(f, (416, 416))[0] for f in frames.values()]
    blob = cv2.dnn.blobFromImages(imgs)
    out = batched.run(None, {"images": blob})[0]
    assert out.shape == (3, 3549, 85)
    for i in range(3):
        ref = single.run(None, {"images": blob[i : i + 1]})[0]
        np.testing.assert_allclose(out[i : i + 1], ref, rtol=1e-4, atol=1e-3)


def test_detect_batch_equals_detect() -> None:
    det = YoloxDetector(DetectorConfig(batch=True, threads=2), YOLOX)
    assert det.batched
    frames = list(read_frames(PETS_CLIP, {0, 100, 300, 500}).values())
    frames.append(read_frames(TUD_DIR / "TUD-Stadtmitte.mp4", {0})[0])  # another size
    many = det.detect_batch(frames)
    assert det.last_ms > 0
    for frame, got in zip(frames, many, strict=True):
        ref = det.detect(frame)
        assert len(got) == len(ref) > 0
        np.testing.assert_allclose(got.xyxy, ref.xyxy, atol=0.05)
        np.testing.assert_allclose(got.confidence, ref.confidence, atol=1e-4)


# letterboxes ----------------------------------------------------------------------------
def test_letterboxes() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[..., 2] = 200
    img, lb = letterbox_top_left(frame, (416, 416))
    assert (lb.scale, lb.left, lb.top) == (0.65, 0, 0)
    assert (img[:312, :, 2] == 200).all() and (img[312:] == 114).all()
    img, lb = letterbox_center(frame, (320, 320))
    assert (lb.scale, lb.left, lb.top) == (0.5, 0, 40)
    assert (img[:40] == 114).all() and (img[280:] == 114).all()
    assert (img[40:280, :, 2] == 200).all()


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize(("rgb", "scale"), [(False, 1.0), (True, 1 / 255)])
@pytest.mark.parametrize("size", [(416, 416), (320, 480)])
def test_letterbox_blob_equals_letterbox_then_blob(
    centered: bool, rgb: bool, scale: float, size: tuple[int, int]
) -> None:
    """The one-pass network input is bit for bit the padded canvas turned into a blob."""
    frames = list(read_frames(PETS_CLIP, {0, 300}).values())
    frames.append(np.random.default_rng(0).integers(0, 256, (333, 500, 3), np.uint8))
    frames.append(np.random.default_rng(1).integers(0, 256, size + (3,), np.uint8))
    boxer = letterbox_center if centered else letterbox_top_left
    table = pixel_table(rgb, scale)
    for frame in frames:
        img, ref_lb = boxer(frame, size)
        ref = to_blob([img], rgb=rgb, scale=scale)
        blob, lb = letterbox_blob(frame, size, centered=centered, rgb=rgb, table=table)
        assert lb == ref_lb
        assert blob.dtype == ref.dtype and blob.shape == ref.shape
        np.testing.assert_array_equal(blob, ref)


# Ultralytics layout through a real ONNX graph -------------------------------------------
def ultralytics_graph(path: Path, boxes: np.ndarray, size: int = 320) -> Path:
    """A tiny model with the YOLOv8 I/O: images [1,3,S,S] -> output0 [1,84,N] = `boxes`
    plus, in anchor 0's person score, the mean of input channel 0 (so a test can check
    the RGB order and the /255 scaling). N is a real export's anchor count for S (2100 for
    320); the anchors after `boxes` are all zeros."""
    n = len(yolox_grid((size, size))[0])  # the same strides 8, 16, 32 as YOLOv8
    boxes = np.pad(boxes, ((0, 0), (0, n - boxes.shape[1])))
    mask = np.zeros((1, 84, n), np.float32)
    mask[0, 4, 0] = 1.0
    nodes = [
        helper.make_node("Slice", ["images", "s0", "s1", "ax"], ["ch0"]),
        helper.make_node("ReduceMean", ["ch0"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m", "shape"], ["m3"]),
        helper.make_node("Mul", ["m3", "mask"], ["bump"]),
        helper.make_node("Add", ["bump", "base"], ["output0"]),
    ]
    inits = [
        helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
        helper.make_tensor("s1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("ax", TensorProto.INT64, [1], [1]),
        helper.make_tensor("shape", TensorProto.INT64, [3], [1, 1, 1]),
        onnx.numpy_helper.from_array(mask, "mask"),
        onnx.numpy_helper.from_array(boxes[None].astype(np.float32), "base"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_yolov8",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 84, n])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def scripted_outputs() -> np.ndarray:
    """Anchors in network pixels (320x320 input): cx, cy, w, h, 80 class scores."""
    b = np.zeros((84, 5), np.float32)
    b[:4, 0] = [50, 50, 20, 40]  # anchor 0: score = mean of input channel 0
    b[:4, 1] = [160, 160, 100, 200]
    b[4, 1] = 0.9  # a person
    b[:4, 2] = [162, 161, 100, 200]
    b[4, 2] = 0.8  # the same person again: NMS removes it
    b[:4, 3] = [250, 100, 40, 80]
    b[4 + 1, 3] = 0.95  # a bicycle, not a person
    b[:4, 4] = [250, 200, 40, 80]
    b[4, 4] = 0.05  # below the confidence threshold
    return b


def test_ultralytics_decode_letterbox_and_nms(tmp_path: Path) -> None:
    model = ultralytics_graph(tmp_path / "yolov8n.onnx", scripted_outputs())
    det = create_detector(DetectorConfig(type="ultralytics", model=str(model)), ModelManager())
    assert isinstance(det, UltralyticsDetector) and det.provider == CPU
    frame = np.zeros((480, 640, 3), np.uint8)  # 640x480: scale 0.5, centred 40 px down
    out = det.detect(frame)
    # anchor 0 sees the pad rows only (114/255 on a quarter of the input): below 0.3
    assert len(out) == 1
    # (160 +- 50, 160 +- 100) in the input -> ((110, 60) - (0, 40)) / 0.5 ... in the frame
    np.testing.assert_allclose(out.xyxy[0], [220, 40, 420, 440], atol=1e-3)
    assert out.confidence[0] == pytest.approx(0.9)


@pytest.mark.parametrize(("bgr", "expected"), [((0, 0, 255), 1.0), ((255, 0, 0), 0.0)])
def test_ultralytics_input_is_rgb_over_255(
    tmp_path: Path, bgr: tuple[int, int, int], expected: float
) -> None:
    model = ultralytics_graph(tmp_path / "yolo11n.onnx", scripted_outputs())
    det = UltralyticsDetector(DetectorConfig(type="ultralytics", confidence=0.01), model)
    frame = np.empty((320, 320, 3), np.uint8)
    frame[:] = bgr  # a pure red frame (BGR order) is channel 0 = 1.0 in RGB / 255
    out = det.detect(frame)
    hits = out[np.hypot(*(out.bottom_center() - [50, 70]).T) < 1]
    if expected:
        assert hits.confidence == pytest.approx([expected], abs=1e-3)
    else:
        assert len(hits) == 0


def test_ultralytics_batching_through_graph_edit(tmp_path: Path) -> None:
    model = ultralytics_graph(tmp_path / "yolov8n.onnx", scripted_outputs())
    det = UltralyticsDetector(DetectorConfig(type="ultralytics", batch=True), model)
    assert det.batched
    frames = [np.zeros((480, 640, 3), np.uint8), np.zeros((320, 320, 3), np.uint8)]
    outs = det.detect_batch(frames)
    assert [len(o) for o in outs] == [len(det.detect(f)) for f in frames] == [1, 1]


# bad inputs ------------------------------------------------------------------------------
def test_not_a_yolox_model_is_refused(tmp_path: Path) -> None:
    model = ultralytics_graph(tmp_path / "v8.onnx", scripted_outputs())
    with pytest.raises(DetectorError, match="not a YOLOX COCO export") as err:
        YoloxDetector(DetectorConfig(), model)
    msg = str(err.value)
    assert "looks like an Ultralytics YOLOv8/YOLO11 export" in msg
    assert msg.endswith('set analysis.detector.type = "ultralytics"') and "\n" not in msg


def test_yolox_model_is_refused_as_ultralytics() -> None:
    # it used to load, then decode row 4 of [3549, 85] as person scores: no one, exit 0
    with pytest.raises(DetectorError, match=r"not an Ultralytics .*\[1, 3549, 85\]") as err:
        create_detector(DetectorConfig(type="ultralytics"), ModelManager())
    msg = str(err.value)
    assert msg.startswith("yolox_nano.onnx: ") and "looks like a YOLOX export" in msg
    assert msg.endswith('set analysis.detector.type = "yolox"') and "\n" not in msg


def test_analyze_with_the_wrong_detector_type_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "ultra.json"
    line = {"name": "door", "start": [240, 0], "end": [240, 360]}
    cfg.write_text(json.dumps({"analysis": {"detector": {"type": "ultralytics"}}, "lines": [line]}))
    out = tmp_path / "events.jsonl"
    args = ["analyze", str(PETS_CLIP), "--config", str(cfg), "--out", str(out), "--no-progress"]
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: yolox_nano.onnx: not an Ultralytics") and "\n" not in err
    assert err.endswith('set analysis.detector.type = "yolox"')
    assert not out.exists()


@pytest.mark.parametrize(
    ("shape", "layout"),
    [
        ((1, 3549, 85), "yolox"),  # YOLOX-Nano at 416
        (("batch", "anchors", 85), "yolox"),
        ((1, 84, 8400), "ultralytics"),  # YOLOv8n / YOLO11n at 640
        ((1, 84, 3549), "ultralytics"),  # at 416
        (("batch", 84, "anchors"), "ultralytics"),
        ((1, 56, 8400), "ultralytics"),  # pose: 4 box + person + 17 x 3 keypoints
        ((1, 8400, 84), None),  # a transposed export
        ((1, 300, 6), None),  # an NMS-included (end-to-end) export
        ((1, 85), None),
        ((1, 4, 8400), None),  # no class row
    ],
)
def test_guess_layout(shape: tuple[object, ...], layout: str | None) -> None:
    assert guess_layout(shape) == layout


def test_broken_model_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(DetectorError, match=r"cannot load .*broken\.onnx") as err:
        create_detector(DetectorConfig(model=str(bad)), ModelManager())
    assert "\n" not in str(err.value)
    with pytest.raises(ModelMissing, match="does not exist"):
        create_detector(DetectorConfig(model=str(tmp_path / "gone.onnx")), ModelManager())


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((10, 10, 2), np.uint8),
    ],
)
def test_bad_frames_are_refused(yolox: Detector, frame: np.ndarray) -> None:
    with pytest.raises(DetectorError):
        yolox.detect(frame)


def test_grey_frames_are_accepted(yolox: Detector) -> None:
    frame = cv2.cvtColor(read_frames(PETS_CLIP, {0})[0], cv2.COLOR_BGR2GRAY)
    assert len(yolox.detect(frame)) >= 2


# fake ------------------------------------------------------------------------------------
def test_registry_and_fake_detector() -> None:
    assert detector_types() == ["fake", "ultralytics", "yolox"]
    assert isinstance(create_detector(DetectorConfig(type="fake")), FakeDetector)
    script = [Detections.create([[0, 0, 10, 20]], [0.9]), Detections.empty()]
    fake = FakeDetector(script)
    frame = np.zeros((20, 20, 3), np.uint8)
    got = fake.detect_batch([frame, frame, frame])
    assert [len(g) for g in got] == [1, 0, 0]
    assert fake.calls == 3
    fn = FakeDetector(lambda i, f: Detections.create([[i, 0, i + 5, 5]]))
    assert fn.detect(frame).xyxy[0, 0] == 0 and fn.detect(frame).xyxy[0, 0] == 1
