"""SIGKILL a writing child process at random moments: every acknowledged event survives
and the database is never damaged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select, text

from app.store.db import open_store
from app.store.models import LineCrossing

CHILD = Path(__file__).with_name("durability_child.py")
REPO = Path(__file__).resolve().parents[2]
KILLS = 20


def _run_and_kill(db: Path, first_id: int, rng: random.Random) -> set[int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), str(first_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # wait until it is really writing
    assert first.strip(), proc.stderr.read().decode() if proc.stderr else "no output"
    time.sleep(rng.uniform(0.0, 0.4))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    lines = (first + out).decode().split("\n")
    return {int(x) for x in lines[:-1] if x.strip()}  # the last piece may be cut off


def test_sigkill_never_loses_acknowledged_events(db_path: Path) -> None:
    rng = random.Random(1234)
    with open_store(db_path):
        pass  # created and migrated once, so children only write
    acked_total: set[int] = set()
    for round_ in range(KILLS):
        acked = _run_and_kill(db_path, round_ * 1_000_000, rng)
        assert acked, f"round {round_}: nothing was acknowledged before the kill"
        acked_total |= acked
        with open_store(db_path, create=False) as store, store.read_session() as s:
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            stored = set(s.scalars(select(LineCrossing.track_id)))
        missing = acked_total - stored
        assert not missing, f"round {round_}: {len(missing)} acknowledged events lost"
    assert len(acked_total) > KILLS * 100
