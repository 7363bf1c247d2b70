"""Settings form validation, the event bridge, camera tile painting, and the button
styles."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRectF, QThread
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPushButton, QWidget

from app.config import AppConfig
from app.engine import TileState
from app.events import Alert, CameraStatus, EventBus, LineCross
from app.ui import style
from app.ui.bridge import EngineBridge
from app.ui.camera_tile import CameraTile
from app.ui.camera_wall import CameraWall, grid_shape
from app.ui.settings_view import SettingsView
from app.ui.style import STYLESHEET
from app.ui.tile_model import LineView, ZoneView, build_view, shapes_for
from app.ui.tile_paint import Labels, fit_rect, in_normal
from app.vision.detections import Detections
from app.vision.video_io import Frame
from tests.conftest import PETS_CLIP


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fps", 50.0, "Analysis rate"),
        ("fps", 0.0, "Analysis rate"),
        ("crops", 0.0, "Keep person pictures"),
        ("events", 5000.0, "Keep detailed events"),
        ("tz", "Nowhere/Atlantis", "Time zone"),
        ("name", "", "Store name"),
    ],
)
def test_settings_refuse_invalid_values_with_a_message(qtbot, field, value, message) -> None:  # noqa: ANN001
    view = SettingsView(provider=lambda: "CPUExecutionProvider")
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    widget: Any = {
        "fps": view.fps,
        "crops": view.crops,
        "events": view.events,
        "tz": view.tz,
        "name": view.name,
    }[field]
    if field == "tz":
        widget.setCurrentText(value)
    elif isinstance(value, str):
        widget.setText(value)
    else:
        widget.setValue(value)
    emitted: list[AppConfig] = []
    view.save_requested.connect(emitted.append)
    assert not view.save()
    assert view.error.text().startswith(message)
    assert emitted == []


def test_settings_save_a_valid_change_and_show_the_provider(qtbot) -> None:  # noqa: ANN001
    view = SettingsView(provider=lambda: "CPUExecutionProvider")
    assert not view.faces.isEnabled()  # anonymous (the default) keeps no face data
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    assert view.active.text() == "the main processor (CPU)"
    view.fps.setValue(8)
    view.privacy.buttons["staff_exclusion"].setChecked(True)
    assert not view.faces.isEnabled()  # visitor templates: repeat visitors mode only
    view.privacy.buttons["repeat_visitors"].setChecked(True)
    assert view.faces.isEnabled()
    assert not view.save() and "notice" in view.error.text()
    view.privacy.notice.setChecked(True)
    view.crops.setValue(3)
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    cfg = sig.args[0]
    assert cfg.analysis.fps == 8 and cfg.store.privacy_mode == "repeat_visitors"
    assert cfg.faces.notice_confirmed_at is not None
    assert cfg.retention.person_crops_days == 3


def test_settings_pick_the_time_zone_like_the_wizard_and_show_whole_days(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QComboBox

    from app.ui.wizard import StorePage

    view = SettingsView(provider=lambda: "CPUExecutionProvider")
    qtbot.addWidget(view)
    view.set_config(AppConfig.model_validate({"store": {"timezone": "Asia/Tokyo"}}))
    wizard_page = StorePage(AppConfig())
    qtbot.addWidget(wizard_page)
    assert isinstance(view.tz, QComboBox) and view.tz.isEditable()
    zones = [view.tz.itemText(i) for i in range(view.tz.count())]
    assert zones == [wizard_page.tz.itemText(i) for i in range(wizard_page.tz.count())]
    assert "Europe/Paris" in zones and view.tz.currentText() == "Asia/Tokyo"
    view.tz.setCurrentIndex(zones.index("Europe/Paris"))
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    assert sig.args[0].store.timezone == "Europe/Paris"
    assert view.crops.text() == "7 days" and view.faces.text() == "30 days"
    assert view.events.text() == "400 days"
    view.crops.setValue(0.5)  # a part of a day is still shown
    assert view.crops.text() == "0.5 days"


def test_bridge_delivers_on_the_gui_thread_and_coalesces_status(qtbot) -> None:  # noqa: ANN001
    bus = EventBus()
    bridge = EngineBridge(bus)
    bridge.start()
    seen: list[tuple[object, bool]] = []
    gui = QThread.currentThread()
    bridge.camera_status.connect(lambda s: seen.append((s, QThread.currentThread() is gui)))
    bridge.vision_event.connect(lambda e: seen.append((e, QThread.currentThread() is gui)))
    bridge.alert.connect(lambda a: seen.append((a, QThread.currentThread() is gui)))

    def engine_thread() -> None:
        for i in range(200):
            bus.publish(CameraStatus("cam", "live", source_fps=float(i)))
        bus.publish(LineCross("cam", time.time(), 1, 0.1, "door", "in", 3))
        bus.publish(Alert("over_capacity", "too many"))

    t = threading.Thread(target=engine_thread, name="fake-engine")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: any(isinstance(e, Alert) for e, _ in seen), timeout=2000)
    bridge.stop()
    statuses = [e for e, _ in seen if isinstance(e, CameraStatus)]
    assert 1 <= len(statuses) < 20 and statuses[-1].source_fps == 199.0  # coalesced, latest wins
    assert any(isinstance(e, LineCross) for e, _ in seen)
    assert all(on_gui for _, on_gui in seen)


def test_each_tile_group_is_pulled_at_most_15_times_a_second(qtbot) -> None:  # noqa: ANN001
    bridge = EngineBridge(EventBus(), display_fps=60)
    ticks: list[float] = []
    bridge.display_tick.connect(
        lambda phase, n: ticks.append(time.monotonic()) if phase == 0 else None
    )
    bridge.start()
    qtbot.wait(1000)
    bridge.stop()
    assert 8 <= len(ticks) <= 16


def make_state(image: np.ndarray, index: int) -> TileState:
    det = Detections.create([[100, 100, 140, 200]], tracker_id=[7])
    return TileState(
        camera="plaza",
        frame=Frame(image, index, index / 10, time.time()),
        frame_index=index,
        detections=det,
        analysed_index=index,
        occupancy={"left": 3},
        line_counts={"mid": {"in": 4, "out": 2}},
        queues={},
        status="live",
        message="",
        source_fps=10.0,
        analysed_fps=4.8,
        detector_ms=9.5,
        lag_s=0.1,
    )


def tile_config() -> AppConfig:
    return AppConfig.model_validate(
        {
            "cameras": [{"name": "plaza", "type": "file", "url": str(PETS_CLIP)}],
            "zones": [
                {
                    "name": "left",
                    "polygon": [[10, 100], [200, 100], [200, 350], [10, 350]],
                    "capacity": 2,
                }
            ],
            "lines": [{"name": "mid", "start": [240, 60], "end": [240, 350]}],
        }
    )


def shown_tile(qtbot) -> tuple[CameraTile, list[ZoneView], list[LineView]]:  # noqa: ANN001
    """A 480 x 360 tile on screen, with the shapes of `tile_config`."""
    zones, lines = shapes_for(tile_config(), "plaza")
    tile = CameraTile("plaza")
    qtbot.addWidget(tile)
    tile.resize(480, 360)
    tile.show()
    qtbot.waitExposed(tile)
    return tile, zones, lines


def painted_before_and_after(qtbot, pets_frames, **change: Any) -> tuple[Any, Any]:  # noqa: ANN001
    """A shown tile painted with `make_state`'s state, then with `change` applied to it:
    the two pictures."""
    import dataclasses

    tile, zones, lines = shown_tile(qtbot)
    state = make_state(pets_frames[1], 2)
    tile.set_view(build_view("plaza", state, zones, lines))
    before = tile.grab().toImage()
    tile.set_view(build_view("plaza", dataclasses.replace(state, **change), zones, lines))
    return before, tile.grab().toImage()


def test_tile_shows_counts_boxes_and_only_new_frames(qtbot, pets_frames) -> None:  # noqa: ANN001
    tile, zones, lines = shown_tile(qtbot)
    state = make_state(pets_frames[0], 1)
    for _ in range(5):  # the same frame pulled five times is converted once
        tile.set_view(build_view("plaza", state, zones, lines))
        tile.grab()
    assert tile.frames_shown == 1
    tile.set_view(build_view("plaza", make_state(pets_frames[1], 2), zones, lines))
    tile.grab()
    assert tile.frames_shown == 2
    v = tile.view
    assert v.zones[0].occupancy == 3 and v.zones[0].capacity == 2
    assert (v.lines[0].count_in, v.lines[0].count_out) == (4, 2)
    assert v.status == "live" and v.detector_ms == 9.5
    img = tile.grab().toImage()
    # the person box is painted in track 7's colour along its left edge (x = 100 px)
    col = img.pixelColor(100, 150)
    from app.ui.style import track_color

    want = track_color(7)
    assert abs(col.hue() - want.hue()) < 25 and col.saturation() > 80
    # the zone is over capacity (3 > 2): its fill is tinted red
    inside = img.pixelColor(150, 300)
    plain = QColor.fromRgb(*pets_frames[1][300, 150][::-1].tolist())
    assert inside.red() - plain.red() > 10


def test_a_tile_whose_camera_is_down_dims_its_last_picture_and_drops_the_boxes(
    qtbot,
    pets_frames,  # noqa: ANN001
) -> None:
    from app.ui.style import track_color

    live, img = painted_before_and_after(
        qtbot, pets_frames, status="offline", message="connection refused"
    )
    want = track_color(7)
    assert abs(live.pixelColor(100, 150).hue() - want.hue()) < 25  # the box, while live
    assert img.pixelColor(100, 150).saturation() < 80  # no box once down
    assert img.pixelColor(400, 100).lightness() < live.pixelColor(400, 100).lightness() - 40


def test_a_person_the_zone_still_counts_is_drawn_dashed_where_last_seen(
    qtbot,
    pets_frames,  # noqa: ANN001
) -> None:
    from app.ui.style import track_color

    held = Detections.create([[300, 150, 340, 250]], tracker_id=[9])
    before, img = painted_before_and_after(qtbot, pets_frames, held=held)
    want = track_color(9)
    drawn = 0  # pixels of the box's left edge (80 px) painted in track 9's colour
    for y in range(160, 240):
        c = img.pixelColor(300, y)
        if c != before.pixelColor(300, y) and abs(c.hue() - want.hue()) < 25:
            drawn += c.saturation() > 80
    assert 16 < drawn < 72  # dashed: part of the edge


def test_the_rates_line_keeps_the_last_detector_time_and_clears_when_down(
    qtbot,
    pets_frames,  # noqa: ANN001
) -> None:
    import dataclasses

    tile, zones, lines = shown_tile(qtbot)
    state = make_state(pets_frames[1], 2)  # detector 9.5 ms
    tile.set_view(build_view("plaza", state, zones, lines))
    assert "detector 10 ms" in tile._stats_text(tile.view)
    gated = dataclasses.replace(state, detector_ms=0.0, analysed_index=3)  # gate skipped it
    tile.set_view(build_view("plaza", gated, zones, lines))
    tile._stats_at = 0.0  # the line is refreshed once a second
    assert "detector 10 ms" in tile._stats_text(tile.view)
    down = dataclasses.replace(state, status="offline", message="connection refused")
    tile.set_view(build_view("plaza", down, zones, lines))
    assert tile._stats_text(tile.view) == "no pictures from the camera"


def test_a_label_at_the_picture_edge_stays_inside_the_picture(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtGui import QImage, QPainter

    tile = CameraTile("edge")
    qtbot.addWidget(tile)
    img = QImage(400, 300, QImage.Format.Format_RGB32)
    p = QPainter(img)
    picture = QRectF(20, 10, 360, 280)
    try:
        for x, y in ((379, 120), (-50, 120), (200, -30), (200, 295)):  # beyond each edge
            r = tile._pill(p, x, y, "Plaza  5", QColor("cyan"), QColor("black"), within=picture)
            assert picture.contains(r), (x, y, r)
        # inside the picture, a label stays where it was asked to be
        r = tile._pill(p, 100, 100, "Plaza", QColor("cyan"), QColor("black"), within=picture)
        assert (r.x(), r.y()) == (100, 100)
        # labels placed so far are not covered: a second one at the same place moves down
        labels = Labels()
        a = tile._pill(p, 100, 100, "Plaza  3", QColor("cyan"), QColor("black"), picture, labels)
        b = tile._pill(p, 110, 102, "Path  in 4", QColor("navy"), QColor("white"), picture, labels)
        assert not a.intersects(b) and b.top() > a.top()
        assert [r for r, *_ in labels.placed] == [a, b]
    finally:
        p.end()


def test_a_person_tag_does_not_cover_a_zone_count(qtbot, pets_frames, monkeypatch) -> None:  # noqa: ANN001
    """Zone and line labels are drawn after the people's boxes: a person standing just
    below a zone's label leaves the label (its name and count) whole."""
    import dataclasses

    from PySide6.QtCore import QRect

    from app.ui import tile_paint

    drawn: list[QRectF] = []
    draw = tile_paint.Labels.draw

    def recording(self: tile_paint.Labels, p: Any) -> None:
        drawn[:] = [r for r, *_ in self.placed]
        draw(self, p)

    monkeypatch.setattr(tile_paint.Labels, "draw", recording)
    tile, zones, lines = shown_tile(qtbot)
    state = make_state(pets_frames[1], 2)
    nobody = dataclasses.replace(state, detections=Detections.empty())
    tile.set_view(build_view("plaza", nobody, zones, lines))
    alone = tile.grab().toImage()
    label = QRectF(drawn[0])
    under = Detections.create([[10, 100, 60, 200]], tracker_id=[7])  # tag just above y=100
    tile.set_view(build_view("plaza", dataclasses.replace(state, detections=under), zones, lines))
    beside = tile.grab().toImage()
    assert drawn[0] == label
    inner = label.adjusted(label.height() / 2, 2, -label.height() / 2, -2).toRect()
    r = QRect(inner)
    assert r.width() > 10 and r.height() > 4

    def pixels(img: Any) -> np.ndarray:
        part = img.copy(r).convertToFormat(img.Format.Format_RGB32)
        raw = np.frombuffer(part.constBits(), np.uint8).reshape(part.height(), -1)
        return raw[:, : part.width() * 4].astype(int)

    # the label is nearly opaque (alpha 230): what is under it shows through a little
    assert np.abs(pixels(alone) - pixels(beside)).max() <= 0.1 * 255
    assert alone != beside  # the person is drawn (beside the label)


def test_line_arrow_points_to_the_in_side() -> None:
    nx, ny = in_normal((0, 0), (10, 0))  # left-to-right line: "in" is above (y smaller)
    assert (round(nx, 6), ny) == (0.0, -1.0)


def test_wall_grid_and_focus(qtbot) -> None:  # noqa: ANN001
    assert [grid_shape(n) for n in (1, 2, 4, 5, 9, 16)] == [
        (1, 1),
        (1, 2),
        (2, 2),
        (2, 3),
        (3, 3),
        (4, 4),
    ]
    cams = [{"name": f"cam{i}", "type": "file", "url": str(PETS_CLIP)} for i in range(17)]
    cfg = AppConfig.model_validate({"cameras": cams})
    wall = CameraWall()
    qtbot.addWidget(wall)
    wall.show()
    wall.set_config(cfg)
    assert len(wall.tiles) == 16 and "not shown" in wall.subtitle.text()
    assert len(wall.visible_cameras()) == 16
    wall.tiles["cam3"].double_clicked.emit("cam3")
    assert wall.visible_cameras() == ["cam3"] and wall.back_button.isVisible()
    wall.tiles["cam3"].double_clicked.emit("cam3")
    assert len(wall.visible_cameras()) == 16
    pulled: list[str] = []
    wall.refresh(lambda name: pulled.append(name))
    assert sorted(pulled) == sorted(wall.tiles)


BUTTON_ROLES = sorted(set(re.findall(r"QPushButton#(\w+)", STYLESHEET)))


def _most_saturated(button: QPushButton) -> int:
    """The highest HSV saturation (0-255) of any pixel of the button as drawn."""
    img = button.grab().toImage()
    return max(
        img.pixelColor(x, y).hsvSaturation()
        for y in range(img.height())
        for x in range(img.width())
    )


@pytest.mark.parametrize("role", BUTTON_ROLES)
def test_a_disabled_button_is_greyed_whatever_its_role(qtbot, role: str) -> None:  # noqa: ANN001
    assert {"Primary", "Danger"} <= set(BUTTON_ROLES)
    page = QWidget()
    page.setStyleSheet(STYLESHEET)
    qtbot.addWidget(page)
    button = QPushButton("Import", page)
    button.setObjectName(role)
    button.resize(120, 36)
    page.show()
    assert _most_saturated(button) > 120  # its accent colour: indigo fill, red text
    button.setEnabled(False)
    assert _most_saturated(button) < 70  # slate greys only


def test_settings_wheel_scrolls_the_page_unless_a_field_was_clicked(qtbot) -> None:  # noqa: ANN001
    """Scrolling down to Save over the retention field must not change it."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication, QScrollArea

    view = SettingsView(provider=lambda: "CPUExecutionProvider")
    qtbot.addWidget(view)
    view.set_config(AppConfig())
    view.resize(700, 300)  # shorter than the form: it scrolls
    view.show()
    qtbot.waitExposed(view)
    bar = view.findChild(QScrollArea).verticalScrollBar()
    assert bar.maximum() > 0

    def wheel_down() -> None:
        pos = QPointF(view.events.rect().center())
        ev = QWheelEvent(
            pos, QPointF(view.events.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, -120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
            False,
        )  # fmt: skip
        QApplication.sendEvent(view.events, ev)

    before, top = view.events.value(), bar.value()
    wheel_down()
    assert view.events.value() == before and bar.value() > top
    view.events.setFocus()
    qtbot.waitUntil(view.events.hasFocus)
    wheel_down()
    assert view.events.value() == before - 1  # a clicked field takes the wheel


def test_a_line_inside_the_store_is_drawn_dashed(qtbot, pets_frames) -> None:  # noqa: ANN001
    """On the tile, a line that is not a door of the store is dashed: the picture along
    it alternates between the line's colour and what is under it."""
    import dataclasses

    cfg = tile_config()
    inside = cfg.model_validate(
        {**cfg.model_dump(), "lines": [{**cfg.lines[0].model_dump(), "door": False}]}
    )
    pictures = []
    for c in (cfg, inside):
        zones, lines = shapes_for(c, "plaza")
        assert [ln.door for ln in lines] == [c is cfg]
        tile = CameraTile("plaza")
        qtbot.addWidget(tile)
        tile.resize(480, 360)
        tile.show()
        qtbot.waitExposed(tile)
        state = dataclasses.replace(make_state(pets_frames[1], 2), detections=Detections.empty())
        tile.set_view(build_view("plaza", state, [], lines))
        pictures.append(tile.grab().toImage())

    def along(img: Any) -> list[int]:
        """The red channel down the line's middle (x = 240 of the 480-wide picture),
        away from its arrow and label in the middle."""
        target = fit_rect(480, 360, QRectF(0, 0, 480, 360))
        s = target.width() / 480
        x = round(target.x() + 240 * s)
        ys = [*range(80, 180), *range(235, 300)]
        return [QColor(img.pixel(x, round(target.y() + y * s))).red() for y in ys]

    solid, dashed = along(pictures[0]), along(pictures[1])
    line_red = QColor(style.LINE_COLOR).red()
    assert all(abs(r - line_red) < 40 for r in solid)
    assert sum(abs(r - line_red) >= 40 for r in dashed) > len(dashed) // 5  # gaps


def test_the_heatmap_has_a_key_and_says_its_time_window(qtbot, pets_frames) -> None:  # noqa: ANN001
    """Issue 23: the heatmap had no legend and no time window."""
    import dataclasses
    from datetime import datetime

    from app.ui.tile_paint import heat_window_text

    tile, zones, lines = shown_tile(qtbot)
    grid = np.zeros((45, 60), np.float32)
    grid[30:40, 10:20] = 1.0
    since = datetime.now().replace(hour=0, minute=5, second=0).timestamp()
    state = dataclasses.replace(make_state(pets_frames[0], 1), heatmap=grid, heatmap_since=since)
    tile.set_heatmap(True)
    tile.set_view(build_view("plaza", state, zones, lines))
    img = tile.grab().toImage()
    box = tile.heat_legend
    assert box is not None and box.bottom() <= tile.height() and box.width() > 100
    centre = img.pixelColor(int(box.left() + 4), int(box.top() + 4))
    assert centre.lightness() < 80  # the key's dark panel, readable on any picture
    assert heat_window_text(since) == "since 00:05 today"
    assert heat_window_text(since - 86400, now=since).startswith("since ")
    assert "today" not in heat_window_text(since - 86400, now=since)
    tile.set_heatmap(False)
    tile.heat_legend = None
    tile.grab()
    assert tile.heat_legend is None  # no heatmap shown, no key


def test_a_retention_of_one_day_says_day(qtbot) -> None:  # noqa: ANN001
    from app.ui.settings_view import DaysSpinBox

    box = DaysSpinBox()
    qtbot.addWidget(box)
    box.setDecimals(1)
    box.setRange(0, 100)
    box.setValue(1)
    assert box.text() == "1 day"
    box.setValue(7)
    assert box.text() == "7 days"


def test_the_desktop_draws_the_tablets_brand_mark(qtbot) -> None:  # noqa: ANN001
    """Issue 23: a purple diamond on the desktop, a teal V on the tablets. One mark now:
    the tablet app's icon.svg, drawn by the desktop (wizard, sidebar, window icon)."""
    from app.ui.brand import MARK_SVG, logo_pixmap

    assert MARK_SVG.name == "icon.svg" and MARK_SVG.parent.name == "tablet"
    img = logo_pixmap(64).toImage()
    assert img.pixelColor(4, 32).name() == "#10243e"  # the navy square
    v = img.pixelColor(32, 47)  # the point of the V
    assert v.name() == "#5eead4"
