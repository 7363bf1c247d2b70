"""Small factories for the windows that other parts of the app own (reports, POS import,
catalogue, salespeople, tablet pairing): each takes the typed `DialogContext` and passes
its dialog exactly the arguments it declares, so that mypy and "find usages" see every
link. The dialog modules are imported when a window is first opened (start-up stays
fast); a build without one gets a clear message instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QWidget

from app.config import AppConfig
from app.ui.ports import StorePort

if TYPE_CHECKING:
    from app.sync.lan.server import LanServer


class Unavailable(Exception):
    """The window cannot open right now; the message says why, for a person."""


@dataclass(frozen=True)
class DialogContext:
    """What the factories may hand to a window."""

    store: StorePort | None
    cfg: AppConfig
    server: LanServer | None  # the tablets' server, when the engine runs it
    parent: QWidget

    def open_store(self) -> StorePort:
        if self.store is None:
            raise Unavailable("the store is not open")
        return self.store


def reports_view(ctx: DialogContext) -> QWidget:
    from app.ui.reports_view import ReportsView

    zones = [z.name for z in ctx.cfg.zones]
    return ReportsView(
        ctx.open_store(),
        zones,
        ctx.cfg.store.timezone,
        parent=ctx.parent,
        threshold=ctx.cfg.faces.threshold,
    )


def pos_import_dialog(ctx: DialogContext) -> QDialog:
    from app.ui.pos_import_dialog import PosImportDialog

    return PosImportDialog(
        ctx.open_store(),
        tz=ctx.cfg.store.timezone,
        link_window_s=ctx.cfg.lan.link_window_min * 60.0,
        webhook_url=ctx.server.webhook_url() if ctx.server is not None else "",
        parent=ctx.parent,
    )


def catalog_dialog(ctx: DialogContext) -> QDialog:
    from app.ui.catalog_dialog import CatalogDialog

    return CatalogDialog(ctx.open_store(), parent=ctx.parent)


def salespeople_dialog(ctx: DialogContext) -> QDialog:
    from app.ui.salespeople_dialog import SalespeopleDialog

    return SalespeopleDialog(ctx.open_store(), [z.name for z in ctx.cfg.zones], parent=ctx.parent)


def pairing_dialog(ctx: DialogContext) -> QDialog:
    from app.ui.pairing_dialog import PairingDialog

    if ctx.server is None:
        raise Unavailable(
            "the tablet server is not running (it starts with the engine when LAN is on)"
        )
    return PairingDialog(ctx.server, parent=ctx.parent)


DialogFactory = Callable[[DialogContext], QDialog]

# menu key -> (title, factory), in the Sales menu's order
SALES_DIALOGS: dict[str, tuple[str, DialogFactory]] = {
    "salespeople": ("Salespeople", salespeople_dialog),
    "catalog": ("Product catalogue", catalog_dialog),
    "pos": ("Import POS sales", pos_import_dialog),
    "pairing": ("Pair a tablet", pairing_dialog),
}
