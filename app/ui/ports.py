"""What the desktop needs from the engine and the store, as typed Protocols.

`app.engine.Engine` and `app.store.db.Store` satisfy them; the UI's tests pass scripted
stand-ins. Collaborators are handed to the windows explicitly (constructors and the
factories in `app.ui.dialog_factories`), never found by name at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.config import AppConfig
from app.events import EventBus
from app.sync.store_protocol import StoreLike

if TYPE_CHECKING:
    from app.engine import TileState
    from app.store.backup import Progress
    from app.store.db import Store
    from app.sync.lan.server import LanServer
    from app.sync.outbox_sender import SyncStatus


class StorePort(StoreLike, Protocol):
    """The open store as the windows use it: reads, the single writer, backups, closing."""

    path: Path

    @property
    def key(self) -> bytes | None: ...

    def backup(self, dest: Path | None = None, progress: Progress | None = None) -> Path: ...

    def close(self) -> None: ...


class EnginePort(Protocol):
    """The running engine as the desktop drives and shows it."""

    lan_server: LanServer | None  # the tablets' server, when it runs

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def apply_config(self, cfg: AppConfig) -> None: ...

    def tile_state(self, camera: str) -> TileState | None: ...

    def sync_state(self) -> str: ...

    def sync_status(self) -> SyncStatus | None: ...

    def sync_now(self) -> bool: ...

    @property
    def detector_provider(self) -> str: ...


# (config, bus, store, models directory) -> an engine, not started
EngineFactory = Callable[[AppConfig, EventBus, "Store | None", "str | Path | None"], EnginePort]
