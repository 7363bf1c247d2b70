"""Settings and their secrets: load, validate, save and migrate, the same way for the
desktop, `serve` and every command.

The readable settings live in `config.toml` (data directory, 0600, written atomically)
with every secret emptied. The secrets (camera passwords, the HQ store key) live in a
`SecretVault` handed in by the caller: the OS keychain, or the encrypted store on a
machine without a secure keychain (see app/store/secrets.py). A password typed inside a
camera URL is moved out of the URL by the config model itself (`CameraConfig`), so it
reaches the vault like any other password.

Migration: a config file written by an older version (or edited by hand) that still
holds a secret in clear has it moved into the vault, and is rewritten without it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import tomli_w
from pydantic import SecretStr

from app.config import AppConfig, ConfigError, dump_config, load_config, parse_config

log = logging.getLogger(__name__)

CONFIG_FILE = "config.toml"
STORE_KEY_SECRET = "sync.store_key"
FILE_HEADER = "# Vitrine settings (secrets are kept in the keychain or the encrypted store)\n"


class SecretVault(Protocol):
    """Where secrets are kept: a name -> value mapping saved as a whole."""

    @property
    def where(self) -> str:
        """For messages: "the OS keychain", "the encrypted store"."""
        ...

    def load(self) -> dict[str, str]: ...

    def save(self, secrets: Mapping[str, str]) -> None:
        """Replace every secret by `secrets` (names not in it are forgotten)."""
        ...


class MemoryVault:
    """Secrets kept in memory only (no store open: nothing is saved)."""

    where = "memory (not saved)"

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self.secrets = dict(secrets or {})

    def load(self) -> dict[str, str]:
        return dict(self.secrets)

    def save(self, secrets: Mapping[str, str]) -> None:
        self.secrets = dict(secrets)


def camera_secret(camera: str) -> str:
    return f"cameras.{camera}.password"


def default_path(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE


def secrets_of(cfg: AppConfig) -> dict[str, str]:
    """Every non-empty secret of `cfg`, by name."""
    found = {camera_secret(c.name): c.password.get_secret_value() for c in cfg.cameras}
    found[STORE_KEY_SECRET] = cfg.sync.store_key.get_secret_value()
    return {k: v for k, v in found.items() if v}


def without_secrets(cfg: AppConfig) -> AppConfig:
    """`cfg` with every secret emptied."""
    cams = [c.model_copy(update={"password": SecretStr("")}) for c in cfg.cameras]
    sync = cfg.sync.model_copy(update={"store_key": SecretStr("")})
    return cfg.model_copy(update={"cameras": cams, "sync": sync})


def with_secrets(cfg: AppConfig, secrets: Mapping[str, str]) -> AppConfig:
    """`cfg` with its empty secrets filled from `secrets` (what `cfg` says wins)."""
    cams = []
    for c in cfg.cameras:
        known = secrets.get(camera_secret(c.name), "")
        if known and not c.password.get_secret_value():
            c = c.model_copy(update={"password": SecretStr(known)})
        cams.append(c)
    sync = cfg.sync
    key = secrets.get(STORE_KEY_SECRET, "")
    if key and not sync.store_key.get_secret_value():
        sync = sync.model_copy(update={"store_key": SecretStr(key)})
    return cfg.model_copy(update={"cameras": cams, "sync": sync})


def public_dict(cfg: AppConfig) -> dict[str, Any]:
    """The config as plain data with every secret emptied (for files and history)."""
    return dump_config(without_secrets(cfg), reveal_secrets=True)


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def write_file(cfg: AppConfig, path: Path) -> Path:
    """Write the config without secrets, atomically, readable by this user only."""
    text = FILE_HEADER + tomli_w.dumps(_strip_none(public_dict(cfg)))
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: mode 0600
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_file(path: Path) -> AppConfig | None:
    """The config in `path` (None when there is no file); ConfigError when unusable."""
    if not path.is_file():
        return None
    return load_config(path)


def load_settings(
    path: Path, vault: SecretVault, fallback: AppConfig | None = None, *, migrate: bool = True
) -> AppConfig:
    """The settings in `path` (else `fallback`, else the defaults) with their secrets from
    `vault`. A secret found in clear in the file is moved to the vault and the file
    rewritten without it (`migrate`). Raises ConfigError (one line) for a bad file."""
    cfg = read_file(path)
    if cfg is None:
        cfg = fallback if fallback is not None else AppConfig()
        stored = vault.load()
        in_cfg = secrets_of(cfg)
        if migrate and in_cfg and fallback is not None:
            _move_to_vault(vault, stored, in_cfg)
        return with_secrets(cfg, stored)
    stored = vault.load()
    in_file = secrets_of(cfg)
    if in_file and migrate:  # a password field, or one inside a URL, written in clear
        _move_to_vault(vault, stored, in_file)
        try:
            write_file(cfg, path)
            log.warning("secrets found in clear in %s moved to %s", path, vault.where)
        except OSError as exc:
            log.warning("could not rewrite %s without its secrets: %s", path, exc)
    return with_secrets(cfg, stored)


def _move_to_vault(vault: SecretVault, stored: dict[str, str], found: Mapping[str, str]) -> None:
    merged = {**stored, **found}
    if merged != stored:
        vault.save(merged)
        stored.update(found)


def save_settings(cfg: AppConfig, vault: SecretVault, path: Path) -> None:
    """Save the secrets of `cfg` to the vault (replacing them all), then the file."""
    vault.save(secrets_of(cfg))
    write_file(cfg, path)


def add_camera(cfg: AppConfig, camera: dict[str, Any], *, replace: bool = False) -> AppConfig:
    """`cfg` with one more camera (or `replace`d by name); ConfigError (one line) when the
    camera or the result is invalid. A password inside the URL is moved out of it."""
    name = str(camera.get("name", ""))
    if not replace and any(c.name == name for c in cfg.cameras):
        raise ConfigError(f"there is already a camera called {name!r}")
    data = dump_config(cfg, reveal_secrets=True)
    data["cameras"] = [c for c in data["cameras"] if c["name"] != name] + [camera]
    return parse_config(data, f"camera {name!r}")


def remove_camera(cfg: AppConfig, name: str) -> AppConfig:
    """`cfg` without the camera `name`; ConfigError when it is unknown or still used."""
    if not any(c.name == name for c in cfg.cameras):
        known = ", ".join(c.name for c in cfg.cameras) or "none"
        raise ConfigError(f"no camera called {name!r} (cameras: {known})")
    users = [z.name for z in cfg.zones if z.camera == name]
    users += [ln.name for ln in cfg.lines if ln.camera == name]
    if users:
        raise ConfigError(
            f"camera {name!r} is used by {', '.join(users)}: remove or move them first"
        )
    data = dump_config(cfg, reveal_secrets=True)
    data["cameras"] = [c for c in data["cameras"] if c["name"] != name]
    return parse_config(data, "settings")
