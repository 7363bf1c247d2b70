"""A fully convolutional detector need not infer on its letterbox padding.

The shipped YOLOX export takes a fixed square 416x416 input. A 4:3 camera at that
scale fills 416x312 of it; the other 104 rows are padding that costs a quarter of the
inference. YOLOX is fully convolutional (its upsampling is by scale factors, its
reshapes copy the anchor count), so the same graph with a symbolic height and width
runs on the picture at exactly the same scale, padded only up to the next multiple of
the largest stride (416x320): the same weights, the same scale, the anchor grid only
shorter. bench/bench_detector_input.py measures the cost and the agreement.
"""

from __future__ import annotations

import logging

import onnx

from app.vision.detectors.preprocess import placement

log = logging.getLogger(__name__)

HEIGHT, WIDTH = "height", "width"


def _set_dim(d: onnx.TensorShapeProto.Dimension, value: int | str) -> None:
    d.Clear()
    if isinstance(value, str):
        d.dim_param = value
    else:
        d.dim_value = value


def _sized(
    model: onnx.ModelProto, h: int | str, w: int | str, anchors: int | None
) -> onnx.ModelProto:
    """A copy of `model` with its image input's height and width set (a number, or a
    symbol) and its outputs' (`[N, anchors, channels]`, YOLOX's layout) anchor count set
    to `anchors`, or made symbolic with None. Raises ValueError when the model has not
    one NCHW image input."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    init_names = {t.name for t in g.initializer}
    inputs = [i for i in g.input if i.name not in init_names]
    if len(inputs) != 1 or len(inputs[0].type.tensor_type.shape.dim) != 4:
        raise ValueError("expected one 4-D image input")
    dims = inputs[0].type.tensor_type.shape.dim
    _set_dim(dims[2], h)
    _set_dim(dims[3], w)
    for out in g.output:
        # [N, anchors, channels]: the anchor count follows the input size
        odims = out.type.tensor_type.shape.dim
        for k in range(1, len(odims) - 1):
            _set_dim(odims[k], f"{out.name}_{k}" if anchors is None else anchors)
    return m


def make_size_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` whose image input has a symbolic height and width, and whose
    outputs a symbolic anchor count. Raises ValueError when the model has not one NCHW
    image input."""
    m = _sized(model, HEIGHT, WIDTH, None)
    del m.graph.value_info[:]  # shapes inferred for the fixed size
    onnx.checker.check_model(m)
    return m


def trimmed_size(
    frame_hw: tuple[int, int], size: tuple[int, int], multiple: int
) -> tuple[int, int]:
    """The network input for a frame letterboxed top-left at the scale it has in `size`
    (h, w): the picture's own extent rounded up to `multiple`, at most `size`."""
    _, nh, nw = placement(frame_hw, size, centered=False)
    h = min(size[0], -(-max(nh, 1) // multiple) * multiple)
    w = min(size[1], -(-max(nw, 1) // multiple) * multiple)
    return (h, w)


def fix_size(model: onnx.ModelProto, hw: tuple[int, int], anchors: int) -> onnx.ModelProto:
    """A copy of a `make_size_dynamic` model with its input fixed at `hw` (h, w) and its
    outputs at `anchors` rows: ONNX Runtime plans a fixed-size graph better (416x320,
    one thread, interleaved runs: 16.7 ms per inference against 17.6 ms for the same
    graph with symbolic sizes; bench_live at 16 cameras 39.8 -> 41.6 frames per
    CPU-second)."""
    return _sized(model, hw[0], hw[1], anchors)
