"""The Faces page (enrol with consent, list, remove, erase by photo with the result
shown) on a real store with the real face models, and the staff tag on a tile."""

from __future__ import annotations

import numpy as np

from app.config import AppConfig
from app.ui.camera_tile import CameraTile
from app.ui.faces_page import FacesPage
from app.ui.tile_model import TileView
from app.ui.workers import Background
from tests.conftest import MEDIA

F = MEDIA / "faces"


def test_enrol_list_erase_remove(qtbot, store) -> None:  # noqa: ANN001
    bg = Background()
    try:
        page = FacesPage(store, AppConfig, bg)
        qtbot.addWidget(page)
        assert "off" in page.mode_line.text()  # anonymous: said plainly
        page.name.setText("Ana")
        page.set_photos([F / "obama__obama.jpg", F / "obama__obama2.jpg"])
        page.enrol()
        assert "consent" in page.enrol_result.text()  # staff need it: nothing done
        page.consent.setChecked(True)
        page.enrol()
        qtbot.waitUntil(lambda: "Enrolled Ana" in page.enrol_result.text(), timeout=30000)
        qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10000)
        page.name.setText("Kit")
        page.role.setCurrentIndex(1)  # opt-out: no consent box needed
        assert not page.consent.isEnabled()
        page.set_photos([F / "kit_harington__john1.jpeg"])
        page.enrol()
        qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=30000)
        cell = page.table.item(0, 1)
        assert cell is not None and "consent recorded" in cell.text()

        page.set_erase_photo(F / "obama__obama2.jpg")
        page.erase()
        qtbot.waitUntil(lambda: "second search" in page.erase_result.text(), timeout=30000)
        text = page.erase_result.text()
        assert "staff enrolment of Ana" in text and "audit log" in text and "finds nothing" in text
        qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10000)

        page.table.selectRow(0)
        page.remove_selected()
        qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=10000)
    finally:
        bg.shutdown()


def test_a_photo_without_a_face_says_so(qtbot, store, tmp_path) -> None:  # noqa: ANN001
    import cv2

    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((200, 200, 3), 180, np.uint8))
    bg = Background()
    try:
        page = FacesPage(store, AppConfig, bg)
        qtbot.addWidget(page)
        page.name.setText("Nobody")
        page.role.setCurrentIndex(1)
        page.set_photos([wall])
        page.enrol()
        qtbot.waitUntil(lambda: "no clear face" in page.enrol_result.text(), timeout=30000)
        assert page.enrol_button.isEnabled()
    finally:
        bg.shutdown()


def test_a_tile_shows_the_staff_tag(qtbot) -> None:  # noqa: ANN001
    tile = CameraTile("Door")
    qtbot.addWidget(tile)
    tile.resize(480, 300)
    img = np.full((300, 480, 3), 120, np.uint8)
    view = TileView(
        "Door", image=img, frame_index=1, analysed_index=1, status="live",
        boxes=np.array([[40, 40, 140, 280], [300, 60, 400, 290]], np.float32),
        track_ids=np.array([3, 4], np.int64), tags={3: "staff"},
    )  # fmt: skip
    tile.set_view(view)
    tile.show()
    grab = tile.grab().toImage()
    assert not grab.isNull()
    assert tile.view.tags == {3: "staff"}


def test_reports_show_new_and_returning_visitors(qtbot, store, tmp_path) -> None:  # noqa: ANN001
    import time

    from app.store.faces import FaceStore
    from app.ui.reports_view import ReportsView

    fs = FaceStore(store)
    v = np.ones(128, np.float32) / np.sqrt(128)
    w = np.zeros(128, np.float32)
    w[0] = 1.0  # another person
    for outcome, t in (("new", v), ("new", w), ("returning", v), ("staff", None)):
        fs.record(outcome, t, "vid", "door").result(10)
    view = ReportsView(store, zones=[])
    qtbot.addWidget(view)
    view.refresh(wait=True)
    t = view.visitors.table
    assert t.rowCount() == 1
    cells = [t.item(0, c).text() for c in range(5)]  # type: ignore[union-attr]
    assert cells[0] == time.strftime("%Y-%m-%d %a", time.gmtime())
    assert cells[1:] == ["2", "1", "33%", "1"]
    assert not view.visitors.chart.is_empty
    f = view.visitors.frequency  # one visitor came twice, one once
    assert [(f.item(r, 0).text(), f.item(r, 1).text()) for r in range(f.rowCount())] == [  # type: ignore[union-attr]
        ("1 visit", "1"),
        ("2 visits", "1"),
    ]
    view.tabs.setCurrentWidget(view.visitors)
    out = tmp_path / "visitors.csv"
    assert view.export_current(str(out)) == 1
    assert out.read_text().splitlines()[0] == "Day,New,Returning,Returning share,Staff seen"


def test_settings_set_the_staff_zone_rule(qtbot) -> None:  # noqa: ANN001
    from app.config import parse_config
    from app.ui.settings_view import SettingsView

    view = SettingsView(provider=lambda: "CPUExecutionProvider")
    qtbot.addWidget(view)
    base = parse_config({"zones": [{"name": "Stock room", "polygon": [[0, 0], [10, 0], [10, 10]]}]})
    view.set_config(base)
    view.staff_zones.setText("Stock room, Office")
    view.staff_minutes.setValue(20)
    assert not view.save() and "no zone called “Office”" in view.error.text()
    view.staff_zones.setText("Stock room")
    with qtbot.waitSignal(view.save_requested) as sig:
        assert view.save()
    cfg = sig.args[0]
    assert cfg.faces.staff_zones == ["Stock room"] and cfg.faces.staff_zone_minutes == 20


def test_enrol_from_a_live_camera_picture(qtbot, store) -> None:  # noqa: ANN001
    import cv2

    frame = cv2.imread(str(F / "biden__biden2.jpg"))
    bg = Background()
    try:
        page = FacesPage(
            store, AppConfig, bg, camera_frame=lambda name: frame if name == "Door" else None
        )
        qtbot.addWidget(page)
        page.set_cameras(["Door", "Back"])
        page.camera_box.setCurrentText("Back")
        page.take_from_camera()
        assert "No picture" in page.enrol_result.text() and page.photos == []
        page.camera_box.setCurrentText("Door")
        page.take_from_camera()
        assert "camera picture" in page.photo_label.text()
        page.name.setText("Joe")
        page.consent.setChecked(True)
        page.enrol()
        qtbot.waitUntil(lambda: "Enrolled Joe" in page.enrol_result.text(), timeout=30000)
    finally:
        bg.shutdown()
