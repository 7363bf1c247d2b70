"""Acceptance (issue 19): in anonymous mode a day of `serve` on a clip full of faces
leaves zero face rows and no face file, and the face detector never runs.

`python main.py serve` runs as a child (tests/sync/anonymous_serve_child.py) on the
Hamilton clip (faces on a stage, looped) with the real person detector, syncing to the
real HQ receiver (real PostgreSQL). Once the camera is live its wall clock runs 3600 times faster than real time
from 14:00 the day before yesterday, so about 25 real seconds are a store day that
crosses local midnight:
frames, events and rollups land on two local days, the daily jobs (retention) run every
few fake hours, HQ aggregates are recomputed and sent. The face detector and embedder
are rigged to fail and to say so if anything builds them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from sqlalchemy import text

from app.store.db import open_store
from app.store.retention import last_run
from tests.conftest import MEDIA, REPO
from tests.sync.conftest import Hq
from tests.vision.conftest import free_port

HAMILTON = MEDIA / "video" / "short_hamilton_clip.mp4"
TZ = "Europe/Paris"
SPEED = 3600.0  # fake seconds per real second: one real second is an hour
RUN_S = 25.0  # real seconds of serve: a fake day and an hour
DAILY_S = 6.0  # real seconds between the daily jobs' runs (6 fake hours)
FACE_TABLES = ("face_records", "face_visits", "opt_outs", "staff")
PASS = "test-pw-1234"


def _config(hq: Hq) -> dict[str, object]:
    return {
        "store": {"id": hq.store_id, "name": "Anonymous store", "timezone": TZ,
                  "privacy_mode": "anonymous"},
        "cameras": [{"name": "stage", "type": "file", "url": str(HAMILTON), "loop": True,
                     "realtime": True}],
        "zones": [{"name": "floor", "camera": "stage",
                   "polygon": [[0, 0], [640, 0], [640, 360], [0, 360]]}],
        "analysis": {"fps": 2},
        "lan": {"host": "127.0.0.1", "port": free_port(), "allow_http": True},
        "sync": {"enabled": True, "hq_url": hq.base_url, "store_key": hq.key, "interval_s": 5},
    }  # fmt: skip


def _local_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(TZ)).date().isoformat()


@pytest.mark.slow
def test_a_day_of_anonymous_serve_keeps_no_face_row_and_never_runs_the_face_detector(
    hq: Hq, _isolated_data_dir: Path, tmp_path: Path
) -> None:
    data = _isolated_data_dir
    (data / "config.toml").write_text(tomli_w.dumps(_config(hq)))
    marker = tmp_path / "face-models-built.txt"
    # yesterday's local midnight, 10 fake hours (10 real seconds) after the camera is live
    midnight = datetime.combine(datetime.now(ZoneInfo(TZ)).date(), dtime(0), ZoneInfo(TZ))
    start = (midnight - timedelta(days=1, hours=10)).timestamp()
    env = {**os.environ, "VITRINE_DATA_DIR": str(data), "VITRINE_STORE_PASSPHRASE": PASS,
           "PYTHONPATH": str(REPO)}  # fmt: skip
    child = [sys.executable, "tests/sync/anonymous_serve_child.py", str(start), str(SPEED),
             str(DAILY_S), str(marker)]  # fmt: skip
    proc = subprocess.Popen(child, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    went_live = threading.Event()

    def read() -> None:
        for line in proc.stdout or []:
            lines.append(line)
            if "camera stage: live" in line:
                went_live.set()

    reader = threading.Thread(target=read, name="serve-output", daemon=True)
    reader.start()
    try:
        assert went_live.wait(180), "the camera never went live:\n" + "".join(lines[-40:])
        time.sleep(RUN_S)  # the fake day runs
        assert proc.poll() is None, "serve exited:\n" + "".join(lines[-40:])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        reader.join(10)
    assert code == 0, "".join(lines[-40:])
    assert not marker.exists(), f"face models were built: {marker.read_text()}"

    store = open_store(passphrase=PASS)  # the data directory's store, as serve opened it
    try:
        with store.read_session() as s:
            conn = s.connection()
            faces = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in FACE_TABLES
            }
            buckets = [r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT bucket_start FROM rollups WHERE scope = 'zone'")]  # fmt: skip
            kinds = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT kind FROM sync_outbox")}
        ran = last_run(store)
    finally:
        store.close()
    assert faces == dict.fromkeys(FACE_TABLES, 0)
    # it was a store day: people counted on both sides of local midnight, the daily jobs
    # ran late in the fake day, aggregates went to HQ, none of them about faces
    assert len({_local_day(b) for b in buckets}) >= 2, (buckets, "".join(lines[-40:]))
    assert ran is not None and ran >= start + 18 * 3600, (ran, start)
    assert "rollup" in kinds and "visit_day" not in kinds
    with hq.engine.connect() as conn:
        at_hq = conn.execute(
            text("SELECT count(*) FROM rollups WHERE store_id = :s"), {"s": hq.store_id}
        ).scalar()
        visit_days = conn.execute(text("SELECT count(*) FROM visit_days")).scalar()
    assert at_hq and visit_days == 0
    names = [p.name.lower() for p in data.rglob("*")]
    assert not [n for n in names if "face" in n or "yunet" in n or "embed" in n], names
