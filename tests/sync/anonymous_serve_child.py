"""Child process of tests/sync/test_anonymous_serve.py: `python main.py serve` with a
fast wall clock and the face models rigged to fail.

    python tests/sync/anonymous_serve_child.py START SPEED DAILY_S MARKER

The wall clock (`time.time`, so frame times, events, rollups, sync and retention's
"now") starts at START, at real speed while serve starts (loading the detector takes a
while on a busy machine), then SPEED times faster than real time from the moment the
camera is live (serve prints "camera stage: live"); the store's daily jobs
(retention, with its planner statistics) run every DAILY_S real seconds instead of
daily, and the HQ aggregates are recomputed every 2 s instead of every minute. Any
attempt to build the face detector or embedder appends its class name to MARKER and
fails.
"""

from __future__ import annotations

import functools
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def main() -> int:
    start, speed, daily_s = (float(a) for a in sys.argv[1:4])
    marker = Path(sys.argv[4])
    real = time.time
    t0 = real()
    live: list[float] = []  # real time the camera went live, fake time then

    def fake() -> float:
        now = real()
        if not live:
            return start + (now - t0)
        return live[1] + (now - live[0]) * speed

    time.time = fake  # every later time.time() call, and every default clock below

    from app.cli import serve

    printer = serve._LivePrinter.__call__

    def on_status(self: Any, e: Any) -> None:
        if e.status == "live" and not live:
            now = real()
            live.extend([now, start + (now - t0)])
        printer(self, e)

    serve._LivePrinter.__call__ = on_status  # type: ignore[method-assign]

    from app.vision.faces import detect, embed

    def refuse(self: object, *a: object, **k: object) -> None:
        with marker.open("a", encoding="utf-8") as fh:
            fh.write(type(self).__name__ + "\n")
        raise RuntimeError("a face model was loaded in anonymous mode")

    detect.FaceDetector.__init__ = refuse  # type: ignore[method-assign]
    embed.Embedder.__init__ = refuse  # type: ignore[method-assign]

    from app.store import db as store_db
    from app.store.retention import RetentionScheduler
    from app.sync import outbox_sender

    class DailyJobs(RetentionScheduler):
        def __init__(self, store: Any, cfg: Any = None, **_: Any) -> None:
            super().__init__(store, cfg, interval=timedelta(seconds=daily_s), clock=time.time)

    store_db.RetentionScheduler = DailyJobs  # type: ignore[misc]
    outbox_sender.SyncOptions = functools.partial(  # type: ignore[misc,assignment]
        outbox_sender.SyncOptions, refresh_every_s=2.0
    )
    from app.cli.main import main as cli

    return cli(["serve", "--http"])


if __name__ == "__main__":
    sys.exit(main())
