"""The camera wall: a grid of 1 to 16 live tiles, focus on double-click, and a toolbar.

Tiles are fed by `refresh(source)` — called by the display timer of the bridge at
most 15 times a second — which pulls the newest `TileState` of every visible camera.
Nothing is queued: a tile always shows the latest frame the engine holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import AppConfig
from app.ui.camera_tile import CameraTile
from app.ui.tile_model import LineView, ZoneView, build_view, shapes_for
from app.words import plural

if TYPE_CHECKING:
    from app.engine import TileState

MAX_TILES = 16
SMOOTH_UP_TO = 4  # tiles scaled smoothly up to this many on the wall, nearest-pixel beyond

StateSource = Callable[[str], "TileState | None"]  # the engine's tile_state


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) for n tiles: as square as possible, wider than tall."""
    if n <= 0:
        return 0, 0
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    return rows, cols


class CameraWall(QWidget):
    add_camera_requested = Signal()
    edit_camera = Signal(str)
    edit_zones = Signal(str)
    remove_camera = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: dict[str, CameraTile] = {}
        self._shapes: dict[str, tuple[list[ZoneView], list[LineView]]] = {}
        self.focused: str | None = None
        self._heatmap = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 16)
        outer.setSpacing(12)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        title = QLabel("Cameras")
        title.setObjectName("PageTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("PageSubtitle")
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        self.heat_button = QPushButton("Heatmap")
        self.heat_button.setCheckable(True)
        self.heat_button.setToolTip("Show where people stood, on every tile")
        self.heat_button.toggled.connect(self.set_heatmap)
        self.back_button = QPushButton("Back to the wall")
        self.back_button.clicked.connect(lambda: self.set_focus(None))
        self.back_button.hide()
        self.add_button = QPushButton("Add camera")
        self.add_button.setObjectName("Primary")
        self.add_button.clicked.connect(self.add_camera_requested)
        for b in (self.back_button, self.heat_button, self.add_button):
            head.addWidget(b)
        outer.addLayout(head)
        self.banner = QLabel("")
        self.banner.setObjectName("Banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)

        self.board = QWidget()
        self.board.setObjectName("Wall")
        self.board.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.grid = QGridLayout(self.board)
        self.grid.setContentsMargins(8, 8, 8, 8)
        self.grid.setSpacing(8)
        self.empty = QLabel(
            "No cameras yet.\n\nAdd an IP camera, a USB camera or a video file with "
            "“Add camera”,\nor start the demo camera from the first-run wizard."
        )
        self.empty.setObjectName("WallEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.board, 1)

    # --- configuration ----------------------------------------------------------------
    def set_config(self, cfg: AppConfig) -> None:
        names = [c.name for c in cfg.cameras if c.enabled][:MAX_TILES]
        for name in list(self.tiles):
            if name not in names:
                tile = self.tiles.pop(name)
                tile.setParent(None)
                tile.deleteLater()
        for name in names:
            if name not in self.tiles:
                tile = CameraTile(name)
                tile.set_heatmap(self._heatmap)
                tile.double_clicked.connect(self.toggle_focus)
                tile.edit_camera.connect(self.edit_camera)
                tile.edit_zones.connect(self.edit_zones)
                tile.remove_camera.connect(self.remove_camera)
                self.tiles[name] = tile
        self._shapes = {n: shapes_for(cfg, n) for n in names}
        self._order = names
        if self.focused not in self.tiles:
            self.focused = None
        self._relayout()
        n = len(names)
        extra = len([c for c in cfg.cameras if c.enabled]) - n
        self.subtitle.setText(
            f"{plural(n, 'camera')} on this computer"
            + (f" ({extra} more not shown: the wall holds {MAX_TILES})" if extra > 0 else "")
            + ("  ·  double-click a tile to focus it, right-click to edit" if n else "")
        )

    def _relayout(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
        if not self.tiles:
            self.grid.addWidget(self.empty, 0, 0)
            self.empty.show()
            return
        shown = [self.focused] if self.focused else self._order
        rows, cols = grid_shape(len(shown))
        for i in range(self.grid.rowCount()):
            self.grid.setRowStretch(i, 0)
        for i in range(self.grid.columnCount()):
            self.grid.setColumnStretch(i, 0)
        for i, name in enumerate(shown):
            tile = self.tiles[name]
            tile.focused = name == self.focused
            tile.smooth = len(shown) <= SMOOTH_UP_TO
            self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)
        self.back_button.setVisible(self.focused is not None)

    def set_banner(self, text: str) -> None:
        """A message above the tiles (e.g. the engine could not start); empty hides it."""
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    # --- interaction ------------------------------------------------------------------
    def toggle_focus(self, camera: str) -> None:
        self.set_focus(None if self.focused == camera else camera)

    def set_focus(self, camera: str | None) -> None:
        self.focused = camera if camera in self.tiles else None
        self._relayout()

    def set_heatmap(self, on: bool) -> None:
        self._heatmap = on
        if self.heat_button.isChecked() != on:
            self.heat_button.setChecked(on)
        self.heat_button.setText("Heatmap: on" if on else "Heatmap")  # the state in words
        for t in self.tiles.values():
            t.set_heatmap(on)

    def visible_cameras(self) -> list[str]:
        return [n for n, t in self.tiles.items() if t.isVisible()]

    def refresh(self, source: StateSource, phase: int = 0, phases: int = 1) -> None:
        """Pull the newest state of the visible tiles of group `phase` (display timer)."""
        for i, name in enumerate(self.visible_cameras()):
            if i % phases != phase:
                continue
            zones, lines = self._shapes.get(name, ([], []))
            self.tiles[name].set_view(build_view(name, source(name), zones, lines))
