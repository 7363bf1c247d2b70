"""Settings: store identity, privacy mode, retention, the store figures of the KPIs,
models and execution provider, analysis rate, alert thresholds, HQ sync; backup and
restore. The form is checked against the settings tree (pydantic) on Save; a bad
value is refused with a message naming the field, and nothing is applied."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.ui import style
from app.ui.alerts_settings import ALERT_LABELS, AlertsGroup
from app.ui.backup_settings import BackupGroup, BackupStore
from app.ui.capacity_row import CapacityRow
from app.ui.kpi_settings import KPI_LABELS, StoreFiguresGroup
from app.ui.privacy_modes import PrivacyChooser
from app.ui.questions import Role, ask, question
from app.ui.sync_settings import SYNC_LABELS, SyncGroup, SyncPort
from app.ui.wizard import fill_timezones, timezone_problem
from app.ui.workers import Background

FIELD_LABELS = {
    "store.name": "Store name",
    "store.timezone": "Time zone",
    "retention.person_crops_days": "Keep person pictures",
    "faces.visitor_days": "Keep visitor face templates",
    "faces.notice_confirmed_at": "Repeat visitors",
    "faces.staff_zones": "Staff-only zones",
    "faces.staff_zone_minutes": "Staff after",
    "retention.raw_events_days": "Keep detailed events",
    "analysis.fps": "Analysis rate",
    "analysis.detector.model": "People detector",
    "analysis.detector.provider": "Run the detector on",
    "analysis.detector.confidence": "Detection confidence",
    **ALERT_LABELS,
    **SYNC_LABELS,
    **KPI_LABELS,
}
PROVIDERS = [
    ("Automatic (the fastest this computer has)", "auto"),
    ("The main processor (CPU)", "cpu"),
    ("An NVIDIA graphics card (CUDA)", "cuda"),
    ("Apple's Neural Engine (Core ML)", "coreml"),
]
# ONNX Runtime's names for what runs the detector, as the Settings page says them
SAVE, DISCARD, CANCEL = "Save", "Discard", "Cancel"
UNSAVED = "Unsaved changes"
RUNS_ON = {
    "CPUExecutionProvider": "the main processor (CPU)",
    "CUDAExecutionProvider": "the NVIDIA graphics card (CUDA)",
    "CoreMLExecutionProvider": "Apple's Neural Engine (Core ML)",
}


def describe_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"])
    msg = e["msg"].removeprefix("Value error, ")
    return f"{FIELD_LABELS.get(loc, loc)}: {msg}"


class _WheelIfFocused:
    """Mixin for inputs in a scrolling form: the mouse wheel over an input that has not
    been clicked scrolls the page instead of changing the value (a manager scrolling
    down to Save must not lower the retention on the way)."""

    def _init_wheel(self) -> None:
        cast(QWidget, self).setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt's name)
        me = cast(QWidget, self)
        if me.hasFocus():
            super().wheelEvent(event)  # type: ignore[misc]
            return
        area = me.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            event.ignore()
            return
        QApplication.sendEvent(area.verticalScrollBar(), event)  # the page scrolls


class FormSpinBox(_WheelIfFocused, QDoubleSpinBox):
    def __init__(self) -> None:
        super().__init__()
        self._init_wheel()


class FormComboBox(_WheelIfFocused, QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self._init_wheel()


class DaysSpinBox(FormSpinBox):
    """Days to one decimal, shown without a trailing zero: "7 days", "0.5 days", "1 day"."""

    def __init__(self) -> None:
        super().__init__()
        self.valueChanged.connect(lambda v: self.setSuffix(" day" if v == 1 else " days"))

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        return text.rstrip("0").removesuffix(point) if point in text else text


def _spin(
    lo: float, hi: float, decimals: int, suffix: str, kind: type[FormSpinBox] = FormSpinBox
) -> QDoubleSpinBox:
    s = kind()
    s.setRange(lo, hi)  # wider than allowed: the settings tree says what is valid
    s.setDecimals(decimals)
    s.setSuffix(suffix)
    return s


class SettingsView(QWidget):
    save_requested = Signal(object)  # AppConfig

    def __init__(
        self,
        provider: Callable[[], str] | None = None,
        parent: QWidget | None = None,
        *,
        sync: SyncPort | None = None,
        backups: BackupStore | None = None,
        background: Background | None = None,
    ) -> None:
        super().__init__(parent)
        self.provider = provider or (lambda: "")
        self.cfg = AppConfig()
        self._loading = False  # set_config filling the form: not an edit
        self._baseline: object = None  # the form as loaded or saved, to tell an edit
        self._dirty = False
        self.inner = inner = QWidget()
        inner.setMaximumWidth(920)
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(20, 18, 20, 20)
        lay.setSpacing(12)
        title = QLabel("Settings")
        title.setObjectName("PageTitle")
        lay.addWidget(title)

        store = QGroupBox("Store")
        f = QFormLayout(store)
        self.name = QLineEdit()
        self.tz = FormComboBox()
        fill_timezones(self.tz, self.cfg.store.timezone)
        self.store_id = QLabel()
        self.store_id.setObjectName("Muted")
        f.addRow("Store name", self.name)
        f.addRow("Time zone", self.tz)
        f.addRow("Store id", self.store_id)
        lay.addWidget(store)

        privacy = QGroupBox("Privacy")
        pv = QVBoxLayout(privacy)
        self.privacy = PrivacyChooser(self.cfg)
        self.anonymous = self.privacy.anonymous
        pv.addWidget(self.privacy)
        staff = QFormLayout()
        self.staff_zones = QLineEdit()
        self.staff_zones.setPlaceholderText("e.g. Stock room, Back office")
        self.staff_minutes = _spin(0, 100000, 0, " min")
        self.staff_minutes.setToolTip("0: off. Works in every mode; no face is used.")
        staff.addRow("Staff-only zones", self.staff_zones)
        staff.addRow("Staff after", self.staff_minutes)
        note = QLabel(
            "Without faces: whoever spends more than these minutes in the staff-only zones "
            "is treated as staff and left out of the counts."
        )
        note.setObjectName("Muted")
        note.setWordWrap(True)
        staff.addRow("", note)
        pv.addLayout(staff)
        lay.addWidget(privacy)

        keep = QGroupBox("Retention")
        f = QFormLayout(keep)
        self.crops = _spin(0, 100000, 1, " days", DaysSpinBox)
        self.faces = _spin(0, 100000, 1, " days", DaysSpinBox)
        self.faces.setToolTip(
            "Repeat visitors mode only (30 days at most): the other modes keep no visitor's face."
        )
        self.events = _spin(0, 100000, 1, " days", DaysSpinBox)
        f.addRow("Keep person pictures", self.crops)
        f.addRow("Keep visitor face templates", self.faces)
        # visitor templates exist in repeat visitors mode only: greyed otherwise
        self.privacy.changed.connect(
            lambda: self.faces.setEnabled(self.privacy.mode() == "repeat_visitors")
        )
        self.faces.setEnabled(self.privacy.mode() == "repeat_visitors")
        f.addRow("Keep detailed events", self.events)
        note = QLabel("Hourly and daily totals are kept; only the detail behind them expires.")
        note.setObjectName("Muted")
        f.addRow("", note)
        lay.addWidget(keep)
        self.figures = StoreFiguresGroup(_spin)
        lay.addWidget(self.figures)

        models = QGroupBox("Analysis (for your IT team)")
        f = QFormLayout(models)
        self.fps = _spin(0, 100, 1, " frames/s per camera")
        self.model = QLineEdit()
        self.provider_box = FormComboBox()
        for label, key in PROVIDERS:
            self.provider_box.addItem(label, key)
        self.active = QLabel()
        self.active.setObjectName("Muted")
        self.models_dir = QLineEdit()
        self.models_dir.setPlaceholderText("default: the models Vitrine came with")
        self.fps.setToolTip(
            "How many pictures a second of each camera are analysed. 5 follows people "
            "walking; 10 counts a busy door more exactly and costs twice the processor time."
        )
        self.model.setToolTip(
            "The model that finds people in the pictures (yolox_nano by default). Change it "
            "only for a model your IT team supplies."
        )
        f.addRow("Analysis rate", self.fps)
        f.addRow("People detector", self.model)
        f.addRow("Run the detector on", self.provider_box)
        f.addRow("Running on now", self.active)
        f.addRow("Models folder", self.models_dir)
        self.capacity = CapacityRow(background)
        f.addRow("This machine", self.capacity)
        lay.addWidget(models)
        self.alerts = AlertsGroup()
        lay.addWidget(self.alerts)
        self.sync = SyncGroup(sync, store=backups, background=background)
        self.sync.provisioned.connect(self._provisioned)
        lay.addWidget(self.sync)

        lay.addSpacing(8)
        self.backup = BackupGroup(backups, background)  # acts at once: not part of Save
        lay.addWidget(self.backup)
        lay.addStretch(1)
        self.page = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        # Save stays in view at the bottom of the page, outside the scrolling form
        self.save_bar = bar = QFrame()
        bar.setObjectName("SaveBar")
        bar.setStyleSheet(
            f"#SaveBar {{ background:{style.CARD}; border-top:1px solid {style.LINE}; }}"
        )
        row = QHBoxLayout(bar)
        row.setContentsMargins(20, 8, 20, 8)
        self.error = QLabel("")
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        self.saved = QLabel("")
        self.saved.setObjectName("Success")
        self.unsaved = QLabel(UNSAVED)
        self.unsaved.setStyleSheet(f"color:{style.WARN}; font-weight:600;")
        self.unsaved.setToolTip(
            "Edits not saved yet: Save settings applies them, Revert drops them"
        )
        self.unsaved.hide()
        self.revert = revert = QPushButton("Revert")
        revert.clicked.connect(self.revert_edits)
        self.save_button = save = QPushButton("Save settings")
        save.setObjectName("Primary")
        save.clicked.connect(self.save)
        row.addWidget(self.error, 1)
        row.addWidget(self.saved)
        row.addWidget(self.unsaved)
        row.addWidget(revert)
        row.addWidget(save)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(bar)
        self._watch_edits()

    def show_setting(self, key: str) -> QWidget:
        """Scroll to the input of the setting `key` (e.g. "kpis.capacity") and focus it:
        where a page that misses a setting sends the manager."""
        widget = self.figures.widget_for(key) if key.startswith("kpis.") else self
        self.page.ensureWidgetVisible(self.figures, 0, 0)  # the group's title first
        self.page.ensureWidgetVisible(widget, 40, 40)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return widget

    # --- unsaved edits ---------------------------------------------------------------
    def _watch_edits(self) -> None:
        """Every input of the form (not the backups, which act at once) tells an edit;
        called again after set_config for the inputs it made (the queue areas' choices)."""
        for w in self.inner.findChildren(QWidget):
            if w.property("vitrine_watched") or self.backup.isAncestorOf(w):
                continue
            signal = None
            if isinstance(w, QLineEdit) and not isinstance(w.parent(), QComboBox | QDoubleSpinBox):
                signal = w.textChanged
            elif isinstance(w, QDoubleSpinBox):
                signal = w.valueChanged
            elif isinstance(w, QComboBox):
                signal = w.currentTextChanged
            elif isinstance(w, QAbstractButton) and w.isCheckable():
                signal = w.toggled
            elif isinstance(w, QTableWidget) and w is not self.figures.preview:
                w.model().rowsInserted.connect(self._edited)
                w.model().rowsRemoved.connect(self._edited)
                signal = w.itemChanged
            if signal is not None:
                signal.connect(self._edited)
                w.setProperty("vitrine_watched", True)

    def _form_state(self) -> object:
        """What Save would save (or why it cannot), to compare with the loaded form."""
        rows = self.figures.rows()  # as typed: a new, still empty shift is an edit too
        try:
            data = self.form_config().model_dump()
        except ValueError as exc:
            return ("problem", str(exc), rows)
        faces = data["faces"]
        faces["notice_confirmed_at"] = faces["notice_confirmed_at"] is not None  # not the time
        return (data, rows)

    def _edited(self, *_args: object) -> None:
        if self._loading:
            return
        self._set_dirty(self._form_state() != self._baseline)

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        self.unsaved.setVisible(dirty)
        if dirty:
            self.saved.setText("")  # an older "Saved ✓" would say these are saved

    def has_unsaved_changes(self) -> bool:
        return self._dirty

    def _mark_clean(self) -> None:
        self._baseline = self._form_state()
        self._set_dirty(False)

    def revert_edits(self) -> None:
        self.set_config(self.cfg)

    def confirm_leave(self, doing: str = "leaving Settings") -> bool:
        """Before the page is left or Vitrine quits with unsaved edits: Save (True when
        saved; a wrong value keeps the page, its message shown), Discard (the form goes
        back to the saved settings) or Cancel (False). True at once when nothing is unsaved."""
        if not self._dirty:
            return True
        box = question(
            self,
            "Unsaved settings",
            "Save the changes made on the Settings page?",
            f"They are not applied yet; {doing} without saving drops them.",
            [(SAVE, Role.AcceptRole), (DISCARD, Role.DestructiveRole), (CANCEL, Role.RejectRole)],
            default=SAVE,
            escape=CANCEL,
            icon=QMessageBox.Icon.Warning,
        )
        chosen = ask(box)
        if chosen == SAVE:
            return self.save()
        if chosen == DISCARD:
            self.revert_edits()
            return True
        return False

    def set_config(self, cfg: AppConfig) -> None:
        self._loading = True
        try:
            self._set_config(cfg)
        finally:
            self._loading = False
        self._watch_edits()
        self._mark_clean()

    def _set_config(self, cfg: AppConfig) -> None:
        self.capacity.cfg = cfg
        self.cfg = cfg
        self.name.setText(cfg.store.name)
        self.tz.setCurrentText(cfg.store.timezone)
        self.store_id.setText(cfg.store.id)
        self.privacy.set_config(cfg)
        self.crops.setValue(cfg.retention.person_crops_days)
        self.faces.setValue(cfg.faces.visitor_days)
        self.staff_zones.setText(", ".join(cfg.faces.staff_zones))
        self.staff_minutes.setValue(cfg.faces.staff_zone_minutes)
        self.events.setValue(cfg.retention.raw_events_days)
        self.fps.setValue(cfg.analysis.fps)
        self.model.setText(cfg.analysis.detector.model)
        self.provider_box.setCurrentIndex(
            [k for _, k in PROVIDERS].index(cfg.analysis.detector.provider)
        )
        self.models_dir.setText(cfg.models.dir)
        self.figures.set_config(cfg)
        self.alerts.set_config(cfg)
        self.sync.set_config(cfg)
        self.error.setText("")
        self.refresh_provider()

    def refresh_provider(self) -> None:
        active = self.provider()
        self.active.setText(
            RUNS_ON.get(active, active) if active else "the detector is not running"
        )

    def form_config(self) -> AppConfig:
        """The config the form describes; ValueError with a readable message."""
        tz = self.tz.currentText().strip()
        problem = timezone_problem(tz)
        if problem is not None:
            raise ValueError(f"Time zone: {problem}")
        problem = self.privacy.problem()
        if problem is not None:
            raise ValueError(problem)
        data: dict[str, Any] = self.cfg.model_dump()
        data["store"].update(
            name=self.name.text().strip(), timezone=tz, privacy_mode=self.privacy.mode()
        )
        data["faces"].update(
            visitor_days=self.faces.value(),
            notice_confirmed_at=self.privacy.notice_time(time.time()),
            staff_zones=[z.strip() for z in self.staff_zones.text().split(",") if z.strip()],
            staff_zone_minutes=self.staff_minutes.value(),
        )
        data["retention"].update(
            person_crops_days=self.crops.value(),
            raw_events_days=self.events.value(),
        )
        data["analysis"]["fps"] = self.fps.value()
        data["analysis"]["detector"].update(
            model=self.model.text().strip(), provider=self.provider_box.currentData()
        )
        data["models"]["dir"] = self.models_dir.text().strip()
        self.figures.apply(data["kpis"])
        self.alerts.apply(data["alerts"])
        self.sync.apply(data["sync"])
        if not data["analysis"]["detector"]["model"]:
            raise ValueError("People detector: give a model name (e.g. yolox_nano) or a file path")
        try:
            return AppConfig.model_validate(data)
        except ValidationError as err:
            raise ValueError(describe_error(err)) from None

    def _provisioned(self, cfg: AppConfig) -> None:
        """Enrolled from a provisioning file: saved at once (the key goes to the vault)."""
        self.set_config(cfg)
        self.saved.setText("Saved ✓")
        self.save_requested.emit(cfg)

    def save(self) -> bool:
        self.saved.setText("")
        try:
            cfg = self.form_config()
        except ValueError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.cfg = cfg
        self._mark_clean()
        self.saved.setText("Saved ✓")
        self.save_requested.emit(cfg)
        return True
