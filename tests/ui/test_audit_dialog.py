"""The desktop counting audit (pytest-qt): the TUD-Stadtmitte clip replayed as the
recording, the manager's key presses at each true crossing (derived from the ground
truth), undo, pause and step back; the result is shown with a thumbnail per miss and
extra, kept in the store and queued for HQ. Also a recording from a (fake) live tile."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app import wire
from app.config import AppConfig, parse_config
from app.count_audit import match_crossings
from app.store import count_audits
from app.store.db import Store
from app.store.models import OutboxRow
from app.ui.audit_dialog import SPEEDS, AuditDialog
from app.ui.workers import Background
from app.vision.video_io import Frame
from tests.conftest import REPO, TUD_DIR

sys.path.insert(0, str(REPO / "bench"))
import eval_tud  # noqa: E402

CLIP = TUD_DIR / "TUD-Stadtmitte.mp4"
LINE = "v480"


def config() -> AppConfig:
    s, e = eval_tud.LINES[LINE]
    return parse_config({
        "cameras": [{"name": "tud", "type": "file", "url": str(CLIP)}],
        "lines": [{"name": LINE, "camera": "tud", "start": list(s), "end": list(e)}],
        "models": {"dir": str(eval_tud.MODELS), "allow_download": False},
    })  # fmt: skip


@pytest.fixture
def background() -> Iterator[Background]:
    bg = Background(workers=2)
    yield bg
    bg.shutdown()


@pytest.mark.slow
def test_marks_by_key_on_a_replayed_clip(
    qtbot: QtBot, store: Store, background: Background
) -> None:
    truth = eval_tud.true_crossings(eval_tud.load_gt(TUD_DIR / "gt" / "gt.txt"), eval_tud.LINES)
    truth = sorted((c for c in truth if c.line == LINE), key=lambda c: c.t)
    dlg = AuditDialog(config(), store, background)
    qtbot.addWidget(dlg)
    dlg.show()
    assert (dlg.camera.currentText(), dlg.line.currentText()) == ("tud", LINE)
    dlg.speed.setCurrentIndex(SPEEDS.index(1.0))
    dlg.use_clip(CLIP)
    qtbot.waitUntil(lambda: dlg.footage is not None and dlg.playing, timeout=60_000)
    video = dlg.video
    # a wrong key, undone twice over (Backspace, Ctrl+Z)
    qtbot.keyClick(video, Qt.Key.Key_O)
    qtbot.keyClick(video, Qt.Key.Key_I)
    qtbot.keyClick(video, Qt.Key.Key_Backspace)
    qtbot.keyClick(video, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dlg.marks == []

    def reached(at: float) -> Callable[[], bool]:
        return lambda: dlg.t >= at

    for c in truth:  # the manager presses I or O as each person crosses the door line
        qtbot.waitUntil(reached(c.t), timeout=60_000)
        qtbot.keyClick(video, Qt.Key.Key_I if c.direction == "in" else Qt.Key.Key_O)
    assert [m.direction for m in dlg.marks] == [c.direction for c in truth]
    assert all(abs(m.t - c.t) < 0.5 for m, c in zip(dlg.marks, truth, strict=True))
    # pause, step back a second, play on
    qtbot.keyClick(video, Qt.Key.Key_Space)
    assert not dlg.playing
    before = dlg.t
    qtbot.keyClick(video, Qt.Key.Key_Left)
    assert dlg.t == pytest.approx(max(0.0, before - 1.0), abs=0.11)
    qtbot.keyClick(video, Qt.Key.Key_Space)
    assert dlg.playing
    qtbot.mouseClick(dlg.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.outcome is not None, timeout=120_000)
    qtbot.waitUntil(lambda: dlg.history.rowCount() == 1, timeout=30_000)
    r = dlg.outcome
    assert r is not None and dlg.counted is not None
    assert r.matched + len(r.missed) == len(truth)
    expected = match_crossings(truth, dlg.counted)  # the ground truth itself scores the same
    assert (r.matched, len(r.missed), len(r.extra)) == (
        expected.matched,
        len(expected.missed),
        len(expected.extra),
    )
    assert f"{100 * r.accuracy:.1f} %" in dlg.summary.text()
    # a clip file: kept and listed as such, never sent to HQ as the camera's audit (the
    # clip may show another view); finishing again is off
    assert dlg.status.text().startswith("Audit of a clip file kept")
    assert not dlg.finish_button.isEnabled()
    assert dlg.history.item(0, 2).text() == LINE
    assert dlg.history.item(0, 6).text() == f"{100 * r.accuracy:.1f} %"
    with store.read_session() as s:
        (kept,) = count_audits.list_audits(s)
        queued = s.scalars(select(OutboxRow).where(OutboxRow.kind == wire.COUNT_AUDIT)).all()
        reference = count_audits.get_reference(s, "tud")
    assert (kept.camera, kept.line, kept.matched) == ("tud", LINE, r.matched)
    assert kept.duration_s == pytest.approx(7.1, abs=0.2) and queued == []
    assert kept.source == "clip" and dlg.history.item(0, 1).text() == "tud (clip file)"
    assert reference is None  # a clip file is not the camera's view now
    # each miss and extra is listed with a thumbnail; clicking one jumps to it
    issues = len(r.missed) + len(r.extra)
    if issues:
        assert dlg.issues.count() == issues
        item = dlg.issues.item(0)
        assert not item.icon().isNull()
        t = item.data(Qt.ItemDataRole.UserRole)
        dlg.issues.itemClicked.emit(item)
        assert not dlg.playing and dlg.t == pytest.approx(max(0.0, t - 1.0), abs=0.11)
    else:
        assert dlg.issues.count() == 1


@pytest.mark.slow
def test_finishing_without_marks_keeps_nothing(
    qtbot: QtBot, store: Store, background: Background
) -> None:
    dlg = AuditDialog(config(), store, background)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.use_clip(CLIP)
    qtbot.waitUntil(lambda: dlg.footage is not None, timeout=60_000)
    qtbot.mouseClick(dlg.finish_button, Qt.MouseButton.LeftButton)
    assert dlg.outcome is None and "No marks yet" in dlg.status.text()
    assert dlg.finish_button.isEnabled()  # mark, then finish
    with store.read_session() as s:
        assert count_audits.list_audits(s) == []
    # Esc with marks not compared yet asks first; "Keep auditing" keeps them
    asked: list[str] = []
    dlg.ask_before_closing = lambda what: asked.append(what) or False  # type: ignore[method-assign]
    qtbot.keyClick(dlg.video, Qt.Key.Key_I)
    qtbot.keyClick(dlg.video, Qt.Key.Key_O)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert asked == ["your 2 marks"] and dlg.isVisible() and len(dlg.marks) == 2
    dlg.ask_before_closing = lambda what: True  # type: ignore[method-assign]
    dlg.reject()
    assert not dlg.isVisible()


class FakeTiles:
    """A live camera's tile states: the clip's frames one after the other."""

    def __init__(self) -> None:
        from app.vision.video_io import iter_video

        self.frames = list(iter_video(CLIP, fps=10))
        self.i = 0

    def __call__(self, camera: str) -> Any:
        f: Frame = self.frames[min(self.i, len(self.frames) - 1)]
        self.i += 1
        return SimpleNamespace(frame=f)


def test_recording_a_live_camera_keeps_it_encrypted_and_sets_the_reference(
    qtbot: QtBot, store: Store, background: Background, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlg = AuditDialog(config(), store, background, tile_state=FakeTiles())
    qtbot.addWidget(dlg)
    dlg.minutes.setMinimum(0)
    monkeypatch.setattr(dlg.minutes, "value", lambda: 0.05)  # 3 seconds
    dlg.record()
    assert dlg.work_at_stake() == "the recording under way"
    # while it records, nobody switches camera (its frames would join) or restarts it
    assert not any(
        w.isEnabled()
        for w in (dlg.camera, dlg.line, dlg.minutes, dlg.record_button, dlg.clip_button)
    )
    qtbot.waitUntil(lambda: dlg.footage is not None, timeout=30_000)
    qtbot.waitUntil(
        lambda: dlg.recording_id is not None and dlg.counted is not None, timeout=90_000
    )
    assert dlg.footage is not None and 2.5 <= dlg.footage.duration_s <= 3.5
    qtbot.keyClick(dlg.video, Qt.Key.Key_I)
    dlg.finish()
    qtbot.waitUntil(lambda: dlg.history.rowCount() == 1, timeout=30_000)
    assert dlg.record_button.isEnabled() and dlg.camera.isEnabled()
    assert dlg.outcome is not None
    assert dlg.outcome.matched + len(dlg.outcome.missed) == 1
    rec_id = dlg.recording_id
    assert rec_id is not None
    got = count_audits.load_recording(store, rec_id, "test")
    assert got is not None and len(got[1]) >= 10
    with store.read_session() as s:
        ref = count_audits.get_reference(s, "tud")
    assert ref is not None  # the live view at this audit: the drift check's reference


def test_recording_shows_the_live_picture_and_stops_early(
    qtbot: QtBot, store: Store, background: Background
) -> None:
    """While recording: the camera's live picture, the time recorded and left with a
    progress bar, and Stop now. Stopped too soon it says so and keeps nothing; stopped
    later it keeps what was recorded and goes on to the replay."""
    dlg = AuditDialog(config(), store, background, tile_state=FakeTiles())
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.min_record_s = 1.5
    assert dlg.minutes.value() == 3 and dlg.stop_button.isHidden()
    dlg.record()
    assert dlg.stop_button.isVisible() and dlg.play_button.isHidden()
    pix = dlg.video.pixmap
    qtbot.waitUntil(lambda: not pix().isNull(), timeout=5_000)  # the live picture
    assert dlg.clock.text().startswith("● Recording 0:0")
    assert " / 3:00 · " in dlg.clock.text() and dlg.clock.text().endswith(" left")
    qtbot.mouseClick(dlg.stop_button, Qt.MouseButton.LeftButton)  # at once: too short
    assert "too short to audit (at least 0:01 is needed" in dlg.status.text()
    assert dlg.footage is None and dlg.work_at_stake() == "" and dlg.stop_button.isHidden()
    assert dlg.record_button.isEnabled() and not dlg.bar.isVisible()
    with store.read_session() as s:
        assert count_audits.list_audits(s) == []

    tiles = FakeTiles()
    dlg._tile_state = tiles
    dlg.record()
    assert dlg.work_at_stake() == "the recording under way"
    qtbot.waitUntil(lambda: dlg.bar.value() > 0, timeout=5_000)  # 1/180 of 3 minutes
    rec = dlg.recording
    assert rec is not None
    first = dlg.video.pixmap().cacheKey()
    qtbot.waitUntil(lambda: dlg.video.pixmap().cacheKey() != first, timeout=5_000)  # live
    qtbot.waitUntil(lambda: rec.recorded_s >= 2.0, timeout=10_000)
    assert "2:5" in dlg.clock.text()  # 2:58 (or so) left
    qtbot.mouseClick(dlg.stop_button, Qt.MouseButton.LeftButton)
    assert dlg.recording is None and dlg.stop_button.isHidden()
    assert dlg.footage is not None and 2.0 <= dlg.footage.duration_s < 3.5
    assert dlg.playing and dlg.play_button.text() == "❚❚ Pause (Space)"
    qtbot.mouseClick(dlg.play_button, Qt.MouseButton.LeftButton)
    assert not dlg.playing and dlg.play_button.text() == "▶ Play (Space)"
    qtbot.waitUntil(
        lambda: dlg.recording_id is not None and dlg.counted is not None, timeout=90_000
    )
    dlg.seek(dlg.footage.duration_s)  # at the end, play replays from the start
    dlg.play(False)
    assert dlg.play_button.text() == "↻ Replay (Space)"
    qtbot.keyClick(dlg.video, Qt.Key.Key_Space)
    assert dlg.playing and dlg.frame_no <= 1
    got = count_audits.load_recording(store, dlg.recording_id, "test")
    assert got is not None and len(got[1]) == len(dlg.footage.frames)
    dlg.reject()


def test_recording_a_camera_without_picture_says_so(
    qtbot: QtBot, store: Store, background: Background
) -> None:
    dlg = AuditDialog(config(), store, background, tile_state=lambda cam: None)
    qtbot.addWidget(dlg)
    dlg.record()
    qtbot.waitUntil(lambda: "Waiting for the camera's picture" in dlg.clock.text(), timeout=5_000)
    dlg.stop_recording()
    assert "Stopped after 0:00: too short to audit" in dlg.status.text()
    assert dlg.footage is None and dlg.record_button.isEnabled()


def test_the_clip_picker_lists_video_files(
    qtbot: QtBot, store: Store, background: Background, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui import audit_dialog

    asked: list[str] = []

    def pick(parent: Any, title: str, folder: str, filters: str) -> tuple[str, str]:
        asked.append(filters)
        return "", ""

    monkeypatch.setattr(audit_dialog.QFileDialog, "getOpenFileName", pick)
    dlg = AuditDialog(config(), store, background)
    qtbot.addWidget(dlg)
    dlg._pick_clip()
    [filters] = asked
    videos, everything = filters.split(";;")
    for ext in ("mp4", "mkv", "avi", "mov", "m4v", "ts"):
        assert f"*.{ext}" in videos.split("(")[1]
    assert everything == "All files (*)" and dlg.footage is None


@pytest.mark.slow
def test_a_clip_not_the_cameras_size_is_pointed_out(
    qtbot: QtBot, store: Store, background: Background
) -> None:
    import numpy as np

    live = {"size": (360, 480)}  # the camera's picture: 480x360 (PETS-like)

    def tiles(camera: str) -> Any:
        return SimpleNamespace(frame=SimpleNamespace(image=np.zeros((*live["size"], 3), np.uint8)))

    dlg = AuditDialog(config(), store, background, tile_state=tiles)
    qtbot.addWidget(dlg)
    dlg.use_clip(CLIP)  # TUD-Stadtmitte: 640x480
    qtbot.waitUntil(lambda: dlg.footage is not None, timeout=60_000)
    assert "the clip is 640x480 but the camera's picture is 480x360" in dlg.status.text()
    qtbot.waitUntil(lambda: dlg.counted is not None, timeout=60_000)  # still said then
    assert "has counted the footage" in dlg.status.text()
    assert "the clip is 640x480 but the camera's picture is 480x360" in dlg.status.text()
    assert dlg.footage is not None
    live["size"] = (480, 640)
    assert dlg._size_note(dlg.footage) == ""
    dlg.reject()  # stops the analysis
