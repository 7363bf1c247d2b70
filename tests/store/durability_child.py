"""Child process of the durability test: ingests events forever and prints the id of each
event on stdout once its future is resolved (i.e. after COMMIT). Killed with SIGKILL.

usage: python durability_child.py DB_PATH FIRST_ID
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from sqlalchemy.orm import Session

from app.events import LineCross, NewVisitor
from app.store.db import open_store
from app.store.models import Setting
from app.store.writer import WriterOptions

_out_lock = threading.Lock()


def _save_last(n: int) -> Callable[[Session], object]:
    return lambda s: s.merge(Setting(key="dur.last", value=str(n)))


def _acked(event_id: int) -> Callable[[Future[None]], None]:
    def cb(fut: Future[None]) -> None:
        if fut.exception() is None:
            with _out_lock:
                sys.stdout.write(f"{event_id}\n")
                sys.stdout.flush()

    return cb


def main() -> None:
    db, next_id = Path(sys.argv[1]), int(sys.argv[2])
    store = open_store(db, writer_options=WriterOptions(batch_max=200, batch_ms=2))
    stop = threading.Event()
    while not stop.is_set():
        last: Future[None] | None = None
        for _ in range(100):
            ev = LineCross("dur", 1_700_000_000.0 + next_id, next_id, 0.0, "door", "in", next_id)
            fut = store.writer.ingest(ev)
            fut.add_done_callback(_acked(next_id))
            last = fut
            next_id += 1
        crop = NewVisitor(
            "dur", 1_700_000_000.0 + next_id, 0, 0.0, "z", f"v{next_id}", 0, b"x" * 3000
        )
        store.writer.ingest(crop)
        store.writer.submit(_save_last(next_id))
        assert last is not None
        last.result(30)


if __name__ == "__main__":
    main()
