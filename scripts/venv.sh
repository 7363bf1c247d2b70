#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) from a lock file, so that
# what runs is exactly what was tested.
#
#   bash scripts/venv.sh app            the application's lock (requirements/app.txt)
#   bash scripts/venv.sh test           the application + test/dev tools (requirements/test.txt)
#   bash scripts/venv.sh test --fresh   delete .venv first (what CI does on every run)
#
# VITRINE_VENV moves the environment (default: .venv beside this checkout). The lock is
# installed with --require-hashes and --no-deps; the project itself goes in editable
# without dependencies; `pip check` must pass. Nothing is installed outside the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-app}"
fresh="${2:-}"
case "$kind" in
  app) lock=requirements/app.txt ;;
  test) lock=requirements/test.txt ;;
  *) echo "usage: bash scripts/venv.sh app|test [--fresh]" >&2; exit 2 ;;
esac
venv="${VITRINE_VENV:-.venv}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Vitrine needs Python 3.11 or newer ('$python' is $("$python" -V 2>&1 || echo missing))." >&2
  exit 2
fi
if [ "$fresh" = "--fresh" ] && [ -d "$venv" ]; then
  rm -rf "$venv"
fi
stamp="$venv/.vitrine-lock"
want="$kind $(sha256sum "$lock" | cut -d' ' -f1) $(sha256sum pyproject.toml | cut -d' ' -f1)"
# the test lock holds every package of the app lock at the same version: a venv made
# from it serves the app too
test_want="test $(sha256sum requirements/test.txt | cut -d' ' -f1) $(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || [ "$(cat "$stamp")" = "$test_want" ]; }; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating the virtual environment in $venv ..." >&2
  "$python" -m venv "$venv"
fi
echo "Installing the locked dependencies ($lock) into $venv ..." >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r "$lock"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
