"""A store's own InsightFace pack, loaded with our ONNX runner (no `insightface`
package): the recogniser is found among the pack's files by its shape, and runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.config import AppConfig
from app.vision.faces.embed import ARCFACE
from app.vision.faces.factory import open_models
from app.vision.faces.pack import PackError, open_pack
from tests.conftest import MEDIA


def _recogniser(path: Path, dim: int = 512, self_normalising: bool = False) -> None:
    """A tiny stand-in ArcFace: [N,3,112,112] -> [N,dim] (pool, flatten, project)."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.normal(size=(3, dim)).astype(np.float32), "w")
    nodes = []
    src = "input.1"
    if self_normalising:  # like some packs: (x - 127.5) * (1/127.5) inside the graph
        nodes += [
            helper.make_node("Sub", [src, "m"], ["sub"]),
            helper.make_node("Mul", ["sub", "s"], ["mul"]),
        ]
        src = "mul"
    nodes += [
        helper.make_node("GlobalAveragePool", [src], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["683"]),
    ]
    inits = [w]
    if self_normalising:
        inits += [numpy_helper.from_array(np.array(127.5, np.float32), "m"),
                  numpy_helper.from_array(np.array(1 / 127.5, np.float32), "s")]  # fmt: skip
    graph = helper.make_graph(
        nodes, "arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", dim])],
        inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _detector(path: Path) -> None:
    """A decoy (a detector's shape: any image in, a score map out)."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input.1"], ["448"])], "det",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"])],
        [helper.make_tensor_value_info("448", TensorProto.FLOAT, [1, 3, "?", "?"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.mark.parametrize("self_normalising", [False, True])
def test_the_recogniser_of_a_pack_is_found_and_runs(tmp_path: Path, self_normalising: bool) -> None:
    _detector(tmp_path / "det_500m.onnx")
    _recogniser(tmp_path / "w600k_mbf.onnx", self_normalising=self_normalising)
    pack = open_pack(tmp_path)
    assert pack.recogniser.name == "w600k_mbf.onnx" and pack.dim == 512
    assert (pack.norm == ARCFACE) is not self_normalising
    emb = pack.embedder().embed([np.full((112, 112, 3), 90, np.uint8)])
    assert emb.shape == (1, 512) and np.isclose(np.linalg.norm(emb), 1.0)


def test_the_settings_choose_the_pack(tmp_path: Path) -> None:
    _recogniser(tmp_path / "w600k_r50.onnx")
    cfg = AppConfig.model_validate({"faces": {"pack_dir": str(tmp_path)}})
    det, emb = open_models(cfg)
    assert emb.dim == 512 and emb.norm == ARCFACE
    import cv2

    img = cv2.imread(str(MEDIA / "faces" / "obama__obama.jpg"))
    assert img is not None and det.detect(img)  # detection stays YuNet


def test_a_folder_without_a_recogniser_says_what_it_holds(tmp_path: Path) -> None:
    _detector(tmp_path / "det_10g.onnx")
    with pytest.raises(PackError, match="det_10g.onnx"):
        open_pack(tmp_path)
    with pytest.raises(PackError, match="does not exist"):
        open_pack(tmp_path / "nope")
