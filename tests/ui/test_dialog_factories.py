"""The Sales menu's windows and the reports page are built by typed factories from one
context: each gets the store, the zones, the time zone, the link window and the webhook
address it declares (a renamed parameter is a mypy error and a failing test here, not an
argument silently dropped)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from app.config import AppConfig
from app.store.db import Store
from app.ui import dialog_factories as df
from app.ui.workers import Background

SQUARE = [[0, 0], [9, 0], [9, 9], [0, 9]]


class FakeServer:
    """The part of the tablets' server the factories read."""

    url = "https://127.0.0.1:8443"

    def webhook_url(self) -> str:
        return self.url + "/api/v1/pos/sales"


def context(store: Store | None, server: Any = None) -> df.DialogContext:
    cfg = AppConfig.model_validate(
        {
            "store": {"timezone": "Europe/Paris"},
            "zones": [{"name": "Shoes", "polygon": SQUARE}, {"name": "Bags", "polygon": SQUARE}],
            "lan": {"link_window_min": 30},
        }
    )
    return df.DialogContext(store, cfg, server, QWidget())


def test_each_window_gets_what_it_declares(qtbot, store: Store) -> None:  # noqa: ANN001
    ctx = context(store, FakeServer())
    qtbot.addWidget(ctx.parent)
    pos = df.pos_import_dialog(ctx)
    assert pos.store is store and pos.tz == "Europe/Paris" and pos.link_window_s == 1800.0
    assert pos.webhook_url.text() == "https://127.0.0.1:8443/api/v1/pos/sales"
    people = df.salespeople_dialog(ctx)
    assert people.store is store and people.zones == ["Shoes", "Bags"]
    assert df.catalog_dialog(ctx).store is store
    reports = df.reports_view(ctx)
    assert reports.store is store and str(reports.tz) == "Europe/Paris"
    for w in (pos, people, reports):
        assert w.parent() is ctx.parent
    close(ctx)


def close(ctx: df.DialogContext) -> None:
    """Stop the windows' workers, as the main window does on close."""
    for bg in ctx.parent.findChildren(Background):
        bg.shutdown()


def test_without_a_server_or_a_store_a_clear_reason(qtbot, store: Store) -> None:  # noqa: ANN001
    ctx = context(store)
    qtbot.addWidget(ctx.parent)
    with pytest.raises(df.Unavailable, match="the tablet server is not running"):
        df.pairing_dialog(ctx)
    assert df.pos_import_dialog(ctx).webhook_url.text().startswith("Start the tablet server")
    close(ctx)
    no_store = context(None)
    qtbot.addWidget(no_store.parent)
    for key, (_title, factory) in df.SALES_DIALOGS.items():
        if key != "pairing":
            with pytest.raises(df.Unavailable, match="the store is not open"):
                factory(no_store)
