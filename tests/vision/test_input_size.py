"""YOLOX on the letterboxed picture only (app/vision/detectors/input_size.py): the
size-dynamic graph edit, the trimmed sizes, the same people found as on the full
416x416 input on real PETS and TUD frames, mixed sizes in a batch, and the fallback to
the full input for a graph whose output does not follow its input size."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.config import DetectorConfig
from app.vision.detectors.input_size import fix_size, make_size_dynamic, trimmed_size
from app.vision.detectors.preprocess import letterbox_blob
from app.vision.detectors.yolox import YoloxDetector, yolox_grid
from app.vision.tracker import box_iou
from tests.conftest import MODELS_DIR, PETS_CLIP, TUD_DIR
from tests.vision.test_detector import read_frames

YOLOX = MODELS_DIR / "yolox_nano.onnx"
CPU = ["CPUExecutionProvider"]


@pytest.fixture(scope="module")
def pair() -> tuple[YoloxDetector, YoloxDetector]:
    """The full input (`trim_input` off) and the default trimmed one."""
    full = YoloxDetector(DetectorConfig(threads=1, trim_input=False), YOLOX)
    return full, YoloxDetector(DetectorConfig(threads=1), YOLOX)


@pytest.mark.parametrize(
    ("frame_hw", "expected"),
    [
        ((360, 480), (320, 416)),  # 4:3 -> 416x312, padded to 320
        ((480, 640), (320, 416)),
        ((240, 320), (320, 416)),  # upscaled to the same 416x312
        ((1080, 1920), (256, 416)),  # 16:9 -> 416x234
        ((416, 416), (416, 416)),  # square: nothing to cut
        ((640, 480), (416, 320)),  # portrait: the right side is cut
        ((10, 4000), (32, 416)),  # a sliver still gets one stride
    ],
)
def test_trimmed_size(frame_hw: tuple[int, int], expected: tuple[int, int]) -> None:
    assert trimmed_size(frame_hw, (416, 416), 32) == expected


def test_size_dynamic_graph_runs_any_multiple_of_32_and_equals_the_original() -> None:
    model = onnx.load(str(YOLOX))
    dyn = make_size_dynamic(model)
    assert model.graph.input[0].type.tensor_type.shape.dim[2].dim_value == 416  # a copy
    fixed = ort.InferenceSession(str(YOLOX), providers=CPU)
    sized = ort.InferenceSession(dyn.SerializeToString(), providers=CPU)
    frame = read_frames(PETS_CLIP, {0})[0]
    blob, _ = letterbox_blob(frame, (416, 416), centered=False, rgb=False)
    np.testing.assert_allclose(
        sized.run(None, {"images": blob})[0], fixed.run(None, {"images": blob})[0], atol=1e-4
    )
    short = sized.run(None, {"images": blob[:, :, :320, :]})[0]
    assert short.shape == (1, len(yolox_grid((320, 416))[0]), 85) == (1, 2730, 85)


def test_each_input_size_gets_a_fixed_size_graph_with_the_same_output(
    pair: tuple[YoloxDetector, YoloxDetector],
) -> None:
    _, trimmed = pair
    frame = read_frames(PETS_CLIP, {0})[0]  # 480x360: 416x320 at the detector
    prepared = trimmed.prepare(frame)
    out = trimmed.infer(prepared)
    session = trimmed._session_for((320, 416))
    assert session is not trimmed.session  # not the size-dynamic one
    assert [d for d in session.get_inputs()[0].shape] == [1, 3, 320, 416]
    dynamic = trimmed.session.run(None, {"images": prepared.blob})[0]
    np.testing.assert_allclose(out, dynamic, atol=1e-4)
    assert trimmed._session_for((320, 416)) is session  # made once per size
    fixed = fix_size(make_size_dynamic(onnx.load(str(YOLOX))), (256, 416), 2184)
    assert fixed.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 2184


def test_letterbox_blob_canvas_is_the_full_letterbox_cut() -> None:
    frame = read_frames(PETS_CLIP, {0})[0]
    full, lb = letterbox_blob(frame, (416, 416), centered=False, rgb=False)
    cut, lb2 = letterbox_blob(frame, (416, 416), centered=False, rgb=False, canvas=(320, 416))
    assert lb == lb2 and cut.shape == (1, 3, 320, 416)
    np.testing.assert_array_equal(cut, full[:, :, :320, :])
    with pytest.raises(ValueError, match="does not fit"):
        letterbox_blob(frame, (416, 416), centered=False, rgb=False, canvas=(288, 416))


def test_yolox_infers_on_the_picture_and_finds_the_same_people(
    pair: tuple[YoloxDetector, YoloxDetector],
) -> None:
    full, trimmed = pair
    assert trimmed.trimmed and not full.trimmed
    assert trimmed.input_hw == full.input_hw == (416, 416)  # the model's own size
    assert full.prepare(np.zeros((360, 480, 3), np.uint8)).blob.shape == (1, 3, 416, 416)
    frames = list(read_frames(PETS_CLIP, set(range(0, 795, 40))).values())
    frames += list(read_frames(TUD_DIR / "TUD-Stadtmitte.mp4", set(range(0, 179, 30))).values())
    total = same = 0
    for frame in frames:
        assert trimmed.prepare(frame).blob.shape == (1, 3, 320, 416)
        a, b = full.detect(frame), trimmed.detect(frame)
        assert abs(len(a) - len(b)) <= 1
        if len(a) and len(b):
            iou = box_iou(a.xyxy, b.xyxy)
            total += len(a)
            same += int((iou.max(axis=1) >= 0.9).sum())
    assert total > 100
    assert same >= 0.98 * total


def test_batch_of_mixed_input_sizes_equals_detect() -> None:
    det = YoloxDetector(DetectorConfig(batch=True, threads=1), YOLOX)
    assert det.batched and det.trimmed
    pets = list(read_frames(PETS_CLIP, {0, 200}).values())
    square = np.ascontiguousarray(pets[0][:, :360])  # 360x360: the full 416x416 input
    frames = [pets[0], square, pets[1]]
    assert [det.net_hw(f.shape[:2]) for f in frames] == [(320, 416), (416, 416), (320, 416)]
    for frame, got in zip(frames, det.detect_batch(frames), strict=True):
        ref = det.detect(frame)
        assert len(got) == len(ref) > 0
        np.testing.assert_allclose(got.xyxy, ref.xyxy, atol=0.05)


def fixed_output_graph(path: Path) -> Path:
    """A YOLOX-shaped model ([1,3,416,416] -> [1,3549,85]) whose output does not follow
    its input size (a constant plus 0 x the input's mean), as a graph with baked anchors."""
    const = np.zeros((1, 3549, 85), np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["const", "z"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 416, 416])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3549, 85])],
        [
            numpy_helper.from_array(const, "const"),
            numpy_helper.from_array(np.array(0, np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_graph_whose_output_ignores_the_input_size_keeps_the_full_input(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        det = YoloxDetector(DetectorConfig(threads=1), fixed_output_graph(tmp_path / "m.onnx"))
    assert not det.trimmed
    assert "full-size input only" in caplog.text
    frame = np.full((360, 480, 3), 50, np.uint8)
    assert det.prepare(frame).blob.shape == (1, 3, 416, 416)
    assert len(det.detect(frame)) == 0
