#!/usr/bin/env bash
# Re-resolve the locks to the newest versions pyproject.toml allows, then rebuild .venv
# from them and run the whole suite: upgrading dependencies is this one deliberate act.
#
#   bash scripts/lock.sh            upgrade everything, then test
#   bash scripts/lock.sh --no-test  re-resolve only (after editing pyproject.toml's ranges)
#   bash scripts/lock.sh --keep     keep the locked versions, resolve only what changed
#
# The locks are universal (Linux, macOS, Windows; Python 3.11+) and carry hashes. The app
# lock is resolved first; the test lock is resolved with the app lock as constraints, so
# the tests run the very versions a store gets; the build lock (PyInstaller, for
# installer/build.sh) likewise.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
tools=".venv-tools"
if ! "$tools/bin/uv" --version 2>/dev/null | grep -q "$UV_VERSION"; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
upgrade="--upgrade"
test=1
for arg in "$@"; do
  case "$arg" in
    --keep) upgrade="" ;;
    --no-test) test=0 ;;
    *) echo "usage: bash scripts/lock.sh [--keep] [--no-test]" >&2; exit 2 ;;
  esac
done
common=(--universal --python-version 3.11 --generate-hashes --quiet $upgrade
        --custom-compile-command "bash scripts/lock.sh")
"$tools/bin/uv" pip compile pyproject.toml "${common[@]}" -o requirements/app.txt
"$tools/bin/uv" pip compile pyproject.toml --extra test -c requirements/app.txt \
  "${common[@]}" -o requirements/test.txt
# the installer's build tools (PyInstaller), with the app lock as constraints
"$tools/bin/uv" pip compile requirements/build.in -c requirements/app.txt \
  "${common[@]}" -o requirements/build.txt
# every locked version must come as a wheel for every platform a store runs: Linux
# x86-64 (glibc 2.34+), macOS 15+ on Apple silicon, Windows x86-64 (Python 3.11)
for platform in x86_64-manylinux_2_34 aarch64-apple-darwin x86_64-pc-windows-msvc; do
  for lock in requirements/app.txt requirements/test.txt requirements/build.txt; do
    if ! MACOSX_DEPLOYMENT_TARGET=15.0 "$tools/bin/uv" pip compile "$lock" --quiet --no-deps \
        --python-platform "$platform" --python-version 3.11 --only-binary :all: \
        -o /dev/null; then
      echo "$lock: some locked version has no wheel for $platform (see above)." >&2
      echo "Pin that package below the version in pyproject.toml, with a comment." >&2
      exit 1
    fi
  done
done
echo "Locks written: requirements/app.txt, requirements/test.txt, requirements/build.txt (wheels for Linux x86-64," \
  "macOS arm64 and Windows x86-64 checked)" >&2
if [ "$test" = 1 ]; then
  VITRINE_FRESH_VENV=1 bash scripts/test.sh
fi
