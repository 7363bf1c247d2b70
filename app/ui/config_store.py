"""Where the desktop app keeps its settings.

The encrypted store is the source of truth: `store_info` holds the store identity, the
`settings` row `app_config` the whole configuration (camera passwords included, the
database is encrypted), `config_versions` one row per saved version (secrets removed),
and the `cameras` / `zones` / `lines` tables mirror the current shapes for reports.
A readable copy without secrets goes to `config.toml` in the data directory, for
people and for the headless `serve` command; secrets missing there are filled in
from the store when both exist.

All writes go through the store's single writer thread (`store.writer.submit`), never
the GUI thread.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import AppConfig, ConfigError, dump_config, load_config, parse_config
from app.paths import data_dir
from app.store.models import Camera, ConfigVersion, Line, Setting, StoreInfo, Zone

log = logging.getLogger(__name__)

SETTING_KEY = "app_config"
CONFIG_FILE = "config.toml"


def config_path() -> Path:
    return data_dir() / CONFIG_FILE


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def public_dict(cfg: AppConfig) -> dict[str, Any]:
    """The config without secrets (passwords and keys emptied)."""
    data = dump_config(cfg, reveal_secrets=False)
    for cam in data["cameras"]:
        cam["password"] = ""
    data["sync"]["store_key"] = ""
    return data


def write_toml(cfg: AppConfig, path: Path | None = None) -> Path:
    """Write the config without secrets, atomically."""
    path = path or config_path()
    text = "# Vitrine settings (secrets are kept in the encrypted store)\n"
    text += tomli_w.dumps(_strip_none(public_dict(cfg)))
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".config-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def merge_secrets(cfg: AppConfig, secret_source: AppConfig | None) -> AppConfig:
    """Fill empty camera passwords / sync key of `cfg` from `secret_source`."""
    if secret_source is None:
        return cfg
    known = {c.name: c.password for c in secret_source.cameras}
    cams = [
        c.model_copy(update={"password": known[c.name]})
        if not c.password.get_secret_value() and c.name in known
        else c
        for c in cfg.cameras
    ]
    sync = cfg.sync
    if not sync.store_key.get_secret_value() and secret_source.sync.store_key.get_secret_value():
        sync = sync.model_copy(
            update={"store_key": SecretStr(secret_source.sync.store_key.get_secret_value())}
        )
    return cfg.model_copy(update={"cameras": cams, "sync": sync})


def read_saved(store: Any) -> tuple[AppConfig | None, bool]:
    """(config saved in the store or None, whether a store identity exists)."""
    with store.read_session() as s:
        info = s.scalars(select(StoreInfo).limit(1)).first()
        row = s.get(Setting, SETTING_KEY)
        raw = row.value if row is not None else None
    cfg = None
    if raw:
        try:
            cfg = parse_config(json.loads(raw), "store settings")
        except (ConfigError, ValueError) as exc:
            log.warning("the saved configuration cannot be used: %s", exc)
    return cfg, info is not None and cfg is not None


def load_startup_config(store: Any | None) -> tuple[AppConfig, bool]:
    """(config to start with, whether this is a first run needing the wizard).

    The TOML file wins for what it says (people edit it), the store fills the secrets.
    """
    saved, has_identity = read_saved(store) if store is not None else (None, False)
    path = config_path()
    from_file = None
    if path.is_file():
        try:
            from_file = load_config(path)
        except ConfigError as exc:
            log.warning("%s", exc)
    if from_file is not None:
        cfg = merge_secrets(from_file, saved)
        return cfg, not has_identity and store is not None
    if saved is not None:
        return saved, not has_identity
    return AppConfig(), True


def _sync_shapes(s: Session, cfg: AppConfig, now: float) -> None:
    existing = {c.name: c for c in s.scalars(select(Camera))}
    for cam in cfg.cameras:
        row = existing.pop(cam.name, None) or Camera(name=cam.name, created_at=now)
        row.type, row.url, row.enabled, row.removed_at = cam.type, cam.url, cam.enabled, None
        s.add(row)
    for row in existing.values():
        row.removed_at = row.removed_at or now
    zones = {z.name: z for z in s.scalars(select(Zone))}
    for z in cfg.zones:
        zrow = zones.pop(z.name, None) or Zone(name=z.name)
        zrow.camera, zrow.kind, zrow.capacity = z.camera, z.kind, z.capacity
        zrow.polygon_json, zrow.removed_at = json.dumps(z.polygon), None
        s.add(zrow)
    for zrow in zones.values():
        zrow.removed_at = zrow.removed_at or now
    lines = {ln.name: ln for ln in s.scalars(select(Line))}
    for ln in cfg.lines:
        lrow = lines.pop(ln.name, None) or Line(name=ln.name)
        lrow.camera, lrow.removed_at = ln.camera, None
        lrow.start_json, lrow.end_json = json.dumps(ln.start), json.dumps(ln.end)
        s.add(lrow)
    for lrow in lines.values():
        lrow.removed_at = lrow.removed_at or now


def save_in_session(s: Session, cfg: AppConfig, author: str) -> int:
    """Write identity, settings, shapes and a history row; returns the version id."""
    now = time.time()
    info = s.scalars(select(StoreInfo).limit(1)).first()
    if info is None:
        info = StoreInfo(id=cfg.store.id, created_at=now)
    info.name, info.timezone = cfg.store.name, cfg.store.timezone
    info.privacy_mode = cfg.store.privacy_mode
    s.add(info)
    full = json.dumps(dump_config(cfg, reveal_secrets=True))
    row = s.get(Setting, SETTING_KEY)
    if row is None:
        s.add(Setting(key=SETTING_KEY, value=full, updated_at=now))
    else:
        row.value, row.updated_at = full, now
    _sync_shapes(s, cfg, now)
    version = ConfigVersion(created_at=now, author=author, config_json=json.dumps(public_dict(cfg)))
    s.add(version)
    s.flush()
    return int(version.id)


def save_config(store: Any | None, cfg: AppConfig, author: str = "desktop") -> Future[int]:
    """Persist `cfg` (store writer thread), then mirror it to config.toml."""
    if store is None:
        fut: Future[int] = Future()
        try:
            write_toml(cfg)
            fut.set_result(0)
        except OSError as exc:
            fut.set_exception(exc)
        return fut
    committed = store.writer.submit(lambda s: save_in_session(s, cfg, author))
    done: Future[int] = Future()

    def mirror(f: Future[int]) -> None:
        exc = f.exception()
        if exc is not None:
            done.set_exception(exc)
            return
        try:
            write_toml(cfg)
        except OSError as err:
            log.warning("could not write %s: %s", config_path(), err)
        done.set_result(f.result())

    committed.add_done_callback(mirror)
    return done


def config_history(store: Any, limit: int = 20) -> list[tuple[int, float, str]]:
    """(id, created_at, author) of the latest saved versions, newest first."""
    with store.read_session() as s:
        rows = s.execute(
            select(ConfigVersion.id, ConfigVersion.created_at, ConfigVersion.author)
            .order_by(ConfigVersion.id.desc())
            .limit(limit)
        ).all()
    return [(int(r[0]), float(r[1]), str(r[2])) for r in rows]
