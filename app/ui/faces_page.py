"""The Faces page (opt-in recognition): enrol staff from photos with their consent,
enrol opt-outs ("do not recognise me"), list and remove them, and erase a person by
photo with the result shown. Names only: no face picture is ever shown here.

The work (face models, the store) runs in the background pool; the page only collects
input and shows results. The rules live in app/recognition.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.ui.workers import Background

IMAGES = "Photos (*.jpg *.jpeg *.png *.bmp *.webp)"
CONSENT = (
    "This person agreed to be recognised at work so that they are left out of the "
    "counts (their consent is recorded with your name and the time)."
)
MODE_LINES = {
    "anonymous": "Recognition is <b>off</b>: the store counts anonymously and no face is "
    "looked for. People enrolled here are kept (encrypted) but recognised only once a "
    "recognition mode is chosen in Settings.",
    "staff_exclusion": "Mode: <b>staff exclusion</b>. Enrolled staff are left out of the "
    "counts; everybody else's face is dropped at once.",
    "repeat_visitors": "Mode: <b>repeat visitors</b>. Enrolled staff are left out of the "
    "counts; visitor face templates are kept encrypted to tell new from returning visitors.",
}


class FacesPage(QWidget):
    def __init__(
        self,
        store: Any,
        config: Callable[[], AppConfig],
        background: Background,
        actor: str = "manager",
        parent: QWidget | None = None,
        camera_frame: Callable[[str], np.ndarray | None] | None = None,
    ) -> None:
        super().__init__(parent)
        # the newest picture of a live camera (enrolling someone standing in front of it)
        self.camera_frame = camera_frame
        self.store, self.config, self.background, self.actor = store, config, background, actor
        self._faces: Any = None  # app.recognition.PhotoFaces, loaded on first use
        self.photos: list[Path | np.ndarray] = []
        self.erase_photo: Path | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        title = QLabel("Faces")
        title.setObjectName("PageTitle")
        lay.addWidget(title)
        self.mode_line = QLabel()
        self.mode_line.setWordWrap(True)
        lay.addWidget(self.mode_line)
        lay.addWidget(self._enrol_box())
        lay.addWidget(self._list_box(), 1)
        lay.addWidget(self._erase_box())
        self.refresh()

    # --- layout -------------------------------------------------------------------
    def _enrol_box(self) -> QGroupBox:
        box = QGroupBox("Enrol a person from photos")
        f = QFormLayout(box)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Ana Silva")
        self.role = QComboBox()
        self.role.addItem("Staff member (left out of the counts)", "staff")
        self.role.addItem("Opt-out (never recognised)", "optout")
        pick = QPushButton("Choose photos…")
        pick.clicked.connect(self.choose_photos)
        self.photo_label = QLabel("no photo chosen (2 to 5 clear photos work best)")
        self.photo_label.setObjectName("Muted")
        self.camera_box = QComboBox()
        self.camera_box.setToolTip("The person stands alone in front of this camera")
        take = QPushButton("Take from camera")
        take.clicked.connect(self.take_from_camera)
        row = QHBoxLayout()
        row.addWidget(pick)
        row.addWidget(self.photo_label, 1)
        row.addWidget(self.camera_box)
        row.addWidget(take)
        self.consent = QCheckBox(CONSENT)
        self.enrol_button = QPushButton("Enrol")
        self.enrol_button.setObjectName("Primary")
        self.enrol_button.clicked.connect(self.enrol)
        self.enrol_result = QLabel()
        self.enrol_result.setWordWrap(True)
        f.addRow("Name", self.name)
        f.addRow("Role", self.role)
        f.addRow("Photos", row)
        f.addRow("", self.consent)
        f.addRow("", self.enrol_button)
        f.addRow("", self.enrol_result)
        self.role.currentIndexChanged.connect(
            lambda _i: self.consent.setEnabled(self.role.currentData() == "staff")
        )
        return box

    def _list_box(self) -> QGroupBox:
        box = QGroupBox("Enrolled (names only)")
        v = QVBoxLayout(box)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Role", "Enrolled"])
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        v.addWidget(self.table)
        self.remove_button = QPushButton("Remove the selected person")
        self.remove_button.clicked.connect(self.remove_selected)
        v.addWidget(self.remove_button)
        return box

    def _erase_box(self) -> QGroupBox:
        box = QGroupBox("Erase a person by photo (right to erasure)")
        v = QVBoxLayout(box)
        note = QLabel(
            "Every face template and picture of the person in the photo is found and "
            "deleted; the deletion is logged (what, when, by whom; never the photo)."
        )
        note.setWordWrap(True)
        note.setObjectName("Muted")
        v.addWidget(note)
        row = QHBoxLayout()
        pick = QPushButton("Choose a photo…")
        pick.clicked.connect(self.choose_erase_photo)
        self.erase_label = QLabel("no photo chosen")
        self.erase_button = QPushButton("Find and erase")
        self.erase_button.clicked.connect(self.erase)
        row.addWidget(pick)
        row.addWidget(self.erase_label, 1)
        row.addWidget(self.erase_button)
        v.addLayout(row)
        self.erase_result = QLabel()
        self.erase_result.setWordWrap(True)
        v.addWidget(self.erase_result)
        return box

    # --- data ---------------------------------------------------------------------
    def refresh(self) -> None:
        cfg = self.config()
        self.mode_line.setText(MODE_LINES[cfg.store.privacy_mode])
        if self.store is None:
            self._show_people([])
            return
        from app.recognition import face_store

        store = self.store
        self.background.submit(lambda: face_store(cfg, store).people(), self._show_people)

    def _show_people(self, people: list[Any]) -> None:
        self.table.setRowCount(len(people))
        for i, p in enumerate(people):
            role = "staff (consent recorded)" if p.role == "staff" else "opt-out"
            when = datetime.fromtimestamp(p.since).strftime("%Y-%m-%d %H:%M")
            for j, text in enumerate((p.name, role, when)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.remove_button.setEnabled(bool(people))

    def _models(self) -> Any:
        from app.recognition import PhotoFaces

        if self._faces is None:
            self._faces = PhotoFaces.open(self.config())
        return self._faces

    # --- actions ------------------------------------------------------------------
    def choose_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Photos of the person", "", IMAGES)
        if files:
            self.set_photos([Path(f) for f in files])

    def set_photos(self, photos: list[Path | np.ndarray]) -> None:
        self.photos = photos
        names = [p.name if isinstance(p, Path) else "camera picture" for p in photos]
        self.photo_label.setText(", ".join(names) or "no photo chosen")

    def set_cameras(self, names: list[str]) -> None:
        self.camera_box.clear()
        self.camera_box.addItems(names)

    def take_from_camera(self) -> None:
        """Add the newest picture of the chosen camera to the photos (kept in memory
        only, until the enrolment computed its template)."""
        name = self.camera_box.currentText()
        frame = self.camera_frame(name) if self.camera_frame and name else None
        if frame is None:
            self.enrol_result.setText("No picture from that camera yet: is it running?")
            return
        self.set_photos([*self.photos, frame.copy()])

    def choose_erase_photo(self) -> None:
        file, _ = QFileDialog.getOpenFileName(self, "Photo of the person to erase", "", IMAGES)
        if file:
            self.set_erase_photo(Path(file))

    def set_erase_photo(self, photo: Path) -> None:
        self.erase_photo = photo
        self.erase_label.setText(photo.name)

    def _failed(self, label: QLabel) -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            label.setText(f"<span style='color:#b91c1c'>{exc}</span>")
            self.enrol_button.setEnabled(True)
            self.erase_button.setEnabled(True)

        return show

    def enrol(self) -> None:
        from app.recognition import enrol

        name, role = self.name.text().strip(), self.role.currentData()
        if not name:
            self.enrol_result.setText("Give the person's name.")
            return
        if not self.photos:
            self.enrol_result.setText("Choose at least one photo of the person.")
            return
        if role == "staff" and not self.consent.isChecked():
            self.enrol_result.setText("Staff are enrolled only with their consent: tick the box.")
            return
        if self.store is None:
            self.enrol_result.setText("The store is not open.")
            return
        cfg, store, photos, consent = self.config(), self.store, list(self.photos), True
        self.enrol_button.setEnabled(False)
        self.enrol_result.setText("Reading the faces…")

        def job() -> tuple[int, int]:
            kept = enrol(cfg, store, name, role, photos, self.actor, consent=consent,
                         faces=self._models())  # fmt: skip
            return len(kept), len(photos)

        def done(r: tuple[int, int]) -> None:
            used, total = r
            left = f" ({total - used} photo(s) left out: another face)" if used < total else ""
            what = "staff member" if role == "staff" else "opt-out"
            self.enrol_result.setText(f"Enrolled {name} as {what} from {used} photo(s){left}.")
            self.enrol_button.setEnabled(True)
            self.name.clear()
            self.consent.setChecked(False)
            self.set_photos([])
            self.refresh()

        self.background.submit(job, done, self._failed(self.enrol_result))

    def remove_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        items = [self.table.item(r, 0) for r in sorted(rows)]
        names = [i.text() for i in items if i is not None]
        if not names or self.store is None:
            return
        from app.recognition import face_store

        cfg, store = self.config(), self.store
        fs = face_store(cfg, store)
        self.background.submit(
            lambda: sum(fs.remove(n, self.actor) for n in names), lambda _n: self.refresh()
        )

    def erase(self) -> None:
        from app.recognition import erase_by_photo

        if self.erase_photo is None:
            self.erase_result.setText("Choose a photo of the person first.")
            return
        if self.store is None:
            self.erase_result.setText("The store is not open.")
            return
        cfg, store, photo = self.config(), self.store, self.erase_photo
        self.erase_button.setEnabled(False)
        self.erase_result.setText("Searching…")

        def job() -> tuple[Any, Any]:
            faces = self._models()
            rep = erase_by_photo(cfg, store, photo, self.actor, faces=faces)
            again = erase_by_photo(cfg, store, photo, self.actor, faces=faces, dry_run=True)
            return rep, again

        def done(r: tuple[Any, Any]) -> None:
            rep, again = r
            self.erase_button.setEnabled(True)
            if not rep.total:
                text = "Nothing of this person was found: nothing to erase."
            else:
                staff = f"the staff enrolment of {', '.join(rep.staff)}, " if rep.staff else ""
                text = (
                    f"Deleted {staff}{rep.visitor_templates} visitor face template(s) and "
                    f"{rep.crops} picture(s). The erasure is in the audit log."
                )
            if rep.optouts_kept:
                text += " The opt-out entry is kept: it keeps this person unrecognised."
            check = "finds nothing" if again.total == 0 else f"still finds {again.total} item(s)"
            self.erase_result.setText(f"{text} A second search with the same photo {check}.")
            self.refresh()

        self.background.submit(job, done, self._failed(self.erase_result))
