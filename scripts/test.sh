#!/usr/bin/env bash
# Install system and Python test dependencies (from the lock, into .venv), run the
# linters, the import contracts and the whole test suite. Arguments go to pytest.
# VITRINE_FRESH_VENV=1 rebuilds .venv from scratch first (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
if [ "${VITRINE_FRESH_VENV:-0}" = 1 ]; then
  bash scripts/venv.sh test --fresh
else
  bash scripts/venv.sh test
fi
venv="$(cd "${VITRINE_VENV:-.venv}" && pwd)"
export PATH="$venv/bin:$PATH"
export VITRINE_MODELS_DIR="${VITRINE_MODELS_DIR:-$(cd .. && pwd)/shared/models}"
export QT_QPA_PLATFORM=offscreen
python -m ruff check app tests bench scripts installer main.py
python -m mypy
lint-imports
python -m pytest -q -p no:cacheprovider "$@"
