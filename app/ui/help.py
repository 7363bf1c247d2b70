"""The Help menu: getting started, where the data is, and what "About" says of this
install."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

GETTING_STARTED = """
<h3>Getting started with Vitrine</h3>
<p><b>1. Cameras.</b> <i>Cameras &gt; Add camera</i>: an IP camera's address (RTSP or
HTTP), a USB camera, or a video file. Vitrine tests it before saving it. A tile shows
each camera live, with the people it follows.</p>
<p><b>2. The door.</b> Right-click a camera's tile and choose <i>Edit zones and
lines</i>. Draw a <i>counting line</i> across the door; its arrow points into the
store (<i>Flip direction</i> turns it round). Its crossings are the store's entries
and exits. A line inside the store, across an aisle for instance, is counted on its
own: untick <i>A door of the store</i> for it (it is then drawn dashed).</p>
<p><b>3. Areas.</b> In the same editor, draw <i>zones</i> (a department, a counter) to
measure how many people are there and how long they stay, and <i>queue areas</i> for
waiting lines. <i>In the store now</i> adds up the zones: untick <i>Counts in “In
the store now”</i> for an area outside (a car park) or inside another zone. An
<i>entrance</i> (an outer line on the street side plus the zone just inside) also counts
the passers-by who did not come in.</p>
<p><b>4. Every day.</b> The <i>Dashboard</i> shows today hour by hour against the same
day last week. <i>Reports</i> shows what was shown and what was bought, per item,
category, salesperson and zone, and the footfall day by day, over any period, and
exports CSV files. Vitrine counts
while its window is open or minimized: closing it stops counting.</p>
<p><b>5. Sales.</b> <i>Sales &gt; Salespeople</i> and <i>Pair a tablet</i> let
salespeople see the customers in their zone on a tablet and record what they showed;
<i>Sales &gt; Import POS sales</i> links the till's receipts to those services.</p>
<p><b>Privacy.</b> By default Vitrine is anonymous: it never looks for a face. It keeps
a picture of each visitor's body for a few days (7 unless you change it) so that
salespeople can find customers on their tablets; pictures are encrypted, expire, and
every view is logged. <i>Settings &gt; Privacy</i> says exactly what each mode keeps,
for how long and who sees it; the opt-in modes (staff exclusion, repeat visitors) are
managed on the <i>Faces</i> page. Only totals (never pictures or faces) are sent to
head office, and only once your IT team has set up head-office synchronisation (the
status bar says <i>Sync: off</i> until then).</p>
"""


def about_text(version: str, store_name: str, data_folder: Path) -> str:
    """What "About Vitrine" says: the version, this store, and where its data lives."""
    return (
        f"<b>Vitrine {escape(version)}</b><br>In-store analytics that stay in the store."
        f"<p>Store: {escape(store_name)}<br>Data folder (the encrypted store, settings): "
        f"{escape(str(data_folder))}</p>"
    )


def getting_started_box(parent: QWidget) -> QMessageBox:
    """The first steps, in a window that stays open beside the app (not modal)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Getting started")
    box.setIcon(QMessageBox.Icon.Information)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(GETTING_STARTED)
    box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 600px; }")  # not a column
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setModal(False)
    box.show()
    return box


def data_folder_box(parent: QWidget, folder: Path) -> QMessageBox:
    """Where the data lives, selectable for copying, with a button that opens it in
    the file manager (when the computer has one: opening can fail unseen)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Data folder")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText("Vitrine keeps its data (the encrypted store, its settings) in:")
    box.setInformativeText(str(folder))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    open_it = box.addButton("Open the folder", QMessageBox.ButtonRole.ActionRole)
    open_it.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
    box.addButton(QMessageBox.StandardButton.Close)
    box.setModal(False)
    box.show()
    return box
