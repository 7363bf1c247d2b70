"""Restoring the store from the desktop, once the manager confirmed it in Settings: the
engine and the store are closed, the backup replaces the store (app.store.restore, in a
thread while a busy dialog shows), the outcome is told, and Vitrine closes; the next
start opens the restored store. Closing is what is reliable here: every page and dialog
holds the open store, so none may outlive it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from app.store.restore import RestoreError, restore_backup

log = logging.getLogger(__name__)


def run_restore(
    db_path: Path, backup: Path, key: bytes, parent: QWidget | None
) -> tuple[bool, str]:
    """(restored, what to tell the manager); the GUI stays painted while it runs."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["result"] = restore_backup(db_path, backup, key)
        except RestoreError as exc:
            outcome["error"] = str(exc)
        except Exception as exc:  # restore_backup swaps last: the store is as it was
            log.exception("restore failed")
            outcome["error"] = f"the restore failed ({exc})"

    worker = threading.Thread(target=work, name="vitrine-restore")
    worker.start()
    busy = QProgressDialog("Restoring the backup…", "", 0, 0, parent)
    busy.setWindowTitle("Vitrine")
    busy.setCancelButton(None)
    busy.setWindowModality(Qt.WindowModality.ApplicationModal)
    busy.setMinimumDuration(0)
    busy.show()
    while worker.is_alive():
        QApplication.processEvents()
        worker.join(0.05)
    busy.close()
    result = outcome.get("result")
    if result is None:
        return False, (
            f"Nothing was restored: {outcome.get('error')}. The store is as it was. "
            "Vitrine closes now: start it again to continue."
        )
    previous = getattr(result, "previous_saved_to", None)
    kept = f" The data it replaced is kept in {previous}." if previous else ""
    return True, (
        f"The store was restored from {backup.name}.{kept} Vitrine closes now: start it "
        "again to continue with the restored data."
    )


def tell(parent: QWidget | None, restored: bool, text: str) -> None:
    if restored:
        QMessageBox.information(parent, "Store restored", text)
    else:
        QMessageBox.warning(parent, "Store not restored", text)
