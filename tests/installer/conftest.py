"""The Linux package, built once per test session (`bash installer/build.sh`, a few
minutes on 2 cores), or taken from VITRINE_TEST_DEB (a .deb built before);
VITRINE_SKIP_PACKAGE=1 skips the tests that need it (a quick local run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class BuiltPackage:
    deb: Path
    version: str
    build_s: float  # 0 when reused


def _version() -> str:
    import tomllib

    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


@pytest.fixture(scope="session")
def built_deb() -> Iterator[BuiltPackage]:
    if os.environ.get("VITRINE_SKIP_PACKAGE") == "1":
        pytest.skip("VITRINE_SKIP_PACKAGE=1: the package is not built in this run")
    if not shutil.which("dpkg-deb") or not shutil.which("dpkg"):
        pytest.skip("dpkg is not on this machine (the Linux package is a .deb)")
    given = os.environ.get("VITRINE_TEST_DEB")
    if given:
        deb = Path(given)
        yield BuiltPackage(deb, deb.name.split("_")[1], 0.0)
        return
    t0 = time.monotonic()
    env = {**os.environ, "VITRINE_DEB_COMPRESS": "zstd"}  # seconds, not xz's minutes
    proc = subprocess.run(["bash", "installer/build.sh"], cwd=REPO, capture_output=True, env=env,
                          text=True, timeout=3000)  # fmt: skip
    build_s = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    version = _version()
    deb = REPO / "dist" / f"vitrine_{version}_amd64.deb"
    assert deb.is_file()
    print(f"\npackage built in {build_s:.0f} s: {deb} ({deb.stat().st_size / 1e6:.0f} MB)")
    yield BuiltPackage(deb, version, build_s)
