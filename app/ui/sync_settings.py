"""The Settings page's "HQ sync" group: on/off, HQ address, store key (kept in the secret
vault by the settings code, never shown back), what the sender is doing, "Send now", and
"Use a provisioning file…" (app.sync.provisioning, off the GUI thread)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig, SyncConfig
from app.sync.outbox_sender import SyncStatus, ago
from app.sync.provisioning import Enrolled, ProvisioningError, provision
from app.ui.workers import Background

SYNC_LABELS = {"sync": "HQ address", "sync.hq_url": "HQ address", "sync.store_key": "Store key"}
KEY_SAVED = "saved (type a new key to replace it)"
KEY_NONE = "the key HQ issued for this store"
REFRESH_MS = 3000
UNREACHABLE = (
    "cannot reach hq",
    "did not accept a connection",
    "cannot find hq",
    "did not answer",
    "connection to hq broke",
    "temporarily unavailable",
)


class SyncPort(Protocol):
    """What the group needs of the engine (app.ui.engine_host.EngineHost)."""

    def sync_status(self) -> SyncStatus | None: ...

    def sync_now(self) -> bool: ...


def problem_headline(error: str) -> str:
    """The kind of trouble, in a few words, from the sender's last error."""
    low = error.lower()
    if "refused this store's key" in low:
        return "HQ refused the store key"
    if "refused this store" in low:
        return "HQ refused this store"
    if any(s in low for s in UNREACHABLE):
        return "HQ unreachable"
    return "Sync problem"


def status_text(enabled: bool, status: SyncStatus | None, now: float | None = None) -> str:
    """One or two plain sentences about the HQ sync for the Settings page."""
    if not enabled:
        return "Off: this store's figures stay on this computer."
    if status is None:
        return "Not sending: sync starts when the settings are saved and the cameras run."
    now = time.time() if now is None else now
    last = (
        "nothing sent yet"
        if status.last_success_at is None
        else f"last upload {ago(now - status.last_success_at)}"
    )
    waiting = "all sent" if status.backlog == 0 else f"{status.backlog} rows waiting"
    if status.last_error and status.state != "sending":
        return f"{problem_headline(status.last_error)}: {status.last_error}. ({last}, {waiting})"
    if status.state == "sending":
        return f"Sending to HQ now… ({last}, {waiting})"
    return f"Working: {last}, {waiting}."


def downloads_or_home() -> Path:
    """Where the provisioning file picker starts: a file from HQ is usually downloaded."""
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


class SyncGroup(QGroupBox):
    provisioned = Signal(object)  # AppConfig enrolled with HQ (holds the key): to be saved

    def __init__(
        self,
        port: SyncPort | None = None,
        clock: Callable[[], float] = time.time,
        *,
        store: Any = None,
        background: Background | None = None,
    ):
        super().__init__("HQ sync")
        self.port, self.clock = port, clock
        self.store = store
        self.background = background or Background(1, self, name="vitrine-provision")
        self.cfg = AppConfig()
        lay = QVBoxLayout(self)
        self.enabled = QCheckBox("Send aggregates to HQ (counts and sales totals, no images)")
        lay.addWidget(self.enabled)
        f = QFormLayout()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://hq.example.com")
        self.url_error = QLabel("")
        self.url_error.setObjectName("Error")
        self.url_error.setWordWrap(True)
        self.url_error.setVisible(False)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(KEY_NONE)
        self.key.setToolTip("Kept in this computer's secret vault, never in config.toml.")
        f.addRow("HQ address", _with(self.url, self.url_error, stretch_first=False))
        f.addRow("Store key", self.key)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(300)
        self.send_now = QPushButton("Send now")
        self.send_now.clicked.connect(self.sync_now)
        f.addRow("Status", _with(self.status, self.send_now))
        self.use_file = QPushButton("Use a provisioning file…")
        self.use_file.setToolTip("The file HQ made for this store: enrols it and turns sync on.")
        self.use_file.clicked.connect(self.choose_provisioning_file)
        self.use_file.setEnabled(store is not None)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        f.addRow("From HQ", _with(self.use_file, self.outcome, stretch_first=False))
        lay.addLayout(f)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh_status)
        self.enabled.toggled.connect(self.refresh_status)

    # --- visible only: the status is read every few seconds ---------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh_status()
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        super().hideEvent(event)

    def refresh_status(self) -> None:
        status = self.port.sync_status() if self.port is not None else None
        if self.enabled.isChecked() != self.cfg.sync.enabled:
            self.status.setText("Save the settings to apply this.")
        else:
            self.status.setText(status_text(self.cfg.sync.enabled, status, self.clock()))
        self.send_now.setEnabled(status is not None)

    def sync_now(self) -> bool:
        woke = self.port.sync_now() if self.port is not None else False
        if woke:
            self.status.setText("Sending to HQ now…")
        else:
            self.status.setText("Not sending: save the settings with sync on first.")
        return woke

    # --- provisioning file ------------------------------------------------------------
    def choose_provisioning_file(self) -> None:
        store = self.store
        if store is None:
            return
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Provisioning file from HQ",
            str(downloads_or_home()),
            "Provisioning files (*.json);;All files (*)",
        )
        if not chosen:
            return
        cfg = self.cfg
        self.use_file.setEnabled(False)
        self._outcome("Enrolling with HQ…", "")
        self.background.submit(
            lambda: provision(Path(chosen), store, cfg), self._enrolled, self._not_enrolled
        )

    def _enrolled(self, done: Enrolled) -> None:
        self.use_file.setEnabled(True)
        self.set_config(done.cfg)
        self._outcome(done.message, "Success")
        self.provisioned.emit(done.cfg)

    def _not_enrolled(self, exc: BaseException) -> None:
        self.use_file.setEnabled(True)
        why = str(exc) if isinstance(exc, ProvisioningError) else f"enrolment failed: {exc}"
        self._outcome(why, "Error")

    def _outcome(self, text: str, kind: str) -> None:
        self.outcome.setObjectName(kind)
        self.outcome.setText(text)
        self.outcome.style().unpolish(self.outcome)
        self.outcome.style().polish(self.outcome)

    # --- the form ---------------------------------------------------------------------
    def set_config(self, cfg: AppConfig) -> None:
        self.cfg = cfg
        self.enabled.setChecked(cfg.sync.enabled)
        self.url.setText(cfg.sync.hq_url)
        self.key.clear()
        has_key = bool(cfg.sync.store_key.get_secret_value())
        self.key.setPlaceholderText(KEY_SAVED if has_key else KEY_NONE)
        self._url_problem("")
        self.refresh_status()

    def apply(self, sync: dict[str, Any]) -> None:
        """Write the form into the `sync` part of a config dict; ValueError naming the field."""
        self._url_problem("")
        typed = self.key.text().strip()
        sync.update(enabled=self.enabled.isChecked(), hq_url=self.url.text().strip())
        sync["store_key"] = typed or self.cfg.sync.store_key.get_secret_value()
        problem = None
        if sync["enabled"] and not sync["hq_url"]:
            problem = "HQ address: give the address HQ gave you (https://…) to send to"
        elif sync["enabled"] and not sync["store_key"]:
            problem = "Store key: type the key HQ issued for this store"
        else:
            try:
                SyncConfig.model_validate(sync)
            except ValidationError as err:
                e = err.errors()[0]
                field = SYNC_LABELS.get(".".join(["sync", *map(str, e["loc"])]), "HQ address")
                problem = f"{field}: {e['msg'].removeprefix('Value error, ')}"
        if problem is not None:
            self._url_problem(problem.split(": ", 1)[1] if problem[0] == "H" else "")
            raise ValueError(problem)

    def _url_problem(self, text: str) -> None:
        """What is wrong with the address, beside it (hidden when nothing is)."""
        self.url_error.setText(text)
        self.url_error.setVisible(bool(text))


def _with(first: QWidget, second: QWidget, stretch_first: bool = True) -> QWidget:
    """Two widgets side by side in one form row (equal shares unless `stretch_first`)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first, 1)
    row.addWidget(second, 0 if stretch_first else 1)
    return box
