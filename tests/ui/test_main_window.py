"""The main window with a scripted engine (fast): add/rename/remove a camera, zone edits
reaching the engine live and the store with history, lazily loaded dialogs, the engine's
alerts listed with a badge."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, select

from app.config import AppConfig
from app.engine import TileState
from app.events import CameraStatus, EventBus
from app.store.models import ConfigVersion
from app.ui import help as help_texts
from app.ui import main_window as mw
from app.ui.app import DesktopApp
from app.ui.config_store import read_saved, save_config
from app.vision.detections import Detections
from app.vision.video_io import Frame
from tests.conftest import PETS_CLIP


class ScriptedEngine:
    """Stands in for app.engine.Engine: no threads, counts set by the test."""

    def __init__(
        self, cfg: AppConfig, bus: EventBus, store: Any, models_dir: Any, image: np.ndarray
    ) -> None:
        self.cfg, self.bus, self.image = cfg, bus, image
        self.applied: list[AppConfig] = []
        self.started = self.stopped = False
        self.counts: dict[str, dict[str, int]] = {}
        self.index = 0
        self.lan_server = None  # no tablets' server
        self.detector_provider = "CPUExecutionProvider"

    def sync_state(self) -> str:
        return "never synced with HQ"

    def sync_status(self) -> None:
        return None

    def sync_now(self) -> bool:
        return False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def apply_config(self, cfg: AppConfig) -> None:
        self.applied.append(cfg)
        self.cfg = cfg

    def tile_state(self, camera: str) -> TileState | None:
        if camera not in {c.name for c in self.cfg.cameras}:
            return None
        self.index += 1
        return TileState(
            camera=camera,
            frame=Frame(self.image, self.index, 0.0, time.time()),
            frame_index=self.index,
            detections=Detections.empty(),
            analysed_index=self.index,
            occupancy={},
            line_counts=dict(self.counts),
            queues={},
            status="live",
            message="",
            source_fps=10.0,
            analysed_fps=5.0,
            detector_ms=8.0,
            lag_s=0.1,
        )


def open_desktop(qtbot, store, frame: np.ndarray, cfg: AppConfig) -> DesktopApp:  # noqa: ANN001
    """The desktop app on `store` with `cfg` saved, its engines scripted to show `frame`
    (kept in `.engines`), its window shown and the engine running; close it after."""
    save_config(store, cfg, "test").result(timeout=10)
    engines: list[ScriptedEngine] = []

    def factory(c, bus, st, md):  # noqa: ANN001, ANN202
        engines.append(ScriptedEngine(c, bus, st, md, frame))
        return engines[-1]

    d = DesktopApp(store, engine_factory=factory)
    win = d.open_window()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: d.host is not None and d.host.state == "running", timeout=5000)
    d.engines = engines  # type: ignore[attr-defined]
    return d


@pytest.fixture
def desktop(qtbot, store, pets_frames):  # noqa: ANN001, ANN201
    cfg = AppConfig.model_validate(
        {
            "store": {"name": "Test"},
            "cameras": [{"name": "Front", "type": "file", "url": str(PETS_CLIP)}],
        }
    )
    d = open_desktop(qtbot, store, pets_frames[0], cfg)
    yield d
    d.close()


def versions(store) -> int:  # noqa: ANN001
    with store.read_session() as s:
        return int(s.scalar(select(func.count(ConfigVersion.id))) or 0)


def test_add_rename_and_remove_a_camera(qtbot, desktop, store) -> None:  # noqa: ANN001
    win, engine = desktop.window, desktop.engines[0]
    n0 = versions(store)
    dlg = win.add_camera()
    dlg.form.set_kind("file")
    dlg.form.name.setText("Back")
    dlg.form.path.setText(str(PETS_CLIP))
    dlg._save()
    qtbot.waitUntil(
        lambda: bool(engine.applied) and len(engine.applied[-1].cameras) == 2, timeout=5000
    )
    assert set(win.wall.tiles) == {"Front", "Back"}
    qtbot.waitUntil(lambda: versions(store) == n0 + 1, timeout=5000)
    qtbot.waitUntil(lambda: "2 cameras" in win.engine_label.text(), timeout=5000)

    dlg = win.edit_camera("Back")
    dlg.form.name.setText("Stock room")
    dlg._save()
    qtbot.waitUntil(
        lambda: [c.name for c in engine.applied[-1].cameras] == ["Front", "Stock room"],
        timeout=5000,
    )
    win.remove_camera("Stock room", confirm=False)
    qtbot.waitUntil(lambda: [c.name for c in engine.applied[-1].cameras] == ["Front"], timeout=5000)
    qtbot.waitUntil(lambda: "1 camera" in win.engine_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: versions(store) == n0 + 3, timeout=5000)
    saved, _ = read_saved(store)
    assert saved is not None and [c.name for c in saved.cameras] == ["Front"]


def test_zone_edits_apply_live_and_counts_show_on_the_tile(qtbot, desktop, store) -> None:  # noqa: ANN001
    win, engine = desktop.window, desktop.engines[0]
    editor = win.edit_zones("Front")
    assert editor is not None and editor.canvas.image is not None  # snapshot from the engine
    editor.draw_buttons["line"].click()
    for x, y in ((240, 60), (240, 340)):
        q = editor.canvas.to_widget((x, y)).toPoint()
        QTest.mouseClick(
            editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, q
        )
    assert editor.apply()
    qtbot.waitUntil(lambda: bool(engine.applied and engine.applied[-1].lines), timeout=5000)
    line = engine.applied[-1].lines[0]
    engine.counts = {line.name: {"in": 7, "out": 3}}
    tile = win.wall.tiles["Front"]
    qtbot.waitUntil(
        lambda: bool(tile.view.lines) and tile.view.lines[0].count_in == 7, timeout=3000
    )
    assert tile.view.lines[0].count_out == 3
    # the view is set at once; it is painted on a later turn of the event loop
    qtbot.waitUntil(lambda: tile.frames_shown > 0, timeout=3000)
    qtbot.waitUntil(lambda: bool(getattr(read_saved(store)[0], "lines", [])), timeout=5000)
    editor.reject()


def test_engine_alerts_show_with_a_badge_and_acknowledge_all(qtbot, desktop, store) -> None:  # noqa: ANN001
    """The engine's alert rules (here the real AlertMonitor on the desktop's bus, as the
    engine runs it) raise the camera-offline alert; the window lists it, counts it on the
    Dashboard page, and "Acknowledge all" reaches the store."""
    from app.alert_monitor import AlertMonitor
    from app.store.models import AlertRow

    win = desktop.window
    cfg = desktop.host.cfg
    fast = cfg.alerts.model_copy(
        update={"camera_offline": cfg.alerts.camera_offline.model_copy(update={"delay_s": 0.3})}
    )
    store.attach(desktop.bus)
    monitor = AlertMonitor(cfg.model_copy(update={"alerts": fast}), desktop.bus, store)
    monitor.start()
    panel = win.dashboard.alerts
    try:
        desktop.bus.publish(CameraStatus("Front", "offline", "stream lost; reconnecting"))
        qtbot.wait(100)
        desktop.bus.publish(CameraStatus("Front", "live"))  # back within the delay: no outage
        qtbot.wait(1500)
        assert panel.open_items() == [] and win.nav.item(1).text() == "Dashboard"
        for _ in range(3):
            desktop.bus.publish(CameraStatus("Front", "offline", "no route to host"))
            qtbot.wait(150)
        qtbot.waitUntil(lambda: len(win.dashboard.visible_alert_ids()) == 1, timeout=5000)
        qtbot.wait(1200)
        (item,) = panel.open_items()
        assert item.kind == "camera_offline" and "no route to host" in item.message
        assert win.nav.item(1).text() == "Dashboard  (1)"
        panel.ack_all.click()
        assert win.nav.item(1).text() == "Dashboard"

        def acked() -> bool:
            with store.read_session() as s:
                row = s.get(AlertRow, item.id)
                return row is not None and row.acknowledged_by == "desktop"

        qtbot.waitUntil(acked, timeout=5000)
        assert [a.id for a in panel.open_items()] == [item.id]  # open until it resolves
        desktop.bus.publish(CameraStatus("Front", "live"))  # the outage is over: so is its alert
        qtbot.waitUntil(lambda: panel.open_items() == [], timeout=5000)
    finally:
        monitor.stop()
    store.writer.flush()
    with store.read_session() as s:
        row = s.get(AlertRow, item.id)
        assert row is not None and row.resolved_at is not None
        assert row.acknowledged_at is not None  # kept through the resolve


def test_a_camera_that_is_down_leaves_the_live_head_count(qtbot, desktop) -> None:  # noqa: ANN001
    from app.events import Occupancy

    dash = desktop.window.dashboard
    tri = [[0, 0], [9, 0], [9, 9]]
    dash.set_head_count_zones(  # the store's zones, as the settings would have them
        AppConfig.model_validate(
            {
                "cameras": [{"name": n, "type": "file", "url": "x.mp4"} for n in ("Front", "Back")],
                "zones": [
                    {"name": "Lawn", "camera": "Front", "polygon": tri},
                    {"name": "Till", "camera": "Back", "polygon": tri},
                ],
            }
        )
    )
    for cam, zone, n in (("Front", "Lawn", 5), ("Back", "Till", 4)):
        desktop.bus.publish(Occupancy(camera=cam, ts=0.0, frame=1, t=0.0, zone=zone, count=n))
    qtbot.waitUntil(lambda: dash.k_occ.value.text() == "9", timeout=3000)
    desktop.bus.publish(CameraStatus("Front", "offline", "connection refused"))
    qtbot.waitUntil(lambda: dash.k_occ.value.text() == "4", timeout=3000)
    assert "1 camera down" in dash.k_occ.hint.text()
    desktop.bus.publish(CameraStatus("Front", "live"))
    qtbot.waitUntil(lambda: dash.k_occ.value.text() == "9", timeout=3000)


def test_the_status_bar_marks_cameras_that_are_not_live(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    name = desktop.host.cfg.cameras[0].name
    # set as the bridge would, then read at once (the running camera may report meanwhile)
    win.bridge.latest_status[name] = CameraStatus(name, "offline", "connection refused")
    win.update_status()
    assert win.store_label.text().startswith("Cameras live: 0/")
    assert "#d97706" in win.store_label.styleSheet()  # amber: not all is well
    win.bridge.latest_status[name] = CameraStatus(name, "live")
    win.update_status()
    assert win.store_label.styleSheet() == ""


def test_the_heatmap_menu_item_and_button_show_its_state(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    cams = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Cameras")
    item = next(a for a in cams.actions() if a.text() == "Show heatmap")
    assert item.isCheckable() and not item.isChecked()
    item.trigger()
    assert win.wall.heat_button.isChecked() and win.wall.heat_button.text() == "Heatmap: on"
    assert all(t.show_heatmap for t in win.wall.tiles.values())
    win.wall.heat_button.click()  # off from the button: the menu item follows
    assert not item.isChecked() and win.wall.heat_button.text() == "Heatmap"


def test_reports_tab_and_missing_dialogs(qtbot, desktop, monkeypatch) -> None:  # noqa: ANN001
    win = desktop.window
    win.nav.setCurrentRow(2)
    lay = win.reports_holder.layout()
    assert lay is not None and lay.count() == 1
    shown = type(lay.itemAt(0).widget()).__name__
    assert shown in ("ReportsView", "QLabel")
    messages: list[str] = []
    monkeypatch.setattr(mw.QMessageBox, "information", lambda *a: messages.append(a[2]))

    def missing(ctx: object) -> None:
        import app.ui.no_such_dialog  # type: ignore[import-not-found]  # noqa: F401

    monkeypatch.setitem(mw.SALES_DIALOGS, "pos", ("Import POS sales", missing))
    win.open_external("pos")
    assert messages == ["Import POS sales is not available in this build."]
    win.open_external("pairing")  # needs the tablet server, which the scripted engine lacks
    assert "not available right now" in messages[-1]


def test_the_window_opens_no_larger_than_the_screen(qtbot, desktop) -> None:  # noqa: ANN001
    """1440 x 900 on a big screen, the screen's room on a smaller one (offscreen: 800 x
    800); the window's own minimum width (912 px) still applies."""
    from app.ui.main_window import _initial_size

    room = desktop.window.screen().availableGeometry().size()
    assert _initial_size() == room.boundedTo(QSize(1440, 900))
    assert desktop.window.height() <= room.height()
    assert desktop.window.width() <= max(room.width(), desktop.window.minimumSizeHint().width())


def test_closing_stops_the_engine(qtbot, desktop) -> None:  # noqa: ANN001
    win, engine = desktop.window, desktop.engines[0]
    win.close()
    assert engine.stopped and desktop.host.state == "stopped" and not desktop.bridge.running


def answer_next_question(qtbot, label_part: str) -> None:  # noqa: ANN001
    """Click the button whose text contains `label_part` on the next message box."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        assert "stops Vitrine watching 1 camera (" in box.text()
        next(b for b in box.buttons() if label_part in b.text()).click()

    QTimer.singleShot(0, click)


def test_quitting_asks_first_and_minimizing_keeps_counting(qtbot, desktop) -> None:  # noqa: ANN001
    win, engine = desktop.window, desktop.engines[0]
    assert win.counting_cameras() == 1
    answer_next_question(qtbot, "Keep counting")
    win.request_quit()  # File > Quit
    assert not engine.stopped and desktop.host.state == "running" and win.isMinimized()
    answer_next_question(qtbot, "Cancel")
    win.request_quit()
    assert not engine.stopped and win.isVisible()
    answer_next_question(qtbot, "Quit and stop counting")
    win.request_quit()
    assert engine.stopped and desktop.host.state == "stopped" and not win.isVisible()


def test_tile_context_menu_edits_and_focuses(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    tile = win.wall.tiles["Front"]
    menu = tile.build_menu()
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert set(actions) >= {
        "Focus this camera",
        "Edit camera…",
        "Edit zones and lines…",
        "Show heatmap",
        "Remove camera",
    }
    with qtbot.waitSignal(tile.edit_zones) as sig:
        actions["Edit zones and lines…"].trigger()
    assert sig.args == ["Front"]
    actions["Show heatmap"].trigger()
    assert tile.show_heatmap
    actions["Focus this camera"].trigger()
    assert win.wall.focused == "Front"
    for w in win.findChildren(mw.ZoneEditor):
        w.reject()


def test_run_desktop_opens_and_closes_cleanly(qtbot, store, monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui import app as ui_app

    cfg = AppConfig.model_validate({"store": {"name": "Quiet store"}})
    save_config(store, cfg, "test").result(timeout=10)
    monkeypatch.setattr(ui_app, "open_store_interactive", lambda parent=None: store)
    seen: list[str] = []

    def close_main() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, mw.MainWindow) and w.isVisible():
                seen.append(w.windowTitle())
                w.close()

    QTimer.singleShot(800, close_main)
    assert ui_app.run_desktop() == 0
    assert seen == ["Vitrine — Quiet store"]


def test_the_sidebar_says_which_privacy_mode_runs(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    assert "Anonymous counting" in win.privacy_foot.text()
    cfg = desktop.cfg.model_copy(deep=True)
    cfg.store.privacy_mode = "staff_exclusion"
    win.apply_view_config(cfg)
    assert win.privacy_foot.text().startswith("Staff exclusion")


def test_help_menu_gets_a_new_manager_started(qtbot, desktop, monkeypatch) -> None:  # noqa: ANN001
    """Help has more than About: the first steps in a window that stays open beside the
    app, naming the menus as they are; About says the version and where the data is."""
    from app import __version__
    from app.paths import data_dir

    win = desktop.window
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
    items = [a.text() for a in help_menu.actions() if a.text()]
    assert items == ["Getting started", "Open the data folder", "About Vitrine"]
    box = win.getting_started()
    qtbot.addWidget(box)
    assert box.isVisible() and not box.isModal()
    text = " ".join(box.text().split())
    menus = {a.text().replace("&", "") for a in win.menuBar().actions()}
    for words in ("Add camera", "Edit zones and lines", "A door of the store", "Dashboard"):
        assert words in text
    for label in ("Salespeople", "Pair a tablet", "Import POS sales"):
        assert label in text and label in {v[0] for v in mw.SALES_DIALOGS.values()}
    assert {"Cameras", "Sales"} <= menus
    assert win.getting_started() is box  # asked again: the same window, not a second
    box.close()
    opened: list[str] = []
    monkeypatch.setattr(
        help_texts.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile())
    )
    where = win.open_data_folder()
    qtbot.addWidget(where)
    assert str(data_dir()) in where.informativeText()  # said, whether or not it opens
    next(b for b in where.buttons() if b.text() == "Open the folder").click()
    assert opened == [str(data_dir())]
    shown: list[str] = []
    monkeypatch.setattr(mw.QMessageBox, "about", lambda *a: shown.append(a[2]))
    win.about()
    assert __version__ in shown[0] and str(data_dir()) in shown[0] and "Test" in shown[0]


def test_cameras_menu_opens_the_counting_audit(qtbot, desktop) -> None:  # noqa: ANN001
    win = desktop.window
    cams = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Cameras")
    act = next(a for a in cams.actions() if a.text() == "Counting audit…")
    act.trigger()
    from app.ui.audit_dialog import AuditDialog

    dlg = win.findChild(AuditDialog)
    assert dlg is not None and dlg.isVisible()
    assert dlg.camera.currentText() == "Front" and dlg.line.count() == 0  # no lines yet
    dlg.record()
    assert "counting line" in dlg.status.text()
    dlg.close()
