"""`python main.py models list|verify|fetch NAME`: what model files this machine has."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.main import CliError
from app.vision.models import ModelError, ModelInfo, ModelManager, byte_bar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="models directory (default: settings)")
    parser.add_argument("--config", default=None, help="config file whose models settings apply")
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("list", help="show each model, its status and where it was found")
    sub.add_parser("verify", help="re-check every file's SHA-256; exit 1 if one is bad")
    fetch = sub.add_parser("fetch", help="download a model and verify it")
    fetch.add_argument("name", help="catalog name, e.g. yolox_nano")


def _manager(args: argparse.Namespace) -> ModelManager:
    """--dir, else the `models` settings of --config or the app's config in the data dir
    (VITRINE_MODELS_DIR overrides either)."""
    if args.dir:
        return ModelManager(args.dir)
    from app.config import AppConfig, ConfigError, load_config
    from app.paths import data_dir

    paths = [Path(args.config)] if args.config else [data_dir() / "config.toml"]
    found = [p for p in paths if args.config or p.is_file()]
    try:
        cfg = load_config(found[0]) if found else AppConfig()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    return ModelManager.from_config(cfg.models)


def _table(rows: list[ModelInfo]) -> str:
    head = ("name", "task", "licence", "status", "where")
    body = [
        (r.name, r.task, r.licence, r.status, f"{r.path} ({r.source})" if r.path else "-")
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [head, *body])


def _fetch(mgr: ModelManager, name: str) -> None:
    info = mgr.locate(name)
    if info.status == "found":
        print(f"{name}: already present at {info.path}")
        return
    e = mgr.entry(name)
    if not e.url:
        raise ModelError(mgr.missing_message(name))
    with byte_bar(e.size, e.filename) as bar:
        for done, total in mgr.download(name):
            bar.total = total
            bar.update(done - bar.n)
    print(f"{name}: downloaded to {mgr.download_dir / e.filename} (sha256 verified)")


def run(args: argparse.Namespace) -> int:
    mgr = _manager(args)
    action = args.action or "list"
    try:
        if action == "fetch":
            _fetch(mgr, args.name)
            return 0
        rows = mgr.verify() if action == "verify" else mgr.list()
    except ModelError as exc:
        raise CliError(str(exc)) from None
    print(_table(rows))
    if action == "verify":
        bad = [r.name for r in rows if r.status == "bad hash"]
        if bad:
            print(f"bad hash: {', '.join(bad)}")
            return 1
        print("all present files match their pinned SHA-256")
    return 0
