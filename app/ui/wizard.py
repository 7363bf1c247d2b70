"""First-run wizard: store name, privacy mode, first camera (or the demo camera).

`FirstRunWizard(background, base_cfg).exec()`; on acceptance `result_config()` is the
new AppConfig (the caller saves it to the store and the TOML file and starts the
engine). Every page refuses bad input with a message on the page itself.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo, available_timezones

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.config import AppConfig, CameraConfig, StoreIdentity
from app.paths import demo_clip
from app.ui import camera_dialog, style
from app.ui.brand import logo_pixmap
from app.ui.camera_dialog import CameraForm, demo_shapes, first_error
from app.ui.privacy_modes import Mode, PrivacyChooser
from app.ui.questions import Role, ask, question
from app.ui.workers import Background

# The mode descriptions (what each keeps, for how long, who sees it) live with the
# chooser the wizard and Settings share: app/ui/privacy_modes.py.


def local_timezone() -> str:
    name = time.tzname[0] if time.tzname else "UTC"
    try:
        from pathlib import Path

        link = Path("/etc/localtime").resolve()
        if "zoneinfo/" in str(link):
            name = str(link).split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return name if name in available_timezones() else "UTC"


def fill_timezones(box: QComboBox, current: str) -> None:
    """Make `box` an editable list of the IANA time zones showing `current` (the wizard
    and Settings pick the time zone the same way)."""
    box.setEditable(True)
    box.addItems(sorted(available_timezones()))
    box.setCurrentText(current)


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a time zone, or None when it is one."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return f"“{name}” is not a time zone: pick one in the list (e.g. Europe/Paris)."
    return None


HEADER_ONLY = (
    " "  # a blank subtitle: QWizard's modern style shows its header (and logo) only with one
)


def title(text: str, sub: str = "") -> str:
    """A page's title, with its subtitle under it in the same label (QWizard's own
    subtitle label is indented against the title in the modern style)."""
    head = f"<span style='font-size:17pt; font-weight:700; color:{style.INK}'>{text}</span>"
    if not sub:
        return head
    return (
        f"{head}<br><span style='font-size:10pt; font-weight:400; color:{style.MUTED}'>{sub}</span>"
    )


def _error_label() -> QLabel:
    lab = QLabel("")
    lab.setObjectName("Error")
    lab.setWordWrap(True)
    return lab


class StorePage(QWizardPage):
    def __init__(self, cfg: AppConfig) -> None:
        super().__init__()
        self.setTitle(
            title(
                "Welcome to Vitrine",
                "Three short steps and your store's counts start. "
                "You can change all of it later in Settings.",
            )
        )
        self.name = QLineEdit(cfg.store.name if cfg.store.name != "My store" else "")
        self.name.setPlaceholderText("e.g. Rivoli — Paris 1er")
        self.tz = QComboBox()
        fill_timezones(
            self.tz, cfg.store.timezone if cfg.store.timezone != "UTC" else local_timezone()
        )
        self.capacity = QSpinBox()  # optional: the Analytics' congestion and utilisation
        self.capacity.setRange(0, 100000)
        self.capacity.setSuffix(" people")
        self.capacity.setSpecialValueText("skip (set it later in Settings)")
        self.capacity.setValue(cfg.kpis.capacity or 0)
        self.capacity.setToolTip(
            "How many people the store holds at once. Optional: the Analytics page "
            "measures how full the store gets against it."
        )
        self.error = _error_label()
        form = QFormLayout(self)
        if cfg.sync.enabled and cfg.store.name != "My store":
            # enrolled from HQ's provisioning file: HQ named the store, no need to ask
            self.name.setReadOnly(True)
            self.name.setToolTip("Given by HQ's provisioning file; change it later in Settings.")
            form.addRow("", QLabel(f"Enrolled with HQ as store <b>{cfg.store.id}</b>."))
        form.addRow("Store name", self.name)
        form.addRow("Time zone", self.tz)
        form.addRow("People it holds", self.capacity)
        note = QLabel(
            "Optional: how many people the store holds at once, for the Analytics page "
            "(how full the store gets). Leave it to skip."
        )
        note.setObjectName("Muted")
        note.setWordWrap(True)
        form.addRow("", note)
        form.addRow("", self.error)
        self.name.textEdited.connect(lambda _t: self.error.setText(""))
        self.tz.currentTextChanged.connect(lambda _t: self.error.setText(""))

    def validatePage(self) -> bool:
        name = self.name.text().strip()
        if not name:
            self.error.setText("Please give the store a name (it appears on reports).")
            return False
        problem = timezone_problem(self.tz.currentText().strip())
        if problem is not None:
            self.error.setText(problem)
            return False
        self.error.setText("")
        return True


class PrivacyPage(QWizardPage):
    def __init__(self, cfg: AppConfig) -> None:
        super().__init__()
        self.setTitle(title("Privacy", "How much Vitrine may remember about the people it counts."))
        lay = QVBoxLayout(self)
        self.chooser = PrivacyChooser(cfg)
        self.anonymous = self.chooser.anonymous
        lay.addWidget(self.chooser)
        self.error = _error_label()
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.chooser.changed.connect(lambda: self.error.setText(""))

    def mode(self) -> Mode:
        return self.chooser.mode()

    def validatePage(self) -> bool:
        problem = self.chooser.problem()
        self.error.setText(problem or "")
        return problem is None


class CameraPage(QWizardPage):
    def __init__(self, background: Background) -> None:
        super().__init__()
        self.setTitle(
            title(
                "Your first camera",
                "A network or USB camera, a video file, or the demo camera to look around.",
            )
        )
        self.form = CameraForm(background)
        self.form.set_kind("demo" if demo_clip() is not None else "rtsp")  # names it too
        self.error = _error_label()
        lay = QVBoxLayout(self)
        lay.addWidget(self.form)
        lay.addWidget(self.error)
        self.camera: CameraConfig | None = None

    def validatePage(self) -> bool:
        try:
            cam = self.form.camera_config()
        except ValueError as exc:
            self.error.setText(self.form.problem_to_show(str(exc)))
            return False
        if self.form.testing:
            return False  # Next again once the test answers
        if self.form.needs_test(cam):  # the picture first, then on or asked
            self.error.setText("")
            wizard = self.wizard()
            self.form.test_then(wizard.next)
            return False
        why = self.form.failed_test(cam)
        if why is not None and not camera_dialog.confirm_failed_camera(self, why):
            return False
        self.camera = cam
        self.error.setText("")
        return True


class DonePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(title("All set"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addStretch(1)


class FirstRunWizard(QWizard):
    def __init__(
        self, background: Background, base: AppConfig | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.base = base or AppConfig()
        self.setWindowTitle("Set up Vitrine")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setTitleFormat(Qt.TextFormat.RichText)
        self.setSubTitleFormat(Qt.TextFormat.RichText)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, logo_pixmap(48))
        self.setMinimumSize(680, 640)  # an IP camera's fields and its snapshot, uncut
        self.store_page = StorePage(self.base)
        self.privacy_page = PrivacyPage(self.base)
        self.camera_page = CameraPage(background)
        self.done_page = DonePage()
        for page in (self.store_page, self.privacy_page, self.camera_page, self.done_page):
            page.setSubTitle(HEADER_ONLY)  # the subtitle proper is part of the title
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Open Vitrine")
        self.currentIdChanged.connect(self._page_changed)
        self._result: AppConfig | None = None

    def _page_changed(self, _id: int) -> None:
        if self.currentPage() is self.done_page:
            cfg = self.build_config()
            cam = cfg.cameras[0].name if cfg.cameras else "none"
            self.done_page.summary.setText(
                f"<p><b>{cfg.store.name}</b> ({cfg.store.timezone}), "
                f"{cfg.store.privacy_mode.replace('_', ' ')} mode.</p><p>First camera: <b>{cam}</b>.</p>"
                + (
                    f"<p>The store holds {cfg.kpis.capacity} people.</p>"
                    if cfg.kpis.capacity
                    else ""
                )
                + "<p>Next: right-click the camera and choose <i>Edit zones and lines</i> to draw "
                "your entrance line and the areas you want to measure.</p>"
            )

    def build_config(self) -> AppConfig:
        store = StoreIdentity(
            id=self.base.store.id,
            name=self.store_page.name.text().strip() or "My store",
            timezone=self.store_page.tz.currentText().strip() or "UTC",
            privacy_mode=self.privacy_page.mode(),
        )
        faces = self.base.faces.model_copy(
            update={"notice_confirmed_at": self.privacy_page.chooser.notice_time(time.time())}
        )
        cams = list(self.base.cameras)
        cam = self.camera_page.camera
        zones, lines = list(self.base.zones), list(self.base.lines)
        if cam is not None:
            cams = [c for c in cams if c.name != cam.name] + [cam]
            clip = demo_clip()
            if clip is not None and cam.url == str(clip) and not zones and not lines:
                zones, lines = demo_shapes(cam.name)
        kpis = self.base.kpis.model_copy(
            update={"capacity": self.store_page.capacity.value() or self.base.kpis.capacity}
        )
        try:
            return self.base.model_copy(
                update={
                    "store": store,
                    "faces": faces,
                    "kpis": kpis,
                    "cameras": cams,
                    "zones": zones,
                    "lines": lines,
                }
            )
        except ValidationError as err:  # pragma: no cover - fields are checked per page
            raise ValueError(first_error(err)) from None

    def accept(self) -> None:
        self._result = AppConfig.model_validate(self.build_config().model_dump())
        super().accept()

    def ask_before_quitting(self) -> bool:
        """Whether to stop setting up after all (Cancel, Esc, the window's close button):
        nothing is saved and Vitrine closes. Keep setting up is the default."""
        chosen = ask(
            question(
                self,
                "Stop setting up?",
                "Stop setting up Vitrine and close it?",
                "The store's details on these pages are not kept, and Vitrine counts nobody "
                "until it is set up. Next time it asks for the passphrase you have just chosen "
                "(the store itself is already created, encrypted with it), then starts this "
                "setup again.",
                [("Keep setting up", Role.RejectRole), ("Close Vitrine", Role.DestructiveRole)],
                default="Keep setting up",
            )
        )
        return chosen == "Close Vitrine"

    def reject(self) -> None:
        if self.ask_before_quitting():
            super().reject()

    def result_config(self) -> AppConfig | None:
        return self._result
