"""Face verification on ../shared/media/faces: similarity of every pair of photos, the
true accept rate at a false accept rate <= 1 %, and at the shipped threshold.

Also on degraded copies (what a shop camera gives): downscaled so that the face is
about 48 and 32 pixels wide, JPEG-compressed at quality 15, and dimmed (x0.3 and a
gamma). Each degraded photo is compared with every original (enrolment photos are good,
live faces are not) and the degraded copies with each other.

    python bench/bench_faces.py [--faces DIR]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import AppConfig  # noqa: E402
from app.vision.faces.factory import open_models  # noqa: E402
from app.vision.faces.quality import QualityRules  # noqa: E402
from app.vision.faces.recogniser import FaceRecogniser, RecognitionRules  # noqa: E402

FACES = Path(__file__).resolve().parents[2] / "shared" / "media" / "faces"
if not FACES.is_dir():
    FACES = Path("/work/shared/media/faces")


def shrink_to(face_px: int) -> Callable[[np.ndarray, float], np.ndarray]:
    def f(img: np.ndarray, face: float) -> np.ndarray:
        k = min(1.0, face_px / face)
        small = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        return small

    return f


def jpeg(img: np.ndarray, _face: float) -> np.ndarray:
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 15])
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR))


def dim(img: np.ndarray, _face: float) -> np.ndarray:
    x = (img.astype(np.float32) / 255.0) ** 1.3 * 0.3
    return np.clip(x * 255.0, 0, 255).astype(np.uint8)


DEGRADE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "face 48 px": shrink_to(48),
    "face 32 px": shrink_to(32),
    "JPEG q15": jpeg,
    "dimmed": dim,
    "24 px+JPEG+dim": lambda img, face: dim(jpeg(shrink_to(24)(img, face), face), face),
}


def tar_at_far(
    genuine: list[float], impostor: list[float], far: float = 0.01
) -> tuple[float, float]:
    """(TAR, threshold): the lowest threshold whose FAR <= far, and the TAR there."""
    imp = np.sort(np.asarray(impostor))
    allowed = int(np.floor(far * len(imp)))  # false accepts allowed
    thr = float(imp[len(imp) - allowed - 1]) + 1e-6 if len(imp) > allowed else -1.0
    g = np.asarray(genuine)
    return float((g >= thr).mean()) if len(g) else float("nan"), thr


def rates(genuine: list[float], impostor: list[float], thr: float) -> tuple[float, float]:
    g, i = np.asarray(genuine), np.asarray(impostor)
    return float((g >= thr).mean()), float((i >= thr).mean())


def pairs(
    embs: dict[str, np.ndarray], left: list[str], right: list[str] | None
) -> tuple[list[float], list[float]]:
    gen: list[float] = []
    imp: list[float] = []
    combos = itertools.combinations(left, 2) if right is None else itertools.product(left, right)
    for a, b in combos:
        if a.split("@")[0] == b.split("@")[0]:
            continue  # a photo against its own degraded copy says nothing
        same = a.split("__")[0] == b.split("__")[0]
        (gen if same else imp).append(float(embs[a] @ embs[b]))
    return gen, imp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=Path, default=FACES)
    args = ap.parse_args()
    cfg = AppConfig()
    det, emb = open_models(cfg)
    rules = RecognitionRules(
        mode="staff_exclusion",
        threshold=cfg.faces.threshold,
        quality=QualityRules(min_size_px=12, min_sharpness=0),
    )
    rec = FaceRecogniser(det, emb, sink=None, rules=rules)  # type: ignore[arg-type]
    photos = sorted(p for p in args.faces.iterdir() if "__" in p.name)
    embs: dict[str, np.ndarray] = {}
    misses: list[str] = []
    variants: dict[str, list[str]] = {name: [] for name in DEGRADE}
    for p in photos:
        img: np.ndarray | None = cv2.imread(str(p))
        if img is None:
            misses.append(p.name)
            continue
        s = rec.samples(img)
        if not s:
            misses.append(p.name)
            continue
        embs[p.name] = s[0].embedding
        for name, f in DEGRADE.items():
            d = rec.samples(f(img, s[0].face.size))
            if d:
                key = f"{p.name}@{name}"
                embs[key] = d[0].embedding
                variants[name].append(key)
            else:
                misses.append(f"{p.name} ({name})")
    originals = [p.name for p in photos if p.name in embs]
    thr = cfg.faces.threshold
    print(f"photos: {len(originals)} of {len(photos)} with a usable face; shipped threshold {thr}")
    print(
        f"{'set':<26}{'pairs':>7}{'genuine':>9}{'TAR@FAR<=1%':>13}{'(thr)':>8}"
        f"{'TAR@ship':>10}{'FAR@ship':>10}{'min gen':>9}{'max imp':>9}"
    )

    def row(label: str, gen: list[float], imp: list[float]) -> None:
        tar, t = tar_at_far(gen, imp)
        ta, fa = rates(gen, imp, thr)
        print(
            f"{label:<26}{len(gen) + len(imp):>7}{len(gen):>9}{tar:>13.1%}{t:>8.3f}"
            f"{ta:>10.1%}{fa:>10.1%}{min(gen, default=float('nan')):>9.3f}"
            f"{max(imp, default=float('nan')):>9.3f}"
        )

    g0, i0 = pairs(embs, originals, None)
    row("originals, all pairs", g0, i0)
    all_g, all_i = list(g0), list(i0)
    for name, keys in variants.items():
        g1, i1 = pairs(embs, keys, originals)
        g2, i2 = pairs(embs, keys, None)
        row(f"{name} vs originals", g1, i1)
        row(f"{name} vs {name}", g2, i2)
        if "24 px" not in name:  # below the shipped minimum face size: skipped live
            all_g += g1 + g2
            all_i += i1 + i2
    row("all but the 24 px rows", all_g, all_i)
    if misses:
        print("no usable face found in: " + ", ".join(misses))
    print(attempt_cost(rec, args.faces / "obama__obama.jpg"))
    return 0


def attempt_cost(rec: FaceRecogniser, photo: Path, runs: int = 30) -> str:
    """What one face attempt on a track costs: YuNet on the upper part of a person box
    the size a shop camera gives (~120x90 px), alignment, MobileFaceNet."""
    img = cv2.imread(str(photo))
    if img is None:
        return "no photo for the timing"
    s = rec.samples(img)[0]
    x0, y0, x1, y1 = (int(v) for v in s.face.box)
    pad = (x1 - x0) // 2
    crop = img[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
    crop = cv2.resize(crop, (120, int(120 * crop.shape[0] / crop.shape[1])))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rec.samples(crop)
        times.append((time.perf_counter() - t0) * 1000)
    return (
        f"one face attempt ({crop.shape[1]}x{crop.shape[0]} px crop: detect, align, embed): "
        f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {runs} runs "
        "(shared CPU: indicative)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
