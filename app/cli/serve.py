"""`python main.py serve`: the engine and the tablet LAN server without a window, for
stores whose server has no screen. Runs until Ctrl-C or SIGTERM, then stops cleanly.

    python main.py serve [--port N] [--http] [--config FILE] [--no-engine] [--pair]
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from app.cli.main import CliError, load_settings
from app.config import AppConfig
from app.events import CAMERA_DOWN, CameraStatus, EventBus
from app.paths import InstanceLock, data_dir

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="TCP port of the LAN server (default: lan.port)")
    parser.add_argument(
        "--http", action="store_true", help="serve plain HTTP instead of HTTPS (trusted LANs only)"
    )
    parser.add_argument(
        "--config", type=Path, help="settings file (default: config.toml in the data directory)"
    )
    parser.add_argument("--host", help="address to listen on (default: lan.host)")
    parser.add_argument(
        "--no-engine", action="store_true", help="run the LAN server only (no cameras)"
    )
    parser.add_argument(
        "--pair", action="store_true", help="print a pairing code and QR code for a tablet"
    )


def _load(args: argparse.Namespace, store: Any = None) -> AppConfig:
    cfg = load_settings(args.config, store)
    lan = cfg.lan.model_copy()
    if args.port is not None:
        if not 1 <= args.port <= 65535:
            raise CliError(f"--port must be 1 to 65535, not {args.port}")
        lan.port = args.port
    if args.http:
        lan.allow_http = True
    if args.host:
        lan.host = args.host
    return cfg.model_copy(update={"lan": lan})


def _open_store() -> Any:
    """The store, opened by the keychain, the passphrase in the environment, automatic
    unlock (`store unlock --auto on`), or a passphrase typed on a terminal."""
    from app.cli.store import with_passphrase
    from app.store.db import open_store

    return with_passphrase(lambda pp: open_store(passphrase=pp))


def _make_engine(cfg: AppConfig, bus: EventBus, store: Any) -> Any:
    try:
        from app.engine import Engine
    except ImportError as exc:  # a build without the vision engine
        log.warning("engine not available (%s): serving tablets only", exc)
        return None
    return Engine(cfg, bus, store=store)


def print_pairing(code: str, url: str) -> None:
    """The pairing QR code in the terminal, and the code to type."""
    import qrcode

    qr = qrcode.QRCode(border=1)
    qr.add_data(url)
    qr.print_ascii(invert=True)
    print(f"pairing code {code} (valid 5 minutes): {url}", flush=True)


def _cameras_line(cfg: AppConfig, args: argparse.Namespace) -> str:
    if not cfg.cameras:
        where = args.config or data_dir() / "config.toml"
        return (
            f"no cameras configured: nobody is counted until {where} has [[cameras]] and "
            "[[zones]] (or set the store up once in the desktop app)"
        )
    zones = ", ".join(z.name for z in cfg.zones) or "none"
    return f"cameras: {', '.join(c.name for c in cfg.cameras)}; zones: {zones}"


class _LivePrinter:
    """Prints when a camera goes live, and when it is back (its problems are logged as
    warnings as they happen; recovering is not a warning, so without this a headless
    console's last word on a camera that came back would stay "offline")."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._live: set[str] = set()
        self._trouble: dict[str, str] = {}  # camera -> its last problem since it was live

    def __call__(self, e: CameraStatus) -> None:
        if e.status != "live":
            self._live.discard(e.camera)
            if e.status in CAMERA_DOWN:
                self._trouble[e.camera] = e.status
            return
        if e.camera in self._live:
            return
        self._live.add(e.camera)
        trouble = self._trouble.pop(e.camera, None)
        if self._stop.is_set():
            return
        again = f" again (was {trouble.replace('_', ' ')})" if trouble else ""
        print(f"{time.strftime('%H:%M:%S')} camera {e.camera}: live{again}", flush=True)


def run(args: argparse.Namespace) -> int:
    lock = InstanceLock()
    if not lock.acquire():
        raise CliError(
            f"Vitrine is already running with this data directory ({data_dir()}): a "
            "desktop window or another 'serve'. Two would count every person twice; "
            "stop that one first"
        )
    try:
        return _serve(args)
    finally:
        lock.release()


def _serve(args: argparse.Namespace) -> int:
    from app.sync.autoprovision import auto_provision
    from app.sync.lan.server import LanServer

    store = _open_store()
    try:
        auto = auto_provision(store, load_settings(args.config, store))
        if auto is not None:  # first start with an installer's provisioning file
            print(auto.message, flush=True)
        cfg = _load(args, store)
    except BaseException:
        store.close()
        raise
    stop = threading.Event()
    # an alert opening is a warning line; its end an info line, shown here too
    logging.getLogger("app.alert_monitor").setLevel(logging.INFO)

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    bus = EventBus()
    bus.subscribe(_LivePrinter(stop), CameraStatus)
    engine = None if args.no_engine else _make_engine(cfg, bus, store)
    server: LanServer | None = None
    try:
        if engine is not None:
            try:
                engine.start()
            except Exception as exc:
                raise CliError(f"the engine could not start: {exc}") from None
            server = getattr(engine, "lan_server", None)
        if server is None:
            server = LanServer(store, bus, cfg.lan, store_name=cfg.store.name)
            try:
                server.start()
            except OSError as exc:
                raise CliError(str(exc)) from None
        print(f"Vitrine serving tablets at {server.url}/tablet/  (Ctrl-C to stop)", flush=True)
        if engine is not None:
            print(_cameras_line(cfg, args), flush=True)
        if server.cert is not None:
            print(f"certificate SHA-256 {server.cert.fingerprint_sha256}", flush=True)
        if args.pair:
            code = server.new_pairing_code()
            print_pairing(code.code, server.pairing_url(code))
        while not stop.wait(0.5):
            pass
        print("stopping…", flush=True)
    finally:
        if server is not None and getattr(engine, "lan_server", None) is not server:
            server.stop()
        if engine is not None:
            engine.stop()
        store.close()
        for s, h in previous.items():
            signal.signal(s, h)
    return 0
