"""Render the counting audit window into docs/screenshots/counting-audit.png.

    DISPLAY=:93 python scripts/screenshot_audit.py   # under Xvfb

The real window on a real encrypted store (a temporary one): the TUD-Stadtmitte clip
taken as the recording of the camera, replayed at 1x while this script presses I / O
at each true crossing of one door line (from the clip's ground truth, as a manager
would), then "Finish and compare": Vitrine's counts from the real pipeline.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
OUT = REPO / "docs" / "screenshots" / "counting-audit.png"
LINE = "v480"


def main() -> int:
    os.environ.setdefault("VITRINE_STORE_PASSPHRASE", "screenshot-passphrase-1234")
    tmp = Path(tempfile.mkdtemp(prefix="vitrine-audit-shot-"))
    os.environ["VITRINE_DATA_DIR"] = str(tmp)
    import eval_tud
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from app.config import parse_config
    from app.store.db import open_store
    from app.ui.audit_dialog import AuditDialog
    from app.ui.workers import Background

    app = QApplication.instance() or QApplication(sys.argv)
    s, e = eval_tud.LINES[LINE]
    cfg = parse_config({
        "cameras": [{"name": "entrance", "type": "file", "url": str(eval_tud.TUD / "TUD-Stadtmitte.mp4")}],
        "lines": [{"name": LINE, "camera": "entrance", "start": list(s), "end": list(e)}],
        "models": {"dir": str(eval_tud.MODELS), "allow_download": False},
    })  # fmt: skip
    truth = eval_tud.true_crossings(
        eval_tud.load_gt(eval_tud.TUD / "gt" / "gt.txt"), eval_tud.LINES
    )
    truth = sorted((c for c in truth if c.line == LINE), key=lambda c: c.t)
    store = open_store(tmp / "vitrine.db")
    bg = Background()
    dlg = AuditDialog(cfg, store, bg)
    dlg.resize(1200, 780)
    dlg.show()

    def wait(cond, ms: int = 120_000) -> None:  # noqa: ANN001
        loop = QEventLoop()
        t = QTimer(interval=10)
        t.timeout.connect(lambda: cond() and loop.quit())
        t.start()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        t.stop()

    def press(key: Qt.Key) -> None:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            app.sendEvent(dlg.video, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier))

    dlg.use_clip(eval_tud.TUD / "TUD-Stadtmitte.mp4")
    wait(lambda: dlg.playing)
    for c in truth:
        wait(lambda c=c: dlg.t >= c.t)
        press(Qt.Key.Key_I if c.direction == "in" else Qt.Key.Key_O)
    dlg.finish()
    wait(lambda: dlg.history.rowCount() == 1)
    if dlg.issues.count():
        dlg.issues.setCurrentRow(0)
        dlg.issues.itemClicked.emit(dlg.issues.item(0))
    wait(lambda: False, 500)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    dlg.grab().save(str(OUT))
    r = dlg.outcome
    print(f"{OUT}: marks {len(dlg.marks)}, counted {len(dlg.counted or [])}, "
          f"matched {r.matched if r else '?'}, accuracy {r.accuracy if r else '?'}")  # fmt: skip
    dlg.close()
    bg.shutdown()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
