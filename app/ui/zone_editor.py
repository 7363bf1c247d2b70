"""The zone and line editor for one camera.

Draws on a snapshot of the camera (the engine's newest frame, or one grabbed in a
worker thread). The side panel lists the shapes, names them, picks their kind
(zone, queue area, counting line, entrance), capacity, and flips a line's direction.
Ignore masks (grey, hatched) are areas where nobody is counted (a sign, a mannequin);
"Ignore what does not move" puts one around each object the engine flagged as not moving.
The person size range (smallest and largest box height, in % of the picture's height)
drops detections of other sizes; "Show on the picture" draws both at the mouse.
"Apply" hands the new config to `on_apply(cfg) -> str | None` (the engine applies it
live and the store keeps the version); an error string is shown, never raised.
Undo (Ctrl+Z or the Undo button) steps back through the edits since the editor opened
(shapes, masks and person sizes; while drawing, it cancels the shape being drawn).
Closing with changes not applied yet (Close, Esc, the window's close button) asks first:
apply them, discard them, or keep editing. Esc while placing corners only cancels that
shape.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.ui.person_size import PersonSizeBox
from app.ui.questions import Role, ask, question
from app.ui.zone_canvas import ShapeCanvas
from app.ui.zone_model import (
    KIND_LABELS,
    Shape,
    apply_shapes,
    flip,
    mask_around,
    masks_over_lines,
    person_size,
    shapes_from_config,
    unique_name,
)

HINTS = {
    "zone": "Click to place the corners of the zone. Click the first corner, double-click or press Enter to close it.",
    "queue": "Click to place the corners of the queue area. Click the first corner or press Enter to close it.",
    "line": "Click the two ends of the counting line. The green arrow shows the “in” direction.",
    "entrance": "First click the two ends of the outer line (street side), then the corners of the zone just inside the door.",
    "mask": "Click the corners of the area to ignore (a sign, a mannequin): nobody standing in it is counted. Enter closes it.",
}
IDLE_HINT = "Drag a white handle to move a corner. Pick a shape in the list to rename it or change its kind."

NAME_BASE = {
    "zone": "Zone",
    "queue": "Queue",
    "line": "Line",
    "entrance": "Entrance",
    "mask": "Mask",
}
ApplyFn = Callable[[AppConfig], str | None]
UNDO_STEPS = 200
Box = tuple[float, float, float, float]
EditorState = tuple[list[Shape], tuple[float, float], list[Box]]
CloseChoice = Literal["apply", "discard", "cancel"]


class ZoneEditor(QDialog):
    def __init__(
        self,
        cfg: AppConfig,
        camera: str,
        on_apply: ApplyFn,
        snapshot: np.ndarray | None = None,
        parent: QWidget | None = None,
        still_boxes: np.ndarray | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Zones and lines — {camera}")
        self.resize(1180, 720)
        self.cfg = cfg
        self.camera = camera
        self.on_apply = on_apply
        self.canvas = ShapeCanvas()
        self.canvas.set_image(snapshot)
        self.canvas.set_shapes(shapes_from_config(cfg, camera))
        if still_boxes is not None:
            self.canvas.still_boxes = [
                (float(a), float(b), float(c), float(d)) for a, b, c, d in still_boxes.tolist()
            ]
        self._cover_warned: set[tuple[str, str]] = set()  # (mask, line) shown
        self._applied = copy.deepcopy(self.canvas.shapes)  # what the camera has now
        self._applied_size = person_size(cfg, camera)
        self._loading = False
        self._restoring = True  # no undo history until the editor is loaded
        self._history: list[EditorState] = []
        self._build()
        self.canvas.changed.connect(self._refresh_list)
        self.canvas.changed.connect(self._edited)
        self.canvas.selection_changed.connect(self._select_row)
        self.canvas.drawing_finished.connect(self._finished)
        self.canvas.drawing_cancelled.connect(lambda: self.hint.setText(IDLE_HINT))
        self.canvas.drawing_incomplete.connect(self.hint.setText)
        self._refresh_list()
        self.size_box.set_value(self._applied_size)
        self._history = [self._state()]
        self._restoring = False

    def set_snapshot(self, image: np.ndarray | None, message: str = "") -> None:
        self.canvas.message = message
        self.canvas.set_image(image)

    # --- layout -----------------------------------------------------------------
    def _build(self) -> None:
        side = QVBoxLayout()
        title = QLabel("Shapes")
        title.setObjectName("SectionTitle")
        side.addWidget(title)
        grid = QGridLayout()
        self.draw_buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate(("zone", "queue", "line", "entrance", "mask")):
            b = QPushButton(f"+ {KIND_LABELS[kind]}")
            b.clicked.connect(lambda _=False, k=kind: self.start(k))
            grid.addWidget(b, i // 2, i % 2)
            self.draw_buttons[kind] = b
        self.ignore_still = QPushButton("Ignore what does not move")
        self.ignore_still.setToolTip(
            "Put an ignore mask around each object the camera has seen standing still for "
            "a long time (grey dashed boxes): a sign, a mannequin."
        )
        self.ignore_still.clicked.connect(self.ignore_still_objects)
        self.ignore_still.setVisible(bool(self.canvas.still_boxes))
        grid.addWidget(self.ignore_still, 2, 1)
        side.addLayout(grid)
        self.list = QListWidget()
        self.list.setObjectName("Plain")
        self.list.setWordWrap(True)  # a long name and its notes wrap, not cut off
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self._row_changed)
        side.addWidget(self.list, 1)
        form = self._props = QFormLayout()
        self.name = QLineEdit()
        self.name.textEdited.connect(self._name_edited)
        self.kind = QComboBox()
        self.kind.currentIndexChanged.connect(self._kind_edited)
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 10000)
        self.capacity.setSpecialValueText("no limit")
        self.capacity.valueChanged.connect(self._capacity_edited)
        self.door = QCheckBox("A door of the store")
        self.door.setToolTip(
            "Its crossings are the store's entries and exits (footfall). Untick it for a "
            "line inside the store, such as an aisle: it is then counted on its own only."
        )
        self.door.toggled.connect(self._door_edited)
        self.in_store = QCheckBox("Counts in “In the store now”")
        self.in_store.setToolTip(
            "The people in this area are part of the store's head count. Untick it for an "
            "area outside the store (a car park, the pavement) or one inside another zone, "
            "so that nobody is counted twice."
        )
        self.in_store.toggled.connect(self._in_store_edited)
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("Capacity", self.capacity)
        form.addRow("", self.door)
        form.addRow("", self.in_store)
        side.addLayout(form)
        row = QHBoxLayout()
        self.flip_button = QPushButton("Flip direction")
        self.flip_button.clicked.connect(self.flip_selected)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("Danger")
        self.delete_button.clicked.connect(self.delete_selected)
        row.addWidget(self.flip_button)
        row.addWidget(self.delete_button)
        side.addLayout(row)
        self.size_box = PersonSizeBox()
        self.min_size, self.max_size = self.size_box.min_size, self.size_box.max_size
        self.show_size = self.size_box.show_size
        self.size_box.edited.connect(self._edited)
        self.size_box.guides_changed.connect(self._show_guides)
        side.addWidget(self.size_box)

        self.hint = QLabel(IDLE_HINT)
        self.hint.setObjectName("Muted")
        self.hint.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("Success")
        apply = QPushButton("Apply")
        apply.clicked.connect(self.apply)
        save = QPushButton("Save and close")
        save.setObjectName("Primary")
        save.clicked.connect(self.save_and_close)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last edit (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.status)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(close)
        bottom.addWidget(apply)
        bottom.addWidget(save)

        panel = QWidget()
        panel.setFixedWidth(300)
        panel.setLayout(side)
        top = QHBoxLayout()
        top.addWidget(self.canvas, 1)
        top.addWidget(panel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 12)
        lay.addLayout(top, 1)
        lay.addWidget(self.error)
        lay.addLayout(bottom)

    def person_size_range(self) -> tuple[float, float]:
        return self.size_box.value()

    def _show_guides(self, size: tuple[float, float] | None) -> None:
        self.canvas.size_guides = size
        self.canvas.update()

    def ignore_still_objects(self) -> None:
        """An ignore mask around each object the engine found not moving."""
        for box in self.canvas.still_boxes:
            name = unique_name(NAME_BASE["mask"], self.taken_names())
            self.canvas.shapes.append(mask_around(box, name, self.canvas.img_size))
        self.canvas.still_boxes = []
        self.ignore_still.setVisible(False)
        self.canvas.selected = len(self.canvas.shapes) - 1
        self._edited()
        self._refresh_list()
        self.canvas.update()
        self.hint.setText("Masks added: press Apply to stop counting these objects.")

    # --- drawing ----------------------------------------------------------------
    def taken_names(self) -> set[str]:
        others = {z.name for z in self.cfg.zones} | {ln.name for ln in self.cfg.lines}
        return others | {e.name for e in self.cfg.entrances} | {s.name for s in self.canvas.shapes}

    def start(self, kind: str) -> None:
        name = unique_name(NAME_BASE[kind], self.taken_names())
        self.canvas.start_drawing(Shape(name, kind))
        self.hint.setText(HINTS[kind])
        self.status.setText("")

    def _finished(self, index: int) -> None:
        self.hint.setText(IDLE_HINT)
        self._refresh_list()
        self._select_row(index)
        self.name.setFocus()
        self.name.selectAll()

    def selected(self) -> Shape | None:
        i = self.canvas.selected
        return self.canvas.shapes[i] if 0 <= i < len(self.canvas.shapes) else None

    def flip_selected(self) -> None:
        s = self.selected()
        if s is not None:
            flip(s)
            self._edited()
            self.canvas.update()

    def delete_selected(self) -> None:
        i = self.canvas.selected
        if 0 <= i < len(self.canvas.shapes):
            self.error.setText("")  # what it said may be about this shape
            del self.canvas.shapes[i]
            self.canvas.selected = -1
            self._edited()
            self._refresh_list()
            self.canvas.update()

    # --- side panel -------------------------------------------------------------
    def _refresh_list(self) -> None:
        self._loading = True
        self.list.clear()
        for s in self.canvas.shapes:
            self.list.addItem(s.label())
        self.list.setCurrentRow(self.canvas.selected)
        self._loading = False
        self._load_props()

    def _select_row(self, index: int) -> None:
        if self.list.currentRow() != index:
            self.list.setCurrentRow(index)
        self._load_props()

    def _row_changed(self, row: int) -> None:
        if not self._loading:
            self.canvas.select(row)
            self._load_props()

    def _load_props(self) -> None:
        s = self.selected()
        self._loading = True
        for w in (self.name, self.kind, self.capacity, self.flip_button, self.delete_button):
            w.setEnabled(s is not None)
        self.door.setVisible(s is not None and s.kind == "line")
        self.in_store.setVisible(s is not None and s.kind in ("zone", "queue"))
        # a line has no capacity: no greyed field for it (shown while nothing is chosen)
        self._props.setRowVisible(self.capacity, s is None or s.kind in ("zone", "queue"))
        self.kind.clear()
        if s is not None:
            self.name.setText(s.name)
            kinds = ["zone", "queue"] if s.kind in ("zone", "queue") else [s.kind]
            for k in kinds:
                self.kind.addItem(KIND_LABELS[k], k)
            self.kind.setCurrentIndex(kinds.index(s.kind))
            self.capacity.setValue(s.capacity or 0)
            self.capacity.setEnabled(s.kind in ("zone", "queue"))
            self.door.setChecked(s.door)
            self.in_store.setChecked(s.in_store)
            self.flip_button.setEnabled(s.kind in ("line", "entrance"))
        else:
            self.name.setText("")
        self._loading = False

    def _name_edited(self, text: str) -> None:
        s = self.selected()
        if s is not None and not self._loading:
            self.error.setText("")
            s.name = text.strip()
            self._relabel(s)
            self.canvas.update()

    def _kind_edited(self) -> None:
        s = self.selected()
        if s is not None and not self._loading and self.kind.currentData():
            s.kind = str(self.kind.currentData())
            self._edited()
            self._refresh_list()
            self.canvas.update()

    def _capacity_edited(self, value: int) -> None:
        s = self.selected()
        if s is not None and not self._loading:
            s.capacity = value or None
            self._relabel(s)

    def _door_edited(self, door: bool) -> None:
        s = self.selected()
        if s is not None and not self._loading and s.kind == "line":
            s.door = door
            self._relabel(s)
            self.canvas.update()  # a line inside the store is drawn dashed

    def _in_store_edited(self, in_store: bool) -> None:
        s = self.selected()
        if s is not None and not self._loading and s.kind in ("zone", "queue"):
            s.in_store = in_store
            self._relabel(s)

    def _edited(self) -> None:
        """Something changed since the last Apply: "Applied ✓" is no longer true. The
        new state goes on the undo history."""
        self.status.setText("")
        if self._restoring:
            return
        state = self._state()
        if state != self._history[-1]:
            self._history.append(state)
            del self._history[:-UNDO_STEPS]

    # --- undo -------------------------------------------------------------------
    def _state(self) -> EditorState:
        shapes = copy.deepcopy(self.canvas.shapes)
        return shapes, self.person_size_range(), list(self.canvas.still_boxes)

    def can_undo(self) -> bool:
        return self.canvas.drawing is not None or len(self._history) > 1

    def undo(self) -> None:
        """Step back one edit; while drawing, cancel the shape being drawn."""
        if self.canvas.drawing is not None:
            self.canvas.cancel_drawing()
            return
        if len(self._history) < 2:
            return
        self._history.pop()
        shapes, (low, high), still = copy.deepcopy(self._history[-1])
        self._restoring = True
        try:
            self.error.setText("")
            self.canvas.selected = -1
            self.canvas.set_shapes(shapes)
            self.canvas.still_boxes = still
            self.ignore_still.setVisible(bool(still))
            self.size_box.set_value((low, high))
            self._refresh_list()
            self.canvas.update()
        finally:
            self._restoring = False
        self.status.setText("")

    def _relabel(self, s: Shape) -> None:
        """A property of `s` (the selected shape) was edited."""
        self._edited()
        item = self.list.item(self.canvas.selected)
        if item is not None:
            item.setText(s.label())

    # --- apply ------------------------------------------------------------------
    def apply(self) -> bool:
        if self.canvas.drawing is not None and not self.canvas.finish_drawing():
            self.error.setText(
                "Finish the shape you are drawing first (or press Esc to cancel it)."
            )
            return False
        try:
            new_cfg = apply_shapes(
                self.cfg, self.camera, self.canvas.shapes, self.person_size_range()
            )
        except ValueError as exc:
            message = str(exc)  # the config's words, a sentence here
            self.error.setText(message[:1].upper() + message[1:])
            return False
        problem = self.on_apply(new_cfg)
        if problem:
            self.error.setText(problem)
            return False
        self.cfg = new_cfg
        self._applied = copy.deepcopy(self.canvas.shapes)
        self._applied_size = self.person_size_range()
        self.error.setText("")
        covered = masks_over_lines(self.canvas.shapes)
        if covered:  # applied, but said on its own (wrapped) line above the buttons
            mask, line = covered[0]
            self.error.setText(
                f"The ignore mask “{mask}” covers part of the line “{line}”: nobody crossing "
                "there is counted. Draw masks tight around the object, off the lines."
            )
        self.status.setText("Applied to the live camera ✓")
        return True

    def save_and_close(self) -> None:
        if not self.apply():
            return
        covered = set(masks_over_lines(self.canvas.shapes))
        if covered - self._cover_warned:  # applied; stay open once to show the warning
            self._cover_warned |= covered
            return
        self.accept()

    # --- closing ----------------------------------------------------------------
    def has_changes(self) -> bool:
        """Whether closing now would lose work: shapes not applied, or one being drawn."""
        d = self.canvas.drawing
        drawing = d is not None and bool(d.points or d.line)
        return (
            drawing
            or self.canvas.shapes != self._applied
            or self.person_size_range() != self._applied_size
        )

    def ask_before_closing(self) -> CloseChoice:
        """Apply / Discard / Cancel about the changes not applied yet (Esc: Cancel)."""
        chosen = ask(
            question(
                self,
                "Unapplied changes",
                "Discard your changes to the zones and lines?",
                "They are not applied to the camera yet. Apply them now, discard them, "
                "or cancel to keep editing.",
                [
                    ("Apply", Role.AcceptRole),
                    ("Discard", Role.DestructiveRole),
                    ("Cancel", Role.RejectRole),
                ],  # fmt: skip
                default="Apply",
                escape="Cancel",
            )
        )
        return "apply" if chosen == "Apply" else "discard" if chosen == "Discard" else "cancel"

    def reject(self) -> None:
        """Close, Esc and the window's close button: ask first if work would be lost."""
        if self.has_changes():
            choice = self.ask_before_closing()
            if choice == "cancel" or (choice == "apply" and not self.apply()):
                return
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Undo):  # Ctrl+Z, from the canvas too
            self.undo()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # closes a shape, not the dialog
            self.canvas.try_finish()
        elif key == Qt.Key.Key_Escape and self.canvas.drawing is not None:
            self.canvas.cancel_drawing()  # cancels the shape only
        else:
            super().keyPressEvent(event)
