"""The heatmap history on a real store: a week of hourly grids of one camera, drawn over
its reference view (the drift check's median background of PETS frames); the hours of
the day filter; an empty period said in words; the PNG export showing the hot cells; the
Analytics page's tab following the page's period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from app.config import AppConfig
from app.store.count_audits import set_reference
from app.store.db import Store
from app.store.heat_history import add_hours
from app.ui.analytics_view import AnalyticsView
from app.ui.heatmap_history import HeatmapHistory
from app.vision import view_drift
from app.vision.heat_hours import HourDelta

TZ = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 11, 16)
CFG = AppConfig.model_validate({
    "store": {"name": "Rue Test", "timezone": "Europe/Paris"},
    "cameras": [{"name": "plaza", "type": "file", "url": "x.avi"},
                {"name": "back", "type": "file", "url": "y.avi"}],
})  # fmt: skip
HOT = (20, 40)  # the cell (row, column) people stand in at 10:00, 8 px cells of 480 x 360
NOON = (30, 10)  # and at 12:00


def _hour(day: dt.date, h: int) -> int:
    return int(dt.datetime(day.year, day.month, day.day, h, tzinfo=TZ).timestamp())


def fill(store: Store, frames: list[np.ndarray]) -> None:
    hours = []
    for d in range(7):
        day = MONDAY + dt.timedelta(days=d)
        for h, cell, s in ((10, HOT, 600.0), (12, NOON, 100.0)):
            grid = np.zeros((45, 60), np.float32)
            grid[cell] = s
            grid[cell[0], cell[1] + 1] = s / 2
            hours.append(HourDelta(_hour(day, h), 480, 360, 8, grid))
    add_hours(store, "plaza", hours, TZ)
    view = view_drift.background(frames[:5])
    set_reference(store, "plaza", view_drift.encode_view(view), "setup")


def _pixel(img: np.ndarray, cell: tuple[int, int], scale: float = 2.0) -> np.ndarray:
    return img[int((cell[0] + 0.5) * 8 * scale), int((cell[1] + 0.5) * 8 * scale)].astype(int)


def test_a_week_over_the_camera_picture_exported_as_png(
    qtbot,
    store: Store,
    pets_frames: list[np.ndarray],
    tmp_path: Path,  # noqa: ANN001
) -> None:
    fill(store, pets_frames)
    page = HeatmapHistory(store, CFG)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    assert [page.camera.itemText(i) for i in range(page.camera.count())] == ["plaza", "back"]
    page.camera.setCurrentText("plaza")
    page.set_period("Week", MONDAY + dt.timedelta(days=3))
    page.refresh(wait=True)
    v = page.view
    assert v is not None and v.total is not None and v.picture is not None and v.has_view
    assert (v.first, v.last) == (MONDAY, MONDAY + dt.timedelta(days=6))
    assert v.total.hours == 14 and v.total.seconds == 7 * 1.5 * 700
    assert page.picture.image is not None and page.picture.image.width() == 960
    assert "14 hours with people" in page.status.text()
    assert "reference view" in page.status.text() and page.export.isEnabled()
    out = tmp_path / "heat.png"
    assert page.export_png(str(out)) == str(out)
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (720, 960, 3)
    hot, noon = _pixel(img, HOT), _pixel(img, NOON)
    assert hot[2] > 140 and hot[2] > hot[0] + 50  # the hottest place: red
    assert noon[2] != noon[0]  # coloured too (less)
    corner = img[10, 950].astype(int)  # nobody there: the camera's gray picture
    assert abs(corner[2] - corner[0]) < 12
    # the picture under it is the camera's (its background), not a blank
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[:300, 500:]
    assert float(gray.std()) > 10
    # noon only: the 10:00 hot spot is gone
    page.set_hours((12, 13))
    page.refresh(wait=True)
    assert page.view is not None and page.view.total is not None
    assert page.view.total.hours == 7 and page.view.total.seconds == 7 * 150
    out2 = tmp_path / "noon.png"
    page.export_png(str(out2))
    img2 = cv2.imread(str(out2))
    assert img2 is not None
    assert _pixel(img2, NOON)[2] > _pixel(img2, NOON)[0] + 50
    assert abs(_pixel(img2, HOT)[2] - _pixel(img2, HOT)[0]) < 12
    page.grab().save(str(tmp_path / "page.png"))


def test_an_empty_period_says_so(qtbot, store: Store, pets_frames: list[np.ndarray]) -> None:  # noqa: ANN001
    fill(store, pets_frames)
    page = HeatmapHistory(store, CFG)
    qtbot.addWidget(page)
    page.camera.setCurrentText("plaza")
    page.set_period("Day", MONDAY - dt.timedelta(days=30))
    page.refresh(wait=True)
    assert page.view is not None and page.view.total is None and page.picture.image is None
    assert "No heatmap of plaza for 2026-10-17" in page.picture.text
    assert not page.export.isEnabled() and page.export_png("/nonexistent/x.png") == ""
    page.camera.setCurrentText("back")  # a camera without a history
    page.set_period("Week", MONDAY)
    page.refresh(wait=True)
    assert "No heatmap of back" in page.picture.text


def test_the_analytics_page_tab_follows_the_page_period(
    qtbot,
    store: Store,
    pets_frames: list[np.ndarray],  # noqa: ANN001
) -> None:
    fill(store, pets_frames)
    view = AnalyticsView(store, CFG)
    qtbot.addWidget(view)
    assert view.tabs.tabText(view.tabs.count() - 1) == "Heatmaps"
    assert not view.heat.kind.isVisibleTo(view.heat)  # the page's picker is the one
    view.heat.camera.setCurrentText("plaza")
    view.set_period("Day", MONDAY + dt.timedelta(days=2))
    view.refresh(wait=True)
    h = view.heat.view
    assert h is not None and h.total is not None and h.total.hours == 2
    assert (h.first, h.last) == (MONDAY + dt.timedelta(days=2),) * 2


def test_without_a_reference_view_a_plain_background_says_so(qtbot, store: Store) -> None:  # noqa: ANN001
    grid = np.zeros((45, 60), np.float32)
    grid[HOT] = 50.0
    add_hours(store, "back", [HourDelta(_hour(MONDAY, 10), 480, 360, 8, grid)], TZ)
    page = HeatmapHistory(store, CFG)
    qtbot.addWidget(page)
    assert "Pick a camera" in page.picture.text  # before the first Show
    page.camera.setCurrentText("back")
    page.set_period("Day", MONDAY)
    page.refresh(wait=True)
    v = page.view
    assert v is not None and v.picture is not None and not v.has_view
    assert "no picture of the camera yet" in page.status.text()
    assert _pixel(v.picture, HOT)[2] > _pixel(v.picture, HOT)[0] + 50
