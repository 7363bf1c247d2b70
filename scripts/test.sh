#!/usr/bin/env bash
# Install system and Python test dependencies, run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
python3 -m pip install -q -e ".[test]"
export VITRINE_MODELS_DIR="${VITRINE_MODELS_DIR:-$(cd .. && pwd)/shared/models}"
export QT_QPA_PLATFORM=offscreen
python3 -m ruff check app tests bench main.py
python3 -m mypy
lint-imports
python3 -m pytest -q -p no:cacheprovider "$@"
