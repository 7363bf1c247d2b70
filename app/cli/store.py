"""`python main.py store info|migrate|retention|backup|restore|unlock|recovery-key`: the local
encrypted store."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from app.cli import store_restore, store_unlock
from app.cli.main import CliError

T = TypeVar("T")
COUNTED = (
    "visitors",
    "zone_visits",
    "line_crossings",
    "entrance_events",
    "passby_events",
    "occupancy_samples",
    "person_crops",
    "rollups",
    "alerts",
    "audit_log",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    sub = parser.add_subparsers(dest="action")
    info = sub.add_parser("info", help="where the store is, its schema, sizes and counts")
    info.add_argument(
        "--check", action="store_true", help="also run full integrity checks (SQLite, SQLCipher)"
    )
    mig = sub.add_parser("migrate", help="upgrade the store's schema (a backup is made first)")
    mig.add_argument("--no-backup", action="store_true", help="skip the backup copy")
    ret = sub.add_parser("retention", help="delete expired images and events now")
    ret.add_argument("--config", type=Path, default=None, help="settings file with [retention]")
    bk = sub.add_parser("backup", help="write an encrypted copy of the store")
    bk.add_argument("--out", type=Path, default=None, help="backup file (default: backups/)")
    store_unlock.add_subcommands(sub)
    store_restore.add_subcommand(sub)


def with_passphrase(fn: Callable[[str | None], T]) -> T:
    """Run fn(passphrase); on a headless machine without one, ask for it on a terminal."""
    from app.store.errors import NeedPassphrase, StoreError

    try:
        return fn(None)
    except NeedPassphrase as exc:
        if not sys.stdin.isatty():
            raise CliError(str(exc)) from None
        try:
            return fn(getpass.getpass("Store passphrase: "))
        except StoreError as exc2:
            raise CliError(str(exc2)) from None
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _retention_config(path: Path | None) -> object:
    from app.config import AppConfig, ConfigError, load_config
    from app.paths import data_dir

    candidates = [path] if path else [data_dir() / "config.toml", data_dir() / "settings.toml"]
    for c in candidates:
        if c is not None and (c.is_file() or path is not None):
            try:
                return load_config(c).retention
            except ConfigError as exc:
                raise CliError(str(exc)) from None
    return AppConfig().retention


def _info(args: argparse.Namespace) -> int:
    from app.store import migrate
    from app.store.db import default_path, open_store
    from app.store.errors import check_summary
    from app.store.keys import read_header
    from app.store.retention import last_run
    from app.store.unattended import auto_unlock_state

    path = args.db or default_path()
    if not path.exists():
        raise CliError(f"no store at {path}")
    header = read_header(path)
    store = with_passphrase(lambda pp: open_store(path, pp, create=False))
    failed = False
    try:
        print(f"store:      {path} ({path.stat().st_size / 1e6:.1f} MB)")
        print(f"encryption: SQLCipher, key from {header.method if header else '?'}")
        print(
            f"schema:     {store.revision()} (this version knows up to {migrate.head_revision()})"
        )
        with store.read_session() as s:
            conn = s.connection()
            for table in COUNTED:
                n = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                print(f"  {table:<18} {n}")
            pending = conn.exec_driver_sql(
                "SELECT count(*) FROM sync_outbox WHERE sent_at IS NULL"
            ).scalar()
            print(f"  {'outbox pending':<18} {pending}")
            if args.check:
                res = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
                print(f"integrity:  {'ok' if res == 'ok' else check_summary(str(res))}")
                cipher_ok, cipher = cipher_integrity(conn)
                print(f"cipher:     {cipher}")
                failed = res != "ok" or not cipher_ok
        lr = last_run(store)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(lr)) if lr else "never"
        print(f"retention:  last run {when}")
        print(f"auto-unlock: {auto_unlock_state(path)}")
    finally:
        store.close()
    return 1 if failed else 0


def cipher_integrity(conn: Any) -> tuple[bool, str]:
    """SQLCipher's page-level check (every page's HMAC): (ok, what to print)."""
    rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check")]
    if not rows:
        return True, "ok (every page's HMAC verified)"
    more = f" (and {len(rows) - 3} more)" if len(rows) > 3 else ""
    return False, "; ".join(rows[:3]) + more


def _migrate(args: argparse.Namespace) -> int:
    from app.store import migrate
    from app.store.db import default_path, prepare_database, read_revision
    from app.store.keys import resolve_key

    path = args.db or default_path()
    if not path.exists():
        raise CliError(f"no store at {path}")

    def go(pp: str | None) -> tuple[str | None, str]:
        key = resolve_key(path, pp, create=False)
        before = read_revision(path, key)
        return before, prepare_database(path, key, create=False, backup=not args.no_backup)

    before, after = with_passphrase(go)
    if before == after:
        print(f"the store is up to date (schema {after})")
    else:
        print(f"migrated the store from schema {before} to {after}")
        if not args.no_backup:
            print(f"a backup of the old file is in {path.parent / 'backups'}")
    assert after == migrate.head_revision()
    return 0


def _retention(args: argparse.Namespace) -> int:
    from app.config import RetentionConfig
    from app.store.db import default_path, open_store
    from app.store.retention import run_retention

    cfg = _retention_config(args.config)
    assert isinstance(cfg, RetentionConfig)
    path = args.db or default_path()
    store = with_passphrase(lambda pp: open_store(path, pp, create=False))
    try:
        rep = run_retention(store, cfg)
    finally:
        store.close()
    for what, n in rep.deleted.items():
        if n:
            print(f"deleted {n} {what}")
    print(f"retention done: {rep.total} row(s) removed, {rep.reclaimed_pages} page(s) reclaimed")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from app.store.db import default_path, open_store

    tqdm.monitor_interval = 0  # no monitor thread: the bar lives as long as the backup
    path = args.db or default_path()
    store = with_passphrase(lambda pp: open_store(path, pp, create=False))
    try:
        with tqdm(total=0, unit="page", desc="backup") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            dest = store.backup(args.out, progress)
    except OSError as exc:
        raise CliError(f"the backup could not be written: {exc}") from None
    finally:
        store.close()
    print(f"encrypted backup written to {dest} (its key header beside it)")
    return 0


def run(args: argparse.Namespace) -> int:
    actions = {
        "info": _info,
        "migrate": _migrate,
        "retention": _retention,
        "backup": _backup,
        "unlock": lambda a: store_unlock.unlock(a, with_passphrase),
        "recovery-key": lambda a: store_unlock.recovery_key(a, with_passphrase),
        "restore": lambda a: store_restore.restore(a, with_passphrase),
    }
    if args.action not in actions:
        raise CliError(
            "choose one of: store info | migrate | retention | backup | restore | unlock | "
            "recovery-key"
        )
    return actions[args.action](args)
