"""The privacy mode choice, shared by the first-run wizard and Settings: three modes,
each described by exactly what it keeps, for how long and who sees it (with this
store's own retention figures), and the notice confirmation repeat visitors needs."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.config import AppConfig

Mode = Literal["anonymous", "staff_exclusion", "repeat_visitors"]
MODES: tuple[Mode, ...] = ("anonymous", "staff_exclusion", "repeat_visitors")
LABELS: dict[Mode, str] = {
    "anonymous": "Anonymous (recommended)",
    "staff_exclusion": "Staff exclusion (opt-in)",
    "repeat_visitors": "Repeat visitors (opt-in)",
}
NOTICE = "The store displays the recognition notice at every entrance"


def _days(x: float) -> str:
    n = round(x, 1)
    return f"{n:g} day" + ("" if n == 1 else "s")


def describe(mode: Mode, cfg: AppConfig) -> str:
    """What a mode keeps, for how long, and who sees it (HTML, this store's figures)."""
    r, f = cfg.retention, cfg.faces
    if mode == "anonymous":
        return (
            "No face is ever looked for or stored. <b>Kept:</b> counts and times of entries, "
            f"exits, visits and queues (the detail {_days(r.raw_events_days)}, hourly and "
            f"daily totals for good); a picture of each visitor's body for "
            f"{_days(r.person_crops_days)}, encrypted, so that salespeople can find customers "
            "on the paired tablets. A person is a random number for one visit only. "
            "<b>Seen by:</b> salespeople (pictures, on the tablets) and the manager on this "
            "computer (every picture viewed is logged); head office gets totals only."
        )
    if mode == "staff_exclusion":
        return (
            "<b>Kept:</b> everything Anonymous keeps, plus each consenting staff member's "
            "face template (encrypted, on this computer only, until removed) and a count of "
            "staff seen. Faces are compared with enrolled staff only: any other face is "
            "dropped at once (no template, no picture); people on the opt-out list are "
            "never recognised. Staff are left out of the counts and the tablets' list. "
            "<b>Seen by:</b> the manager, names only, never a face."
        )
    return (
        "<b>Kept:</b> everything Staff exclusion keeps, plus a face template of each "
        "visitor (never a name, never a picture), encrypted, for "
        f"{_days(f.visitor_days)} after their visit (30 days at most), to tell new from "
        "returning visitors. <b>Seen by:</b> nobody as such: only “new” / “returning” and "
        "their counts are shown. Needs a notice at the entrances; the choice is logged "
        "with its time."
    )


class PrivacyChooser(QWidget):
    """Three radio buttons with their descriptions and the notice check box."""

    changed = Signal()

    def __init__(self, cfg: AppConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.buttons: dict[Mode, QRadioButton] = {}
        self.texts: dict[Mode, QLabel] = {}
        for mode in MODES:
            b = QRadioButton(LABELS[mode])
            self.group.addButton(b)
            self.buttons[mode] = b
            lab = QLabel()
            lab.setWordWrap(True)
            lab.setContentsMargins(28, 0, 0, 8)
            self.texts[mode] = lab
            lay.addWidget(b)
            lay.addWidget(lab)
            b.toggled.connect(self._toggled)
        self.notice = QCheckBox(NOTICE)
        self.notice.setStyleSheet("QCheckBox { margin-left: 28px; }")
        lay.addWidget(self.notice)
        self.notice.toggled.connect(lambda _on: self.changed.emit())
        self.set_config(cfg)

    @property
    def anonymous(self) -> QRadioButton:
        return self.buttons["anonymous"]

    def set_config(self, cfg: AppConfig) -> None:
        self.cfg = cfg
        for mode in MODES:
            self.texts[mode].setText(describe(mode, cfg))
        self.buttons[cfg.store.privacy_mode].setChecked(True)
        self.notice.setChecked(cfg.faces.notice_confirmed_at is not None)
        self._toggled()

    def mode(self) -> Mode:
        return next(m for m, b in self.buttons.items() if b.isChecked())

    def _toggled(self, _on: bool = False) -> None:
        self.notice.setEnabled(self.mode() == "repeat_visitors")
        self.changed.emit()

    def problem(self) -> str | None:
        if self.mode() == "repeat_visitors" and not self.notice.isChecked():
            return "Repeat visitors: confirm that the store displays the notice at its entrances."
        return None

    def notice_time(self, now: float) -> float | None:
        """faces.notice_confirmed_at for the chosen mode (kept when already confirmed)."""
        if self.mode() != "repeat_visitors" or not self.notice.isChecked():
            return self.cfg.faces.notice_confirmed_at if self.notice.isChecked() else None
        return self.cfg.faces.notice_confirmed_at or now
