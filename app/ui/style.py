"""The look of the desktop app: palette, fonts, spacing and one application stylesheet.

A calm light theme for forms and reports, with a deep navy sidebar and a near-black
camera wall so that video stands out. Colours used by custom painting (tiles, zone
editor, charts) live here too, so that every view speaks the same visual language.
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.paths import RESOURCES_DIR

# --- palette --------------------------------------------------------------------------
NAVY = "#0f172a"  # sidebar
NAVY_2 = "#1e293b"  # sidebar hover
INK = "#0f172a"  # main text
MUTED = "#64748b"  # secondary text
LINE = "#e2e8f0"  # hairlines and card borders
BG = "#f1f5f9"  # window background
CARD = "#ffffff"
ACCENT = "#4f46e5"  # indigo
ACCENT_HOVER = "#4338ca"
ACCENT_SOFT = "#eef2ff"
WALL_BG = "#0b1120"
TILE_BG = "#111827"
OK = "#16a34a"
WARN = "#d97706"
BAD = "#dc2626"
INFO = "#0284c7"
DISABLED = "#94a3b8"  # text of disabled controls

STATUS_COLORS: dict[str, str] = {
    "live": OK,
    "connecting": INFO,
    "reconnecting": WARN,
    "stalled": WARN,
    "offline": BAD,
    "auth_failed": BAD,
    "ended": MUTED,
    "stopped": MUTED,
    "starting": INFO,
}
STATUS_LABELS: dict[str, str] = {
    "live": "LIVE",
    "connecting": "CONNECTING",
    "reconnecting": "RECONNECTING",
    "stalled": "RECONNECTING",
    "offline": "OFFLINE",
    "auth_failed": "AUTH FAILED",
    "ended": "ENDED",
    "stopped": "STOPPED",
    "starting": "STARTING",
}

# Shapes on video: distinct, saturated, readable on dark and light footage.
SHAPE_COLORS = ["#22d3ee", "#a78bfa", "#f472b6", "#34d399", "#fbbf24", "#60a5fa", "#fb7185"]
LINE_COLOR = "#facc15"
IN_COLOR = "#4ade80"
OUT_COLOR = "#f87171"

CHART_TODAY = ACCENT
CHART_LAST_WEEK = "#94a3b8"
CHART_FILL = (79, 70, 229, 60)

CHEVRON = (RESOURCES_DIR / "icons" / "chevron-down.svg").as_posix()

SPACING = 16
RADIUS = 10

_FONT_PREFERENCE = [
    "Inter",
    "Segoe UI",
    "SF Pro Text",
    "Helvetica Neue",
    "Noto Sans",
    "Cantarell",
    "Liberation Sans",
    "DejaVu Sans",
]


def shape_color(index: int) -> QColor:
    return QColor(SHAPE_COLORS[index % len(SHAPE_COLORS)])


@functools.lru_cache(maxsize=4096)
def track_color(track_id: int) -> QColor:
    """A stable, pleasant colour per track id (golden-ratio hue walk). Do not mutate."""
    hue = int((track_id * 0.61803398875 % 1.0) * 359)
    return QColor.fromHsv(hue, 170, 255)


def set_role(widget: QWidget, role: str) -> None:
    """Change a widget's style role (object name) and re-apply the stylesheet to it."""
    widget.setObjectName(role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def pick_font_family() -> str:
    families = set(QFontDatabase.families())
    for name in _FONT_PREFERENCE:
        if name in families:
            return name
    return QFont().defaultFamily()


STYLESHEET = f"""
QWidget {{ color: {INK}; }}
QMainWindow, QDialog, QWizard {{ background: {BG}; }}
QToolTip {{ background: {NAVY}; color: white; border: none; padding: 6px 8px; }}

#Sidebar {{ background: {NAVY}; }}
#Sidebar QLabel#Brand {{ color: white; font-size: 19px; font-weight: 700; padding: 4px 8px; }}
#Sidebar QLabel#BrandSub {{ color: #94a3b8; font-size: 11px; padding: 0 8px 12px 8px; }}
#Sidebar QListWidget {{ background: transparent; border: none; outline: none; color: #cbd5e1;
    font-size: 14px; }}
#Sidebar QListWidget::item {{ padding: 10px 12px; border-radius: 8px; margin: 2px 8px; }}
#Sidebar QListWidget::item:hover {{ background: {NAVY_2}; color: white; }}
#Sidebar QListWidget::item:selected {{ background: {ACCENT}; color: white; }}
#Sidebar QLabel#SidebarFoot {{ color: #94a3b8; font-size: 11px; padding: 8px 16px; }}

#PageTitle {{ font-size: 22px; font-weight: 700; }}
#PageSubtitle {{ color: {MUTED}; font-size: 13px; }}
#SectionTitle {{ font-size: 15px; font-weight: 600; }}
#Muted {{ color: {MUTED}; }}
#Error {{ color: {BAD}; font-weight: 600; }}
#Success {{ color: {OK}; font-weight: 600; }}

#Card {{ background: {CARD}; border: 1px solid {LINE}; border-radius: {RADIUS}px; }}
#Card QLabel {{ background: transparent; }}
#KpiValue {{ font-size: 28px; font-weight: 700; }}
#KpiLabel {{ color: {MUTED}; font-size: 12px; font-weight: 600; text-transform: uppercase; }}
#KpiHint {{ color: {MUTED}; font-size: 11px; }}
#EmptyState {{ color: {MUTED}; font-size: 13px; padding: 24px; }}
#ChartEmpty {{ color: {MUTED}; font-size: 13px; padding: 4px 2px; }}

#Banner {{ background: #fef2f2; color: {BAD}; border: 1px solid #fecaca; border-radius: 8px;
    padding: 10px 14px; font-weight: 600; }}
#Wall {{ background: {WALL_BG}; border-radius: {RADIUS}px; }}
#WallEmpty {{ color: #cbd5e1; font-size: 15px; }}

QPushButton {{ background: {CARD}; border: 1px solid #cbd5e1; border-radius: 8px;
    padding: 7px 14px; font-weight: 600; }}
QPushButton:hover {{ border-color: {ACCENT}; color: {ACCENT}; }}
QPushButton:disabled {{ color: {DISABLED}; border-color: {LINE}; }}
QPushButton#Primary {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; }}
QPushButton#Primary:hover {{ background: {ACCENT_HOVER}; color: white; }}
QPushButton#Danger {{ color: {BAD}; }}
QPushButton#Danger:hover {{ border-color: {BAD}; }}
QPushButton:checked {{ background: {ACCENT_SOFT}; border-color: {ACCENT}; color: {ACCENT}; }}
QPushButton#Primary:disabled, QPushButton:checked:disabled {{ background: {LINE};
    color: {DISABLED}; border-color: {LINE}; }}
QPushButton#Danger:disabled {{ color: {DISABLED}; border-color: {LINE}; }}

QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox, QPlainTextEdit {{ background: white;
    border: 1px solid #cbd5e1; border-radius: 7px; padding: 6px 8px;
    selection-background-color: {ACCENT}; }}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{
    border: 1px solid {ACCENT}; }}
QComboBox::drop-down {{ border: none; width: 24px; }}
QComboBox::down-arrow {{ image: url({CHEVRON}); width: 12px; height: 12px; margin-right: 8px; }}
QComboBox QAbstractItemView {{ background: white; border: 1px solid {LINE};
    selection-background-color: {ACCENT_SOFT}; selection-color: {ACCENT}; padding: 4px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 0; border: none; }}
QListWidget#Plain::item {{ padding: 7px 8px; border-radius: 6px; }}
QListWidget#Plain::item:selected {{ background: {ACCENT_SOFT}; color: {ACCENT}; }}
QGroupBox {{ background: {CARD}; border: 1px solid {LINE}; border-radius: {RADIUS}px;
    margin-top: 14px; padding: 14px 12px 10px 12px; font-weight: 600; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; color: {MUTED}; }}
QRadioButton, QCheckBox {{ spacing: 8px; }}
QLabel:disabled, QRadioButton:disabled, QCheckBox:disabled {{ color: {DISABLED}; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled {{
    background: {BG}; color: {DISABLED}; border-color: {LINE}; }}
QFormLayout QLabel {{ padding-top: 6px; }}

QTableWidget, QListWidget#Plain {{ background: white; border: 1px solid {LINE};
    border-radius: 8px; gridline-color: {LINE}; }}
QHeaderView::section {{ background: #f8fafc; border: none; border-bottom: 1px solid {LINE};
    padding: 6px; font-weight: 600; color: {MUTED}; }}

QStatusBar {{ background: white; border-top: 1px solid {LINE}; color: {MUTED}; }}
QStatusBar QLabel {{ padding: 0 10px; }}
QMenuBar {{ background: white; border-bottom: 1px solid {LINE}; }}
QMenuBar::item {{ padding: 6px 10px; background: transparent; }}
QMenuBar::item:selected {{ background: {ACCENT_SOFT}; color: {ACCENT}; border-radius: 6px; }}
QMenu {{ background: white; border: 1px solid {LINE}; padding: 4px; }}
QMenu::item {{ padding: 6px 22px; border-radius: 6px; }}
QMenu::item:selected {{ background: {ACCENT_SOFT}; color: {ACCENT}; }}
QScrollArea {{ background: transparent; border: none; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: #cbd5e1; border-radius: 4px; min-height: 30px; }}
QScrollBar::handle:vertical:hover {{ background: #94a3b8; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
"""


def apply_style(app: QApplication) -> None:
    """Fusion style, our palette, a clean sans font and the stylesheet."""
    app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(BG))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(INK))
    pal.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f8fafc"))
    pal.setColor(QPalette.ColorRole.Text, QColor(INK))
    pal.setColor(QPalette.ColorRole.Button, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(INK))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#94a3b8"))
    app.setPalette(pal)
    font = QFont(pick_font_family())
    font.setPointSizeF(10.0)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
