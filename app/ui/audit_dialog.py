"""The counting audit window: record a few minutes of a camera (or take a clip file),
replay it while the manager presses a key at each true crossing of a door line, then
compare the marks with Vitrine's own counts (app/count_audit.py).

While recording, the camera's live picture is shown with the time recorded and left;
"Stop now" ends the recording early and keeps it (if it is long enough to audit).
Keys while replaying: I = someone came in, O = someone went out, Backspace or Ctrl+Z =
undo the last mark, Space = pause / play, Left / Right = one second back / forward.
The result (matched / missed / extra, accuracy) is kept in the store, sent to HQ, and
each miss and extra is listed with a thumbnail that jumps the replay to it. The
recording stays encrypted in the store and expires with the person crops.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Generator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.count_audit import AuditResult, Crossing, match_crossings
from app.store import count_audits
from app.ui.folders import last_folder, remember_folder
from app.ui.ports import StorePort
from app.ui.questions import Role, ask, question
from app.ui.workers import Background
from app.vision import audit_clip, view_drift
from app.vision.audit_clip import REPLAY_FPS, AuditFootage, LiveRecording, clock

log = logging.getLogger(__name__)

SPEEDS = (0.25, 0.5, 1.0, 2.0)
KEYS_HELP = (
    "I = in, O = out at each true crossing · Backspace / Ctrl+Z = undo · "
    "Space = pause / play · ← / → = 1 s back / forward"
)
CLIP_FILTER = "Videos (*.mp4 *.mkv *.avi *.mov *.m4v *.ts);;All files (*)"


def to_pixmap(image: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class AuditDialog(QDialog):
    """See the module docstring. `use_clip(path)` takes a clip file as the recording."""

    min_record_s = audit_clip.MIN_RECORD_S  # Stop now keeps a recording at least this long

    def __init__(
        self,
        cfg: AppConfig,
        store: StorePort | None,
        background: Background,
        tile_state: Callable[[str], Any] | None = None,
        parent: QWidget | None = None,
        detector_factory: Callable[[AppConfig], Any] = audit_clip.make_detector,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Counting audit")
        self.cfg, self.store, self.background = cfg, store, background
        self._tile_state = tile_state
        self._detector_factory = detector_factory
        self.footage: AuditFootage | None = None
        self.recording_id: int | None = None
        self.marks: list[Crossing] = []
        self.counted: list[Crossing] | None = None
        self.outcome: AuditResult | None = None
        self.frame_no = 0
        self.playing = False
        self._progress = 0.0
        self.recording: LiveRecording | None = None  # a live recording under way
        self._finish_wanted = False
        self._note = ""  # about the footage (a clip not the camera's size)
        self._live = False  # the footage was recorded from the camera (not a clip file)
        # the analysis: its own low-priority thread (the live cameras keep their budget,
        # the window's other jobs do not wait behind it); closing the window stops it
        self._analysis = Background(workers=1, parent=self, nice=10, name="vitrine-audit")
        self._cancelled = False
        self._build()
        self._play_timer = QTimer(self)
        self._play_timer.timeout.connect(self._advance)
        self._rec_timer = QTimer(self)
        self._rec_timer.timeout.connect(self._record_tick)
        self._poll = QTimer(self)
        self._poll.setInterval(200)
        self._poll.timeout.connect(self._show_progress)
        self.refresh_history()

    # --- layout ---------------------------------------------------------------------

    def _build(self) -> None:
        self.camera = QComboBox()
        self.camera.addItems([c.name for c in self.cfg.cameras])
        self.camera.currentTextChanged.connect(self._fill_lines)
        self.line = QComboBox()
        self.minutes = QSpinBox(minimum=1, maximum=10, value=3, suffix=" min")
        self.speed = QComboBox()
        self.speed.addItems([f"{s:g}x" for s in SPEEDS])
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(self._set_speed)
        self.record_button = QPushButton("Record from the camera")
        self.record_button.clicked.connect(self.record)
        self.clip_button = QPushButton("Use a clip file…")
        self.clip_button.clicked.connect(self._pick_clip)
        form = QFormLayout()
        form.addRow("Camera", self.camera)
        form.addRow("Door line", self.line)
        form.addRow("Record", self.minutes)
        form.addRow("Replay speed", self.speed)
        start = QHBoxLayout()
        start.addWidget(self.record_button)
        start.addWidget(self.clip_button)
        form.addRow(start)
        self.status = QLabel("Pick a camera and its door line, then record a few minutes.")
        self.status.setWordWrap(True)
        self.bar = QProgressBar(maximum=1000)
        self.bar.setVisible(False)
        self.video = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.video.setMinimumSize(480, 360)
        self.video.setStyleSheet("background:#111;")
        self.video.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.clock = QLabel("–")
        # says what pressing it (or Space) will do, not the state it is in
        self.play_button = QPushButton("▶ Play (Space)")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        self.stop_button = QPushButton("■ Stop now")
        self.stop_button.setToolTip(
            "End the recording here and replay what was recorded "
            f"(at least {clock(self.min_record_s)} is needed)."
        )
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop_recording)
        self.mark_label = QLabel("Marks: none")
        help_ = QLabel(KEYS_HELP)
        help_.setWordWrap(True)
        self.finish_button = QPushButton("Finish and compare")
        self.finish_button.setEnabled(False)
        self.finish_button.clicked.connect(self.finish)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.issues = QListWidget()
        self.issues.setIconSize(QSize(96, 72))
        self.issues.itemActivated.connect(self._jump)
        self.issues.itemClicked.connect(self._jump)
        self.history = QTableWidget(0, 7)
        self.history.setHorizontalHeaderLabels(
            ["Date", "Camera", "Line", "Matched", "Missed", "Extra", "Accuracy"]
        )
        self.history.verticalHeader().setVisible(False)
        buttons = (self.record_button, self.clip_button, self.finish_button)
        for b in (*buttons, self.play_button, self.stop_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.status)
        left.addWidget(self.bar)
        left.addWidget(QLabel("<b>Misses and extras</b> (click to see them)"))
        left.addWidget(self.issues, 1)
        right = QVBoxLayout()
        right.addWidget(self.video, 1)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.clock)
        row.addStretch(1)
        row.addWidget(self.mark_label)
        row.addWidget(self.finish_button)
        right.addLayout(row)
        right.addWidget(help_)
        right.addWidget(self.summary)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        outer = QVBoxLayout(self)
        outer.addLayout(top, 3)
        outer.addWidget(QLabel("<b>Past audits</b>"))
        outer.addWidget(self.history, 1)
        self._fill_lines(self.camera.currentText())
        self.resize(1100, 760)

    def _fill_lines(self, camera: str) -> None:
        self.line.clear()
        self.line.addItems([ln.name for ln in self.cfg.lines_of(camera)] if camera else [])

    # --- getting the footage -----------------------------------------------------------

    def _ready_to_start(self) -> bool:
        if not self.camera.currentText() or not self.line.currentText():
            self.status.setText("Pick a camera with a counting line first (Cameras > Edit zones).")
            return False
        return True

    def _size_note(self, footage: AuditFootage) -> str:
        """A clip whose picture size is not the live camera's: its line (in the camera's
        pixels) may not fall on the clip's door."""
        state = self._tile_state(self.camera.currentText()) if self._tile_state else None
        frame = getattr(getattr(state, "frame", None), "image", None)
        if frame is None or footage.size == (0, 0):
            return ""
        live = (int(frame.shape[1]), int(frame.shape[0]))
        if live == tuple(footage.size):
            return ""
        w, h = footage.size
        return (
            f" Careful: the clip is {w}x{h} but the camera's picture is {live[0]}x{live[1]}:"
            " the line is drawn where it is on the camera; check it is on the clip's door."
        )

    def _lock_inputs(self, locked: bool) -> None:
        """While recording, loading or counting: the camera, line and length stay put."""
        for w in (self.camera, self.line, self.minutes, self.record_button, self.clip_button):
            w.setEnabled(not locked)

    def record(self) -> None:
        """Record `minutes` of the camera's live picture at the replay rate, showing it
        as it comes; `stop_recording` may end it early."""
        if not self._ready_to_start() or self._tile_state is None:
            if self._tile_state is None:
                self.status.setText("The cameras are not running: start them first.")
            return
        self.footage = None
        self.video.clear()
        self.recording = LiveRecording(
            self.minutes.value() * 60.0, time.monotonic(), self.min_record_s
        )
        self._rec_timer.start(int(1000 / REPLAY_FPS))
        self._lock_inputs(True)  # another camera's frames must not join the recording
        self.play_button.setVisible(False)
        self.finish_button.setEnabled(False)
        self.stop_button.setVisible(True)
        self._set_busy(
            True,
            f"Recording {self.camera.currentText()} (live picture on the right). "
            f"Stop now keeps what is recorded so far (at least {clock(self.min_record_s)}).",
        )
        self._show_recording(0.0)

    def _record_tick(self) -> None:
        rec = self.recording
        if rec is None:
            return
        now = time.monotonic()
        state = self._tile_state(self.camera.currentText()) if self._tile_state else None
        frame = getattr(state, "frame", None)
        if frame is not None and rec.add(frame, now):
            self._show_image(frame.image)  # the live picture, with the audited line
        self._show_recording(rec.elapsed(now))
        if rec.done(now):
            self._end_recording()

    def _show_recording(self, elapsed: float) -> None:
        rec = self.recording
        if rec is None:
            return
        self._progress = min(elapsed / rec.length_s, 1.0) if rec.length_s > 0 else 1.0
        left = clock(math.ceil(rec.length_s - elapsed))
        if not rec.frames and elapsed >= 2.0:  # nothing yet: say so rather than a black box
            self.clock.setText(f"● Waiting for the camera's picture… {left} left")
            return
        self.clock.setText(f"● Recording {clock(elapsed)} / {clock(rec.length_s)} · {left} left")

    def stop_recording(self) -> None:
        """Stop now: the recording so far is the footage, if long enough to audit."""
        rec = self.recording
        if rec is None:
            return
        if rec.long_enough:
            self._end_recording()
            return
        self._rec_timer.stop()
        self.recording = None
        self._recording_ui_off()
        self._set_busy(
            False,
            f"Stopped after {clock(rec.recorded_s)}: too short to audit (at least "
            f"{clock(rec.min_s)} is needed, a few minutes is best). Nothing was kept: "
            "record again.",
        )

    def _recording_ui_off(self) -> None:
        self.stop_button.setVisible(False)
        self.play_button.setVisible(True)
        self.clock.setText("–")
        self._lock_inputs(False)

    def _end_recording(self) -> None:
        rec = self.recording
        self._rec_timer.stop()
        self.recording = None
        if rec is None:
            return
        self.stop_button.setVisible(False)
        self.play_button.setVisible(True)
        footage = rec.footage()
        if not footage.frames:
            self._recording_ui_off()
            self._set_busy(False, "No picture came from the camera: is it live?")
            return
        self._keep_recording(footage)
        self._start(footage, live=True)

    def _keep_recording(self, footage: AuditFootage) -> None:
        store = self.store
        if store is None:
            return
        ttl = self.cfg.retention.person_crops_days * 86400.0
        jpegs, size = footage.frames, footage.size
        cam = self.camera.currentText()

        def keep() -> int:
            rec = count_audits.save_recording(store, cam, jpegs, footage.fps, size, ttl)
            return rec.id

        self.background.submit(keep, self._recording_kept, self._failed)

    def _recording_kept(self, rec_id: int) -> None:
        self.recording_id = rec_id

    def _pick_clip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "A clip of the camera", str(last_folder("videos")), CLIP_FILTER
        )
        if path:
            remember_folder("videos", path)
            self.use_clip(Path(path))

    def use_clip(self, path: Path) -> None:
        """Take a clip file of the camera as the audit's recording."""
        if not self._ready_to_start():
            return
        self._lock_inputs(True)
        self._set_busy(True, f"Opening {path.name}…")
        self.background.submit(
            lambda: audit_clip.load_clip(path), lambda f: self._start(f, live=False), self._failed
        )

    # --- analysis and replay ---------------------------------------------------------

    def _start(self, footage: AuditFootage, live: bool) -> None:
        self.footage, self.marks, self.counted, self.outcome = footage, [], None, None
        self._live = live
        self.frame_no, self._finish_wanted = 0, False
        self.issues.clear()
        self.summary.clear()
        cfg, cam, line = self.cfg, self.camera.currentText(), self.line.currentText()
        self._note = self._size_note(footage)  # said until the result replaces it
        self._set_busy(True, "Vitrine is counting the footage while you mark it." + self._note)
        self._lock_inputs(True)

        def count() -> list[Crossing]:
            detector = self._detector_factory(cfg)
            job: Generator[float, None, list[Crossing]]
            if footage.source is not None:
                job = audit_clip.count_clip(cfg, cam, line, footage.source, detector)
            else:
                job = audit_clip.count_footage(cfg, cam, line, footage, detector)
            while True:
                if self._cancelled:
                    job.close()
                    return []
                try:
                    self._progress = next(job)
                except StopIteration as done:
                    return list(done.value)

        self._analysis.submit(count, self._counted, self._failed)
        self.finish_button.setEnabled(True)
        self.play_button.setEnabled(True)
        self._show_frame()
        self.video.setFocus()
        self.play(True)

    def _counted(self, crossings: list[Crossing]) -> None:
        self.counted = crossings
        self._poll.stop()
        self.bar.setVisible(False)
        self.status.setText(
            "Vitrine has counted the footage. Mark every crossing, then Finish." + self._note
        )
        if self._finish_wanted:
            self.finish()

    def _failed(self, exc: BaseException) -> None:
        log.warning("audit failed: %s", exc)
        self._set_busy(False, f"The audit could not go on: {str(exc).splitlines()[0]}")
        self._lock_inputs(False)

    def _set_busy(self, busy: bool, text: str) -> None:
        self.status.setText(text)
        self._progress = 0.0
        self.bar.setValue(0)
        self.bar.setVisible(busy)
        if busy:
            self._poll.start()
        else:
            self._poll.stop()

    def _show_progress(self) -> None:
        self.bar.setValue(int(self._progress * 1000))

    @property
    def t(self) -> float:
        """Seconds into the footage of the frame shown."""
        return self.footage.frames[self.frame_no][0] if self.footage else 0.0

    def play(self, on: bool) -> None:
        self.playing = on and self.footage is not None
        if self.playing:
            self._set_speed()
        else:
            self._play_timer.stop()
        self._show_clock()

    def toggle_play(self) -> None:
        """The play / pause button and Space; at the end, play replays from the start."""
        if not self.playing and self.at_end:
            self.seek(0.0)
        self.play(not self.playing)

    @property
    def at_end(self) -> bool:
        return self.footage is not None and self.frame_no >= len(self.footage.frames) - 1

    def _set_speed(self, *_: object) -> None:
        if self.footage is None:
            return
        speed = SPEEDS[self.speed.currentIndex()]
        interval = int(1000 / (self.footage.fps * speed))
        if self.playing:
            self._play_timer.start(max(interval, 5))

    def _advance(self) -> None:
        if self.footage is None or self.frame_no >= len(self.footage.frames) - 1:
            self.play(False)
            return
        self.frame_no += 1
        self._show_frame()

    def seek(self, t: float) -> None:
        if self.footage is None:
            return
        self.frame_no = self.footage.index_at(max(0.0, t))
        self._show_frame()

    def _show_frame(self) -> None:
        if self.footage is None or not self.footage.frames:
            return
        self._show_image(self.footage.image(self.frame_no))
        self._show_clock()

    def _show_image(self, image: np.ndarray) -> None:
        pix = to_pixmap(self._with_line(image))
        self.video.setPixmap(
            pix.scaled(self.video.size(), Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
        )  # fmt: skip

    def _with_line(self, image: np.ndarray) -> np.ndarray:
        """The frame with the audited line drawn on it (the manager marks its crossings)."""
        line = next((ln for ln in self.cfg.lines if ln.name == self.line.currentText()), None)
        return audit_clip.draw_line(image, line) if line is not None else image

    def _show_clock(self) -> None:
        if self.footage is None:
            return
        if self.playing:
            action = "❚❚ Pause (Space)"
        else:
            action = "↻ Replay (Space)" if self.at_end else "▶ Play (Space)"
        self.play_button.setText(action)
        self.clock.setText(f"{self.t:6.1f} / {self.footage.duration_s:.1f} s")
        ins = sum(m.direction == "in" for m in self.marks)
        self.mark_label.setText(f"Marks: {ins} in, {len(self.marks) - ins} out")

    # --- the manager's keys ------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        key, mods = event.key(), event.modifiers()
        if self.footage is None:
            super().keyPressEvent(event)
            return
        if key in (Qt.Key.Key_I, Qt.Key.Key_O):
            self.mark("in" if key == Qt.Key.Key_I else "out")
        elif key == Qt.Key.Key_Backspace or (
            key == Qt.Key.Key_Z and mods & Qt.KeyboardModifier.ControlModifier
        ):
            self.undo()
        elif key == Qt.Key.Key_Space:
            self.toggle_play()
        elif key == Qt.Key.Key_Left:
            self.seek(self.t - 1.0)
        elif key == Qt.Key.Key_Right:
            self.seek(self.t + 1.0)
        else:
            super().keyPressEvent(event)

    def mark(self, direction: str) -> None:
        self.marks.append(Crossing(self.line.currentText(), direction, self.t, len(self.marks) + 1))
        self._marks_changed()

    def undo(self) -> None:
        if self.marks:
            self.marks.pop()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._show_clock()
        if self.footage is not None:
            self.finish_button.setEnabled(True)

    # --- the result ----------------------------------------------------------------

    def finish(self) -> None:
        if self.footage is None:
            return
        self.play(False)
        if not self.marks:  # an audit of nothing would be kept (and sent) as 0 %
            self.status.setText(
                "No marks yet: press I for each person coming in and O for each going out "
                "as they cross the line, then Finish and compare."
            )
            return
        self.finish_button.setEnabled(False)  # kept once; a new mark enables it again
        if self.counted is None:
            self._finish_wanted = True
            self.status.setText("Comparing as soon as Vitrine has counted the footage…")
            return
        self.outcome = match_crossings(self.marks, self.counted)
        self._show_result(self.outcome)
        self._keep_result(self.outcome)

    def _show_result(self, r: AuditResult) -> None:
        colour = "#2e7d32" if r.accuracy >= 0.95 else "#c62828"
        self.summary.setText(
            f"<span style='font-size:20pt; color:{colour}'>{100 * r.accuracy:.1f} %</span> "
            f"accuracy &nbsp; matched {r.matched}, missed {len(r.missed)}, extra {len(r.extra)}"
            f"<br><small>accuracy = matched / (matched + missed + extra); a mark and a count "
            f"match on the same direction within {r.tolerance_s:g} s</small>"
        )
        self.issues.clear()
        assert self.footage is not None
        for what, items in (("Missed", r.missed), ("Extra", r.extra)):
            for c in items:
                img = self.footage.image(self.footage.index_at(c.t))
                label = f"{what}: {c.direction} at {c.t:.1f} s"
                item = QListWidgetItem(QIcon(to_pixmap(audit_clip.thumbnail(img))), label)
                item.setData(Qt.ItemDataRole.UserRole, c.t)
                self.issues.addItem(item)
        if not r.missed and not r.extra:
            self.issues.addItem("Every crossing counted, nothing extra.")
        self._lock_inputs(False)

    def _jump(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.ItemDataRole.UserRole)
        if t is not None:
            self.play(False)
            self.seek(float(t) - 1.0)  # a second before: watch it happen with Space

    def _keep_result(self, r: AuditResult) -> None:
        store, footage = self.store, self.footage
        if store is None or footage is None:
            self.status.setText("Result shown (no store open: it is not kept).")
            return
        cam, line, rec_id, live = (
            self.camera.currentText(), self.line.currentText(), self.recording_id, self._live
        )  # fmt: skip

        def keep() -> None:
            count_audits.save_audit(
                store, cam, line, r, footage.duration_s, recording_id=rec_id, from_camera=live
            )
            if live:  # the camera's view now is the drift check's new reference
                step = max(1, len(footage.frames) // 9)
                picks = range(0, len(footage.frames), step)
                view = view_drift.background([footage.image(i) for i in picks])
                count_audits.set_reference(store, cam, view_drift.encode_view(view), "audit")

        self.background.submit(keep, lambda _: self._kept(), self._failed)

    def _kept(self) -> None:
        if not self._live:
            self.status.setText(
                "Audit of a clip file kept (listed under Past audits; not sent to HQ: "
                "only an audit recorded from the camera stands for its counting)."
            )
        elif self.cfg.sync.enabled:
            self.status.setText("Audit kept; its figures go to HQ with the next sync.")
        else:
            self.status.setText("Audit kept (listed under Past audits).")
        self.refresh_history()

    def refresh_history(self) -> None:
        if self.store is None:
            return
        with self.store.read_session() as s:
            rows = count_audits.list_audits(s, limit=50)
        self.history.setRowCount(len(rows))
        for i, a in enumerate(rows):
            cells = [
                datetime.fromtimestamp(a.ts).strftime("%Y-%m-%d %H:%M"),
                a.camera if a.source == "camera" else f"{a.camera} (clip file)", a.line,
                str(a.matched), str(a.missed), str(a.extra), f"{100 * a.accuracy:.1f} %",
            ]  # fmt: skip
            for j, text in enumerate(cells):
                self.history.setItem(i, j, QTableWidgetItem(text))
        self.history.resizeColumnsToContents()

    def work_at_stake(self) -> str:
        """What closing now would lose ("" when nothing): a recording under way, or
        marks not compared yet."""
        if self._rec_timer.isActive():
            return "the recording under way"
        if self.marks and self.outcome is None:
            n = len(self.marks)
            return "your mark" if n == 1 else f"your {n} marks"
        return ""

    def ask_before_closing(self, what: str) -> bool:
        """Stop (True) or keep auditing (False, also Esc)."""
        chosen = ask(
            question(
                self,
                "Stop the audit?",
                f"Closing now loses {what}.",
                "Nothing of this audit is kept. Keep auditing to finish it and compare.",
                [("Stop the audit", Role.DestructiveRole), ("Keep auditing", Role.RejectRole)],
                default="Keep auditing",
            )
        )
        return chosen == "Stop the audit"

    def reject(self) -> None:
        """Close, Esc and the window's close button: ask first if work would be lost."""
        what = self.work_at_stake()
        if what and not self.ask_before_closing(what):
            return
        super().reject()

    def done(self, r: int) -> None:
        for timer in (self._play_timer, self._rec_timer, self._poll):
            timer.stop()
        self._cancelled = True  # the analysis stops at its next frame
        self._analysis.shutdown()
        super().done(r)
