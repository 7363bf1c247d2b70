"""The zone editor, driven with simulated mouse clicks and drags on its canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton

from app.config import AppConfig
from app.ui.zone_editor import HINTS, IDLE_HINT, ZoneEditor
from app.ui.zone_model import apply_shapes, in_side, polygon_centroid, shapes_from_config
from tests.conftest import PETS_CLIP


def base_config() -> AppConfig:
    return AppConfig.model_validate(
        {
            "cameras": [
                {"name": "plaza", "type": "file", "url": str(PETS_CLIP)},
                {"name": "back", "type": "file", "url": str(PETS_CLIP)},
            ],
            "zones": [{"name": "Till", "camera": "back", "polygon": [[0, 0], [50, 0], [50, 50]]}],
        }
    )


def click(editor: ZoneEditor, x: float, y: float) -> None:
    q = editor.canvas.to_widget((x, y))
    QTest.mouseClick(
        editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, q.toPoint()
    )


def no_question(ed: ZoneEditor) -> None:
    """Closing at teardown discards what a test left unapplied, without a message box."""
    ed.ask_before_closing = lambda: "discard"  # type: ignore[method-assign]


@pytest.fixture
def editor(qtbot, pets_frames) -> tuple[ZoneEditor, list[AppConfig]]:  # noqa: ANN001
    applied: list[AppConfig] = []

    def on_apply(cfg: AppConfig) -> str | None:
        applied.append(cfg)
        return None

    ed = ZoneEditor(base_config(), "plaza", on_apply, pets_frames[0])
    qtbot.addWidget(ed, before_close_func=no_question)
    ed.resize(1200, 720)
    ed.show()
    qtbot.waitExposed(ed)
    return ed, applied


def close_to(a: tuple[float, float], b: tuple[float, float], tol: float = 2.0) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


def test_draw_zone_and_line_with_clicks_then_apply(editor, qtbot) -> None:  # noqa: ANN001
    ed, applied = editor
    ed.draw_buttons["zone"].click()
    corners = [(40, 120), (220, 120), (220, 300), (40, 300)]
    for x, y in corners:
        click(ed, x, y)
    click(ed, *corners[0])  # clicking the first corner closes the polygon
    assert ed.canvas.drawing is None and len(ed.canvas.shapes) == 1
    ed.name.clear()
    QTest.keyClicks(ed.name, "Left side")
    ed.capacity.setValue(5)

    ed.draw_buttons["line"].click()
    click(ed, 240, 60)
    click(ed, 240, 340)
    assert len(ed.canvas.shapes) == 2
    # a line has no capacity: its row is hidden, not greyed (issue 23); a zone's shows
    assert ed.selected() is not None and ed.selected().kind == "line"
    assert not ed._props.isRowVisible(ed.capacity)
    ed.list.setCurrentRow(0)
    assert ed._props.isRowVisible(ed.capacity) and ed.capacity.value() == 5

    assert ed.apply(), ed.error.text()
    cfg = applied[-1]
    zone = next(z for z in cfg.zones if z.name == "Left side")
    assert zone.camera == "plaza" and zone.capacity == 5
    assert all(close_to(p, c) for p, c in zip(zone.polygon, corners, strict=True))
    line = next(ln for ln in cfg.lines if ln.camera == "plaza")
    assert close_to(line.start, (240, 60)) and close_to(line.end, (240, 340))
    assert [z.name for z in cfg.zones if z.camera == "back"] == ["Till"]  # other camera kept


def test_drag_a_vertex_and_flip_a_line(editor) -> None:  # noqa: ANN001
    ed, applied = editor
    ed.draw_buttons["line"].click()
    click(ed, 100, 100)
    click(ed, 300, 100)
    start = ed.canvas.to_widget((300, 100)).toPoint()
    end = ed.canvas.to_widget((350, 200)).toPoint()
    QTest.mousePress(ed.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(ed.canvas, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    QTest.mouseMove(ed.canvas, end)
    QTest.mouseRelease(ed.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    shape = ed.canvas.shapes[0]
    assert close_to(shape.points[1], (350, 200))
    ed.flip_button.click()
    assert close_to(shape.points[0], (350, 200)) and close_to(shape.points[1], (100, 100))
    assert ed.apply()
    line = applied[-1].lines[0]
    assert close_to(line.start, (350, 200))


def test_entrance_line_points_into_its_zone(editor) -> None:  # noqa: ANN001
    ed, applied = editor
    ed.draw_buttons["entrance"].click()
    # outer line drawn right-to-left at y=300: its default "in" side would be below
    click(ed, 400, 300)
    click(ed, 100, 300)
    for x, y in [(100, 200), (400, 200), (400, 280), (100, 280)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    assert ed.apply(), ed.error.text()
    cfg = applied[-1]
    ent = cfg.entrances[0]
    line = next(ln for ln in cfg.lines if ln.name == ent.line)
    zone = next(z for z in cfg.zones if z.name == ent.zone)
    assert in_side(line.start, line.end, polygon_centroid(list(zone.polygon)))
    assert [(s.kind, s.name) for s in shapes_from_config(cfg, "plaza")] == [("entrance", ent.name)]


def test_bad_edits_are_refused_with_a_message(editor) -> None:  # noqa: ANN001
    ed, applied = editor
    ed.draw_buttons["zone"].click()
    for x, y in [(10, 10), (100, 10), (100, 100)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    ed.name.setText("Till")  # already a zone of the other camera
    ed._name_edited("Till")
    assert not ed.apply()
    assert "unique" in ed.error.text() and "Till" in ed.error.text()
    assert applied == []
    ed.delete_selected()  # the cause is gone, and so is the message
    assert ed.error.text() == ""
    ed.draw_buttons["zone"].click()
    click(ed, 5, 5)
    click(ed, 50, 5)  # only two corners: cannot be finished
    assert not ed.apply()
    assert "Finish" in ed.error.text()


def test_apply_shapes_round_trip() -> None:
    cfg = base_config()
    shapes = shapes_from_config(cfg, "back")
    assert [s.name for s in shapes] == ["Till"]
    again = apply_shapes(cfg, "back", shapes)
    assert again.zones == cfg.zones
    with pytest.raises(ValueError, match="not finished"):
        shapes[0].points = shapes[0].points[:2]
        apply_shapes(cfg, "back", shapes)


def test_a_zone_whose_edges_cross_is_refused_in_one_line() -> None:
    cfg = base_config()
    shapes = shapes_from_config(cfg, "back")
    shapes[0].points = [(10.0, 10.0), (200.0, 150.0), (200.0, 10.0), (10.0, 150.0)]  # bow tie
    with pytest.raises(ValueError) as exc:
        apply_shapes(cfg, "back", shapes)
    assert (
        str(exc.value)
        == "“Till”'s outline crosses itself: drag a corner so that no two edges cross."
    )
    shapes[0].points = [(10.0, 10.0), (100.0, 10.0), (200.0, 10.0)]  # on one line
    with pytest.raises(ValueError, match="has no area"):
        apply_shapes(cfg, "back", shapes)


def test_canvas_maps_image_coordinates_whatever_the_size(editor) -> None:  # noqa: ANN001
    ed, _ = editor
    for size in ((700, 400), (1200, 900)):
        ed.canvas.resize(*size)
        p = ed.canvas.to_image(ed.canvas.to_widget((123.0, 45.0)))
        assert close_to(p, (123.0, 45.0), 0.6)
    assert np.asarray(ed.canvas.image).shape[:2] == (360, 480)


def draw_zone_and_line(ed: ZoneEditor) -> None:
    ed.draw_buttons["zone"].click()
    for x, y in [(40, 120), (220, 120), (220, 300)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    ed.draw_buttons["line"].click()
    click(ed, 240, 60)
    click(ed, 240, 340)
    assert len(ed.canvas.shapes) == 2


def answer_next_box(qtbot, text: str, seen: list[str]) -> None:  # noqa: ANN001
    """Click `text` in the next modal message box as soon as it shows."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    tries = [100]  # about 2 s, then the test's own asserts say what went wrong

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            tries[0] -= 1
            if tries[0] > 0:
                QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == text).click()

    QTimer.singleShot(0, press)


@pytest.mark.parametrize("how", ["close button", "escape", "window close"])
def test_closing_with_unapplied_shapes_asks_first(editor, qtbot, how: str) -> None:  # noqa: ANN001
    ed, applied = editor
    draw_zone_and_line(ed)
    seen: list[str] = []

    def close() -> None:
        if how == "close button":
            next(b for b in ed.findChildren(QPushButton) if b.text() == "Close").click()
        elif how == "escape":
            QTest.keyClick(ed.name, Qt.Key.Key_Escape)  # focus is on the new shape's name
        else:
            ed.close()

    answer_next_box(qtbot, "Cancel", seen)
    close()
    assert seen == ["Discard your changes to the zones and lines?"]
    assert ed.isVisible() and len(ed.canvas.shapes) == 2 and applied == []  # kept editing
    answer_next_box(qtbot, "Apply", seen)
    close()
    assert not ed.isVisible() and len(applied) == 1
    assert {ln.camera for ln in applied[0].lines} == {"plaza"}


def test_discarding_closes_and_an_untouched_editor_closes_without_asking(editor) -> None:  # noqa: ANN001
    ed, applied = editor
    asked: list[bool] = []
    ed.ask_before_closing = lambda: asked.append(True) or "discard"  # type: ignore[method-assign]
    ed.reject()  # nothing changed: no question
    assert asked == [] and not ed.isVisible()
    ed.show()
    draw_zone_and_line(ed)
    assert ed.apply()
    ed.reject()  # everything applied: no question either
    assert asked == []
    ed.show()
    ed.canvas.shapes[0].name = "Renamed"
    ed.reject()
    assert asked == [True] and not ed.isVisible() and len(applied) == 1


def test_escape_while_drawing_cancels_only_the_shape(editor) -> None:  # noqa: ANN001
    ed, _ = editor
    asked: list[bool] = []
    ed.ask_before_closing = lambda: asked.append(True) or "cancel"  # type: ignore[method-assign]
    ed.draw_buttons["zone"].click()
    assert ed.hint.text() == HINTS["zone"]
    click(ed, 10, 10)
    click(ed, 100, 10)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Escape)
    assert ed.isVisible() and ed.canvas.drawing is None and asked == []
    assert ed.hint.text() == IDLE_HINT
    ed.draw_buttons["line"].click()
    click(ed, 10, 10)
    ed.list.setFocus()  # Esc reaches the dialog itself
    QTest.keyClick(ed.list, Qt.Key.Key_Escape)
    assert ed.isVisible() and ed.canvas.drawing is None and asked == []
    assert ed.hint.text() == IDLE_HINT
    QTest.keyClick(ed.list, Qt.Key.Key_Escape)  # nothing drawn: Esc closes at once
    assert not ed.isVisible() and asked == []


def test_enter_on_a_zone_with_two_corners_says_what_is_missing(editor) -> None:  # noqa: ANN001
    ed, _ = editor
    ed.draw_buttons["zone"].click()
    click(ed, 10, 10)
    click(ed, 100, 10)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    assert ed.canvas.drawing is not None and ed.isVisible()
    assert "a zone needs at least 3 corners" in ed.hint.text().lower()
    ed.list.setFocus()
    ed.hint.setText("")
    QTest.keyClick(ed.list, Qt.Key.Key_Enter)  # Enter anywhere in the editor
    assert "at least 3 corners" in ed.hint.text() and ed.isVisible()
    click(ed, 100, 100)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    assert ed.canvas.drawing is None and ed.hint.text() == IDLE_HINT


def test_a_line_inside_the_store_is_unticked_as_a_door(editor, qtbot) -> None:  # noqa: ANN001
    """A counting line is a door of the store unless its box is unticked; the choice
    shows in the list, is applied to the config, and comes back when the editor opens
    again. Zones have no such box."""
    ed, applied = editor
    ed.draw_buttons["line"].click()
    click(ed, 240, 60)
    click(ed, 240, 340)
    assert ed.door.isVisibleTo(ed) and ed.door.isChecked()
    ed.door.click()  # as a person unticks it
    assert not ed.door.isChecked()
    assert ed.list.item(0).text().endswith("In-store line")
    assert ed.has_changes()
    assert ed.apply(), ed.error.text()
    line = next(ln for ln in applied[-1].lines if ln.camera == "plaza")
    assert line.door is False
    again = shapes_from_config(applied[-1], "plaza")
    assert [s.door for s in again if s.kind == "line"] == [False]

    ed.draw_buttons["zone"].click()
    for x, y in [(40, 120), (220, 120), (220, 300), (40, 120)]:
        click(ed, x, y)
    assert not ed.door.isVisibleTo(ed)  # the new zone is selected: no door box


def test_an_area_outside_the_store_leaves_the_head_count(editor, qtbot) -> None:  # noqa: ANN001
    """A zone counts in "In the store now" unless its box is unticked (a car park); the
    choice shows in the list and is applied. Lines have no such box."""
    ed, applied = editor
    ed.draw_buttons["zone"].click()
    for x, y in [(40, 120), (220, 120), (220, 300), (40, 120)]:
        click(ed, x, y)
    assert ed.in_store.isVisibleTo(ed) and ed.in_store.isChecked()
    assert not ed.door.isVisibleTo(ed)
    ed.in_store.click()
    assert ed.list.item(0).text().endswith("not in “In the store now”")
    assert ed.apply(), ed.error.text()
    zone = next(z for z in applied[-1].zones if z.camera == "plaza")
    assert zone.in_store is False
    assert [s.in_store for s in shapes_from_config(applied[-1], "plaza")] == [False]
    ed.draw_buttons["line"].click()
    click(ed, 240, 60)
    click(ed, 240, 340)
    assert not ed.in_store.isVisibleTo(ed)


def test_applied_is_not_claimed_after_a_further_edit(editor, qtbot) -> None:  # noqa: ANN001
    """ "Applied to the live camera ✓" goes as soon as something changes again (a box,
    a name, a flip), and long labels in the list wrap instead of running off."""
    ed, _ = editor
    ed.draw_buttons["line"].click()
    click(ed, 240, 60)
    click(ed, 240, 340)
    assert ed.apply(), ed.error.text()
    assert "Applied" in ed.status.text()
    ed.door.click()
    assert ed.status.text() == ""
    assert ed.apply()
    QTest.keyClicks(ed.name, " by the shoes")
    assert ed.status.text() == ""
    assert ed.apply()
    ed.flip_button.click()
    assert ed.status.text() == ""
    assert ed.list.wordWrap()


def test_a_name_at_the_picture_edge_stays_inside_it(editor, qtbot) -> None:  # noqa: ANN001
    """A zone drawn against the picture's right or top edge has its name placed inside
    the picture, not cut off; elsewhere it sits just above the shape."""
    ed, _ = editor
    c = ed.canvas
    r = c.image_rect()
    width = 120.0
    right = c.name_at(c.to_widget((475, 200)), width)
    assert right.x() + width <= r.right() and right.x() >= r.left()
    high = c.name_at(c.to_widget((100, 0)), width)
    assert high.y() >= r.top() + 10
    inside = c.to_widget((100, 150))
    assert c.name_at(inside, width) == inside + QPointF(4, -8)
