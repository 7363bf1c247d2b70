"""Local administration of a running LAN server from another process on the same
machine (`python main.py sales pair` on a store server without a screen).

While it runs, the server writes `lan-admin.json` (owner-only permissions) into the data
directory: its port, scheme and a random admin token. The admin route answers only
requests from the loopback interface that carry that token, and is left out of the
published OpenAPI document. Pairing codes stay in the server's memory, as before.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store.fileperms import write_private

log = logging.getLogger(__name__)

ADMIN_FILE = "lan-admin.json"
ADMIN_HEADER = "X-Vitrine-Admin"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class AdminInfo:
    port: int
    scheme: str
    token: str

    @property
    def local_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


def write_admin_file(directory: Path, info: AdminInfo) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ADMIN_FILE
    doc = {"port": info.port, "scheme": info.scheme, "token": info.token}
    write_private(path, json.dumps(doc).encode("utf-8"))
    return path


def read_admin_file(directory: Path) -> AdminInfo | None:
    try:
        doc: Any = json.loads((directory / ADMIN_FILE).read_text(encoding="utf-8"))
        return AdminInfo(int(doc["port"]), str(doc["scheme"]), str(doc["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_admin_file(directory: Path, token: str) -> None:
    """Remove the file if it is still this server's (another may have started since)."""
    info = read_admin_file(directory)
    if info is not None and hmac.compare_digest(info.token, token):
        try:
            (directory / ADMIN_FILE).unlink()
        except OSError as exc:
            log.warning("could not remove %s: %s", ADMIN_FILE, exc)


def allowed(client_host: str | None, given: str | None, token: str) -> bool:
    """An admin request: from this machine's loopback, with the server's token."""
    return client_host in LOOPBACK and given is not None and hmac.compare_digest(given, token)
