"""`run_desktop()`: the desktop app's start and stop, in order.

QApplication and style -> open the encrypted store (asking for its passphrase when no
keychain holds the key) -> first-run wizard when the store has no identity yet -> main
window with the engine started off the GUI thread -> on close: bridge, engine threads,
worker threads and the store writer are stopped and joined.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import CliError
from app.events import EventBus
from app.paths import InstanceLock, data_dir
from app.store.keys import MIN_PASSPHRASE
from app.sync.autoprovision import auto_provision
from app.ui import restore_flow
from app.ui.bridge import EngineBridge
from app.ui.config_store import load_startup_config, save_config
from app.ui.engine_host import EngineFactory, EngineHost
from app.ui.main_window import MainWindow
from app.ui.style import apply_style
from app.ui.wizard import FirstRunWizard
from app.ui.workers import Background

log = logging.getLogger(__name__)

GUI_SWITCH_INTERVAL_S = 0.002


class PassphraseDialog(QDialog):
    """Asks for the store's passphrase (and a confirmation when creating the store)."""

    def __init__(
        self,
        creating: bool,
        error: str = "",
        parent: QWidget | None = None,
        auto_unlock: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock the Vitrine store")
        self.creating = creating
        lay = QVBoxLayout(self)
        intro = QLabel(
            f"Choose a passphrase of at least {MIN_PASSPHRASE} characters for this store's "
            "encrypted data. "
            "Write it down and keep it safe: without it the data cannot be read, not even by "
            "us."
            if creating
            else "Enter the store's passphrase, the one chosen when Vitrine was set up on this "
            "computer, or its recovery key. (This computer has no system keychain to "
            "remember it.)"
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Passphrase", self.passphrase)
        if creating:
            form.addRow("Again", self.confirm)
        lay.addLayout(form)
        self.auto_unlock = QCheckBox("Unlock automatically on this computer")
        self.auto_unlock.setToolTip(
            "The store opens by itself when Vitrine starts on this computer (after a power "
            "cut too), from a key file bound to this computer. A recovery key is shown once."
        )
        self.auto_unlock.setChecked(auto_unlock)
        lay.addWidget(self.auto_unlock)
        self.error = QLabel(error)
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _ok(self) -> None:
        p = self.passphrase.text()
        if len(p) < MIN_PASSPHRASE:
            self.error.setText(f"Use at least {MIN_PASSPHRASE} characters.")
        elif self.creating and p != self.confirm.text():
            self.error.setText("The two passphrases differ.")
        else:
            self.accept()


def open_store_interactive(parent: QWidget | None = None) -> Any:
    """Open the store; ask for a passphrase when needed. None if the user gives up."""
    from app.store.db import default_path, open_store
    from app.store.errors import NeedPassphrase, StoreError, WrongKey
    from app.store.unlock import MachineChanged, auto_path

    passphrase: str | None = None
    error = ""
    auto = False
    while True:
        try:
            store = open_store(passphrase=passphrase)
        except (NeedPassphrase, WrongKey) as exc:
            if isinstance(exc, WrongKey):
                error = "That passphrase does not open this store."
            elif isinstance(exc, MachineChanged):
                error = str(exc)
            was_on = auto or auto_path(default_path()).exists()
            dlg = PassphraseDialog(
                creating=not default_path().exists(), error=error, parent=parent, auto_unlock=was_on
            )
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return None
            passphrase, auto = dlg.passphrase.text(), dlg.auto_unlock.isChecked()
            continue
        except StoreError as exc:
            QMessageBox.critical(parent, "Vitrine", f"The store cannot be opened: {exc}")
            return None
        if passphrase is not None:
            set_auto_unlock(store.path, passphrase, auto, parent)
        return store


def set_auto_unlock(db_path: Any, passphrase: str, on: bool, parent: QWidget | None) -> None:
    """Apply the "Unlock automatically on this computer" box; the recovery key, made the
    first time, is shown once."""
    from app.store.errors import StoreError
    from app.store.unattended import disable_auto_unlock, enable_auto_unlock

    try:
        if not on:
            disable_auto_unlock(db_path)
            return
        recovery = enable_auto_unlock(db_path, passphrase)
    except StoreError as exc:
        QMessageBox.warning(parent, "Vitrine", f"Automatic unlock could not be set up: {exc}")
        return
    if recovery:
        show_recovery_key(recovery, parent)


def show_recovery_key(recovery: str, parent: QWidget | None) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("Your recovery key")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(
        f"<p>Recovery key:</p><p><b><tt>{recovery}</tt></b></p><p>Write it down and keep it "
        "away from this computer. It opens the store wherever the passphrase is asked (a new "
        "computer, a forgotten passphrase). It is shown only now.</p>"
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


class DesktopApp:
    """The pieces of a running desktop session (tests build it with a fake engine)."""

    def __init__(self, store: Any, engine_factory: EngineFactory | None = None) -> None:
        self.store = store
        self.background = Background()
        self.bus = EventBus()
        cfg, self.first_run = load_startup_config(store)
        self.provisioning = auto_provision(store, cfg)  # an installer's file, first start
        if self.provisioning is not None:
            log.info("%s", self.provisioning.message)
            if self.provisioning.cfg is not None:
                cfg = self.provisioning.cfg
        self.cfg = cfg
        self.engine_factory = engine_factory
        self.window: MainWindow | None = None
        self.host: EngineHost | None = None
        self.bridge: EngineBridge | None = None

    def run_wizard(self) -> bool:
        """Run the first-run wizard modally; False if the user cancelled."""
        wiz = FirstRunWizard(self.background, self.cfg)
        if wiz.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.finish_wizard(wiz)

    def finish_wizard(self, wiz: FirstRunWizard) -> bool:
        cfg = wiz.result_config()
        if cfg is None:
            return False
        self.cfg = cfg
        save_config(self.store, cfg, "first-run wizard").result(timeout=30)
        self.first_run = False
        return True

    def open_window(self) -> MainWindow:
        # hand the GIL over sooner: the GUI thread waits at most ~2 ms for the engine's
        # Python threads instead of the default 5 ms (restored on close)
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self.host = EngineHost(self.cfg, self.bus, self.store, self.background, self.engine_factory)
        self.bridge = EngineBridge(self.bus)
        self.window = MainWindow(self.host, self.bridge, self.background, self.store)
        self.window.show()
        self.window.settings.backup.restore_requested.connect(self.restore_and_quit)
        self.bridge.start()
        if self.cfg.cameras:
            self.host.start()
        return self.window

    def restore_and_quit(self, backup: Path) -> bool:
        """Settings > Restore, confirmed: stop the engine, close the store, restore, tell
        the outcome, close (the next start opens the restored store)."""
        store, window = self.store, self.window
        if store is None or store.key is None or window is None:
            return False
        key, path = store.key, store.path
        window.shutdown()
        self.background.shutdown()
        store.close()
        self.store = None
        restored, text = restore_flow.run_restore(path, backup, key, window)
        restore_flow.tell(window, restored, text)
        window.close()
        QApplication.quit()
        return restored

    def close(self) -> None:
        """Stop everything (window, engine, workers) then the store; idempotent."""
        if self.window is not None:
            self.window.shutdown()
            self.window.close()
            sys.setswitchinterval(self._switch)
        self.background.shutdown()
        if self.store is not None:
            self.store.close()
            self.store = None


def no_display() -> bool:
    """A Linux session without any screen (and no Qt platform chosen): Qt would abort."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_desktop() -> int:
    if QApplication.instance() is None and no_display():
        raise CliError(
            "no display to open the window on (DISPLAY is not set); run it in a desktop "
            "session, under xvfb-run, or use 'python main.py serve' for the headless engine"
        )
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Vitrine")
    app.setOrganizationName("Vitrine")
    apply_style(app)
    from app.ui.brand import app_icon

    app.setWindowIcon(app_icon())  # the same mark as the tablets
    log.info("data directory: %s", data_dir())
    lock = InstanceLock()
    if not lock.acquire():
        already_running()
        return 1
    try:
        store = open_store_interactive()
        if store is None:
            return 1
        desktop = DesktopApp(store)
        try:
            if desktop.first_run and not desktop.run_wizard():
                return 0
            window = desktop.open_window()
            window.raise_()
            return int(app.exec())
        finally:
            desktop.close()
    finally:
        lock.release()


def already_running() -> None:
    """Another Vitrine (a window, or `serve`) counts with this data directory."""
    QMessageBox.warning(
        None,
        "Vitrine is already open",
        "Vitrine is already running on this computer, with the same store.\n\n"
        "Two would count every person twice. Switch to the Vitrine window that is open "
        f"(or stop 'python main.py serve'), then try again.\n\nData: {data_dir()}",
    )
