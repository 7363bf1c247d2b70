"""`python main.py selftest`: is this machine ready to run Vitrine? One line per check."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-store", action="store_true", help="skip the local store check")


def _models() -> Check:
    from app.vision.models import ModelManager

    rows = ModelManager().verify()
    bad = [f"{r.name}: {r.status}" for r in rows if r.status != "found"]
    found = [r.name for r in rows if r.status == "found"]
    detail = f"found {', '.join(found) or 'none'}" + (f"; {'; '.join(bad)}" if bad else "")
    person = any(r.name == "yolox_nano" and r.status == "found" for r in rows)
    return Check("models", person, detail)


def _detector() -> Check:
    from app.config import DetectorConfig
    from app.paths import demo_clip, sample_clip
    from app.vision.cameras import iter_video
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    clip = demo_clip() or sample_clip()
    frames = [f.image for _, f in zip(range(40), iter_video(clip))][::8] if clip else []
    frames = frames or [np.full((360, 480, 3), 114, np.uint8)]
    det = create_detector(DetectorConfig(), ModelManager())
    try:
        t0 = time.perf_counter()
        people = max(len(det.detect(f)) for f in frames)
        ms = (time.perf_counter() - t0) * 1000 / len(frames)
    finally:
        det.close()
    source = f"{clip.name}, {len(frames)} frames" if clip else "a blank frame"
    return Check(
        "detector",
        True,
        f"{det.name} on {det.provider} ({source}): up to {people} people, {ms:.0f} ms/frame",
    )


def _demo() -> Check:
    from app.paths import demo_clip

    clip = demo_clip()
    if clip is None:
        return Check("demo camera", True, "no demo clip on this machine (real cameras only)")
    return Check("demo camera", True, str(clip))


def _store() -> Check:
    from app.store.db import default_path, open_store

    path = default_path()
    if not path.exists():
        return Check("store", True, f"no store yet at {path} (created at first start)")
    with open_store(path, create=False) as store:
        rev = store.revision()
    return Check("store", True, f"{path} opens (schema {rev})")


def run(args: argparse.Namespace) -> int:
    checks: list[Callable[[], Check]] = [_models, _detector, _demo]
    if not args.no_store:
        checks.append(_store)
    failed = 0
    for fn in checks:
        try:
            c = fn()
        except Exception as exc:  # each check reports its own failure as one line
            c = Check(fn.__name__.strip("_"), False, str(exc).splitlines()[0] if str(exc) else "")
        failed += not c.ok
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<12} {c.detail}", flush=True)
    print("ready" if not failed else f"{failed} check(s) failed", flush=True)
    return 1 if failed else 0
