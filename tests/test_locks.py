"""The locks in requirements/ are what a fresh machine installs: every dependency of
pyproject.toml is pinned with hashes, and the test lock runs the very versions the
application lock installs (scripts/lock.sh makes them so; this catches a hand edit or a
pyproject change without re-locking)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[tuple[str, str], tuple[str, int]]:
    """(package, marker) -> (version, number of hashes)."""
    pins: dict[tuple[str, str], tuple[str, int]] = {}
    current: tuple[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if m:
            current = (_norm(m.group(1)), (m.group(3) or "").strip())
            assert current not in pins, f"{path.name}: {current} pinned twice"
            pins[current] = (m.group(2), 0)
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.parametrize("lock", ["app.txt", "test.txt", "build.txt"])
def test_every_pin_has_hashes(lock: str) -> None:
    pins = read_lock(ROOT / "requirements" / lock)
    assert len(pins) > (5 if lock == "build.txt" else 30)
    assert [p for p, (_, hashes) in pins.items() if hashes == 0] == []


def test_app_lock_pins_every_dependency(project: dict) -> None:
    locked = {name for name, _ in read_lock(ROOT / "requirements" / "app.txt")}
    assert _requirement_names(project["dependencies"]) - locked == set()


def test_test_lock_pins_the_test_extras(project: dict) -> None:
    locked = {name for name, _ in read_lock(ROOT / "requirements" / "test.txt")}
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    assert wanted - locked == set()


def test_tests_run_the_versions_the_app_installs() -> None:
    """Markers may differ (tzdata: Windows-only for the app, everywhere for the tests'
    pandas), versions may not."""
    test_versions: dict[str, set[str]] = {}
    for (name, _), (version, _) in read_lock(ROOT / "requirements" / "test.txt").items():
        test_versions.setdefault(name, set()).add(version)
    app = read_lock(ROOT / "requirements" / "app.txt")
    differ = {
        name: version
        for (name, _), (version, _) in app.items()
        if version not in test_versions.get(name, set())
    }
    assert differ == {}


def test_build_lock_pins_pyinstaller_at_the_app_lock_versions() -> None:
    """installer/build.sh installs the app lock, then the build lock: one version each."""
    build = read_lock(ROOT / "requirements" / "build.txt")
    assert "pyinstaller" in {name for name, _ in build}
    app = {name: version for (name, _), (version, _) in read_lock(ROOT / "requirements" / "app.txt").items()}
    assert {n: v for (n, _), (v, _) in build.items() if n in app and app[n] != v} == {}


def test_the_case_tables_above_can_fail(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "numpy==2.0.0 ; python_full_version < '3.12' \\\n    --hash=sha256:ab\nscipy==1.0\n",
        encoding="utf-8",
    )
    pins = read_lock(lock)
    assert pins == {
        ("numpy", "python_full_version < '3.12'"): ("2.0.0", 1),
        ("scipy", ""): ("1.0", 0),
    }
