"""The zone editor's ignore masks, person size range and "ignore what does not move",
driven with simulated clicks on the PETS picture; what is applied is the camera's
config, which the pipeline's filters then use."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.config import AppConfig
from app.ui.zone_editor import ZoneEditor
from app.ui.zone_model import shapes_from_config
from app.vision.detections import Detections
from app.vision.filters import DetectionFilter, FilterRules
from tests.ui.test_zone_editor import base_config, click, no_question

SIGN = (19.0, 68.0, 30.0, 89.0)  # the sign on a post in the PETS view


def camera(cfg: AppConfig, name: str = "plaza"):  # noqa: ANN201
    return next(c for c in cfg.cameras if c.name == name)


def open_editor(qtbot, image, cfg=None, still=None):  # noqa: ANN001, ANN201
    applied: list[AppConfig] = []

    def on_apply(new: AppConfig) -> str | None:
        applied.append(new)
        return None

    ed = ZoneEditor(cfg or base_config(), "plaza", on_apply, image, still_boxes=still)
    qtbot.addWidget(ed, before_close_func=no_question)
    ed.resize(1200, 720)
    ed.show()
    qtbot.waitExposed(ed)
    return ed, applied


def test_draw_a_mask_around_the_sign_and_save(qtbot, pets_frames) -> None:  # noqa: ANN001
    ed, applied = open_editor(qtbot, pets_frames[0])
    ed.draw_buttons["mask"].click()
    corners = [(10, 60), (40, 60), (40, 98), (10, 98)]
    for x, y in corners:
        click(ed, x, y)
    QTest.keyClick(ed, Qt.Key.Key_Return)  # Enter closes it
    assert ed.canvas.drawing is None and [s.kind for s in ed.canvas.shapes] == ["mask"]
    assert "Ignore mask" in ed.list.item(0).text()
    assert not ed.capacity.isVisible() and not ed.in_store.isVisible()
    assert not ed._props.isRowVisible(ed.capacity)
    ed.name.clear()
    QTest.keyClicks(ed.name, "Sign")
    ed.save_and_close()
    assert not ed.isVisible(), ed.error.text()
    cfg = applied[-1]
    (mask,) = camera(cfg).ignore_masks
    assert mask.name == "Sign" and len(mask.polygon) == 4
    assert all(
        abs(a - b) <= 2
        for p, q in zip(mask.polygon, corners, strict=True)
        for a, b in zip(p, q, strict=True)
    )
    assert camera(cfg, "back").ignore_masks == [] and not cfg.zones_of("plaza")
    # the saved mask drops the sign's detection, and comes back in the editor
    sign = Detections.create([SIGN, [200, 100, 220, 160]])
    kept = DetectionFilter(FilterRules.of(camera(cfg))).apply(sign, (360, 480))
    assert kept.xyxy.tolist() == [[200, 100, 220, 160]]
    assert [(s.name, s.kind) for s in shapes_from_config(cfg, "plaza")] == [("Sign", "mask")]


def test_person_size_range_is_saved_with_the_camera(qtbot, pets_frames) -> None:  # noqa: ANN001
    ed, applied = open_editor(qtbot, pets_frames[0])
    assert ed.min_size.value() == pytest.approx(2.0) and ed.max_size.value() == 100.0
    ed.min_size.setValue(4.0)
    ed.max_size.setValue(60.0)
    assert ed.has_changes()
    ed.show_size.setChecked(True)
    assert ed.canvas.size_guides == (0.04, 0.6)
    assert ed.apply(), ed.error.text()
    assert (camera(applied[-1]).min_person_height, camera(applied[-1]).max_person_height) == (
        0.04,
        0.6,
    )
    assert not ed.has_changes()
    ed.min_size.setValue(70.0)  # above the largest: refused, in words
    assert not ed.apply()
    assert ed.error.text().startswith("The smallest person size")


def test_ignore_what_does_not_move_puts_a_mask_around_it(qtbot, pets_frames) -> None:  # noqa: ANN001
    still = np.array([SIGN], np.float32)
    ed, applied = open_editor(qtbot, pets_frames[0], still=still)
    assert ed.ignore_still.isVisible()
    ed.ignore_still.click()
    assert not ed.ignore_still.isVisible() and ed.canvas.still_boxes == []
    (shape,) = ed.canvas.shapes
    assert shape.kind == "mask" and shape.name == "Mask 1"
    xs, ys = [p[0] for p in shape.points], [p[1] for p in shape.points]
    assert min(xs) < SIGN[0] and max(xs) > SIGN[2] and min(ys) < SIGN[1] and max(ys) > SIGN[3]
    assert ed.apply(), ed.error.text()
    rules = FilterRules.of(camera(applied[-1]))
    assert len(DetectionFilter(rules).apply(Detections.create([SIGN]), (360, 480))) == 0


def test_a_tile_draws_a_still_object_apart_in_grey(qtbot, pets_frames) -> None:  # noqa: ANN001
    from app.vision.detections import Detections as D
    from tests.ui.test_widgets import painted_before_and_after

    still = D.create([[300, 60, 340, 160]], tracker_id=[9])
    before, after = painted_before_and_after(qtbot, pets_frames, stationary=still)
    # the dashed grey outline along the box's left edge (the tile is 480 x 360, 1:1)
    edge = [after.pixelColor(300, y) for y in range(70, 150)]
    changed = [
        c for c, y in zip(edge, range(70, 150), strict=True) if c != before.pixelColor(300, y)
    ]
    assert len(changed) > 20
    assert all(c.saturation() < 40 and c.lightness() > 180 for c in changed)


def test_undo_steps_back_through_masks_zones_and_sizes(qtbot, pets_frames) -> None:  # noqa: ANN001
    ed, applied = open_editor(qtbot, pets_frames[0])
    assert not ed.can_undo()
    ed.draw_buttons["mask"].click()
    for x, y in [(10, 60), (40, 60), (40, 98)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ed.canvas.drawing is None and ed.canvas.shapes == []  # cancels the drawing
    ed.draw_buttons["mask"].click()
    for x, y in [(10, 60), (40, 60), (40, 98), (10, 98)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    ed.draw_buttons["zone"].click()
    for x, y in [(100, 150), (200, 150), (200, 300)]:
        click(ed, x, y)
    QTest.keyClick(ed.canvas, Qt.Key.Key_Return)
    ed.max_size.setValue(50.0)
    ed.canvas.select(0)
    ed.delete_selected()  # the mask
    assert [s.kind for s in ed.canvas.shapes] == ["zone"]
    ed.undo()  # the mask is back
    assert [s.kind for s in ed.canvas.shapes] == ["mask", "zone"]
    ed.undo()  # the size
    assert ed.max_size.value() == 100.0 and len(ed.canvas.shapes) == 2
    QTest.keyClick(ed.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [s.kind for s in ed.canvas.shapes] == ["mask"]
    ed.undo_button.click()
    assert ed.canvas.shapes == [] and not ed.can_undo() and not ed.has_changes()
    ed.undo()  # nothing left: no harm
    assert ed.list.count() == 0 and applied == []


def test_undo_brings_back_the_still_objects_offer(qtbot, pets_frames) -> None:  # noqa: ANN001
    ed, _ = open_editor(qtbot, pets_frames[0], still=np.array([SIGN], np.float32))
    ed.ignore_still.click()
    assert len(ed.canvas.shapes) == 1 and not ed.ignore_still.isVisible()
    ed.undo()
    assert ed.canvas.shapes == [] and ed.ignore_still.isVisible()
    assert ed.canvas.still_boxes == [SIGN]


def test_editing_a_camera_keeps_its_masks_and_person_sizes(qtbot) -> None:  # noqa: ANN001
    from app.config import CameraConfig
    from app.ui.camera_dialog import CameraDialog
    from app.ui.workers import Background
    from tests.conftest import PETS_CLIP

    cam = CameraConfig.model_validate(
        {
            "name": "Plaza",
            "type": "file",
            "url": str(PETS_CLIP),
            "ignore_masks": [{"name": "sign", "polygon": [[12, 60], [38, 60], [38, 96]]}],
            "min_person_height": 0.05,
            "max_person_height": 0.7,
        }
    )
    bg = Background()
    try:
        dlg = CameraDialog(bg, {"Plaza"}, cam)
        qtbot.addWidget(dlg)
        dlg.form.name.setText("Plaza west")  # renamed: tested again, then saved
        dlg._save()
        qtbot.waitUntil(lambda: dlg.result_camera is not None, timeout=30000)
        saved = dlg.result_camera
        assert saved is not None and saved.name == "Plaza west"
        assert saved.ignore_masks == cam.ignore_masks
        assert (saved.min_person_height, saved.max_person_height) == (0.05, 0.7)
    finally:
        bg.shutdown()


def test_a_mask_over_a_counting_line_is_pointed_out(qtbot, pets_frames) -> None:  # noqa: ANN001
    cfg = base_config().model_copy(
        update={
            "lines": [
                *base_config().lines,
                *AppConfig.model_validate(
                    {
                        "lines": [
                            {
                                "name": "Door",
                                "camera": "plaza",
                                "start": [240, 50],
                                "end": [240, 300],
                            }
                        ]
                    }  # fmt: skip
                ).lines,
            ]
        }
    )
    ed, applied = open_editor(qtbot, pets_frames[0], cfg)
    ed.draw_buttons["mask"].click()
    for x, y in [(200, 150), (300, 150), (300, 250), (200, 250)]:  # across the line
        click(ed, x, y)
    QTest.keyClick(ed, Qt.Key.Key_Return)
    ed.save_and_close()  # applied, but it stays open once to say so
    assert applied and ed.isVisible()
    assert "covers part of the line “Door”" in ed.error.text()
    assert ed.status.text() == "Applied to the live camera ✓"
    ed.save_and_close()  # seen: now it closes
    assert not ed.isVisible()


def test_a_tight_mask_away_from_lines_says_nothing(qtbot, pets_frames) -> None:  # noqa: ANN001
    from app.ui.zone_model import Shape, masks_over_lines

    line = Shape("Door", "line", [(240.0, 50.0), (240.0, 300.0)])
    tight = Shape("Sign", "mask", [(10.0, 60.0), (40.0, 60.0), (40.0, 98.0), (10.0, 98.0)])
    around_end = Shape("End", "mask", [(230.0, 290.0), (250.0, 290.0), (250.0, 310.0)])
    assert masks_over_lines([line, tight]) == []
    assert masks_over_lines([line, tight, around_end]) == [("End", "Door")]
