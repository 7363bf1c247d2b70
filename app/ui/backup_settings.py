"""The Settings page's "Backup and restore" group: an encrypted copy of the store now
(off the GUI thread, with progress), the recent copies, and "Restore from a backup…",
which checks the chosen file and asks before anything is replaced (the replacing itself
is app.ui.restore_flow, once the engine and the store are closed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.store.backup import Progress, backups_dir
from app.store.restore import describe, list_backups, verify_backup
from app.ui.workers import Background

SHOWN_BACKUPS = 8


class BackupStore(Protocol):
    """What the group needs of the open store (app.store.db.Store)."""

    path: Path

    @property
    def key(self) -> bytes | None: ...

    def backup(self, dest: Path | None = None, progress: Progress | None = None) -> Path: ...


def confirm_text(backup: Path, made: float, backups: Path) -> str:
    when = time.strftime("%d %B %Y at %H:%M", time.localtime(made))
    return (
        f"<p>Replace this store's data by the backup of <b>{when}</b> ({backup.name})?</p>"
        "<p>Everything recorded since that backup (visitors, counts, sales, alerts, "
        "settings) is replaced by what the backup holds. The current data is backed up "
        f"first, to {backups}, so nothing is lost.</p>"
        "<p>Vitrine stops counting, restores the backup and then closes: start it again "
        "to continue with the restored data.</p>"
    )


def ask_confirmation(parent: QWidget, text: str) -> bool:
    box = QMessageBox(parent)
    box.setWindowTitle("Restore from a backup")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(text)
    go = box.addButton("Back up the current data and restore", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is go


class BackupGroup(QGroupBox):
    restore_requested = Signal(object)  # Path of a checked backup the manager confirmed
    backup_done = Signal(object)  # Path written
    _progress = Signal(int, int)  # from the worker thread, delivered on the GUI thread

    def __init__(
        self,
        store: BackupStore | None = None,
        background: Background | None = None,
        confirm: Callable[[QWidget, str], bool] = ask_confirmation,
    ) -> None:
        super().__init__("Backup and restore")
        self.store = store
        self.background = background or Background(1, self, name="vitrine-backup")
        self.confirm = confirm
        self.last_written: Path | None = None
        lay = QVBoxLayout(self)
        intro = QLabel(
            "An encrypted copy of all the store's data (it opens with the same passphrase). "
            "Keep a copy away from this computer too."
        )
        intro.setWordWrap(True)
        intro.setObjectName("Muted")
        lay.addWidget(intro)
        row = QHBoxLayout()
        self.back_up = QPushButton("Back up now")
        self.back_up.clicked.connect(self.start_backup)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.show_folder = QPushButton("Show the folder")
        self.show_folder.setVisible(False)
        self.show_folder.clicked.connect(self.open_folder)
        row.addWidget(self.back_up)
        row.addWidget(self.progress, 1)
        row.addWidget(self.result, 1)
        row.addWidget(self.show_folder)
        lay.addLayout(row)
        lay.addWidget(QLabel("Recent backups"))
        self.recent = QListWidget()
        self.recent.setMaximumHeight(100)
        lay.addWidget(self.recent)
        row = QHBoxLayout()
        self.restore = QPushButton("Restore from a backup…")
        self.restore.clicked.connect(self.choose_restore)
        self.restore_error = QLabel("")
        self.restore_error.setObjectName("Error")
        self.restore_error.setWordWrap(True)
        row.addWidget(self.restore)
        row.addWidget(self.restore_error, 1)
        lay.addLayout(row)
        self._progress.connect(self._on_progress)
        for b in (self.back_up, self.restore):
            b.setEnabled(store is not None)
        self.refresh_list()

    # --- backup -----------------------------------------------------------------------
    def start_backup(self) -> None:
        store = self.store
        if store is None:
            return
        self.back_up.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first pages are counted
        self.progress.setVisible(True)
        self.result.setText("")
        self.show_folder.setVisible(False)
        self.background.submit(
            lambda: store.backup(None, lambda done, total: self._progress.emit(done, total)),
            self._backed_up,
            self._backup_failed,
        )

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _backed_up(self, dest: Path) -> None:
        self.last_written = dest
        self.progress.setVisible(False)
        self.back_up.setEnabled(True)
        size = dest.stat().st_size / 1e6
        self.result.setText(f"Saved: {dest.name} ({size:.1f} MB) in {dest.parent}")
        self.result.setToolTip(str(dest))
        self.show_folder.setVisible(True)
        self.refresh_list()
        self.backup_done.emit(dest)

    def _backup_failed(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        self.back_up.setEnabled(True)
        full = "full" in str(exc).lower() or "No space" in str(exc)
        why = "the disk is full" if full else str(exc)
        self.result.setText(f"The backup could not be written: {why}")

    def open_folder(self) -> None:
        if self.store is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(backups_dir(self.store.path))))

    def refresh_list(self) -> None:
        self.recent.clear()
        if self.store is None:
            self.recent.addItem("No store is open.")
            return
        entries = list_backups(self.store.path)[:SHOWN_BACKUPS]
        for e in entries:
            self.recent.addItem(f"{describe(e)}   {e.path.name}")
        if not entries:
            self.recent.addItem("No backup yet.")

    # --- restore ----------------------------------------------------------------------
    def choose_restore(self) -> None:
        if self.store is None:
            return
        start = backups_dir(self.store.path)
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Restore from a backup", str(start), "Vitrine backups (*.db);;All files (*)"
        )
        if chosen:
            self.restore_from(Path(chosen))

    def restore_from(self, backup: Path) -> None:
        """Check `backup` off the GUI thread; if it is good, ask; if confirmed, request it."""
        store = self.store
        if store is None or store.key is None:
            self.restore_error.setText("Only an encrypted store can be restored here.")
            return
        key = store.key
        self.restore_error.setText("Checking the backup…")
        self.restore.setEnabled(False)

        def checked(_revision: str) -> None:
            self.restore.setEnabled(True)
            self.restore_error.setText("")
            text = confirm_text(backup, backup.stat().st_mtime, backups_dir(store.path))
            if self.confirm(self, text):
                self.restore_requested.emit(backup)

        def refused(exc: BaseException) -> None:
            self.restore.setEnabled(True)
            self.restore_error.setText(f"Not restored: {exc}")

        self.background.submit(lambda: verify_backup(backup, key), checked, refused)
