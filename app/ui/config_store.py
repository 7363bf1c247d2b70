"""The desktop's settings: a thin wrapper around the core (app.settings for the file and
the secrets, app.store.settings_store for the store), so that the desktop, `serve` and
every command read and save the configuration the same way."""

from __future__ import annotations

from typing import Any

from app.config import AppConfig
from app.settings import public_dict, write_file
from app.store.settings_store import (
    SETTING_KEY,
    config_history,
    config_path,
    read_saved,
    save_config,
    save_in_session,
)
from app.store.settings_store import load_config as _load_config

__all__ = [
    "SETTING_KEY",
    "config_history",
    "config_path",
    "load_startup_config",
    "public_dict",
    "read_saved",
    "save_config",
    "save_in_session",
    "write_file",
]


def load_startup_config(store: Any | None) -> tuple[AppConfig, bool]:
    """(config to start with, whether this is a first run needing the wizard)."""
    return _load_config(store)
