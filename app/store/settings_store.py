"""The configuration of an open store, read and saved identically by the desktop, `serve`
and every command that opens the store.

- `config.toml` in the data directory: the readable settings, no secrets (app.settings);
- the secrets: the vault of `open_vault(store)` (the OS keychain or the encrypted store);
- the store: `store_info` (identity), the `settings` row `app_config` (the settings, no
  secrets; used when config.toml is missing), `config_versions` (history, no secrets),
  and the `cameras` / `zones` / `lines` tables mirroring the shapes for reports.

All writes go through the store's single writer thread (`store.writer.submit`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import settings
from app.config import AppConfig, ConfigError, parse_config
from app.paths import data_dir
from app.settings import SecretVault
from app.store.models import Camera, ConfigVersion, Line, Setting, StoreInfo, Zone
from app.store.secrets import StoreVault, open_vault

log = logging.getLogger(__name__)

SETTING_KEY = "app_config"


def config_path() -> Path:
    return settings.default_path(data_dir())


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


def load_config(
    store: Any | None, path: Path | None = None, vault: SecretVault | None = None
) -> tuple[AppConfig, bool]:
    """(config to start with, whether this is a first run needing the wizard).

    `path` (default config.toml) wins for what it says; the store's copy stands in when
    it is missing; the secrets come from the vault. Raises ConfigError for a bad file
    given explicitly; a bad config.toml is reported and the store's copy used."""
    if store is None:
        return _without_store(path)
    saved, has_identity = read_saved(store)
    vault = vault or open_vault(store)
    explicit = path is not None
    path = path or config_path()
    if explicit and not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        cfg = settings.load_settings(path, vault, fallback=saved)
    except ConfigError as exc:
        if explicit:
            raise
        log.warning("%s", exc)
        cfg = settings.with_secrets(saved or AppConfig(), vault.load())
    if saved is not None and settings.secrets_of(saved):  # an older version kept them here
        _rewrite_row(store, saved)
    first_run = not has_identity
    return cfg, first_run


def _without_store(path: Path | None) -> tuple[AppConfig, bool]:
    cfg = settings.read_file(path or config_path())
    return (cfg, False) if cfg is not None else (AppConfig(), True)


def _rewrite_row(store: Any, saved: AppConfig) -> None:
    public = json.dumps(settings.public_dict(saved))

    def job(s: Session) -> None:
        row = s.get(Setting, SETTING_KEY)
        if row is not None:
            row.value = public
        for v in s.scalars(select(ConfigVersion)):
            v.config_json = json.dumps(settings.public_dict(_parsed(v.config_json, saved)))

    store.writer.submit(job).result(30)
    log.info("secrets moved out of the saved configuration into the vault")


def _parsed(raw: str, default: AppConfig) -> AppConfig:
    try:
        return parse_config(json.loads(raw), "history")
    except (ConfigError, ValueError):
        return settings.without_secrets(default)


def _mirror(
    s: Session,
    model: Any,
    items: Sequence[Any],
    make: Callable[[Any], Any],
    fill: Callable[[Any, Any], None],
    now: float,
) -> None:
    """Rows of `model` (by name) follow `items`: made or updated, the others marked
    removed (kept for the history of reports)."""
    rows = {r.name: r for r in s.scalars(select(model))}
    for item in items:
        row = rows.pop(item.name, None) or make(item)
        fill(row, item)
        row.removed_at = None
        s.add(row)
    for row in rows.values():
        row.removed_at = row.removed_at or now


def _camera_row(row: Camera, cam: Any) -> None:
    row.type, row.url, row.enabled = cam.type, cam.url, cam.enabled


def _zone_row(row: Zone, z: Any) -> None:
    row.camera, row.kind, row.capacity = z.camera, z.kind, z.capacity
    row.polygon_json = json.dumps(z.polygon)


def _line_row(row: Line, ln: Any) -> None:
    row.camera, row.start_json, row.end_json = ln.camera, json.dumps(ln.start), json.dumps(ln.end)


def _sync_shapes(s: Session, cfg: AppConfig, now: float) -> None:
    _mirror(s, Camera, cfg.cameras, lambda c: Camera(name=c.name, created_at=now), _camera_row, now)
    _mirror(s, Zone, cfg.zones, lambda z: Zone(name=z.name), _zone_row, now)
    _mirror(s, Line, cfg.lines, lambda ln: Line(name=ln.name), _line_row, now)


def _privacy_change(s: Session, old: str, cfg: AppConfig, author: str) -> None:
    """A change of privacy mode is audited with its time (and, for repeat visitors, when
    the notice was confirmed); leaving repeat visitors forgets every visitor template."""
    from app.store.audit import audit
    from app.store.models import FaceRecord

    new = cfg.store.privacy_mode
    if old == "recognition":  # the name before the two opt-in modes were told apart
        old = "staff_exclusion"
    if new == old:
        return
    detail = ""
    if new == "repeat_visitors" and cfg.faces.notice_confirmed_at is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(cfg.faces.notice_confirmed_at))
        detail = f"the store displays the recognition notice (confirmed {when})"
    if old == "repeat_visitors":
        res = s.execute(delete(FaceRecord).where(FaceRecord.kind == "visitor"))
        n = int(getattr(res, "rowcount", 0) or 0)
        detail = (detail + "; " if detail else "") + f"{n} visitor face template(s) deleted"
    audit(s, author, "privacy_mode", f"{old} -> {new}", detail)


def save_in_session(s: Session, cfg: AppConfig, author: str) -> int:
    """Write identity, settings (no secrets), shapes and a history row; returns the
    version id."""
    now = time.time()
    info = s.scalars(select(StoreInfo).limit(1)).first()
    if info is None:
        info = StoreInfo(id=cfg.store.id, created_at=now)
    info.name, info.timezone = cfg.store.name, cfg.store.timezone
    _privacy_change(s, info.privacy_mode or "anonymous", cfg, author)
    info.privacy_mode = cfg.store.privacy_mode
    s.add(info)
    public = json.dumps(settings.public_dict(cfg))
    row = s.get(Setting, SETTING_KEY)
    if row is None:
        s.add(Setting(key=SETTING_KEY, value=public, updated_at=now))
    else:
        row.value, row.updated_at = public, now
    _sync_shapes(s, cfg, now)
    version = ConfigVersion(created_at=now, author=author, config_json=public)
    s.add(version)
    s.flush()
    return int(version.id)


def save_config(
    store: Any | None,
    cfg: AppConfig,
    author: str = "desktop",
    path: Path | None = None,
    vault: SecretVault | None = None,
) -> Future[int]:
    """Persist `cfg`: store rows and secrets (in one writer transaction when the vault is
    the store), then config.toml. Resolves to the version id (0 without a store)."""
    path = path or config_path()
    if store is None:
        return _file_only(cfg, path)
    vault = vault or open_vault(store)
    secrets = settings.secrets_of(cfg)

    def job(s: Session) -> int:
        if isinstance(vault, StoreVault):
            vault.write(s, secrets)
        return save_in_session(s, cfg, author)

    committed = store.writer.submit(job)
    done: Future[int] = Future()

    def mirror(f: Future[int]) -> None:  # on the writer thread: must not wait for it
        exc = f.exception()
        if exc is not None:
            done.set_exception(exc)
            return
        try:
            if not isinstance(vault, StoreVault):
                vault.save(secrets)
            settings.write_file(cfg, path)
        except Exception as err:
            log.warning("could not save the settings to %s: %s", path, err)
            done.set_exception(err)
            return
        done.set_result(f.result())

    committed.add_done_callback(mirror)
    return done


def _file_only(cfg: AppConfig, path: Path) -> Future[int]:
    fut: Future[int] = Future()
    try:
        settings.write_file(cfg, path)
        fut.set_result(0)
    except OSError as exc:
        fut.set_exception(exc)
    return fut


def config_history(store: Any, limit: int = 20) -> list[tuple[int, float, str]]:
    """(id, created_at, author) of the latest saved versions, newest first."""
    with store.read_session() as s:
        rows = s.execute(
            select(ConfigVersion.id, ConfigVersion.created_at, ConfigVersion.author)
            .order_by(ConfigVersion.id.desc())
            .limit(limit)
        ).all()
    return [(int(r[0]), float(r[1]), str(r[2])) for r in rows]
