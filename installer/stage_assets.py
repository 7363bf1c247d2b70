"""Build-time assets of the package: the catalog's model files, SHA-256 checked, and the
synthetic sample clip `vitrine selftest` runs the detector on.

No footage is shipped (the reference clips' licences forbid it): the sample is rendered
here, figures walking across a shop floor, so the package carries only what it made.
Run by installer/build.sh with the build venv and the checkout on PYTHONPATH."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from app.vision.models import CATALOG, sha256_file

REQUIRED = ("yolox_nano",)  # the person detector: no package without it
SAMPLE_SIZE = (480, 360)
SAMPLE_FPS = 10
SAMPLE_SECONDS = 4


def models_source() -> Path:
    env = os.environ.get("VITRINE_MODELS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "models"


def copy_models(src: Path, out: Path) -> list[str]:
    """Copy every catalog model present in `src` whose digest the catalog accepts; fail on
    a wrong digest or a missing required model."""
    copied = []
    for e in CATALOG.values():
        p = src / e.filename
        if not p.is_file():
            if e.name in REQUIRED:
                sys.exit(f"build: {e.filename} is not in {src} (set VITRINE_MODELS_DIR)")
            print(f"  {e.name}: not in {src}, not bundled", file=sys.stderr)
            continue
        digest = sha256_file(p)
        if not e.accepts(digest):
            sys.exit(f"build: {p} has sha256 {digest[:12]}…, the catalog wants {e.sha256[:12]}…")
        shutil.copyfile(p, out / e.filename)
        copied.append(e.name)
        print(f"  {e.name}: {digest[:12]}… ok", file=sys.stderr)
    return copied


def _figure(img: np.ndarray, x: int, y: int, h: int, colour: tuple[int, int, int], t: float) -> None:
    """A standing person seen from a ceiling camera's angle: head, torso, arms, legs."""
    w = h // 4
    head = h // 8
    cv2.circle(img, (x, y - h + head), head, (150, 170, 205), -1)  # face
    cv2.ellipse(img, (x, y - h + head - 2), (head, head // 2 + 2), 0, 180, 360, (40, 30, 25), -1)
    top, hip = y - h + 2 * head, y - int(h * 0.45)
    cv2.rectangle(img, (x - w // 2, top), (x + w // 2, hip), colour, -1)  # torso
    swing = int(np.sin(t * 6.0) * w * 0.4)
    for side in (-1, 1):
        cv2.line(img, (x + side * w // 2, top + 4), (x + side * (w // 2 + 4) + swing * side, hip),
                 colour, max(3, w // 4))  # arms
        cv2.line(img, (x + side * w // 4, hip), (x + side * w // 4 + swing * side, y),
                 (50, 45, 60), max(4, w // 3))  # legs


def render_sample(path: Path) -> None:
    """A few seconds of figures walking across a floor, MJPG (OpenCV's own encoder)."""
    w, h = SAMPLE_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), SAMPLE_FPS, (w, h))
    if not writer.isOpened():
        sys.exit("build: OpenCV cannot write the sample clip (MJPG)")
    floor = np.zeros((h, w, 3), np.uint8)
    floor[:] = (170, 180, 185)
    for i in range(0, w, 40):  # tiles
        cv2.line(floor, (i, 0), (i, h), (150, 160, 165), 1)
    for j in range(0, h, 40):
        cv2.line(floor, (0, j), (w, j), (150, 160, 165), 1)
    cv2.rectangle(floor, (0, 0), (w, 70), (110, 120, 140), -1)  # back wall with shelves
    people = [(40, 230, 150, 3.0, (60, 60, 170)), (420, 300, 180, -2.5, (150, 90, 40)),
              (200, 200, 130, 1.5, (70, 140, 70))]  # fmt: skip
    for k in range(SAMPLE_FPS * SAMPLE_SECONDS):
        img = floor.copy()
        t = k / SAMPLE_FPS
        for x0, y, size, speed, colour in people:
            x = int(x0 + speed * k * 4) % (w + 60) - 30
            _figure(img, x, y, size, colour, t)
        writer.write(img)
    writer.release()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-out", type=Path, required=True)
    ap.add_argument("--sample-out", type=Path, required=True)
    args = ap.parse_args()
    copy_models(models_source(), args.models_out)
    render_sample(args.sample_out)
    print(f"  sample clip: {args.sample_out.name} ({args.sample_out.stat().st_size:,} bytes)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
