"""Make an exported ONNX graph accept any batch size.

The shipped YOLOX export pins the batch dimension to 1: on the input, on the output and
in the shape constants of three Reshape nodes (`[1, 85, -1]`). Making the input's first
dimension symbolic and rewriting those constants to `[0, 85, -1]` (0 = copy that
dimension from the data, since `allowzero` is 0) lets one inference run on N frames.
"""

from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import numpy_helper

log = logging.getLogger(__name__)

BATCH_DIM = "batch"


def _set_batch_dim(values: list[onnx.ValueInfoProto]) -> None:
    for v in values:
        dims = v.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = BATCH_DIM


def _constant_tensors(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    out = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    out[node.output[0]] = a.t
    return out


def make_batch_dynamic(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """A copy of `model` with a symbolic batch dimension; returns (model, number of
    Reshape shape constants rewritten). Raises ValueError when a Reshape's target shape
    is not a constant (the graph cannot be fixed this simply)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    init_names = {t.name for t in g.initializer}
    graph_inputs = [i for i in g.input if i.name not in init_names]
    _set_batch_dim(graph_inputs)
    _set_batch_dim(list(g.output))
    del g.value_info[:]  # inferred shapes would still say 1
    consts = _constant_tensors(g)
    fixed = 0
    for node in g.node:
        if node.op_type != "Reshape":
            continue
        tensor = consts.get(node.input[1])
        if tensor is None:
            raise ValueError(f"Reshape {node.name!r} has a computed shape; cannot fix it")
        shape = numpy_helper.to_array(tensor)
        if shape.size and shape[0] == 1:
            new = shape.copy()
            new[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(new.astype(np.int64), tensor.name))
            fixed += 1
    onnx.checker.check_model(m)
    log.debug("made batch dynamic: %d Reshape constants rewritten", fixed)
    return m, fixed
