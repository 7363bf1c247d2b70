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
    parser.add_argument(
        "--no-bench", action="store_true", help="skip the hardware probe and detector benchmark"
    )


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
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    clip = demo_clip() or sample_clip()
    frames = _sample_frames()
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


def _hardware() -> Check:
    """Cores, memory, accelerators, disk; and a short detector benchmark: how many
    cameras at which analysis rate this machine holds."""
    from app.config import DetectorConfig
    from app.paths import data_dir
    from app.vision.capacity import RATES, describe, measure_capacity, probe_hardware
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    hw = probe_hardware(data_dir())
    det = create_detector(DetectorConfig(), ModelManager())
    try:
        cap = measure_capacity(det, _sample_frames(), seconds=2.0)
    finally:
        det.close()
    lines = describe(hw, cap)
    if cap.cameras_at(min(RATES)) < 1:
        lines.append(f"too slow for one camera at {min(RATES):g} fps while this load lasts")
    low_disk = hw.disk_free_gb < 2.0
    if low_disk:
        lines.append("less than 2 GB free: the store and its backups need room")
    return Check("hardware", not low_disk, "\n                  ".join(lines))


def _sample_frames() -> list[np.ndarray]:
    from app.paths import demo_clip, sample_clip
    from app.vision.cameras import iter_video

    clip = demo_clip() or sample_clip()
    frames = []
    if clip:
        for i, f in enumerate(iter_video(clip)):
            if i >= 40:
                break
            if i % 8 == 0:
                frames.append(f.image)
    return frames or [np.full((360, 480, 3), 114, np.uint8)]


def _demo() -> Check:
    from app.paths import demo_clip

    clip = demo_clip()
    if clip is None:
        return Check("demo camera", True, "no demo clip on this machine (real cameras only)")
    return Check("demo camera", True, str(clip))


def _store() -> Check:
    """Open the store (creating it at first start, as the app would) and check that the
    file on disk is encrypted: a plain SQLite file starts with its magic string."""
    from app.store.db import default_path, open_store
    from app.store.errors import NeedPassphrase
    from app.store.keys import read_header

    path = default_path()
    created = not path.exists()
    try:
        with open_store(path, create=True) as store:
            rev = store.revision()
    except NeedPassphrase:
        if created:
            return Check("store", True, f"no store yet at {path}: the first start asks for "
                         "its passphrase (or set VITRINE_STORE_PASSPHRASE)")  # fmt: skip
        raise
    with path.open("rb") as f:
        plain = f.read(16) == b"SQLite format 3\x00"
    header = read_header(path)
    how = {"keyring": "key in the OS keychain", "scrypt": "passphrase"}.get(
        header.method if header else "", "no key header"
    )
    verb = "created" if created else "opens"
    return Check(
        "store",
        not plain,
        f"{path} {verb} (schema {rev}, "
        + ("NOT ENCRYPTED)" if plain else f"encrypted with SQLCipher, {how})"),
    )


def run(args: argparse.Namespace) -> int:
    checks: list[Callable[[], Check]] = [_models, _detector, _hardware, _demo]
    if getattr(args, "no_bench", False):
        checks.remove(_hardware)
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
