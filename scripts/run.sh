#!/usr/bin/env bash
# Install Vitrine from the lock into .venv (first time, or when the lock changed) and
# start it: `bash scripts/run.sh` opens the desktop app; any arguments go to main.py
# (`bash scripts/run.sh serve`, `bash scripts/run.sh selftest`, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh app
exec "${VITRINE_VENV:-.venv}/bin/python" main.py "$@"
