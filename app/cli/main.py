"""Command-line dispatcher. Each subcommand lives in its own module under app/cli/ with
`add_arguments(parser)` and `run(args) -> int`; modules are imported only when used, so
`python main.py models list` never loads Qt."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import CliError

if TYPE_CHECKING:
    from app.config import AppConfig

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("app.cli.analyze", "run the vision pipeline on a video file"),
    "models": ("app.cli.models", "list, fetch and verify model files"),
    "serve": ("app.cli.serve", "run the engine and the tablet LAN server without a window"),
    "hq": ("app.cli.hq", "run the reference HQ receiver"),
    "store": ("app.cli.store", "inspect, migrate and clean the local store"),
    "sales": ("app.cli.sales", "catalog, salespeople, tablets, POS imports and sales reports"),
    "selftest": ("app.cli.selftest", "check this machine: models, cameras, store"),
    "cameras": ("app.cli.cameras", "list, add, remove and test the store's cameras"),
    "alerts": ("app.cli.alerts", "list the store's open alerts, acknowledge them"),
    "provision": ("app.cli.provision", "enrol this store with HQ from its provisioning file"),
    "audit": ("app.cli.audit", "counting audit: a clip's hand marks against Vitrine's counts"),
    "report": ("app.cli.report", "the store's KPIs for any period, the weekly report"),
    "faces": ("app.cli.faces", "opt-in recognition: enrol staff and opt-outs, erase by photo"),
}

# third-party loggers whose debug lines `-v` leaves out
NOISY_LOGGERS = ("tzlocal", "asyncio", "urllib3", "PIL", "matplotlib", "numba")


def load_settings(path: Path | None, store: Any = None) -> AppConfig:
    """The settings file given, else config.toml in the data directory (else the store's
    copy, else the embedded defaults), through app.settings like the desktop: with an
    open `store` the secrets come from its vault. A wrong file is a one-line CliError."""
    from app.config import AppConfig, ConfigError, load_config
    from app.paths import data_dir

    try:
        if store is not None:
            from app.store.settings_store import load_config as load_with_store

            return load_with_store(store, path)[0]
        p = path or data_dir() / "config.toml"
        if path is None and not p.exists():
            return AppConfig()
        return load_config(p)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def parse_day(text: str | None, default: dt.date) -> dt.date:
    """A --from/--to style day (YYYY-MM-DD), or `default` when not given."""
    if text is None:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vitrine",
        description="Vitrine in-store analytics. Without a command: the desktop app.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(_missing=module)
            continue
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in NOISY_LOGGERS:  # their debug lines say nothing about Vitrine
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from app.vision.video_io import quiet_native_logs, serial_opencv

    serial_opencv()
    if not args.verbose:
        quiet_native_logs()
    try:
        if args.command is None:
            from app.ui.app import run_desktop

            return run_desktop()
        if getattr(args, "_missing", None):
            raise CliError(f"'{args.command}' is not available in this build")
        return int(args._run(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `... | head` stopped reading: not an error worth a word
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 141
