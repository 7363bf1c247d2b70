"""Add, edit or remove a camera. The same form is the wizard's "first camera" page.

Kinds: IP camera (RTSP URL, user, masked password), USB camera (index), video file
(picker), demo camera (the PETS clip looped at real-time pace, when present). "Test
connection" grabs one frame in a worker thread and shows it; the GUI never waits.
Passwords are never logged and never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import SecretStr, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import CameraConfig, LineConfig, ZoneConfig
from app.paths import demo_clip
from app.ui.camera_finder import CameraFinder, align_form_labels
from app.ui.folders import last_folder, remember_folder
from app.ui.questions import Role, ask, question
from app.ui.snapshot import grab_snapshot, redact
from app.ui.snapshot_view import SnapshotView
from app.ui.style import set_role
from app.ui.workers import Background

log = logging.getLogger(__name__)

KINDS = [
    ("IP camera (RTSP)", "rtsp"),
    ("USB camera", "usb"),
    ("Video file", "file"),
    ("Demo camera", "demo"),
]
DEFAULT_NAMES = {"demo": "Demo camera"}  # any other kind: "Entrance"
NO_SNAPSHOT = "The snapshot appears here"
DEMO_MISSING = (
    "The demo clip is not on this computer. It is the PETS 2009 footage that comes with "
    "development checkouts (shared/media/video/pets09_s2l1_480x360.avi); set "
    "VITRINE_DEMO_CLIP to any video file to use it instead, or add a real camera."
)


def first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(x) for x in e["loc"])
    msg = e["msg"].removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def default_name(kind: str) -> str:
    """The name the form suggests for a camera of this kind."""
    return DEFAULT_NAMES.get(kind, "Entrance")


def demo_camera(name: str = DEFAULT_NAMES["demo"]) -> CameraConfig | None:
    clip = demo_clip()
    if clip is None:
        return None
    return CameraConfig(name=name, type="file", url=str(clip), loop=True, realtime=True)


def demo_shapes(camera: str) -> tuple[list[ZoneConfig], list[LineConfig]]:
    """A zone over the plaza's walkway and a counting line across it, so that a new
    manager's demo shows counts and dwell at once (the PETS clip is 480x360)."""
    zone = ZoneConfig(
        name="Plaza", camera=camera, polygon=[(20, 170), (470, 150), (470, 330), (20, 350)]
    )
    line = LineConfig(name="Path", camera=camera, start=(240, 120), end=(240, 340))
    return [zone], [line]


class CameraForm(QWidget):
    """Fields of one camera + a "Test connection" snapshot."""

    tested = Signal(bool, str)  # ok, message

    def __init__(self, background: Background, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.background = background
        self.snapshot: np.ndarray | None = None
        self._failed: tuple[CameraConfig, str] | None = None  # the last failed test
        self._passed: CameraConfig | None = None  # the last camera that gave a picture
        self._test_id = 0  # a test's answer is shown only if the kind has not changed since
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._suggested: str | None = default_name(KINDS[0][1])  # None: a name was chosen
        self.name = QLineEdit(self._suggested)
        self.kind = QComboBox()
        for label, key in KINDS:
            self.kind.addItem(label, key)
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)

        self.pages = QStackedWidget()
        self.url = QLineEdit()
        self.url.setPlaceholderText("rtsp://192.168.1.20:554/stream1")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept encrypted, never shown")
        self.finder = CameraFinder(background, lambda: (self.user.text(), self.password.text()))
        self.finder.chosen.connect(self._found_camera)
        ip_rows = [("", self.finder), ("Address", self.url), ("User", self.user)]
        self.pages.addWidget(self._rows([*ip_rows, ("Password", self.password)]))
        self.usb_index = QSpinBox()
        self.usb_index.setRange(0, 63)
        self.pages.addWidget(self._rows([("Camera index", self.usb_index)]))
        self.path = QLineEdit()
        self.path.setPlaceholderText("a video file on this computer")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.path, 1)
        h.addWidget(browse)
        # always played at its own pace, like a live camera: read as fast as it decodes,
        # a file would be over in seconds with a few frames analysed (a recording is
        # analysed in full by `python main.py analyze`)
        self.loop = QCheckBox("Loop the video (start again at the end)")
        self.loop.setChecked(True)
        self.pages.addWidget(self._rows([("File", row), ("", self.loop)]))
        self.demo_note = QLabel()
        self.demo_note.setWordWrap(True)
        self.pages.addWidget(self._rows([("", self.demo_note)]))
        self.kind.currentIndexChanged.connect(self._kind_changed)

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.preview = SnapshotView(NO_SNAPSHOT)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.pages)
        pages = [self.pages.widget(i) for i in range(self.pages.count())]
        align_form_labels([form] + [p.layout() for p in pages if p is not None])
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        lay.addLayout(test_row)
        lay.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addStretch(1)
        self._kind_changed()
        for edit in (self.url, self.user, self.password, self.path):
            edit.textEdited.connect(self._forget_test)
        self.usb_index.valueChanged.connect(self._forget_test)
        self.kind.currentIndexChanged.connect(self._forget_test)
        self.kind.currentIndexChanged.connect(self._new_source)

    def _found_camera(self, url: str, name: str) -> None:
        """A camera chosen among those found: its address, and its name if none typed."""
        self.url.setText(url)
        self._forget_test()
        if self._suggested is not None and self.name.text() == self._suggested:
            self._suggested = name
            self.name.setText(name)

    @staticmethod
    def _rows(rows: list[tuple[str, QWidget]]) -> QWidget:
        w = QWidget()
        f = QFormLayout(w)
        f.setContentsMargins(0, 0, 0, 0)
        f.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for label, widget in rows:
            f.addRow(label, widget)
        return w

    def kind_key(self) -> str:
        return str(self.kind.currentData())

    def set_kind(self, key: str) -> None:
        self.kind.setCurrentIndex([k for _, k in KINDS].index(key))

    def _kind_changed(self) -> None:
        key = self.kind_key()
        current = [k for _, k in KINDS].index(key)
        self.pages.setCurrentIndex(current)
        for i in range(self.pages.count()):  # the stack is as tall as the page shown
            pol = QSizePolicy.Policy.Preferred if i == current else QSizePolicy.Policy.Ignored
            page = self.pages.widget(i)
            if page is not None:
                page.setSizePolicy(pol, pol)
        self.pages.adjustSize()
        clip = demo_clip()
        if clip is None:
            self.demo_note.setText(DEMO_MISSING)
            set_role(self.demo_note, "Error")
        else:
            self.demo_note.setText(
                f"Plays {clip.name} (people walking across a plaza) in a loop at real-time pace, "
                "so you can try zones, lines and reports before connecting a real camera."
            )
            set_role(self.demo_note, "Muted")

    def _new_source(self) -> None:
        """Another kind of camera: drop the old source's picture, and suggest a name for
        the new kind unless the name was typed or set."""
        self._test_id += 1
        self.clear_snapshot()
        if self._suggested is not None and self.name.text() == self._suggested:
            self._suggested = default_name(self.kind_key())
            self.name.setText(self._suggested)

    def clear_snapshot(self) -> None:
        self.snapshot = None
        self.preview.clear_image()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a video file",
            str(last_folder("videos")),
            "Videos (*.mp4 *.avi *.mkv *.mov *.webm);;All files (*)",
        )
        if path:
            remember_folder("videos", path)
            self.path.setText(path)

    def set_camera(self, cam: CameraConfig) -> None:
        self._suggested = None  # a camera's own name stays whatever its kind
        self.name.setText(cam.name)
        clip = demo_clip()
        if cam.type == "file" and clip is not None and Path(cam.url) == clip:
            self.set_kind("demo")
        elif cam.type in ("rtsp", "usb", "file"):
            self.set_kind(cam.type)
        self.url.setText(cam.url if cam.type == "rtsp" else "")
        self.user.setText(cam.username)
        self.password.setText(cam.password.get_secret_value())
        self.usb_index.setValue(cam.usb_index)
        self.path.setText(cam.url if cam.type == "file" else "")
        self.loop.setChecked(cam.loop)

    def problem_to_show(self, problem: str) -> str:
        """What the window around the form should say of `problem`: nothing when the
        form itself says it already (the demo clip missing), else the problem."""
        return "" if problem == self.demo_note.text() else problem

    def camera_config(self) -> CameraConfig:
        """The camera described by the form; ValueError with a readable message."""
        name = self.name.text().strip()
        key = self.kind_key()
        try:
            if key == "demo":
                cam = demo_camera(name or default_name("demo"))
                if cam is None:
                    raise ValueError(DEMO_MISSING)
                return cam
            if key == "rtsp":
                url = self.url.text().strip()
                if url and "://" not in url:
                    raise ValueError("the address must start with rtsp:// or http://")
                return CameraConfig(
                    name=name,
                    type="rtsp",
                    url=url,
                    username=self.user.text().strip(),
                    password=SecretStr(self.password.text()),
                )
            if key == "usb":
                return CameraConfig(name=name, type="usb", usb_index=self.usb_index.value())
            path = self.path.text().strip()
            if path and not Path(path).is_file():
                raise ValueError(f"no such video file: {path}")
            loop = self.loop.isChecked()
            return CameraConfig(name=name, type="file", url=path, loop=loop, realtime=True)
        except ValidationError as err:
            raise ValueError(first_error(err)) from None

    def _forget_test(self) -> None:
        """The camera changed: the last test's verdict no longer applies."""
        self._failed = self._passed = None
        if self.test_button.isEnabled():  # not while a test is running
            self.result.setText("")

    def failed_test(self, cam: CameraConfig) -> str | None:
        """Why `cam` gave no picture, if it is exactly the camera last tested and that
        test failed."""
        if self._failed is not None and self._failed[0] == cam:
            return self._failed[1]
        return None

    @property
    def testing(self) -> bool:
        return not self.test_button.isEnabled()

    def needs_test(self, cam: CameraConfig) -> bool:
        """Whether `cam` was not tested as it is: saved untested, a wrong address would
        only show up later as an offline tile."""
        return cam != self._passed and self.failed_test(cam) is None

    def test_then(self, then: Callable[[], None]) -> None:
        """Test the camera, then call `then` if the form still shows that camera."""
        cam = self.camera_config()

        def once(_ok: bool, _msg: str) -> None:
            self.tested.disconnect(once)
            try:
                same = self.camera_config() == cam
            except ValueError:
                same = False
            if same:
                then()

        self.tested.connect(once)
        self.test_connection()

    def test_connection(self) -> None:
        try:
            cam = self.camera_config()
        except ValueError as exc:
            self._show_result(False, str(exc))
            return
        self.test_button.setEnabled(False)
        where = f"USB camera {cam.usb_index}" if cam.type == "usb" else redact(cam.url)
        self.result.setText(f"Connecting to {where}…")
        set_role(self.result, "Muted")
        test_id = self._test_id

        def got(img: np.ndarray) -> None:
            if self._still_current(test_id):
                self._passed = cam
                self._got_snapshot(img)

        def failed(exc: BaseException) -> None:
            if self._still_current(test_id):
                self._snapshot_failed(cam, exc)

        self.background.submit(lambda: grab_snapshot(cam), got, failed)

    def _still_current(self, test_id: int) -> bool:
        """Whether a test's answer is about the kind shown now (not one switched from)."""
        if test_id == self._test_id:
            return True
        self.test_button.setEnabled(True)
        self.result.setText("")  # "Connecting to…" the old source
        return False

    def _got_snapshot(self, img: np.ndarray) -> None:
        self.snapshot = img
        self._failed = None
        self.preview.set_image(img)
        h, w = img.shape[:2]
        self._show_result(True, f"Connected: {w}×{h} picture received.")

    def _snapshot_failed(self, cam: CameraConfig, exc: BaseException) -> None:
        msg = f"No picture: {exc}"
        self._failed = (cam, msg)
        self._show_result(False, msg)

    def _show_result(self, ok: bool, msg: str) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(msg)
        set_role(self.result, "Success" if ok else "Error")
        self.tested.emit(ok, msg)


def confirm_failed_camera(parent: QWidget, why: str) -> bool:
    """Ask whether to keep a camera whose test just failed; True: keep it."""
    chosen = ask(
        question(
            parent,
            "Camera gave no picture",
            "This camera gave no picture when you tested it.",
            f"{why}\n\nAdd it anyway? Its tile will say what is wrong until it works; to change "
            "it, right-click its tile and choose Edit camera.",
            [("Add anyway", Role.AcceptRole), ("Go back", Role.RejectRole)],
            default="Go back",
            icon=QMessageBox.Icon.Warning,
        )
    )
    return chosen == "Add anyway"


class CameraDialog(QDialog):
    """Add (camera=None) or edit a camera; `removed` is set when the user removes it."""

    def __init__(
        self,
        background: Background,
        taken_names: set[str],
        camera: CameraConfig | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit camera" if camera else "Add camera")
        self.setMinimumWidth(560)
        self.taken = set(taken_names) - ({camera.name} if camera else set())
        self.original = camera
        self.result_camera: CameraConfig | None = None
        self.removed = False
        self.form = CameraForm(background)
        if camera is not None:
            self.form.set_camera(camera)
        else:
            self.form.name.setText(self._free_name("Camera"))
        self.error = QLabel("")
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        save = QPushButton("Save" if camera else "Add camera")
        save.setObjectName("Primary")
        save.setDefault(True)
        save.clicked.connect(self._save)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        if camera is not None:
            remove = QPushButton("Remove camera")
            remove.setObjectName("Danger")
            remove.clicked.connect(self._remove)
            buttons.addWidget(remove)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 20, 20, 16)
        lay.addWidget(self.form)
        lay.addWidget(self.error)
        lay.addLayout(buttons)

    def _free_name(self, base: str) -> str:
        i = len(self.taken) + 1
        while f"{base} {i}" in self.taken:
            i += 1
        return f"{base} {i}"

    def _save(self) -> None:
        try:
            cam = self.form.camera_config()
        except ValueError as exc:
            self.error.setText(self.form.problem_to_show(str(exc)))
            return
        if cam.name in self.taken:
            self.error.setText(f"another camera is already called “{cam.name}”")
            return
        if self.form.testing:
            return  # Save again once the test answers
        if self.form.needs_test(cam):
            self.error.setText("")
            self.form.test_then(self._save)  # the picture first, then saved or asked
            return
        why = self.form.failed_test(cam)
        if why is not None and not confirm_failed_camera(self, why):
            return
        if self.original is not None:
            cam = cam.model_copy(
                update={
                    "analysis_fps": self.original.analysis_fps,
                    "enabled": self.original.enabled,
                    # drawn in the zone editor, kept like the camera's zones
                    "ignore_masks": self.original.ignore_masks,
                    "min_person_height": self.original.min_person_height,
                    "max_person_height": self.original.max_person_height,
                }
            )
        self.result_camera = cam
        log.info("camera %s saved (%s %s)", cam.name, cam.type, redact(cam.url))
        self.accept()

    def _remove(self) -> None:
        self.removed = True
        self.accept()
