"""The store-LAN server for salesperson tablets (see server.LanServer)."""

from app.sync.lan.server import LanServer, create_app

__all__ = ["LanServer", "create_app"]
