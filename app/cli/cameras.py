"""`python main.py cameras list|add|remove|test`: the store's cameras without a window, the
same settings the desktop's camera dialog edits (app.settings, secrets in the vault).

    cameras list
    cameras add NAME URL [--user U] [--password-stdin | --ask-password] [--type T]
    cameras remove NAME
    cameras test NAME

A password typed inside the URL (rtsp://admin:pw@host/...) is moved to the secret store;
the URL is printed without it. A running `serve` picks changes up at its next start.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from app.cli.main import CliError, load_settings
from app.config import NETWORK_SCHEMES, AppConfig, ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="store file (default: data dir)")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the cameras, their addresses and whether a password is set")
    add = sub.add_parser("add", help="add a camera (a password in the URL is kept secret)")
    add.add_argument("name")
    add.add_argument("url", help="rtsp:// or http:// address, a video file, or a USB index")
    add.add_argument("--user", default="", help="the camera's user name")
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.add_argument("--ask-password", action="store_true", help="ask for the password")
    add.add_argument("--type", choices=["auto", "rtsp", "file", "usb"], default="auto")
    add.add_argument("--replace", action="store_true", help="replace a camera of that name")
    rm = sub.add_parser("remove", help="remove a camera")
    rm.add_argument("name")
    test = sub.add_parser("test", help="connect to a camera and grab one picture")
    test.add_argument("name")


def camera_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The new camera's settings from the command line."""
    kind = args.type
    url = args.url.strip()
    if kind == "auto":
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        kind = "rtsp" if scheme in NETWORK_SCHEMES else "usb" if url.isdigit() else "file"
    fields: dict[str, Any] = {"name": args.name, "type": kind, "username": args.user}
    if kind == "usb":
        fields["usb_index"] = int(url) if url.isdigit() else 0
    else:
        fields["url"] = str(Path(url).resolve()) if kind == "file" else url
    if kind == "file":
        if not Path(url).is_file():
            raise CliError(f"no such video file: {url}")
        fields["realtime"] = True
    password = _password(args)
    if password and kind != "rtsp":
        raise CliError("only an IP camera (rtsp:// or http://) has a password")
    if password:
        fields["password"] = password
    return fields


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.ask_password:
        if not sys.stdin.isatty():
            raise CliError("--ask-password needs a terminal; use --password-stdin")
        return getpass.getpass(f"Password of camera {args.name}: ")
    return ""


def where(cam: Any) -> str:
    from app.vision.camera_net import redact

    return f"USB camera {cam.usb_index}" if cam.type == "usb" else redact(cam.url)


def _list(cfg: AppConfig, store: Any, args: argparse.Namespace) -> int:
    from app.store.secrets import open_vault

    if not cfg.cameras:
        print("no cameras (add one: python main.py cameras add NAME URL)")
        return 0
    vault = open_vault(store).where
    for c in cfg.cameras:
        details = [f"user {c.username}"] if c.username else []
        details.append(f"password in {vault}" if c.password.get_secret_value() else "no password")
        off = "" if c.enabled else " (disabled)"
        print(f"{c.name}: {c.type} {where(c)} ({', '.join(details)}){off}")
    return 0


def _save(store: Any, cfg: AppConfig) -> None:
    from app.store.settings_store import save_config

    try:
        save_config(store, cfg, "cameras command").result(timeout=60)
    except OSError as exc:
        raise CliError(f"the settings could not be saved: {exc}") from None


def _add(cfg: AppConfig, store: Any, args: argparse.Namespace) -> int:
    from app.settings import add_camera

    try:
        new = add_camera(cfg, camera_fields(args), replace=args.replace)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    _save(store, new)
    cam = next(c for c in new.cameras if c.name == args.name)
    note = " (its password is kept in the secret store)" if cam.password.get_secret_value() else ""
    print(f"camera {cam.name} added: {cam.type} {where(cam)}{note}")
    return 0


def _remove(cfg: AppConfig, store: Any, args: argparse.Namespace) -> int:
    from app.settings import remove_camera

    try:
        new = remove_camera(cfg, args.name)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    _save(store, new)
    print(f"camera {args.name} removed")
    return 0


def _test(cfg: AppConfig, store: Any, args: argparse.Namespace) -> int:
    from app.ui.snapshot import SnapshotError, grab_snapshot

    cam = next((c for c in cfg.cameras if c.name == args.name), None)
    if cam is None:
        known = ", ".join(c.name for c in cfg.cameras) or "none"
        raise CliError(f"no camera called {args.name!r} (cameras: {known})")
    try:
        frame = grab_snapshot(cam)
    except SnapshotError as exc:
        print(f"camera {cam.name}: FAILED: {exc}")
        return 1
    h, w = frame.shape[:2]
    print(f"camera {cam.name}: ok, a {w}x{h} picture from {where(cam)}")
    return 0


ACTIONS = {"list": _list, "add": _add, "remove": _remove, "test": _test}


def run(args: argparse.Namespace) -> int:
    from app.cli.store import with_passphrase
    from app.store.db import default_path, open_store

    path = args.db or default_path()
    store = with_passphrase(lambda pp: open_store(path, pp))
    try:
        cfg = load_settings(None, store)
        return ACTIONS[args.action](cfg, store, args)
    finally:
        store.close()
