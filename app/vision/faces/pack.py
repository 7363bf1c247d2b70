"""A store's own InsightFace model pack (buffalo_l, buffalo_s, antelopev2 ...: a folder
of ONNX files), run with our ONNX Runtime instead of the `insightface` package.

Why not the package: it needs the GUI build of OpenCV (`opencv-python`), which cannot be
installed next to the `opencv-python-headless` Vitrine ships (both provide the `cv2`
module; whichever is installed last wins, breaking the other's users), and it pulls in
scikit-image, albumentations and a compiled Cython extension. Its recogniser is a
plain ONNX file with a documented pre-processing, so we load that file ourselves.

The public packs are licensed for non-commercial research only: Vitrine never ships or
downloads them; a store that holds a licence points `faces.pack_dir` at its folder.
Detection stays YuNet (its landmarks feed the same 5-point alignment ArcFace expects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnx

from app.vision.faces.embed import ARCFACE, Embedder, Normalisation


class PackError(ValueError):
    """The folder is not a usable model pack (the message says why)."""


@dataclass(frozen=True)
class FacePack:
    folder: Path
    recogniser: Path
    norm: Normalisation
    dim: int

    def embedder(self, threads: int = 1) -> Embedder:
        return Embedder(self.recogniser, self.norm, threads)


def _dims(model: onnx.ModelProto) -> tuple[list[int | str], list[int | str]]:
    def shape(v: onnx.ValueInfoProto) -> list[int | str]:
        return [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]

    init = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in init]
    if len(inputs) != 1 or not model.graph.output:
        return [], []
    return shape(inputs[0]), shape(model.graph.output[0])


def _norm_of(model: onnx.ModelProto) -> Normalisation:
    """InsightFace's own rule (model_zoo/arcface_onnx.py): a graph whose first 8 nodes
    include a subtraction and a multiplication (named Sub* / _minus* and Mul* / _mul*,
    as MXNet exports are) normalises itself (mean 0, std 1); otherwise the pixels go in
    as (x - 127.5) / 127.5. RGB in both cases."""
    first = model.graph.node[:8]

    def has(op: str, prefixes: tuple[str, ...]) -> bool:
        return any(n.op_type == op or n.name.startswith(prefixes) for n in first)

    if has("Sub", ("Sub", "_minus")) and has("Mul", ("Mul", "_mul")):
        return Normalisation(rgb=True, scale=1.0, mean=(0.0,) * 3, std=(1.0,) * 3)
    return ARCFACE


def open_pack(folder: Path) -> FacePack:
    """Find the recogniser of a pack: the ONNX file taking 3x112x112 faces and giving one
    embedding vector (the detector, landmark and gender/age files are not used)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise PackError(f"model pack folder {folder} does not exist")
    files = sorted(folder.glob("*.onnx"))
    if not files:
        raise PackError(f"{folder} holds no .onnx file: not an InsightFace model pack")
    for f in files:
        try:
            model = onnx.load(str(f), load_external_data=False)
        except Exception as exc:  # a broken file: say which
            raise PackError(f"{f.name} in the pack cannot be read: {exc}") from None
        ins, outs = _dims(model)
        if len(ins) == 4 and ins[1:] == [3, 112, 112] and len(outs) == 2:
            dim = outs[1] if isinstance(outs[1], int) else 0
            return FacePack(folder, f, _norm_of(model), dim)
    names = ", ".join(f.name for f in files)
    raise PackError(f"no face recogniser (3x112x112 in, one vector out) among {names}")
