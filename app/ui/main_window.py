"""The main window: a sidebar (Cameras, Dashboard, Reports, Settings), menus, and a
status bar with the engine's and the sync's state.

Config edits (cameras, zones, settings) become a new AppConfig that `EngineHost`
applies to the running engine and saves with history. Dialogs owned by other parts of
the app (POS import, catalogue, salespeople, tablet pairing, reports) are built by the
typed factories of `app.ui.dialog_factories` when opened.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.config import AppConfig, CameraConfig
from app.events import CameraStatus
from app.paths import data_dir
from app.ui import help as help_texts
from app.ui.brand import logo_pixmap
from app.ui.bridge import EngineBridge
from app.ui.camera_dialog import CameraDialog
from app.ui.camera_wall import CameraWall
from app.ui.dashboard import DashboardView
from app.ui.dashboard_data import DashboardData, acknowledge, load_dashboard, load_open_alerts
from app.ui.dialog_factories import SALES_DIALOGS, DialogContext, Unavailable, reports_view
from app.ui.engine_host import EngineHost
from app.ui.faces_page import FacesPage
from app.ui.ports import StorePort
from app.ui.questions import KEEP_COUNTING, QUIT_AND_STOP, ask, quit_question
from app.ui.settings_view import SettingsView
from app.ui.snapshot import grab_snapshot
from app.ui.workers import Background
from app.ui.zone_editor import ZoneEditor

log = logging.getLogger(__name__)

PAGES = ["Cameras", "Dashboard", "Reports", "Analytics", "Settings", "Faces"]
ANALYTICS, SETTINGS, FACES = (PAGES.index(p) for p in ("Analytics", "Settings", "Faces"))
PRIVACY_FOOT = {
    "anonymous": "Anonymous counting · data stays in the store",
    "staff_exclusion": "Staff exclusion · consented staff only, encrypted",
    "repeat_visitors": "Repeat visitors · face templates encrypted, 30 days at most",
}


def _initial_size() -> QSize:
    """1440 x 900, or what the screen has room for (a 1366 x 768 laptop, a small
    back-office monitor): the window never opens wider or taller than the screen."""
    screen = QGuiApplication.primaryScreen()
    room = screen.availableGeometry().size() if screen is not None else QSize(1440, 900)
    return QSize(min(1440, room.width()), min(900, room.height()))


class MainWindow(QMainWindow):
    def __init__(
        self,
        host: EngineHost,
        bridge: EngineBridge,
        background: Background,
        store: StorePort | None,
    ) -> None:
        super().__init__()
        self.host, self.bridge, self.background, self.store = host, bridge, background, store
        self.setWindowTitle("Vitrine")
        self.resize(_initial_size())
        self._closing = False
        self._getting_started: QMessageBox | None = None  # Help > Getting started
        self._dash_loading = False
        self._build()
        self._menus()
        self._wire()
        self.apply_view_config(host.cfg)
        self.on_engine_state(host.state, host.message)

    # --- layout -----------------------------------------------------------------
    def _build(self) -> None:
        side = QWidget()
        side.setObjectName("Sidebar")
        side.setFixedWidth(220)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(8, 20, 8, 12)
        brand = QWidget()
        bl = QHBoxLayout(brand)
        bl.setContentsMargins(8, 0, 0, 0)
        bl.setSpacing(2)
        mark = QLabel()
        mark.setPixmap(logo_pixmap(26))  # the tablets' mark: one brand
        name = QLabel("Vitrine")
        name.setObjectName("Brand")
        bl.addWidget(mark)
        bl.addWidget(name, 1)
        self.brand_sub = QLabel("")
        self.brand_sub.setObjectName("BrandSub")
        self.nav = QListWidget()
        self.nav.addItems(PAGES)
        sl.addWidget(brand)
        sl.addWidget(self.brand_sub)
        sl.addWidget(self.nav, 1)
        foot = QLabel("Anonymous counting · data stays in the store")
        foot.setObjectName("SidebarFoot")
        foot.setWordWrap(True)
        self.privacy_foot = foot
        sl.addWidget(foot)

        self.wall = CameraWall()
        self.dashboard = DashboardView()
        self.reports_holder = QWidget()
        QVBoxLayout(self.reports_holder).setContentsMargins(0, 0, 0, 0)
        self._reports_loaded = False
        self.analytics_holder = QWidget()
        QVBoxLayout(self.analytics_holder).setContentsMargins(0, 0, 0, 0)
        self.analytics: QWidget | None = None
        self.settings = SettingsView(
            provider=self.host.provider,
            sync=self.host,
            backups=self.store,
            background=self.background,
        )
        self.faces = FacesPage(
            self.store, lambda: self.host.cfg, self.background, camera_frame=self._newest_frame
        )
        self.stack = QStackedWidget()
        for w in (self.wall, self.dashboard, self.reports_holder, self.analytics_holder,
                  self.settings, self.faces):  # fmt: skip
            self.stack.addWidget(w)
        central = QWidget()
        h = QHBoxLayout(central)
        h.setContentsMargins(0, 0, 0, 0)
        h.setSpacing(0)
        h.addWidget(side)
        h.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self.show_page)
        self.nav.setCurrentRow(0)

        sb = self.statusBar()
        self.engine_label = QLabel()
        self.sync_label = QLabel()
        self.store_label = QLabel()
        sb.addWidget(self.engine_label, 1)
        sb.addPermanentWidget(self.sync_label)
        sb.addPermanentWidget(self.store_label)

    def _menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction("Settings", lambda: self.nav.setCurrentRow(SETTINGS))
        m.addSeparator()
        quit_ = QAction("Quit", self)
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.request_quit)
        m.addAction(quit_)
        m = mb.addMenu("&Cameras")
        m.addAction("Add camera…", self.add_camera)
        m.addAction("Edit zones and lines…", lambda: self.edit_zones(self.current_camera()))
        m.addAction("Counting audit…", self.counting_audit)
        heat = m.addAction("Show heatmap")
        heat.setCheckable(True)  # ticked while the wall's heatmap shows
        heat.toggled.connect(self.wall.set_heatmap)
        self.wall.heat_button.toggled.connect(heat.setChecked)
        m = mb.addMenu("&Sales")
        for key, (title, _factory) in SALES_DIALOGS.items():
            act = m.addAction(title + "…")
            act.triggered.connect(lambda _=False, k=key: self.open_external(k))
        m = mb.addMenu("&Help")
        m.addAction("Getting started", self.getting_started)
        m.addAction("Open the data folder", self.open_data_folder)
        m.addSeparator()
        m.addAction("About Vitrine", self.about)

    def _wire(self) -> None:
        b = self.bridge
        b.display_tick.connect(self.on_display_tick)
        b.vision_event.connect(self.dashboard.on_event)
        b.alert.connect(self.dashboard.on_alert)
        b.camera_status.connect(self.on_camera_status)
        self.host.state_changed.connect(self.on_engine_state)
        self.host.config_changed.connect(self.apply_view_config)
        self.host.error.connect(lambda msg: self.statusBar().showMessage(msg, 10000))
        self.host.config_saved.connect(
            lambda v: self.statusBar().showMessage(f"Settings saved (version {v})", 4000)
        )
        w = self.wall
        w.add_camera_requested.connect(self.add_camera)
        w.edit_camera.connect(self.edit_camera)
        w.edit_zones.connect(self.edit_zones)
        w.remove_camera.connect(self.remove_camera)
        self.dashboard.refresh_requested = self.refresh_dashboard
        self.dashboard.alerts.acknowledge_requested.connect(self.acknowledge_alerts)
        self.dashboard.alerts.open_count_changed.connect(self.show_alert_badge)
        self.refresh_alerts()
        self.settings.save_requested.connect(self.save_settings)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self.update_status)
        self.status_timer.start()

    # --- views --------------------------------------------------------------------
    def show_page(self, index: int) -> None:
        leaving = self.stack.currentIndex()
        if leaving == SETTINGS and index != SETTINGS and not self.settings.confirm_leave():
            self.nav.blockSignals(True)  # Cancel (or a value Save refused): stay
            self.nav.setCurrentRow(SETTINGS)
            self.nav.blockSignals(False)
            return
        if index == 2:
            self._load_reports()
        self.stack.setCurrentIndex(index)
        if index == 1:
            self.dashboard.timer.start()
            self.refresh_dashboard()
        else:
            self.dashboard.timer.stop()
        if index == ANALYTICS:
            self._load_analytics()
        if index == SETTINGS:
            self.settings.refresh_provider()
        if index == FACES:
            self.faces.set_cameras([c.name for c in self.host.cfg.cameras if c.enabled])
            self.faces.refresh()

    def _newest_frame(self, camera: str) -> Any:
        state = self.host.tile_state(camera)
        return state.frame.image if state is not None and state.frame is not None else None

    def apply_view_config(self, cfg: AppConfig) -> None:
        self.wall.set_config(cfg)
        self.settings.set_config(cfg)
        self.dashboard.store_name = cfg.store.name
        self.dashboard.tz = ZoneInfo(cfg.store.timezone)
        self.dashboard.set_head_count_zones(cfg)
        self.brand_sub.setText(cfg.store.name)
        self.setWindowTitle(f"Vitrine — {cfg.store.name}")
        self.privacy_foot.setText(PRIVACY_FOOT[cfg.store.privacy_mode])
        set_analytics = getattr(self.analytics, "set_config", None)
        if set_analytics is not None:  # the KPIs follow the store figures just saved
            set_analytics(cfg)

    def on_display_tick(self, phase: int, phases: int) -> None:
        if self.stack.currentWidget() is self.wall:
            self.wall.refresh(self.host.tile_state, phase, phases)

    def on_engine_state(self, state: str, message: str) -> None:
        text = {
            "starting": "Engine: starting…",
            "running": f"Engine: running · {message}",
            "stopping": "Engine: stopping…",
            "stopped": "Engine: stopped",
            "failed": f"Engine: could not start — {message}",
        }.get(state, f"Engine: {state}")
        self.engine_label.setText("● " + text)
        color = {"running": "#16a34a", "failed": "#dc2626"}.get(state, "#d97706")
        self.engine_label.setStyleSheet(f"color:{color};")
        self.wall.set_banner(
            f"The analysis engine could not start: {message}" if state == "failed" else ""
        )

    def on_camera_status(self, status: CameraStatus) -> None:
        """The dashboard's head count leaves out a camera that is down (its "offline"
        alert comes from the engine's alert rules, app/alert_monitor.py)."""
        self.dashboard.on_camera_status(status)

    def update_status(self) -> None:
        cfg = self.host.cfg
        if not cfg.sync.enabled:
            self.sync_label.setText("Sync: off (this store only)")
        else:
            self.sync_label.setText(f"Sync: {self.host.sync_state() or 'waiting'}")
        live, enabled = self.live_cameras(), self.host.enabled_cameras()
        self.store_label.setText(f"Cameras live: {live}/{enabled}")
        # a camera down is not "all well" even while the engine runs
        self.store_label.setStyleSheet("color:#d97706;" if live < enabled else "")

    def refresh_dashboard(self) -> None:
        if self.store is None or self._dash_loading or self._closing:
            return
        self._dash_loading = True
        cfg = self.host.cfg

        def done(data: DashboardData) -> None:
            self._dash_loading = False
            self.dashboard.set_data(data)

        def failed(exc: BaseException) -> None:
            self._dash_loading = False
            self.statusBar().showMessage(f"Could not read today's figures: {exc}", 8000)

        self.background.submit(lambda: load_dashboard(self.store, cfg), done, failed)

    def save_settings(self, cfg: AppConfig) -> None:
        restart = (
            cfg.analysis.detector != self.host.cfg.analysis.detector
            or cfg.models != self.host.cfg.models
        )
        self.host.apply_config(cfg, "settings")
        if restart:
            self.settings.saved.setText(
                "Saved ✓ — the new detector settings apply when Vitrine restarts"
            )

    def acknowledge_alerts(self, ids: list[str] | None, who: str = "desktop") -> None:
        if self.store is not None:
            acknowledge(self.store, ids, who)

    def refresh_alerts(self) -> None:
        """The store's open alerts (for the badge before the dashboard is opened)."""
        if self.store is not None:
            store = self.store
            self.background.submit(
                lambda: load_open_alerts(store),
                self.dashboard.alerts.set_stored,
                lambda e: log.warning("open alerts could not be read: %s", e),
            )

    def show_alert_badge(self, count: int) -> None:
        """The Dashboard page's name carries the number of open alerts nobody has seen."""
        item = self.nav.item(1)
        if item is not None:
            item.setText(f"{PAGES[1]}  ({count})" if count else PAGES[1])
            item.setToolTip(f"{count} open alert(s) to acknowledge" if count else "")

    def _dialog_context(self) -> DialogContext:
        return DialogContext(self.store, self.host.cfg, self.host.lan_server(), self)

    def _load_reports(self) -> None:
        if self._reports_loaded:
            return
        self._reports_loaded = True
        widget: QWidget
        try:
            widget = reports_view(self._dialog_context())
        except Exception as exc:
            log.exception("the reports view failed to open")
            widget = QLabel(f"Reports are not available: {exc}")
            widget.setObjectName("EmptyState")
        lay = self.reports_holder.layout()
        if lay is not None:
            lay.addWidget(widget)

    def _load_analytics(self) -> None:
        """The Analytics page (app/ui/analytics_view.py), made on first show."""
        if self.analytics is not None:
            return
        widget: QWidget
        try:
            from app.ui.analytics_view import AnalyticsView

            view = AnalyticsView(self._dialog_context().open_store(), self.host.cfg)
            view.settings_wanted.connect(self.open_setting)
            view.refresh()
            widget = view
        except Exception as exc:
            log.exception("the analytics view failed to open")
            widget = QLabel(f"Analytics are not available: {exc}")
            widget.setObjectName("EmptyState")
        self.analytics = widget
        lay = self.analytics_holder.layout()
        if lay is not None:
            lay.addWidget(widget)

    def open_setting(self, key: str) -> None:
        """Settings, scrolled to the setting `key` (a link on the Analytics page)."""
        self.nav.setCurrentRow(SETTINGS)
        self.settings.show_setting(key)

    def open_external(self, key: str) -> QDialog | None:
        """Open one of the Sales menu's windows (modal)."""
        title, factory = SALES_DIALOGS[key]
        try:
            dlg = factory(self._dialog_context())
        except Unavailable as exc:
            QMessageBox.information(self, title, f"{title} is not available right now: {exc}.")
            return None
        except ModuleNotFoundError:
            log.exception("%s is missing from this build", title)
            QMessageBox.information(self, title, f"{title} is not available in this build.")
            return None
        except Exception as exc:
            log.exception("could not open %s", title)
            QMessageBox.warning(self, title, f"{title} could not be opened: {exc}")
            return None
        dlg.exec()
        return dlg

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Vitrine",
            help_texts.about_text(__version__, self.host.cfg.store.name, data_dir()),
        )

    def getting_started(self) -> QMessageBox:
        """The first steps, in a window that stays open beside the app (not modal); one
        such window, brought forward when asked for again."""
        shown = self._getting_started
        if shown is not None and shown.isVisible():
            shown.raise_()
            shown.activateWindow()
            return shown
        self._getting_started = help_texts.getting_started_box(self)
        return self._getting_started

    def open_data_folder(self) -> QMessageBox:
        """Where the data lives, with a button that opens it in the file manager."""
        return help_texts.data_folder_box(self, data_dir())

    # --- cameras and zones ------------------------------------------------------
    def current_camera(self) -> str:
        cfg = self.host.cfg
        return self.wall.focused or (cfg.cameras[0].name if cfg.cameras else "")

    def add_camera(self) -> CameraDialog | None:
        dlg = CameraDialog(self.background, {c.name for c in self.host.cfg.cameras}, parent=self)
        dlg.accepted.connect(lambda: self._camera_saved(dlg, None))
        dlg.open()
        return dlg

    def edit_camera(self, name: str) -> CameraDialog | None:
        cam = next((c for c in self.host.cfg.cameras if c.name == name), None)
        if cam is None:
            return None
        dlg = CameraDialog(
            self.background, {c.name for c in self.host.cfg.cameras}, cam, parent=self
        )
        dlg.accepted.connect(lambda: self._camera_saved(dlg, name))
        dlg.open()
        return dlg

    def _camera_saved(self, dlg: CameraDialog, old: str | None) -> None:
        if dlg.removed and old:
            self.remove_camera(old, confirm=False)
        elif dlg.result_camera is not None:
            self.put_camera(dlg.result_camera, old)

    def put_camera(self, cam: CameraConfig, old: str | None = None) -> None:
        self.host.apply_config(self.host.cfg.with_camera(cam, old), "camera")

    def remove_camera(self, name: str, confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove camera",
                f"Remove “{name}” and its zones and lines? Past counts are kept.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.host.apply_config(self.host.cfg.without_camera(name), "camera")

    def edit_zones(self, camera: str) -> ZoneEditor | None:
        if not camera:
            QMessageBox.information(self, "Zones and lines", "Add a camera first.")
            return None
        state = self.host.tile_state(camera)
        image = state.frame.image if state is not None and state.frame is not None else None
        still = state.stationary.xyxy if state is not None else None
        editor = ZoneEditor(
            self.host.cfg, camera, self._apply_from_editor, image, parent=self, still_boxes=still
        )
        if image is None:
            cam = next((c for c in self.host.cfg.cameras if c.name == camera), None)
            if cam is not None:
                editor.set_snapshot(None, "Getting a picture from the camera…")
                self.background.submit(
                    lambda: grab_snapshot(cam),
                    editor.set_snapshot,
                    lambda e: editor.set_snapshot(None, f"No picture from the camera: {e}"),
                )
        editor.open()
        return editor

    def counting_audit(self) -> QDialog:
        """Cameras > Counting audit: record a door line, mark it, compare (app/ui/audit_dialog)."""
        from app.ui.audit_dialog import AuditDialog

        dlg = AuditDialog(
            self.host.cfg, self.store, self.background, self.host.tile_state, parent=self
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _apply_from_editor(self, cfg: AppConfig) -> str | None:
        self.host.apply_config(cfg, "zone editor")
        return None

    # --- closing ------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop timers, the bridge, the engine and the workers; idempotent."""
        if self._closing:
            return
        self._closing = True
        self.status_timer.stop()
        self.dashboard.timer.stop()
        self.bridge.stop()
        self.host.stop()
        for bg in self.findChildren(Background):  # views and dialogs with their own workers
            bg.shutdown()
        self.background.shutdown()

    def counting_cameras(self) -> int:
        """Cameras the engine watches (what quitting would stop), live or not."""
        if self.host.state not in ("starting", "running"):
            return 0
        return self.host.enabled_cameras()

    def live_cameras(self) -> int:
        return sum(1 for s in self.bridge.latest_status.values() if s.status == "live")

    def may_quit(self) -> bool:
        """Ask before stopping the counting: there is no background service, so a
        closed window counts nobody. Minimizing keeps it counting."""
        if self._closing:
            return True
        if not self.settings.confirm_leave("quitting"):
            self.nav.setCurrentRow(SETTINGS)  # the edits to look at (or the refused value)
            return False
        n = self.counting_cameras()
        if n == 0:
            return True
        chosen = ask(quit_question(self, n, self.live_cameras()))
        if chosen == KEEP_COUNTING:
            self.showMinimized()
        return chosen == QUIT_AND_STOP

    def request_quit(self) -> None:
        """File > Quit: ask, then close."""
        if self.may_quit():
            self.shutdown()
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        # the window's close button (a spontaneous event) asks first; close() from code
        # (File > Quit after asking, the app shutting down) does not
        if event.spontaneous() and not self.may_quit():
            event.ignore()
            return
        self.shutdown()
        event.accept()
