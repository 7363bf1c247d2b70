"""The live tile's heatmap in its "recent" mode: presence that fades (the engine's
RecentHeat, 0..1 not re-scaled) instead of the time spent today; picked from the tile's
menu, with a key that says so."""

from __future__ import annotations

import dataclasses

import numpy as np

from app.ui.camera_tile import HEAT_MODES
from app.ui.tile_model import build_view
from app.vision.heat_hours import RecentHeat
from tests.ui.test_widgets import make_state, shown_tile

TODAY_SPOT = (60, 360)  # (y, x) pixels: where people stood this morning
RECENT_SPOT = (60, 120)  # where someone stands now


def _grids(fade: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    since = np.zeros((45, 60), np.float32)
    since[5:10, 42:48] = 1.0  # today: only the old spot
    recent = RecentHeat(8, half_life_s=180.0)
    t0 = 1_800_000_000.0
    pts = np.array([[x, y] for y in range(44, 80, 4) for x in range(100, 144, 4)], np.float64)
    recent.add(t0, pts, 10.0, 480, 360)
    grid = recent.normalized(t0 + 180.0 * fade if fade != 1.0 else t0)
    assert grid is not None
    return since, grid


def _colour(img, at: tuple[int, int]) -> tuple[int, int, int]:  # noqa: ANN001
    c = img.pixelColor(at[1], at[0])
    return c.red(), c.green(), c.blue()


def test_recent_mode_shows_the_fading_view_and_says_so(qtbot, pets_frames) -> None:  # noqa: ANN001
    tile, zones, lines = shown_tile(qtbot)
    since, recent = _grids()
    state = dataclasses.replace(
        make_state(pets_frames[0], 1), heatmap=since, heatmap_since=None, heatmap_recent=recent
    )
    tile.set_view(build_view("plaza", state, zones, lines))
    plain = tile.grab().toImage()
    menu = tile.build_menu()
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert set(HEAT_MODES.values()) <= set(actions)
    assert actions[HEAT_MODES["since"]].isChecked() and tile.heat_mode == "since"
    actions[HEAT_MODES["recent"]].trigger()  # picking a view also shows the heatmap
    assert tile.heat_mode == "recent" and tile.show_heatmap
    assert not actions[HEAT_MODES["since"]].isChecked()  # one view at a time
    shown = tile.grab().toImage()
    assert _colour(shown, RECENT_SPOT) != _colour(plain, RECENT_SPOT)  # recent: coloured
    assert _colour(shown, TODAY_SPOT) == _colour(plain, TODAY_SPOT)  # this morning: not
    assert tile.heat_legend is not None
    tile.set_heat_mode("since")
    shown = tile.grab().toImage()
    assert _colour(shown, TODAY_SPOT) != _colour(plain, TODAY_SPOT)
    assert _colour(shown, RECENT_SPOT) == _colour(plain, RECENT_SPOT)


def test_a_faded_view_stays_faint_instead_of_rescaling(qtbot, pets_frames) -> None:  # noqa: ANN001
    tile, zones, lines = shown_tile(qtbot)
    since, fresh = _grids()
    _, faded = _grids(fade=8.0)  # eight half-lives later: 1/256 left
    assert fresh.max() == 1.0 and faded.max() < 0.01
    base = make_state(pets_frames[0], 1)
    tile.set_view(build_view("plaza", base, zones, lines))
    plain = _colour(tile.grab().toImage(), RECENT_SPOT)
    tile.set_heat_mode("recent")
    tile.set_heatmap(True)

    def shift(grid: np.ndarray, index: int) -> int:
        state = dataclasses.replace(base, analysed_index=index, heatmap_recent=grid)
        tile.set_view(build_view("plaza", state, zones, lines))
        tile.set_heat_mode("recent")  # redraw now
        c = _colour(tile.grab().toImage(), RECENT_SPOT)
        return sum(abs(a - b) for a, b in zip(c, plain, strict=True))

    assert shift(fresh, 2) > 3 * max(shift(faded, 3), 1)
